"""The counter: checkout, checkin and renewal, each one PostgreSQL transaction.

Every use case follows the same steps:
1. lock the rows the decision depends on, in one order everywhere (record, copy, patron) so that two desks
   never deadlock and two checkouts of one copy take turns;
2. wait until this process's engine has applied every change committed before the locks were taken, so the
   engine decides on current state (limits, blocks, hold queues); the changes this process made itself are
   applied already (step 5), so a desk waits only for other processes' changes its follower has not read yet;
3. ask the engine; a refusal rolls back and becomes a 404/409/422 with a Japanese message;
4. write the change, then the operation-log entry and the outbox events last, just before COMMIT: both appends
   take a lock every desk waits for, held until COMMIT;
5. after COMMIT, apply the same events here at once, so the next scan at this desk sees them.
The partial unique index on open loans remains the last guard: a second open loan cannot be committed.

Steps 1 and 4 are one message each (BEGIN with the locks and reads; the writes with COMMIT), of statements
prepared once per connection (counter_statements, shoka.db.batches), so that a scan costs two round trips.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from shoka.audit import Actor, operation_log_parameters
from shoka.circulation.counter_statements import COUNTER_STATEMENTS, OUTBOX_INSERT
from shoka.circulation.decisions import CirculationRefused, decide
from shoka.circulation.engine_state import HOLD_SELECT, hold_state
from shoka.db.batches import Step, run_batch
from shoka.errors import Conflict, NotFound


class ReleasedCopy(msgspec.Struct, frozen=True):
    """The copy that waited on the hold shelf for a hold a loan of another copy fulfilled, and where it goes:
    status as a checkin's (shelve | transit_home | hold_ready | hold_transit)."""

    item: str
    status: str
    hold: dict | None = None
    transit_to: str | None = None


class CheckoutResult(msgspec.Struct, frozen=True):
    loan_id: int
    due_date: dt.date
    item: str
    title: str
    patron: str
    fulfilled_hold: int | None
    warnings: list[str]
    released_copy: ReleasedCopy | None = None


class CheckinResult(msgspec.Struct, frozen=True):
    status: str  # shelve | transit_home | hold_ready | hold_transit
    item: str
    title: str
    branch: str
    hold: dict | None = None
    transit_to: str | None = None
    returned_loan: int | None = None
    warnings: list[str] = []


class RenewalResult(msgspec.Struct, frozen=True):
    loan_id: int
    due_date: dt.date
    item: str
    renewals: int


class Changes:
    """What one transaction changed: outbox entries, each with the engine event that applies it here."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int, dict, dict | None]] = []
        self._outbox_cursor: AsyncCursor | None = None

    def add(self, topic: str, entity_id: int, payload: dict, engine_event: dict | None) -> None:
        self.entries.append((topic, entity_id, payload, engine_event))

    def outbox_parameters(self) -> list:
        """The outbox INSERT's parameters. Each event carries its engine event (payload "engine"), so the other
        processes' followers apply it without reading the rows again (CirculationReplica.apply)."""
        return [Jsonb([{"topic": topic, "entity_id": entity_id,
                        "payload": payload if engine_event is None else {**payload, "engine": engine_event}}
                       for topic, entity_id, payload, engine_event in self.entries])]

    async def append_to_outbox(self, cursor: AsyncCursor) -> None:
        """The transaction's last statement: the outbox lock (and the operation log's) is held from here until
        COMMIT, and every desk waits for it. So its answer, the seqs, is read only after COMMIT (`apply_here`),
        and the caller commits right after it. (The counter's own use cases send it with the COMMIT in one
        message instead: `_write_and_commit`.)"""
        if not self.entries:
            return
        self._outbox_cursor = cursor.connection.cursor()  # its own: the caller's cursor may be closed by then
        await self._outbox_cursor.execute(OUTBOX_INSERT, self.outbox_parameters())

    async def apply_here(self, replica) -> None:
        """After COMMIT of `append_to_outbox`: see `apply_committed`."""
        if self._outbox_cursor is None:
            return
        seqs = [row[0] for row in await self._outbox_cursor.fetchall()]
        self._outbox_cursor = None
        self.apply_committed(replica, seqs)

    def apply_committed(self, replica, seqs: list[int]) -> None:
        """After COMMIT: applies the transaction's engine events to this process's replica at once, so the next
        scan at this desk sees them. Each event gets the seq of its own outbox event, so two changes of one copy
        in one transaction apply in order (identities follow the order of the appended array)."""
        replica.circulation_replica.apply_local([{**event, "seq": seq} for (_, _, _, event), seq
                                                 in zip(self.entries, sorted(seqs)) if event is not None])


