"""SRU 1.2 and 2.0 through the real server (granian) over real NDL and Aozora records: explain, every index
and relation, paging, the three record schemas, and a diagnostic (never an HTTP error) for each kind of
bad request. Also the OpenSearch description and its RSS feed."""

from __future__ import annotations

import io
import socket
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import psycopg
import pymarc
import pytest

SRW = "http://www.loc.gov/zing/srw/"
SRU2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
NAMESPACES = {"1.2": SRW, "2.0": SRU2}
DIAGNOSTIC_NAMESPACES = {"1.2": "http://www.loc.gov/zing/srw/diagnostic/",
                         "2.0": "http://docs.oasis-open.org/ns/search-ws/diagnostic"}
DC = "http://purl.org/dc/elements/1.1/"
ZEEREX = "http://explain.z3950.org/dtd/2.0/"
BOOK = "これからの本の話をしよう"
BOOK_ISBN = "9784794970756"


def sru(server, **parameters) -> httpx.Response:
    response = httpx.get(f"{server.base_url}/sru", params=parameters, timeout=30)
    assert response.status_code == 200, response.text
    return response


def search(server, query: str, version: str = "1.2", **parameters) -> ElementTree.Element:
    arguments = {"version": version, "query": query, "recordSchema": "dc", "maximumRecords": "100", **parameters}
    if version == "1.2":
        arguments.setdefault("operation", "searchRetrieve")
    root = ElementTree.fromstring(sru(server, **arguments).content)
    assert root.tag == f"{{{NAMESPACES[version]}}}searchRetrieveResponse"
    return root


def total(root: ElementTree.Element) -> int:
    return int(root.find("{*}numberOfRecords").text)


def dc_titles(root: ElementTree.Element) -> list[str]:
    return [record.find(f".//{{{DC}}}title").text for record in root.iterfind("{*}records/{*}record")]


def dc_bib_ids(root: ElementTree.Element) -> list[int]:
    ids = []
    for record in root.iterfind("{*}records/{*}record"):
        link = next(node.text for node in record.iter(f"{{{DC}}}identifier") if "/bibs/" in node.text)
        ids.append(int(link.rsplit("/", 1)[1]))
    return ids


def positions(root: ElementTree.Element) -> list[int]:
    return [int(node.text) for node in root.iterfind("{*}records/{*}record/{*}recordPosition")]


def diagnostics(root: ElementTree.Element) -> list[tuple[int, str, str]]:
    found = []
    for diagnostic in root.iterfind("{*}diagnostics/{*}diagnostic"):
        uri = diagnostic.find("{*}uri").text
        assert uri.startswith("info:srw/diagnostic/1/")
        details = diagnostic.find("{*}details")
        found.append((int(uri.rsplit("/", 1)[1]), details.text if details is not None else "",
                      diagnostic.find("{*}message").text))
    return found


