"""The desk's printouts (/staff/print/...): the loan receipt, reading-record stickers, the hold slip and the
transit slip, each as HTML and as PDF, over loans, holds and transits made through the counter API.

Every document is checked for its titles, dates and masked card, and for never carrying the patron's name; the
PDFs are read back with pypdf (their Japanese text and page sizes). Also: who may print what (roles, counter
staff's branches), the refusals for unknown, long-returned and mixed loans, and the operation-log entries.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import httpx
import pytest
from pypdf import PdfReader

from shoka.clock import library_today

pytestmark = pytest.mark.e2e

JAPANESE = r"[ぁ-んァ-ヶ一-龯]"
FREE_COPIES = f"""
SELECT i.barcode, b.title FROM item i JOIN bib b ON b.id = i.bib_id JOIN service_point sp ON sp.id = i.service_point_id
WHERE sp.code = %s AND i.status = 'available' AND i.loan_policy = 'normal' AND i.material_type = 'book'
  AND b.title ~ '{JAPANESE}' AND i.volume = ''
  AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status IN ('waiting', 'in_transit', 'ready'))
  AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
  AND (SELECT count(*) FROM item other WHERE other.bib_id = i.bib_id) = 1
ORDER BY random() LIMIT %s
"""
FREE_PATRONS = """
SELECT p.card, pp.family_name, pp.given_name, pp.family_name_reading FROM patron p
JOIN patron_personal pp ON pp.patron_id = p.id
WHERE p.status = 'active' AND p.category = 'adult' AND p.expires_on > current_date + 60
  AND length(pp.family_name) >= 2 AND pp.family_name_reading <> ''
  AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.patron_id = p.id AND h.status IN ('waiting', 'in_transit', 'ready'))
ORDER BY random() LIMIT %s
"""
POINTS_PER_MM = 72 / 25.4
WEEKDAYS = "月火水木金土日"


def free_copies(library, count: int, branch: str = "central") -> list[tuple[str, str]]:
    """Single copies on the shelf at a branch with Japanese titles: (barcode, title)."""
    copies = library.query(FREE_COPIES, branch, count)
    assert len(copies) == count, f"the demo library has fewer than {count} free copies at {branch}"
    return copies


def free_patrons(library, count: int) -> list[dict]:
    rows = library.query(FREE_PATRONS, count)
    assert len(rows) == count
    return [{"card": card, "family_name": family, "given_name": given, "reading": reading}
            for card, family, given, reading in rows]


def api(library, path: str, body: dict) -> dict:
    response = httpx.post(f"{library.base_url}{path}", json=body, headers=library.api_headers("librarian"),
                          timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


def lend(library, card: str, barcodes: list[str], branch: str = "central") -> list[dict]:
    return [api(library, "/api/v1/circulation/checkout", {"patron": card, "item": barcode, "branch": branch})
            for barcode in barcodes]


def japanese_date(text: str) -> str:
    day = dt.date.fromisoformat(text)
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def masked(card: str) -> str:
    return "*" * (len(card) - 4) + card[-4:]


def title_start(title: str) -> str:
    """The part of a title any trimming keeps (the first line of a 58 mm roll holds 16 full-width characters)."""
    return " ".join(title.split())[:8]


def pdf_of(response: httpx.Response) -> PdfReader:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return PdfReader(io.BytesIO(response.content))


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def page_size_mm(reader: PdfReader, index: int = 0) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return float(box.width) / POINTS_PER_MM, float(box.height) / POINTS_PER_MM


def last_log(library, action: str) -> tuple:
    rows = library.query("SELECT actor, entity, entity_id, detail FROM operation_log WHERE action = %s "
                         "ORDER BY id DESC LIMIT 1", action)
    assert rows, f"no {action} in the operation log"
    return rows[0]


def assert_no_name(text: str, patron: dict) -> None:
    """The patron's name in any form a page would print it; not each half alone, which a demo author may share."""
    family, given = patron["family_name"], patron["given_name"]
    for name in (f"{family}{given}", f"{family} {given}", f"{family}\u3000{given}"):
        assert name not in text


