"""The counter API (CONTRACT.md): checkout, checkin, renew, holds, items, a patron's loans, pick lists and
overdue lists. Staff roles are enforced per route; counter staff work only at their branches."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from shoka.audit import record_operation
from shoka.auth.guards import provide_staff, requires_roles
from shoka.auth.roles import CIRCULATION_ROLES
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.circulation import desk, holds
from shoka.circulation.decisions import CirculationRefused
from shoka.clock import library_today, utc_now
from shoka.errors import Forbidden, NotFound

STAFF = {"staff": Provide(provide_staff, sync_to_thread=False)}
CIRCULATION_GUARD = [requires_roles(CIRCULATION_ROLES)]
Barcode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")]
BranchCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]*$")]


RequestId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$",
                                        description="idempotency key: a retry with the same id gets the same answer")]


class CheckoutRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    patron: Barcode
    item: Barcode
    branch: BranchCode | None = None
    override: bool = False
    request_id: RequestId | None = None


class ItemRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item: Barcode
    branch: BranchCode | None = None
    request_id: RequestId | None = None


class HoldRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    patron: Barcode
    bib_id: Annotated[int, msgspec.Meta(ge=1)]
    pickup_branch: BranchCode
    item: Barcode | None = None


class PickupChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pickup_branch: BranchCode


async def default_branch(request: Request, staff: StaffPrincipal, requested: str | None) -> str:
    """The branch a staff request acts at: the one asked for (if the account may work there), the account's
    own branch, or the library's first service point."""
    if requested is not None:
        if not staff.may_work_at(requested):
            raise Forbidden(f"このアカウントは {requested} では業務できません。", code="branch_not_allowed")
        return requested
    if staff.branch_codes:
        return staff.branch_codes[0]
    async with request.app.state.pools.staff.connection() as connection:
        row = await (await connection.execute("SELECT code FROM service_point ORDER BY sort_order, id LIMIT 1")).fetchone()
    if row is None:
        raise NotFound("no service point is configured", code="no_branch")
    return row[0]


def source(request: Request) -> str:
    return request.client.host if request.client else ""


def actor_of(request: Request, staff: StaffPrincipal):
    return msgspec.structs.replace(staff.actor, source_address=source(request))


@post("/api/v1/circulation/checkout", status_code=201, tags=["circulation"], guards=CIRCULATION_GUARD,
      dependencies=STAFF, summary="Lend a copy to a patron")
async def checkout(request: Request, data: CheckoutRequest, staff: StaffPrincipal) -> desk.CheckoutResult:
    branch = await default_branch(request, staff, data.branch)
    async with request.app.state.pools.staff.connection() as connection:
        return await desk.checkout(connection, request.app.state.engine, card=data.patron, barcode=data.item,
                                   branch=branch, today=library_today(), now=utc_now(),
                                   actor=actor_of(request, staff), staff_override=data.override,
                                   request_id=data.request_id)


@post("/api/v1/circulation/checkin", status_code=200, tags=["circulation"], guards=CIRCULATION_GUARD,
      dependencies=STAFF, summary="Return a copy (any branch): shelve, send home, or trap for a hold")
async def checkin(request: Request, data: ItemRequest, staff: StaffPrincipal) -> desk.CheckinResult:
    branch = await default_branch(request, staff, data.branch)
    async with request.app.state.pools.staff.connection() as connection:
        return await desk.checkin(connection, request.app.state.engine, barcode=data.item, branch=branch,
                                  today=library_today(), now=utc_now(), actor=actor_of(request, staff),
                                  request_id=data.request_id)


@post("/api/v1/circulation/renew", status_code=200, tags=["circulation"], guards=CIRCULATION_GUARD,
      dependencies=STAFF, summary="Renew a loan")
async def renew(request: Request, data: ItemRequest, staff: StaffPrincipal) -> desk.RenewalResult:
    branch = await default_branch(request, staff, data.branch)
    async with request.app.state.pools.staff.connection() as connection:
        return await desk.renew(connection, request.app.state.engine, barcode=data.item, branch=branch,
                                today=library_today(), now=utc_now(), actor=actor_of(request, staff),
                                request_id=data.request_id)


