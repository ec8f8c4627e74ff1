"""Searching the operation log: one filter and one query shared by the staff audit screen, GET /api/v1/audit and
the CSV exports, so that the screen, the API and an export of "the same search" are the same rows.

Pages are keyset pages on id (`id < before_id ORDER BY id DESC` or `id > after_id ORDER BY id`), never OFFSET, so
page 5,000 of a large log costs what page 1 does. Since migration 0005 id order is also time and chain order.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import msgspec
from psycopg import AsyncConnection

from shoka.errors import InvalidRequest

LONGEST_FILTER_TEXT = 200
_COLUMNS = "id, occurred_at, actor_kind, actor, action, entity, entity_id, source_address, detail"


class ActionMatch(enum.StrEnum):
    # The API's contract: the exact action, or every action under a prefix that ends in '.'.
    EXACT_OR_DOTTED_PREFIX = "exact_or_dotted_prefix"
    # The staff screen: what was typed is a prefix ("staff.login" also finds "staff.login_failed").
    PREFIX = "prefix"


class LogOrder(enum.StrEnum):
    OLDEST_FIRST = "oldest_first"
    NEWEST_FIRST = "newest_first"


class OperationLogFilter(msgspec.Struct, frozen=True):
    """Which rows: every field that is set must match. `until` is exclusive."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actor: str | None = None
    action: str | None = None
    action_match: ActionMatch = ActionMatch.EXACT_OR_DOTTED_PREFIX
    entity: str | None = None
    entity_id: str | None = None
    source_address: str | None = None

    def __post_init__(self) -> None:
        for name in ("actor", "action", "entity", "entity_id", "source_address"):
            value = getattr(self, name)
            if value is not None and len(value) > LONGEST_FILTER_TEXT:
                raise InvalidRequest(f"{name}: {LONGEST_FILTER_TEXT}文字以内で指定してください。/ "
                                     f"at most {LONGEST_FILTER_TEXT} characters", code="invalid_filter")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidRequest(f"{name}: a time zone is required", code="invalid_filter")
        if self.since and self.until and self.until <= self.since:
            raise InvalidRequest("until: 終了は開始より後にしてください。/ until must be later than since",
                                 code="invalid_filter")

    def describe(self) -> dict[str, Any]:
        """The filter as the operation log's detail of a read or an export (only what was set)."""
        described = {name: getattr(self, name) for name in
                     ("actor", "action", "entity", "entity_id", "source_address") if getattr(self, name)}
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                described[name] = getattr(self, name).isoformat()
        return described


class OperationLogEntry(msgspec.Struct, frozen=True):
    id: int
    occurred_at: dt.datetime
    actor_kind: str
    actor: str
    action: str
    entity: str
    entity_id: str
    source_address: str
    detail: dict[str, Any]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def filter_conditions(log_filter: OperationLogFilter) -> tuple[list[str], list[Any]]:
    """SQL conditions (joined by AND) and their parameters; the texts are constants, values are parameters."""
    conditions: list[str] = []
    parameters: list[Any] = []
    if log_filter.since is not None:
        conditions.append("occurred_at >= %s")
        parameters.append(log_filter.since)
    if log_filter.until is not None:
        conditions.append("occurred_at < %s")
        parameters.append(log_filter.until)
    if log_filter.actor:
        conditions.append("actor = %s")
        parameters.append(log_filter.actor)
    if log_filter.action:
        as_prefix = log_filter.action_match is ActionMatch.PREFIX or log_filter.action.endswith(".")
        conditions.append("action LIKE %s" if as_prefix else "action = %s")
        parameters.append(_escape_like(log_filter.action) + "%" if as_prefix else log_filter.action)
    if log_filter.entity:
        conditions.append("entity = %s")
        parameters.append(log_filter.entity)
    if log_filter.entity_id:
        conditions.append("entity_id = %s")
        parameters.append(log_filter.entity_id)
    if log_filter.source_address:
        conditions.append("source_address = %s")
        parameters.append(log_filter.source_address)
    return conditions, parameters


def export_query(log_filter: OperationLogFilter) -> tuple[str, list[Any]]:
    """Every matching row, oldest first, with its chain hash (the CSV exports)."""
    conditions, parameters = filter_conditions(log_filter)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {_COLUMNS}, row_hash FROM operation_log {where} ORDER BY id", parameters


class LogPage(msgspec.Struct, frozen=True):
    """One page in the order it was read; `more` says whether rows remain beyond it in that direction."""

    entries: list[OperationLogEntry]
    more: bool


async def search_operation_log(connection: AsyncConnection, log_filter: OperationLogFilter, *, limit: int,
                               order: LogOrder, after_id: int | None = None,
                               before_id: int | None = None) -> LogPage:
    """A page of matching rows between the cursors (exclusive), read in `order`."""
    conditions, parameters = filter_conditions(log_filter)
    if after_id is not None:
        conditions.append("id > %s")
        parameters.append(after_id)
    if before_id is not None:
        conditions.append("id < %s")
        parameters.append(before_id)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    direction = "ASC" if order is LogOrder.OLDEST_FIRST else "DESC"
    cursor = await connection.execute(
        f"SELECT {_COLUMNS} FROM operation_log {where} ORDER BY id {direction} LIMIT %s", [*parameters, limit + 1])
    rows = await cursor.fetchall()
    return LogPage(entries=[OperationLogEntry(*row) for row in rows[:limit]], more=len(rows) > limit)
