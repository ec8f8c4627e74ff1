"""The load-test harness (loadtests/ at the repository's root) is imported as the package `loadtests`; the
made-up results the tests share (made_results.py) sit beside them."""

import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
for folder in (REPOSITORY, Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
