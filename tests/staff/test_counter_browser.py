"""The counter screen in a real browser (headless Chromium through Playwright, Debian's /usr/bin/chromium), driven
by the keyboard as a barcode scanner drives it: a card and Enter, ten copies each with Enter, the receipt, then
checkin with a copy a hold is waiting for. Also: a scan whose answer is lost on the way back, or sent after the
login has expired, waits under 未送信 and goes through on 再送信 with its original request_id (one loan, not two);
axe-core finds no serious or critical problem.

Scan-to-screen times (Enter to the DOM update, measured by the page) are printed as p95; they are recorded for
the lead, never asserted. Screenshots go to $SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the
committed ones), otherwise to a temporary folder.
"""

from __future__ import annotations

import math

import httpx
import pytest

from tests.staff.test_counter import free_copies, free_patrons
from tests.staff.browser_steps import check_accessibility, log_in

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def scan(page, code: str) -> None:
    """What a scanner does: types into whatever has the focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def expect_cursor_in(page, name: str, message: str | None = None) -> None:
    """The scanner's next keystrokes go to this field. Waits for it: a dialog closing after a key press hands the
    cursor back a moment later."""
    expect(page.locator(f"input[name={name}]"), message).to_be_focused()


def test_a_desk_lends_ten_copies_prints_the_receipt_and_returns_into_a_hold(chromium, staff_library,
                                                                            screenshot_folder):
    library = staff_library
    borrower, waiting_patron = free_patrons(library, 2)
    barcodes = free_copies(library, 10)
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, library, "counter")
    page.goto(f"{library.base_url}/staff/circulation")
    page.wait_for_selector("#counter")
    expect_cursor_in(page, "patron")

    scan(page, borrower)
    page.wait_for_selector("#patron-panel[data-loaded=true]")
    assert page.locator("#patron-panel [data-field=card]").inner_text() == borrower
    expect_cursor_in(page, "item")
    for number, barcode in enumerate(barcodes, start=1):
        expect_cursor_in(page, "item", f"the cursor left the item field before scan {number}")
        scan(page, barcode)
        expect(page.locator("#list-checkout tbody tr")).to_have_count(number)
    loans = {barcode: (title, due) for barcode, title, due in library.query(
        """SELECT i.barcode, b.title, l.due_on::text FROM loan l JOIN item i ON i.id = l.item_id
           JOIN bib b ON b.id = i.bib_id JOIN patron p ON p.id = l.patron_id
           WHERE p.card = %s AND l.returned_at IS NULL""", borrower)}
    assert sorted(loans) == sorted(barcodes)
    rows = page.locator("#list-checkout tbody tr")
    assert rows.count() == 10
    for index, barcode in enumerate(barcodes):
        cells = rows.nth(index).locator("td").all_inner_texts()
        title, due = loans[barcode]
        assert cells[1] == title and cells[2] == barcode and cells[3].startswith(due), cells
    assert page.locator("#transaction-count").inner_text() == "10"
    assert page.locator("#patron-loan-count").inner_text() == "10"
    timings = page.evaluate("window.shokaCounterTimings.filter(t => t.mode === 'checkout').map(t => t.ms)")
    assert len(timings) == 10
    print(f"\ncounter scan → screen update over 10 checkouts: p95 {p95(timings):.1f} ms, "
          f"median {sorted(timings)[5]:.1f} ms, max {max(timings):.1f} ms")
    page.screenshot(path=str(screenshot_folder / "staff-counter.png"), full_page=True)
    check_accessibility(page, "counter with ten loans")

    loan_ids = [row[0] for row in library.query(
        "SELECT l.id FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = ANY(%s) AND l.returned_at IS NULL",
        barcodes)]
    with context.expect_page() as receipt_page:
        page.keyboard.press("F8")
    receipt = receipt_page.value
    receipt.wait_for_load_state()
    assert receipt.url.split("?")[0].endswith("/staff/print/receipt")
    listed = receipt.url.split("loans=")[1].split("&")[0].split("%2C")
    assert sorted(int(number) for number in listed) == sorted(loan_ids)
    assert "format=html" in receipt.url and "print=1" in receipt.url
    assert loans[barcodes[0]][0][:10] in receipt.content(), "the receipt lists the loans"
    receipt.close()
    page.bring_to_front()

    trapped_barcode = barcodes[2]
    bib_id = library.query("SELECT bib_id FROM item WHERE barcode = %s", trapped_barcode)[0][0]
    hold = httpx.post(f"{library.base_url}/api/v1/holds", headers=library.api_headers("librarian"),
                      json={"patron": waiting_patron, "bib_id": bib_id, "pickup_branch": "central"})
    assert hold.status_code == 201, hold.text

    page.keyboard.press("F3")
    assert page.locator("#counter").get_attribute("data-mode") == "checkin"
    expect_cursor_in(page, "item")
    for number, barcode in enumerate(barcodes[:3], start=1):
        scan(page, barcode)
        expect(page.locator("#list-checkin tbody tr")).to_have_count(number)
    prompt = page.locator("#checkin-prompt")
    assert prompt.get_attribute("data-outcome") == "hold_ready"
    assert "予約取置" in prompt.inner_text() and trapped_barcode in prompt.inner_text()
    pickup_by = library.query("SELECT pickup_by::text FROM hold WHERE bib_id = %s AND status = 'ready'", bib_id)[0][0]
    assert pickup_by in prompt.inner_text()
    assert page.locator("#print-hold-slip").is_visible()
    hold_id = library.query("SELECT id FROM hold WHERE bib_id = %s AND status = 'ready'", bib_id)[0][0]
    with context.expect_page() as slip_page:
        page.keyboard.press("F8")
    slip = slip_page.value
    slip.wait_for_load_state()
    assert f"/staff/print/hold-slip?hold={hold_id}&" in slip.url
    slip.close()
    page.bring_to_front()
    outcomes = page.locator("#list-checkin tbody tr td:nth-child(4)").all_inner_texts()
    assert outcomes == ["配架", "配架", "予約取置"]
    expect_cursor_in(page, "item")
    page.screenshot(path=str(screenshot_folder / "staff-counter-checkin.png"), full_page=True)
    check_accessibility(page, "counter checkin with a trapped hold")

    page.keyboard.press("Escape")
    assert page.locator("#list-checkin tbody tr").count() == 0 and prompt.is_hidden()
    page.keyboard.press("F2")
    expect_cursor_in(page, "patron")
    context.close()


def test_nothing_is_lost_when_an_answer_is_lost_or_the_login_expires(chromium, staff_library):
    library = staff_library
    (borrower,), barcodes = free_patrons(library, 1), free_copies(library, 2)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, library, "counter")
    page.goto(f"{library.base_url}/staff/circulation")
    scan(page, borrower)
    page.wait_for_selector("#patron-panel[data-loaded=true]")

    def lose_the_answer(route):
        route.fetch()  # the server lends the copy; then the connection drops before the answer arrives
        route.abort("connectionreset")

    page.route("**/staff/circulation/checkout", lose_the_answer)
    scan(page, barcodes[0])
    page.wait_for_selector("#unsent:not([hidden]) #unsent-list li")
    assert "通信できませんでした" in page.locator("#counter-alert").inner_text()
    expect_cursor_in(page, "item")
    page.unroute("**/staff/circulation/checkout")
    page.click("#retry-unsent")
    expect(page.locator("#list-checkout tbody tr")).to_have_count(1)
    assert page.locator("#unsent").is_hidden()
    # Without the request_id the retry would be refused ("already lent to this patron"); with it, the retry
    # gets the first answer: the loan the lost request made.
    open_loan = library.query("SELECT l.id FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = %s "
                              "AND l.returned_at IS NULL", barcodes[0])[0][0]
    assert page.locator("#list-checkout tbody tr").get_attribute("data-loan") == str(open_loan)
    assert library.query("SELECT count(*) FROM operation_log WHERE action = 'circulation.checkout' AND "
                         "detail->>'item' = %s AND occurred_at > now() - interval '5 minutes'", barcodes[0]) == [(1,)]

    # The session ends (idle, revoked ...): the scan waits, the page says how to go on, a new login keeps it.
    library.execute("UPDATE staff_session SET ended_at = now(), end_reason = 'revoked' WHERE ended_at IS NULL "
                    "AND staff_id = (SELECT id FROM staff_account WHERE username = %s)",
                    library.account("counter")["username"])
    scan(page, barcodes[1])
    page.wait_for_selector("#relogin:not([hidden])")
    assert "ログインの有効時間が切れました" in page.locator("#counter-alert").inner_text()
    page.click("#relogin")
    page.fill("input[name=username]", library.account("counter")["username"])
    page.fill("input[name=password]", library.account("counter")["password"])
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("#unsent:not([hidden]) #unsent-list li")
    assert page.locator("#list-checkout tbody tr").count() == 1  # this transaction's list came back too
    page.click("#retry-unsent")
    expect(page.locator("#list-checkout tbody tr")).to_have_count(2)
    assert library.query("SELECT count(*) FROM loan l JOIN patron p ON p.id = l.patron_id "
                         "WHERE p.card = %s AND l.returned_at IS NULL", borrower) == [(2,)]

    page.keyboard.press("F4")
    scan(page, barcodes[1])
    expect(page.locator("#list-renew tbody tr")).to_have_count(1)
    new_due = library.query("SELECT l.due_on::text FROM loan l JOIN item i ON i.id = l.item_id "
                            "WHERE i.barcode = %s AND l.returned_at IS NULL AND l.renewals = 1", barcodes[1])[0][0]
    assert new_due in page.locator("#list-renew tbody tr td.due").inner_text()
    scan(page, barcodes[1])  # the rules allow one renewal: the second is refused, the barcode stays selected
    expect(page.locator("#counter-alert")).to_contain_text("延長回数の上限")
    assert page.evaluate("[document.activeElement.name, document.activeElement.value, "
                         "document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [
        "item", barcodes[1], 0, len(barcodes[1])]

    page.click("#counter-mute")
    assert page.evaluate("localStorage.getItem('shoka.counter.muted')") == "1"
    expect_cursor_in(page, "item")
    page.reload()
    assert page.locator("#counter-mute").get_attribute("aria-pressed") == "true"
    context.close()


def test_a_librarian_lends_past_waiting_holds_only_after_confirming(chromium, staff_library):
    library = staff_library
    waiting_patron, borrower = free_patrons(library, 2)
    (barcode,) = free_copies(library, 1)
    bib_id = library.query("SELECT bib_id FROM item WHERE barcode = %s", barcode)[0][0]
    hold = httpx.post(f"{library.base_url}/api/v1/holds", headers=library.api_headers("librarian"),
                      json={"patron": waiting_patron, "bib_id": bib_id, "pickup_branch": "central"})
    assert hold.status_code == 201, hold.text
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, library, "librarian")
    page.goto(f"{library.base_url}/staff/circulation")
    scan(page, borrower)
    page.wait_for_selector("#patron-panel[data-loaded=true]")
    scan(page, barcode)
    expect(page.locator("#counter-alert")).to_contain_text("他の利用者の予約が1件あります")
    page.click("#override-offer")
    assert page.evaluate("document.activeElement.id") == "override-cancel"  # a stray Enter does not lend
    page.keyboard.press("Enter")
    expect_cursor_in(page, "item")
    assert page.locator("#list-checkout tbody tr").count() == 0
    page.click("#override-offer")
    page.click("#override-confirm")
    expect(page.locator("#list-checkout tbody tr")).to_have_count(1)
    expect(page.locator("#counter-message")).to_contain_text("職員判断")
    assert page.locator("#counter-message").get_attribute("data-severity") == "warning"
    assert library.query("SELECT detail->>'override' FROM operation_log WHERE action = 'circulation.checkout' "
                         "AND detail->>'item' = %s ORDER BY id DESC LIMIT 1", barcode) == [("true",)]
    context.close()


def test_the_patron_page_opens_the_counter_with_that_patron(chromium, staff_library):
    library = staff_library
    (card,) = free_patrons(library, 1)
    (barcode,) = free_copies(library, 1)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, library, "librarian")
    page.goto(f"{library.base_url}/staff/circulation?patron={card}")
    page.wait_for_selector("#patron-panel[data-loaded=true]")
    assert page.input_value("input[name=patron]") == card
    expect_cursor_in(page, "item")
    scan(page, barcode)
    expect(page.locator("#list-checkout tbody tr")).to_have_count(1)
    context.close()
