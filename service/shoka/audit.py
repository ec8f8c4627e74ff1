"""The operation log: who did what to which record, when and from where (REQUIREMENTS §9).

Rows are append-only and hash-chained by the database (see migration 0001). Every staff action that reads or
changes patron data or circulation calls `record_operation` inside the same transaction as the change, so a
logged action and its effect commit or roll back together. Details never carry personal data such as names or
addresses: the record's id is enough to find it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from psycopg import AsyncCursor, Cursor
from psycopg.types.json import Jsonb

ActorKind = Literal["staff", "patron", "sip2", "system", "cli"]


class Actor(msgspec.Struct, frozen=True):
    kind: ActorKind
    name: str
    source_address: str = ""


SYSTEM_ACTOR = Actor(kind="system", name="shoka")

OPERATION_LOG_INSERT = """INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, source_address,
                                                   detail)
                          VALUES (%s, %s, %s, %s, %s, %s, %s)"""


def operation_log_parameters(actor: Actor, action: str, entity: str, entity_id: object,
                             detail: dict[str, Any] | None) -> list:
    return [actor.kind, actor.name, action, entity, "" if entity_id is None else str(entity_id),
            actor.source_address, Jsonb(detail or {})]


async def record_operation(cursor: AsyncCursor, actor: Actor, action: str, entity: str, entity_id: object = None,
                           detail: dict[str, Any] | None = None) -> None:
    await cursor.execute(OPERATION_LOG_INSERT, operation_log_parameters(actor, action, entity, entity_id, detail))


def record_operation_sync(cursor: Cursor, actor: Actor, action: str, entity: str, entity_id: object = None,
                          detail: dict[str, Any] | None = None) -> None:
    cursor.execute(OPERATION_LOG_INSERT, operation_log_parameters(actor, action, entity, entity_id, detail))
