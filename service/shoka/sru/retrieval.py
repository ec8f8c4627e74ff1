"""SRU's record window (startRecord, maximumRecords) over the engine's fixed pages.

The engine serves 1-based pages of 10 to 100 hits and nothing past the 10,000th result. An SRU client may
ask for any window, such as records 95–104. `plan_pages` picks the smallest page size whose single page
holds the whole window, or else two consecutive pages of 100, and the window is sliced out of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from shoka.catalogue.search_models import SearchHit, SearchRequest, run_search
from shoka.sru.diagnostics import SruDiagnostic
from shoka.sru.query_translation import EngineSearch, RecordIdSearch
from shoka.sru.records import existing_bib_ids

SMALLEST_ENGINE_PAGE = 10
LARGEST_ENGINE_PAGE = 100
# The engine's DEEPEST_RESULT (engine/src/catalogue/search.rs).
DEEPEST_ENGINE_RESULT = 10_000


@dataclass(frozen=True)
class ResultWindow:
    total: int
    bib_ids: list[int]


def plan_pages(start: int, count: int) -> tuple[int, list[int]]:
    """(page size, pages) whose hits cover records start … start+count-1 (1-based; 1 ≤ count ≤ 100)."""
    end = start + count - 1
    for per_page in range(max(count, SMALLEST_ENGINE_PAGE), LARGEST_ENGINE_PAGE + 1):
        page = (start - 1) // per_page + 1
        if page * per_page >= end:
            return per_page, [page]
    first = (start - 1) // LARGEST_ENGINE_PAGE + 1
    return LARGEST_ENGINE_PAGE, [first, first + 1]


def _out_of_range(start: int, total: int) -> SruDiagnostic:
    return SruDiagnostic(61, str(start), f"startRecord {start} is beyond the {total} records found")


def _engine_request(search: EngineSearch, page: int, per_page: int) -> SearchRequest:
    return SearchRequest(query=search.query, sort=search.sort, page=page, per_page=per_page, with_facets=False)


async def engine_window(catalogue, search: EngineSearch, start: int, count: int) -> ResultWindow:
    """The total and the bib ids of records start … start+count-1 of an engine search."""
    if count == 0:
        page = await anyio.to_thread.run_sync(run_search, catalogue, _engine_request(search, 1, SMALLEST_ENGINE_PAGE))
        return ResultWindow(page.total, [])
    if start > DEEPEST_ENGINE_RESULT:
        raise SruDiagnostic(61, str(start), f"records beyond position {DEEPEST_ENGINE_RESULT:,} are not served; "
                                            "narrow the search")
    count = min(count, DEEPEST_ENGINE_RESULT - start + 1)
    per_page, pages = plan_pages(start, count)
    hits: list[SearchHit] = []
    total = 0
    for page_number in pages:
        page = await anyio.to_thread.run_sync(run_search, catalogue, _engine_request(search, page_number, per_page))
        total = page.total
        hits.extend(page.hits)
        if page_number * per_page >= total:
            break  # the window runs past the last record: no next page to fetch
    if start > total and (total > 0 or start > 1):
        raise _out_of_range(start, total)
    offset = start - 1 - (pages[0] - 1) * per_page
    return ResultWindow(total, [hit.bib_id for hit in hits[offset:offset + count]])


async def record_id_window(pool, search: RecordIdSearch, start: int, count: int) -> ResultWindow:
    found = await existing_bib_ids(pool, search.bib_ids)
    if count > 0 and start > len(found) and (found or start > 1):
        raise _out_of_range(start, len(found))
    return ResultWindow(len(found), found[start - 1:start - 1 + count])
