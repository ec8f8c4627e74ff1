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
"""

from __future__ import annotations

import contextlib
import datetime as dt

import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors
from psycopg.types.json import Jsonb

from shoka.audit import Actor, record_operation
from shoka.circulation.decisions import CirculationRefused, decide
from shoka.circulation.engine_state import HOLD_SELECT, hold_state
from shoka.errors import Conflict, NotFound


class CheckoutResult(msgspec.Struct, frozen=True):
    loan_id: int
    due_date: dt.date
    item: str
    title: str
    patron: str
    fulfilled_hold: int | None
    warnings: list[str]


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

    async def append_to_outbox(self, cursor: AsyncCursor) -> None:
        """The transaction's last statement: the outbox lock (and the operation log's) is held from here until
        COMMIT, and every desk waits for it. So its answer, the seqs, is read only after COMMIT (`apply_here`):
        in pipeline mode the INSERT and the COMMIT then travel together, and the lock is never held across a
        round trip to this process, whose event loop may be busy with other requests.

        Each event carries its engine event (payload "engine"), so the other processes' followers apply it
        without reading the rows again (CirculationReplica.apply)."""
        if not self.entries:
            return
        self._outbox_cursor = cursor.connection.cursor()  # its own: the caller's cursor may be closed by then
        await self._outbox_cursor.execute(
            "INSERT INTO outbox_event (topic, entity_id, payload) "
            "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::jsonb[]) RETURNING seq",
            [[entry[0] for entry in self.entries], [entry[1] for entry in self.entries],
             [Jsonb(payload if engine_event is None else {**payload, "engine": engine_event})
              for _, _, payload, engine_event in self.entries]])

    async def apply_here(self, replica) -> None:
        """After COMMIT: applies the transaction's engine events to this process's replica at once, so the next
        scan at this desk sees them. Each event gets the seq of its own outbox event, so two changes of one copy
        in one transaction apply in order."""
        if self._outbox_cursor is None:
            return
        seqs = sorted(row[0] for row in await self._outbox_cursor.fetchall())  # identities follow the unnest order
        self._outbox_cursor = None
        replica.circulation_replica.apply_local([{**event, "seq": seq} for (_, _, _, event), seq
                                                 in zip(self.entries, seqs) if event is not None])


class LockedItem(msgspec.Struct, frozen=True):
    item_id: int
    bib_id: int
    title: str
    ndc: str | None


_LOCK_ITEM = """SELECT i.id, b.id, b.title, b.ndc FROM bib b JOIN item i ON i.bib_id = b.id WHERE i.barcode = %s
                FOR NO KEY UPDATE OF b FOR UPDATE OF i"""
_LOCK_PATRON = "SELECT id, category, age_band, keeps_reading_record FROM patron WHERE card = %s FOR UPDATE"
_EARLIER_ANSWER = "SELECT operation, response FROM idempotent_request WHERE request_id = %s"


def _locked_item(row: tuple | None, barcode: str) -> LockedItem:
    if row is None:
        raise NotFound(f"資料番号 {barcode} の資料は登録されていません。", code="unknown_item")
    return LockedItem(*row)


async def lock_copy(connection: AsyncConnection, replica, barcode: str, request_id: str | None,
                    operation: str) -> tuple[LockedItem, dict | None, list[int]]:
    """The copy locked, an earlier answer under `request_id`, and the outbox events this replica may lack, in one
    round trip (pipeline mode); returns (copy, earlier answer or None, committed seqs for wait_until_current)."""
    item_cursor, answer_cursor, position_cursor = (connection.cursor() for _ in range(3))
    await item_cursor.execute(_LOCK_ITEM, [barcode])
    if request_id is not None:
        await answer_cursor.execute(_EARLIER_ANSWER, [request_id])
    await position_cursor.execute(*replica.position_query())
    item = _locked_item(await item_cursor.fetchone(), barcode)
    earlier = _earlier(await answer_cursor.fetchone(), request_id, operation, barcode) if request_id is not None else None
    return item, earlier, (await position_cursor.fetchone())[0]


async def _refuse_unknown_card(cursor: AsyncCursor, card: str) -> None:
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


def _earlier(row: tuple | None, request_id: str, operation: str, barcode: str) -> dict | None:
    """The stored answer of a request already carried out under this id; an id reused for another operation
    or another copy is refused rather than answered with an unrelated result."""
    if row is None:
        return None
    if row[0] != operation or row[1].get("item") != barcode:
        raise Conflict(f"request_id {request_id} was already used for {row[0]} of another request",
                       code="request_id_reused")
    return row[1]


async def remember_answer(cursor: AsyncCursor, request_id: str | None, operation: str, answer: msgspec.Struct) -> None:
    if request_id is not None:
        await cursor.execute("INSERT INTO idempotent_request (request_id, operation, response) VALUES (%s, %s, %s)",
                             [request_id, operation, Jsonb(msgspec.to_builtins(answer))])


def _warnings(decision: dict) -> list[str]:
    return [warning.get("message_ja", "") for warning in decision.get("warnings", [])]


class CheckoutParties(msgspec.Struct, frozen=True):
    """What a checkout reads under its locks, in one round trip."""

    item: LockedItem
    earlier_answer: dict | None
    patron_id: int
    category: str
    age_band: str
    committed_seqs: list[int]  # outbox events this replica may lack (wait_until_current)
    branch_point: int
    loan_id: int  # taken from the sequence now, so the writes need no answer before COMMIT


async def lock_checkout_parties(connection: AsyncConnection, replica, *, barcode: str, card: str, branch: str,
                                request_id: str | None) -> CheckoutParties:
    """Sends the locks and reads of a checkout together (pipeline mode: one round trip instead of five). They
    still execute in the one lock order (record, copy, patron); a read that finds nothing raises afterwards."""
    item_cursor, answer_cursor, patron_cursor, position_cursor = (connection.cursor() for _ in range(4))
    await item_cursor.execute(_LOCK_ITEM, [barcode])
    if request_id is not None:
        await answer_cursor.execute(_EARLIER_ANSWER, [request_id])
    await patron_cursor.execute(_LOCK_PATRON, [card])
    position_sql, position_params = replica.position_query()
    await position_cursor.execute(
        f"""SELECT ({position_sql}), (SELECT id FROM service_point WHERE code = %s),
                   nextval(pg_get_serial_sequence('loan', 'id'))""", [*position_params, branch])
    item = _locked_item(await item_cursor.fetchone(), barcode)
    earlier = _earlier(await answer_cursor.fetchone(), request_id, "checkout", barcode) if request_id is not None else None
    patron = await patron_cursor.fetchone()
    committed_seqs, branch_point, loan_id = await position_cursor.fetchone()
    if earlier is None and patron is None:
        await _refuse_unknown_card(patron_cursor, card)
    if branch_point is None:
        raise NotFound(f"unknown branch {branch!r}", code="unknown_branch")
    patron_id, category, age_band, _keeps = patron or (0, "", "", False)
    return CheckoutParties(item=item, earlier_answer=earlier, patron_id=patron_id, category=category,
                           age_band=age_band, committed_seqs=committed_seqs, branch_point=branch_point,
                           loan_id=loan_id)


@contextlib.asynccontextmanager
async def _second_open_loan_refused():
    """The last guard against lending one copy twice, the partial unique index on open loans, answers 409 like the
    engine would. In pipeline mode the violation surfaces at COMMIT, so this wraps the whole transaction."""
    try:
        yield
    except errors.UniqueViolation as violation:
        if violation.diag.constraint_name != "loan_one_open_per_item":
            raise
        raise Conflict("この資料はすでに貸出中です。", code="already_on_loan") from None


async def checkout(connection: AsyncConnection, replica, *, card: str, barcode: str, branch: str, today: dt.date,
                   now: dt.datetime, actor: Actor, staff_override: bool = False,
                   request_id: str | None = None) -> CheckoutResult:
    """The busiest use case, so its statements travel in two round trips: the locks and reads, then the
    writes (ending with the outbox) together with COMMIT."""
    engine = replica.circulation
    changes = Changes()
    async with _second_open_loan_refused(), connection.pipeline(), connection.transaction():
        parties = await lock_checkout_parties(connection, replica, barcode=barcode, card=card, branch=branch,
                                              request_id=request_id)
        if parties.earlier_answer is not None:
            return msgspec.convert(parties.earlier_answer, CheckoutResult)
        item, patron_id, loan_id = parties.item, parties.patron_id, parties.loan_id
        await replica.wait_until_current(parties.committed_seqs)
        decision = await decide(engine, "decide_checkout", {
            "patron_id": patron_id, "item_id": item.item_id, "branch": branch, "today": today.isoformat(),
            "staff_override": staff_override})
        ndc = item.ndc
        loan_cursor, hold_cursor, log_cursor, answer_cursor, outbox_cursor = (connection.cursor() for _ in range(5))
        await loan_cursor.execute(
            """INSERT INTO loan (id, item_id, patron_id, service_point_id, checked_out_at, due_on, patron_category,
                                 patron_age_band, material_type, ndc_class)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [loan_id, item.item_id, patron_id, parties.branch_point, now, decision["due_on"], parties.category,
             parties.age_band, decision["material_type"], ndc[:3] if ndc else None])
        if decision.get("closes_transit"):
            await _close_transit(hold_cursor, item.item_id, now, changes)
        changes.add("loan", loan_id, {"item_id": item.item_id}, {
            "kind": "loan_opened", "loan_id": loan_id, "item_id": item.item_id, "patron_id": patron_id,
            "branch": branch, "due_on": decision["due_on"], "renewals": 0})
        fulfilled = decision.get("fulfils_hold")
        if fulfilled is not None:
            await hold_cursor.execute("UPDATE hold SET status = 'fulfilled', closed_at = %s WHERE id = %s",
                                      [now, fulfilled])
            changes.add("hold", fulfilled, {"item_id": item.item_id}, {"kind": "hold_closed", "hold_id": fulfilled})
        result = CheckoutResult(loan_id=loan_id, due_date=dt.date.fromisoformat(decision["due_on"]), item=barcode,
                                title=item.title, patron=card, fulfilled_hold=fulfilled, warnings=_warnings(decision))
        await remember_answer(answer_cursor, request_id, "checkout", result)
        await record_operation(log_cursor, actor, "circulation.checkout", "loan", loan_id,
                               {"item": barcode, "patron_id": patron_id, "branch": branch, "due_on": decision["due_on"],
                                "fulfils_hold": fulfilled, "override": staff_override})
        await changes.append_to_outbox(outbox_cursor)
    await changes.apply_here(replica)
    return result


