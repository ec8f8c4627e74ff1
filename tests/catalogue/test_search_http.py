"""The catalogue through the real server (granian, two workers): search over real NDL and Aozora records,
edits and loans showing up in search, MARC export, errors, and `shoka reindex` swapping without downtime."""

from __future__ import annotations

import datetime as dt
import threading
import time

import httpx
import psycopg
import pymarc
import pytest
from psycopg.types.json import Jsonb

from shoka.audit import Actor
from shoka.catalogue.imports import import_aozora_list, import_marc_files

NOW = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def library_server(module_database_url, shared_data, tmp_path_factory, request):
    actor = Actor(kind="cli", name="test")
    import_marc_files(module_database_url, [shared_data / "marc" / "ndl_japanmarc_133.mrc"], dry_run=False,
                      skip_rejects=False, actor=actor, now=NOW)
    import_aozora_list(module_database_url, shared_data / "aozora" / "list_person_all_utf8_2017.csv",
                       dry_run=False, actor=actor, now=NOW)
    with psycopg.connect(module_database_url, autocommit=True) as connection:
        connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) VALUES "
                           "('central', '中央図書館', 'Central Library', 'central'), "
                           "('gyotoku', '行徳図書館', 'Gyotoku Library', 'branch')")
        connection.execute("INSERT INTO patron_category (code, name_ja, name_en) VALUES ('adult', '一般', 'Adult')")
    return request.getfixturevalue("server")


def search(server, **parameters) -> dict:
    response = httpx.get(f"{server.base_url}/api/v1/search", params={"per_page": 20, **parameters})
    assert response.status_code == 200, response.text
    return response.json()


def titles(server, query: str, **parameters) -> list[str]:
    return [hit["title"] for hit in search(server, q=query, **parameters)["hits"]]


def eventually(check, timeout_seconds: float = 10.0):
    """Polls `check` (hitting either worker) until it returns a truthy value; returns (value, seconds)."""
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout_seconds:
            raise AssertionError(f"not true after {timeout_seconds} s")
        time.sleep(0.05)


def add_record(database_url: str, title: str, reading: str | None = None, isbns: list[str] | None = None) -> int:
    with psycopg.connect(database_url) as connection:
        bib_id = connection.execute(
            "INSERT INTO bib (source, title, title_reading, isbns, material_type, authors) "
            "VALUES ('manual', %s, %s, %s, 'book', %s) RETURNING id",
            [title, reading, isbns or [], Jsonb([{"name": "試験 太郎", "reading": "シケン, タロウ"}])]).fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('bib', %s)", [bib_id])
    return bib_id


def test_real_records_by_title_reading_and_isbn(library_server):
    assert "これからの本の話をしよう" in titles(library_server, "これからのほんのはなし")
    assert "これからの本の話をしよう" in titles(library_server, "コレカラ ノ ホン")
    assert titles(library_server, "9784794970756") == titles(library_server, "4-7949-7075-7") != []
    assert "猫の事務所" in titles(library_server, "猫", per_page=100)
    assert titles(library_server, "猫の事務所")[0] == "猫の事務所"
    assert "銀河鉄道の夜" in titles(library_server, "銀河鉄道 宮沢")


def test_hits_carry_what_the_contract_lists(library_server):
    page = search(library_server, q="銀河鉄道の夜")
    hit = page["hits"][0]
    assert {"bib_id", "title", "title_reading", "authors", "publication_year", "isbns", "availability"} <= set(hit)
    assert page["total"] >= 1 and page["facets"]["material_type"]


def test_catalogue_edits_become_searchable_and_phrases_stay_precise(library_server):
    add_record(library_server.database_url, "東京都の坂道", "トウキョウト ノ サカミチ")
    add_record(library_server.database_url, "京都と東京の喫茶店", "キョウト ト トウキョウ ノ キッサテン")
    _, seconds = eventually(lambda: "東京都の坂道" in titles(library_server, "東京都"))
    print(f"edit searchable after {seconds:.3f} s")
    eventually(lambda: "京都と東京の喫茶店" in titles(library_server, "京都 東京 喫茶店"))
    assert "京都と東京の喫茶店" not in titles(library_server, "東京都", per_page=100)


