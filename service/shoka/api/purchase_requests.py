"""Requests (リクエスト) for titles the library does not hold: recorded for acquisitions (選書).

A patron asks at the counter (or staff record a request made by phone); librarians list the new requests when
they select titles to buy. When the title is already held, the answer says so and names the record, so the
desk places a hold instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from litestar import Request, get, post
from litestar.di import Provide
from litestar.params import Parameter

from shoka.audit import record_operation
from shoka.auth.guards import provide_staff, requires_roles
from shoka.auth.roles import CATALOGUE_ROLES, CIRCULATION_ROLES
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.catalogue.isbn import normalise_isbn
from shoka.errors import Conflict, InvalidRequest, NotFound

STAFF = {"staff": Provide(provide_staff, sync_to_thread=False)}
Text = Annotated[str, msgspec.Meta(max_length=500)]
RequestStatus = Literal["new", "selected", "ordered", "ill", "declined", "fulfilled"]


class PurchaseRequestIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    patron: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    author: Text = ""
    publisher: Text = ""
    isbn: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    note: Text = ""


class PurchaseRequestOut(msgspec.Struct, frozen=True):
    id: int
    title: str
    author: str
    publisher: str
    isbn: str | None
    note: str
    status: str
    requested_at: dt.datetime
    has_patron: bool


@post("/api/v1/purchase-requests", status_code=201, tags=["acquisitions"], guards=[requires_roles(CIRCULATION_ROLES)],
      dependencies=STAFF, summary="Record a request (リクエスト) for a title the library does not hold")
async def create_purchase_request(request: Request, data: PurchaseRequestIn, staff: StaffPrincipal) -> PurchaseRequestOut:
    isbn = None
    if data.isbn:
        isbn = normalise_isbn(data.isbn)
        if isbn is None:
            raise InvalidRequest(f"ISBN {data.isbn!r} is not a valid ISBN-10 or ISBN-13", code="invalid_isbn")
    async with request.app.state.pools.staff.connection() as connection, connection.transaction(), \
            connection.cursor() as cursor:
        if isbn is not None:
            await cursor.execute("SELECT id, title FROM bib WHERE %s = ANY(isbns) AND NOT is_withdrawn LIMIT 1", [isbn])
            held = await cursor.fetchone()
            if held is not None:
                raise Conflict(f"この資料は所蔵しています（{held[1]}、書誌ID {held[0]}）。予約をご利用ください。",
                               code="already_held")
        patron_id = None
        if data.patron is not None:
            await cursor.execute("SELECT id FROM patron WHERE card = %s", [data.patron])
            row = await cursor.fetchone()
            if row is None:
                raise NotFound(f"利用者番号 {data.patron} の利用者は登録されていません。", code="unknown_patron")
            patron_id = row[0]
        await cursor.execute(
            """INSERT INTO purchase_request (patron_id, title, author, publisher, isbn, note)
               VALUES (%s, %s, %s, %s, %s, %s)
               RETURNING id, title, author, publisher, isbn, note, status, requested_at, patron_id IS NOT NULL""",
            [patron_id, data.title, data.author, data.publisher, isbn, data.note])
        created = PurchaseRequestOut(*await cursor.fetchone())
        await record_operation(cursor, staff.actor, "acquisitions.request", "purchase_request", created.id,
                               {"patron_id": patron_id, "isbn": isbn})
    return created


@get("/api/v1/purchase-requests", tags=["acquisitions"], guards=[requires_roles(CATALOGUE_ROLES)], dependencies=STAFF,
     summary="Requests for acquisitions, newest first")
async def list_purchase_requests(request: Request, staff: StaffPrincipal,
                                 status: RequestStatus | None = None,
                                 limit: Annotated[int, Parameter(ge=1, le=1000)] = 200) -> list[PurchaseRequestOut]:
    async with request.app.state.pools.staff.connection() as connection:
        rows = await (await connection.execute(
            """SELECT id, title, author, publisher, isbn, note, status, requested_at, patron_id IS NOT NULL
               FROM purchase_request WHERE %(status)s::text IS NULL OR status = %(status)s
               ORDER BY requested_at DESC, id DESC LIMIT %(limit)s""", {"status": status, "limit": limit})).fetchall()
    return [PurchaseRequestOut(*row) for row in rows]


PURCHASE_REQUEST_ROUTES = [create_purchase_request, list_purchase_requests]
