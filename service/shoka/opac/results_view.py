"""What the results page shows, built from the engine's page: hits with names instead of codes, facet links
that add or remove a filter, the active filters, pagination, and the search described in words."""

from __future__ import annotations

import datetime as dt

import msgspec

from shoka.catalogue.search_models import BranchAvailability, Facets, SearchHit, SearchPage
from shoka.opac.directory import Directory
from shoka.opac.search_params import SearchParameters
from shoka.opac.vocabulary import availability_label, content_language, language_name, ndc_class_name
from shoka.web.i18n import Language, translator

FACET_VALUES_SHOWN = 12
PAGE_LINKS_AROUND = 2


class AvailabilityView(msgspec.Struct, frozen=True):
    branch: str
    branch_name: str
    status: str
    label: str
    copies: int
    available_copies: int
    earliest_due_on: str | None
    earliest_due_text: str


class AuthorView(msgspec.Struct, frozen=True):
    name: str
    reading: str | None
    role: str | None


class HitView(msgspec.Struct, frozen=True):
    bib_id: int
    url: str
    title: str
    title_reading: str | None
    subtitle: str | None
    responsibility: str | None
    authors: list[AuthorView]
    publisher: str | None
    year: int | None
    edition: str | None
    isbns: list[str]
    ndc: str | None
    material_type: str
    material_type_name: str
    language: str | None
    language_name: str | None
    title_lang: str | None
    is_etext: bool
    aozora_card_url: str | None
    availability: list[AvailabilityView]
    available_now: bool


class FacetEntry(msgspec.Struct, frozen=True):
    value: str
    label: str
    count: int
    url: str
    selected: bool


class FacetGroup(msgspec.Struct, frozen=True):
    key: str
    heading: str
    entries: list[FacetEntry]


class ActiveFilter(msgspec.Struct, frozen=True):
    label: str
    remove_url: str


class PageLink(msgspec.Struct, frozen=True):
    number: int
    url: str
    current: bool = False
    gap: bool = False


def availability_views(rows: list[BranchAvailability], directory: Directory, language: Language
                       ) -> list[AvailabilityView]:
    return [AvailabilityView(branch=row.branch, branch_name=directory.place_name(row.branch, language),
                             status=row.status, label=availability_label(row.status, row.label, language),
                             copies=row.copies, available_copies=row.available_copies,
                             earliest_due_on=row.earliest_due_on,
                             earliest_due_text=format_date(row.earliest_due_on, language)) for row in rows]


def hit_view(hit: SearchHit, directory: Directory, language: Language, href) -> HitView:
    reading = hit.title_reading if hit.title_reading and hit.title_reading != hit.title else None
    return HitView(
        bib_id=hit.bib_id, url=href(f"/bibs/{hit.bib_id}"), title=hit.title, title_reading=reading,
        subtitle=hit.subtitle, responsibility=hit.responsibility,
        authors=[AuthorView(author.name, author.reading, author.role) for author in hit.authors],
        publisher=hit.publisher, year=hit.publication_year, edition=hit.edition, isbns=hit.isbns, ndc=hit.ndc,
        material_type=hit.material_type,
        material_type_name=directory.material_type_name(hit.material_type, language),
        language=hit.language, language_name=language_name(hit.language, language) if hit.language else None,
        title_lang=content_language(hit.language), is_etext=hit.source == "aozora", aozora_card_url=hit.aozora_card_url,
        availability=availability_views(hit.availability, directory, language), available_now=hit.available_now)


def _year_range(value: str) -> tuple[int, int] | None:
    start, _, end = value.partition("-")
    if start.isdigit() and end.isdigit():
        return int(start), int(end)
    return None