def test_explain_in_both_versions_lists_indexes_and_schemas(library_server):
    for parameters, version in (({"version": "1.2", "operation": "explain"}, "1.2"), ({}, "2.0"),
                                ({"version": "2.0"}, "2.0")):
        root = ElementTree.fromstring(sru(library_server, **parameters).content)
        assert root.tag == f"{{{NAMESPACES[version]}}}explainResponse"
        assert root.find("{*}version").text == version
        explain = root.find(f"{{*}}record/{{*}}recordData/{{{ZEEREX}}}explain")
        indexes = {node.get("id") for node in explain.iter(f"{{{ZEEREX}}}index")}
        assert {"cql.anywhere", "cql.serverChoice", "dc.title", "dc.creator", "dc.subject", "dc.publisher",
                "dc.date", "bath.isbn", "rec.id"} <= indexes
        schemas = {node.get("name") for node in explain.iter(f"{{{ZEEREX}}}schema")}
        assert {"marcxml", "dc", "dcndl_simple"} <= schemas
        server_info = explain.find(f"{{{ZEEREX}}}serverInfo")
        assert server_info.get("protocol") == "SRU" and server_info.find(f"{{{ZEEREX}}}port").text.isdigit()
        assert explain.find(f".//{{{ZEEREX}}}title").text == "中央図書館 蔵書目録"


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_search_retrieve_answers_in_the_version_asked(library_server, version):
    response = sru(library_server, version=version, query=f"dc.title={BOOK}", recordSchema="dc",
                   **({"operation": "searchRetrieve"} if version == "1.2" else {}))
    assert response.headers["content-type"].startswith("text/xml" if version == "1.2" else "application/sru+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{{{NAMESPACES[version]}}}searchRetrieveResponse"
    assert root.find(f"{{{NAMESPACES[version]}}}version").text == version
    assert total(root) >= 1 and dc_titles(root)[0] == BOOK and positions(root)[0] == 1
    echoed = root.find("{*}echoedSearchRetrieveRequest")
    assert echoed.find("{*}query").text == f"dc.title={BOOK}" and echoed.find("{*}version").text == version
    escaping = root.find("{*}records/{*}record/{*}" + ("recordPacking" if version == "1.2" else "recordXMLEscaping"))
    assert escaping.text == "xml"
    if version == "2.0":
        assert root.find("{*}resultCountPrecision").text.endswith("/exact")


def bib_id_of(database_url: str, title: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT min(id) FROM bib WHERE title = %s", [title]).fetchone()[0]


@pytest.mark.parametrize("query, expected_title", [
    ("萩野", BOOK),
    (f'"{BOOK}"', BOOK),
    ("cql.anywhere = 晶文社", BOOK),
    ('cql.serverChoice all "電子書籍 晶文社"', BOOK),
    ('cql.anywhere any "存在しない語彙 晶文社"', BOOK),
    ("dc.title = これからの本", BOOK),
    ('dc.title adj "本の話"', BOOK),
    ('dc.title all "これから 話"', BOOK),
    ('dc.title any "存在しない語彙 これからの本"', BOOK),
    (f"dc.title == {BOOK}", BOOK),
    (f'dc.title exact "{BOOK}"', BOOK),
    ("dc.title = これから*", BOOK),
    ('dc.title = "コレカラ ノ ホン"', BOOK),
    ("dc.creator = 萩野", BOOK),
    ('dc.creator = "宮沢 賢治" and dc.title = 銀河鉄道', "銀河鉄道の夜"),
    ("dc.creator any はぎの", BOOK),
    ("dc.subject = 電子書籍", BOOK),
    ("dc.publisher = 晶文社", BOOK),
    (f"dc.title == {BOOK} and dc.date = 2019", BOOK),
    (f"dc.title == {BOOK} and dc.date < 2020", BOOK),
    (f"dc.title == {BOOK} and dc.date <= 2019", BOOK),
    (f"dc.title == {BOOK} and dc.date > 2018", BOOK),
    (f"dc.title == {BOOK} and dc.date >= 2019", BOOK),
    (f'dc.title == {BOOK} and dc.date within "2010 2020"', BOOK),
    (f"dc.title == {BOOK} and dc.date <> 2000", BOOK),
    (f"bath.isbn = {BOOK_ISBN}", BOOK),
    ("bath.isbn = 4-7949-7075-7", BOOK),
    (f'bath.isbn any "9784101092058 {BOOK_ISBN}"', BOOK),
    (f"dc.title == {BOOK} or dc.title == 銀河鉄道の夜", BOOK),
    (f"dc.publisher = 晶文社 not dc.title == 銀河鉄道の夜", BOOK),
])
@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_every_index_and_relation_finds_its_record(library_server, query, expected_title, version):
    assert expected_title in dc_titles(search(library_server, query, version))


@pytest.mark.parametrize("query", [
    f"dc.title == {BOOK} and dc.date > 2019", f"dc.title == {BOOK} and dc.date < 2019",
    f"dc.title == {BOOK} and dc.date <> 2019", f"dc.title == {BOOK} not dc.creator = 萩野",
    "dc.title == これからの本", "bath.isbn = 9784794970757",
])
def test_relations_exclude_what_they_should(library_server, query):
    assert BOOK not in dc_titles(search(library_server, query))


def test_record_ids(library_server):
    bib_id = bib_id_of(library_server.database_url, BOOK)
    assert dc_titles(search(library_server, f"rec.id = {bib_id}")) == [BOOK]
    other = bib_id_of(library_server.database_url, "銀河鉄道の夜")
    root = search(library_server, f'rec.id any "{other} {bib_id} 999999999"')
    assert total(root) == 2 and dc_bib_ids(root) == sorted([bib_id, other])


def test_sorting_by_year(library_server):
    root = search(library_server, "dc.title = 猫 sortBy dc.date/sort.descending", maximumRecords="50")
    years = [int(node.text) for node in root.iter(f"{{{DC}}}date")]
    assert len(years) > 5 and years == sorted(years, reverse=True)
    oldest = search(library_server, "dc.title = 猫", version="2.0", sortKeys="dc.date,,1", maximumRecords="50")
    years = [int(node.text) for node in oldest.iter(f"{{{DC}}}date")]
    assert years == sorted(years)


def test_paging_windows_match_the_full_list(library_server):
    everything = search(library_server, "dc.title = 猫", maximumRecords="100")
    count = total(everything)
    all_ids = dc_bib_ids(everything)
    assert count > 30 and len(all_ids) == min(count, 100)
    first = search(library_server, "dc.title = 猫", maximumRecords="10")
    assert dc_bib_ids(first) == all_ids[:10] and positions(first) == list(range(1, 11))
    assert first.find("{*}nextRecordPosition").text == "11"
    for start, size in ((5, 10), (11, 7), (23, 13), (count - 3, 10)):
        window = search(library_server, "dc.title = 猫", startRecord=str(start), maximumRecords=str(size))
        expected = all_ids[start - 1:start - 1 + size]
        assert dc_bib_ids(window) == expected, (start, size)
        assert positions(window) == list(range(start, start + len(expected)))
        following = window.find("{*}nextRecordPosition")
        if start + size <= count:
            assert following.text == str(start + size)
        else:
            assert following is None
    count_only = search(library_server, "dc.title = 猫", maximumRecords="0")
    assert total(count_only) == count and not dc_titles(count_only)
    assert count_only.find("{*}nextRecordPosition") is None
    capped = search(library_server, "cql.allRecords = 1", maximumRecords="500")
    assert len(positions(capped)) == 100 and capped.find("{*}nextRecordPosition").text == "101"


def test_a_start_beyond_the_results_is_diagnostic_61(library_server):
    count = total(search(library_server, "dc.title = 猫", maximumRecords="0"))
    root = search(library_server, "dc.title = 猫", startRecord=str(count + 1))
    assert diagnostics(root)[0][0] == 61 and total(root) == 0
    assert diagnostics(search(library_server, "cql.allRecords = 1", startRecord="10001"))[0][0] == 61


def marc_title(record_data: ElementTree.Element) -> str:
    marc_xml = ElementTree.tostring(next(iter(record_data)))
    record = pymarc.parse_xml_to_array(io.BytesIO(marc_xml))[0]
    return record["245"]["a"]


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_marcxml_records_parse_with_pymarc(library_server, version):
    root = search(library_server, f"bath.isbn = {BOOK_ISBN}", version, recordSchema="marcxml")
    record = root.find("{*}records/{*}record")
    assert record.find("{*}recordSchema").text == "info:srw/schema/1/marcxml-v1.1"
    assert marc_title(record.find("{*}recordData")).startswith(BOOK)
    aozora = search(library_server, "dc.title == 銀河鉄道の夜", version, recordSchema="info:srw/schema/1/marcxml-v1.1")
    assert marc_title(aozora.find("{*}records/{*}record/{*}recordData")) == "銀河鉄道の夜"


def test_records_as_escaped_strings(library_server):
    for version, packing in (("1.2", {"recordPacking": "string"}), ("2.0", {"recordXMLEscaping": "string"})):
        root = search(library_server, f"bath.isbn = {BOOK_ISBN}", version, recordSchema="marcxml", **packing)
        data = root.find("{*}records/{*}record/{*}recordData")
        assert len(data) == 0 and data.text.lstrip().startswith("<")
        record = pymarc.parse_xml_to_array(io.BytesIO(data.text.encode("utf-8")))[0]
        assert record["245"]["a"].startswith(BOOK)


def test_dublin_core_and_dcndl_simple(library_server):
    root = search(library_server, f"bath.isbn = {BOOK_ISBN}")
    record = root.find("{*}records/{*}record")
    assert record.find("{*}recordSchema").text == "info:srw/schema/1/dc-v1.1"
    assert record.find(f".//{{{DC}}}publisher").text == "晶文社"
    assert f"urn:isbn:{BOOK_ISBN}" in [node.text for node in record.iter(f"{{{DC}}}identifier")]
    ndl = search(library_server, f"bath.isbn = {BOOK_ISBN}", recordSchema="dcndl_simple")
    data = ndl.find("{*}records/{*}record/{*}recordData")
    simple = next(iter(data))
    assert simple.tag == "{http://ndl.go.jp/dcndl/dcndl_simple/}dc"
    assert simple.find(f"{{{DC}}}title").text == BOOK
    assert simple.find("{http://ndl.go.jp/dcndl/terms/}titleTranscription").text.startswith("コレカラ")
    assert any(node.text == BOOK_ISBN for node in simple.iter(f"{{{DC}}}identifier"))


@pytest.mark.parametrize("parameters, number, details", [
    ({"version": "1.1", "operation": "searchRetrieve", "query": "猫"}, 5, "1.2 2.0"),
    ({"version": "3.0", "query": "猫"}, 5, "1.2 2.0"),
    ({"version": "1.2", "query": "猫"}, 7, "operation"),
    ({"version": "1.2", "operation": "searchRetrieve"}, 7, "query"),
    ({"version": "2.0", "query": ""}, 7, "query"),
    ({"version": "1.2", "operation": "scan", "scanClause": "dc.title=猫"}, 4, "scan"),
    ({"version": "2.0", "scanClause": "dc.title=猫"}, 4, "scan"),
    ({"version": "1.2", "operation": "update"}, 4, "update"),
    ({"version": "1.2", "operation": "searchRetrieve", "query": 'dc.title="猫'}, 10, 'dc.title="猫'),
    ({"version": "2.0", "query": "(猫"}, 10, "(猫"),
    ({"version": "2.0", "query": "dc.identifier=猫"}, 16, "dc.identifier"),
    ({"version": "2.0", "query": "foo.title=猫"}, 15, "foo"),
    ({"version": "2.0", "query": "dc.title<猫"}, 19, "<"),
    ({"version": "2.0", "query": "dc.title=/stem 猫"}, 20, "stem"),
    ({"version": "2.0", "query": "dc.title=?猫"}, 28, "?猫"),
    ({"version": "2.0", "query": "dc.date=昭和"}, 36, "昭和"),
    ({"version": "2.0", "query": "猫 prox 犬"}, 37, "prox"),
    ({"version": "2.0", "query": " or ".join(["猫"] * 120)}, 38, " or ".join(["猫"] * 120)),
    ({"version": "2.0", "query": "rec.id=1 and 猫"}, 48, "rec.id"),
    ({"version": "2.0", "query": "猫", "startRecord": "0"}, 6, "startRecord"),
    ({"version": "2.0", "query": "猫", "startRecord": "abc"}, 6, "startRecord"),
    ({"version": "2.0", "query": "猫", "maximumRecords": "-1"}, 6, "maximumRecords"),
    ({"version": "2.0", "query": "猫", "maximumRecords": "99999999999"}, 6, "maximumRecords"),
    ({"version": "2.0", "query": "猫", "queryType": "fcs"}, 6, "queryType"),
    ({"version": "2.0", "query": "猫", "recordSchema": "mods"}, 66, "mods"),
    ({"version": "1.2", "operation": "searchRetrieve", "query": "猫", "recordPacking": "json"}, 71, "json"),
    ({"version": "2.0", "query": "猫", "recordXMLEscaping": "yaml"}, 71, "yaml"),
    ({"version": "2.0", "query": "猫", "recordXPath": "/record"}, 72, "/record"),
    ({"version": "2.0", "query": "猫", "colour": "blue"}, 8, "colour"),
    ({"version": "2.0", "query": "猫", "stylesheet": "/x.xsl"}, 110, "/x.xsl"),
    ({"version": "2.0", "query": "猫", "sortKeys": "dc.subject"}, 88, "dc.subject"),
])
def test_each_bad_request_is_a_diagnostic_naming_it(library_server, parameters, number, details):
    response = sru(library_server, **parameters)
    root = ElementTree.fromstring(response.content)
    version = "1.2" if parameters.get("version", "").startswith("1") else "2.0"
    assert root.tag.startswith(f"{{{NAMESPACES[version]}}}")
    found = diagnostics(root)
    assert len(found) == 1 and found[0][0] == number and found[0][1] == details, found
    assert found[0][2]  # a message for people
    assert root.find(f".//{{{DIAGNOSTIC_NAMESPACES[version]}}}diagnostic") is not None


def test_extension_parameters_are_ignored(library_server):
    root = search(library_server, "dc.title = 猫", "2.0", **{"x-shoka-debug": "1", "resultSetTTL": "60"})
    assert total(root) > 0 and not diagnostics(root)


def test_raw_utf8_in_the_query_string_is_read_as_utf8(library_server):
    """Some clients send the query's UTF-8 bytes without percent-encoding them."""
    host, port = library_server.base_url.removeprefix("http://").split(":")
    target = "/sru?version=1.2&operation=searchRetrieve&maximumRecords=0&query=dc.title%3D".encode() + "猫".encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    body = reply.split(b"\r\n\r\n", 1)[1]
    if b"\r\n0\r\n" in body:  # chunked transfer encoding
        body = b"".join(body.split(b"\r\n")[1::2])
    raw = ElementTree.fromstring(body[body.index(b"<?xml"):])
    encoded = search(library_server, "dc.title=猫", maximumRecords="0")
    assert total(raw) == total(encoded) > 0
    assert raw.find("{*}echoedSearchRetrieveRequest/{*}query").text == "dc.title=猫"


def test_form_post(library_server):
    response = httpx.post(f"{library_server.base_url}/sru",
                          content=f"version=1.2&operation=searchRetrieve&recordSchema=dc&query={quote('dc.title=猫')}",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert response.status_code == 200
    assert total(ElementTree.fromstring(response.content)) > 0


def test_opensearch_description(library_server):
    response = httpx.get(f"{library_server.base_url}/opensearch.xml")
    assert response.status_code == 200 and "opensearchdescription+xml" in response.headers["content-type"]
    root = ElementTree.fromstring(response.content)
    namespace = "{http://a9.com/-/spec/opensearch/1.1/}"
    assert root.tag == f"{namespace}OpenSearchDescription"
    assert len(root.find(f"{namespace}ShortName").text) <= 16
    assert "蔵書" in root.find(f"{namespace}Description").text
    assert root.find(f"{namespace}InputEncoding").text == "UTF-8" and root.find(f"{namespace}Language").text == "ja"
    templates = {url.get("type"): url.get("template") for url in root.iter(f"{namespace}Url")}
    assert templates["text/html"] == f"{library_server.base_url}/search?q={{searchTerms}}&page={{startPage?}}"
    assert templates["application/rss+xml"].startswith(f"{library_server.base_url}/opensearch/rss?q={{searchTerms}}")


def test_opensearch_rss_feed(library_server):
    response = httpx.get(f"{library_server.base_url}/opensearch/rss", params={"q": "猫", "page": 2, "count": 10})
    assert response.status_code == 200 and "rss+xml" in response.headers["content-type"]
    channel = ElementTree.fromstring(response.content).find("channel")
    namespace = "{http://a9.com/-/spec/opensearch/1.1/}"
    assert int(channel.find(f"{namespace}totalResults").text) > 20
    assert channel.find(f"{namespace}startIndex").text == "11"
    assert channel.find(f"{namespace}itemsPerPage").text == "10"
    items = channel.findall("item")
    assert len(items) == 10 and all("/bibs/" in item.find("link").text for item in items)
    assert httpx.get(f"{library_server.base_url}/opensearch/rss").status_code == 400
    assert httpx.get(f"{library_server.base_url}/opensearch/rss", params={"q": "猫", "count": 5}).status_code == 400
