"""GET /search: the OPAC results page over the stable GET parameters (see search_params.py and the README).

One engine call per page (in a worker thread). A single hit on the first page goes straight to its record
(303) unless `redirect=0`; bad parameters and queries the engine cannot take get a 400 page that names the
parameter and keeps the search box; no hits get suggestions.
"""

from __future__ import annotations

import anyio
from litestar import Request, get
from litestar.response import Redirect, Template

from shoka import _engine
from shoka.catalogue.search_models import run_search
from shoka.opac.directory import library_directory
from shoka.opac.results_view import (active_filters, facet_groups, hit_view, last_page, page_links,
                                     search_criteria)
from shoka.opac.search_params import (PER_PAGE_CHOICES, SORT_ORDERS, ParameterProblem, SearchParameters,
                                      parse_search_parameters)
from shoka.web.i18n import request_language, translator
from shoka.web.pages import link_builder, page


def _problem_texts(problems: list[ParameterProblem], language) -> list[tuple[str, str]]:
    t = translator(language)
    return [(problem.name, t(problem.key, **problem.arguments)) for problem in problems]


async def _bad_search(request: Request, parameters: SearchParameters, problems: list[tuple[str, str]]) -> Template:
    return await page(request, "search.html", status_code=400, parameters=parameters, problems=problems,
                      searched=False)


@get("/search", include_in_schema=False)
async def opac_search(request: Request) -> Template | Redirect:
    language = request_language(request)
    parameters, problems = parse_search_parameters(request.query_params)
    directory = await library_directory(request.app.state)
    if parameters.branch and parameters.branch not in directory.places:
        problems.append(ParameterProblem("branch", "param_unknown_branch", {"value": parameters.branch}))
    if problems:
        return await _bad_search(request, parameters, _problem_texts(problems, language))
    if not parameters.has_criteria():
        return await page(request, "search.html", parameters=parameters, problems=[], searched=False)
    try:
        result = await anyio.to_thread.run_sync(run_search, request.app.state.engine.catalogue,
                                                parameters.to_request())
    except _engine.QueryError as error:
        return await _bad_search(request, parameters,
                                 [("q", translator(language)("param_engine_refused", reason=str(error)))])
    href = link_builder(language)
    if result.total == 1 and parameters.page == 1 and parameters.redirect and result.hits:
        return Redirect(path=href(f"/bibs/{result.hits[0].bib_id}"), status_code=303)
    first = (parameters.page - 1) * parameters.per_page + 1
    pages = page_links(parameters, result, language)
    last = last_page(parameters, result)
    control_fields = [(name, value) for name, value in parameters.query_pairs(language, keep_page=False)
                      if name not in ("sort", "per_page")]
    return await page(
        request, "search.html", parameters=parameters, problems=[], searched=True, total=result.total,
        first=first, last_shown=first + len(result.hits) - 1,
        hits=[hit_view(hit, directory, language, href) for hit in result.hits],
        facets=facet_groups(result.facets, parameters, directory, language),
        filters=active_filters(parameters, directory, language),
        criteria=search_criteria(parameters, language),
        without_filters_url=parameters.without_filters().url(language),
        include_unavailable_url=parameters.changed(available=False).url(language),
        advanced_url=parameters.url(language).replace("/search", "/advanced", 1),
        page_links=pages, first_page_url=parameters.changed(page=1).url(language),
        previous_url=parameters.changed(page=parameters.page - 1).url(language) if parameters.page > 1 else None,
        next_url=parameters.changed(page=parameters.page + 1).url(language) if parameters.page < last else None,
        control_fields=control_fields, sort_orders=SORT_ORDERS, per_page_choices=PER_PAGE_CHOICES)
