"""The /sru endpoint: SRU 1.2 and 2.0 explain and searchRetrieve over GET and form POST.

Every answer is an SRU document with HTTP 200, as SRU clients expect: a request the server cannot serve
gets a diagnostic naming the parameter, index or value at fault, never an HTTP error page.
"""

from __future__ import annotations

import logging

from litestar import Request, Response, route

from shoka import _engine
from shoka.sru.cql import CqlSyntaxError, CqlTooComplex, parse_cql
from shoka.sru.diagnostics import Diagnostic, SruDiagnostic
from shoka.sru.explain import ZEEREX_SCHEMA_IDENTIFIER, explain_record
from shoka.sru.library_identity import local_library_name
from shoka.sru.parameters import (Negotiated, SruVersion, check_parameter_names, negotiate, read_parameters,
                                  record_escaping, search_retrieve_parameters)
from shoka.sru.query_translation import EngineSearch, parse_sort_keys_parameter, translate
from shoka.sru.records import SCHEMAS, RecordUnavailable, fetch_bib_rows, record_xml
from shoka.sru.responses import (ACCEPTABLE_MEDIA_TYPES, MEDIA_TYPES, ResponseRecord, content_type, explain_response,
                                 search_retrieve_response)
from shoka.sru.retrieval import engine_window, record_id_window

logger = logging.getLogger(__name__)

_ECHOED_SEARCH_PARAMETERS = ("query", "startRecord", "maximumRecords", "recordPacking", "recordXMLEscaping",
                             "recordSchema", "resultSetTTL", "sortKeys")


def _echo(parameters: dict[str, str], version: SruVersion, names: tuple[str, ...]) -> list[tuple[str, str]]:
    echoed = [("version", version)]
    for name in names:
        if name in parameters and (name != "recordXMLEscaping" or version == "2.0"):
            echoed.append((name, parameters[name]))
    return echoed


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _search_retrieve(request: Request, version: SruVersion, parameters: dict[str, str]) -> str:
    arguments = search_retrieve_parameters(parameters, version)
    try:
        query = parse_cql(arguments.query)
    except CqlTooComplex as error:
        raise SruDiagnostic(38, arguments.query, f"The query is too complex: {error}") from None
    except CqlSyntaxError as error:
        raise SruDiagnostic(10, arguments.query, f"Query syntax error: {error}") from None
    sort_keys = parse_sort_keys_parameter(arguments.sort_keys) if arguments.sort_keys else ()
    search = translate(query, sort_keys)
    pools = request.app.state.pools
    if isinstance(search, EngineSearch):
        window = await engine_window(request.app.state.engine.catalogue, search, arguments.start_record,
                                     arguments.maximum_records)
    else:
        window = await record_id_window(pools.public, search, arguments.start_record, arguments.maximum_records)
    rows = await fetch_bib_rows(pools.public, window.bib_ids)
    schema = SCHEMAS[arguments.record_schema]
    base_url = _base_url(request)
    records = []
    for position, bib_id in enumerate(window.bib_ids, start=arguments.start_record):
        row = rows.get(bib_id)
        if row is None:
            records.append(ResponseRecord(position, schema.identifier, diagnostic=Diagnostic(
                64, str(bib_id), "The record was withdrawn while the search ran")))
            continue
        try:
            records.append(ResponseRecord(position, schema.identifier,
                                          record_xml(row, arguments.record_schema, base_url)))
        except RecordUnavailable as error:
            records.append(ResponseRecord(position, schema.identifier, diagnostic=Diagnostic(67, str(bib_id),
                                                                                             str(error))))
    after_last = arguments.start_record + len(window.bib_ids)
    next_position = after_last if window.bib_ids and after_last <= window.total else None
    return search_retrieve_response(version, total=window.total, records=records, next_position=next_position,
                                    escaping=arguments.escaping,
                                    echoed=_echo(parameters, version, _ECHOED_SEARCH_PARAMETERS), diagnostics=[])


async def _explain(request: Request, version: SruVersion, parameters: dict[str, str]) -> str:
    escaping = record_escaping(parameters, version)
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    name = await local_library_name(request.app.state.pools.public)
    record = explain_record(version, url.hostname or "localhost", port, name)
    return explain_response(version, explain_record=record, schema_identifier=ZEEREX_SCHEMA_IDENTIFIER,
                            escaping=escaping, echoed=_echo(parameters, version, ("recordPacking",)), diagnostics=[])


def _diagnostic_document(negotiated: Negotiated, parameters: dict[str, str], diagnostic: Diagnostic) -> str:
    version = negotiated.version
    if negotiated.operation == "explain":
        return explain_response(version, explain_record=None, schema_identifier=ZEEREX_SCHEMA_IDENTIFIER,
                                escaping="xml", echoed=_echo(parameters, version, ()), diagnostics=[diagnostic])
    return search_retrieve_response(version, total=0, records=[], next_position=None, escaping="xml",
                                    echoed=_echo(parameters, version, _ECHOED_SEARCH_PARAMETERS),
                                    diagnostics=[diagnostic])


async def _answer(request: Request, negotiated: Negotiated, parameters: dict[str, str]) -> str:
    if negotiated.problem is not None:
        raise SruDiagnostic(negotiated.problem.number, negotiated.problem.details, negotiated.problem.message)
    check_parameter_names(parameters, negotiated.operation)
    if negotiated.operation == "explain":
        return await _explain(request, negotiated.version, parameters)
    return await _search_retrieve(request, negotiated.version, parameters)


@route("/sru", http_method=["GET", "POST"], include_in_schema=False)
async def sru_endpoint(request: Request) -> Response[str]:
    form_body = b""
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        form_body = await request.body()
    parameters = read_parameters(request.scope.get("query_string", b""), form_body)
    negotiated = negotiate(parameters)
    try:
        document = await _answer(request, negotiated, parameters)
    except SruDiagnostic as failure:
        document = _diagnostic_document(negotiated, parameters, failure.diagnostic)
    except _engine.QueryError as error:
        document = _diagnostic_document(negotiated, parameters,
                                        Diagnostic(10, str(error), f"The search failed: {error}"))
    except _engine.IndexUnavailableError:
        logger.error("SRU search while the index is unavailable")
        document = _diagnostic_document(negotiated, parameters, Diagnostic(2, "search index"))
    except Exception:  # a bug must still leave the client a readable SRU answer; it is logged with its traceback
        logger.exception("SRU request failed")
        document = _diagnostic_document(negotiated, parameters, Diagnostic(1, "", "General system error (logged)"))
    accepted = parameters.get("httpAccept", "")
    media_type = accepted if accepted in ACCEPTABLE_MEDIA_TYPES else MEDIA_TYPES[negotiated.version]
    return Response(content=document, media_type=content_type(media_type), status_code=200)