def test_a_loan_shows_in_search_without_reindexing(library_server):
    url = library_server.database_url
    bib_id = add_record(url, "貸出状態の試験資料", "カシダシ ジョウタイ ノ シケン シリョウ")
    with psycopg.connect(url) as connection:
        central = connection.execute("SELECT id FROM service_point WHERE code = 'central'").fetchone()[0]
        item_id = connection.execute(
            "INSERT INTO item (barcode, bib_id, service_point_id, material_type) VALUES ('T0001', %s, %s, 'book') "
            "RETURNING id", [bib_id, central]).fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('item', %s)", [item_id])
    eventually(lambda: search(library_server, q="貸出状態の試験資料", branch="central", available="true")["total"] == 1)
    with psycopg.connect(url) as connection:
        patron = connection.execute(
            "INSERT INTO patron (card, category, home_service_point_id, expires_on, age_band) "
            "VALUES ('P0001', 'adult', %s, '2030-01-01', '30-39') RETURNING id", [central]).fetchone()[0]
        loan = connection.execute(
            "INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on, patron_category, "
            "patron_age_band, material_type) VALUES (%s, %s, %s, now(), current_date + 14, 'adult', '30-39', 'book') "
            "RETURNING id", [item_id, patron, central]).fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id, payload) VALUES ('loan', %s, %s)",
                           [loan, Jsonb({"item_id": item_id})])
    # Each request may reach either worker, and a worker whose index has not yet picked up the new record finds
    # nothing at all: so every check reads the record and its loan state from one answer.
    def shown_as_lent():
        hits = search(library_server, q="貸出状態の試験資料")["hits"]
        return hits[0] if hits and hits[0]["available_now"] is False else None

    hit, seconds = eventually(shown_as_lent)
    print(f"loan visible in search after {seconds:.3f} s")
    assert hit["availability"][0]["label"] == "貸出中"
    detail, _ = eventually(lambda: (answer := httpx.get(f"{library_server.base_url}/api/v1/bibs/{bib_id}").json())
                           ["items"][0]["label"] == "貸出中" and answer)
    assert detail["items"][0]["due_on"]


def test_bad_queries_get_a_400_naming_the_problem(library_server):
    for parameters, fragment in [({"q": "year:abc"}, "year"), ({"q": "猫", "per_page": 5}, "per_page"),
                                 ({"q": "猫", "branch": "nowhere"}, "nowhere"), ({"q": "あ" * 1001}, "q")]:
        response = httpx.get(f"{library_server.base_url}/api/v1/search", params=parameters)
        assert response.status_code == 400, parameters
        assert fragment in response.json()["message"]


def test_unknown_record_is_404(library_server):
    response = httpx.get(f"{library_server.base_url}/api/v1/bibs/999999999")
    assert response.status_code == 404 and response.json()["code"] == "bib_not_found"


def test_marc_export_returns_the_imported_record_unchanged(library_server, shared_data):
    original = next(pymarc.MARCReader((shared_data / "marc" / "ndl_japanmarc_133.mrc").open("rb"), to_unicode=True))
    hits = search(library_server, q=f"isbn:{original['020']['a']}")["hits"]
    raw = httpx.get(f"{library_server.base_url}/api/v1/bibs/{hits[0]['bib_id']}/marc", params={"format": "iso2709"})
    assert raw.status_code == 200 and raw.content == original.as_marc()


def test_marc_export_of_a_catalogued_record_carries_the_reading(library_server):
    bib_id = add_record(library_server.database_url, "試験の本", "シケン ノ ホン", ["978-4-10-109205-8"])
    xml = httpx.get(f"{library_server.base_url}/api/v1/bibs/{bib_id}/marc").text
    record = pymarc.parse_xml_to_array(__import__("io").StringIO(xml))[0]
    assert record["245"]["a"] == "試験の本"
    readings = [field for field in record.get_fields("880") if field["6"].startswith("245-")]
    assert readings and readings[0]["a"] == "シケン ノ ホン"


def test_reindex_swaps_in_a_new_generation_while_search_keeps_answering(library_server):
    failures, stop = [], threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            response = httpx.get(f"{library_server.base_url}/api/v1/search", params={"q": "猫"})
            if response.status_code != 200 or response.json()["total"] == 0:
                failures.append(response.status_code)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        result = library_server.run_cli("reindex")
        assert result.returncode == 0, result.stderr
        assert "indexed" in result.stdout
        time.sleep(1.0)  # let both workers switch
        add_record(library_server.database_url, "再索引後の新着資料", "サイサクインゴ ノ シンチャク シリョウ")
        eventually(lambda: "再索引後の新着資料" in titles(library_server, "再索引後"))
    finally:
        stop.set()
        searcher.join()
    assert failures == []
    generations = sorted(path.name for path in (library_server.home / "index").glob("gen-*"))
    assert 1 <= len(generations) <= 2
