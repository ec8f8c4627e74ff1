"""Merging a duplicate registration: a confirmation page first, then one transaction that moves open loans,
holds and the reading record to the surviving patron; the engine counts the moved loans against the
survivor's limit at once, the duplicate's card is refused with the "merged" reason, and every replica still
equals the database (`shoka check`)."""

from __future__ import annotations

import httpx
import pytest

from tests.staff.patron_steps import api_checkout, free_copies, log_entries, register

pytestmark = pytest.mark.e2e

LOAN_LIMIT = """
SELECT least(max_items_total, max_items_of_type) FROM circulation_rule r
LEFT JOIN service_point sp ON sp.id = r.service_point_id
WHERE (sp.code = 'central' OR r.service_point_id IS NULL) AND (r.patron_category = 'adult' OR r.patron_category IS NULL)
  AND (r.material_type = 'book' OR r.material_type IS NULL)
ORDER BY r.service_point_id IS NOT NULL DESC, r.patron_category IS NOT NULL DESC, r.material_type IS NOT NULL DESC
LIMIT 1
"""
# Titles lent to someone else: a hold on a title one is borrowing is refused (already_borrowed).
LENT_TITLES = """
SELECT i.bib_id FROM item i JOIN loan l ON l.item_id = i.id AND l.returned_at IS NULL
WHERE l.patron_id <> ALL(%s)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status IN ('waiting', 'in_transit', 'ready'))
  AND (SELECT count(*) FROM item other WHERE other.bib_id = i.bib_id) = 1
ORDER BY random() LIMIT %s
"""