def facet_groups(facets: Facets | None, parameters: SearchParameters, directory: Directory,
                 language: Language) -> list[FacetGroup]:
    if facets is None:
        return []
    t = translator(language)
    groups: list[FacetGroup] = []

    def repeatable(key: str, heading: str, counts, label) -> None:
        selected: tuple[str, ...] = getattr(parameters, key)
        entries = [FacetEntry(value=count.value, label=label(count.value), count=count.count,
                              url=parameters.toggled(key, count.value).url(language),
                              selected=count.value in selected) for count in counts[:FACET_VALUES_SHOWN]]
        shown = {entry.value for entry in entries}
        entries += [FacetEntry(value=value, label=label(value), count=0,
                               url=parameters.toggled(key, value).url(language), selected=True)
                    for value in selected if value not in shown]
        if entries:
            groups.append(FacetGroup(key=key, heading=heading, entries=entries))

    repeatable("material_type", t("facet_material_type"), facets.material_type,
               lambda code: directory.material_type_name(code, language))
    repeatable("ndc_class", t("facet_ndc_class"), facets.ndc_class,
               lambda code: f"{code} {ndc_class_name(code, language)}")
    decades = []
    for count in facets.year[:FACET_VALUES_SHOWN]:
        years = _year_range(count.value)
        if years is None:
            continue
        selected = (parameters.year_from, parameters.year_to) == years
        target = parameters.changed(year_from=None, year_to=None) if selected else \
            parameters.changed(year_from=years[0], year_to=years[1])
        decades.append(FacetEntry(value=count.value, label=t("facet_decade", decade=years[0]), count=count.count,
                                  url=target.url(language), selected=selected))
    if decades:
        groups.append(FacetGroup(key="year", heading=t("facet_year"), entries=decades))
    branches = []
    for count in facets.branch:
        selected = parameters.branch == count.value
        target = parameters.changed(branch="") if selected else parameters.changed(branch=count.value)
        branches.append(FacetEntry(value=count.value, label=directory.place_name(count.value, language),
                                   count=count.count, url=target.url(language), selected=selected))
    if branches:
        groups.append(FacetGroup(key="branch", heading=t("facet_branch"), entries=branches))
    available = next((count for count in facets.availability if count.value == "available"), None)
    if available is not None or parameters.available:
        groups.append(FacetGroup(key="available", heading=t("facet_availability"), entries=[FacetEntry(
            value="1", label=t("facet_available_now"), count=available.count if available else 0,
            url=parameters.changed(available=not parameters.available).url(language),
            selected=parameters.available)]))
    repeatable("language", t("facet_language"), facets.language, lambda code: language_name(code, language))
    return groups


def active_filters(parameters: SearchParameters, directory: Directory, language: Language) -> list[ActiveFilter]:
    t = translator(language)
    filters = [ActiveFilter(directory.material_type_name(code, language),
                            parameters.toggled("material_type", code).url(language))
               for code in parameters.material_type]
    filters += [ActiveFilter(f"NDC {code} {ndc_class_name(code, language)}",
                             parameters.toggled("ndc_class", code).url(language)) for code in parameters.ndc_class]
    filters += [ActiveFilter(language_name(code, language), parameters.toggled("language", code).url(language))
                for code in parameters.language]
    if parameters.year_from is not None or parameters.year_to is not None:
        filters.append(ActiveFilter(t("filter_years", start=parameters.year_from if parameters.year_from is not None
                                      else "", end=parameters.year_to if parameters.year_to is not None else ""),
                                    parameters.changed(year_from=None, year_to=None).url(language)))
    if parameters.branch:
        filters.append(ActiveFilter(directory.place_name(parameters.branch, language),
                                    parameters.changed(branch="").url(language)))
    if parameters.available:
        filters.append(ActiveFilter(t("facet_available_now"), parameters.changed(available=False).url(language)))
    return filters


def search_criteria(parameters: SearchParameters, language: Language) -> list[tuple[str, str]]:
    """The words searched, labelled: [("キーワード", "猫"), ("著者", "宮沢")]."""
    t = translator(language)
    return [(t(f"field_{name}"), value) for name in ("q", "title", "author", "publisher", "subject", "isbn", "ndc")
            if (value := getattr(parameters, name))]


def page_links(parameters: SearchParameters, result: SearchPage, language: Language) -> list[PageLink]:
    last = last_page(parameters, result)
    if last == 1:
        return []
    current = parameters.page
    numbers = sorted({1, last, *range(max(1, current - PAGE_LINKS_AROUND), min(last, current + PAGE_LINKS_AROUND) + 1)})
    links: list[PageLink] = []
    for index, number in enumerate(numbers):
        if index and number - numbers[index - 1] > 1:
            links.append(PageLink(number=0, url="", gap=True))
        links.append(PageLink(number=number, url=parameters.changed(page=number).url(language),
                              current=number == current))
    return links


def last_page(parameters: SearchParameters, result: SearchPage) -> int:
    return min(max(1, -(-result.total // parameters.per_page)), parameters.deepest_page())


def format_date(value: str | dt.date | None, language: Language) -> str:
    if value is None:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    return f"{day:%Y-%m-%d}" if language == "en" else f"{day.year}年{day.month}月{day.day}日"
