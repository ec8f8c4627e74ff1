"""My page through the real server: loans, holds, reading record, password, the circulation actions, and that
one patron can never see or change another's data."""

from __future__ import annotations

import datetime as dt

import psycopg

from shoka.clock import library_today
from tests.opac.conftest import SECRET_EMAIL, SECRET_NAME, SECRET_PHONE, Browser, Patron, parse_html


def logged_in(library, name: str) -> Browser:
    browser = Browser(library)
    assert browser.login(library.patrons[name]).status_code == 303
    return browser


def my_page(browser: Browser):
    response = browser.get("/my")
    assert response.status_code == 200, response.text[:500]
    assert response.headers["cache-control"] == "no-store"
    return parse_html(response.text)


def query(library, sql: str, parameters=()):
    with psycopg.connect(library.database_url) as connection:
        return connection.execute(sql, parameters).fetchall()


def last_event(library, topic: str) -> tuple:
    return query(library, "SELECT entity_id, payload FROM outbox_event WHERE topic = %s ORDER BY seq DESC LIMIT 1",
                 [topic])[0]


def test_anonymous_visitors_are_sent_to_login_and_back(library):
    browser = Browser(library)
    response = browser.get("/my")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fmy"
    browser.close()


def test_loans_with_due_dates_overdue_highlighted_and_renewability(library):
    browser = logged_in(library, "alice")
    page = my_page(browser)
    loans = {row.get("data-barcode"): row for row in page.find("table", cls="loans-table").find_all("tr", cls="loan")}
    assert set(loans) == {"C2001", "C3001"}
    overdue = loans["C3001"]
    assert "overdue" in overdue.classes and "延滞" in overdue.text()
    due = library_today() - dt.timedelta(days=3)
    assert f"{due.year}年{due.month}月{due.day}日" in overdue.text()
    assert overdue.find("button") is None and "返却期限を過ぎている" in overdue.text()
    assert "予約があるため" in loans["C2001"].text(), "another patron waits for this record"
    browser.close()


def test_holds_with_queue_position_status_and_pickup_date(library):
    browser = logged_in(library, "alice")
    page = my_page(browser)
    rows = page.find("table", cls="holds-table").find_all("tr", cls="hold")
    holds = {int(row.get("data-hold-id")): row for row in rows}
    waiting = holds[library.holds["alice_denshi"]]
    assert "待機中" in waiting.text() and "予約順位 2番目" in waiting.text()
    assert waiting.find("select", name="pickup_branch") is not None
    ready = holds[library.holds["alice_ready"]]
    pickup_by = library_today() + dt.timedelta(days=7)
    assert "取置中" in ready.text() and f"{pickup_by.month}月{pickup_by.day}日までにお受け取りください" in ready.text()
    assert ready.find("select") is None and "中央図書館" in ready.text()
    assert all(library.holds[key] not in holds for key in ("bob_no_wo", "carol_denshi", "judy_cancel"))
    english = browser.get("/my", lang="en").text
    assert "Waiting" in english and "Ready for pickup" in english and "Position 2 in the queue" in english
    browser.close()


def test_reading_record_is_shown_when_kept(library):
    browser = logged_in(library, "alice")
    section = my_page(browser).find("section", id="reading-record")
    titles = [link.text() for link in section.find("ol", cls="history").find_all("a")]
    assert titles[0].startswith("知的財産") and titles[1].startswith("デジタルが変える")
    assert "読書記録（2件）" in section.text()
    browser.close()


def test_my_page_reads_are_logged_without_personal_data(library):
    browser = logged_in(library, "alice")
    text = browser.get("/my").text
    for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL):
        assert secret not in text
    entry = query(library, "SELECT actor_kind, actor, entity_id, detail FROM operation_log "
                           "WHERE action = 'patron.read' ORDER BY id DESC LIMIT 1")[0]
    assert entry[:3] == ("patron", library.patrons["alice"].card, str(library.patrons["alice"].patron_id))
    assert entry[3] == {"view": "my_page", "loans": 2, "holds": 2, "reading_record": 2}
    browser.close()