@pytest.fixture(scope="module")
def receipt_loans(staff_library):
    """Two loans at the central library for one patron."""
    patron = free_patrons(staff_library, 1)[0]
    copies = free_copies(staff_library, 2)
    loans = lend(staff_library, patron["card"], [barcode for barcode, _title in copies])
    return {"patron": patron, "copies": copies, "loans": loans,
            "ids": ",".join(str(loan["loan_id"]) for loan in loans)}


def test_the_receipt_in_html_lists_titles_due_dates_and_the_masked_card(staff_library, receipt_loans):
    client = staff_library.staff_client("counter", "counter")
    page = client.get("/staff/print/receipt", loans=receipt_loans["ids"])
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert "@page { size: 80mm " in text and 'data-paper-width="80"' in text
    assert "中央図書館" in text and "貸出票" in text and "返却期限" in text
    for (barcode, title), loan in zip(receipt_loans["copies"], receipt_loans["loans"]):
        assert title_start(title) in text and barcode in text
        assert japanese_date(loan["due_date"]) in text
    patron = receipt_loans["patron"]
    assert masked(patron["card"]) in text and patron["card"] not in text
    assert_no_name(text, patron)
    assert re.search(r'data-field="count"><span>貸出点数</span><span>2点</span>', text)
    assert "data-auto-print" not in text
    assert f'href="/staff/print/receipt?loans={receipt_loans["ids"].replace(",", "%2C")}&amp;format=pdf"' in text
    assert "data-auto-print" in client.get("/staff/print/receipt", loans=receipt_loans["ids"], print="1").text
    actor, entity, entity_id, detail = last_log(staff_library, "print.receipt")
    assert actor == "counter" and entity == "patron" and entity_id.isdigit()
    assert detail["loans"] == [loan["loan_id"] for loan in receipt_loans["loans"]]


def test_the_receipt_in_english(staff_library, receipt_loans):
    page = staff_library.staff_client("librarian").get("/staff/print/receipt", loans=receipt_loans["ids"], lang="en")
    assert "Central Library" in page.text and "Due" in page.text and "2 items" in page.text


def test_the_receipt_as_pdf_is_80_mm_wide_with_japanese_text(staff_library, receipt_loans):
    client = staff_library.staff_client("librarian")
    reader = pdf_of(client.get("/staff/print/receipt", loans=receipt_loans["ids"], format="pdf"))
    width, height = page_size_mm(reader)
    assert len(reader.pages) == 1 and abs(width - 80) < 0.1 and height > 60
    text = pdf_text(reader)
    assert "中央図書館" in text and "返却期限" in text
    for (barcode, title), loan in zip(receipt_loans["copies"], receipt_loans["loans"]):
        assert title_start(title) in text and barcode in text
        assert japanese_date(loan["due_date"]) in text
    patron = receipt_loans["patron"]
    assert masked(patron["card"]) in text and patron["card"] not in text
    assert_no_name(text, patron)
    assert last_log(staff_library, "print.receipt")[3]["format"] == "pdf"


def test_reading_record_stickers_one_per_loan_on_an_a4_sheet(staff_library, receipt_loans):
    client = staff_library.staff_client("librarian")
    page = client.get("/staff/print/reading-record", loans=receipt_loans["ids"], skip="3")
    assert page.status_code == 200, page.text
    assert "@page { size: 210mm 297mm" in page.text
    assert page.text.count('class="sticker"') == 2 and page.text.count("sticker-blank") == 14
    today = library_today()
    assert f"{today.year}/{today.month:02d}/{today.day:02d}" in page.text and "どくしょきろく" in page.text
    for _barcode, title in receipt_loans["copies"]:
        assert title_start(title) in page.text
    assert_no_name(page.text, receipt_loans["patron"])
    assert receipt_loans["patron"]["card"][-4:] not in page.text
    reader = pdf_of(client.get("/staff/print/reading-record", loans=receipt_loans["ids"], format="pdf"))
    width, height = page_size_mm(reader)
    assert len(reader.pages) == 1 and abs(width - 210) < 0.1 and abs(height - 297) < 0.1
    text = pdf_text(reader)
    for _barcode, title in receipt_loans["copies"]:
        assert title_start(title) in text
    actor, entity, _entity_id, detail = last_log(staff_library, "print.reading_record")
    assert actor == "librarian" and entity == "patron" and detail == {"loans": [
        loan["loan_id"] for loan in receipt_loans["loans"]], "format": "pdf"}


