"""MARC import on the cataloguing screen, on a real server, with real files from ../shared/data: the preview is a
dry run (counts, first titles, each rejected record with its number and reason) that writes nothing; the
confirmation imports exactly the previewed file, all or nothing or skipping the rejects, then removes it."""

from __future__ import annotations

import pytest

from tests.staff.catalogue_steps import form_fields, hit_ids, search_until

pytestmark = pytest.mark.e2e


def _upload(client, path):
    return client.post("/staff/catalogue/import", token_from="/staff/catalogue/import",
                       files={"file": (path.name, path.read_bytes(), "application/marc")})


def _uploads(staff_library) -> list:
    folder = staff_library.server.home / "uploads" / "marc-import"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _bib_count(staff_library) -> int:
    return staff_library.query("SELECT count(*) FROM bib")[0][0]


def test_a_preview_shows_rejects_and_writes_nothing_until_confirmed(staff_library, shared_data):
    client = staff_library.staff_client("librarian")
    before = _bib_count(staff_library)
    preview = _upload(client, shared_data / "marc" / "pymarc_tests" / "bad_records.mrc")
    assert preview.status_code == 200
    text = preview.text
    assert 'data-figure="records">2<' in text and 'data-figure="rejected">6<' in text
    assert "leader length mismatch" in text or "base address of data" in text
    assert "<td>1</td>" in text  # each reject with its record number
    assert _bib_count(staff_library) == before and len(_uploads(staff_library)) == 1
    confirm = form_fields(text, "confirm-form")
    assert confirm["mode"] == ["skip_rejects"]  # with rejects, skipping them is what is offered first
    refused = client.post("/staff/catalogue/import/confirm", {**confirm, "mode": "all_or_nothing"},
                          token_from="/staff/catalogue/import")
    assert refused.status_code == 409 and "何も取り込みませんでした" in refused.text
    assert _bib_count(staff_library) == before and len(_uploads(staff_library)) == 1
    imported = client.post("/staff/catalogue/import/confirm", confirm, token_from="/staff/catalogue/import")
    assert imported.status_code == 200 and 'data-figure="added">2<' in imported.text
    assert _bib_count(staff_library) == before + 2 and _uploads(staff_library) == []
    log = staff_library.query("SELECT actor, detail->>'added', detail->>'rejected' FROM operation_log "
                              "WHERE action = 'catalogue.import_marc' ORDER BY id DESC LIMIT 1")
    assert log == [(staff_library.account("librarian")["username"], "2", "6")]
    again = client.post("/staff/catalogue/import/confirm", confirm, token_from="/staff/catalogue/import")
    assert again.status_code == 404 and "もう一度アップロード" in again.text


def test_an_ndl_file_is_previewed_with_its_titles_then_found_in_search(staff_library, shared_data):
    client = staff_library.staff_client("admin")
    preview = _upload(client, shared_data / "marc" / "ndl_japanmarc_133.mrc")
    assert 'data-figure="records">133<' in preview.text and 'data-figure="rejected">0<' in preview.text
    assert "これからの本の話をしよう" in preview.text and "029455884" in preview.text
    confirm = form_fields(preview.text, "confirm-form")
    assert confirm["mode"] == ["all_or_nothing"]
    result = client.post("/staff/catalogue/import/confirm", confirm, token_from="/staff/catalogue/import")
    assert result.status_code == 200 and 'data-figure="added">133<' in result.text
    bib_id = staff_library.query("SELECT id FROM bib WHERE control_source = 'JTNDL' AND control_number = '029455884'")[0][0]
    page, seconds = search_until(staff_library.base_url, lambda page: bib_id in hit_ids(page), q="これからのほんのはなし")
    assert bib_id in hit_ids(page)
    print(f"\nimported NDL record {bib_id} found by its reading after {seconds:.3f} s")
    # The record opens in the form with its NDL readings, and re-importing the file updates in place.
    form = form_fields(client.get(f"/staff/catalogue/bibs/{bib_id}").text, "record-form")
    assert form["title_reading"] == ["コレカラ ノ ホン ノ ハナシ オ シヨウ"] and form["ndc"] == ["023"]
    again = _upload(client, shared_data / "marc" / "ndl_japanmarc_133.mrc")
    assert 'data-figure="added">0<' in again.text and 'data-figure="updated">133<' in again.text
    cancelled = client.post("/staff/catalogue/import/cancel", form_fields(again.text, "cancel-form"),
                            token_from="/staff/catalogue/import")
    assert cancelled.status_code == 303 and _uploads(staff_library) == []


def test_a_marcxml_file_and_a_file_without_records(staff_library, shared_data):
    client = staff_library.staff_client("librarian")
    xml = _upload(client, shared_data / "marcxml" / "pymarc__batch.xml")
    assert xml.status_code == 200 and "marcxml" in xml.text and 'data-figure="rejected">0<' in xml.text
    client.post("/staff/catalogue/import/cancel", form_fields(xml.text, "cancel-form"), token_from="/staff/catalogue/import")
    authorities = _upload(client, shared_data / "marc" / "evergreen__auth-1066.mrc")
    assert 'data-figure="records">0<' in authorities.text and "no 245 title" in authorities.text
    assert 'id="confirm-form"' not in authorities.text
    client.post("/staff/catalogue/import/cancel", form_fields(authorities.text, "cancel-form"),
                token_from="/staff/catalogue/import")
    empty = client.post("/staff/catalogue/import", token_from="/staff/catalogue/import", files={"file": ("x.mrc", b"")})
    assert empty.status_code == 400 and "空" in empty.text
    assert _uploads(staff_library) == []
