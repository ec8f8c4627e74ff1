"""Cataloguing records on a real server (/staff/catalogue): who may, creating a record through the form and
finding it in search (by title and by its reading typed in hiragana), editing in the form and in the raw MARC
view, field errors that keep what was typed, the form/MARC sync, and deletion with its safeguards."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.staff.catalogue_steps import bib_id_of, changed, create_record, form_fields, hit_ids, search_until

pytestmark = pytest.mark.e2e


def _nonsense_reading() -> tuple[str, str]:
    """A katakana reading no demo record has, and the same words in hiragana without the catalogue's spaces."""
    syllables = "カキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロ"
    words = ["".join(secrets.choice(syllables) for _ in range(4)) for _ in range(2)]
    katakana = " ".join(words)
    hiragana = "".join(chr(ord(character) - 0x60) for character in "".join(words))
    return katakana, hiragana


@pytest.mark.parametrize("role", ["counter", "stats"])
def test_counter_and_statistics_staff_may_not_catalogue(staff_library, role):
    client = staff_library.staff_client(role)
    for path in ("/staff/catalogue", "/staff/catalogue/new", "/staff/catalogue/bibs/1", "/staff/catalogue/import"):
        assert client.get(path).status_code == 403, path
    assert client.post("/staff/catalogue/bibs", {"title": "x"}, token_from="/staff/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(staff_library):
    response = staff_library.anonymous_client().get("/staff/catalogue/new")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=%2Fstaff%2Fcatalogue%2Fnew")


def test_a_new_record_is_searchable_by_title_and_by_its_reading_in_hiragana(staff_library):
    client = staff_library.staff_client("librarian")
    token = secrets.token_hex(4)
    reading, hiragana = _nonsense_reading()
    started = time.monotonic()
    bib_id = create_record(
        client, title=f"書架試験録 {token}", title_reading=reading, responsibility="試験 太郎 著",
        author_name=["試験, 太郎", ""], author_reading=["シケン, タロウ", ""], publisher="書架出版",
        publication_date="2024.4", isbns="978-4-7949-7075-6", ndc="913.6", subjects="試験\n書架--歴史",
        extent="201p ; 19cm")
    print(f"\nnew-record form opened, filled and saved in {time.monotonic() - started:.3f} s")
    page, seconds = search_until(staff_library.base_url, lambda page: bib_id in hit_ids(page), q=token)
    assert bib_id in hit_ids(page), f"not found by title after {seconds:.2f} s"
    print(f"\nnew record {bib_id} found by title after {seconds:.3f} s")
    by_reading, _ = search_until(staff_library.base_url, lambda page: bib_id in hit_ids(page), q=hiragana)
    assert bib_id in hit_ids(by_reading)
    hit = next(hit for hit in by_reading["hits"] if hit["bib_id"] == bib_id)
    assert hit["title_reading"] == reading and hit["isbns"] == ["9784794970756"] and hit["ndc"] == "913.6"
    row = staff_library.query("SELECT source, control_source, control_number, authors, subjects, marc_iso2709 IS NOT NULL "
                              "FROM bib WHERE id = %s", bib_id)[0]
    assert row[:3] == ("manual", "Shoka", str(bib_id)) and row[5]
    assert row[3] == [{"name": "試験, 太郎", "reading": "シケン, タロウ", "role": None}] and row[4] == ["試験", "書架--歴史"]
    log = staff_library.query("SELECT actor, detail->>'title' FROM operation_log WHERE action = 'bib.create' "
                              "AND entity_id = %s", str(bib_id))
    assert log == [(staff_library.account("librarian")["username"], f"書架試験録 {token}")]


def test_editing_in_the_form_changes_the_record_and_search(staff_library):
    client = staff_library.staff_client("librarian")
    token, new_token = secrets.token_hex(4), secrets.token_hex(4)
    bib_id = create_record(client, title=f"編集前 {token}", author_name=["編集, 一郎", ""])
    page = client.get(f"/staff/catalogue/bibs/{bib_id}")
    assert page.status_code == 200 and 'value="編集, 一郎"' in page.text
    fields = form_fields(page.text, "record-form")
    saved = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, intent="save-form", title=f"編集後 {new_token}",
                                                                   subtitle="副題つき"),
                        token_from=f"/staff/catalogue/bibs/{bib_id}")
    assert bib_id_of(saved) == bib_id and "saved=updated" in saved.headers["location"]
    found, _ = search_until(staff_library.base_url, lambda page: bib_id in hit_ids(page), q=new_token)
    assert bib_id in hit_ids(found)
    gone, _ = search_until(staff_library.base_url, lambda page: bib_id not in hit_ids(page), q=token)
    assert bib_id not in hit_ids(gone)
    assert staff_library.query("SELECT title, subtitle, authors->0->>'name' FROM bib WHERE id = %s", bib_id) == [
        (f"編集後 {new_token}", "副題つき", "編集, 一郎")]
    assert "書誌を保存しました" in client.get(f"/staff/catalogue/bibs/{bib_id}", saved="updated").text