def test_stickers_refuse_more_used_labels_than_a_sheet_has(staff_library, receipt_loans):
    response = staff_library.staff_client("librarian").get("/staff/print/reading-record",
                                                          loans=receipt_loans["ids"], skip="16")
    assert response.status_code == 400 and "skip" in response.text


@pytest.fixture(scope="module")
def trapped_holds(staff_library):
    """Two trapped holds on copies lent and returned at the central library: one picked up there (ready), one
    picked up at Gyotoku (in transit, with its transit slip)."""
    borrower, waiting_here, waiting_there = free_patrons(staff_library, 3)
    copies = free_copies(staff_library, 2)
    lend(staff_library, borrower["card"], [barcode for barcode, _title in copies])
    holds = []
    for (barcode, title), patron, pickup in zip(copies, (waiting_here, waiting_there), ("central", "gyotoku")):
        bib_id = staff_library.query("SELECT bib_id FROM item WHERE barcode = %s", barcode)[0][0]
        hold = api(staff_library, "/api/v1/holds", {"patron": patron["card"], "bib_id": bib_id,
                                                    "pickup_branch": pickup})
        returned = api(staff_library, "/api/v1/circulation/checkin", {"item": barcode, "branch": "central"})
        assert returned["status"] == ("hold_ready" if pickup == "central" else "hold_transit"), returned
        holds.append({"id": hold["hold_id"], "barcode": barcode, "title": title, "patron": patron})
    return holds


def test_the_hold_slip_of_a_ready_hold(staff_library, trapped_holds):
    hold = trapped_holds[0]
    pickup_by = staff_library.query("SELECT pickup_by FROM hold WHERE id = %s", hold["id"])[0][0]
    client = staff_library.staff_client("counter", "counter")
    page = client.get("/staff/print/hold-slip", hold=str(hold["id"]))
    assert page.status_code == 200, page.text
    text = page.text
    assert "予約取置票" in text and "中央図書館" in text and japanese_date(pickup_by.isoformat()) in text
    assert f'data-field="patron_mark">{hold["patron"]["reading"][0]}<' in text
    assert masked(hold["patron"]["card"]) in text and hold["barcode"] in text and title_start(hold["title"]) in text
    assert_no_name(text, hold["patron"])
    assert "受取館へ回送" not in text
    reader = pdf_of(client.get("/staff/print/hold-slip", hold=str(hold["id"]), format="pdf"))
    pdf = pdf_text(reader)
    assert abs(page_size_mm(reader)[0] - 80) < 0.1
    assert "予約取置票" in pdf and title_start(hold["title"]) in pdf and masked(hold["patron"]["card"]) in pdf
    assert_no_name(pdf, hold["patron"])
    actor, entity, _entity_id, detail = last_log(staff_library, "print.hold_slip")
    assert actor == "counter" and entity == "patron" and detail["hold"] == hold["id"]


def test_the_hold_slip_of_a_hold_on_its_way_says_so(staff_library, trapped_holds):
    hold = trapped_holds[1]
    page = staff_library.staff_client("librarian").get("/staff/print/hold-slip", hold=str(hold["id"]))
    assert page.status_code == 200, page.text
    assert "受取館へ回送" in page.text and "行徳図書館" in page.text


def test_the_transit_slip_of_a_copy_sent_for_a_hold(staff_library, trapped_holds):
    hold = trapped_holds[1]
    client = staff_library.staff_client("librarian")
    page = client.get("/staff/print/transit-slip", item=hold["barcode"])
    assert page.status_code == 200, page.text
    assert re.search(r'data-field="to_branch">行徳図書館<', page.text)
    assert "中央図書館" in page.text and "予約回送" in page.text and title_start(hold["title"]) in page.text
    assert_no_name(page.text, hold["patron"]) and hold["patron"]["card"][-4:] not in page.text
    text = pdf_text(pdf_of(client.get("/staff/print/transit-slip", item=hold["barcode"], format="pdf")))
    assert "行徳図書館" in text and "予約回送" in text and hold["barcode"] in text