class LockedItem(msgspec.Struct, frozen=True):
    item_id: int
    bib_id: int
    title: str
    ndc: str | None


def _locked_item(row: tuple | None, barcode: str) -> LockedItem:
    if row is None:
        raise NotFound(f"資料番号 {barcode} の資料は登録されていません。", code="unknown_item")
    return LockedItem(*row)


def _first(rows: list[tuple]) -> tuple | None:
    return rows[0] if rows else None


def _copy_steps(barcode: str, request_id: str | None) -> list[Step]:
    """The first statements of every counter transaction: the copy (and its record) locked, then the answer
    already given under `request_id`, if one was sent."""
    steps: list[Step] = [("counter_lock_copy", [barcode])]
    if request_id is not None:
        steps.append(("counter_earlier_answer", [request_id]))
    return steps


@contextlib.asynccontextmanager
async def counter_transaction(connection: AsyncConnection) -> AsyncIterator[None]:
    """The frame of one counter transaction on an idle connection: its batches (COUNTER_STATEMENTS) carry their
    own BEGIN and COMMIT, so the connection works in autocommit mode meanwhile (psycopg would otherwise send a
    BEGIN of its own first); whatever ends the block before COMMIT (a refusal, an error, a replayed answer)
    rolls the transaction back. Other statements in the block (rare paths: holds, transits) run in the
    transaction through ordinary cursors."""
    autocommit = connection.autocommit
    await connection.set_autocommit(True)
    await COUNTER_STATEMENTS.prepare_on(connection)
    try:
        yield
    finally:
        if not connection.closed:
            if connection.info.transaction_status != TransactionStatus.IDLE:
                await connection.rollback()
            await connection.set_autocommit(autocommit)


async def lock_copy(connection: AsyncConnection, replica, barcode: str, request_id: str | None,
                    operation: str) -> tuple[LockedItem, dict | None, list[tuple]]:
    """Opens the transaction and, in the same message, locks the copy, reads an earlier answer under
    `request_id` and the outbox events this replica may lack; returns (copy, earlier answer or None, position
    for bring_current)."""
    steps = _copy_steps(barcode, request_id) + [("counter_position", replica.position_query()[1])]
    rows = await run_batch(connection, steps, begin=True)
    item = _locked_item(_first(rows[0]), barcode)
    earlier = _earlier(_first(rows[1]), request_id, operation, barcode) if request_id is not None else None
    return item, earlier, rows[-1]


async def refuse_unknown_card(cursor: AsyncCursor, card: str) -> None:
    """A card that is not a patron's: replaced (refused with the reason) or unknown."""
    await cursor.execute("SELECT 1 FROM patron_card_history WHERE card = %s", [card])
    if await cursor.fetchone():
        raise CirculationRefused({"code": "card_replaced", "message_ja":
                                  "この利用カードは再発行により無効です。新しいカードをお使いください。",
                                  "message_en": "This card was replaced; use the new card."})
    raise NotFound(f"利用者番号 {card} の利用者は登録されていません。", code="unknown_patron")


_branch_ids: dict[str, int] = {}


