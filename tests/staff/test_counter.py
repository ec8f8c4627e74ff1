"""The counter screen's page and JSON endpoints (/staff/circulation, .../patron, .../checkout, .../checkin,
.../renew) over the demo library: what a scan does, what a refusal says, that a retried scan lends once, and who
may use the counter where.

Each test picks its own patrons and copies at random among those that fit (no open loans, no holds, not a patron
with a web password whom other tests log in as), so the tests do not depend on one another or on their order.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import httpx
import pytest

pytestmark = pytest.mark.e2e

FREE_COPIES = """
SELECT i.barcode FROM item i JOIN service_point sp ON sp.id = i.service_point_id
WHERE sp.code = %s AND i.status = 'available' AND i.loan_policy = 'normal' AND i.material_type = 'book'
  AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status IN ('waiting', 'in_transit', 'ready'))
  AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
  AND (SELECT count(*) FROM item other WHERE other.bib_id = i.bib_id) = 1
ORDER BY random() LIMIT %s
"""
FREE_PATRON = """
SELECT p.card FROM patron p
WHERE p.status = 'active' AND p.category = 'adult' AND p.expires_on > current_date + 60
  AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.patron_id = p.id AND h.status IN ('waiting', 'in_transit', 'ready'))
  AND NOT EXISTS (SELECT 1 FROM patron_credential c WHERE c.patron_id = p.id)  -- the OPAC showcase patrons
