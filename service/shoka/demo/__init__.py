"""The demo library (`shoka demo load`): Ichikawa's service points, a Japanese catalogue, patrons, loans and holds,
generated deterministically by data/demo/shoka_demo and loaded into an empty database with COPY.

    report = load_demo_library(database_url, home, tier="demo", seed=2024,
                               reference_date=datetime.date.today(), show_progress=True)
"""

from __future__ import annotations

from shoka.demo.accounts import CREDENTIALS_FILE_NAME, DEMO_STAFF, DemoAccountConflict
from shoka.demo.location import DEMO_DIR_VARIABLE, DemoDataMissing, demo_data_folder, import_demo_generator
from shoka.demo.loading import DEMO_TIERS, DatabaseNotEmpty, DatabaseNotMigrated, DemoLoadReport, load_demo_library

__all__ = ["CREDENTIALS_FILE_NAME", "DEMO_DIR_VARIABLE", "DEMO_STAFF", "DEMO_TIERS", "DatabaseNotEmpty",
           "DatabaseNotMigrated", "DemoAccountConflict", "DemoDataMissing", "DemoLoadReport", "demo_data_folder",
           "import_demo_generator", "load_demo_library"]
