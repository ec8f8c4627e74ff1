"""OpenSearch 1.1: the description document browsers and aggregators discover (/opensearch.xml, linked from
every page's <head>), and the RSS 2.0 results feed it points to (/opensearch/rss).

The HTML template points at the OPAC results page (/search?q=&page=), the feed at /opensearch/rss with the
same one-box query syntax. Both are built from the request's own address so that a server behind any host
name describes itself correctly.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
from litestar import Request, Response, get
from litestar.params import Parameter

from shoka.catalogue.search_models import SearchHit, SearchRequest, run_search
from shoka.sru import xml_text
from shoka.sru.library_identity import FALLBACK_NAME, local_library_name

OPENSEARCH_NAMESPACE = "http://a9.com/-/spec/opensearch/1.1/"
DESCRIPTION_MEDIA_TYPE = "application/opensearchdescription+xml; charset=utf-8"
RSS_MEDIA_TYPE = "application/rss+xml; charset=utf-8"
SHORT_NAME_LIMIT = 16  # OpenSearch 1.1: ShortName is at most 16 characters
DEFAULT_FEED_ITEMS = 20


async def _library_name(request: Request) -> str:
    name = await local_library_name(request.app.state.pools.public)
    return "書架" if name.ja == FALLBACK_NAME else name.ja


@get("/opensearch.xml", include_in_schema=False)
async def opensearch_description(request: Request) -> Response[str]:
    base = str(request.base_url).rstrip("/")
    library = await _library_name(request)
    short_name = f"{library} 蔵書検索"[:SHORT_NAME_LIMIT]
    document = (
        f'{xml_text.XML_DECLARATION}<OpenSearchDescription xmlns="{OPENSEARCH_NAMESPACE}">'
        f"<ShortName>{xml_text.text(short_name)}</ShortName>"
        f"<Description>{xml_text.text(library)}の蔵書を書名・著者名・出版者・件名・ISBNで検索します。"
        "読み（ひらがな・カタカナ）でも探せます。</Description>"
        "<Tags>図書館 蔵書検索 OPAC</Tags>"
        f'<Url type="text/html" method="get" '
        f'template="{xml_text.attribute(base)}/search?q={{searchTerms}}&amp;page={{startPage?}}"/>'
        f'<Url type="application/rss+xml" method="get" template="{xml_text.attribute(base)}/opensearch/rss?'
        'q={searchTerms}&amp;page={startPage?}&amp;count={count?}"/>'
        f'<Url type="application/opensearchdescription+xml" rel="self" '
        f'template="{xml_text.attribute(base)}/opensearch.xml"/>'
        '<Query role="example" searchTerms="銀河鉄道の夜"/>'
        "<Language>ja</Language>"
        "<InputEncoding>UTF-8</InputEncoding>"
        "<OutputEncoding>UTF-8</OutputEncoding>"
        "<SyndicationRight>open</SyndicationRight>"
        "</OpenSearchDescription>")
    return Response(content=document, media_type=DESCRIPTION_MEDIA_TYPE)


def _item_xml(hit: SearchHit, base: str) -> str:
    link = f"{base}/bibs/{hit.bib_id}"
    title = f"{hit.title} : {hit.subtitle}" if hit.subtitle else hit.title
    authors = "、".join(author.name for author in hit.authors)
    availability = "、".join(f"{branch.branch} {branch.label}" for branch in hit.availability) or "蔵書なし"
    summary = " / ".join(part for part in (authors, hit.publisher or "", str(hit.publication_year or ""),
                                           availability) if part)
    parts = [xml_text.element("title", title), xml_text.element("link", link),
             f'<guid isPermaLink="true">{xml_text.text(link)}</guid>', xml_text.element("description", summary)]
    parts += [xml_text.element("dc:creator", author.name) for author in hit.authors]
    parts.append(xml_text.element("dc:publisher", hit.publisher))
    parts.append(xml_text.element("dc:date", hit.publication_year))
    parts += [xml_text.element("dc:identifier", f"urn:isbn:{isbn}") for isbn in hit.isbns]
    parts.append(xml_text.element("category", hit.material_type))
    return "<item>" + "".join(parts) + "</item>"


@get("/opensearch/rss", include_in_schema=False)
async def opensearch_rss(
    request: Request,
    q: Annotated[str, Parameter(min_length=1, max_length=1000, description="the search box (one-box syntax)")],
    page: Annotated[int, Parameter(ge=1, le=1000)] = 1,
    count: Annotated[int, Parameter(ge=10, le=100)] = DEFAULT_FEED_ITEMS,
) -> Response[str]:
    search = SearchRequest(query=q, page=page, per_page=count, with_facets=False)
    results = await anyio.to_thread.run_sync(run_search, request.app.state.engine.catalogue, search)
    base = str(request.base_url).rstrip("/")
    library = await _library_name(request)
    results_page = xml_text.attribute(f"{base}/search?q={quote(q, safe='')}&page={page}")
    document = (
        f'{xml_text.XML_DECLARATION}<rss version="2.0" xmlns:opensearch="{OPENSEARCH_NAMESPACE}" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{xml_text.text(library)}：「{xml_text.text(q)}」の検索結果</title>"
        f"<link>{results_page}</link>"
        f"<description>{xml_text.text(library)}の蔵書検索「{xml_text.text(q)}」: {results.total}件</description>"
        "<language>ja</language>"
        f"<opensearch:totalResults>{results.total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{(page - 1) * count + 1}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>"
        f'<opensearch:Query role="request" searchTerms="{xml_text.attribute(q)}" startPage="{page}"/>'
        f'<atom:link rel="search" type="application/opensearchdescription+xml" '
        f'href="{xml_text.attribute(base)}/opensearch.xml"/>'
        + "".join(_item_xml(hit, base) for hit in results.hits)
        + "</channel></rss>")
    return Response(content=document, media_type=RSS_MEDIA_TYPE)