async def branch_id(cursor: AsyncCursor, code: str) -> int:
    """A service point's id; codes never change meaning, so the answer is kept for the process's life."""
    if code not in _branch_ids:
        await cursor.execute("SELECT id FROM service_point WHERE code = %s", [code])
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"unknown branch {code!r}", code="unknown_branch")
        _branch_ids[code] = row[0]
    return _branch_ids[code]


def _earlier(row: tuple | None, request_id: str, operation: str, barcode: str,
             card: str | None = None) -> dict | None:
    """The stored answer of a request already carried out under this id; an id reused for another operation,
    another copy or (for a checkout) another patron is refused rather than answered with an unrelated result,
    which would also show one patron's card and loan at another patron's desk."""
    if row is None:
        return None
    if row[0] != operation or row[1].get("item") != barcode or (card is not None and row[1].get("patron") != card):
        raise Conflict(f"request_id {request_id} was already used for {row[0]} of another request",
                       code="request_id_reused")
    return row[1]


def _warnings(decision: dict) -> list[str]:
    return [warning.get("message_ja", "") for warning in decision.get("warnings", [])]


class CheckoutParties(msgspec.Struct, frozen=True):
    """What a checkout reads under its locks, in one round trip."""

    item: LockedItem
    earlier_answer: dict | None
    patron_id: int
    category: str
    age_band: str
    position: list[tuple]  # outbox events this replica may lack (bring_current)
    branch_point: int
    loan_id: int  # taken from the sequence now, so the writes need no answer before COMMIT


async def lock_checkout_parties(connection: AsyncConnection, replica, *, barcode: str, card: str, branch: str,
                                request_id: str | None) -> CheckoutParties:
    """Opens the transaction and, in the same message, takes the locks and reads of a checkout. They execute in
    the one lock order (record, copy, patron); a read that finds nothing raises afterwards."""
    steps = _copy_steps(barcode, request_id) + [
        ("counter_lock_patron", [card]), ("counter_position", replica.position_query()[1]),
        ("counter_checkout_ids", [branch])]
    rows = await run_batch(connection, steps, begin=True)
    item = _locked_item(_first(rows[0]), barcode)
    earlier = _earlier(_first(rows[1]), request_id, "checkout", barcode, card) if request_id is not None else None
    patron, position = _first(rows[-3]), rows[-2]
    branch_point, loan_id = rows[-1][0]
    if earlier is None and patron is None:
        await refuse_unknown_card(connection.cursor(), card)
    if branch_point is None:
        raise NotFound(f"unknown branch {branch!r}", code="unknown_branch")
    patron_id, category, age_band, _keeps = patron or (0, "", "", False)
    return CheckoutParties(item=item, earlier_answer=earlier, patron_id=patron_id, category=category,
                           age_band=age_band, position=position, branch_point=branch_point,
                           loan_id=loan_id)


@contextlib.asynccontextmanager
async def _last_guards_answered():
    """The database's last guards answer 409 like the engine would: the partial unique index on open loans
    (one copy lent twice), and the key of remembered answers (one request id sent with two different requests
    at the same moment, which the copy locks do not order when the copies differ). The violation surfaces with
    the message that carries the writes and COMMIT, after the transaction's frame has rolled back, so this
    wraps the frame."""
    try:
        yield
    except errors.UniqueViolation as violation:
        if violation.diag.constraint_name == "loan_one_open_per_item":
            raise Conflict("この資料はすでに貸出中です。", code="already_on_loan") from None
        if violation.diag.constraint_name == "idempotent_request_pkey":
            raise Conflict("この request_id は別の処理に使われています。", code="request_id_reused") from None
        raise