def test_a_raw_marc_edit_keeps_a_tag_the_form_does_not_know(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id = create_record(client, title=f"MARC編集 {secrets.token_hex(4)}")
    fields = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    marc = fields["marc"][0].rstrip("\n") + "\n590 __ $a寄贈: 市川市民文庫\n938 __ $aLocal$bdata\n"
    saved = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, intent="save-marc", marc=marc),
                        token_from=f"/staff/catalogue/bibs/{bib_id}")
    assert bib_id_of(saved) == bib_id
    # Now a form edit: the unknown fields stay as they are.
    fields = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    assert "938 __ $aLocal$bdata" in fields["marc"][0]
    client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, intent="save-form", notes="注記を追加"),
                token_from=f"/staff/catalogue/bibs/{bib_id}")
    text = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")["marc"][0]
    assert "590 __ $a寄贈: 市川市民文庫" in text and "938 __ $aLocal$bdata" in text and "500 __ $a注記を追加" in text
    export = client.client.get(f"/api/v1/bibs/{bib_id}/marc").text
    assert 'tag="938"' in export and "注記を追加" in export


def test_a_bad_isbn_is_refused_beside_its_field_and_the_typed_values_stay(staff_library):
    client = staff_library.staff_client("librarian")
    fields = form_fields(client.get("/staff/catalogue/new").text, "record-form")
    before = staff_library.query("SELECT count(*) FROM bib")[0][0]
    response = client.post("/staff/catalogue/bibs", changed(fields, intent="save-form", title="ISBN誤り本",
                                                           title_reading="イサン", isbns="978-4-7949-7075-5"),
                           token_from="/staff/catalogue/new")
    assert response.status_code == 422
    assert 'id="error-isbns"' in response.text and "チェックディジット" in response.text
    assert 'aria-invalid="true" aria-describedby="error-isbns"' in response.text
    assert 'value="ISBN誤り本"' in response.text and "978-4-7949-7075-5</textarea>" in response.text
    assert staff_library.query("SELECT count(*) FROM bib")[0][0] == before


def test_a_broken_marc_line_is_named_and_nothing_is_saved(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id = create_record(client, title=f"行エラー {secrets.token_hex(4)}")
    fields = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    marc = fields["marc"][0] + "65 _4 $a壊れた行\n"
    response = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, intent="save-marc", marc=marc),
                           token_from=f"/staff/catalogue/bibs/{bib_id}")
    assert response.status_code == 422
    line = len(fields["marc"][0].splitlines()) + 1
    assert f"{line}行目" in response.text and "65 _4 $a壊れた行" in response.text
    assert 'data-active-editor="marc"' in response.text
    untitled = "\n".join(line for line in fields["marc"][0].splitlines() if not line.startswith(("245", "880")))
    refused = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, intent="save-marc", marc=untitled),
                          token_from=f"/staff/catalogue/bibs/{bib_id}")
    assert refused.status_code == 422 and "no 245 title" in refused.text
    assert staff_library.query("SELECT title LIKE '行エラー%%' FROM bib WHERE id = %s", bib_id) == [(True,)]


