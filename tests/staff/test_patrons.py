"""The patrons screens over HTTP: registration (and a checkout right after it), field-level validation that
keeps what was typed, search by card, reading, phone and name, editing, who may see and change which patron,
and the operation log of every read of personal data."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from shoka.auth.passwords import verify_password
from shoka.clock import library_today
from shoka.patrons.patron_fields import add_years, age_band
from tests.staff.patron_steps import (api_checkout, free_copies, log_entries, register, registration, unique_card,
                                      unique_phone, unique_reading)

pytestmark = pytest.mark.e2e


def patron_row(library, patron_id: int) -> tuple:
    return library.query(
        """SELECT p.card, p.category, sp.code, p.expires_on, p.status, p.age_band, pp.family_name,
                  pp.family_name_reading, pp.phone, pp.postal_code, pp.address
           FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id
           JOIN patron_personal pp ON pp.patron_id = p.id WHERE p.id = %s""", patron_id)[0]


def test_a_registered_patron_may_borrow_at_once(staff_library):
    client = staff_library.staff_client("librarian")
    form_page = client.get("/staff/patrons/new")
    assert form_page.status_code == 200 and 'name="card"' in form_page.text
    patron_id, card = register(client, password="secret-pass-1", birth_date="2012-06-30", category="child",
                               given_name_reading="はなこ")
    page = client.get(f"/staff/patrons/{patron_id}?done=registered")
    assert page.status_code == 200 and "利用者を登録しました" in page.text and card in page.text
    today = library_today()
    saved_card, category, home, expires_on, status, band, *_ = patron_row(staff_library, patron_id)
    card_years = staff_library.query("SELECT card_years FROM patron_category WHERE code = 'child'")[0][0]
    assert (saved_card, category, home, status) == (card, "child", "central", "active")
    assert expires_on == add_years(today, card_years)  # the category's period from today
    assert band == age_band(dt.date(2012, 6, 30), today)
    assert staff_library.query("SELECT given_name_reading FROM patron_personal WHERE patron_id = %s",
                               patron_id)[0][0] == "ハナコ"  # ひらがな typed, katakana kept
    stored_hash = staff_library.query("SELECT password_hash FROM patron_credential WHERE patron_id = %s", patron_id)[0][0]
    assert stored_hash.startswith("$argon2id$") and verify_password(stored_hash, "secret-pass-1")
    barcode, = free_copies(staff_library, 1)
    response = api_checkout(staff_library, card, barcode)
    assert response.status_code == 201, response.text
    actor, _, detail = log_entries(staff_library, "patron.register", patron_id)[0]
    assert actor == staff_library.account("librarian")["username"]
    assert detail == {"category": "child", "home_branch": "central", "web_password": True}


def test_field_errors_name_each_field_and_keep_what_was_typed(staff_library):
    client = staff_library.staff_client("librarian")
    tomorrow = (library_today() + dt.timedelta(days=1)).isoformat()
    form = registration(family_name="", family_name_reading="山田", postal_code="27200", birth_date=tomorrow,
                        email="not-an-address", phone="12-34", card="カード!", address="市川市八幡2丁目 保持確認",
                        password="short")
    response = client.post("/staff/patrons/new", form, token_from="/staff/patrons/new")
    assert response.status_code == 422
    text = html.unescape(response.text)
    for message in ("氏名（姓）を入力してください", "フリガナはカタカナ", "郵便番号は7桁", "未来の日付は指定できません",
                    "メールアドレスの形式", "電話番号は0から始まる", "カード番号は半角英数字", "8文字以上"):
        assert message in text, message
    for field in ("family_name", "family_name_reading", "postal_code", "birth_date", "email", "phone", "card",
                  "password"):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="市川市八幡2丁目 保持確認"' in text and 'value="not-an-address"' in text  # nothing typed is lost
    assert 'value="short"' not in text  # a password is never sent back
    assert staff_library.query("SELECT count(*) FROM patron WHERE card = %s", form["card"])[0][0] == 0


def test_a_card_in_use_now_or_before_cannot_be_registered_again(staff_library):
    client = staff_library.staff_client("librarian")
    demo_card = staff_library.query("SELECT card FROM patron ORDER BY id LIMIT 1")[0][0]
    refused = client.post("/staff/patrons/new", registration(card=demo_card), token_from="/staff/patrons/new")
    assert refused.status_code == 422 and f"カード番号 {demo_card} はすでに使われています" in refused.text
    card = unique_card()
    full_width = card.translate({ord(digit): ord(digit) + 0xFEE0 for digit in "0123456789"})
    # Digits typed with a Japanese input method are the same card number.
    assert client.post("/staff/patrons/new", registration(card=full_width),
                       token_from="/staff/patrons/new").status_code == 303
    assert staff_library.query("SELECT count(*) FROM patron WHERE card = %s", card)[0][0] == 1
    again = client.post("/staff/patrons/new", registration(card=card), token_from="/staff/patrons/new")
    assert again.status_code == 422 and 'id="card-error"' in again.text


def test_search_by_card_goes_straight_to_the_patron(staff_library):
    client = staff_library.staff_client("counter", "counter")
    patron_id, card = register(staff_library.staff_client("librarian"))
    response = client.get("/staff/patrons", q=card)
    assert response.status_code == 303 and response.headers["location"] == f"/staff/patrons/{patron_id}"
    _, _, detail = log_entries(staff_library, "patron.search")[0]
    assert detail == {"kind": "card", "results": 1, "page": 1}  # the kind and the count, never the terms


@pytest.mark.parametrize("typed", ["{family}{given}", "{family} {given}", "{family_hira}", "{family_half}",
                                   "{family_hira}　{given_hira}", "{family}"])
def test_search_by_reading_folds_kana_and_ignores_spaces(staff_library, typed):
    client = staff_library.staff_client("librarian")
    family = unique_reading(7)
    patron_id, card = register(client, family_name_reading=family, given_name_reading="タロウ")
    variants = {"family": family, "given": "タロウ", "family_hira": _hiragana(family), "given_hira": "たろう",
                "family_half": _half_width(family)}
    page = client.get("/staff/patrons", q=typed.format(**variants), kind="reading")
    assert page.status_code == 200
    assert f'data-patron-id="{patron_id}"' in page.text and 'data-kind="reading"' in page.text


def test_automatic_search_recognises_a_reading_a_phone_number_and_a_name(staff_library):
    client = staff_library.staff_client("librarian")
    phone = unique_phone()
    family = unique_reading(7)
    patron_id, _card = register(client, phone=phone, family_name_reading=family, family_name="検索確認",
                                given_name=family)
    digits = phone.replace("-", "")
    for typed, kind in ((digits, "phone"), (f"({phone[:3]}) {phone[4:]}", "phone"), (_hiragana(family), "reading"),
                        (f"検索確認 {family}", "name")):
        page = client.get("/staff/patrons", q=typed)
        assert page.status_code == 200, typed
        assert f'data-kind="{kind}"' in page.text and f'data-patron-id="{patron_id}"' in page.text, typed


def test_search_results_come_in_pages(staff_library):
    client = staff_library.staff_client("librarian")
    first = client.get("/staff/patrons", q="サ", kind="reading", per_page="20")
    total = int(first.text.split('data-total="')[1].split('"')[0])
    assert total > 20 and first.text.count('class="patron-hit"') == 20 and 'rel="next"' in first.text
    second = client.get("/staff/patrons", q="サ", kind="reading", per_page="20", page="2")
    assert 'rel="prev"' in second.text
    first_ids = {part.split('"')[0] for part in first.text.split('data-patron-id="')[1:]}
    second_ids = {part.split('"')[0] for part in second.text.split('data-patron-id="')[1:]}
    assert first_ids and second_ids and not first_ids & second_ids


def test_bad_search_input_is_a_400_naming_the_problem(staff_library):
    client = staff_library.staff_client("librarian")
    assert client.get("/staff/patrons", q="漢字", kind="reading").status_code == 400
    assert client.get("/staff/patrons", q="abc", kind="nonsense").status_code == 400
    assert client.get("/staff/patrons", q="x", per_page="7").status_code == 400


def test_editing_saves_the_fields_and_logs_only_their_names(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    page = client.get(f"/staff/patrons/{patron_id}")
    assert 'id="patron-edit"' in page.text
    new_phone = unique_phone()
    form = registration(card=card, family_name="編集後", phone=new_phone, postal_code="〒２７２００２１",
                        address="市川市八幡3丁目", category="student", home_branch="gyotoku")
    form.pop("card")
    response = client.post(f"/staff/patrons/{patron_id}", form, token_from=f"/staff/patrons/{patron_id}")
    assert response.status_code == 303 and response.headers["location"].endswith("done=edited")
    _, category, home, _, _, _, family_name, _, phone, postal_code, address = patron_row(staff_library, patron_id)
    assert (category, home, family_name, phone, postal_code, address) == (
        "student", "gyotoku", "編集後", new_phone, "272-0021", "市川市八幡3丁目")
    _, _, detail = log_entries(staff_library, "patron.edit", patron_id)[0]
    assert set(detail["changed"]) >= {"family_name", "phone", "postal_code", "address", "category", "home_branch"}
    assert new_phone not in str(detail) and "編集後" not in str(detail)
    summary = staff_library.query("SELECT payload FROM outbox_event WHERE topic = 'patron' AND entity_id = %s",
                                  patron_id)
    assert summary, "every change of a patron goes to the outbox for the engine"


def test_a_refused_edit_shows_the_page_again_with_the_typed_values(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    form = registration(email="broken@", address="入力保持の住所")
    response = client.post(f"/staff/patrons/{patron_id}", form, token_from=f"/staff/patrons/{patron_id}")
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and 'value="入力保持の住所"' in response.text
    assert staff_library.query("SELECT address FROM patron_personal WHERE patron_id = %s", patron_id)[0][0] != "入力保持の住所"


def test_the_statistics_role_never_sees_a_patron(staff_library):
    client = staff_library.staff_client("stats")
    patron_id = staff_library.query("SELECT id FROM patron ORDER BY id LIMIT 1")[0][0]
    for path in ("/staff/patrons", "/staff/patrons?q=サ", "/staff/patrons/new", f"/staff/patrons/{patron_id}",
                 "/staff/patrons/bulk"):
        assert client.get(path).status_code == 403, path
    for path in (f"/staff/patrons/{patron_id}", f"/staff/patrons/{patron_id}/renew",
                 f"/staff/patrons/{patron_id}/replace-card", f"/staff/patrons/{patron_id}/status",
                 f"/staff/patrons/{patron_id}/password", f"/staff/patrons/{patron_id}/merge", "/staff/patrons/new",
                 "/staff/patrons/bulk", "/staff/patrons/bulk/apply"):
        assert client.post(path, {}, token_from="/staff/").status_code == 403, path


def test_without_a_session_the_browser_is_sent_to_the_login(staff_library):
    client = staff_library.anonymous_client()
    response = client.get("/staff/patrons/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Fpatrons%2Fnew"


def test_counter_staff_change_only_patrons_of_their_own_branches(staff_library):
    counter = staff_library.staff_client("counter", "counter")  # central and ekiminami
    librarian = staff_library.staff_client("librarian")
    elsewhere, _ = register(librarian, home_branch="gyotoku")
    page = counter.get(f"/staff/patrons/{elsewhere}")
    assert page.status_code == 200 and 'id="read-only-notice"' in page.text and 'id="patron-edit"' not in page.text
    for action in ("", "/renew", "/status"):
        refused = counter.post(f"/staff/patrons/{elsewhere}{action}", {**registration(), "status": "suspended"},
                               token_from="/staff/")
        assert refused.status_code == 403 and "patron_of_another_branch" in refused.text, action
    own, _ = register(librarian, home_branch="ekiminami")
    assert 'id="patron-edit"' in counter.get(f"/staff/patrons/{own}").text
    assert counter.post(f"/staff/patrons/{own}/renew", token_from="/staff/").status_code == 303
    # Registering is for their own branches only, too.
    refused = counter.post("/staff/patrons/new", registration(home_branch="gyotoku"), token_from="/staff/patrons/new")
    assert refused.status_code == 422 and 'id="home_branch-error"' in refused.text


def test_every_view_of_a_patron_is_in_the_operation_log(staff_library):
    client = staff_library.staff_client("counter", "counter")
    patron_id, _card = register(staff_library.staff_client("librarian"), family_name="記録確認")
    assert client.get(f"/staff/patrons/{patron_id}").status_code == 200
    actor, entity_id, detail = log_entries(staff_library, "patron.view", patron_id)[0]
    assert (actor, entity_id, detail) == ("counter", str(patron_id), {"view": "detail"})


def test_a_missing_patron_is_404(staff_library):
    assert staff_library.staff_client("librarian").get("/staff/patrons/999999999").status_code == 404


def test_english_pages(staff_library):
    client = staff_library.staff_client("librarian")
    assert "Register a patron" in client.get("/staff/patrons/new", lang="en").text
    patron_id, _ = register(client)
    assert "Replace the card" in client.get(f"/staff/patrons/{patron_id}", lang="en").text


def _hiragana(katakana: str) -> str:
    return "".join(chr(ord(character) - 0x60) if "ァ" <= character <= "ヶ" else character for character in katakana)


def _half_width(katakana: str) -> str:
    import unicodedata

    half = {unicodedata.normalize("NFKC", chr(code)): chr(code) for code in range(0xFF66, 0xFF9E)}
    return "".join(half.get(character, character) for character in katakana)