async def _write_and_commit(connection: AsyncConnection, replica, writes: list[Step], changes: Changes, *,
                            request_id: str | None, operation: str, answer: msgspec.Struct, actor: Actor,
                            action: str, entity: str, entity_id: object, detail: dict) -> None:
    """Sends the writes, the answer kept under `request_id`, the operation-log entry and the outbox events with
    COMMIT in one message, then applies the events here. The two appends that every desk waits for come last,
    so their locks are held for the shortest time."""
    steps = list(writes)
    if request_id is not None:
        steps.append(("counter_remember_answer", [request_id, operation, Jsonb(msgspec.to_builtins(answer))]))
    steps.append(("counter_log", operation_log_parameters(actor, action, entity, entity_id, detail)))
    if changes.entries:
        steps.append(("counter_outbox", changes.outbox_parameters()))
    rows = await run_batch(connection, steps, commit=True)
    if changes.entries:
        changes.apply_committed(replica, [row[0] for row in rows[-1]])


async def checkout(connection: AsyncConnection, replica, *, card: str, barcode: str, branch: str, today: dt.date,
                   now: dt.datetime, actor: Actor, staff_override: bool = False, staffed: bool = True,
                   request_id: str | None = None) -> CheckoutResult:
    """The busiest use case: two messages, the locks and reads, then the writes with COMMIT. `staffed`: lent
    at a counter, where someone can take a copy off the hold shelf (not at a self-check kiosk)."""
    engine = replica.circulation
    changes = Changes()
    async with _last_guards_answered(), counter_transaction(connection):
        parties = await lock_checkout_parties(connection, replica, barcode=barcode, card=card, branch=branch,
                                              request_id=request_id)
        if parties.earlier_answer is not None:
            return msgspec.convert(parties.earlier_answer, CheckoutResult)
        item, patron_id, loan_id = parties.item, parties.patron_id, parties.loan_id
        await replica.bring_current(parties.position)
        decision = await decide(engine, "decide_checkout", {
            "patron_id": patron_id, "item_id": item.item_id, "branch": branch, "today": today.isoformat(),
            "staff_override": staff_override, "staffed": staffed})
        ndc = item.ndc
        writes: list[Step] = [("counter_open_loan", [
            loan_id, item.item_id, patron_id, parties.branch_point, now, decision["due_on"], parties.category,
            parties.age_band, decision["material_type"], ndc[:3] if ndc else None])]
        if decision.get("closes_transit"):
            await _close_transit(connection.cursor(), item.item_id, now, changes)
        changes.add("loan", loan_id, {"item_id": item.item_id}, {
            "kind": "loan_opened", "loan_id": loan_id, "item_id": item.item_id, "patron_id": patron_id,
            "branch": branch, "due_on": decision["due_on"], "renewals": 0})
        fulfilled, released = decision.get("fulfils_hold"), decision.get("releases_copy")
        released_copy = None
        if fulfilled is not None:
            changes.add("hold", fulfilled, {"item_id": item.item_id}, {"kind": "hold_closed", "hold_id": fulfilled})
            if released is None:
                writes.append(("counter_fulfil_hold", [now, fulfilled]))
            else:
                # The copy set aside for the hold passes on now, and the database allows one hold per set-aside
                # copy: the hold is closed first. The copy's record is the one locked already, which orders
                # every change to the title's holds and copies.
                await run_batch(connection, [("counter_fulfil_hold", [now, fulfilled])])
                hold, transit_to = await pass_on(connection.cursor(), released["item_id"],
                                                 (parties.branch_point, branch), released["next"], now, changes)
                released_copy = ReleasedCopy(item=released["barcode"], status=released["next"]["kind"], hold=hold,
                                             transit_to=transit_to)
        result = CheckoutResult(loan_id=loan_id, due_date=dt.date.fromisoformat(decision["due_on"]), item=barcode,
                                title=item.title, patron=card, fulfilled_hold=fulfilled, warnings=_warnings(decision),
                                released_copy=released_copy)
        await _write_and_commit(
            connection, replica, writes, changes, request_id=request_id, operation="checkout", answer=result,
            actor=actor, action="circulation.checkout", entity="loan", entity_id=loan_id,
            detail={"item": barcode, "patron_id": patron_id, "branch": branch, "due_on": decision["due_on"],
                    "fulfils_hold": fulfilled, "override": staff_override,
                    **({"released_item": released_copy.item} if released_copy else {})})
    return result


