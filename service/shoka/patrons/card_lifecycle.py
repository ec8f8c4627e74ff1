"""A card's life after registration: replacement (再発行), renewal of the expiry (更新), blocks (停止, 紛失) and the
web password staff set for a patron.

A replaced card goes to patron_card_history with its reason; the counter then refuses it with
"card_replaced" (circulation/desk.py) and staff search finds the patron under it. Each change is one
transaction with its operation-log entry and the patron's outbox event (see registry.py).
"""

from __future__ import annotations

import datetime as dt
import enum

from psycopg import AsyncConnection

from shoka.audit import record_operation
from shoka.circulation.desk import Changes
from shoka.errors import Conflict
from shoka.patrons.patron_fields import FieldProblem, renewed_expiry
from shoka.patrons.registry import (Editor, PatronFormRefused, PatronVocabulary, check_new_card,
                                    lock_patron_for_change, publish_patron, web_password_hash)


class ReplacementReason(enum.StrEnum):
    LOST = "lost"
    DAMAGED = "damaged"
    OTHER = "other"


class StatusChange(enum.StrEnum):
    """What the status buttons do; 'merged' is only ever set by a merge."""

    SUSPEND = "suspended"     # 貸出停止
    CARD_LOST = "card_lost"   # 紛失届: the card is refused until replaced or found
    LIFT = "active"           # 停止解除 / カード発見


_ALLOWED_FROM = {StatusChange.SUSPEND: {"active", "card_lost"}, StatusChange.CARD_LOST: {"active", "suspended"},
                 StatusChange.LIFT: {"suspended", "card_lost"}}


async def replace_card(connection: AsyncConnection, replica, *, patron_id: int, new_card: str, reason: str,
                       vocabulary: PatronVocabulary, editor: Editor, now: dt.datetime) -> str:
    """Gives the patron a new card; the old one is kept in the card history and refused at every desk.
    A card reported lost becomes usable again with the new card. Returns the new card number."""
    try:
        replacement_reason = ReplacementReason(reason)
    except ValueError:
        raise PatronFormRefused({"reason": FieldProblem("再発行の理由を選んでください。",
                                                        "Choose why the card is replaced.")}) from None
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        patron = await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
        card, problem = await check_new_card(cursor, new_card)
        if problem:
            raise PatronFormRefused({"new_card": problem})
        await cursor.execute("INSERT INTO patron_card_history (card, patron_id, replaced_at, reason) "
                             "VALUES (%s, %s, %s, %s)", [patron.card, patron_id, now, replacement_reason.value])
        await cursor.execute(
            "UPDATE patron SET card = %s, status = CASE WHEN status = 'card_lost' THEN 'active' ELSE status END, "
            "updated_at = %s WHERE id = %s", [card, now, patron_id])
        await record_operation(cursor, editor.actor, "patron.replace_card", "patron", patron_id,
                               {"reason": replacement_reason.value, "was_lost": patron.status == "card_lost"})
        await publish_patron(cursor, changes, patron_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return card


async def renew_card(connection: AsyncConnection, replica, *, patron_id: int, vocabulary: PatronVocabulary,
                     editor: Editor, today: dt.date, now: dt.datetime) -> dt.date:
    """Extends the expiry by the category's period from today or from the current expiry, whichever is
    later (an early renewal loses nothing). Returns the new expiry."""
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        patron = await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
        new_expiry = renewed_expiry(patron.expires_on, today, vocabulary.categories[patron.category].card_years)
        await cursor.execute("UPDATE patron SET expires_on = %s, updated_at = %s WHERE id = %s",
                             [new_expiry, now, patron_id])
        await record_operation(cursor, editor.actor, "patron.renew", "patron", patron_id,
                               {"from": patron.expires_on.isoformat(), "to": new_expiry.isoformat()})
        await publish_patron(cursor, changes, patron_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return new_expiry


async def change_status(connection: AsyncConnection, replica, *, patron_id: int, status: str,
                        vocabulary: PatronVocabulary, editor: Editor, now: dt.datetime) -> StatusChange:
    try:
        change = StatusChange(status)
    except ValueError:
        raise PatronFormRefused({"status": FieldProblem("変更後の状態を選んでください。",
                                                        "Choose the new status.")}) from None
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        patron = await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
        if patron.status not in _ALLOWED_FROM[change]:
            raise Conflict(f"現在の状態（{patron.status}）からは変更できません。/ "
                           f"The patron's status is already {patron.status}.", code="status_unchanged")
        await cursor.execute("UPDATE patron SET status = %s, updated_at = %s WHERE id = %s",
                             [change.value, now, patron_id])
        await record_operation(cursor, editor.actor, "patron.status", "patron", patron_id,
                               {"from": patron.status, "to": change.value})
        await publish_patron(cursor, changes, patron_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return change


async def reset_web_password(connection: AsyncConnection, *, patron_id: int, new_password: str,
                             vocabulary: PatronVocabulary, editor: Editor, now: dt.datetime) -> None:
    """Sets the patron's web password (the patron asked at the counter); ends the lockout and, because the
    credential version changes, every OPAC session of the patron."""
    password_hash, problem = await web_password_hash(new_password)
    if password_hash is None:
        raise PatronFormRefused({"new_password": problem or FieldProblem(
            "新しいパスワードを入力してください。", "Enter the new password.")})
    async with connection.transaction(), connection.cursor() as cursor:
        await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
        await cursor.execute(
            """INSERT INTO patron_credential (patron_id, password_hash, hash_scheme, failed_logins, locked_until,
                                              changed_at)
               VALUES (%s, %s, 'argon2id', 0, NULL, %s)
               ON CONFLICT (patron_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, hash_scheme = 'argon2id',
                   failed_logins = 0, locked_until = NULL, changed_at = EXCLUDED.changed_at""",
            [patron_id, password_hash, now])
        await record_operation(cursor, editor.actor, "patron.password_reset", "patron", patron_id, {"via": "staff"})
