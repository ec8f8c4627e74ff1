"""The search page as the API returns it: typed mirrors of the engine's JSON (decoded by msgspec)."""

from __future__ import annotations

from typing import Literal

import msgspec

AvailabilityCode = Literal["available", "in_library_only", "on_loan", "reserved", "in_transit", "in_preparation",
                           "missing", "no_holding"]
SortOrder = Literal["relevance", "year_newest", "year_oldest", "title", "author"]


class ContributorOut(msgspec.Struct, frozen=True):
    name: str
    reading: str | None = None
    role: str | None = None


class BranchAvailability(msgspec.Struct, frozen=True):
    branch: str
    status: AvailabilityCode
    label: str
    copies: int
    available_copies: int
    earliest_due_on: str | None = None


class SearchHit(msgspec.Struct, frozen=True):
    bib_id: int
    score: float | None
    title: str
    title_reading: str | None
    subtitle: str | None
    responsibility: str | None
    authors: list[ContributorOut]
    publisher: str | None
    publication_year: int | None
    edition: str | None
    isbns: list[str]
    ndc: str | None
    language: str | None
    material_type: str
    source: str | None
    aozora_card_url: str | None
    ndl_digital_url: str | None
    availability: list[BranchAvailability]
    available_now: bool


class FacetCount(msgspec.Struct, frozen=True):
    value: str
    count: int


class Facets(msgspec.Struct, frozen=True):
    material_type: list[FacetCount]
    ndc_class: list[FacetCount]
    year: list[FacetCount]
    branch: list[FacetCount]
    availability: list[FacetCount]
    language: list[FacetCount]


class SearchPage(msgspec.Struct, frozen=True):
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: Facets | None


class SearchRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """What the engine's `Catalogue.search` takes (see engine/src/catalogue/search.rs)."""

    query: str = ""
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    subject: str | None = None
    isbn: str | None = None
    ndc: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    material_types: list[str] = []
    languages: list[str] = []
    ndc_classes: list[str] = []
    branch: str | None = None
    available_only: bool = False
    sort: SortOrder = "relevance"
    page: int = 1
    per_page: int = 20
    with_facets: bool = True


_request_encoder = msgspec.json.Encoder()
_page_decoder = msgspec.json.Decoder(SearchPage)


def run_search(catalogue, request: SearchRequest) -> SearchPage:
    """One engine call (the GIL is released inside); run it in a worker thread from async code."""
    return _page_decoder.decode(catalogue.search(_request_encoder.encode(request)))
