"""Reading an SRU peer's searchRetrieve reply: the count, fatal diagnostics, and each record's title,
authors, year, ISBNs and id, from MARCXML (through pymarc) or from Dublin Core in its many dialects (SRU
dc, oai_dc, NDL's dcndl_simple and dcndl RDF), whether the records come as XML or as escaped text.

Replies are untrusted: anything that is not a searchRetrieve response raises `UnparseableReply`.
Python's expat refuses entity-expansion bombs and ElementTree never fetches external entities.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from xml.etree import ElementTree

import pymarc

from shoka.catalogue.isbn import normalise_isbn

MARC_NAMESPACE = "http://www.loc.gov/MARC21/slim"
_ISBN_CANDIDATE = re.compile(r"(?:97[89][\s\-]?)?[0-9][0-9\s\-]{7,14}[0-9Xx]")
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_TRAILING_ISBD = " /:;,.=[]"


class UnparseableReply(Exception):
    """The peer answered something that is not a readable SRU searchRetrieve response."""


@dataclass(frozen=True)
class PeerBibliographicRecord:
    title: str
    authors: list[str]
    year: int | None
    isbns: list[str]
    record_id: str
    url: str | None = None


@dataclass(frozen=True)
class SruReply:
    total: int | None
    records: list[PeerBibliographicRecord] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    skipped_records: int = 0


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((child for child in element if _local(child.tag) == name), None)


def isbns_in(text: str) -> list[str]:
    """The valid ISBNs (as ISBN-13) written in a catalogue field such as "4-7949-7075-7 (pbk.) : 1600円"."""
    found = []
    for candidate in _ISBN_CANDIDATE.findall(unicodedata.normalize("NFKC", text)):
        if (isbn := normalise_isbn(candidate)) and isbn not in found:
            found.append(isbn)
    return found


def year_in(text: str | None) -> int | None:
    match = _YEAR.search(unicodedata.normalize("NFKC", text or ""))
    return int(match.group(1)) if match else None


def _trim(text: str) -> str:
    return " ".join(text.split()).strip(_TRAILING_ISBD)


def marc_record(element: ElementTree.Element, position: int) -> PeerBibliographicRecord | None:
    records = pymarc.parse_xml_to_array(io.BytesIO(ElementTree.tostring(element)))
    if not records or records[0] is None:
        return None
    record = records[0]
    title_field = record.get("245")
    title_parts = [_trim(value) for value in (title_field.get_subfields("a", "b") if title_field else [])]
    title = " : ".join(part for part in title_parts if part)
    authors = [_trim(value) for tag in ("100", "110", "111", "700", "710", "711")
               for author_field in record.get_fields(tag) for value in author_field.get_subfields("a")]
    isbns = [isbn for isbn_field in record.get_fields("020") for value in isbn_field.get_subfields("a")
             for isbn in isbns_in(value)]
    year = None
    for imprint in record.get_fields("264", "260"):
        year = year or next((year_in(value) for value in imprint.get_subfields("c") if year_in(value)), None)
    fixed = record.get("008")
    if year is None and fixed is not None and fixed.data[7:11].isdigit():
        year = int(fixed.data[7:11])
    control = record.get("001")
    links = [value.strip() for link in record.get_fields("856") for value in link.get_subfields("u")
             if value.strip().startswith(("http://", "https://"))]  # never a javascript: link into the OPAC
    if not title:
        return None
    return PeerBibliographicRecord(title=title, authors=list(dict.fromkeys(author for author in authors if author)),
                                   year=year,
                                   isbns=list(dict.fromkeys(isbns)),
                                   record_id=(control.data.strip() if control is not None and control.data else
                                              str(position)),
                                   url=links[0] if links else None)


def dublin_core_record(element: ElementTree.Element, position: int) -> PeerBibliographicRecord | None:
    """Any Dublin Core dialect: dc:/dcterms: titles, creators (or foaf:name in dcndl RDF), dates, identifiers."""
    titles: list[str] = []
    authors: list[str] = []
    identifiers: list[tuple[str, str]] = []  # (text, declared type)
    dates: list[str] = []
    for node in element.iter():
        name, text = _local(node.tag), " ".join((node.text or "").split())
        if name == "title" and text and "purl.org/dc" in _namespace(node.tag):
            titles.append(text)
        elif name == "creator":
            # dcndl RDF writes a creator as <dcterms:creator><foaf:Agent><foaf:name>…; simple DC as text.
            agent_names = [" ".join((inner.text or "").split()) for inner in node.iter() if _local(inner.tag) == "name"]
            authors.extend([text] if text else [agent_name for agent_name in agent_names if agent_name])
        elif name in ("date", "issued", "created") and text:
            dates.append(text)
        elif name == "identifier" and text:
            declared = " ".join(value for key, value in node.attrib.items() if _local(key) in ("type", "datatype"))
            identifiers.append((text, declared))
    if not titles:
        return None
    isbns: list[str] = []
    for text, declared in identifiers:
        if "isbn" in declared.lower() or text.lower().startswith(("urn:isbn:", "isbn")):
            written = text.rsplit(":", 1)[-1] if text.lower().startswith("urn:") else text
            isbns.extend(isbn for isbn in isbns_in(written) if isbn not in isbns)
    links = [text for text, _ in identifiers if text.startswith(("http://", "https://"))]
    year = next((found for found in map(year_in, dates) if found), None)
    return PeerBibliographicRecord(title=titles[0], authors=list(dict.fromkeys(authors)), year=year, isbns=isbns,
                                   record_id=links[0] if links else str(position), url=links[0] if links else None)


def _record_payload(record: ElementTree.Element) -> ElementTree.Element | None:
    data = _child(record, "recordData")
    if data is None:
        return None
    elements = list(data)
    if elements:
        return elements[0]
    text = (data.text or "").strip()
    if not text.startswith("<"):
        return None
    try:
        return ElementTree.fromstring(text)  # recordPacking=string: the record is escaped XML text
    except ElementTree.ParseError:
        return None


def parse_search_retrieve(body: bytes) -> SruReply:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise UnparseableReply(f"not XML ({error})") from None
    if _local(root.tag) != "searchRetrieveResponse":
        raise UnparseableReply(f"expected an SRU searchRetrieveResponse, got <{_local(root.tag) or root.tag}>")
    count = _child(root, "numberOfRecords")
    total = int(count.text.strip()) if count is not None and count.text and count.text.strip().isdigit() else None
    diagnostics = []
    if (found := _child(root, "diagnostics")) is not None:
        for diagnostic in found:
            uri, message, details = (_child(diagnostic, name) for name in ("uri", "message", "details"))
            number = (uri.text or "").rsplit("/", 1)[-1] if uri is not None else "?"
            text = (message.text if message is not None else "") or ""
            extra = f" ({details.text})" if details is not None and details.text else ""
            diagnostics.append(f"SRU diagnostic {number}: {text}{extra}".strip())
    records: list[PeerBibliographicRecord] = []
    skipped = 0
    container = _child(root, "records")
    for position, record in enumerate(container if container is not None else [], start=1):
        payload = _record_payload(record)
        parsed = None
        if payload is not None and _local(payload.tag) != "diagnostic":
            try:
                parsed = (marc_record(payload, position) if _namespace(payload.tag) == MARC_NAMESPACE
                          or _local(payload.tag) == "record" else dublin_core_record(payload, position))
            except Exception:  # pymarc rejects malformed records in many ways; skip the record, keep the rest
                parsed = None
        if parsed is None:
            skipped += 1
        else:
            records.append(parsed)
    return SruReply(total=total, records=records, diagnostics=diagnostics, skipped_records=skipped)
