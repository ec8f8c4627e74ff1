"""Reading an SRU request: decoding its parameters, choosing the protocol version and operation, and
checking the searchRetrieve parameters, each failure as the SRU diagnostic that names it.

Parameters are decoded from the raw bytes of the query string (and of a form-encoded POST body) rather
than from the framework's decoded view: some clients (older YAZ builds among them) send UTF-8 without
percent-encoding it, which a latin-1 reading turns into mojibake. Each value is read as UTF-8, else as
Shift_JIS (cp932, what older Japanese Windows tools send), else as latin-1, so 猫 arrives as 猫.

Versions: 1.2 and 2.0 are served. Without a `version` parameter a request that names an `operation` is
SRU 1.x, so it is answered as 1.2; anything else is 2.0 (which has no mandatory `operation`: a `query`
means searchRetrieve, none means explain). 1.0, 1.1 and unknown versions get diagnostic 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes

from shoka.sru.diagnostics import Diagnostic, SruDiagnostic
from shoka.sru.records import DEFAULT_SCHEMA, SCHEMA_NAMES, RecordSchema

SruVersion = Literal["1.2", "2.0"]
Operation = Literal["explain", "searchRetrieve"]
XmlEscaping = Literal["xml", "string"]

DEFAULT_MAXIMUM_RECORDS = 10
LARGEST_MAXIMUM_RECORDS = 100

_COMMON_PARAMETERS = frozenset({"version", "operation", "stylesheet", "httpAccept", "recordPacking",
                                "recordXMLEscaping", "extraRequestData"})
_SEARCH_PARAMETERS = frozenset({"query", "queryType", "startRecord", "maximumRecords", "recordSchema", "recordXPath",
                                "resultSetTTL", "sortKeys", "renderedBy", "responseType", "facetLimit",
                                "facetStart", "facetSort", "facetCount"})


def _decode(value: bytes) -> str:
    for encoding in ("utf-8", "cp932"):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            continue
    return value.decode("latin-1")


def _pairs(encoded: bytes) -> list[tuple[bytes, bytes]]:
    """`a=1&b=%E7%8C%AB` as byte pairs; unlike urllib's parse_qsl this accepts raw non-ASCII bytes."""
    pairs = []
    for item in encoded.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        pairs.append((unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))))
    return pairs


def read_parameters(query_string: bytes, form_body: bytes = b"") -> dict[str, str]:
    """The request's parameters (first value of each name), from the URL and a form-encoded body."""
    parameters: dict[str, str] = {}
    for source in (query_string, form_body):
        for name, value in _pairs(source):
            parameters.setdefault(_decode(name), _decode(value))
    return parameters


