"""The counter API through the real server: checkout, renew, checkin, holds, refusals, roles, privacy."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import time
import uuid

import httpx
import psycopg
import pytest

from shoka.circulation import consistency
from shoka.replica import retention


def test_checkout_renew_checkin_round_trip(library):
    card = library.free_patron()
    (barcode, bib_id), = library.free_items(1)
    response = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "branch": "central"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["loan_id"] > 0 and dt.date.fromisoformat(body["due_date"]) > dt.date.today()
    item = library.get(f"/api/v1/items/{barcode}", role=None).json()
    assert item["status"] == "on_loan" and item["label"] == "貸出中" and item["due_date"] == body["due_date"]
    loans = library.get(f"/api/v1/patrons/{card}/loans").json()
    assert any(loan["item"] == barcode for loan in loans)
    again = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "branch": "central"})
    assert again.status_code == 409 and again.json()["code"] == "already_on_loan_to_patron"
    renewed = library.post("/api/v1/circulation/renew", {"item": barcode, "branch": "central"})
    assert renewed.status_code == 200 and renewed.json()["due_date"] >= body["due_date"]
    returned = library.post("/api/v1/circulation/checkin", {"item": barcode, "branch": "central"})
    assert returned.status_code == 200 and returned.json()["status"] == "shelve"
    assert library.get(f"/api/v1/items/{barcode}", role=None).json()["status"] == "available"


def test_return_anonymises_the_loan_unless_the_patron_keeps_a_reading_record(library):
    card = library.free_patron()
    (barcode, _), = library.free_items(1)
    loan_id = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode}).json()["loan_id"]
    library.post("/api/v1/circulation/checkin", {"item": barcode})
    patron_id, category = library.query("SELECT patron_id, patron_category FROM loan WHERE id = %s", loan_id)[0]
    keeps = library.query("SELECT keeps_reading_record FROM patron WHERE card = %s", card)[0][0]
    assert (patron_id is not None) == keeps and category


def test_a_return_while_the_patron_turns_the_reading_record_off_is_cut_too(library):
    """The patron's choice is read as it stands when the return commits: a return that meets a patron turning
    the reading record off (which cuts past loans in the same transaction) waits for that choice and follows it,
    instead of keeping a link the patron has just asked to remove."""
    card = library.free_patron()
    (barcode, _), = library.free_items(1)
    library.query("UPDATE patron SET keeps_reading_record = true WHERE card = %s RETURNING id", card)
    loan_id = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode}).json()["loan_id"]
    with psycopg.connect(library.url) as turning_off, concurrent.futures.ThreadPoolExecutor(1) as desk:
        # The statements of the patron's own switch (my_account.set_reading_record), left open.
        patron_id = turning_off.execute("UPDATE patron SET keeps_reading_record = false WHERE card = %s "
                                        "RETURNING id", [card]).fetchone()[0]
        turning_off.execute("UPDATE loan SET patron_id = NULL WHERE patron_id = %s AND returned_at IS NOT NULL",
                            [patron_id])
        returned = desk.submit(library.post, "/api/v1/circulation/checkin", {"item": barcode})
        deadline = time.monotonic() + 10
        while not returned.done() and time.monotonic() < deadline and not library.query(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND strpos(query, 'counter_close_loan') > 0"):
            time.sleep(0.02)
        turning_off.commit()
        assert returned.result().status_code == 200, returned.result().text
    assert library.query("SELECT returned_at IS NOT NULL, patron_id FROM loan WHERE id = %s", loan_id) == [(True, None)]


def test_refusals_name_the_reason_in_japanese(library):
    (barcode, _), = library.free_items(1)
    unknown = library.post("/api/v1/circulation/checkout", {"patron": "0000000000", "item": barcode})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_patron"
    expired = library.query("SELECT card FROM patron WHERE expires_on < current_date AND status = 'active' LIMIT 1")
    if expired:
        refused = library.post("/api/v1/circulation/checkout", {"patron": expired[0][0], "item": barcode})
        assert refused.status_code == 422 and refused.json()["code"] == "card_expired"
        assert "有効期限" in refused.json()["message"]
    overdue = library.query("""SELECT p.card FROM patron p JOIN loan l ON l.patron_id = p.id
                               WHERE l.returned_at IS NULL AND l.due_on < current_date AND p.status = 'active'
                               AND p.expires_on > current_date LIMIT 1""")
    if overdue:
        refused = library.post("/api/v1/circulation/checkout", {"patron": overdue[0][0], "item": barcode})
        assert refused.status_code == 422 and refused.json()["code"] == "overdue_block"
    reference = library.query("SELECT barcode FROM item WHERE loan_policy = 'in_library_only' AND status = 'available' "
                              "LIMIT 1")
    if reference:
        refused = library.post("/api/v1/circulation/checkout", {"patron": library.free_patron(), "item": reference[0][0]})
        assert refused.status_code == 422 and refused.json()["code"] in {"in_library_only", "not_loanable"}
    malformed = library.post("/api/v1/circulation/checkout", {"patron": "x"})
    assert malformed.status_code == 400 and "item" in malformed.json()["message"]


def test_a_returned_copy_is_trapped_for_the_first_hold_and_fulfils_it(library):
    borrower = library.free_patron()
    waiting = library.free_patron(exclude={borrower})
    (barcode, bib_id), = library.free_items(1, branch="gyotoku")
    copies = library.query("SELECT count(*) FROM item WHERE bib_id = %s", bib_id)[0][0]
    assert library.post("/api/v1/circulation/checkout",
                        {"patron": borrower, "item": barcode, "branch": "gyotoku"}).status_code == 201
    # Other copies of the title, if any, go out too, so the hold has to wait for this one.
    for (other,) in library.query("SELECT barcode FROM item WHERE bib_id = %s AND barcode <> %s", bib_id, barcode):
        library.post("/api/v1/circulation/checkout", {"patron": borrower, "item": other, "branch": "gyotoku",
                                                      "override": True})
    hold = library.post("/api/v1/holds", {"patron": waiting, "bib_id": bib_id, "pickup_branch": "central"})
    assert hold.status_code == 201, hold.text
    renewal = library.post("/api/v1/circulation/renew", {"item": barcode, "branch": "gyotoku"})
    assert renewal.status_code == 409 and renewal.json()["code"] == "renewal_blocked_by_hold"
    returned = library.post("/api/v1/circulation/checkin", {"item": barcode, "branch": "gyotoku"}).json()
    assert returned["status"] == "hold_transit" and returned["transit_to"] == "central"
    arrived = library.post("/api/v1/circulation/checkin", {"item": barcode, "branch": "central"}).json()
    assert arrived["status"] == "hold_ready" and arrived["hold"]["hold_id"] == hold.json()["hold_id"]
    shelf = library.get(f"/api/v1/items/{barcode}", role=None).json()
    assert shelf["label"] == "予約中"
    stranger = library.free_patron(exclude={borrower, waiting})
    taken = library.post("/api/v1/circulation/checkout", {"patron": stranger, "item": barcode, "branch": "central"})
    assert taken.status_code == 409 and taken.json()["code"] == "on_hold_for_another"
    picked_up = library.post("/api/v1/circulation/checkout", {"patron": waiting, "item": barcode, "branch": "central"})
    assert picked_up.status_code == 201 and picked_up.json()["fulfilled_hold"] == hold.json()["hold_id"]
    status = library.query("SELECT status FROM hold WHERE id = %s", hold.json()["hold_id"])[0][0]
    assert status == "fulfilled" and copies >= 1


def test_taking_another_copy_of_a_title_set_aside_for_the_patron_passes_the_set_aside_copy_on(library):
    """A patron whose copy waits on the hold shelf takes another copy of the title from the open shelf: the
    loan fulfils the hold, and the set-aside copy goes to the next in line, with the clerk told so."""
    set_aside, taken, (first, second), holds = library.copy_set_aside()
    loan = library.post("/api/v1/circulation/checkout", {"patron": first, "item": taken, "branch": "central"})
    assert loan.status_code == 201, loan.text
    body = loan.json()
    assert body["fulfilled_hold"] == holds[0]
    assert body["released_copy"]["item"] == set_aside and body["released_copy"]["status"] == "hold_ready"
    assert body["released_copy"]["hold"]["hold_id"] == holds[1]
    assert any(f"予約棚の資料（{set_aside}）" in warning for warning in body["warnings"]), body["warnings"]
    statuses = dict(library.query("SELECT id, status FROM hold WHERE id = ANY(%s)", holds))
    assert statuses == {holds[0]: "fulfilled", holds[1]: "ready"}
    picked_up = library.post("/api/v1/circulation/checkout", {"patron": second, "item": set_aside})
    assert picked_up.status_code == 201 and picked_up.json()["fulfilled_hold"] == holds[1]
    entry = library.query("SELECT detail FROM operation_log WHERE action = 'circulation.checkout' "
                          "AND detail->>'item' = %s ORDER BY id DESC LIMIT 1", taken)[0][0]
    assert entry["fulfils_hold"] == holds[0] and entry["released_item"] == set_aside


def test_holds_can_be_cancelled_and_moved_and_show_in_pick_lists(library):
    patron = library.free_patron()
    (barcode, bib_id), = library.free_items(1, branch="central")
    placed = library.post("/api/v1/holds", {"patron": patron, "bib_id": bib_id, "pickup_branch": "gyotoku"})
    assert placed.status_code == 201, placed.text
    hold_id = placed.json()["hold_id"]
    pick_from = placed.json()["pick_from"]  # the copy targeting chose: at the pickup branch if one is free there
    assert pick_from is not None
    picks = library.get(f"/api/v1/branches/{pick_from['branch']}/pick-list").json()
    assert any(entry["hold_id"] == hold_id and entry["item_id"] == pick_from["item_id"] for entry in picks)
    twice = library.post("/api/v1/holds", {"patron": patron, "bib_id": bib_id, "pickup_branch": "gyotoku"})
    assert twice.status_code == 409 and twice.json()["code"] == "hold_exists"
    moved = httpx.patch(f"{library.server.base_url}/api/v1/holds/{hold_id}", json={"pickup_branch": "central"},
                        headers=library.token("librarian"))
    assert moved.status_code == 200
    cancelled = httpx.delete(f"{library.server.base_url}/api/v1/holds/{hold_id}", headers=library.token("librarian"))
    assert cancelled.status_code == 200
    assert library.query("SELECT status FROM hold WHERE id = %s", hold_id)[0][0] == "cancelled"


def test_an_item_level_hold_placed_at_the_desk_waits_for_that_copy(library):
    """A hold on one copy (a volume of a set, say) by its barcode: placed in a transaction of its own (the
    copy's lookup before it must not turn it into a savepoint), it holds that copy, and the copy is not lent
    to anyone else from the shelf."""
    holder = library.free_patron()
    walk_up = library.free_patron(exclude={holder})
    (barcode, bib_id), = library.free_items(1, branch="central")
    placed = library.post("/api/v1/holds", {"patron": holder, "bib_id": bib_id, "item": barcode,
                                            "pickup_branch": "central"})
    assert placed.status_code == 201, placed.text
    held = library.query("SELECT i.barcode FROM hold h JOIN item i ON i.id = h.item_id WHERE h.id = %s",
                         placed.json()["hold_id"])
    assert held == [(barcode,)]
    refused = library.post("/api/v1/circulation/checkout", {"patron": walk_up, "item": barcode})
    assert refused.status_code == 409 and refused.json()["code"] == "reserved_for_others"
    unknown = library.post("/api/v1/holds", {"patron": holder, "bib_id": bib_id, "item": "NO-SUCH-COPY",
                                             "pickup_branch": "central"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_item"


def test_roles_and_branch_scopes_are_enforced(library):
    card = library.free_patron()
    (barcode, _), = library.free_items(1, branch="gyotoku")
    stats = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode}, role="stats")
    assert stats.status_code == 403
    anonymous = httpx.post(f"{library.server.base_url}/api/v1/circulation/checkout", json={"patron": card, "item": barcode})
    assert anonymous.status_code == 401
    elsewhere = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "branch": "gyotoku"},
                             role="counter", username="counter")
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "branch_not_allowed"
    at_home = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode},
                           role="counter", username="counter-gyotoku")
    assert at_home.status_code == 201
    loans = library.get(f"/api/v1/patrons/{card}/loans", role="stats")
    assert loans.status_code == 403


def test_once_every_replica_has_followed_only_the_loan_row_remembers_a_return(library):
    """The outbox events and the remembered answer of a loan repeat who borrowed what. Retention removes them once
    every replica of the running server has followed (here without the grace), so after a return nothing links
    the patron to the copy, and the replicas still agree with the database."""
    keepers = {card for (card,) in library.query("SELECT card FROM patron WHERE keeps_reading_record")}
    card = library.free_patron(exclude=keepers)
    (barcode, _), = library.free_items(1)
    loan_id = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode,
                                                            "request_id": uuid.uuid4().hex}).json()["loan_id"]
    library.post("/api/v1/circulation/checkin", {"item": barcode, "request_id": uuid.uuid4().hex})

    def traces() -> tuple[int, int]:
        return library.query("""SELECT (SELECT count(*) FROM outbox_event WHERE topic = 'loan' AND entity_id = %s),
                                       (SELECT count(*) FROM idempotent_request WHERE response::text LIKE %s)""",
                             loan_id, f"%{card}%")[0]

    assert traces() == (2, 1)
    deadline = time.monotonic() + 30
    with psycopg.connect(library.url, autocommit=True) as connection:
        while traces() != (0, 0):  # the replicas report how far they have followed every few seconds
            assert time.monotonic() < deadline, f"still there: {traces()}"
            retention.prune(connection, grace=dt.timedelta(0), answer_retention=dt.timedelta(0))
            time.sleep(0.5)
    assert library.query("SELECT patron_id FROM loan WHERE id = %s", loan_id)[0][0] is None
    report = consistency.run_check(library.url)
    assert report["answers"] and not report["silent"]
    assert all(differences == [] for _seq, differences in report["answers"].values())


def test_a_retried_request_gets_the_same_answer(library):
    card = library.free_patron()
    (barcode, _), = library.free_items(1)
    request_id = uuid.uuid4().hex
    first = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "request_id": request_id})
    second = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "request_id": request_id})
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert library.query("SELECT count(*) FROM loan WHERE item_id = (SELECT id FROM item WHERE barcode = %s) "
                         "AND returned_at IS NULL", barcode)[0][0] == 1


@pytest.mark.parametrize("reused_for", ["another copy", "another patron"])
def test_a_request_id_reused_for_another_request_is_refused_not_answered(library, reused_for):
    """The stored answer belongs to the first request: handed to a request for another copy it would report a
    loan that was not made, and to one naming another patron it would show the first patron's card."""
    first_card = library.free_patron()
    (first_barcode, _), (other_barcode, _) = library.free_items(2)
    card, barcode = ((first_card, other_barcode) if reused_for == "another copy"
                     else (library.free_patron(exclude={first_card}), first_barcode))
    request_id = uuid.uuid4().hex
    assert library.post("/api/v1/circulation/checkout",
                        {"patron": first_card, "item": first_barcode, "request_id": request_id}).status_code == 201
    reused = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "request_id": request_id})
    assert reused.status_code == 409 and reused.json()["code"] == "request_id_reused"
    assert first_card not in reused.text
    assert library.query("SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = %s "
                         "AND l.returned_at IS NULL", other_barcode)[0][0] == 0


