"""`shoka reindex`: build a new index generation from PostgreSQL and swap it in without downtime.

The build reads one consistent snapshot and records the outbox position it includes; a running server
notices the new generation within a moment, opens it, and its index writer catches up from that position,
so edits made during the build are not lost.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import psycopg

from shoka.catalogue.index_folder import IndexFolder
from shoka.catalogue.replica import build_new_generation


class ReindexReport(msgspec.Struct, frozen=True):
    generation: Path
    records: int
    seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def reindex(database_url: str, index_root: Path, *, show_progress: bool) -> ReindexReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    folder = IndexFolder(index_root)
    started = time.monotonic()
    indexed = 0
    with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=not show_progress) as progress:
        task = progress.add_task("records", total=None)

        def report(done: int, total: int) -> None:
            nonlocal indexed
            indexed = done
            progress.update(task, completed=done, total=total)

        with folder.build_lock(), psycopg.connect(database_url) as connection:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            previous = folder.current_generation()
            generation = build_new_generation(connection, folder, report)
            keep = {generation} | ({previous} if previous is not None else set())
            folder.remove_generations_except(keep)
    return ReindexReport(generation=generation, records=indexed, seconds=time.monotonic() - started)
