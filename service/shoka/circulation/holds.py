"""Holds (予約): placing, cancelling, changing the pickup branch, hold-shelf expiry and pick lists.

Same transaction shape as the desk (see desk.py): lock the record and the patron, wait for current state,
let the engine decide, write, log, append outbox events, apply them here after COMMIT. Expiry is incremental:
the service asks the engine every minute which ready holds passed their pickup date, and each copy goes to
the next patron in line (or back to its shelf) in its own small transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors
from psycopg.pq import TransactionStatus

from shoka.audit import SYSTEM_ACTOR, Actor, record_operation
from shoka.circulation.decisions import decide
from shoka.circulation.desk import Changes, branch_id, hold_event, pass_on, refuse_unknown_card
from shoka.errors import Conflict, NotFound


class HoldPlaced(msgspec.Struct, frozen=True):
    hold_id: int
    bib_id: int
    pickup_branch: str
    queue_position: int
    pick_from: dict | None  # the on-shelf copy to pull for the pick list, if any


@contextlib.asynccontextmanager
async def _own_transaction(connection: AsyncConnection) -> AsyncIterator[AsyncCursor]:
    """The transaction of one hold change, on a connection with none open: inside an open transaction
    psycopg's transaction() is only a savepoint, and the events would be applied here (apply_here) before
    the real COMMIT, which could still fail and leave this replica with a change the database never had."""
    if connection.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("a hold change must run in a transaction of its own, not inside an open one")
    async with connection.transaction(), connection.cursor() as cursor:
        yield cursor


async def _lock_bib(cursor, bib_id: int) -> str:
    await cursor.execute("SELECT title FROM bib WHERE id = %s AND NOT is_withdrawn FOR NO KEY UPDATE", [bib_id])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"record {bib_id} does not exist", code="bib_not_found")
    return row[0]


async def _patron_by(cursor, *, card: str | None = None, patron_id: int | None = None) -> int:
    if card is not None:
        await cursor.execute("SELECT id FROM patron WHERE card = %s FOR UPDATE", [card])
    else:
        await cursor.execute("SELECT id FROM patron WHERE id = %s FOR UPDATE", [patron_id])
    row = await cursor.fetchone()
    if row is None and card is not None:
        await refuse_unknown_card(cursor, card)  # a replaced card says so, as at checkout
    if row is None:
        raise NotFound(f"利用者 {patron_id} は登録されていません。", code="unknown_patron")
    return row[0]


async def place_hold(connection: AsyncConnection, replica, *, bib_id: int, pickup_branch: str, today: dt.date,
                     now: dt.datetime, actor: Actor, via: str, card: str | None = None, patron_id: int | None = None,
                     item_id: int | None = None) -> HoldPlaced:
    changes = Changes()
    async with _own_transaction(connection) as cursor:
        await _lock_bib(cursor, bib_id)
        patron_id = await _patron_by(cursor, card=card, patron_id=patron_id)
        await replica.catch_up_with(cursor)
        from shoka.circulation.engine_state import placed_at_key

        request = {"patron_id": patron_id, "bib_id": bib_id, "pickup_branch": pickup_branch,
                   "today": today.isoformat(), "placed_at": placed_at_key(now)}
        if item_id is not None:
            request["item_id"] = item_id
        decision = await decide(replica.circulation, "decide_hold", request)
        pickup_point = await branch_id(cursor, pickup_branch)
        try:
            await cursor.execute(
                """INSERT INTO hold (patron_id, bib_id, item_id, pickup_service_point_id, placed_at, placed_via)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                [patron_id, bib_id, item_id, pickup_point, now, via])
        except errors.UniqueViolation:
            raise Conflict("この資料はすでに予約しています。", code="hold_exists") from None
        hold_id = (await cursor.fetchone())[0]
        changes.add("hold", hold_id, {"item_id": None}, await hold_event(cursor, hold_id))
        await cursor.execute(
            "SELECT count(*) FROM hold WHERE bib_id = %s AND status IN ('waiting', 'in_transit', 'ready') "
            "AND (placed_at, id) <= (%s, %s)", [bib_id, now, hold_id])
        position = (await cursor.fetchone())[0]
        await record_operation(cursor, actor, "hold.place", "hold", hold_id,
                               {"bib_id": bib_id, "patron_id": patron_id, "pickup": pickup_branch, "via": via})
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return HoldPlaced(hold_id=hold_id, bib_id=bib_id, pickup_branch=pickup_branch, queue_position=position,
                      pick_from=decision.get("target"))


async def _lock_hold(cursor, hold_id: int, patron_id: int | None = None) -> tuple[int, int]:
    """Locks the hold's record, then the hold; a closed hold of the asker is a conflict, not a mystery."""
    await cursor.execute("SELECT bib_id, patron_id, status FROM hold WHERE id = %s", [hold_id])
    row = await cursor.fetchone()
    if row is None or (patron_id is not None and row[1] != patron_id):
        raise NotFound("お探しの予約が見つかりません。", code="unknown_hold")
    if row[2] not in ("waiting", "in_transit", "ready"):
        raise Conflict("この予約はすでに終了しています。", code="hold_closed")
    await _lock_bib(cursor, row[0])
    await cursor.execute("SELECT bib_id, patron_id FROM hold WHERE id = %s FOR UPDATE", [hold_id])
    return await cursor.fetchone()


