"""GET /bibs/{id}: a record's full description, its copies with their status, the hold queue, the e-text and
digital links, permalink and MARC downloads; POST /bibs/{id}/hold places a hold (予約) for the logged-in patron.

Everything shown is catalogue data read through the public role and the engine's holdings; nothing about any
patron appears here. An id that is not a number, or one that does not exist, gets a 404 page, never a 500.
"""

from __future__ import annotations

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.catalogue.search_models import BranchAvailability
from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.opac import circulation_actions
from shoka.opac.directory import Directory, library_directory
from shoka.opac.patron_access import done_text, form_fields, logged_in, login_redirect, refusal_text
from shoka.opac.results_view import AvailabilityView, availability_views, format_date
from shoka.opac.vocabulary import availability_label, content_language, language_name, ndc_class_name
from shoka.web.flash import set_flash
from shoka.web.i18n import Language, request_language, translator
from shoka.web.pages import link_builder, page
from shoka.web.web_settings import client_address

LARGEST_ID = 2**63 - 1


class ItemView(msgspec.Struct, frozen=True):
    barcode: str
    branch: str
    branch_name: str
    shelf_location: str
    call_number: str
    material_type_name: str
    status: str
    label: str
    due_on: str | None
    due_text: str


class BibView(msgspec.Struct, frozen=True):
    id: int
    source: str
    title: str
    title_reading: str | None
    subtitle: str | None
    responsibility: str | None
    authors: list[dict]
    publisher: str | None
    publisher_reading: str | None
    publication_place: str | None
    year: int | None
    edition: str | None
    extent: str | None
    series: list[str]
    subjects: list[str]
    ndc: str | None
    ndc_class_name: str | None
    isbns: list[str]
    language: str | None
    language_name: str | None
    title_lang: str | None
    material_type: str
    material_type_name: str
    notes: list[str]
    aozora_card_url: str | None
    aozora_text_url: str | None
    ndl_digital_url: str | None


class _EngineHoldings(msgspec.Struct):
    items: list[dict]
    branches: list[BranchAvailability]


_BIB_SELECT = """SELECT id, source, title, title_reading, subtitle, responsibility, authors, publisher,
                        publisher_reading, publication_place, publication_year, edition, extent, series, subjects,
                        ndc, isbns, language, material_type, notes, aozora_card_url, aozora_text_url,
                        ndl_digital_url
                 FROM bib WHERE id = %s AND NOT is_withdrawn"""
_ITEM_SELECT = """SELECT i.barcode, coalesce(sl.name_ja, ''), coalesce(sl.name_en, ''), i.volume
                  FROM item i LEFT JOIN shelf_location sl ON sl.id = i.shelf_location_id
                  WHERE i.bib_id = %s AND i.status <> 'withdrawn'"""


def parse_bib_id(text: str) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= LARGEST_ID else None


def _bib_view(row: tuple, directory: Directory, language: Language) -> BibView:
    (bib_id, source, title, title_reading, subtitle, responsibility, authors, publisher, publisher_reading, place,
     year, edition, extent, series, subjects, ndc, isbns, record_language, material_type, notes, aozora_card_url,
     aozora_text_url, ndl_digital_url) = row
    return BibView(
        id=bib_id, source=source, title=title, title_reading=title_reading, subtitle=subtitle,
        responsibility=responsibility, authors=authors or [], publisher=publisher,
        publisher_reading=publisher_reading, publication_place=place, year=year, edition=edition, extent=extent,
        series=list(series or []), subjects=list(subjects or []), ndc=ndc,
        ndc_class_name=ndc_class_name(ndc[0], language) if ndc else None, isbns=list(isbns or []),
        language=record_language, language_name=language_name(record_language, language) if record_language else None,
        title_lang=content_language(record_language),
        material_type=material_type, material_type_name=directory.material_type_name(material_type, language),
        notes=list(notes or []), aozora_card_url=aozora_card_url, aozora_text_url=aozora_text_url,
        ndl_digital_url=ndl_digital_url)


