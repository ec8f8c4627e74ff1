"""The counter's scans (POST /staff/circulation/checkout, /checkin and /renew): the desk's use cases, called as
the JSON API calls them, at the branch the session works at, as the logged-in staff member, with the screen's
per-scan `request_id`: a retry after a lost answer gets the original answer, never a second loan.

The answers add what the screen says and prints beyond the API's: the title of a renewed copy, and the names of
the branches a returned copy travels to. Only a librarian or the administrator may lend past other patrons'
holds (`override`); the screen asks them to confirm before it sends one.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Request, post
from psycopg import AsyncConnection

from shoka.auth.roles import CIRCULATION_ROLES, StaffRole
from shoka.circulation import desk
from shoka.clock import library_today, utc_now
from shoka.errors import Forbidden
from shoka.staff.access import STAFF_SESSION, require_branch, staff_actor, staff_area
from shoka.staff.counter_protocol import (COUNTER_ERRORS, CheckoutScan, ItemScan, scan_request_id, scanned_barcode,
                                          scanned_card)
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

OVERRIDE_ROLES = frozenset({StaffRole.ADMIN, StaffRole.LIBRARIAN})
_SCAN = {"guards": [staff_area(CIRCULATION_ROLES)], "dependencies": STAFF_SESSION,
         "exception_handlers": COUNTER_ERRORS, "include_in_schema": False}


class CounterCheckin(msgspec.Struct, frozen=True):
    status: str  # shelve | transit_home | hold_ready | hold_transit
    item: str
    title: str
    returned_loan: int | None
    hold_id: int | None
    pickup_branch: str | None
    pickup_branch_name: str | None
    pickup_by: dt.date | None
    transit_to: str | None
    transit_to_name: str | None
    warnings: list[str]


class CounterRenewal(msgspec.Struct, frozen=True):
    loan_id: int
    item: str
    title: str
    due_date: dt.date
    renewals: int


def _desk_branch(staff: StaffSession) -> str:
    """The session's branch, checked again on every scan: an administrator may have narrowed the account's
    branches since the session chose it."""
    require_branch(staff, staff.working_branch)
    return staff.working_branch


async def _branch_names(connection: AsyncConnection, english: bool) -> dict[str, str]:
    rows = await (await connection.execute("SELECT code, name_ja, name_en FROM service_point")).fetchall()
    return {code: name_en if english else name_ja for code, name_ja, name_en in rows}


@post("/staff/circulation/checkout", status_code=201, **_SCAN)
async def counter_checkout(request: Request, data: CheckoutScan, staff: StaffSession) -> desk.CheckoutResult:
    branch = _desk_branch(staff)
    card, barcode = scanned_card(data.patron, "patron"), scanned_barcode(data.item)
    request_id = scan_request_id(data.request_id)
    if data.override and staff.role not in OVERRIDE_ROLES:
        raise Forbidden("予約のある資料の職員判断による貸出は、司書または管理者が行います。"
                        " / Only a librarian or an administrator may lend past waiting holds.",
                        code="override_not_allowed")
    async with request.app.state.pools.staff.connection() as connection:
        return await desk.checkout(connection, request.app.state.engine, card=card, barcode=barcode, branch=branch,
                                   today=library_today(), now=utc_now(), actor=staff_actor(request, staff),
                                   staff_override=data.override, request_id=request_id)


@post("/staff/circulation/checkin", status_code=200, **_SCAN)
async def counter_checkin(request: Request, data: ItemScan, staff: StaffSession) -> CounterCheckin:
    branch = _desk_branch(staff)
    barcode, request_id = scanned_barcode(data.item), scan_request_id(data.request_id)
    async with request.app.state.pools.staff.connection() as connection:
        result = await desk.checkin(connection, request.app.state.engine, barcode=barcode, branch=branch,
                                    today=library_today(), now=utc_now(), actor=staff_actor(request, staff),
                                    request_id=request_id)
        names = await _branch_names(connection, request_language(request) == "en")
    hold = result.hold or {}
    pickup_branch = hold.get("pickup_branch")
    pickup_by = hold.get("pickup_by")
    return CounterCheckin(
        status=result.status, item=result.item, title=result.title, returned_loan=result.returned_loan,
        hold_id=hold.get("hold_id"), pickup_branch=pickup_branch,
        pickup_branch_name=names.get(pickup_branch) if pickup_branch else None,
        pickup_by=dt.date.fromisoformat(str(pickup_by)) if pickup_by else None,
        transit_to=result.transit_to, transit_to_name=names.get(result.transit_to) if result.transit_to else None,
        warnings=result.warnings)


@post("/staff/circulation/renew", status_code=200, **_SCAN)
async def counter_renew(request: Request, data: ItemScan, staff: StaffSession) -> CounterRenewal:
    branch = _desk_branch(staff)
    barcode, request_id = scanned_barcode(data.item), scan_request_id(data.request_id)
    async with request.app.state.pools.staff.connection() as connection:
        result = await desk.renew(connection, request.app.state.engine, barcode=barcode, branch=branch,
                                  today=library_today(), now=utc_now(), actor=staff_actor(request, staff),
                                  request_id=request_id)
        title = await (await connection.execute(
            "SELECT b.title FROM item i JOIN bib b ON b.id = i.bib_id WHERE i.barcode = %s", [barcode])).fetchone()
    return CounterRenewal(loan_id=result.loan_id, item=result.item, title=title[0] if title else "",
                          due_date=result.due_date, renewals=result.renewals)


SCAN_ROUTES = [counter_checkout, counter_checkin, counter_renew]
