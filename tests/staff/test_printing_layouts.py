"""Print layouts per branch (/staff/print-layouts): the page and its preview, saving (validated, logged) and
what a saved layout changes on the printouts; a branch without its own layout prints with the defaults."""

from __future__ import annotations

import pytest

from tests.staff.test_printing import free_copies, free_patrons, lend, page_size_mm, pdf_of, pdf_text

pytestmark = pytest.mark.e2e
PAGE = "/staff/print-layouts"
RECEIPT_DEFAULTS = {"paper_width_mm": "80", "header_lines": "", "footer_lines": "ご利用ありがとうございました。",
                    "show_branch_phone": "on", "title_lines": "2", "visible_card_digits": "4"}
STICKER_DEFAULTS = {"sheet": "A4", "columns": "2", "rows": "8", "sticker_width_mm": "86.4",
                    "sticker_height_mm": "33.9", "margin_top_mm": "12.9", "margin_left_mm": "16.9", "gap_x_mm": "2.5",
                    "gap_y_mm": "0", "heading": "どくしょきろく", "show_author": "on", "show_branch": "on"}


def save(client, branch: str, kind: str, fields: dict, action: str = "save"):
    return client.post(PAGE, {"branch": branch, "kind": kind, "action": action, **fields}, token_from=PAGE)


def stored(library, branch: str, kind: str) -> list:
    return library.query("SELECT settings FROM print_layout pl JOIN service_point sp ON sp.id = pl.service_point_id "
                         "WHERE sp.code = %s AND pl.kind = %s", branch, kind)


def test_the_page_shows_the_settings_and_a_preview_of_each_kind(staff_library):
    client = staff_library.staff_client("librarian")
    page = client.get(PAGE)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'name="paper_width_mm"' in page.text and 'name="footer_lines"' in page.text
    assert "標準の設定で印刷されます" in page.text
    assert 'class="roll"' in page.text and "ぐりとぐら" in page.text and "*********5678" in page.text
    for kind, marker in (("reading_sticker", 'class="sticker-sheet"'), ("hold_slip", 'data-field="patron_mark">ヤ<'),
                         ("transit_slip", "予約回送")):
        other = client.get(PAGE, branch="gyotoku", kind=kind)
        assert other.status_code == 200 and marker in other.text, kind
        assert 'value="gyotoku" selected' in other.text


def test_a_preview_shows_the_entry_without_saving_it(staff_library):
    client = staff_library.staff_client("librarian")
    preview = save(client, "ekiminami", "receipt", {**RECEIPT_DEFAULTS, "paper_width_mm": "58",
                                                    "footer_lines": "プレビュー用の行"}, action="preview")
    assert preview.status_code == 200
    assert 'data-paper-width="58"' in preview.text and "プレビュー用の行" in preview.text
    assert stored(staff_library, "ekiminami", "receipt") == []


def test_a_saved_layout_changes_the_receipt_and_is_logged(staff_library):
    client = staff_library.staff_client("librarian")
    patron = free_patrons(staff_library, 1)[0]
    loans = lend(staff_library, patron["card"], [barcode for barcode, _title in free_copies(staff_library, 1)])
    ids = str(loans[0]["loan_id"])
    assert 'data-paper-width="80"' in client.get("/staff/print/receipt", loans=ids).text
    footer = "開館時間 9:30〜20:00（月曜休館）"
    saved = save(client, "central", "receipt", {**RECEIPT_DEFAULTS, "paper_width_mm": "58", "footer_lines":
                                                f"{footer}\nまたのご利用をお待ちしています", "show_call_number": "on"})
    try:
        assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
        assert "印刷設定を保存しました" in client.get(saved.headers["location"]).text
        settings = stored(staff_library, "central", "receipt")[0][0]
        assert settings["paper_width_mm"] == 58 and settings["footer_lines"][0] == footer
        page = client.get("/staff/print/receipt", loans=ids).text
        assert "@page { size: 58mm " in page and 'data-paper-width="58"' in page and footer in page
        assert 'data-field="call_number"' in page
        reader = pdf_of(client.get("/staff/print/receipt", loans=ids, format="pdf"))
        assert abs(page_size_mm(reader)[0] - 58) < 0.1 and footer in pdf_text(reader)
        # Another branch keeps the defaults.
        ekiminami_loan = lend(staff_library, patron["card"],
                              [free_copies(staff_library, 1, "ekiminami")[0][0]], branch="ekiminami")
        other = client.get("/staff/print/receipt", loans=str(ekiminami_loan[0]["loan_id"])).text
        assert 'data-paper-width="80"' in other and footer not in other
        actor, entity, entity_id, detail = staff_library.query(
            "SELECT actor, entity, entity_id, detail FROM operation_log WHERE action = 'print_layout.update' "
            "ORDER BY id DESC LIMIT 1")[0]
        central_id = staff_library.query("SELECT id FROM service_point WHERE code = 'central'")[0][0]
        assert actor == "librarian" and entity == "service_point" and entity_id == str(central_id)
        assert detail == {"kind": "receipt", "reset": False}
    finally:
        reset = save(client, "central", "receipt", {}, action="reset")
    assert reset.status_code == 303 and stored(staff_library, "central", "receipt") == []
    assert 'data-paper-width="80"' in client.get("/staff/print/receipt", loans=ids).text


