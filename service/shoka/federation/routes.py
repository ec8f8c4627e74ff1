"""GET /api/v1/federated (JSON) and the OPAC page /federated (横断検索), both over `federated_search`."""

from __future__ import annotations

import time
from typing import Annotated

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from shoka.federation.page_text import federated_page_translator
from shoka.federation.peers import enabled_peers
from shoka.federation.results import FederatedAnswer, availability_label
from shoka.federation.search import federated_search
from shoka.sru.library_identity import local_library_name, service_point_names
from shoka.web.i18n import request_language
from shoka.web.pages import page

DEFAULT_RECORDS_PER_LIBRARY = 10
RECORDS_PER_LIBRARY = Parameter(ge=1, le=50, description="records asked of each library (1–50)")


async def _search(request: Request, query: str, records_per_library: int, started: float) -> FederatedAnswer:
    pools = request.app.state.pools
    peers = await enabled_peers(pools.public)
    local = await local_library_name(pools.public)
    return await federated_search(query=query, records_per_library=records_per_library, peers=peers,
                                  catalogue=request.app.state.engine.catalogue, local_library=local.ja,
                                  base_url=str(request.base_url).rstrip("/"), started=started)


@get("/api/v1/federated", tags=["federation"],
     summary="Federated search (横断検索) of this catalogue and the configured peers, within 3 seconds")
async def federated_search_api(
    request: Request,
    q: Annotated[str, Parameter(min_length=1, max_length=500, description="search words (as in the OPAC box)")],
    per_peer: Annotated[int, RECORDS_PER_LIBRARY] = DEFAULT_RECORDS_PER_LIBRARY,
) -> FederatedAnswer:
    started = time.monotonic()
    return await _search(request, q.strip() or q, per_peer, started)


@get("/federated", include_in_schema=False)
async def federated_search_page(
    request: Request,
    q: Annotated[str, Parameter(max_length=500)] = "",
    per_peer: Annotated[int, RECORDS_PER_LIBRARY] = DEFAULT_RECORDS_PER_LIBRARY,
) -> Template:
    started = time.monotonic()
    language = request_language(request)
    query = q.strip()
    answer = await _search(request, query, per_peer, started) if query else None
    pool = request.app.state.pools.public
    local = await local_library_name(pool)
    branches = await service_point_names(pool)
    return await page(request, "federated.html", query=query, answer=answer, per_peer=per_peer,
                      ft=federated_page_translator(language), display_names={local.ja: local.in_language(language)},
                      local_branch_names={code: name.in_language(language) for code, name in branches.items()},
                      availability_text=lambda code: availability_label(code, language))
