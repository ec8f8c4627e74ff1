"""The search index's folder under $SHOKA_HOME/index: generations and the pointer to the current one.

`shoka reindex` builds a new generation beside the current one and then replaces the CURRENT pointer
atomically (write and rename), so search keeps answering from the old generation until the new one is
complete. Processes that notice the pointer change open the new generation; old ones are removed once
nothing points at them. A lock file serialises builds between processes starting at the same time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

POINTER_NAME = "CURRENT"
GENERATION_PREFIX = "gen-"


class IndexFolder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def current_generation(self) -> Path | None:
        try:
            name = (self.root / POINTER_NAME).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if name.startswith(GENERATION_PREFIX) and path.is_dir() else None

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"{GENERATION_PREFIX}{stamp}-{os.getpid()}"
        path.mkdir()
        return path

    def publish(self, generation: Path) -> None:
        temporary = self.root / f".{POINTER_NAME}.{os.getpid()}"
        temporary.write_text(generation.name + "\n", encoding="utf-8")
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / POINTER_NAME)

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".build.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_generations_except(self, keep: set[Path]) -> None:
        """Removes old generations; a generation still being built holds the build lock, so call under it."""
        for path in self.root.glob(f"{GENERATION_PREFIX}*"):
            if path.is_dir() and path not in keep:
                shutil.rmtree(path, ignore_errors=True)