def test_the_transit_slip_of_a_copy_going_home(staff_library):
    barcode, title = free_copies(staff_library, 1, "central")[0]
    patron = free_patrons(staff_library, 1)[0]
    lend(staff_library, patron["card"], [barcode])
    returned = api(staff_library, "/api/v1/circulation/checkin", {"item": barcode, "branch": "ekiminami"})
    assert returned["status"] == "transit_home", returned
    client = staff_library.staff_client("counter", "counter")
    page = client.get("/staff/print/transit-slip", item=barcode)
    assert page.status_code == 200, page.text
    assert re.search(r'data-field="to_branch">中央図書館<', page.text)
    assert "市川駅南口図書館" in page.text and "返却回送" in page.text and title_start(title) in page.text
    assert staff_library.staff_client("counter", "counter-gyotoku").get(
        "/staff/print/transit-slip", item=barcode).status_code == 403


def test_refusals_name_what_is_wrong(staff_library, receipt_loans):
    client = staff_library.staff_client("librarian")
    returned_long_ago = staff_library.query(
        "SELECT id FROM loan WHERE returned_at < current_date - 2 ORDER BY id LIMIT 1")[0][0]
    cases = [
        ({"loans": "999999999"}, 404, "999999999"),
        ({"loans": str(returned_long_ago)}, 404, "返却済み"),
        ({"loans": "12;13"}, 400, "loans"),
        ({}, 400, "loans"),
        ({"loans": receipt_loans["ids"], "format": "docx"}, 400, "format"),
    ]
    for parameters, status, words in cases:
        response = client.get("/staff/print/receipt", **parameters)
        assert response.status_code == status and words in response.text, (parameters, response.text[:300])
    as_json = client.client.get("/staff/print/hold-slip", params={"hold": "abc"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.json()["code"] == "invalid_hold"
    assert client.get("/staff/print/hold-slip", hold="999999999").status_code == 404
    assert client.get("/staff/print/transit-slip", item="no such/item").status_code == 400
    assert client.get("/staff/print/transit-slip", item="ZZ-NOT-AN-ITEM").status_code == 404
    on_shelf = free_copies(staff_library, 1)[0][0]
    not_moving = client.get("/staff/print/transit-slip", item=on_shelf)
    assert not_moving.status_code == 404 and "回送中ではありません" in not_moving.text


def test_a_waiting_hold_has_no_slip(staff_library):
    borrower, patron = free_patrons(staff_library, 2)
    barcode = free_copies(staff_library, 1)[0][0]
    lend(staff_library, borrower["card"], [barcode])
    bib_id = staff_library.query("SELECT bib_id FROM item WHERE barcode = %s", barcode)[0][0]
    hold = api(staff_library, "/api/v1/holds", {"patron": patron["card"], "bib_id": bib_id, "pickup_branch": "central"})
    response = staff_library.staff_client("librarian").get("/staff/print/hold-slip", hold=str(hold["hold_id"]))
    assert response.status_code == 409 and "取置中・回送中ではありません" in response.text


def test_loans_of_two_patrons_are_not_printed_together(staff_library, receipt_loans):
    other = free_patrons(staff_library, 1)[0]
    loan = lend(staff_library, other["card"], [free_copies(staff_library, 1)[0][0]])[0]
    response = staff_library.staff_client("librarian").get(
        "/staff/print/receipt", loans=f"{receipt_loans['ids']},{loan['loan_id']}")
    assert response.status_code == 422 and "異なる利用者" in response.text


def test_who_may_print(staff_library, receipt_loans):
    path = "/staff/print/receipt"
    anonymous = staff_library.anonymous_client().get(path, loans=receipt_loans["ids"])
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/login?next=")
    assert staff_library.staff_client("stats").get(path, loans=receipt_loans["ids"]).status_code == 403
    elsewhere = staff_library.staff_client("counter", "counter-gyotoku").get(path, loans=receipt_loans["ids"])
    assert elsewhere.status_code == 403 and "central" in elsewhere.text
    assert staff_library.staff_client("counter", "counter-gyotoku").get(
        "/staff/print/reading-record", loans=receipt_loans["ids"]).status_code == 403
    assert staff_library.staff_client("admin").get(path, loans=receipt_loans["ids"]).status_code == 200
