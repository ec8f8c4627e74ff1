"""Steps the patrons tests share: registering a patron through the staff form, lending to it through the JSON
API, finding free copies, and reading the operation log. Every patron a test registers has a card and a reading
of its own, so the tests do not depend on one another or on the order they run in."""

from __future__ import annotations

import re
import secrets

import httpx

FREE_COPIES = """
SELECT i.barcode FROM item i JOIN service_point sp ON sp.id = i.service_point_id
WHERE sp.code = %s AND i.status = 'available' AND i.loan_policy = 'normal' AND i.material_type = 'book'
  AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status IN ('waiting', 'in_transit', 'ready'))
  AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
  AND (SELECT count(*) FROM item other WHERE other.bib_id = i.bib_id) = 1
ORDER BY random() LIMIT %s
"""
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
_PATRON_LOCATION = re.compile(r"^/staff/patrons/(\d+)\?done=registered$")


def unique_card() -> str:
    return f"9{secrets.randbelow(10 ** 9):09d}"


def unique_reading(length: int = 6) -> str:
    return "".join(secrets.choice(_KANA) for _ in range(length))


def unique_phone() -> str:
    return f"047-{secrets.randbelow(900) + 100}-{secrets.randbelow(10000):04d}"


def registration(**overrides: str) -> dict[str, str]:
    """A complete, valid registration form (an adult at the central library)."""
    form = {"card": unique_card(), "family_name": "試験", "given_name": "花子",
            "family_name_reading": unique_reading(), "given_name_reading": "ハナコ", "birth_date": "1990-05-01",
            "postal_code": "272-0015", "address": "市川市鬼高1丁目1番1号", "phone": unique_phone(),
            "email": "hanako@example.jp", "category": "adult", "home_branch": "central", "expires_on": "",
            "staff_note": ""}
    form.update(overrides)
    return form


def register(client, **overrides: str) -> tuple[int, str]:
    """Registers a patron through the form; returns (patron id, card)."""
    form = registration(**overrides)
    response = client.post("/staff/patrons/new", form, token_from="/staff/patrons/new")
    assert response.status_code == 303, response.text
    match = _PATRON_LOCATION.match(response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1)), form["card"]


def free_copies(library, count: int, branch: str = "central") -> list[str]:
    barcodes = [row[0] for row in library.query(FREE_COPIES, branch, count)]
    assert len(barcodes) == count, f"the demo library has fewer than {count} free single copies at {branch}"
    return barcodes


def api_checkout(library, card: str, barcode: str, role: str = "librarian") -> httpx.Response:
    return httpx.post(f"{library.base_url}/api/v1/circulation/checkout", headers=library.api_headers(role),
                      json={"patron": card, "item": barcode, "branch": "central"}, timeout=30)


def log_entries(library, action: str, entity_id: int | None = None) -> list[tuple]:
    """(actor, entity_id, detail) of the operation log's entries for an action, newest first."""
    if entity_id is None:
        return library.query("SELECT actor, entity_id, detail FROM operation_log WHERE action = %s ORDER BY id DESC",
                             action)
    return library.query("SELECT actor, entity_id, detail FROM operation_log WHERE action = %s AND entity_id = %s "
                         "ORDER BY id DESC", action, str(entity_id))