def repair_latin1_mojibake(text: str) -> str:
    """UTF-8 bytes that were read as latin-1, read again as UTF-8; other text unchanged."""
    if not any("\x80" <= character <= "\xff" for character in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


@dataclass(frozen=True)
class Negotiated:
    version: SruVersion
    operation: Operation
    problem: Diagnostic | None = None


def negotiate(parameters: dict[str, str]) -> Negotiated:
    """The version and operation to answer with; `problem` is a fatal diagnostic to answer with instead."""
    requested_version = parameters.get("version")
    operation_name = parameters.get("operation")
    fallback_operation: Operation = "searchRetrieve" if "query" in parameters else "explain"
    if requested_version is None:
        version: SruVersion = "1.2" if operation_name is not None else "2.0"
    elif requested_version.strip() in ("1.2", "2.0"):
        version = requested_version.strip()  # type: ignore[assignment]
    else:
        answer_version: SruVersion = "1.2" if requested_version.strip().startswith("1") else "2.0"
        return Negotiated(answer_version, fallback_operation,
                          Diagnostic(5, "1.2 2.0", f"Unsupported version {requested_version!r}: this server "
                                                   "speaks SRU 1.2 and 2.0"))
    if operation_name is None:
        if version == "1.2":
            return Negotiated(version, fallback_operation, Diagnostic(7, "operation",
                              "SRU 1.2 requires the operation parameter (explain or searchRetrieve)"))
        if "scanClause" in parameters:
            return Negotiated(version, "explain", Diagnostic(4, "scan", "scan is not supported"))
        return Negotiated(version, fallback_operation)
    if operation_name in ("explain", "searchRetrieve"):
        return Negotiated(version, operation_name)  # type: ignore[arg-type]
    return Negotiated(version, fallback_operation,
                      Diagnostic(4, operation_name, f"Unsupported operation {operation_name!r}: "
                                                    "explain and searchRetrieve are supported"))


def check_parameter_names(parameters: dict[str, str], operation: Operation) -> None:
    allowed = _COMMON_PARAMETERS | (_SEARCH_PARAMETERS if operation == "searchRetrieve" else frozenset())
    for name in parameters:
        if name not in allowed and not name.startswith("x-"):
            raise SruDiagnostic(8, name, f"Unsupported parameter {name!r} for {operation}")
    if "stylesheet" in parameters:
        raise SruDiagnostic(110, parameters["stylesheet"])


def record_escaping(parameters: dict[str, str], version: SruVersion) -> XmlEscaping:
    """How records are put in the response: as XML, or as escaped text (1.2 recordPacking, 2.0 recordXMLEscaping)."""
    if version == "1.2":
        value = parameters.get("recordPacking", "xml")
        name = "recordPacking"
    else:
        packing = parameters.get("recordPacking")
        if packing is not None and packing.lower() not in ("packed", "xml", "string"):
            raise SruDiagnostic(6, "recordPacking", "recordPacking takes packed (unpacked records are not offered)")
        # SRU 1.x clients speaking 2.0 send recordPacking=xml|string for what 2.0 calls recordXMLEscaping.
        fallback = packing if packing and packing.lower() in ("xml", "string") else "xml"
        value = parameters.get("recordXMLEscaping", fallback)
        name = "recordXMLEscaping"
    if value.lower() not in ("xml", "string"):
        raise SruDiagnostic(71, value, f"{name} takes xml or string")
    return value.lower()  # type: ignore[return-value]


@dataclass(frozen=True)
class SearchRetrieveParameters:
    query: str
    start_record: int
    maximum_records: int
    record_schema: RecordSchema
    escaping: XmlEscaping
    sort_keys: str | None


def _whole_number(parameters: dict[str, str], name: str, default: int, smallest: int) -> int:
    text = parameters.get(name)
    if text is None or text.strip() == "":
        return default
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < smallest:
        at_least = "a positive whole number" if smallest else "a whole number (0 or more)"
        raise SruDiagnostic(6, name, f"{name} must be {at_least}, not {text!r}")
    return int(text)


def search_retrieve_parameters(parameters: dict[str, str], version: SruVersion) -> SearchRetrieveParameters:
    query = parameters.get("query")
    if query is None or not query.strip():
        raise SruDiagnostic(7, "query", "searchRetrieve needs a query (CQL), e.g. dc.title=猫")
    query_type = parameters.get("queryType", "cql")
    if query_type.lower() != "cql":
        raise SruDiagnostic(6, "queryType", f"queryType {query_type!r} is not supported; use cql")
    if "recordXPath" in parameters:
        raise SruDiagnostic(72, parameters["recordXPath"])
    schema_name = parameters.get("recordSchema", "").strip()
    schema = DEFAULT_SCHEMA if not schema_name else SCHEMA_NAMES.get(schema_name.lower())
    if schema is None:
        raise SruDiagnostic(66, schema_name, f"Unknown record schema {schema_name!r}; supported: marcxml, dc, "
                                             "dcndl_simple")
    start = _whole_number(parameters, "startRecord", 1, 1)
    maximum = min(_whole_number(parameters, "maximumRecords", DEFAULT_MAXIMUM_RECORDS, 0), LARGEST_MAXIMUM_RECORDS)
    return SearchRetrieveParameters(query=repair_latin1_mojibake(query), start_record=start, maximum_records=maximum,
                                    record_schema=schema, escaping=record_escaping(parameters, version),
                                    sort_keys=parameters.get("sortKeys"))