def test_one_patron_never_sees_or_changes_another_patrons_data(library):
    bob = logged_in(library, "bob")
    page = my_page(bob)
    assert {row.get("data-barcode") for row in page.find_all("tr", cls="loan")} == {"G1001"}
    assert {int(row.get("data-hold-id")) for row in page.find_all("tr", cls="hold")} == {
        library.holds["bob_no_wo"], library.holds["bob_gakko"]}
    alice_hold = library.holds["alice_denshi"]
    cancel = bob.post(f"/my/holds/{alice_hold}/cancel", {}, token_from="/my")
    assert cancel.status_code == 404 and "見つかりません" in cancel.text
    moved = bob.post(f"/my/holds/{alice_hold}/pickup", {"pickup_branch": "gyotoku"}, token_from="/my")
    assert moved.status_code == 404
    renew = bob.post("/my/loans/renew", {"item": "C2001"}, token_from="/my")
    assert renew.status_code == 404 and "見つかりません" in renew.text
    assert query(library, "SELECT status FROM hold WHERE id = %s", [alice_hold])[0][0] == "waiting"
    assert query(library, "SELECT renewals FROM loan WHERE item_id = %s AND returned_at IS NULL",
                 [library.items["C2001"]])[0][0] == 0
    injected = bob.post("/my/reading-record", {"keep": "1", "patron_id": str(library.patrons["alice"].patron_id),
                                               "card": library.patrons["alice"].card}, token_from="/my")
    assert injected.status_code == 303
    assert query(library, "SELECT keeps_reading_record FROM patron WHERE id = %s",
                 [library.patrons["bob"].patron_id])[0][0] is True
    assert query(library, "SELECT keeps_reading_record FROM patron WHERE id = %s",
                 [library.patrons["alice"].patron_id])[0][0] is True
    for malformed in ("abc", "-1", "99999999999999999999999"):
        assert bob.post(f"/my/holds/{malformed}/cancel", {}, token_from="/my").status_code == 404
    bob.close()


def test_renewing_a_loan(library):
    judy = logged_in(library, "judy")
    response = judy.post("/my/loans/renew", {"item": "C8001"}, token_from="/my")
    assert response.status_code == 303 and response.headers["location"] == "/my#loans"
    new_due = library_today() + dt.timedelta(days=14)
    notice = parse_html(judy.get("/my").text).find("div", cls="notice").text()
    assert "延長しました" in notice and f"{new_due.year}年{new_due.month:02d}月{new_due.day:02d}日" in notice
    due_on, renewals = query(library, "SELECT due_on, renewals FROM loan WHERE item_id = %s AND returned_at IS NULL",
                             [library.items["C8001"]])[0]
    assert due_on == new_due and renewals == 1
    entity_id, payload = last_event(library, "loan")
    assert payload["item_id"] == library.items["C8001"]
    assert (payload["engine"]["kind"], payload["engine"]["due_on"], payload["engine"]["renewals"]) == (
        "loan_opened", new_due.isoformat(), 1)
    logged = query(library, "SELECT actor_kind, actor, entity_id FROM operation_log WHERE action = 'circulation.renew' "
                            "ORDER BY id DESC LIMIT 1")[0]
    assert logged == ("patron", library.patrons["judy"].card, str(entity_id))
    again = judy.post("/my/loans/renew", {"item": "C8001"}, token_from="/my")
    assert again.status_code == 422 and "延長回数の上限（1回）" in again.text
    error = parse_html(again.text).find(id="loan-C8001-error")
    assert error is not None and "延長" in error.text()
    judy.close()


def test_renewal_refusals_for_an_overdue_loan_and_for_the_others_while_it_is_out(library):
    """Alice's C3001 is overdue: it cannot be renewed, and while it is out neither can her other loan C2001
    (an overdue patron is blocked from renewing as from borrowing), whatever else holds it back."""
    alice = logged_in(library, "alice")
    overdue = alice.post("/my/loans/renew", {"item": "C3001"}, token_from="/my")
    assert overdue.status_code == 422 and "を過ぎているため延長できません" in parse_html(overdue.text).find(
        id="loan-C3001-error").text()
    blocked = alice.post("/my/loans/renew", {"item": "C2001"}, token_from="/my")
    assert blocked.status_code == 422 and "返却期限を過ぎた資料が1点あります" in parse_html(blocked.text).find(
        id="loan-C2001-error").text() and "延長" in blocked.text
    english = alice.client.post("/my/loans/renew?lang=en", data={"item": "C2001",
                                                                   "_csrf_token": alice.csrf_token("/my")})
    assert english.status_code == 422 and "overdue" in english.text.lower() and "renewals" in english.text.lower()
    alice.close()


def test_cancelling_a_hold(library):
    judy = logged_in(library, "judy")
    hold_id = library.holds["judy_cancel"]
    response = judy.post(f"/my/holds/{hold_id}/cancel", {}, token_from="/my")
    assert response.status_code == 303 and response.headers["location"] == "/my#holds"
    assert "予約を取り消しました" in judy.get("/my").text
    status, reason, closed_at = query(library, "SELECT status, cancel_reason, closed_at FROM hold WHERE id = %s",
                                      [hold_id])[0]
    assert status == "cancelled" and reason == "patron" and closed_at is not None
    assert last_event(library, "hold") == (hold_id, {"item_id": None,
                                                     "engine": {"kind": "hold_closed", "hold_id": hold_id}})
    again = judy.post(f"/my/holds/{hold_id}/cancel", {}, token_from="/my")
    assert again.status_code == 409 and "すでに終了" in parse_html(again.text).find("div", cls="error-summary").text()
    judy.close()


