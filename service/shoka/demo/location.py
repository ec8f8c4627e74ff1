"""Finding the demo-library generator (data/demo/shoka_demo in a checkout, or SHOKA_DEMO_DIR) and importing it.

The generator is data, not part of the installed package: it lives beside the service in the repository's data/
folder, so it is imported from its folder rather than from sys.path.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import shoka

GENERATOR_PACKAGE = "shoka_demo"
DEMO_DIR_VARIABLE = "SHOKA_DEMO_DIR"


class DemoDataMissing(Exception):
    """The demo-library generator is not where it was looked for; the message names the folder and the fix."""


def demo_data_folder(environment: dict[str, str] | None = None) -> Path:
    """SHOKA_DEMO_DIR if set, else data/demo of the checkout the shoka package was imported from."""
    environment = os.environ if environment is None else environment
    if configured := environment.get(DEMO_DIR_VARIABLE):
        folder = Path(configured).expanduser().resolve()
        origin = f"{DEMO_DIR_VARIABLE}={configured}"
    else:
        folder = Path(shoka.__file__).resolve().parents[2] / "data" / "demo"
        origin = "the Shoka checkout"
    if not (folder / GENERATOR_PACKAGE / "__init__.py").is_file():
        raise DemoDataMissing(
            f"the demo library generator was not found: {folder / GENERATOR_PACKAGE} (from {origin}) does not exist; "
            f"set {DEMO_DIR_VARIABLE} to the folder that holds {GENERATOR_PACKAGE}/ (data/demo in a Shoka checkout)")
    return folder


def import_demo_generator(folder: Path | None = None) -> ModuleType:
    """The shoka_demo package from the demo data folder (imported once; again if it came from another folder)."""
    folder = demo_data_folder() if folder is None else folder
    package_folder = (folder / GENERATOR_PACKAGE).resolve()
    loaded = sys.modules.get(GENERATOR_PACKAGE)
    if loaded is not None and Path(loaded.__file__ or "").resolve().parent == package_folder:
        return loaded
    for name in [name for name in sys.modules if name == GENERATOR_PACKAGE or name.startswith(GENERATOR_PACKAGE + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        GENERATOR_PACKAGE, package_folder / "__init__.py", submodule_search_locations=[str(package_folder)])
    if spec is None or spec.loader is None:
        raise DemoDataMissing(f"{package_folder} cannot be imported as the package {GENERATOR_PACKAGE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[GENERATOR_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[GENERATOR_PACKAGE]
        raise
    return module