def api(library, method: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.request(method, f"{library.base_url}{path}", json=body, headers=library.api_headers("librarian"),
                         timeout=30)


def place_hold(library, card: str, bib_id: int) -> int:
    response = api(library, "POST", "/api/v1/holds", {"patron": card, "bib_id": bib_id, "pickup_branch": "central"})
    assert response.status_code == 201, response.text
    return response.json()["hold_id"]


def test_a_merge_moves_loans_holds_and_history_and_the_engine_counts_them(staff_library):
    client = staff_library.staff_client("librarian")
    limit = staff_library.query(LOAN_LIMIT)[0][0]
    survivor_id, survivor_card = register(client, email="")
    duplicate_id, duplicate_card = register(client, keeps_reading_record="1", email="dup@example.jp")
    copies = free_copies(staff_library, limit + 2)
    for barcode in copies[:2]:
        assert api_checkout(staff_library, survivor_card, barcode).status_code == 201
    for barcode in copies[2:limit + 1]:
        assert api_checkout(staff_library, duplicate_card, barcode).status_code == 201
    # One returned loan: the duplicate's reading record; it keeps limit - 2 open loans.
    assert api(staff_library, "POST", "/api/v1/circulation/checkin", {"item": copies[limit], "branch": "central"}
               ).status_code == 200
    only_duplicate, both = (row[0] for row in staff_library.query(LENT_TITLES, [survivor_id, duplicate_id], 2))
    moved_hold = place_hold(staff_library, duplicate_card, only_duplicate)
    earlier_hold = place_hold(staff_library, duplicate_card, both)
    later_hold = place_hold(staff_library, survivor_card, both)

    preview = client.post(f"/staff/patrons/{survivor_id}/merge", {"duplicate": duplicate_card},
                          token_from=f"/staff/patrons/{survivor_id}")
    assert preview.status_code == 200 and 'id="merge-confirm"' in preview.text
    assert f'<td data-figure="duplicate_loans">{limit - 2}</td>' in preview.text
    assert staff_library.query("SELECT status FROM patron WHERE id = %s", duplicate_id)[0][0] == "active"

    merged = client.post(f"/staff/patrons/{survivor_id}/merge",
                         {"duplicate": duplicate_card, "duplicate_id": str(duplicate_id), "confirm": "1"},
                         token_from=f"/staff/patrons/{survivor_id}")
    assert merged.status_code == 303 and merged.headers["location"].endswith("done=merged")
    assert staff_library.query("SELECT status, merged_into_id FROM patron WHERE id = %s", duplicate_id) == [
        ("merged", survivor_id)]
    assert staff_library.query("SELECT count(*) FILTER (WHERE returned_at IS NULL), "
                               "count(*) FILTER (WHERE returned_at IS NOT NULL) FROM loan WHERE patron_id = %s",
                               survivor_id) == [(limit, 1)]
    assert staff_library.query("SELECT count(*) FROM loan WHERE patron_id = %s", duplicate_id)[0][0] == 0
    holds = dict(staff_library.query("SELECT id, status || ':' || patron_id || ':' || coalesce(cancel_reason, '') "
                                     "FROM hold WHERE id = ANY(%s)", [moved_hold, earlier_hold, later_hold]))
    assert holds == {moved_hold: f"waiting:{survivor_id}:", earlier_hold: f"waiting:{survivor_id}:",
                     later_hold: f"cancelled:{survivor_id}:merged_duplicate"}
    assert staff_library.query("SELECT patron_id, reason FROM patron_card_history WHERE card = %s",
                               duplicate_card) == [(survivor_id, "merged")]
    assert staff_library.query("SELECT p.keeps_reading_record, pp.email FROM patron p JOIN patron_personal pp "
                               "ON pp.patron_id = p.id WHERE p.id = %s", survivor_id) == [(True, "dup@example.jp")]

    # The engine: the survivor's loans include the moved ones and count against its limit.
    loans = api(staff_library, "GET", f"/api/v1/patrons/{survivor_card}/loans")
    assert loans.status_code == 200 and len(loans.json()) == limit
    refused = api_checkout(staff_library, survivor_card, copies[limit + 1])
    assert refused.status_code == 422 and refused.json()["code"] in ("limit_reached", "type_limit_reached")
    old_card = api_checkout(staff_library, duplicate_card, copies[limit + 1])
    assert old_card.status_code == 422 and old_card.json()["code"] == "patron_merged"

    found = client.get("/staff/patrons", q=duplicate_card)
    assert found.status_code == 200 and 'data-total="2"' in found.text  # the tombstone and the survivor
    assert f"旧カード {duplicate_card} → 現在のカード {survivor_card}" in found.text
    tombstone = client.get(f"/staff/patrons/{duplicate_id}")
    assert f'data-merged-into="{survivor_card}"' in tombstone.text and 'id="patron-edit"' not in tombstone.text
    assert log_entries(staff_library, "patron.merge", survivor_id)[0][2] == {
        "survivor_id": survivor_id, "duplicate_id": duplicate_id, "loans_moved": limit - 2, "holds_moved": 2,
        "holds_cancelled": 1, "history_moved": 1}
    check = staff_library.server.run_cli("check", "--timeout", "60")
    assert check.returncode == 0 and check.stdout.count(": clean") == 2, check.stdout + check.stderr


def test_a_merge_needs_a_current_card_of_another_patron(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    itself = client.post(f"/staff/patrons/{patron_id}/merge", {"duplicate": card},
                         token_from=f"/staff/patrons/{patron_id}")
    assert itself.status_code == 400 and 'id="duplicate-error"' in itself.text
    unknown = client.post(f"/staff/patrons/{patron_id}/merge", {"duplicate": "0000000000"},
                          token_from=f"/staff/patrons/{patron_id}")
    assert unknown.status_code == 404 and 'value="0000000000"' in unknown.text


def test_only_librarians_and_administrators_merge(staff_library):
    librarian = staff_library.staff_client("librarian")
    patron_id, _ = register(librarian)
    _, other_card = register(librarian)
    counter = staff_library.staff_client("counter", "counter")
    assert 'id="merge-form"' not in counter.get(f"/staff/patrons/{patron_id}").text
    refused = counter.post(f"/staff/patrons/{patron_id}/merge", {"duplicate": other_card}, token_from="/staff/")
    assert refused.status_code == 403
