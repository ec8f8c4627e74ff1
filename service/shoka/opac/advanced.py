"""GET /advanced: the advanced search form. It submits GET to /search with the documented parameters and is
pre-filled from the same parameters, so "change this search" links from the results page land here."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from shoka.opac.directory import library_directory
from shoka.opac.search_params import PER_PAGE_CHOICES, SORT_ORDERS, parse_search_parameters
from shoka.opac.vocabulary import LANGUAGES, NDC_CLASSES, language_name
from shoka.web.i18n import request_language
from shoka.web.pages import page

# Offered in the language select: the codes a Japanese public library's collection mostly has.
LANGUAGE_CHOICES = ("jpn", "eng", "chi", "kor", "fre", "ger", "spa", "ita", "rus")


@get("/advanced", include_in_schema=False)
async def opac_advanced_search(request: Request) -> Template:
    language = request_language(request)
    parameters, _ = parse_search_parameters(request.query_params)
    directory = await library_directory(request.app.state)
    material_types = [(code, directory.material_type_name(code, language)) for code in directory.material_types]
    languages = [(code, language_name(code, language)) for code in LANGUAGE_CHOICES if code in LANGUAGES]
    ndc_classes = [(code, names[1] if language == "en" else names[0]) for code, names in NDC_CLASSES.items()]
    branches = [(place.code, place.name(language)) for place in directory.active_places()]
    return await page(request, "advanced.html", parameters=parameters, material_types=material_types,
                      languages=languages, ndc_classes=ndc_classes, branches=branches, sort_orders=SORT_ORDERS,
                      per_page_choices=PER_PAGE_CHOICES)