def test_a_save_over_a_newer_change_is_refused(staff_library):
    client, other = staff_library.staff_client("librarian"), staff_library.staff_client("admin")
    bib_id = create_record(client, title=f"同時編集 {secrets.token_hex(4)}")
    mine = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    theirs = form_fields(other.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    assert bib_id_of(other.post(f"/staff/catalogue/bibs/{bib_id}", changed(theirs, edition="第2版"),
                                token_from="/staff/catalogue")) == bib_id
    refused = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(mine, edition="改訂版"), token_from="/staff/catalogue")
    assert refused.status_code == 409 and "他の職員が更新しました" in refused.text
    assert staff_library.query("SELECT edition FROM bib WHERE id = %s", bib_id) == [("第2版",)]


def test_the_form_and_the_marc_view_are_kept_in_step_for_the_page_script(staff_library):
    client = staff_library.staff_client("librarian")
    fields = form_fields(client.get("/staff/catalogue/new").text, "record-form")
    to_marc = client.client.post("/staff/catalogue/record-preview", data=changed(
        fields, intent="sync-form", title="同期の本", title_reading="どうき の ほん"),
        headers={"X-CSRF-Token": client.csrf_token("/staff/catalogue/new"), "Accept": "application/json"})
    answer = to_marc.json()
    assert to_marc.status_code == 200 and answer["problems"] == {}
    assert "245 00 $6880-01$a同期の本" in answer["marc"] and "$6245-01/$1$aドウキ ノ ホン" in answer["marc"]
    marc = answer["marc"].replace("$a同期の本", "$aMARCで直した本")
    to_form = client.client.post("/staff/catalogue/record-preview", data=changed(fields, intent="sync-marc", marc=marc),
                                 headers={"X-CSRF-Token": client.csrf_token("/staff/catalogue/new"),
                                          "Accept": "application/json"}).json()
    assert 'value="MARCで直した本"' in to_form["fields_html"] and 'value="ドウキ ノ ホン"' in to_form["fields_html"]
    broken = client.client.post("/staff/catalogue/record-preview", data=changed(fields, intent="sync-marc",
                                                                               marc="245 00 $aNo leader\n"),
                                headers={"X-CSRF-Token": client.csrf_token("/staff/catalogue/new"),
                                         "Accept": "application/json"}).json()
    assert "LDR" in broken["problems"]["marc"]
    assert staff_library.query("SELECT count(*) FROM bib WHERE title IN ('同期の本', 'MARCで直した本')")[0][0] == 0


