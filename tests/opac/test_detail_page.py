"""The record page (/bibs/{id}): full description, copies with status and due dates, hold queue, links, and
placing a hold (予約) after login, with CSRF protection and refusals shown next to the form."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.opac.conftest import Browser, parse_html


def record_page(browser: Browser, bib_id: int, **parameters):
    response = browser.get(f"/bibs/{bib_id}", **parameters)
    assert response.status_code == 200, response.text[:1000]
    return parse_html(response.text)


def test_full_description_with_linked_subjects_and_authors(browser, library):
    page = record_page(browser, library.bibs["kore_kara"])
    article = page.find("article", cls="bib")
    assert article.get("data-bib-id") == str(library.bibs["kore_kara"])
    assert article.find(cls="title").text() == "これからの本の話をしよう"
    assert "コレカラ" in article.find(cls="title-reading").text()
    assert "萩野" in article.find(cls="responsibility").text()
    author = article.find("dd", cls="author").find("a")
    assert author.get("href").startswith("/search?author=") and article.find("dd", cls="author").find(cls="reading")
    assert "晶文社" in article.find(cls="publisher").text() and article.find(cls="year").text() == "2019"
    assert article.find(cls="extent").text()
    subjects = article.find("dd", cls="subjects").find_all("a", cls="subject")
    assert subjects and all(link.get("href").startswith("/search?subject=") for link in subjects)
    assert article.find("dd", cls="ndc").find("a").get("href") == "/search?ndc=023"
    assert article.find(cls="isbn").text() == "9784794970756"
    assert page.find("link", rel="canonical").get("href").endswith(f"/bibs/{library.bibs['kore_kara']}")


def test_copies_show_branch_names_locations_status_and_due_dates(browser, library):
    page = record_page(browser, library.bibs["kore_kara"])
    rows = {row.get("data-barcode"): row for row in page.find("table", cls="holdings-table").find_all("tr", cls="item")}
    assert set(rows) == {"C1001", "C1002", "G1001"}
    assert "中央図書館" in rows["C1001"].text() and "一般書架" in rows["C1001"].text()
    assert rows["C1001"].get("data-status") == "available" and "貸出可" in rows["C1001"].text()
    assert rows["C1002"].get("data-status") == "in_library_only" and "館内のみ" in rows["C1002"].text()
    assert "参考図書" in rows["C1002"].text() and "023/コ" in rows["C1002"].text()
    assert rows["G1001"].get("data-status") == "on_loan" and "貸出中" in rows["G1001"].text()
    assert rows["G1001"].find("time").get("datetime")
    headers = [cell.text() for cell in page.find("table", cls="holdings-table").find_all("th")]
    assert headers[0] == "所蔵館" and all(cell.get("scope") == "col" for cell in page.find_all("th"))
    summary = {entry.get("data-branch"): entry.get("data-status") for entry in page.find_all(cls="availability")}
    assert summary == {"central": "available", "gyotoku": "on_loan"}
    english = record_page(browser, library.bibs["kore_kara"], lang="en")
    english_rows = english.find("table", cls="holdings-table").text()
    assert "Central Library" in english_rows and "General shelves" in english_rows and "On loan" in english_rows


def test_hold_queue_length_and_reserve_button_for_anonymous_users(browser, library):
    page = record_page(browser, library.bibs["denshi_seisaku"])
    assert page.find(cls="hold-queue").get("data-holds") == "2"
    login = page.find("a", cls="reserve-login")
    assert login.text() == "ログインして予約する"
    assert login.get("href") == f"/login?next=%2Fbibs%2F{library.bibs['denshi_seisaku']}"
    assert page.find("form", action=f"/bibs/{library.bibs['denshi_seisaku']}/hold") is None


def test_permalink_and_marc_downloads_work(browser, library):
    bib_id = library.bibs["kore_kara"]
    page = record_page(browser, bib_id)
    assert page.find("a", cls="permalink").get("href") == f"{library.base_url}/bibs/{bib_id}"
    links = [link.get("href") for link in page.find_all("a", cls="marc-download")]
    assert links == [f"/api/v1/bibs/{bib_id}/marc?format=marcxml", f"/api/v1/bibs/{bib_id}/marc?format=iso2709"]
    for link in links:
        assert httpx.get(library.base_url + link).status_code == 200


def test_aozora_records_link_to_the_etext(browser, library):
    page = record_page(browser, library.bibs["aozora_ginga"])
    card = page.find("a", cls="aozora-card")
    assert card.get("href").startswith("https://www.aozora.gr.jp/") and "青空文庫" in card.text()
    assert page.find(cls="no-holdings") is not None and page.find("section", cls="reserve") is None
    hit = parse_html(browser.get("/search", q="銀河鉄道の夜 宮沢", redirect="0").text).find(
        "li", cls="hit", data_bib_id=str(library.bibs["aozora_ginga"]))
    assert hit.find("p", cls="etext").find("a").get("href") == card.get("href")


@pytest.mark.parametrize("reference", ["999999999", "abc", "99999999999999999999", "-1", "0", "１２"])
def test_unknown_or_malformed_ids_get_a_404_page(browser, reference):
    response = browser.get(f"/bibs/{reference}")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert parse_html(response.text).find(cls="error-message").get("data-code") == "bib_not_found"


def test_logging_in_from_the_record_returns_to_it_and_places_a_hold(library):
    browser = Browser(library)
    bib_id = library.bibs["kore_kara"]
    login = browser.login(library.patrons["mallory"], next_path=f"/bibs/{bib_id}")
    assert login.status_code == 303 and login.headers["location"] == f"/bibs/{bib_id}"
    page = record_page(browser, bib_id)
    form = page.find("form", action=f"/bibs/{bib_id}/hold")
    options = form.find("select", name="pickup_branch").find_all("option")
    assert [option.get("value") for option in options] == ["central", "gyotoku", "minami"], "pickup points only"
    assert [option.get("value") for option in options if "selected" in option.attributes] == ["central"]
    assert form.find("button").text() == "予約する" and form.find("input", name="_csrf_token")
    placed = browser.post(f"/bibs/{bib_id}/hold", {"pickup_branch": "gyotoku"}, token_from=f"/bibs/{bib_id}")
    assert placed.status_code == 303 and placed.headers["location"] == f"/bibs/{bib_id}"
    after = parse_html(browser.get(f"/bibs/{bib_id}").text)
    notice = after.find("div", cls="notice").text()
    assert "予約しました" in notice and "行徳図書館" in notice and "1番目" in notice
    assert after.find(cls="hold-queue").get("data-holds") == "1"
    assert browser.get(f"/bibs/{bib_id}").text.count("予約しました") == 0, "the notice shows once"
    again = browser.post(f"/bibs/{bib_id}/hold", {"pickup_branch": "central"}, token_from=f"/bibs/{bib_id}")
    assert again.status_code == 409
    error = parse_html(again.text).find(id="hold-error")
    assert "すでに予約" in error.text() and error.get("role") == "alert"
    with psycopg.connect(library.database_url) as connection:
        status, via, pickup = connection.execute(
            "SELECT h.status, h.placed_via, sp.code FROM hold h "
            "JOIN service_point sp ON sp.id = h.pickup_service_point_id WHERE h.patron_id = %s AND h.bib_id = %s",
            [library.patrons["mallory"].patron_id, bib_id]).fetchone()
        event = connection.execute("SELECT payload - 'engine', payload->'engine'->>'kind' FROM outbox_event "
                                   "WHERE topic = 'hold' ORDER BY seq DESC LIMIT 1").fetchone()
        logged = connection.execute(
            "SELECT actor_kind, actor, detail FROM operation_log WHERE action = 'hold.place' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (status, via, pickup) == ("waiting", "opac", "gyotoku") and event == ({"item_id": None}, "hold_upserted")
    assert logged[0] == "patron" and logged[1] == library.patrons["mallory"].card
    assert logged[2]["bib_id"] == bib_id
    browser.close()


@pytest.mark.parametrize("patron,bib,pickup,status,fragment", [
    ("grace", "kore_kara", "central", 422, "有効期限"),
    ("leo", "kore_kara", "bookmobile", 422, "受け取れません"),
    ("leo", "aozora_ginga", "central", 422, "貸出できる所蔵がない"),
    # alice also has an overdue loan: the engine's rule blocks holds until it is back (checked first)
    ("alice", "no_wo_tsukuru", "central", 422, "返却されるまで貸出・予約・延長はできません"),
])
def test_hold_refusals_are_shown_next_to_the_form(library, patron, bib, pickup, status, fragment):
    browser = Browser(library)
    assert browser.login(library.patrons[patron]).status_code == 303
    bib_id = library.bibs[bib]
    response = browser.client.post(f"/bibs/{bib_id}/hold", data={
        "pickup_branch": pickup, "_csrf_token": browser.csrf_token(f"/bibs/{bib_id}")})
    assert response.status_code == status
    page = parse_html(response.text)
    if page.find(id="hold-error") is not None:
        assert fragment in page.find(id="hold-error").text()
    else:  # a record without copies has no form: the refusal still names the reason
        assert fragment in response.text
    browser.close()


def test_holds_need_a_login_and_a_csrf_token(library):
    bib_id = library.bibs["kore_kara"]
    anonymous = Browser(library)
    response = anonymous.post(f"/bibs/{bib_id}/hold", {"pickup_branch": "central"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    patron = Browser(library)
    patron.login(library.patrons["leo"])
    forged = patron.client.post(f"/bibs/{bib_id}/hold", data={"pickup_branch": "central"})
    assert forged.status_code == 403 and "フォーム" in forged.text
    wrong_token = patron.client.post(f"/bibs/{bib_id}/hold",
                                     data={"pickup_branch": "central", "_csrf_token": anonymous.csrf_token()})
    assert wrong_token.status_code == 403
    with psycopg.connect(library.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM hold WHERE patron_id = %s AND bib_id = %s",
                                  [library.patrons["leo"].patron_id, bib_id]).fetchone()[0] == 0
    anonymous.close()
    patron.close()


def test_english_record_page(browser, library):
    page = record_page(browser, library.bibs["kore_kara"], lang="en")
    assert page.find("html").get("lang") == "en"
    assert page.find("a", cls="reserve-login").text() == "Log in to reserve"
    assert "Holdings" in page.find("section", cls="holdings").find("h2").text()


def test_public_pages_never_show_personal_data(browser, library):
    from tests.opac.conftest import SECRET_EMAIL, SECRET_NAME, SECRET_PHONE

    pages = ["/", "/advanced", "/login", "/kiosk", "/search?q=電子書籍&per_page=100", "/search?material_type=book"]
    pages += [f"/bibs/{bib_id}" for bib_id in library.bibs.values()]
    for path in pages:
        text = browser.get(path).text
        for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, "ヒミツヤマ", "八幡1-1-1"):
            assert secret not in text, (path, secret)
        assert all(patron.card not in text for patron in library.patrons.values()), path