async def _load_record(request: Request, bib_id: int, language: Language
                       ) -> tuple[BibView, list[ItemView], list[AvailabilityView], int] | None:
    directory = await library_directory(request.app.state)
    async with request.app.state.pools.public.connection() as connection:
        row = await (await connection.execute(_BIB_SELECT, [bib_id])).fetchone()
        if row is None:
            return None
        holds_waiting = (await (await connection.execute(
            "SELECT count(*) FROM hold WHERE bib_id = %s AND status IN ('waiting', 'in_transit', 'ready')",
            [bib_id])).fetchone())[0]
        shelf_rows = await (await connection.execute(_ITEM_SELECT, [bib_id])).fetchall()
    shelves = {barcode: (name_ja, name_en, volume) for barcode, name_ja, name_en, volume in shelf_rows}
    holdings = msgspec.json.decode(request.app.state.engine.catalogue.holdings_of(bib_id), type=_EngineHoldings)
    place_order = {code: index for index, code in enumerate(directory.places)}
    items = []
    for entry in holdings.items:
        holding = entry["holding"]
        shelf_ja, shelf_en, volume = shelves.get(holding["barcode"], (holding["shelf_location"], "", ""))
        call_number = " ".join(part for part in (holding["call_number"], volume) if part)
        items.append(ItemView(
            barcode=holding["barcode"], branch=holding["branch"],
            branch_name=directory.place_name(holding["branch"], language),
            shelf_location=(shelf_en or shelf_ja) if language == "en" else shelf_ja, call_number=call_number,
            material_type_name=directory.material_type_name(holding["material_type"], language),
            status=entry["availability"], label=availability_label(entry["availability"], entry["label"], language),
            due_on=holding["circulation"].get("due_on"),
            due_text=format_date(holding["circulation"].get("due_on"), language)))
    items.sort(key=lambda item: (place_order.get(item.branch, 1 << 16), item.call_number, item.barcode))
    return (_bib_view(row, directory, language), items, availability_views(holdings.branches, directory, language),
            holds_waiting)


async def _detail_page(request: Request, bib_id: int, *, status_code: int = 200, hold_error: str | None = None,
                       chosen_pickup: str | None = None) -> Template:
    language = request_language(request)
    record = await _load_record(request, bib_id, language)
    if record is None:
        return await page(request, "error.html", status_code=404, error_status=404, code="bib_not_found",
                          message=translator(language)("bib_not_found", id=bib_id))
    bib, items, availability, holds_waiting = record
    session = await logged_in(request)
    directory = await library_directory(request.app.state)
    pickup_points = [(place.code, place.name(language)) for place in directory.pickup_points()]
    base = str(request.base_url).rstrip("/")
    return await page(
        request, "bib.html", status_code=status_code, bib=bib, items=items, availability=availability,
        holds_waiting=holds_waiting, pickup_points=pickup_points, hold_error=hold_error,
        chosen_pickup=chosen_pickup or (session.home_branch if session else None),
        can_reserve=any(item.status not in ("missing", "no_holding") for item in items),
        permalink=f"{base}/bibs/{bib.id}", login_to_reserve_url=link_builder(language)("/login",
                                                                                     next=f"/bibs/{bib.id}"))


@get("/bibs/{bib_ref:str}", include_in_schema=False)
async def opac_record(request: Request, bib_ref: str) -> Template:
    bib_id = parse_bib_id(bib_ref)
    if bib_id is None:
        language = request_language(request)
        return await page(request, "error.html", status_code=404, error_status=404, code="bib_not_found",
                          message=translator(language)("bib_id_invalid"))
    return await _detail_page(request, bib_id)


@post("/bibs/{bib_ref:str}/hold", include_in_schema=False)
async def opac_place_hold(request: Request, bib_ref: str) -> Template | Redirect:
    language = request_language(request)
    bib_id = parse_bib_id(bib_ref)
    if bib_id is None:
        return await page(request, "error.html", status_code=404, error_status=404, code="bib_not_found",
                          message=translator(language)("bib_id_invalid"))
    session = await logged_in(request)
    if session is None:
        return login_redirect(f"/bibs/{bib_id}", language)
    fields = await form_fields(request)
    pickup_branch = fields.get("pickup_branch", "").strip()
    try:
        message = await circulation_actions.place_hold(request.app.state, session.patron_id, bib_id, pickup_branch,
                                                       client_address(request))
    except ShokaError as refusal:
        return await _detail_page(request, bib_id, status_code=int(refusal.status_code),
                                  hold_error=refusal_text(refusal, language), chosen_pickup=pickup_branch)
    response = Redirect(path=link_builder(language)(f"/bibs/{bib_id}"), status_code=303)
    await set_flash(request, response, done_text(language, "hold_placed", message), utc_now())
    return response