def test_changing_the_pickup_branch(library):
    judy = logged_in(library, "judy")
    hold_id = library.holds["judy_pickup"]
    moved = judy.post(f"/my/holds/{hold_id}/pickup", {"pickup_branch": "gyotoku"}, token_from="/my")
    assert moved.status_code == 303
    assert "行徳図書館に変更しました" in judy.get("/my").text
    assert query(library, "SELECT sp.code FROM hold h JOIN service_point sp ON sp.id = h.pickup_service_point_id "
                          "WHERE h.id = %s", [hold_id])[0][0] == "gyotoku"
    not_a_pickup_point = judy.post(f"/my/holds/{hold_id}/pickup", {"pickup_branch": "bookmobile"}, token_from="/my")
    assert not_a_pickup_point.status_code == 422
    assert "受け取れません" in parse_html(not_a_pickup_point.text).find(id=f"hold-{hold_id}-error").text()
    trapped = library.holds["judy_trapped"]
    refused = judy.post(f"/my/holds/{trapped}/pickup", {"pickup_branch": "central"}, token_from="/my")
    assert refused.status_code == 409 and "変更できません" in refused.text
    judy.close()


def test_turning_the_reading_record_off_deletes_it(library):
    ivan = logged_in(library, "ivan")
    assert "読書記録（1件）" in ivan.get("/my").text
    response = ivan.post("/my/reading-record", {"keep": "0"}, token_from="/my")
    assert response.status_code == 303 and response.headers["location"] == "/my#reading-record"
    page = my_page(ivan)
    section = page.find("section", id="reading-record")
    assert "現在：記録を残していません" in section.text() and section.find("ol", cls="history") is None
    patron_id = library.patrons["ivan"].patron_id
    assert query(library, "SELECT keeps_reading_record FROM patron WHERE id = %s", [patron_id])[0][0] is False
    assert query(library, "SELECT count(*) FROM loan WHERE patron_id = %s", [patron_id])[0][0] == 0
    assert query(library, "SELECT count(*) FROM loan WHERE item_id = %s", [library.items["C4001"]])[0][0] == 1
    assert last_event(library, "patron") == (patron_id, {"keeps_reading_record": False})
    assert ivan.post("/my/reading-record", {"keep": "1"}, token_from="/my").status_code == 303
    assert "現在：記録を残しています" in ivan.get("/my").text
    ivan.close()


def test_changing_the_password(library):
    heidi = library.patrons["heidi"]
    browser = logged_in(library, "heidi")
    other_device = logged_in(library, "heidi")
    wrong = browser.post("/my/password", {"current_password": "wrong-password", "new_password": "new-password-1",
                                          "new_password_confirm": "new-password-1"}, token_from="/my")
    assert wrong.status_code == 422
    field = parse_html(wrong.text).find("input", name="current_password")
    assert field.get("aria-invalid") == "true" and "現在のパスワードが違います" in wrong.text
    mismatch = browser.post("/my/password", {"current_password": heidi.password, "new_password": "new-password-1",
                                             "new_password_confirm": "new-password-2"}, token_from="/my")
    assert mismatch.status_code == 400 and "一致しません" in mismatch.text
    short = browser.post("/my/password", {"current_password": heidi.password, "new_password": "short",
                                          "new_password_confirm": "short"}, token_from="/my")
    assert short.status_code == 422 and "8文字以上" in short.text
    changed = browser.post("/my/password", {"current_password": heidi.password, "new_password": "new-password-1",
                                            "new_password_confirm": "new-password-1"}, token_from="/my")
    assert changed.status_code == 303 and "パスワードを変更しました" in browser.get("/my").text
    assert other_device.get("/my").status_code == 303, "other sessions end with a password change"
    assert Browser(library).login(heidi).status_code == 401
    assert Browser(library).login(Patron(heidi.card, "new-password-1")).status_code == 303
    assert query(library, "SELECT count(*) FROM operation_log WHERE action = 'patron.password_change' AND actor = %s",
                 [heidi.card])[0][0] == 1
    browser.close()
    other_device.close()


def test_every_my_page_form_carries_a_csrf_token(library):
    browser = logged_in(library, "alice")
    page = my_page(browser)
    forms = [form for form in page.find_all("form") if form.get("method") == "post"]
    assert len(forms) >= 5
    assert all(form.find("input", name="_csrf_token") is not None for form in forms)
    forged = browser.client.post("/my/reading-record", data={"keep": "0"})
    assert forged.status_code == 403
    assert query(library, "SELECT keeps_reading_record FROM patron WHERE id = %s",
                 [library.patrons["alice"].patron_id])[0][0] is True
    browser.close()
