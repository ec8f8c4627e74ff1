"""Merging duplicate registrations (名寄せ): one person registered twice keeps one record, the survivor.

In one transaction the duplicate's open loans, holds (open and closed), loan history (its reading record),
group loans, inter-library loan and purchase requests move to the survivor; its cards join the survivor's
card history (reason 'merged') so that a staff search by the duplicate's card finds the survivor; and the
duplicate becomes status 'merged' with merged_into_id set. The duplicate keeps its card number as a
tombstone, so the counter refuses that card with the engine's "patron_merged" reason ("use the card of
the merged record") instead of treating it as unknown.

The survivor keeps its own personal data; fields it left empty are filled from the duplicate. It keeps
the later expiry, a reading record if either record kept one, and its own web password (or the
duplicate's, if it had none). When both records hold the same title, the hold further along (on the
shelf, then in transit, then the earlier placed) stays and the other is cancelled ('merged_duplicate');
if both copies are already set aside, staff resolve one first. Every moved loan and hold, and both
patrons, go to the outbox, so the engine counts the moved loans against the survivor's limits at once.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from psycopg import AsyncConnection, AsyncCursor

from shoka.audit import Actor, record_operation
from shoka.circulation.desk import Changes, hold_event
from shoka.circulation.engine_state import LOAN_SELECT, loan_state
from shoka.errors import Conflict, InvalidRequest, NotFound
from shoka.patrons.patron_fields import age_band, normalise_card
from shoka.patrons.patron_record import PatronRecord, read_patron
from shoka.patrons.registry import Editor, PatronVocabulary, lock_patron_for_change, publish_patron

OPEN_HOLD = ("waiting", "in_transit", "ready")
_HOLD_PROGRESS = {"ready": 0, "in_transit": 1, "waiting": 2}
# Personal fields the survivor takes from the duplicate when its own are empty (address goes with postal code).
_FILLED_FIELDS = ("given_name", "given_name_reading", "birth_date", "phone", "email")


class MergePreview(msgspec.Struct, frozen=True):
    survivor: PatronRecord
    duplicate: PatronRecord
    holds_to_cancel: int
    blocking_holds: int


class MergeResult(msgspec.Struct, frozen=True):
    survivor_id: int
    duplicate_id: int
    loans_moved: int
    holds_moved: int
    holds_cancelled: int
    history_moved: int


async def find_duplicate(connection: AsyncConnection, survivor_id: int, duplicate_card: str) -> int:
    """The patron whose current card is `duplicate_card`; refuses the survivor itself and merged records."""
    card = normalise_card(duplicate_card)
    if not card:
        raise InvalidRequest("統合する重複登録のカード番号を入力してください。/ Enter the duplicate's card number.",
                             code="duplicate_card_missing")
    row = await (await connection.execute("SELECT id, status FROM patron WHERE card = %s", [card])).fetchone()
    if row is None:
        old = await (await connection.execute(
            "SELECT p.card FROM patron_card_history h JOIN patron p ON p.id = h.patron_id WHERE h.card = %s",
            [card])).fetchone()
        if old is not None:
            raise NotFound(f"カード {card} は旧カードです。現在のカード {old[0]} で指定してください。/ "
                           f"Card {card} was replaced; use the current card {old[0]}.", code="old_card")
        raise NotFound(f"カード番号 {card} の利用者は登録されていません。/ No patron has card {card}.",
                       code="unknown_patron")
    if row[0] == survivor_id:
        raise InvalidRequest("同じ利用者どうしは統合できません。/ A patron cannot be merged into itself.",
                             code="merge_into_self")
    if row[1] == "merged":
        raise Conflict(f"カード {card} の利用者はすでに統合済みです。/ The patron with card {card} was already merged.",
                       code="patron_merged")
    return row[0]


async def _hold_pairs(cursor: AsyncCursor, survivor_id: int, duplicate_id: int) -> list[tuple[int, int]]:
    """(hold kept, hold cancelled) for each title both records hold; Conflict if both copies are set aside."""
    await cursor.execute(
        """SELECT s.id, s.status, s.placed_at, d.id, d.status, d.placed_at
           FROM hold s JOIN hold d ON d.bib_id = s.bib_id
           WHERE s.patron_id = %s AND d.patron_id = %s AND s.status = ANY(%s) AND d.status = ANY(%s)""",
        [survivor_id, duplicate_id, list(OPEN_HOLD), list(OPEN_HOLD)])
    pairs = []
    for survivor_hold, survivor_status, survivor_placed, duplicate_hold, duplicate_status, duplicate_placed in \
            await cursor.fetchall():
        survivor_rank = (_HOLD_PROGRESS[survivor_status], survivor_placed)
        duplicate_rank = (_HOLD_PROGRESS[duplicate_status], duplicate_placed)
        kept, cancelled, cancelled_status = ((survivor_hold, duplicate_hold, duplicate_status)
                                             if survivor_rank <= duplicate_rank
                                             else (duplicate_hold, survivor_hold, survivor_status))
        if cancelled_status != "waiting":
            raise Conflict("両方の登録で同じ資料が取置中または回送中です。どちらかの予約を先に処理してください。/ "
                           "Both records have a copy of the same title set aside; resolve one hold first.",
                           code="merge_hold_conflict")
        pairs.append((kept, cancelled))
    return pairs


async def merge_preview(connection: AsyncConnection, *, survivor_id: int, duplicate_id: int, actor: Actor,
                        today: dt.date) -> MergePreview:
    survivor = await read_patron(connection, survivor_id, actor=actor, today=today, view="merge_preview")
    duplicate = await read_patron(connection, duplicate_id, actor=actor, today=today, view="merge_preview")
    async with connection.transaction(), connection.cursor() as cursor:
        try:
            pairs, blocking = await _hold_pairs(cursor, survivor_id, duplicate_id), 0
        except Conflict:
            pairs, blocking = [], 1
    return MergePreview(survivor=survivor, duplicate=duplicate, holds_to_cancel=len(pairs), blocking_holds=blocking)


async def merge_patrons(connection: AsyncConnection, replica, *, survivor_id: int, duplicate_id: int,
                        vocabulary: PatronVocabulary, editor: Editor, today: dt.date, now: dt.datetime) -> MergeResult:
    if survivor_id == duplicate_id:
        raise InvalidRequest("同じ利用者どうしは統合できません。/ A patron cannot be merged into itself.",
                             code="merge_into_self")
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        # Both patrons locked in id order, as every other writer that locks two patrons would.
        for patron_id in sorted((survivor_id, duplicate_id)):
            locked = await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
            if patron_id == duplicate_id:
                duplicate = locked
        pairs = await _hold_pairs(cursor, survivor_id, duplicate_id)
        cancelled = [hold for _kept, hold in pairs]
        if cancelled:
            await cursor.execute(
                "UPDATE hold SET status = 'cancelled', closed_at = %s, cancel_reason = 'merged_duplicate' "
                "WHERE id = ANY(%s)", [now, cancelled])
            for hold_id in cancelled:
                changes.add("hold", hold_id, {"item_id": None}, {"kind": "hold_closed", "hold_id": hold_id})
        await cursor.execute("UPDATE hold SET patron_id = %s WHERE patron_id = %s RETURNING id, status",
                             [survivor_id, duplicate_id])
        moved_holds = [hold_id for hold_id, status in await cursor.fetchall() if status in OPEN_HOLD]
        for hold_id in moved_holds:
            changes.add("hold", hold_id, {"item_id": None}, await hold_event(cursor, hold_id))
        await cursor.execute("UPDATE loan SET patron_id = %s WHERE patron_id = %s RETURNING id, returned_at IS NULL",
                             [survivor_id, duplicate_id])
        moved_loans = await cursor.fetchall()
        open_loans = [loan_id for loan_id, is_open in moved_loans if is_open]
        if open_loans:
            await cursor.execute(LOAN_SELECT + " WHERE l.id = ANY(%s) ORDER BY l.id", [open_loans])
            for row in await cursor.fetchall():
                changes.add("loan", row[0], {"item_id": row[1]}, {"kind": "loan_opened", **loan_state(row)})
        for table in ("group_loan_batch", "ill_request", "purchase_request", "patron_card_history"):
            await cursor.execute(f"UPDATE {table} SET patron_id = %s WHERE patron_id = %s", [survivor_id, duplicate_id])
        await cursor.execute("INSERT INTO patron_card_history (card, patron_id, replaced_at, reason) "
                             "VALUES (%s, %s, %s, 'merged')", [duplicate.card, survivor_id, now])
        await _take_over_credential(cursor, survivor_id, duplicate_id)
        await _fill_personal(cursor, survivor_id, duplicate_id)
        await cursor.execute(
            """UPDATE patron s SET expires_on = greatest(s.expires_on, d.expires_on),
                      keeps_reading_record = s.keeps_reading_record OR d.keeps_reading_record, updated_at = %s
               FROM patron d WHERE s.id = %s AND d.id = %s""", [now, survivor_id, duplicate_id])
        await cursor.execute("SELECT birth_date FROM patron_personal WHERE patron_id = %s", [survivor_id])
        birth = await cursor.fetchone()
        await cursor.execute("UPDATE patron SET age_band = %s WHERE id = %s",
                             [age_band(birth[0] if birth else None, today), survivor_id])
        await cursor.execute("UPDATE patron SET status = 'merged', merged_into_id = %s, updated_at = %s WHERE id = %s",
                             [survivor_id, now, duplicate_id])
        result = MergeResult(survivor_id=survivor_id, duplicate_id=duplicate_id, loans_moved=len(open_loans),
                             holds_moved=len(moved_holds), holds_cancelled=len(cancelled),
                             history_moved=len(moved_loans) - len(open_loans))
        await record_operation(cursor, editor.actor, "patron.merge", "patron", survivor_id,
                               msgspec.to_builtins(result))
        await publish_patron(cursor, changes, duplicate_id)
        await publish_patron(cursor, changes, survivor_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return result


async def _take_over_credential(cursor: AsyncCursor, survivor_id: int, duplicate_id: int) -> None:
    await cursor.execute("SELECT 1 FROM patron_credential WHERE patron_id = %s", [survivor_id])
    if await cursor.fetchone() is None:
        await cursor.execute("UPDATE patron_credential SET patron_id = %s WHERE patron_id = %s",
                             [survivor_id, duplicate_id])
    else:
        await cursor.execute("DELETE FROM patron_credential WHERE patron_id = %s", [duplicate_id])


async def _fill_personal(cursor: AsyncCursor, survivor_id: int, duplicate_id: int) -> None:
    filled = ", ".join(
        f"{field} = coalesce(s.{field}, d.{field})" if field == "birth_date"
        else f"{field} = CASE WHEN s.{field} = '' THEN d.{field} ELSE s.{field} END" for field in _FILLED_FIELDS)
    await cursor.execute(
        f"""UPDATE patron_personal s SET {filled},
                   postal_code = CASE WHEN s.address = '' THEN d.postal_code ELSE s.postal_code END,
                   address = CASE WHEN s.address = '' THEN d.address ELSE s.address END
            FROM patron_personal d WHERE s.patron_id = %s AND d.patron_id = %s""", [survivor_id, duplicate_id])