async def renew(connection: AsyncConnection, replica, *, barcode: str, branch: str, today: dt.date,
                now: dt.datetime, actor: Actor, patron_id: int | None = None,
                request_id: str | None = None) -> RenewalResult:
    engine = replica.circulation
    changes = Changes()
    async with _last_guards_answered(), counter_transaction(connection):
        item, answer, position = await lock_copy(connection, replica, barcode, request_id, "renew")
        if answer is not None:
            return msgspec.convert(answer, RenewalResult)
        item_id = item.item_id
        await replica.bring_current(position)
        request: dict = {"item_id": item_id, "branch": branch, "today": today.isoformat()}
        if patron_id is not None:
            request["patron_id"] = patron_id
        decision = await decide(engine, "decide_renewal", request)
        # The event needs the loan's branch, which only the UPDATE returns: a message of its own.
        renewed = await run_batch(connection, [("counter_renew_loan", [decision["due_on"], decision["renewals"],
                                                                       decision["loan_id"]])])
        if not renewed[0]:
            raise Conflict("この資料は貸出中ではありません。", code="not_on_loan")
        changes.add("loan", decision["loan_id"], {"item_id": item_id}, {
            "kind": "loan_opened", "loan_id": decision["loan_id"], "item_id": item_id,
            "patron_id": decision["patron_id"], "branch": renewed[0][0][0], "due_on": decision["due_on"],
            "renewals": decision["renewals"]})
        result = RenewalResult(loan_id=decision["loan_id"], due_date=dt.date.fromisoformat(decision["due_on"]),
                               item=barcode, renewals=decision["renewals"])
        await _write_and_commit(
            connection, replica, [], changes, request_id=request_id, operation="renew", answer=result, actor=actor,
            action="circulation.renew", entity="loan", entity_id=decision["loan_id"],
            detail={"item": barcode, "due_on": decision["due_on"], "renewals": decision["renewals"]})
    return result


async def checkin(connection: AsyncConnection, replica, *, barcode: str, branch: str, today: dt.date,
                  now: dt.datetime, actor: Actor, request_id: str | None = None) -> CheckinResult:
    """Two messages, as a checkout; a copy that someone waits for or that ends a transit adds a few statements
    in between (carry_out)."""
    engine = replica.circulation
    changes = Changes()
    async with _last_guards_answered(), counter_transaction(connection):
        item, answer, position = await lock_copy(connection, replica, barcode, request_id, "checkin")
        if answer is not None:
            return msgspec.convert(answer, CheckinResult)
        item_id, title = item.item_id, item.title
        await replica.bring_current(position)
        decision = await decide(engine, "decide_checkin", {"item_id": item_id, "branch": branch,
                                                           "today": today.isoformat()})
        cursor = connection.cursor()
        branch_point = await branch_id(cursor, branch)
        writes: list[Step] = []
        loan_id = decision.get("closes_loan")
        if loan_id is not None:
            writes.append(("counter_close_loan", [now, branch_point, loan_id]))
            changes.add("loan", loan_id, {"item_id": item_id},
                        {"kind": "loan_closed", "loan_id": loan_id, "item_id": item_id})
        if decision.get("closes_transit"):
            await _close_transit(cursor, item_id, now, changes)
        outcome = decision["outcome"]
        hold, transit_to = await carry_out(cursor, outcome, item_id, branch, branch_point, now, changes)
        result = CheckinResult(status=outcome["kind"], item=barcode, title=title, branch=branch, hold=hold,
                               transit_to=transit_to, returned_loan=loan_id, warnings=_warnings(decision))
        await _write_and_commit(
            connection, replica, writes, changes, request_id=request_id, operation="checkin", answer=result,
            actor=actor, action="circulation.checkin", entity="item", entity_id=item_id,
            detail={"item": barcode, "branch": branch, "loan_id": loan_id, "outcome": outcome["kind"],
                    "hold_id": (hold or {}).get("hold_id")})
    return result