async def cancel_hold(connection: AsyncConnection, replica, *, hold_id: int, today: dt.date, now: dt.datetime,
                      actor: Actor, patron_id: int | None = None, reason: str = "patron") -> dict:
    """Cancels a hold; `patron_id` restricts it to that patron's own hold (OPAC). A copy set aside for it
    goes to the next in line or back to the shelf."""
    changes = Changes()
    async with _own_transaction(connection) as cursor:
        await _lock_hold(cursor, hold_id, patron_id)
        where = await _pickup_point(cursor, hold_id)
        await replica.catch_up_with(cursor)
        request: dict = {"hold_id": hold_id, "today": today.isoformat()}
        if patron_id is not None:
            request["patron_id"] = patron_id
        decision = await decide(replica.circulation, "decide_cancel_hold", request)
        await cursor.execute("UPDATE hold SET status = 'cancelled', closed_at = %s, cancel_reason = %s WHERE id = %s "
                             "AND status IN ('waiting', 'in_transit', 'ready') RETURNING trapped_item_id",
                             [now, reason, hold_id])
        if await cursor.fetchone() is None:
            raise Conflict("この予約はすでに終了しています。", code="hold_closed")
        released = decision.get("released_item")
        changes.add("hold", hold_id, {"item_id": released}, {"kind": "hold_closed", "hold_id": hold_id})
        if released is not None and decision.get("next") is not None:
            await pass_on(cursor, released, where, decision["next"], now, changes)
        await record_operation(cursor, actor, "hold.cancel", "hold", hold_id,
                               {"reason": reason, "released_item": released})
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return {"hold_id": hold_id, "status": "cancelled", "released_item": released}


async def _pickup_point(cursor, hold_id: int) -> tuple[int, str]:
    await cursor.execute("SELECT sp.id, sp.code FROM hold h JOIN service_point sp ON sp.id = h.pickup_service_point_id "
                         "WHERE h.id = %s", [hold_id])
    return await cursor.fetchone()


async def change_pickup(connection: AsyncConnection, replica, *, hold_id: int, pickup_branch: str, actor: Actor,
                        patron_id: int | None = None) -> dict:
    changes = Changes()
    async with _own_transaction(connection) as cursor:
        await _lock_hold(cursor, hold_id, patron_id)
        await replica.catch_up_with(cursor)
        request: dict = {"hold_id": hold_id, "pickup_branch": pickup_branch}
        if patron_id is not None:
            request["patron_id"] = patron_id
        await decide(replica.circulation, "decide_pickup_change", request)
        await cursor.execute("UPDATE hold SET pickup_service_point_id = %s WHERE id = %s AND status = 'waiting'",
                             [await branch_id(cursor, pickup_branch), hold_id])
        changes.add("hold", hold_id, {"item_id": None}, await hold_event(cursor, hold_id))
        await record_operation(cursor, actor, "hold.change_pickup", "hold", hold_id, {"pickup": pickup_branch})
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return {"hold_id": hold_id, "pickup_branch": pickup_branch}


async def expire_ready_holds(pool, replica, *, today: dt.date, now: dt.datetime) -> int:
    """Ready holds past their pickup date expire; each copy passes to the next in line. Returns how many.

    Each expiry is decided again under its locks, on state brought current: since the round's list was made,
    a desk may have trapped another copy for the next in line, or the hold may have ended elsewhere."""
    import anyio

    async def expiries_now() -> list[dict]:
        return msgspec.json.decode(await anyio.to_thread.run_sync(replica.circulation.expired_holds,
                                                                  today.isoformat()))

    count = 0
    for candidate in await expiries_now():
        changes = Changes()
        async with pool.connection() as connection:
            try:
                async with _own_transaction(connection) as cursor:
                    # One process does the work; the others skip what is being done.
                    await cursor.execute("SELECT pg_try_advisory_xact_lock(7310003, %s)", [candidate["hold_id"]])
                    if not (await cursor.fetchone())[0]:
                        continue
                    await _lock_hold(cursor, candidate["hold_id"])
                    await replica.catch_up_with(cursor)
                    expiry = next((now_due for now_due in await expiries_now()
                                   if now_due["hold_id"] == candidate["hold_id"]), None)
                    if expiry is None:
                        continue  # no longer ready past its date
                    where = await _pickup_point(cursor, expiry["hold_id"])
                    await cursor.execute("UPDATE hold SET status = 'expired', closed_at = %s WHERE id = %s "
                                         "AND status = 'ready' AND pickup_by < %s RETURNING id",
                                         [now, expiry["hold_id"], today])
                    if await cursor.fetchone() is None:
                        continue  # another process expired it already
                    changes.add("hold", expiry["hold_id"], {"item_id": expiry["item_id"]},
                                {"kind": "hold_closed", "hold_id": expiry["hold_id"]})
                    await pass_on(cursor, expiry["item_id"], where, expiry["next"], now, changes)
                    await record_operation(cursor, SYSTEM_ACTOR, "hold.expire", "hold", expiry["hold_id"],
                                           {"item_id": expiry["item_id"], "next": expiry["next"]["kind"]})
                    await changes.append_to_outbox(cursor)
            except Conflict:
                continue  # the hold ended meanwhile (another process expired it, say): the round goes on
        await changes.apply_here(replica)
        count += 1
    return count
