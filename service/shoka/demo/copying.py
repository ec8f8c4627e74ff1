"""Bulk loading of generated tables with COPY, in batches, with an optional progress display.

Each batch is its own COPY statement: foreign keys are checked at the end of a statement, so batches keep the
queue of pending checks short even for tier L's ten million loans, while everything stays in the caller's one
transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

BATCH_ROWS = 50_000
PROGRESS_EVERY = 5_000

ProgressCallback = Callable[[str, int, "int | None"], None]  # table, rows so far, rows expected


class TableProgress:
    """Reports rows loaded per table to a callback and, if asked, to a rich progress display."""

    def __init__(self, display, callback: ProgressCallback | None) -> None:
        self.display = display
        self.callback = callback
        self.task = None

    def start(self, table: str, expected_rows: int | None) -> None:
        if self.display is not None:
            self.task = self.display.add_task(table, total=expected_rows)

    def advance(self, table: str, rows: int, expected_rows: int | None) -> None:
        if self.display is not None and self.task is not None:
            self.display.update(self.task, completed=rows)
        if self.callback is not None:
            self.callback(table, rows, expected_rows)

    def finish(self, table: str, rows: int) -> None:
        if self.display is not None and self.task is not None:
            self.display.update(self.task, completed=rows, total=rows)
        if self.callback is not None:
            self.callback(table, rows, rows)


@contextmanager
def table_progress(show: bool, callback: ProgressCallback | None) -> Iterator[TableProgress]:
    if not show:
        yield TableProgress(None, callback)
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn()) as display:
        yield TableProgress(display, callback)


def copy_rows(connection: psycopg.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
              expected_rows: int | None, progress: TableProgress) -> int:
    """COPY the rows into the table in batches of BATCH_ROWS; returns how many rows were written."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(column) for column in columns))
    rows = iter(rows)
    written = 0
    progress.start(table, expected_rows)
    with connection.cursor() as cursor:
        while True:
            batch = itertools.islice(rows, BATCH_ROWS)
            first = next(batch, None)
            if first is None:
                break
            with cursor.copy(statement) as copy:
                for row in itertools.chain((first,), batch):
                    copy.write_row(row)
                    written += 1
                    if written % PROGRESS_EVERY == 0:
                        progress.advance(table, written, expected_rows)
    progress.finish(table, written)
    return written


def advance_identity_sequences(connection: psycopg.Connection, tables: Iterable[str]) -> None:
    """Move each table's identity sequence past the ids the load wrote, so the next insert gets a fresh id."""
    for table in tables:
        sequence = connection.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table]).fetchone()[0]
        if sequence is None:
            continue
        connection.execute(sql.SQL("SELECT setval(%s, coalesce((SELECT max(id) FROM {}), 0) + 1, false)").format(
            sql.Identifier(table)), [sequence])
