"""The stable GET parameters of the OPAC results page (/search), parsed, checked and turned back into URLs.

Cross-library search systems replay these URLs, so names and meanings never change (README, "OPAC URLs").
Unknown parameters are ignored; a repeated single-valued parameter takes its first value; bad values are
collected as problems, each naming the parameter, for one helpful 400 page.
"""

from __future__ import annotations

import re
from typing import get_args
from urllib.parse import urlencode

import msgspec
from litestar.datastructures import MultiDict

from shoka.catalogue.search_models import SearchRequest, SortOrder

SORT_ORDERS: tuple[str, ...] = get_args(SortOrder)
PER_PAGE_CHOICES = (10, 20, 50, 100)
SMALLEST_PAGE_SIZE, LARGEST_PAGE_SIZE, DEFAULT_PAGE_SIZE = 10, 100, 20
DEEPEST_RESULT = 10_000  # the engine pages through at most this many hits
LONGEST_QUERY = 1000
LONGEST_FIELD = 500
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{3}$")
_NDC_CLASS = re.compile(r"^[0-9]$")
_NDC = re.compile(r"^[0-9]{1,3}(\.[0-9]*)?$")
_BRANCH = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no", "")


class SearchParameters(msgspec.Struct, frozen=True):
    q: str = ""
    title: str = ""
    author: str = ""
    publisher: str = ""
    subject: str = ""
    isbn: str = ""
    ndc: str = ""
    year_from: int | None = None
    year_to: int | None = None
    material_type: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    ndc_class: tuple[str, ...] = ()
    branch: str = ""
    available: bool = False
    sort: str = "relevance"
    per_page: int = DEFAULT_PAGE_SIZE
    page: int = 1
    redirect: bool = True

    def has_words(self) -> bool:
        return any((self.q.strip(), self.title.strip(), self.author.strip(), self.publisher.strip(),
                    self.subject.strip(), self.isbn.strip(), self.ndc.strip()))

    def has_filters(self) -> bool:
        return bool(self.year_from is not None or self.year_to is not None or self.material_type or self.language
                    or self.ndc_class or self.branch or self.available)

    def has_criteria(self) -> bool:
        return self.has_words() or self.has_filters()

    def without_filters(self) -> "SearchParameters":
        return msgspec.structs.replace(self, year_from=None, year_to=None, material_type=(), language=(),
                                       ndc_class=(), branch="", available=False, page=1)

    def changed(self, **changes) -> "SearchParameters":
        """A copy with `changes`, back on page 1 unless the page itself is what changes."""
        changes.setdefault("page", 1)
        return msgspec.structs.replace(self, **changes)

    def toggled(self, name: str, value: str) -> "SearchParameters":
        """A repeatable filter with `value` added, or removed if it is already there."""
        values: tuple[str, ...] = getattr(self, name)
        updated = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.changed(**{name: updated})

    def to_request(self) -> SearchRequest:
        return SearchRequest(
            query=self.q, title=self.title or None, author=self.author or None, publisher=self.publisher or None,
            subject=self.subject or None, isbn=self.isbn or None, ndc=self.ndc or None, year_from=self.year_from,
            year_to=self.year_to, material_types=list(self.material_type), languages=list(self.language),
            ndc_classes=list(self.ndc_class), branch=self.branch or None, available_only=self.available,
            sort=self.sort, page=self.page, per_page=self.per_page, with_facets=True)

    def query_pairs(self, language: str = "ja", *, keep_page: bool = True) -> list[tuple[str, str]]:
        """The parameters in their canonical order, defaults left out."""
        pairs: list[tuple[str, str]] = []
        for name in ("q", "title", "author", "publisher", "subject", "isbn", "ndc"):
            if value := getattr(self, name):
                pairs.append((name, value))
        for name in ("year_from", "year_to"):
            if (value := getattr(self, name)) is not None:
                pairs.append((name, str(value)))
        for name in ("material_type", "language", "ndc_class"):
            pairs.extend((name, value) for value in getattr(self, name))
        if self.branch:
            pairs.append(("branch", self.branch))
        if self.available:
            pairs.append(("available", "1"))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != DEFAULT_PAGE_SIZE:
            pairs.append(("per_page", str(self.per_page)))
        if keep_page and self.page != 1:
            pairs.append(("page", str(self.page)))
        if not self.redirect:
            pairs.append(("redirect", "0"))
        if language == "en":
            pairs.append(("lang", "en"))
        return pairs

    def url(self, language: str = "ja") -> str:
        pairs = self.query_pairs(language)
        return "/search?" + urlencode(pairs) if pairs else "/search"

    def deepest_page(self) -> int:
        return max(1, DEEPEST_RESULT // self.per_page)


class ParameterProblem(msgspec.Struct, frozen=True):
    """One bad parameter: its name, the message key (web/messages.py) and the values the message names."""

    name: str
    key: str
    arguments: dict[str, str] = {}


def _first(parameters: MultiDict, name: str) -> str | None:
    values = parameters.getall(name, [])
    return values[0] if values else None


def _integer(parameters: MultiDict, name: str, low: int, high: int, problems: list[ParameterProblem]) -> int | None:
    text = _first(parameters, name)
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        problems.append(ParameterProblem(name, "param_not_a_number", {"value": text[:40]}))
        return None
    value = int(text)
    if not low <= value <= high:
        problems.append(ParameterProblem(name, "param_out_of_range", {"low": str(low), "high": str(high)}))
        return None
    return value


def _text(parameters: MultiDict, name: str, limit: int, problems: list[ParameterProblem]) -> str:
    text = (_first(parameters, name) or "").strip()
    if len(text) > limit:
        problems.append(ParameterProblem(name, "param_too_long", {"limit": str(limit)}))
        return ""
    if "\x00" in text:
        problems.append(ParameterProblem(name, "param_bad_value", {"value": ""}))
        return ""
    return text


def _codes(parameters: MultiDict, name: str, pattern: re.Pattern, problems: list[ParameterProblem]) -> tuple[str, ...]:
    codes: list[str] = []
    for value in parameters.getall(name, []):
        value = value.strip()
        if not value:
            continue
        if not pattern.fullmatch(value):
            problems.append(ParameterProblem(name, "param_bad_value", {"value": value[:40]}))
        elif value not in codes:
            codes.append(value)
    return tuple(codes[:20])


def parse_search_parameters(parameters: MultiDict) -> tuple[SearchParameters, list[ParameterProblem]]:
    problems: list[ParameterProblem] = []
    sort = (_first(parameters, "sort") or "relevance").strip() or "relevance"
    if sort not in SORT_ORDERS:
        problems.append(ParameterProblem("sort", "param_not_a_choice", {"choices": ", ".join(SORT_ORDERS)}))
        sort = "relevance"
    available_text = (_first(parameters, "available") or "").strip().lower()
    if available_text not in _TRUE + _FALSE:
        problems.append(ParameterProblem("available", "param_not_a_choice", {"choices": "1, 0"}))
    redirect_text = (_first(parameters, "redirect") or "1").strip().lower()
    if redirect_text not in _TRUE + _FALSE:
        problems.append(ParameterProblem("redirect", "param_not_a_choice", {"choices": "1, 0"}))
    branch = (_first(parameters, "branch") or "").strip()
    if branch and not _BRANCH.fullmatch(branch):
        problems.append(ParameterProblem("branch", "param_unknown_branch", {"value": branch[:40]}))
        branch = ""
    ndc = _text(parameters, "ndc", 16, problems)
    if ndc and not _NDC.fullmatch(ndc):
        problems.append(ParameterProblem("ndc", "param_bad_ndc", {"value": ndc}))
        ndc = ""
    per_page = _integer(parameters, "per_page", SMALLEST_PAGE_SIZE, LARGEST_PAGE_SIZE, problems) or DEFAULT_PAGE_SIZE
    page = _integer(parameters, "page", 1, DEEPEST_RESULT, problems) or 1
    if (page - 1) * per_page >= DEEPEST_RESULT:
        problems.append(ParameterProblem("page", "param_page_too_deep",
                                         {"high": str(DEEPEST_RESULT // per_page), "results": str(DEEPEST_RESULT)}))
        page = 1
    year_from = _integer(parameters, "year_from", 0, 2999, problems)
    year_to = _integer(parameters, "year_to", 0, 2999, problems)
    if year_from is not None and year_to is not None and year_from > year_to:
        problems.append(ParameterProblem("year_to", "param_year_order", {}))
    result = SearchParameters(
        q=_text(parameters, "q", LONGEST_QUERY, problems),
        title=_text(parameters, "title", LONGEST_FIELD, problems),
        author=_text(parameters, "author", LONGEST_FIELD, problems),
        publisher=_text(parameters, "publisher", LONGEST_FIELD, problems),
        subject=_text(parameters, "subject", LONGEST_FIELD, problems),
        isbn=_text(parameters, "isbn", 32, problems),
        ndc=ndc, year_from=year_from, year_to=year_to,
        material_type=_codes(parameters, "material_type", _CODE, problems),
        language=_codes(parameters, "language", _LANGUAGE_CODE, problems),
        ndc_class=_codes(parameters, "ndc_class", _NDC_CLASS, problems),
        branch=branch, available=available_text in _TRUE, sort=sort, per_page=per_page, page=page,
        redirect=redirect_text not in ("0", "false", "off", "no"))
    return result, problems
