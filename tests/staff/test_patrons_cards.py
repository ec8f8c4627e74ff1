"""A card's life on the patron's page: replacement (the old card is refused at checkout with its reason and
still finds the patron in search), renewal of the expiry, suspension, a lost card, and the web password. Each
change reaches the circulation engine at once: the checkout right after it decides on the new state."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from shoka.auth.passwords import verify_password
from shoka.clock import library_today
from shoka.patrons.patron_fields import add_years
from tests.staff.patron_steps import api_checkout, free_copies, log_entries, register, registration, unique_card

pytestmark = pytest.mark.e2e


def post_action(client, patron_id: int, action: str, data: dict | None = None):
    return client.post(f"/staff/patrons/{patron_id}/{action}", data or {}, token_from=f"/staff/patrons/{patron_id}")


def adult_card_years(library) -> int:
    return library.query("SELECT card_years FROM patron_category WHERE code = 'adult'")[0][0]


def test_a_replaced_card_is_refused_with_its_reason_and_still_finds_the_patron(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, old_card = register(client)
    new_card = unique_card()
    response = post_action(client, patron_id, "replace-card", {"new_card": new_card, "reason": "lost"})
    assert response.status_code == 303 and response.headers["location"].endswith("done=card_replaced")
    assert staff_library.query("SELECT card FROM patron WHERE id = %s", patron_id)[0][0] == new_card
    assert staff_library.query("SELECT patron_id, reason FROM patron_card_history WHERE card = %s",
                               old_card) == [(patron_id, "lost")]
    first, second = free_copies(staff_library, 2)
    refused = api_checkout(staff_library, old_card, first)
    assert refused.status_code == 422 and refused.json()["code"] == "card_replaced", refused.text
    assert "再発行" in refused.json()["message"]
    bib_id = staff_library.query("SELECT bib_id FROM item WHERE barcode = %s", first)[0][0]
    hold = httpx.post(f"{staff_library.base_url}/api/v1/holds", headers=staff_library.api_headers("librarian"),
                      json={"patron": old_card, "bib_id": bib_id, "pickup_branch": "central"}, timeout=30)
    assert hold.status_code == 422 and hold.json()["code"] == "card_replaced", hold.text
    assert api_checkout(staff_library, new_card, second).status_code == 201
    found = client.get("/staff/patrons", q=old_card)
    assert found.status_code == 200 and f'data-patron-id="{patron_id}"' in found.text
    assert f"旧カード {old_card} → 現在のカード {new_card}" in found.text
    page = client.get(f"/staff/patrons/{patron_id}")
    assert f'<tr data-card="{old_card}">' in page.text and "紛失" in page.text
    assert log_entries(staff_library, "patron.replace_card", patron_id)[0][2] == {"reason": "lost", "was_lost": False}
    reused = client.post("/staff/patrons/new", registration(card=old_card), token_from="/staff/patrons/new")
    assert reused.status_code == 422 and "旧カードを含む" in reused.text


def test_a_replacement_needs_a_free_card_number_and_a_reason(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    _, other_card = register(client)
    taken = post_action(client, patron_id, "replace-card", {"new_card": other_card, "reason": "damaged"})
    assert taken.status_code == 422 and 'id="new_card-error"' in taken.text
    assert f'value="{other_card}"' in taken.text  # what was typed stays in the field
    no_reason = post_action(client, patron_id, "replace-card", {"new_card": unique_card(), "reason": "stolen"})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    assert staff_library.query("SELECT card FROM patron WHERE id = %s", patron_id)[0][0] == card


def test_a_card_reported_lost_is_refused_until_it_is_replaced(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    assert post_action(client, patron_id, "status", {"status": "card_lost"}).status_code == 303
    first, second = free_copies(staff_library, 2)
    refused = api_checkout(staff_library, card, first)
    assert refused.status_code == 422 and refused.json()["code"] == "card_lost"
    new_card = unique_card()
    assert post_action(client, patron_id, "replace-card", {"new_card": new_card, "reason": "lost"}).status_code == 303
    assert staff_library.query("SELECT status FROM patron WHERE id = %s", patron_id)[0][0] == "active"
    assert api_checkout(staff_library, new_card, second).status_code == 201
    assert log_entries(staff_library, "patron.replace_card", patron_id)[0][2]["was_lost"] is True


def test_suspension_blocks_borrowing_until_it_is_lifted(staff_library):
    client = staff_library.staff_client("librarian")
    patron_id, card = register(client)
    assert post_action(client, patron_id, "status", {"status": "suspended"}).status_code == 303
    barcode, = free_copies(staff_library, 1)
    refused = api_checkout(staff_library, card, barcode)
    assert refused.status_code == 422 and refused.json()["code"] == "patron_suspended"
    again = post_action(client, patron_id, "status", {"status": "suspended"})
    assert again.status_code == 409 and "すでにその状態" in again.text
    assert post_action(client, patron_id, "status", {"status": "active"}).status_code == 303
    assert api_checkout(staff_library, card, barcode).status_code == 201
    assert [entry[2] for entry in log_entries(staff_library, "patron.status", patron_id)] == [
        {"from": "suspended", "to": "active"}, {"from": "active", "to": "suspended"}]


def test_renewal_extends_from_today_for_an_expired_card(staff_library):
    client = staff_library.staff_client("librarian")
    today = library_today()
    patron_id, card = register(client)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    corrected = client.post(f"/staff/patrons/{patron_id}", registration(expires_on=yesterday),
                            token_from=f"/staff/patrons/{patron_id}")
    assert corrected.status_code == 303
    barcode, = free_copies(staff_library, 1)
    refused = api_checkout(staff_library, card, barcode)
    assert refused.status_code == 422 and refused.json()["code"] == "card_expired"
    assert post_action(client, patron_id, "renew").status_code == 303
    assert staff_library.query("SELECT expires_on FROM patron WHERE id = %s", patron_id)[0][0] == add_years(
        today, adult_card_years(staff_library))
    assert api_checkout(staff_library, card, barcode).status_code == 201


def test_an_early_renewal_extends_from_the_current_expiry(staff_library):
    client = staff_library.staff_client("librarian")
    expiry = library_today() + dt.timedelta(days=100)
    patron_id, _card = register(client, expires_on=expiry.isoformat())
    assert post_action(client, patron_id, "renew").status_code == 303
    renewed = add_years(expiry, adult_card_years(staff_library))
    assert staff_library.query("SELECT expires_on FROM patron WHERE id = %s", patron_id)[0][0] == renewed
    assert log_entries(staff_library, "patron.renew", patron_id)[0][2] == {
        "from": expiry.isoformat(), "to": renewed.isoformat()}


def test_staff_set_the_web_password_under_the_password_rules(staff_library):
    client = staff_library.staff_client("counter", "counter")
    patron_id, _card = register(staff_library.staff_client("librarian"))
    weak = post_action(client, patron_id, "password", {"new_password": "short"})
    assert weak.status_code == 422 and 'id="new_password-error"' in weak.text
    assert post_action(client, patron_id, "password", {"new_password": "counter-set-pw"}).status_code == 303
    stored = staff_library.query("SELECT password_hash, failed_logins FROM patron_credential WHERE patron_id = %s",
                                 patron_id)[0]
    assert stored[0].startswith("$argon2id$") and verify_password(stored[0], "counter-set-pw") and stored[1] == 0
    assert log_entries(staff_library, "patron.password_reset", patron_id)[0][:2] == ("counter", str(patron_id))
    assert "設定済み" in client.get(f"/staff/patrons/{patron_id}").text