def test_a_hold_slip_layout_can_mark_the_card_digits_instead_of_the_reading(staff_library):
    client = staff_library.staff_client("admin")
    fields = {"paper_width_mm": "58", "header_lines": "", "footer_lines": "", "show_call_number": "on",
              "patron_mark": "card_last4", "visible_card_digits": "4"}
    assert save(client, "gyotoku", "hold_slip", fields).status_code == 303
    try:
        page = client.get(PAGE, branch="gyotoku", kind="hold_slip").text
        assert 'data-field="patron_mark">5678<' in page and 'data-paper-width="58"' in page
    finally:
        save(client, "gyotoku", "hold_slip", {}, action="reset")


@pytest.mark.parametrize("kind, change, field, words", [
    ("receipt", {"paper_width_mm": "60"}, "paper_width_mm", "58, 80"),
    ("receipt", {"title_lines": "many"}, "title_lines", "1〜3"),
    ("receipt", {"visible_card_digits": "9"}, "visible_card_digits", "0〜6"),
    ("receipt", {"header_lines": "あ" * 41}, "header_lines", "40 文字まで"),
    ("receipt", {"footer_lines": "\n".join(["行"] * 7)}, "footer_lines", "6 行まで"),
    ("reading_sticker", {"columns": "9"}, "columns", "1〜6"),
    ("reading_sticker", {"sheet": "A3"}, "sheet", "A4, B5, roll"),
    ("reading_sticker", {"sticker_width_mm": "100"}, "sticker_width_mm", "210 mm"),
    ("reading_sticker", {"rows": "10"}, "sticker_height_mm", "297 mm"),
])
def test_a_bad_setting_is_refused_naming_the_field(staff_library, kind, change, field, words):
    client = staff_library.staff_client("librarian")
    defaults = RECEIPT_DEFAULTS if kind == "receipt" else STICKER_DEFAULTS
    response = save(client, "central", kind, {**defaults, **change})
    assert response.status_code == 422
    assert f'role="alert" data-field="{field}"' in response.text and f"（{field}）" in response.text
    assert words in response.text
    assert f'id="field-{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert stored(staff_library, "central", kind) == []


def test_only_administrators_and_librarians_change_layouts(staff_library):
    for role in ("counter", "stats"):
        assert staff_library.staff_client(role).get(PAGE).status_code == 403
    counter = staff_library.staff_client("counter")
    refused = counter.client.post(PAGE, data={"branch": "central", "kind": "receipt", "action": "save",
                                              "_csrf_token": counter.csrf_token("/staff/"), **RECEIPT_DEFAULTS})
    assert refused.status_code == 403 and stored(staff_library, "central", "receipt") == []
    assert staff_library.staff_client("admin").get(PAGE).status_code == 200
    unknown = staff_library.staff_client("librarian").get(PAGE, branch="nowhere")
    assert unknown.status_code == 404 and "nowhere" in unknown.text
    assert staff_library.staff_client("librarian").get(PAGE, kind="poster").status_code == 400
