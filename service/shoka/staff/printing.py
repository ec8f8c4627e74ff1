"""The desk's printouts as print-ready HTML or PDF (REQUIREMENTS §2 Printing):

- GET /staff/print/receipt?loans=12,13 — the loan receipt (貸出票) on a 58 or 80 mm roll
- GET /staff/print/reading-record?loans=12,13[&skip=3] — reading-record stickers (読書記録シール) on a label sheet
- GET /staff/print/hold-slip?hold=7 — the slip of a trapped hold (予約取置票)
- GET /staff/print/transit-slip?item=<barcode> — the slip of a copy in transit (回送票)

Each takes `format=html` (the default; `&print=1` opens the print dialog at once) or `format=pdf`. The layout is
that of the branch whose printer the paper comes out of (print_records.py). Printing a receipt, stickers or a
hold slip reads a patron's data and is written to the operation log; a transit slip shows none and is not.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlencode

import anyio
from litestar import Request, Response, get
from litestar.response import Template

from shoka.audit import record_operation
from shoka.auth.roles import CIRCULATION_ROLES
from shoka.clock import utc_now
from shoka.errors import InvalidRequest
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import staff_context
from shoka.staff.print_documents import (RollDocument, StickerSheets, build_hold_slip, build_receipt,
                                         build_stickers, build_transit_slip, label)
from shoka.staff.print_layout_page import PRINT_LAYOUT_ROUTES
from shoka.staff.print_layouts import LayoutKind, load_layout
from shoka.staff.print_pdf import roll_pdf, stickers_pdf
from shoka.staff.print_records import patron_of, printable_hold, printable_loans, printable_transit
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

MOST_LOANS_PER_PRINT = 100
_BARCODE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
OutputFormat = Literal["html", "pdf"]


def output_format(request: Request) -> OutputFormat:
    text = request.query_params.get("format") or "html"
    if text not in ("html", "pdf"):
        raise InvalidRequest(f"format: html か pdf を指定してください（{text[:20]!r}）。/ format must be html or pdf.",
                             code="invalid_format")
    return text  # type: ignore[return-value]


def loan_ids(request: Request) -> list[int]:
    text = (request.query_params.get("loans") or "").strip()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and len(part) <= 18 for part in parts):
        raise InvalidRequest("loans: 貸出番号をカンマ区切りで指定してください（例 loans=12,13）。/ "
                             "loans: give loan ids separated by commas (loans=12,13).", code="invalid_loans")
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > MOST_LOANS_PER_PRINT:
        raise InvalidRequest(f"loans: 一度に印刷できるのは {MOST_LOANS_PER_PRINT} 件までです。/ "
                             f"loans: at most {MOST_LOANS_PER_PRINT} loans at a time.", code="invalid_loans")
    return ids


def whole_number(request: Request, name: str, *, default: int | None = None) -> int:
    text = (request.query_params.get(name) or "").strip()
    if not text and default is not None:
        return default
    if not text.isdigit() or len(text) > 18:
        raise InvalidRequest(f"{name}: 番号（整数）を指定してください。/ {name}: give a whole number.",
                             code=f"invalid_{name}")
    return int(text)


def _pdf_url(request: Request) -> str:
    pairs = [(name, value) for name, value in request.query_params.items() if name not in ("format", "print")]
    return f"{request.url.path}?{urlencode(pairs + [('format', 'pdf')])}"


def _html(request: Request, staff: StaffSession, template: str, *, page_size: str, title: str,
          **context: Any) -> Template:
    response = Template(template_name=template, context={
        **staff_context(request, staff), "page_size": page_size, "title": title, "pdf_url": _pdf_url(request),
        "auto_print": request.query_params.get("print") == "1", **context})
    response.headers["Cache-Control"] = "no-store"
    return response


async def _pdf(render, document: Any, filename: str, *extra: Any) -> Response:
    content = await anyio.to_thread.run_sync(render, document, *extra)
    return Response(content=content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}.pdf"', "Cache-Control": "no-store"})


async def _roll_output(request: Request, staff: StaffSession, document: RollDocument, filename: str,
                       form: OutputFormat) -> Template | Response:
    if form == "pdf":
        return await _pdf(roll_pdf, document, filename)
    return _html(request, staff, "staff/print_roll.html", page_size=f"{document.width_mm}mm {document.height_mm}mm",
                 title=document.title, document=document)


async def _stickers_output(request: Request, staff: StaffSession, sheets: StickerSheets, filename: str,
                           form: OutputFormat) -> Template | Response:
    title = label("reading_record", request_language(request))
    if form == "pdf":
        return await _pdf(stickers_pdf, sheets, filename, title)
    return _html(request, staff, "staff/print_stickers.html",
                 page_size=f"{sheets.page_width_mm:g}mm {sheets.page_height_mm:g}mm", title=title, sheets=sheets)


@get("/staff/print/receipt", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def print_receipt(request: Request, staff: StaffSession) -> Template | Response:
    form, ids = output_format(request), loan_ids(request)
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            loans = await printable_loans(cursor, ids, staff.principal, utc_now(), "貸出票")
            settings = await load_layout(cursor, loans[0].branch.id, LayoutKind.RECEIPT)
            await record_operation(cursor, staff_actor(request, staff), "print.receipt", "patron",
                                   patron_of(loans), {"loans": ids, "format": form})
    document = build_receipt(settings, loans, request_language(request))
    return await _roll_output(request, staff, document, f"receipt-{ids[0]}", form)


@get("/staff/print/reading-record", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def print_reading_record(request: Request, staff: StaffSession) -> Template | Response:
    form, ids = output_format(request), loan_ids(request)
    skip = whole_number(request, "skip", default=0)
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            loans = await printable_loans(cursor, ids, staff.principal, utc_now(), "読書記録シール")
            settings = await load_layout(cursor, loans[0].branch.id, LayoutKind.READING_STICKER)
            labels_per_sheet = settings.columns * settings.rows
            if settings.sheet != "roll" and skip >= labels_per_sheet:
                raise InvalidRequest(f"skip: 使用済みのシール数は 0〜{labels_per_sheet - 1} で指定してください。/ "
                                     f"skip: labels already used must be 0 to {labels_per_sheet - 1}.",
                                     code="invalid_skip")
            await record_operation(cursor, staff_actor(request, staff), "print.reading_record", "patron",
                                   patron_of(loans), {"loans": ids, "format": form})
    sheets = build_stickers(settings, loans, request_language(request), skip)
    return await _stickers_output(request, staff, sheets, f"reading-record-{ids[0]}", form)


@get("/staff/print/hold-slip", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def print_hold_slip(request: Request, staff: StaffSession) -> Template | Response:
    form, hold_id = output_format(request), whole_number(request, "hold")
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            hold, printing_branch = await printable_hold(cursor, hold_id, staff.principal)
            settings = await load_layout(cursor, printing_branch.id, LayoutKind.HOLD_SLIP)
            await record_operation(cursor, staff_actor(request, staff), "print.hold_slip", "patron", hold.patron_id,
                                   {"hold": hold_id, "format": form})
    document = build_hold_slip(settings, hold, request_language(request))
    return await _roll_output(request, staff, document, f"hold-slip-{hold_id}", form)


@get("/staff/print/transit-slip", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def print_transit_slip(request: Request, staff: StaffSession) -> Template | Response:
    form, barcode = output_format(request), (request.query_params.get("item") or "").strip()
    if not _BARCODE.match(barcode):
        raise InvalidRequest("item: 資料番号（英数字とハイフン、32文字まで）を指定してください。/ "
                             "item: give the copy's barcode (letters, digits, hyphens; up to 32).",
                             code="invalid_item")
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.cursor() as cursor:
            transit = await printable_transit(cursor, barcode, staff.principal)
            settings = await load_layout(cursor, transit.from_branch.id, LayoutKind.TRANSIT_SLIP)
    document = build_transit_slip(settings, transit, request_language(request))
    return await _roll_output(request, staff, document, f"transit-slip-{barcode}", form)


# The printouts and the page that lays them out, registered together.
PRINTING_ROUTES = [print_receipt, print_reading_record, print_hold_slip, print_transit_slip, *PRINT_LAYOUT_ROUTES]
