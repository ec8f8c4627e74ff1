"""The catalogue API: GET /api/v1/search, GET /api/v1/bibs/{id}, and a record's MARC export."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import anyio
import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from shoka.catalogue.bib_record import BIB_RECORD_COLUMNS
from shoka.catalogue.marc_export import bib_as_marc
from shoka.catalogue.search_models import BranchAvailability, SearchPage, SearchRequest, SortOrder, run_search
from shoka.errors import NotFound

PAGE_SIZE = Parameter(ge=10, le=100, description="hits per page, 10–100")


@get("/api/v1/search", tags=["catalogue"], summary="Search the catalogue (one box and advanced fields)")
async def search_catalogue(
    request: Request,
    q: Annotated[str, Parameter(max_length=1000, description="the search box; see README for the syntax")] = "",
    page: Annotated[int, Parameter(ge=1, le=1000)] = 1,
    per_page: Annotated[int, PAGE_SIZE] = 20,
    branch: Annotated[str | None, Parameter(max_length=32, description="only records held at this branch")] = None,
    available: Annotated[bool, Parameter(description="only records with a copy on the shelf now")] = False,
    sort: SortOrder = "relevance",
    title: Annotated[str | None, Parameter(max_length=500)] = None,
    author: Annotated[str | None, Parameter(max_length=500)] = None,
    publisher: Annotated[str | None, Parameter(max_length=500)] = None,
    subject: Annotated[str | None, Parameter(max_length=500)] = None,
    isbn: Annotated[str | None, Parameter(max_length=32)] = None,
    ndc: Annotated[str | None, Parameter(max_length=16)] = None,
    year_from: Annotated[int | None, Parameter(ge=0, le=2999)] = None,
    year_to: Annotated[int | None, Parameter(ge=0, le=2999)] = None,
    material_type: Annotated[list[str] | None, Parameter(description="repeatable")] = None,
    language: Annotated[list[str] | None, Parameter(description="repeatable, MARC codes such as jpn")] = None,
    ndc_class: Annotated[list[str] | None, Parameter(description="repeatable, first NDC digit")] = None,
    facets: bool = True,
) -> SearchPage:
    search = SearchRequest(
        query=q, title=title, author=author, publisher=publisher, subject=subject, isbn=isbn, ndc=ndc,
        year_from=year_from, year_to=year_to, material_types=material_type or [], languages=language or [],
        ndc_classes=ndc_class or [], branch=branch, available_only=available, sort=sort, page=page,
        per_page=per_page, with_facets=facets)
    return await anyio.to_thread.run_sync(run_search, request.app.state.engine.catalogue, search)


class ItemOut(msgspec.Struct, frozen=True):
    barcode: str
    branch: str
    shelf_location: str
    call_number: str
    material_type: str
    status: str
    label: str
    due_on: str | None


class BibDetail(msgspec.Struct, frozen=True):
    id: int
    source: str
    title: str
    title_reading: str | None
    title_romanised: str | None
    subtitle: str | None
    responsibility: str | None
    authors: list[dict]
    publisher: str | None
    publisher_reading: str | None
    publication_place: str | None
    publication_year: int | None
    edition: str | None
    extent: str | None
    series: list[str]
    subjects: list[str]
    ndc: str | None
    isbns: list[str]
    language: str | None
    material_type: str
    notes: list[str]
    aozora_card_url: str | None
    aozora_text_url: str | None
    ndl_digital_url: str | None
    updated_at: dt.datetime
    items: list[ItemOut]
    availability: list[BranchAvailability]
    holds_waiting: int


# The record's columns without the two stored MARC forms (the last two of BIB_RECORD_COLUMNS).
DISPLAY_COLUMNS = BIB_RECORD_COLUMNS.rsplit(", marc_iso2709", 1)[0]


class _EngineHoldings(msgspec.Struct):
    items: list[dict]
    branches: list[BranchAvailability]



@get("/api/v1/bibs/{bib_id:int}", tags=["catalogue"], summary="One record with its copies and their status")
async def get_bib(request: Request, bib_id: int) -> BibDetail:
    async with request.app.state.pools.public.connection() as connection:
        row = await (await connection.execute(
            f"SELECT {DISPLAY_COLUMNS} FROM bib WHERE id = %s AND NOT is_withdrawn", [bib_id])).fetchone()
        if row is None:
            raise NotFound(f"record {bib_id} does not exist", code="bib_not_found")
        waiting = (await (await connection.execute(
            "SELECT count(*) FROM hold WHERE bib_id = %s AND status IN ('waiting', 'in_transit', 'ready')",
            [bib_id])).fetchone())[0]
    holdings = msgspec.json.decode(request.app.state.engine.catalogue.holdings_of(bib_id), type=_EngineHoldings)
    items = [ItemOut(
        barcode=entry["holding"]["barcode"], branch=entry["holding"]["branch"],
        shelf_location=entry["holding"]["shelf_location"], call_number=entry["holding"]["call_number"],
        material_type=entry["holding"]["material_type"], status=entry["availability"], label=entry["label"],
        due_on=entry["holding"]["circulation"].get("due_on")) for entry in holdings.items]
    items.sort(key=lambda item: (item.branch, item.barcode))
    return BibDetail(*row, items=items, availability=holdings.branches, holds_waiting=waiting)


@get("/api/v1/bibs/{bib_id:int}/marc", tags=["catalogue"], summary="The record in MARC21 (ISO 2709 or MARCXML)")
async def export_marc(
    request: Request, bib_id: int,
    format: Annotated[Literal["marcxml", "iso2709"], Parameter(description="marcxml (default) or iso2709")] = "marcxml",
) -> Response[bytes]:
    async with request.app.state.pools.public.connection() as connection:
        row = await (await connection.execute(
            f"SELECT {BIB_RECORD_COLUMNS} FROM bib WHERE id = %s AND NOT is_withdrawn",
            [bib_id])).fetchone()
    if row is None:
        raise NotFound(f"record {bib_id} does not exist", code="bib_not_found")
    content = bib_as_marc(row, format)
    if format == "iso2709":
        return Response(content, media_type="application/marc",
                        headers={"Content-Disposition": f'attachment; filename="shoka-{bib_id}.mrc"'})
    return Response(content, media_type="application/marcxml+xml; charset=utf-8")