async def renew(connection: AsyncConnection, replica, *, barcode: str, branch: str, today: dt.date,
                now: dt.datetime, actor: Actor, patron_id: int | None = None,
                request_id: str | None = None) -> RenewalResult:
    engine = replica.circulation
    changes = Changes()
    async with connection.pipeline(), connection.transaction(), connection.cursor() as cursor:
        item, answer, committed_seqs = await lock_copy(connection, replica, barcode, request_id, "renew")
        if answer is not None:
            return msgspec.convert(answer, RenewalResult)
        item_id = item.item_id
        await replica.wait_until_current(committed_seqs)
        request: dict = {"item_id": item_id, "branch": branch, "today": today.isoformat()}
        if patron_id is not None:
            request["patron_id"] = patron_id
        decision = await decide(engine, "decide_renewal", request)
        await cursor.execute(
            """UPDATE loan l SET due_on = %s, renewals = %s FROM service_point sp
               WHERE l.id = %s AND l.returned_at IS NULL AND sp.id = l.service_point_id RETURNING sp.code""",
            [decision["due_on"], decision["renewals"], decision["loan_id"]])
        row = await cursor.fetchone()
        if row is None:
            raise Conflict("この資料は貸出中ではありません。", code="not_on_loan")
        changes.add("loan", decision["loan_id"], {"item_id": item_id}, {
            "kind": "loan_opened", "loan_id": decision["loan_id"], "item_id": item_id,
            "patron_id": decision["patron_id"], "branch": row[0], "due_on": decision["due_on"],
            "renewals": decision["renewals"]})
        result = RenewalResult(loan_id=decision["loan_id"], due_date=dt.date.fromisoformat(decision["due_on"]),
                               item=barcode, renewals=decision["renewals"])
        await remember_answer(cursor, request_id, "renew", result)
        await record_operation(cursor, actor, "circulation.renew", "loan", decision["loan_id"],
                               {"item": barcode, "due_on": decision["due_on"], "renewals": decision["renewals"]})
        await changes.append_to_outbox(connection.cursor())
    await changes.apply_here(replica)
    return result