def test_circulation_is_in_the_operation_log(library):
    card = library.free_patron()
    (barcode, _), = library.free_items(1)
    library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode})
    library.post("/api/v1/circulation/checkin", {"item": barcode})
    actions = {row[0] for row in library.query(
        "SELECT action FROM operation_log WHERE detail->>'item' = %s", barcode)}
    assert {"circulation.checkout", "circulation.checkin"} <= actions


def test_requests_for_titles_not_held_are_recorded_for_acquisitions(library):
    card = library.free_patron()
    created = library.post("/api/v1/purchase-requests", {"patron": card, "title": "まだない本", "author": "未来 太郎",
                                                         "isbn": "978-4-00-000000-0"})
    assert created.status_code == 201, created.text
    assert created.json()["isbn"] == "9784000000000" and created.json()["status"] == "new"
    listed = library.get("/api/v1/purchase-requests", role="librarian", status="new").json()
    assert any(entry["id"] == created.json()["id"] for entry in listed)
    held_isbn = library.query("SELECT isbns[1] FROM bib WHERE cardinality(isbns) > 0 LIMIT 1")[0][0]
    held = library.post("/api/v1/purchase-requests", {"patron": card, "title": "x", "isbn": held_isbn})
    assert held.status_code == 409 and held.json()["code"] == "already_held"
    invalid = library.post("/api/v1/purchase-requests", {"title": "x", "isbn": "978-4-00-000000-3"})
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_isbn"
    assert library.get("/api/v1/purchase-requests", role="counter").status_code == 403


def test_the_database_refuses_a_second_open_loan_the_engine_did_not_know_of(library):
    """The last guard: a loan written behind the engine's back (no outbox event) still stops a second loan of
    the copy. In pipeline mode the unique violation surfaces at COMMIT; it must answer 409, not 500."""
    other_card = library.free_patron()
    card = library.free_patron(exclude={other_card})
    (barcode, _), = library.free_items(1)
    library.query(
        """INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on, patron_category,
                             patron_age_band, material_type)
           SELECT i.id, p.id, i.service_point_id, now(), current_date + 14, p.category, p.age_band, i.material_type
           FROM item i, patron p WHERE i.barcode = %s AND p.card = %s RETURNING id""", barcode, other_card)
    try:
        refused = library.post("/api/v1/circulation/checkout", {"patron": card, "item": barcode, "branch": "central"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "already_on_loan" and "貸出中" in refused.json()["message"]
        open_loans = library.query("SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id "
                                   "WHERE i.barcode = %s AND l.returned_at IS NULL", barcode)[0][0]
        assert open_loans == 1
    finally:
        library.query("DELETE FROM loan WHERE item_id = (SELECT id FROM item WHERE barcode = %s) "
                      "AND returned_at IS NULL RETURNING id", barcode)