ORDER BY random() LIMIT %s
"""


def free_copies(library, count: int, branch: str = "central") -> list[str]:
    barcodes = [row[0] for row in library.query(FREE_COPIES, branch, count)]
    assert len(barcodes) == count, f"the demo library has fewer than {count} free single copies at {branch}"
    return barcodes


def free_patrons(library, count: int) -> list[str]:
    cards = [row[0] for row in library.query(FREE_PATRON, count)]
    assert len(cards) == count
    return cards


def free_patron(library) -> str:
    return free_patrons(library, 1)[0]


def script_text(page: str) -> dict[str, str]:
    block = re.search(r'<script type="application/json" id="counter-text">(.*?)</script>', page, re.S)
    assert block, "the counter page hands its script no sentences"
    return json.loads(block.group(1))


def request_id() -> str:
    return secrets.token_hex(16)


def checkout(client, card: str, barcode: str, **extra) -> httpx.Response:
    return client.post_json("/staff/circulation/checkout",
                            {"patron": card, "item": barcode, "request_id": request_id(), **extra})


def test_the_counter_screen_has_the_contract_inputs_and_is_never_cached(staff_library):
    page = staff_library.staff_client("counter").get("/staff/circulation")
    assert page.status_code == 200
    assert 'name="patron"' in page.text and 'name="item"' in page.text
    assert "レシート印刷" in page.text and 'src="/static/staff-counter.js"' in page.text
    assert script_text(page.text)["outcome_hold_ready"] == "予約取置"  # the script's sentences, in Japanese
    assert page.headers["cache-control"] == "no-store"
    english = staff_library.staff_client("counter").get("/staff/circulation?lang=en")
    assert "Print receipt" in english.text and script_text(english.text)["outcome_hold_ready"] == "Hold: keep here"
    assert staff_library.anonymous_client().get("/staff/circulation").headers["location"].startswith(
        "/staff/login?next=%2Fstaff%2Fcirculation")
    assert staff_library.staff_client("stats").get("/staff/circulation").status_code == 403


def test_the_patron_panel_shows_the_record_and_logs_the_read(staff_library):
    card, patron_id = staff_library.query(
        """SELECT p.card, p.id FROM patron p JOIN loan l ON l.patron_id = p.id AND l.returned_at IS NULL
           WHERE p.status = 'active' AND p.expires_on > current_date AND l.due_on < current_date
           ORDER BY random() LIMIT 1""")[0]
    client = staff_library.staff_client("counter")
    answer = client.post_json("/staff/circulation/patron", {"card": f" {card} "})
    assert answer.status_code == 200, answer.text
    panel = answer.json()
    family = staff_library.query("SELECT family_name FROM patron_personal WHERE patron_id = %s", patron_id)[0][0]
    assert panel["card"] == card and panel["name"].startswith(family) and panel["name_reading"]
    assert panel["category_name"] and panel["status"] == "active" and panel["expired"] is False
    assert "overdue_block" in [block["code"] for block in panel["blocks"]]
    overdue = [loan for loan in panel["loans"] if loan["overdue"]]
    assert overdue and overdue[0]["title"] and overdue[0]["days_overdue"] >= 1
    logged = staff_library.query(
        "SELECT actor, detail->>'branch' FROM operation_log WHERE action = 'patron.view' AND entity = 'patron' "
        "AND entity_id = %s ORDER BY id DESC LIMIT 1", str(patron_id))
    assert logged == [(staff_library.account("counter")["username"], "central")]
    detail = staff_library.query("SELECT detail::text FROM operation_log WHERE action = 'patron.view' "
                                 "ORDER BY id DESC LIMIT 1")[0][0]
    assert family not in detail and card not in detail  # ids only in the log


def test_the_patron_panel_marks_holds_waiting_on_the_shelf(staff_library):
    card = staff_library.query("SELECT p.card FROM patron p JOIN hold h ON h.patron_id = p.id "
                               "WHERE h.status = 'ready' ORDER BY random() LIMIT 1")[0][0]
    panel = staff_library.staff_client("librarian").post_json("/staff/circulation/patron", {"card": card}).json()
    ready = [hold for hold in panel["holds"] if hold["status"] == "ready"]
    assert ready and ready[0]["pickup_by"] and ready[0]["pickup_branch_name"] and ready[0]["title"]


def test_an_unknown_card_is_refused_in_both_languages(staff_library):
    answer = staff_library.staff_client("counter").post_json("/staff/circulation/patron", {"card": "0000000000X"})
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == "unknown_patron" and "利用者が見つかりません" in body["message"] and body["message_en"]


def test_checkout_renew_and_checkin_at_the_counter(staff_library):
    client = staff_library.staff_client("counter")
    card, (barcode,) = free_patron(staff_library), free_copies(staff_library, 1)
    lent = checkout(client, card, barcode)
    assert lent.status_code == 201, lent.text
    loan = lent.json()
    assert loan["item"] == barcode and loan["title"] and loan["due_date"] and loan["loan_id"]
    assert staff_library.query(
        "SELECT sp.code, l.due_on::text FROM loan l JOIN service_point sp ON sp.id = l.service_point_id "
        "WHERE l.id = %s AND l.returned_at IS NULL", loan["loan_id"]) == [("central", loan["due_date"])]
    assert staff_library.query("SELECT actor, source_address FROM operation_log WHERE action = 'circulation.checkout' "
                               "AND entity_id = %s", str(loan["loan_id"])) == [
        (staff_library.account("counter")["username"], client.address)]

    renewed = client.post_json("/staff/circulation/renew", {"item": barcode, "request_id": request_id()})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["renewals"] == 1 and renewed.json()["title"] == loan["title"]
    again = client.post_json("/staff/circulation/renew", {"item": barcode, "request_id": request_id()})
    assert again.status_code == 422 and again.json()["code"] == "renewal_limit" and "延長回数" in again.json()["message"]

    returned = client.post_json("/staff/circulation/checkin", {"item": barcode, "request_id": request_id()})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "shelve" and returned.json()["returned_loan"] == loan["loan_id"]
    assert staff_library.query("SELECT returned_at IS NOT NULL FROM loan WHERE id = %s", loan["loan_id"]) == [(True,)]


def test_a_copy_of_another_branch_returned_here_is_sent_home(staff_library):
    client = staff_library.staff_client("counter")
    card, (barcode,) = free_patron(staff_library), free_copies(staff_library, 1, "gyotoku")
    assert checkout(client, card, barcode).status_code == 201
    returned = client.post_json("/staff/circulation/checkin", {"item": barcode, "request_id": request_id()}).json()
    assert returned["status"] == "transit_home" and returned["transit_to"] == "gyotoku"
    assert returned["transit_to_name"] == staff_library.query(
        "SELECT name_ja FROM service_point WHERE code = 'gyotoku'")[0][0]


def test_an_unknown_barcode_is_404_with_its_code(staff_library):
    answer = checkout(staff_library.staff_client("counter"), free_patron(staff_library), "999999999999")
    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_item" and "999999999999" in answer.json()["message"]


def test_a_blocked_patron_is_refused_with_the_japanese_message(staff_library):
    card = staff_library.query("SELECT card FROM patron WHERE status = 'active' AND expires_on < current_date "
                               "ORDER BY random() LIMIT 1")[0][0]
    answer = checkout(staff_library.staff_client("counter"), card, free_copies(staff_library, 1)[0])
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "card_expired" and "有効期限が切れています" in body["message"]
    assert "expired" in body["message_en"] and body["overridable"] is False


def test_a_retried_scan_with_the_same_request_id_lends_once(staff_library):
    client = staff_library.staff_client("counter")
    card, (barcode,) = free_patron(staff_library), free_copies(staff_library, 1)
    body = {"patron": card, "item": barcode, "request_id": request_id()}
    first = client.post_json("/staff/circulation/checkout", body)
    retry = client.post_json("/staff/circulation/checkout", body)
    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json()
    assert staff_library.query("SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = %s "
                               "AND l.returned_at IS NULL", barcode) == [(1,)]
    assert staff_library.query("SELECT count(*) FROM operation_log WHERE action = 'circulation.checkout' "
                               "AND entity_id = %s", str(first.json()["loan_id"])) == [(1,)]


def test_only_a_librarian_lends_past_waiting_holds_and_the_return_traps_the_hold(staff_library):
    (barcode,) = free_copies(staff_library, 1)
    bib_id = staff_library.query("SELECT bib_id FROM item WHERE barcode = %s", barcode)[0][0]
    waiting_patron, borrower = free_patrons(staff_library, 2)
    hold = httpx.post(f"{staff_library.base_url}/api/v1/holds", headers=staff_library.api_headers("librarian"),
                      json={"patron": waiting_patron, "bib_id": bib_id, "pickup_branch": "central"})
    assert hold.status_code == 201, hold.text
    hold_id = staff_library.query("SELECT id FROM hold WHERE bib_id = %s AND status = 'waiting'", bib_id)[0][0]

    counter = staff_library.staff_client("counter")
    refused = checkout(counter, borrower, barcode)
    assert refused.status_code == 409 and refused.json()["code"] == "reserved_for_others"
    assert refused.json()["overridable"] is True
    forbidden = checkout(counter, borrower, barcode, override=True)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "override_not_allowed"

    librarian = staff_library.staff_client("librarian")
    librarian.post("/staff/branch", {"branch": "central", "next": "/staff/"}, token_from="/staff/")
    lent = checkout(librarian, borrower, barcode, override=True)
    assert lent.status_code == 201, lent.text
    assert any("職員判断" in warning for warning in lent.json()["warnings"])

    trapped = librarian.post_json("/staff/circulation/checkin", {"item": barcode, "request_id": request_id()})
    assert trapped.status_code == 200, trapped.text
    result = trapped.json()
    assert result["status"] == "hold_ready" and result["hold_id"] == hold_id and result["pickup_by"]
    assert result["pickup_branch"] == "central"
    assert staff_library.query("SELECT status FROM hold WHERE id = %s", hold_id) == [("ready",)]


def test_counter_staff_are_refused_at_a_branch_not_their_own(staff_library):
    client = staff_library.staff_client("counter")
    token_hash = hashlib.sha256(client.client.cookies.get("shoka_staff").encode()).digest()
    # The account's branches are central and ekiminami; an administrator narrows or the session drifts.
    staff_library.execute("UPDATE staff_session SET working_branch = 'gyotoku' WHERE token_hash = %s", token_hash)
    answer = checkout(client, free_patron(staff_library), free_copies(staff_library, 1)[0])
    assert answer.status_code == 403 and answer.json()["code"] == "branch_not_allowed"
    lookup = client.post_json("/staff/circulation/patron", {"card": free_patron(staff_library)})
    assert lookup.status_code == 403


def test_roles_without_circulation_get_403_and_no_session_gets_401_json(staff_library):
    body = {"patron": "0000000001", "item": "200000000001", "request_id": request_id()}
    stats = staff_library.staff_client("stats").post_json("/staff/circulation/checkout", body)
    assert stats.status_code == 403 and stats.json()["code"] == "role_not_allowed"
    anonymous = staff_library.anonymous_client().post_json("/staff/circulation/checkout", body)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "login_required"
    without_token = staff_library.staff_client("counter").client.post(
        "/staff/circulation/checkout", json=body, headers={"Accept": "application/json"})
    assert without_token.status_code == 403  # no X-CSRF-Token header


@pytest.mark.parametrize("body, code", [
    ({"patron": "0000000001", "item": "bad barcode!", "request_id": "abcdefgh12"}, "invalid_item"),
    ({"patron": "", "item": "200000000001", "request_id": "abcdefgh12"}, "invalid_patron"),
    ({"patron": "0000000001", "item": "200000000001"}, "invalid_request_id"),
])
def test_bad_scans_are_400_naming_the_field(staff_library, body, code):
    answer = staff_library.staff_client("counter").post_json("/staff/circulation/checkout", body)
    assert answer.status_code == 400 and answer.json()["code"] == code
    assert code.removeprefix("invalid_") in answer.json()["message"]
