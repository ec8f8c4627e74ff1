"""The operation log screens and API: search (time range in Japan time, actor, action prefix, record, address),
newest first with keyset paging, the CSV exports (screen and API), the API's contract and its new filters, the
改ざん検査 button, and the log of every read, export and verification.

Rows for paging and export are appended by the database owner with a test's own action name, through the
chain trigger like any other row, so the chain stays intact for the other tests of the package.
"""

from __future__ import annotations

import csv
import html
import datetime as dt
import io
import re
import uuid

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.e2e

JAPAN = dt.timezone(dt.timedelta(hours=9))


def append(staff_library, count: int, *, action: str, actor: str = "test-writer", detail: dict | None = None,
           address: str = "198.51.100.7", entity: str = "patron") -> list[int]:
    with psycopg.connect(staff_library.database_url, autocommit=True) as connection:
        return [connection.execute(
            """INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, source_address, detail)
               VALUES ('staff', %s, %s, %s, %s, %s, %s) RETURNING id""",
            [actor, action, entity, str(number), address, Jsonb(detail or {"n": number})]).fetchone()[0]
            for number in range(count)]


def row_ids(page_text: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-id="(\d+)"', page_text)]


def unique_action() -> str:
    return f"test.{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def admin(staff_library):
    return staff_library.staff_client("admin")


def test_the_screen_lists_the_newest_entries_first_in_japan_time(staff_library, admin):
    action = unique_action()
    ids = append(staff_library, 3, action=action, detail={"note": "利用者を閲覧"})
    page = admin.get("/staff/audit", action=action)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert row_ids(page.text) == ids[::-1]
    occurred = staff_library.query("SELECT occurred_at FROM operation_log WHERE id = %s", ids[0])[0][0]
    assert occurred.astimezone(JAPAN).strftime("%Y-%m-%d %H:%M:%S") in page.text
    assert '{"note":"利用者を閲覧"}' in html.unescape(page.text)  # compact JSON, Japanese as it is
    assert "198.51.100.7" in page.text and "test-writer" in page.text


def test_each_filter_narrows_the_search(staff_library, admin):
    action = unique_action()
    append(staff_library, 2, action=action, actor="writer-a", address="198.51.100.21")
    append(staff_library, 2, action=action + "_more", actor="writer-b", address="198.51.100.22", entity="item")
    all_four = row_ids(admin.get("/staff/audit", action=action).text)
    assert len(all_four) == 4  # the action is a prefix on the screen
    assert len(row_ids(admin.get("/staff/audit", action=action, actor="writer-a").text)) == 2
    assert len(row_ids(admin.get("/staff/audit", action=action, address="198.51.100.22").text)) == 2
    assert len(row_ids(admin.get("/staff/audit", action=action, entity="item", entity_id="1").text)) == 1
    now = dt.datetime.now(JAPAN)
    tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
    yesterday = (now - dt.timedelta(days=1)).date().isoformat()
    assert row_ids(admin.get("/staff/audit", action=action, since=tomorrow).text) == []
    assert row_ids(admin.get("/staff/audit", action=action, until=yesterday).text) == []
    # `until` names a day (or minute) and includes it.
    assert len(row_ids(admin.get("/staff/audit", action=action, since=now.date().isoformat(),
                                 until=now.date().isoformat()).text)) == 4
    later = (now + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    assert len(row_ids(admin.get("/staff/audit", action=action, since=(now - dt.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M"), until=later).text)) == 4
    assert f'value="{later}"' in admin.get("/staff/audit", until=later).text


def test_a_bad_time_gets_a_clear_error_naming_the_field(admin):
    page = admin.get("/staff/audit", since="yesterday")
    assert page.status_code == 400 and "since" in page.text and "2026-04-01" in page.text
    backwards = admin.get("/staff/audit", since="2026-04-02", until="2026-04-01")
    assert backwards.status_code == 400 and "until" in backwards.text
    assert admin.get("/staff/audit", before="abc").status_code == 400


def test_paging_walks_older_and_back_newer_without_gaps_or_repeats(staff_library, admin):
    action = unique_action()
    ids = append(staff_library, 250, action=action)
    first = admin.get("/staff/audit", action=action).text
    assert row_ids(first) == ids[::-1][:100]
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = admin.client.get(older).text
    assert row_ids(second) == ids[::-1][100:200]
    third = admin.client.get(re.search(r'href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&")).text
    assert row_ids(third) == ids[::-1][200:]
    assert 'rel="next"' not in third  # the oldest page
    back = admin.client.get(re.search(r'href="([^"]+)" rel="prev"', third).group(1).replace("&amp;", "&")).text
    assert row_ids(back) == ids[::-1][100:200]
    newest = admin.client.get(re.search(r'href="([^"]+)" rel="prev"', back).group(1).replace("&amp;", "&")).text
    assert row_ids(newest) == ids[::-1][:100] and 'rel="prev"' not in newest


def test_searching_the_log_is_itself_logged(staff_library, admin):
    action = unique_action()
    admin.get("/staff/audit", action=action, actor="someone")
    logged = staff_library.query(
        """SELECT actor, source_address, detail FROM operation_log WHERE action = 'audit.read'
           ORDER BY id DESC LIMIT 1""")
    assert logged[0][0] == "admin" and logged[0][1] == admin.address
    assert logged[0][2]["filter"] == {"action": action, "actor": "someone"}


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def test_the_csv_export_has_the_same_rows_oldest_first_with_a_bom_and_a_header(staff_library, admin):
    action = unique_action()
    ids = append(staff_library, 2500, action=action, detail={"note": "督促状を印刷"})
    response = admin.get("/staff/audit.csv", action=action)
    assert response.status_code == 200
    content_type = response.headers["content-type"]
    assert content_type.startswith("text/csv") and "charset=utf-8" in content_type
    assert re.match(r'attachment; filename="operation-log-\d{8}-\d{6}\.csv"', response.headers["content-disposition"])
    assert "content-length" not in response.headers  # streamed, not built in memory
    rows = parse_csv(response.content)
    assert rows[0] == ["id", "occurred_at", "actor_kind", "actor", "action", "entity", "entity_id", "source_address",
                       "detail", "row_hash"]
    assert [int(row[0]) for row in rows[1:]] == ids
    first = rows[1]
    assert first[2:8] == ["staff", "test-writer", action, "patron", "0", "198.51.100.7"]
    assert first[8] == '{"note":"督促状を印刷"}' and first[1].endswith("+09:00")
    stored_hash = staff_library.query("SELECT row_hash FROM operation_log WHERE id = %s", ids[0])[0][0]
    assert first[9] == bytes(stored_hash).hex()
    assert response.content.count(b"\r\n") == len(rows)  # CRLF line ends
    exported = staff_library.query(
        "SELECT actor, detail FROM operation_log WHERE action = 'audit.export' ORDER BY id DESC LIMIT 1")
    assert exported == [("admin", {"filter": {"action": action}, "format": "csv"})]


def test_the_screen_links_its_search_to_the_csv(admin):
    page = admin.get("/staff/audit", actor="librarian", action="staff.").text
    assert 'href="/staff/audit.csv?actor=librarian&amp;action=staff."' in page


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(staff_library, admin):
    action = unique_action()
    append(staff_library, 1, action=action, actor="=HYPERLINK(\"http://evil.example\")")
    rows = parse_csv(admin.get("/staff/audit.csv", action=action).content)
    assert rows[1][3] == "'=HYPERLINK(\"http://evil.example\")"


def test_the_api_keeps_its_contract_and_adds_filters_and_newest_first_paging(staff_library):
    headers = staff_library.api_headers("admin")
    base = staff_library.base_url
    action = unique_action()
    ids = append(staff_library, 5, action=action, address="198.51.100.9")
    contract = httpx.get(f"{base}/api/v1/audit", headers=headers, params={
        "since": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat(), "actor": "test-writer",
        "action": action, "limit": 3})
    assert contract.status_code == 200
    body = contract.json()
    assert [entry["id"] for entry in body["entries"]] == ids[:3] and body["next_after_id"] == ids[2]
    rest = httpx.get(f"{base}/api/v1/audit", headers=headers,
                     params={"action": action, "after_id": body["next_after_id"]}).json()
    assert [entry["id"] for entry in rest["entries"]] == ids[3:] and rest["next_after_id"] is None
    newest = httpx.get(f"{base}/api/v1/audit", headers=headers, params={
        "action": action, "order": "newest_first", "limit": 2, "source_address": "198.51.100.9"}).json()
    assert [entry["id"] for entry in newest["entries"]] == ids[::-1][:2] and newest["next_before_id"] == ids[3]
    by_record = httpx.get(f"{base}/api/v1/audit", headers=headers,
                          params={"action": action, "entity": "patron", "entity_id": "4"}).json()
    assert [entry["id"] for entry in by_record["entries"]] == [ids[4]]
    # 'staff.' is a prefix, 'staff.login' is exact (the contract).
    exact = httpx.get(f"{base}/api/v1/audit", headers=headers, params={"action": "staff.login"}).json()
    assert {entry["action"] for entry in exact["entries"]} == {"staff.login"}
    exported = httpx.get(f"{base}/api/v1/audit.csv", headers=headers, params={"action": action})
    assert exported.status_code == 200 and [int(row[0]) for row in parse_csv(exported.content)[1:]] == ids
    bad = httpx.get(f"{base}/api/v1/audit", headers=headers, params={"order": "sideways"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"


@pytest.mark.parametrize("role", ["librarian", "counter", "stats"])
def test_only_administrators_read_the_log_through_the_api(staff_library, role):
    headers = staff_library.api_headers(role)
    for path in ("/api/v1/audit", "/api/v1/audit.csv"):
        assert httpx.get(f"{staff_library.base_url}{path}", headers=headers).status_code == 403
        assert httpx.get(f"{staff_library.base_url}{path}").status_code == 401


def test_the_verify_button_walks_the_whole_chain_and_is_logged(staff_library, admin):
    response = admin.post("/staff/audit/verify", token_from="/staff/audit")
    assert response.status_code == 200
    assert 'data-chain="intact"' in response.text and "改ざんは見つかりませんでした" in response.text
    checked = int(re.search(r'data-rows-checked="(\d+)"', response.text).group(1))
    logged = staff_library.query(
        "SELECT id, detail FROM operation_log WHERE action = 'audit.verify' ORDER BY id DESC LIMIT 1")[0]
    assert logged[1]["intact"] is True and logged[1]["rows_checked"] == checked
    assert staff_library.query("SELECT count(*) FROM operation_log WHERE id < %s", logged[0])[0][0] == checked


def test_the_verify_button_finds_a_modified_row(staff_library, admin):
    """Tampers with one row of the shared database as its owner and puts it back, so the chain is whole again
    for the other tests."""
    action = unique_action()
    tampered_id = append(staff_library, 3, action=action, detail={"card": "original"})[1]
    with psycopg.connect(staff_library.database_url, autocommit=True) as owner:
        owner.execute("SET session_replication_role = replica")
        original = owner.execute("SELECT detail::text FROM operation_log WHERE id = %s", [tampered_id]).fetchone()[0]
        owner.execute("UPDATE operation_log SET detail = '{\"card\": \"forged\"}' WHERE id = %s", [tampered_id])
        try:
            response = admin.post("/staff/audit/verify", token_from="/staff/audit")
        finally:
            owner.execute("UPDATE operation_log SET detail = %s::jsonb WHERE id = %s", [original, tampered_id])
    assert 'data-chain="broken"' in response.text and f'data-first-bad-id="{tampered_id}"' in response.text
    assert "書き込まれた後に変更されています" in response.text
    assert 'data-chain="intact"' in admin.post("/staff/audit/verify", token_from="/staff/audit").text


def test_the_audit_screens_are_for_administrators_only(staff_library):
    for role in ("librarian", "counter", "stats"):
        client = staff_library.staff_client(role)
        assert client.get("/staff/audit").status_code == 403
        assert client.get("/staff/audit.csv").status_code == 403
        assert client.post("/staff/audit/verify", token_from="/staff/").status_code == 403
    anonymous = staff_library.anonymous_client()
    assert anonymous.get("/staff/audit.csv").headers["location"].startswith("/staff/login?next=")