async def checkin(connection: AsyncConnection, replica, *, barcode: str, branch: str, today: dt.date,
                  now: dt.datetime, actor: Actor, request_id: str | None = None) -> CheckinResult:
    engine = replica.circulation
    changes = Changes()
    async with connection.pipeline(), connection.transaction(), connection.cursor() as cursor:
        item, answer, committed_seqs = await lock_copy(connection, replica, barcode, request_id, "checkin")
        if answer is not None:
            return msgspec.convert(answer, CheckinResult)
        item_id, title = item.item_id, item.title
        await replica.wait_until_current(committed_seqs)
        decision = await decide(engine, "decide_checkin", {"item_id": item_id, "branch": branch,
                                                           "today": today.isoformat()})
        branch_point = await branch_id(cursor, branch)
        loan_id = decision.get("closes_loan")
        if loan_id is not None:
            # The link to the borrower is cut on return unless they keep a reading record (読書記録).
            await cursor.execute(
                """UPDATE loan l SET returned_at = %s, return_service_point_id = %s,
                          patron_id = CASE WHEN p.keeps_reading_record THEN l.patron_id END
                   FROM patron p WHERE l.id = %s AND p.id = l.patron_id AND l.returned_at IS NULL""",
                [now, branch_point, loan_id])
            changes.add("loan", loan_id, {"item_id": item_id},
                        {"kind": "loan_closed", "loan_id": loan_id, "item_id": item_id})
        if decision.get("closes_transit"):
            await _close_transit(connection.cursor(), item_id, now, changes)
        outcome = decision["outcome"]
        hold, transit_to = await carry_out(connection.cursor(), outcome, item_id, branch, branch_point, now, changes)
        result = CheckinResult(status=outcome["kind"], item=barcode, title=title, branch=branch, hold=hold,
                               transit_to=transit_to, returned_loan=loan_id, warnings=_warnings(decision))
        await remember_answer(cursor, request_id, "checkin", result)
        await record_operation(cursor, actor, "circulation.checkin", "item", item_id,
                               {"item": barcode, "branch": branch, "loan_id": loan_id, "outcome": outcome["kind"],
                                "hold_id": (hold or {}).get("hold_id")})
        await changes.append_to_outbox(connection.cursor())
    await changes.apply_here(replica)
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
