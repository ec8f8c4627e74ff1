"""Asking one peer: an SRU server (searchRetrieve 1.2, MARCXML) or another Shoka (GET /api/v1/search).

Each call reads at most `LARGEST_REPLY_BYTES` and raises `PeerFailure` with a short reason people can act
on ("HTTP 503", "cannot connect", "unparseable reply: …"); the caller applies the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import msgspec

from shoka.catalogue.isbn import normalise_isbn
from shoka.federation.peers import Peer
from shoka.federation.results import BranchAvailabilityOut, LibraryRecord, SourceOut, availability_label, \
    summarise_availability
from shoka.federation.sru_replies import UnparseableReply, parse_search_retrieve
from shoka.sru.cql import escape_literal

LARGEST_REPLY_BYTES = 8 * 1024 * 1024
SRU_RECORD_SCHEMA = "marcxml"


class PeerFailure(Exception):
    """The peer answered, but not with results (or could not be reached)."""


@dataclass(frozen=True)
class PeerResults:
    records: list[LibraryRecord]
    total: int | None


async def fetch(client: httpx.AsyncClient, url: str, parameters: dict[str, str | int], accept: str) -> bytes:
    try:
        async with client.stream("GET", url, params=parameters, headers={"Accept": accept}) as response:
            if response.status_code != 200:
                raise PeerFailure(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > LARGEST_REPLY_BYTES:
                    raise PeerFailure(f"reply larger than {LARGEST_REPLY_BYTES // (1024 * 1024)} MB")
            return bytes(body)
    except httpx.TimeoutException:
        raise  # the caller reports it as a timeout
    except httpx.ConnectError as error:
        raise PeerFailure(f"cannot connect ({error or 'refused'})") from None
    except httpx.HTTPError as error:
        raise PeerFailure(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__) from None


def cql_for(query: str) -> str:
    """The OPAC box's words as CQL every SRU server understands: quoted terms, all required."""
    return " and ".join(f'"{escape_literal(word)}"' for word in query.split()) or '""'


async def ask_sru_peer(client: httpx.AsyncClient, peer: Peer, query: str, records_wanted: int) -> PeerResults:
    body = await fetch(client, peer.url, {"version": "1.2", "operation": "searchRetrieve", "query": cql_for(query),
                                          "maximumRecords": records_wanted, "recordSchema": SRU_RECORD_SCHEMA},
                       "text/xml, application/xml;q=0.9, */*;q=0.1")
    try:
        reply = parse_search_retrieve(body)
    except UnparseableReply as error:
        raise PeerFailure(f"unparseable reply: {error}") from None
    if reply.diagnostics and not reply.records:
        raise PeerFailure("; ".join(reply.diagnostics))
    records = [LibraryRecord(
        title=record.title, authors=record.authors, year=record.year, isbns=record.isbns,
        source=SourceOut(library=peer.name, protocol="sru", record_id=record.record_id, bib_id=None, url=record.url,
                         availability="unknown", availability_label=availability_label("unknown")))
        for record in reply.records[:records_wanted]]
    return PeerResults(records, reply.total)


class _PeerAuthor(msgspec.Struct):
    name: str


class _PeerHit(msgspec.Struct):
    bib_id: int
    title: str
    subtitle: str | None = None
    authors: list[_PeerAuthor] = []
    publication_year: int | None = None
    isbns: list[str] = []
    availability: list[BranchAvailabilityOut] = []


class _PeerPage(msgspec.Struct):
    total: int
    hits: list[_PeerHit]


_page_decoder = msgspec.json.Decoder(_PeerPage)
SHOKA_SMALLEST_PAGE = 10  # the search API's page sizes are 10–100


async def ask_shoka_peer(client: httpx.AsyncClient, peer: Peer, query: str, records_wanted: int) -> PeerResults:
    base = peer.url.rstrip("/")
    body = await fetch(client, f"{base}/api/v1/search",
                       {"q": query, "per_page": max(records_wanted, SHOKA_SMALLEST_PAGE), "facets": "false"},
                       "application/json")
    try:
        page = _page_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise PeerFailure(f"unparseable reply: {error}") from None
    records = []
    for hit in page.hits[:records_wanted]:
        status = summarise_availability([branch.status for branch in hit.availability])
        records.append(LibraryRecord(
            title=f"{hit.title} : {hit.subtitle}" if hit.subtitle else hit.title,
            authors=[author.name for author in hit.authors], year=hit.publication_year,
            isbns=[isbn for isbn in (normalise_isbn(text) for text in hit.isbns) if isbn],
            source=SourceOut(library=peer.name, protocol="shoka", record_id=str(hit.bib_id), bib_id=hit.bib_id,
                             url=f"{base}/bibs/{hit.bib_id}", availability=status,
                             availability_label=availability_label(status), branches=hit.availability)))
    return PeerResults(records, page.total)
