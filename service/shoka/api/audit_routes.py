"""GET /api/v1/audit: the operation log for administrators, filtered by time, actor and action."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import Provide
from litestar.params import Parameter

from shoka.audit import record_operation
from shoka.auth.guards import provide_staff, requires_roles
from shoka.auth.roles import ADMIN_ONLY
from shoka.auth.staff_accounts import StaffPrincipal

MAXIMUM_ENTRIES = 1000


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


class OperationLogPage(msgspec.Struct, frozen=True):
    entries: list[OperationLogEntry]
    next_after_id: int | None


@get("/api/v1/audit", tags=["audit"], summary="The operation log (administrators)",
     guards=[requires_roles(ADMIN_ONLY)], dependencies={"staff": Provide(provide_staff, sync_to_thread=False)})
async def operation_log(
    request: Request,
    staff: StaffPrincipal,
    since: Annotated[dt.datetime | None, Parameter(description="entries at or after this time (ISO 8601)")] = None,
    actor: Annotated[str | None, Parameter(max_length=64)] = None,
    action: Annotated[str | None, Parameter(max_length=64, description="exact action, or a prefix ending in '.'")] = None,
    after_id: Annotated[int | None, Parameter(ge=0, description="continue after this entry id")] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAXIMUM_ENTRIES)] = 200,
) -> OperationLogPage:
    conditions, parameters = [], []
    if since is not None:
        conditions.append("occurred_at >= %s")
        parameters.append(since if since.tzinfo else since.replace(tzinfo=dt.timezone.utc))
    if actor:
        conditions.append("actor = %s")
        parameters.append(actor)
    if action:
        conditions.append("action LIKE %s" if action.endswith(".") else "action = %s")
        parameters.append(action.replace("%", r"\%").replace("_", r"\_") + "%" if action.endswith(".") else action)
    if after_id is not None:
        conditions.append("id > %s")
        parameters.append(after_id)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        await cursor.execute(
            f"""SELECT id, occurred_at, actor_kind, actor, action, entity, entity_id, source_address, detail
                FROM operation_log {where} ORDER BY id LIMIT %s""", [*parameters, limit + 1])
        rows = await cursor.fetchall()
        # Reading the log is itself an operation an auditor wants to see.
        await record_operation(cursor, staff.actor, "audit.read", "operation_log", None,
                               {"since": since.isoformat() if since else None, "actor": actor, "action": action})
        await connection.commit()
    entries = [OperationLogEntry(*row) for row in rows[:limit]]
    return OperationLogPage(entries=entries, next_after_id=entries[-1].id if len(rows) > limit else None)
