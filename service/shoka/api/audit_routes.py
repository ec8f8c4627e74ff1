"""GET /api/v1/audit: the operation log for administrators, filtered by time, actor, action, record and source
address, paged by id; GET /api/v1/audit.csv: every row of the same filter as a CSV file (shoka.audit_export).

The contract of CONTRACT.md holds: `since`, `actor`, `action` (exact, or a prefix ending in '.'), administrators
only, oldest first with `after_id` paging (`next_after_id`). Added: `until` (exclusive), `entity`, `entity_id`,
`source_address`, and `order=newest_first` with `before_id` paging (`next_before_id`). Times without a zone are
UTC. Reading and exporting the log are themselves logged ("audit.read", "audit.export").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Stream

from shoka.audit import Actor, record_operation
from shoka.audit_export import export_file_name, operation_log_csv
from shoka.audit_query import (LONGEST_FILTER_TEXT, LogOrder, OperationLogEntry, OperationLogFilter,
                               search_operation_log)
from shoka.auth.guards import provide_staff, requires_roles
from shoka.auth.roles import ADMIN_ONLY
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.clock import utc_now
from shoka.web.web_settings import client_address

MAXIMUM_ENTRIES = 1000
ADMIN_GUARD = [requires_roles(ADMIN_ONLY)]
STAFF = {"staff": Provide(provide_staff, sync_to_thread=False)}

FilterText = Annotated[str | None, Parameter(max_length=LONGEST_FILTER_TEXT)]


class OperationLogPage(msgspec.Struct, frozen=True):
    entries: list[OperationLogEntry]
    next_after_id: int | None
    next_before_id: int | None = None


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _api_actor(request: Request, staff: StaffPrincipal) -> Actor:
    return msgspec.structs.replace(staff.actor, source_address=client_address(request))


def _filter(since: dt.datetime | None, until: dt.datetime | None, actor: str | None, action: str | None,
            entity: str | None, entity_id: str | None, source_address: str | None) -> OperationLogFilter:
    return OperationLogFilter(since=_aware(since), until=_aware(until), actor=actor or None, action=action or None,
                              entity=entity or None, entity_id=entity_id or None,
                              source_address=source_address or None)


@get("/api/v1/audit", tags=["audit"], summary="The operation log (administrators)", guards=ADMIN_GUARD,
     dependencies=STAFF)
async def operation_log(
    request: Request,
    staff: StaffPrincipal,
    since: Annotated[dt.datetime | None, Parameter(description="entries at or after this time (ISO 8601)")] = None,
    until: Annotated[dt.datetime | None, Parameter(description="entries before this time (ISO 8601)")] = None,
    actor: FilterText = None,
    action: Annotated[str | None, Parameter(max_length=LONGEST_FILTER_TEXT,
                                            description="exact action, or a prefix ending in '.'")] = None,
    entity: FilterText = None,
    entity_id: Annotated[str | None, Parameter(max_length=LONGEST_FILTER_TEXT, description="the record's id")] = None,
    source_address: FilterText = None,
    order: Annotated[LogOrder, Parameter(description="oldest_first (page with after_id) or newest_first "
                                                     "(page with before_id)")] = LogOrder.OLDEST_FIRST,
    after_id: Annotated[int | None, Parameter(ge=0, description="only entries after this id")] = None,
    before_id: Annotated[int | None, Parameter(ge=1, description="only entries before this id")] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAXIMUM_ENTRIES)] = 200,
) -> OperationLogPage:
    log_filter = _filter(since, until, actor, action, entity, entity_id, source_address)
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction():
            page = await search_operation_log(connection, log_filter, limit=limit, order=order, after_id=after_id,
                                              before_id=before_id)
            # Reading the log is itself an operation an auditor wants to see.
            async with connection.cursor() as cursor:
                await record_operation(cursor, _api_actor(request, staff), "audit.read", "operation_log", None,
                                       {"filter": log_filter.describe(), "order": order.value})
    last_id = page.entries[-1].id if page.entries and page.more else None
    return OperationLogPage(entries=page.entries,
                            next_after_id=last_id if order is LogOrder.OLDEST_FIRST else None,
                            next_before_id=last_id if order is LogOrder.NEWEST_FIRST else None)


@get("/api/v1/audit.csv", tags=["audit"], summary="The operation log as CSV (UTF-8 with BOM, oldest first)",
     guards=ADMIN_GUARD, dependencies=STAFF)
async def operation_log_export(
    request: Request,
    staff: StaffPrincipal,
    since: Annotated[dt.datetime | None, Parameter(description="entries at or after this time (ISO 8601)")] = None,
    until: Annotated[dt.datetime | None, Parameter(description="entries before this time (ISO 8601)")] = None,
    actor: FilterText = None,
    action: Annotated[str | None, Parameter(max_length=LONGEST_FILTER_TEXT,
                                            description="exact action, or a prefix ending in '.'")] = None,
    entity: FilterText = None,
    entity_id: FilterText = None,
    source_address: FilterText = None,
) -> Stream:
    log_filter = _filter(since, until, actor, action, entity, entity_id, source_address)
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            await record_operation(cursor, _api_actor(request, staff), "audit.export", "operation_log", None,
                                   {"filter": log_filter.describe(), "format": "csv"})
    return Stream(operation_log_csv(request.app.state.pools.staff, log_filter),
                  media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="{export_file_name(utc_now())}"',
                           "Cache-Control": "no-store"})