async def carry_out(cursor: AsyncCursor, outcome: dict, item_id: int, branch: str, branch_point: int,
                    now: dt.datetime, changes: Changes) -> tuple[dict | None, str | None]:
    """Writes what a returned or released copy leads to: shelve, go home, or be set aside for a hold."""
    kind = outcome["kind"]
    if kind == "shelve":
        return None, None
    if kind == "transit_home":
        await _open_transit(cursor, item_id, branch_point, outcome["to_branch"], "return_home", None, now, changes)
        return None, outcome["to_branch"]
    hold_id = outcome["hold_id"]
    if kind == "hold_ready":
        await cursor.execute(
            "UPDATE hold SET status = 'ready', trapped_item_id = %s, ready_at = %s, pickup_by = %s WHERE id = %s "
            "RETURNING patron_id", [item_id, now, outcome["pickup_by"], hold_id])
        patron_id = (await cursor.fetchone())[0]
        changes.add("hold", hold_id, {"item_id": item_id}, await hold_event(cursor, hold_id))
        return {"hold_id": hold_id, "patron_id": patron_id, "pickup_branch": branch,
                "pickup_by": outcome["pickup_by"]}, None
    await cursor.execute("UPDATE hold SET status = 'in_transit', trapped_item_id = %s WHERE id = %s RETURNING patron_id",
                         [item_id, hold_id])
    patron_id = (await cursor.fetchone())[0]
    changes.add("hold", hold_id, {"item_id": item_id}, await hold_event(cursor, hold_id))
    await _open_transit(cursor, item_id, branch_point, outcome["to_branch"], "hold", hold_id, now, changes)
    return {"hold_id": hold_id, "patron_id": patron_id, "pickup_branch": outcome["to_branch"]}, outcome["to_branch"]


async def pass_on(cursor: AsyncCursor, item_id: int, where: tuple[int, str], next_outcome: dict, now: dt.datetime,
                  changes: Changes) -> tuple[dict | None, str | None]:
    """A released copy, at (or on its way to) the released hold's pickup branch `where` (service point id,
    code): its open transit ends there and the copy goes where the engine says (carry_out's answer)."""
    where_point, where_code = where
    await _close_transit(cursor, item_id, now, changes)
    return await carry_out(cursor, next_outcome, item_id, where_code, where_point, now, changes)


async def _close_transit(cursor: AsyncCursor, item_id: int, now: dt.datetime, changes: Changes) -> None:
    await cursor.execute("UPDATE transit SET received_at = %s WHERE item_id = %s AND received_at IS NULL RETURNING id",
                         [now, item_id])
    for (transit_id,) in await cursor.fetchall():
        changes.add("transit", transit_id, {"item_id": item_id}, {"kind": "transit_closed", "item_id": item_id})


async def _open_transit(cursor: AsyncCursor, item_id: int, from_point: int, to_branch: str, reason: str,
                        hold_id: int | None, now: dt.datetime, changes: Changes) -> None:
    to_point = await branch_id(cursor, to_branch)
    await cursor.execute(
        """INSERT INTO transit (item_id, from_service_point_id, to_service_point_id, reason, hold_id, sent_at)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""", [item_id, from_point, to_point, reason, hold_id, now])
    transit_id = (await cursor.fetchone())[0]
    changes.add("transit", transit_id, {"item_id": item_id},
                {"kind": "transit_opened", "item_id": item_id, "to_branch": to_branch, "for_hold": hold_id})


async def hold_event(cursor: AsyncCursor, hold_id: int) -> dict:
    await cursor.execute(HOLD_SELECT + " WHERE h.id = %s", [hold_id])
    return {"kind": "hold_upserted", **hold_state(await cursor.fetchone())}
