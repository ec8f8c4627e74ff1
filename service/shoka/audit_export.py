"""The operation log as CSV (GET /staff/audit.csv and GET /api/v1/audit.csv): the rows of one filter, oldest
first, for archiving and for reading in a spreadsheet.

The file is UTF-8 with a byte-order mark, so that Excel opens Japanese text correctly, CRLF line ends and a
header row. Times are Japan time with their offset. It is streamed from a server-side cursor in batches, so an
export of a million rows holds one batch in memory, not the log. Each row carries its chain hash (hex), so two
exports taken at different times can be compared row by row.

A cell that starts with = + - @ (or a tab or carriage return) is prefixed with an apostrophe: a spreadsheet
would otherwise run it as a formula, and some cells (the user name of a failed login) are typed by anyone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator

from psycopg_pool import AsyncConnectionPool

from shoka.audit_query import OperationLogFilter, export_query
from shoka.clock import LIBRARY_TIME_ZONE

CSV_HEADER = ("id", "occurred_at", "actor_kind", "actor", "action", "entity", "entity_id", "source_address",
              "detail", "row_hash")
BYTE_ORDER_MARK = "\ufeff"
ROWS_PER_BATCH = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_file_name(now: dt.datetime) -> str:
    return f"operation-log-{now.astimezone(LIBRARY_TIME_ZONE):%Y%m%d-%H%M%S}.csv"


def _csv_row(row: tuple) -> list[str]:
    entry_id, occurred_at, actor_kind, actor, action, entity, entity_id, source_address, detail, row_hash = row
    return [str(entry_id), occurred_at.astimezone(LIBRARY_TIME_ZONE).isoformat(timespec="microseconds"),
            actor_kind, spreadsheet_safe(actor), spreadsheet_safe(action), spreadsheet_safe(entity),
            spreadsheet_safe(entity_id), spreadsheet_safe(source_address),
            json.dumps(detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True), bytes(row_hash).hex()]


async def operation_log_csv(pool: AsyncConnectionPool, log_filter: OperationLogFilter) -> AsyncIterator[bytes]:
    """The CSV file in chunks of about ROWS_PER_BATCH rows; the first chunk starts with the byte-order mark."""
    query, parameters = export_query(log_filter)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(CSV_HEADER)
    async with pool.connection() as connection, connection.transaction():
        async with connection.cursor(name="operation_log_export") as cursor:
            cursor.itersize = ROWS_PER_BATCH
            await cursor.execute(query, parameters)
            while rows := await cursor.fetchmany(ROWS_PER_BATCH):
                writer.writerows(_csv_row(row) for row in rows)
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
