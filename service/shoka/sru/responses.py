"""SRU response documents for both versions: searchRetrieveResponse and explainResponse, with records,
surrogate (per-record) diagnostics and fatal diagnostics.

SRU 1.2 answers in http://www.loc.gov/zing/srw/ with `recordPacking`; SRU 2.0 in
http://docs.oasis-open.org/ns/search-ws/sruResponse with `recordXMLEscaping` and `resultCountPrecision`.
Element order follows the schemas, since some clients read positionally. The `zs` prefix is the one YAZ
writes, which makes responses easy to compare with yaz-ztest's.
"""

from __future__ import annotations

from dataclasses import dataclass

from shoka.sru import xml_text
from shoka.sru.diagnostics import Diagnostic
from shoka.sru.parameters import SruVersion, XmlEscaping

RESPONSE_NAMESPACES: dict[SruVersion, str] = {"1.2": "http://www.loc.gov/zing/srw/",
                                              "2.0": "http://docs.oasis-open.org/ns/search-ws/sruResponse"}
DIAGNOSTIC_NAMESPACES: dict[SruVersion, str] = {"1.2": "http://www.loc.gov/zing/srw/diagnostic/",
                                                "2.0": "http://docs.oasis-open.org/ns/search-ws/diagnostic"}
SURROGATE_DIAGNOSTIC_SCHEMA = "info:srw/schema/1/diagnostics-v1.1"
EXACT_COUNT = "info:srw/vocabulary/resultCountPrecision/1/exact"
# SRU 1.2 and YAZ expect text/xml; SRU 2.0 registered application/sru+xml (YAZ 5 accepts both).
MEDIA_TYPES: dict[SruVersion, str] = {"1.2": "text/xml", "2.0": "application/sru+xml"}
ACCEPTABLE_MEDIA_TYPES = frozenset({"text/xml", "application/xml", "application/sru+xml"})


def content_type(media_type: str) -> str:
    """The Content-Type value for Litestar, which appends the charset to text/* types itself."""
    return media_type if media_type.startswith("text/") else f"{media_type}; charset=utf-8"


@dataclass(frozen=True)
class ResponseRecord:
    """One record of a response: its XML, or a surrogate diagnostic saying why it cannot be given."""

    position: int
    schema_identifier: str
    data: str | None = None
    diagnostic: Diagnostic | None = None


def _diagnostic_xml(diagnostic: Diagnostic, version: SruVersion, *, standalone: bool) -> str:
    declaration = f' xmlns="{DIAGNOSTIC_NAMESPACES[version]}"' if standalone else ""
    prefix = "" if standalone else "diag:"
    return (f"<{prefix}diagnostic{declaration}>"
            f"<{prefix}uri>{xml_text.text(diagnostic.uri)}</{prefix}uri>"
            + (f"<{prefix}details>{xml_text.text(diagnostic.details)}</{prefix}details>" if diagnostic.details else "")
            + f"<{prefix}message>{xml_text.text(diagnostic.text)}</{prefix}message>"
            f"</{prefix}diagnostic>")


def _diagnostics_xml(diagnostics: list[Diagnostic], version: SruVersion) -> str:
    if not diagnostics:
        return ""
    inner = "".join(_diagnostic_xml(diagnostic, version, standalone=False) for diagnostic in diagnostics)
    return f'<zs:diagnostics xmlns:diag="{DIAGNOSTIC_NAMESPACES[version]}">{inner}</zs:diagnostics>'


def _record_xml(record: ResponseRecord, version: SruVersion, escaping: XmlEscaping) -> str:
    if record.diagnostic is not None:
        schema = SURROGATE_DIAGNOSTIC_SCHEMA
        data = _diagnostic_xml(record.diagnostic, version, standalone=True)
    else:
        schema = record.schema_identifier
        data = record.data or ""
    packing_element = "recordPacking" if version == "1.2" else "recordXMLEscaping"
    payload = data if escaping == "xml" else xml_text.text(data)
    return (f"<zs:record><zs:recordSchema>{xml_text.text(schema)}</zs:recordSchema>"
            f"<zs:{packing_element}>{escaping}</zs:{packing_element}>"
            f"<zs:recordData>{payload}</zs:recordData>"
            f"<zs:recordPosition>{record.position}</zs:recordPosition></zs:record>")


def _echoed(name: str, echoed: list[tuple[str, str]]) -> str:
    if not echoed:
        return ""
    return f"<zs:{name}>" + "".join(xml_text.element(f"zs:{key}", value) for key, value in echoed) + f"</zs:{name}>"


def search_retrieve_response(version: SruVersion, *, total: int, records: list[ResponseRecord],
                             next_position: int | None, escaping: XmlEscaping, echoed: list[tuple[str, str]],
                             diagnostics: list[Diagnostic]) -> str:
    parts = [xml_text.XML_DECLARATION,
             f'<zs:searchRetrieveResponse xmlns:zs="{RESPONSE_NAMESPACES[version]}">',
             f"<zs:version>{version}</zs:version>",
             f"<zs:numberOfRecords>{total}</zs:numberOfRecords>"]
    if records:
        parts.append("<zs:records>" + "".join(_record_xml(record, version, escaping) for record in records)
                     + "</zs:records>")
    if next_position is not None:
        parts.append(f"<zs:nextRecordPosition>{next_position}</zs:nextRecordPosition>")
    parts.append(_echoed("echoedSearchRetrieveRequest", echoed))
    parts.append(_diagnostics_xml(diagnostics, version))
    if version == "2.0":
        parts.append(f"<zs:resultCountPrecision>{EXACT_COUNT}</zs:resultCountPrecision>")
    parts.append("</zs:searchRetrieveResponse>")
    return "".join(parts)


def explain_response(version: SruVersion, *, explain_record: str | None, schema_identifier: str,
                     escaping: XmlEscaping, echoed: list[tuple[str, str]], diagnostics: list[Diagnostic]) -> str:
    parts = [xml_text.XML_DECLARATION,
             f'<zs:explainResponse xmlns:zs="{RESPONSE_NAMESPACES[version]}">',
             f"<zs:version>{version}</zs:version>"]
    if explain_record is not None:
        parts.append(_record_xml(ResponseRecord(1, schema_identifier, explain_record), version, escaping))
    parts.append(_echoed("echoedExplainRequest", echoed))
    parts.append(_diagnostics_xml(diagnostics, version))
    parts.append("</zs:explainResponse>")
    return "".join(parts)
