"""The realistic Japanese query mix, drawn from the records themselves with a fixed seed, and the same queries
written for each way in: the JSON API, the OPAC results page, SRU, federated search, and the PostgreSQL
full-text baseline (see fts_baseline.py).

The mix (unchanged from the first search benchmark, so its figures stay comparable): 30 % title fragments of
2–4 characters, 15 % author names, 15 % readings typed in hiragana (1–3 words run together, as users type
them), 10 % ISBNs (ISBN-13 or ISBN-10, as printed), 10 % two-word queries, 10 % fragments with a branch and
availability filter, 10 % fragments with a material-type facet, paging (pages 1–3) and another sort order.
"""

from __future__ import annotations

import random
import re
import unicodedata
from urllib.parse import quote, urlencode

import psycopg

from shoka.catalogue.search_models import SearchRequest

KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
ISBN = re.compile(r"^(?:97[89])?[0-9]{9}[0-9X]$")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(KATAKANA_TO_HIRAGANA)


def draw_queries(connection: psycopg.Connection, count: int, seed: int) -> list[SearchRequest]:
    rng = random.Random(seed)
    sample = connection.execute(
        "SELECT title, title_reading, authors, isbns FROM bib WHERE id % 97 = 0 LIMIT 4000").fetchall()
    branches = [row[0] for row in connection.execute("SELECT code FROM service_point ORDER BY id LIMIT 8")]
    material_types = [row[0] for row in connection.execute("SELECT code FROM material_type")]
    queries: list[SearchRequest] = []
    while len(queries) < count:
        title, reading, authors, isbns = rng.choice(sample)
        kind = rng.random()
        runs = CJK.findall(title) or [title]
        run = rng.choice(runs)
        start = rng.randrange(0, max(1, len(run) - 1))
        word = run[start:start + rng.choice([2, 2, 3, 4])]
        if kind < 0.30:
            queries.append(SearchRequest(query=word))
        elif kind < 0.45 and authors:
            queries.append(SearchRequest(query=authors[0]["name"].split(",")[0].strip()))
        elif kind < 0.60 and reading:
            kana = fold(reading).split()
            queries.append(SearchRequest(query="".join(kana[: rng.choice([1, 2, 3])])))
        elif kind < 0.70 and isbns:
            isbn = isbns[0]
            queries.append(SearchRequest(query=isbn if rng.random() < 0.5 else isbn[3:12] + "X"))
        elif kind < 0.80:
            other = rng.choice(sample)[0]
            other_runs = CJK.findall(other) or [other]
            queries.append(SearchRequest(query=f"{word} {rng.choice(other_runs)[:2]}"))
        elif kind < 0.90:
            queries.append(SearchRequest(query=word, branch=rng.choice(branches), available_only=rng.random() < 0.5))
        else:
            queries.append(SearchRequest(query=word, material_types=[rng.choice(material_types)],
                                         page=rng.choice([1, 2, 3]), sort=rng.choice(["relevance", "year_newest", "title"])))
    return queries


def _filters(request: SearchRequest, available_value: str) -> list[tuple[str, str]]:
    pairs = [("q", request.query)]
    if request.branch:
        pairs.append(("branch", request.branch))
    if request.available_only:
        pairs.append(("available", available_value))
    pairs.extend(("material_type", material_type) for material_type in request.material_types)
    if request.sort != "relevance":
        pairs.append(("sort", request.sort))
    if request.page != 1:
        pairs.append(("page", str(request.page)))
    return pairs


def api_target(request: SearchRequest) -> str:
    """GET /api/v1/search with the request's filters, facets and page (20 hits a page, the default)."""
    return "/api/v1/search?" + urlencode(_filters(request, "true"), quote_via=quote)


def opac_target(request: SearchRequest) -> str:
    """The OPAC results page with the stable GET parameters (a single hit redirects to its record, as for a user)."""
    return "/search?" + urlencode(_filters(request, "1"), quote_via=quote)


def cql(request: SearchRequest) -> str:
    """How a cross-search system asks SRU: an ISBN by bath.isbn, anything else as all words in any field."""
    text = request.query.replace("-", "")
    if ISBN.match(text):
        return f"bath.isbn={text}"
    return 'cql.anywhere all "' + request.query.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sru_target(request: SearchRequest) -> str:
    return "/sru?" + urlencode({"version": "1.2", "operation": "searchRetrieve", "query": cql(request),
                                "maximumRecords": "10", "recordSchema": "marcxml"}, quote_via=quote)


def federated_target(request: SearchRequest) -> str:
    return "/api/v1/federated?" + urlencode({"q": request.query}, quote_via=quote)
