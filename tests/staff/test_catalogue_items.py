"""Copies on the cataloguing screen, on a real server: a new copy can be lent at once (POST
/api/v1/circulation/checkout right after the save), barcodes are unique with an error beside the field, shelf
locations belong to the chosen branch, and a copy leaves the collection only when it is not on loan, not trapped
for a hold and not in transit — then a copy with history is withdrawn and its record can go too."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.staff.catalogue_steps import changed, create_record, form_fields

pytestmark = pytest.mark.e2e


def _barcode() -> str:
    return "T" + "".join(secrets.choice("0123456789") for _ in range(11))


def _add_copy(staff_library, client, bib_id: int, **values: str):
    page = client.get(f"/staff/catalogue/bibs/{bib_id}/items/new")
    assert page.status_code == 200
    fields = form_fields(page.text, "item-form")
    return client.post(f"/staff/catalogue/bibs/{bib_id}/items", changed(fields, **values),
                       token_from=f"/staff/catalogue/bibs/{bib_id}/items/new")


def _borrowers(staff_library, count: int) -> list[str]:
    """Adult cards that may borrow and reserve now: valid, active, nothing on loan."""
    rows = staff_library.query(
        """SELECT p.card FROM patron p WHERE p.status = 'active' AND p.category = 'adult'
             AND p.expires_on > current_date + 30
             AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
             AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.patron_id = p.id AND h.status IN ('waiting', 'in_transit', 'ready'))
           ORDER BY p.id DESC LIMIT %s""", count)
    return [row[0] for row in rows]


def _item_id(staff_library, barcode: str) -> int:
    return staff_library.query("SELECT id FROM item WHERE barcode = %s", barcode)[0][0]


def test_a_new_copy_can_be_lent_at_once(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id = create_record(client, title=f"すぐ貸せる本 {secrets.token_hex(4)}", ndc="913.6",
                           author_name=["夏目, 漱石", ""], author_reading=["ナツメ, ソウセキ", ""])
    new_form = client.get(f"/staff/catalogue/bibs/{bib_id}/items/new").text
    assert 'value="913.6 ナ"' in new_form  # 請求記号: NDC and the author mark, suggested
    barcode = _barcode()
    saved = _add_copy(staff_library, client, bib_id, barcode=barcode, branch="central", price="1,700円",
                      acquired_on="2024/4/1", volume="上")
    assert saved.status_code == 303 and saved.headers["location"] == f"/staff/catalogue/bibs/{bib_id}?saved=item#items"
    started = time.monotonic()
    card = _borrowers(staff_library, 1)[0]
    loan = httpx.post(f"{staff_library.base_url}/api/v1/circulation/checkout", json={"patron": card, "item": barcode},
                      headers=staff_library.api_headers("librarian"), timeout=10)
    print(f"\ncheckout of the new copy answered {loan.status_code} {time.monotonic() - started:.3f} s after the save")
    assert loan.status_code == 201, loan.text
    assert staff_library.query("SELECT price_yen, acquired_on::text, volume, status FROM item WHERE barcode = %s",
                               barcode) == [(1700, "2024-04-01", "上", "available")]
    page = client.get(f"/staff/catalogue/bibs/{bib_id}").text
    assert f'data-barcode="{barcode}"' in page and "貸出中" in page
    assert staff_library.query("SELECT detail->>'barcode' FROM operation_log WHERE action = 'item.create' "
                               "AND entity_id = %s", str(_item_id(staff_library, barcode))) == [(barcode,)]


def test_a_barcode_in_use_is_refused_beside_the_field(staff_library):
    client = staff_library.staff_client("librarian")
    taken, owner = staff_library.query("SELECT barcode, bib_id FROM item ORDER BY id LIMIT 1")[0]
    bib_id = create_record(client, title=f"重複番号 {secrets.token_hex(4)}")
    refused = _add_copy(staff_library, client, bib_id, barcode=taken, call_number="913.6 テ")
    assert refused.status_code == 422
    assert f"資料番号 {taken} はすでに書誌 {owner} の資料に使われています" in refused.text
    assert 'aria-describedby="error-barcode"' in refused.text and 'value="913.6 テ"' in refused.text
    assert staff_library.query("SELECT count(*) FROM item WHERE bib_id = %s", bib_id) == [(0,)]
    bad = _add_copy(staff_library, client, bib_id, barcode="ＡＢ 12", shelf_location="no-such-shelf", price="abc",
                    acquired_on="2024-02-30")
    assert bad.status_code == 422
    for field in ("barcode", "shelf_location", "price", "acquired_on"):
        assert f'id="error-{field}"' in bad.text, field


def test_a_copy_can_be_changed_and_availability_follows(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id = create_record(client, title=f"状態変更 {secrets.token_hex(4)}")
    barcode = _barcode()
    assert _add_copy(staff_library, client, bib_id, barcode=barcode, branch="central").status_code == 303
    item_id = _item_id(staff_library, barcode)
    fields = form_fields(client.get(f"/staff/catalogue/items/{item_id}").text, "item-form")
    shelf = staff_library.query("SELECT sl.code FROM shelf_location sl JOIN service_point sp "
                                "ON sp.id = sl.service_point_id WHERE sp.code = 'gyotoku' ORDER BY sl.id LIMIT 1")[0][0]
    saved = client.post(f"/staff/catalogue/items/{item_id}", changed(fields, branch="gyotoku", shelf_location=shelf,
                                                                     loan_policy="in_library_only", call_number="913.6 ジ"),
                        token_from=f"/staff/catalogue/items/{item_id}")
    assert saved.status_code == 303
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        items = httpx.get(f"{staff_library.base_url}/api/v1/bibs/{bib_id}").json()["items"]
        if items and items[0]["branch"] == "gyotoku":
            break
        time.sleep(0.05)
    assert items[0]["branch"] == "gyotoku" and items[0]["status"] == "in_library_only"
    assert items[0]["call_number"] == "913.6 ジ"
    stale = client.post(f"/staff/catalogue/items/{item_id}", changed(fields, call_number="上書き"),
                        token_from=f"/staff/catalogue/items/{item_id}")
    assert stale.status_code == 409 and "他の職員が更新しました" in stale.text


def test_an_unused_copy_is_deleted_and_leaves_the_holdings(staff_library):
    client = staff_library.staff_client("librarian")
    bib_id = create_record(client, title=f"誤登録 {secrets.token_hex(4)}")
    barcode = _barcode()
    _add_copy(staff_library, client, bib_id, barcode=barcode, branch="central")
    item_id = _item_id(staff_library, barcode)
    deleted = client.post(f"/staff/catalogue/items/{item_id}/delete", token_from=f"/staff/catalogue/items/{item_id}")
    assert deleted.status_code == 303
    assert staff_library.query("SELECT count(*) FROM item WHERE barcode = %s", barcode) == [(0,)]
    assert httpx.get(f"{staff_library.base_url}/api/v1/items/{barcode}").status_code == 404


def test_a_copy_in_use_stays_until_it_is_free_then_its_record_can_go(staff_library):
    client = staff_library.staff_client("librarian")
    api = staff_library.api_headers("librarian")
    bib_id = create_record(client, title=f"使用中の本 {secrets.token_hex(4)}")
    barcode = _barcode()
    _add_copy(staff_library, client, bib_id, barcode=barcode, branch="central")
    item_id = _item_id(staff_library, barcode)
    borrower, reserver = _borrowers(staff_library, 2)

    def call(path: str, body: dict, method: str = "POST") -> dict:
        response = httpx.request(method, f"{staff_library.base_url}{path}", json=body, headers=api, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def refused(reason: str) -> None:
        for action in ("withdraw", "delete"):
            answer = client.post(f"/staff/catalogue/items/{item_id}/{action}", token_from="/staff/catalogue")
            assert answer.status_code == 409 and reason in answer.text, (action, answer.text[-800:])
        assert reason in client.get(f"/staff/catalogue/items/{item_id}").text

    call("/api/v1/circulation/checkout", {"patron": borrower, "item": barcode, "branch": "central"})
    refused("貸出中です")
    hold = call("/api/v1/holds", {"patron": reserver, "bib_id": bib_id, "pickup_branch": "central"})
    assert call("/api/v1/circulation/checkin", {"item": barcode, "branch": "gyotoku"})["status"] == "hold_transit"
    refused("回送中です")
    refused("予約の取置")
    assert call("/api/v1/circulation/checkin", {"item": barcode, "branch": "central"})["status"] == "hold_ready"
    refused("予約の取置")
    assert "所蔵資料が 1 点あります" in client.get(f"/staff/catalogue/bibs/{bib_id}/delete").text
    call(f"/api/v1/holds/{hold['hold_id']}", {}, method="DELETE")
    history = client.post(f"/staff/catalogue/items/{item_id}/delete", token_from="/staff/catalogue")
    assert history.status_code == 409 and "除籍してください" in history.text
    assert client.post(f"/staff/catalogue/items/{item_id}/withdraw", token_from="/staff/catalogue").status_code == 303
    assert staff_library.query("SELECT status FROM item WHERE id = %s", item_id) == [("withdrawn",)]
    gone = client.post(f"/staff/catalogue/bibs/{bib_id}/delete", {"confirm_id": str(bib_id)}, token_from="/staff/catalogue")
    assert gone.headers["location"] == f"/staff/catalogue?deleted={bib_id}&outcome=withdrawn"
    assert staff_library.query("SELECT is_withdrawn FROM bib WHERE id = %s", bib_id) == [(True,)]
    assert httpx.get(f"{staff_library.base_url}/api/v1/bibs/{bib_id}").status_code == 404