def test_a_record_with_copies_or_holds_is_not_deleted(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id, items = staff_library.query(
        "SELECT b.id, count(*) FROM bib b JOIN item i ON i.bib_id = b.id WHERE i.status <> 'withdrawn' "
        "GROUP BY b.id ORDER BY b.id LIMIT 1")[0]
    page = client.get(f"/staff/catalogue/bibs/{bib_id}/delete")
    assert page.status_code == 200 and 'id="deletion-refused"' in page.text
    assert f"所蔵資料が {items} 点あります" in page.text and 'name="confirm_id"' not in page.text
    refused = client.post(f"/staff/catalogue/bibs/{bib_id}/delete", {"confirm_id": str(bib_id)},
                          token_from="/staff/catalogue")
    assert refused.status_code == 409 and "所蔵資料" in refused.text
    held = staff_library.query(
        "SELECT h.bib_id FROM hold h WHERE h.status = 'waiting' AND NOT EXISTS (SELECT 1 FROM item i "
        "WHERE i.bib_id = h.bib_id AND i.status <> 'withdrawn') LIMIT 1")
    if held:
        assert "受付中の予約" in client.get(f"/staff/catalogue/bibs/{held[0][0]}/delete").text
    assert staff_library.query("SELECT count(*) FROM bib WHERE id = %s", bib_id) == [(1,)]


def test_a_record_is_deleted_after_its_id_is_typed_and_leaves_search(staff_library):
    client = staff_library.staff_client("librarian")
    token = secrets.token_hex(4)
    bib_id = create_record(client, title=f"削除予定 {token}")
    search_until(staff_library.base_url, lambda page: bib_id in hit_ids(page), q=token)
    wrong = client.post(f"/staff/catalogue/bibs/{bib_id}/delete", {"confirm_id": str(bib_id + 1)},
                        token_from="/staff/catalogue")
    assert wrong.status_code == 422 and 'id="error-confirm_id"' in wrong.text
    deleted = client.post(f"/staff/catalogue/bibs/{bib_id}/delete", {"confirm_id": str(bib_id)},
                          token_from="/staff/catalogue")
    assert deleted.status_code == 303 and deleted.headers["location"] == f"/staff/catalogue?deleted={bib_id}&outcome=deleted"
    assert staff_library.query("SELECT count(*) FROM bib WHERE id = %s", bib_id) == [(0,)]
    page, seconds = search_until(staff_library.base_url, lambda page: bib_id not in hit_ids(page), q=token)
    assert bib_id not in hit_ids(page)
    print(f"\ndeleted record {bib_id} left search after {seconds:.3f} s")
    assert client.get(f"/staff/catalogue/bibs/{bib_id}").status_code == 404
    assert staff_library.query("SELECT detail FROM operation_log WHERE action = 'bib.delete' AND entity_id = %s",
                               str(bib_id)) == [({"title": f"削除予定 {token}", "outcome": "deleted"},)]


def test_the_catalogue_search_opens_records_by_id_barcode_or_words(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id, barcode, title = staff_library.query(
        "SELECT b.id, i.barcode, b.title FROM bib b JOIN item i ON i.bib_id = b.id ORDER BY i.id LIMIT 1")[0]
    by_barcode = client.get("/staff/catalogue", q=barcode).text
    assert f'href="/staff/catalogue/bibs/{bib_id}"' in by_barcode and "資料番号" in by_barcode
    assert f'href="/staff/catalogue/bibs/{bib_id}"' in client.get("/staff/catalogue", q=str(bib_id)).text
    by_words = client.get("/staff/catalogue", q=title).text
    assert f'data-bib-id="{bib_id}"' in by_words
    assert "最近登録した書誌" in client.get("/staff/catalogue").text


def test_a_record_without_stored_marc_is_edited_through_the_marc_made_from_its_fields(staff_library):
    """Demo records have no MARC: the form works on the MARC export makes from the columns, and what MARC cannot
    say (the library's finer material type, the romanised title) stays while that part is unchanged."""
    client = staff_library.staff_client("librarian")
    bib_id, material_type, romanised = staff_library.query(
        "SELECT id, material_type, title_romanised FROM bib WHERE marc_iso2709 IS NULL AND marc_xml IS NULL "
        "AND material_type = 'children_book' AND title_romanised IS NOT NULL AND source = 'manual' "
        "ORDER BY id LIMIT 1")[0]
    page = client.get(f"/staff/catalogue/bibs/{bib_id}")
    fields = form_fields(page.text, "record-form")
    assert f"001 {bib_id}\n003 Shoka" in fields["marc"][0]
    saved = client.post(f"/staff/catalogue/bibs/{bib_id}", changed(fields, notes="寄贈本"),
                        token_from=f"/staff/catalogue/bibs/{bib_id}")
    assert bib_id_of(saved) == bib_id
    assert staff_library.query("SELECT material_type, title_romanised, notes, control_source FROM bib WHERE id = %s",
                               bib_id) == [(material_type, romanised, ["寄贈本"], "Shoka")]


def test_the_record_pages_in_english(staff_library):
    client = staff_library.staff_client("admin")
    page = client.get("/staff/catalogue/new", lang="en").text
    assert "Record form" in page and "Title reading" in page and 'lang="en"' in page
    assert "Import a MARC file" in client.get("/staff/catalogue", lang="en").text
