"""`shoka demo load`: the demo library written into an empty database, all or nothing.

The generator (data/demo/shoka_demo) makes the rows; this module copies them in with COPY inside one transaction,
moves the identity sequences past the loaded ids, creates the demo staff accounts and the showcase patrons' web
passwords, and writes $SHOKA_HOME/demo-credentials.json. No outbox events are written: the engine rebuilds its
index and loan state from the tables when it starts.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import msgspec
import psycopg

from shoka.demo.accounts import (CREDENTIALS_FILE_NAME, DEMO_STAFF, credentials_text, insert_accounts,
                                 make_credentials, write_private_file)
from shoka.demo.copying import ProgressCallback, advance_identity_sequences, copy_rows, table_progress
from shoka.demo.location import import_demo_generator

# Tables that must be empty for the demo library to be loaded.
GUARDED_TABLES = ("bib", "item", "patron", "service_point", "loan", "hold")
# Loaded tables whose id is an identity column.
TABLES_WITH_ID = frozenset(("service_point", "bookmobile_station", "bookmobile_stop", "shelf_location",
                            "calendar_annual_closure", "circulation_rule", "vendor", "bib", "item", "patron",
                            "loan", "hold"))


# The tiers of data/demo/shoka_demo/tiers.py, for a CLI to offer without importing the generator.
DEMO_TIERS = ("demo", "S", "L")


class DatabaseNotEmpty(Exception):
    """The database already holds data that the demo library would be mixed into; the message says what."""


class DatabaseNotMigrated(Exception):
    """The database has no Shoka schema yet; the message says to run the upgrade first."""


class DemoLoadReport(msgspec.Struct, frozen=True):
    tier: str
    seed: int
    reference_date: datetime.date
    counts: dict[str, int]
    duration_seconds: float
    credentials_file: str
    staff_usernames: list[str]
    patron_cards: list[str]


def _refuse_unless_empty(connection: psycopg.Connection) -> None:
    if connection.execute("SELECT to_regclass('public.bib') IS NULL").fetchone()[0]:
        raise DatabaseNotMigrated("the database has no Shoka schema: run `shoka db upgrade` before loading the demo")
    # Taken for the whole transaction: a second loader waits here and then sees the first one's rows.
    connection.execute("LOCK TABLE bib, service_point IN SHARE ROW EXCLUSIVE MODE")
    filled = [table for table in GUARDED_TABLES
              if connection.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]]
    if filled:
        bibs = connection.execute("SELECT count(*) FROM bib").fetchone()[0]
        raise DatabaseNotEmpty(
            f"the database is not empty (it already has rows in {', '.join(filled)}; {bibs} bibliographic "
            "records): the demo library is only loaded into an empty database. Use a fresh SHOKA_HOME or database")


def load_demo_library(database_url: str, home: Path, *, tier: str = "demo", seed: int = 2024,
                      reference_date: datetime.date, show_progress: bool,
                      on_progress: ProgressCallback | None = None) -> DemoLoadReport:
    """Generate the demo library of a tier and load it, all or nothing.

    Raises DemoDataMissing (no generator found), shoka_demo.UnknownTier (a ValueError: not one of DEMO_TIERS),
    DatabaseNotMigrated, DatabaseNotEmpty, DemoAccountConflict. The same seed and reference date give the same
    rows; only the generated passwords and their hashes differ between loads. on_progress(table, rows, expected)
    is called as rows are copied, whether or not show_progress draws progress bars.
    """
    started = time.monotonic()
    generator = import_demo_generator()
    library = generator.DemoLibrary(tier=tier, seed=seed, reference_date=reference_date)
    patron_cards = library.showcase_patron_cards
    staff_credentials, patron_credentials = make_credentials(DEMO_STAFF, patron_cards)
    accounts_created_at = datetime.datetime.combine(
        reference_date, datetime.time(9, 0), tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    credentials_path = Path(home) / CREDENTIALS_FILE_NAME
    counts: dict[str, int] = {}
    file_written = False
    with psycopg.connect(database_url, autocommit=True) as connection:
        try:
            with connection.transaction():
                _refuse_unless_empty(connection)
                with table_progress(show_progress, on_progress) as progress:
                    for table in library.tables():
                        counts[table.name] = copy_rows(connection, table.name, table.columns, table.rows,
                                                       table.expected_rows, progress)
                advance_identity_sequences(connection, [name for name in counts if name in TABLES_WITH_ID])
                insert_accounts(connection, staff_credentials, patron_credentials, accounts_created_at)
                counts["staff_account"] = len(staff_credentials)
                counts["patron_credential"] = len(patron_credentials)
                # Written last inside the transaction: a failure to write it rolls the load back.
                write_private_file(credentials_path, credentials_text(staff_credentials, patron_credentials))
                file_written = True
        except BaseException:
            if file_written:  # the commit failed: the file would name accounts that do not exist
                credentials_path.unlink(missing_ok=True)
            raise
    return DemoLoadReport(tier=library.tier.name, seed=seed, reference_date=reference_date, counts=counts,
                          duration_seconds=round(time.monotonic() - started, 3),
                          credentials_file=str(credentials_path),
                          staff_usernames=[credential.name for credential in staff_credentials],
                          patron_cards=[credential.name for credential in patron_credentials])