@post("/api/v1/holds", status_code=201, tags=["holds"], guards=CIRCULATION_GUARD, dependencies=STAFF,
      summary="Place a hold (予約) for a patron")
async def place_hold(request: Request, data: HoldRequest, staff: StaffPrincipal) -> holds.HoldPlaced:
    item_id = None
    async with request.app.state.pools.staff.connection() as connection:
        if data.item is not None:
            async with connection.transaction():  # ended here: place_hold's transaction must be its own
                row = await (await connection.execute("SELECT id FROM item WHERE barcode = %s",
                                                      [data.item])).fetchone()
            if row is None:
                raise NotFound(f"資料番号 {data.item} の資料は登録されていません。", code="unknown_item")
            item_id = row[0]
        return await holds.place_hold(connection, request.app.state.engine, bib_id=data.bib_id, card=data.patron,
                                      item_id=item_id, pickup_branch=data.pickup_branch, today=library_today(),
                                      now=utc_now(), actor=actor_of(request, staff), via="desk")


@delete("/api/v1/holds/{hold_id:int}", status_code=200, tags=["holds"], guards=CIRCULATION_GUARD, dependencies=STAFF,
        summary="Cancel a hold")
async def cancel_hold(request: Request, hold_id: int, staff: StaffPrincipal) -> dict[str, Any]:
    async with request.app.state.pools.staff.connection() as connection:
        return await holds.cancel_hold(connection, request.app.state.engine, hold_id=hold_id, today=library_today(),
                                       now=utc_now(), actor=actor_of(request, staff), reason="staff")


@patch("/api/v1/holds/{hold_id:int}", status_code=200, tags=["holds"], guards=CIRCULATION_GUARD, dependencies=STAFF,
       summary="Change a waiting hold's pickup branch")
async def change_pickup(request: Request, hold_id: int, data: PickupChange, staff: StaffPrincipal) -> dict[str, Any]:
    async with request.app.state.pools.staff.connection() as connection:
        return await holds.change_pickup(connection, request.app.state.engine, hold_id=hold_id,
                                         pickup_branch=data.pickup_branch, actor=actor_of(request, staff))


async def _engine_view(request: Request, method: str, argument: Any) -> Any:
    """An engine read that includes every change committed before the request: another worker may have just
    made the change, and a counter screen reads right after it writes."""
    replica = request.app.state.engine
    async with request.app.state.pools.staff.connection() as connection:
        position = await (await connection.execute(*replica.position_query())).fetchall()
    await replica.bring_current(position)
    engine = request.app.state.engine.circulation
    raw = await anyio.to_thread.run_sync(getattr(engine, method), argument)
    answer = msgspec.json.decode(raw)
    if isinstance(answer, dict) and "ok" in answer:
        if not answer["ok"]:
            raise CirculationRefused(answer["refusal"])
        return answer["decision"]
    return answer


class ItemStatus(msgspec.Struct, frozen=True):
    barcode: str
    bib_id: int
    title: str
    branch: str
    status: str
    label: str
    due_date: dt.date | None
    hold_queue_length: int
    in_transit_to: str | None


@get("/api/v1/items/{barcode:str}", tags=["circulation"], summary="One copy: record, branch, status, due date, holds")
async def item_status(request: Request, barcode: str) -> ItemStatus:
    view = await _engine_view(request, "item_view", msgspec.json.encode({"barcode": barcode}))
    async with request.app.state.pools.public.connection() as connection:
        title = (await (await connection.execute("SELECT title FROM bib WHERE id = %s", [view["bib_id"]])).fetchone())
    return ItemStatus(barcode=barcode, bib_id=view["bib_id"], title=title[0] if title else "", branch=view["branch"],
                      status=view["availability"], label=view["availability_label"],
                      due_date=dt.date.fromisoformat(view["due_on"]) if view.get("due_on") else None,
                      hold_queue_length=view["hold_queue_length"], in_transit_to=view.get("transit_to"))


class PatronLoan(msgspec.Struct, frozen=True):
    loan_id: int
    item: str
    bib_id: int
    title: str
    due_date: dt.date
    renewals: int
    overdue: bool
    renewable: bool


@get("/api/v1/patrons/{card:str}/loans", tags=["patrons"], guards=CIRCULATION_GUARD, dependencies=STAFF,
     summary="A patron's open loans")
async def patron_loans(request: Request, card: str, staff: StaffPrincipal) -> list[PatronLoan]:
    summary = await _engine_view(request, "patron_summary",
                                 msgspec.json.encode({"card": card, "today": library_today().isoformat()}))
    bib_ids = [loan["bib_id"] for loan in summary["loans"]]
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        await cursor.execute("SELECT id, title FROM bib WHERE id = ANY(%s)", [bib_ids])
        titles = dict(await cursor.fetchall())
        await record_operation(cursor, actor_of(request, staff), "patron.read_loans", "patron", summary["patron_id"])
        await connection.commit()
    return [PatronLoan(loan_id=loan["loan_id"], item=loan["barcode"], bib_id=loan["bib_id"],
                       title=titles.get(loan["bib_id"], ""), due_date=dt.date.fromisoformat(loan["due_on"]),
                       renewals=loan["renewals"], overdue=loan["overdue"], renewable=loan["renewable"])
            for loan in summary["loans"]]


@get("/api/v1/patrons/{card:str}/summary", tags=["patrons"], guards=CIRCULATION_GUARD, dependencies=STAFF,
     summary="Blocks, loans, holds and counts of a patron (the counter's patron panel)")
async def patron_summary(request: Request, card: str, staff: StaffPrincipal) -> dict[str, Any]:
    summary = await _engine_view(request, "patron_summary",
                                 msgspec.json.encode({"card": card, "today": library_today().isoformat()}))
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        await record_operation(cursor, actor_of(request, staff), "patron.read_summary", "patron", summary["patron_id"])
        await connection.commit()
    return summary


@get("/api/v1/branches/{code:str}/pick-list", tags=["holds"], guards=CIRCULATION_GUARD, dependencies=STAFF,
     summary="Copies to pull from this branch's shelves for waiting holds")
async def pick_list(request: Request, code: str, staff: StaffPrincipal) -> list[dict[str, Any]]:
    if not staff.may_work_at(code):
        raise Forbidden(f"このアカウントは {code} では業務できません。", code="branch_not_allowed")
    engine = request.app.state.engine.circulation
    raw = await anyio.to_thread.run_sync(engine.pick_list, code, library_today().isoformat())
    return msgspec.json.decode(raw)


@get("/api/v1/overdue", tags=["circulation"], guards=CIRCULATION_GUARD, dependencies=STAFF,
     summary="Overdue loans (督促), by branch and days overdue")
async def overdue(request: Request, staff: StaffPrincipal,
                  branch: Annotated[str | None, Parameter(max_length=32)] = None,
                  min_days: Annotated[int, Parameter(ge=1, le=3650)] = 1) -> list[dict[str, Any]]:
    if branch is not None and not staff.may_work_at(branch):
        raise Forbidden(f"このアカウントは {branch} では業務できません。", code="branch_not_allowed")
    raw = await anyio.to_thread.run_sync(request.app.state.engine.circulation.overdue_loans, msgspec.json.encode(
        {"branch": branch, "today": library_today().isoformat(), "min_days_overdue": min_days}))
    loans = msgspec.json.decode(raw)
    if branch is None and staff.branch_codes:  # counter staff see the overdue loans of their own branches only
        loans = [loan for loan in loans if loan.get("branch") in staff.branch_codes]
    # The list names patrons (cards) with their loans: reading it is logged like any read of patron data.
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        await record_operation(cursor, actor_of(request, staff), "patron.read_overdue_list", "loan", None,
                               {"branch": branch, "min_days": min_days, "count": len(loans)})
        await connection.commit()
    return loans


CIRCULATION_ROUTES = [checkout, checkin, renew, place_hold, cancel_hold, change_pickup, item_status, patron_loans,
                      patron_summary, pick_list, overdue]
