"""The issue's acceptance in a real browser (headless Chromium through Playwright, Debian's /usr/bin/chromium): a
librarian logs in at /staff/, registers a patron through /staff/patrons/new with the keyboard only, lands on
the patron's page, and the patron borrows at once through the JSON API. axe-core finds no serious or critical
problem on the registration form (empty and with field errors), the patron page and the search results.

Screenshots go to $SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the committed staff-patron.png and
staff-patron-search.png), otherwise to a temporary folder.
"""

from __future__ import annotations


import pytest

from tests.staff.patron_steps import api_checkout, free_copies, register, unique_card, unique_phone, unique_reading
from tests.staff.browser_steps import check_accessibility

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e


def tab_to(page, name: str, limit: int = 40) -> None:
    """Moves the focus with Tab (as a person at the desk would) until it reaches the field `name`."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the field {name}")


def log_in(page, library, role: str) -> None:
    account = library.account(role)
    page.goto(f"{library.base_url}/staff/")
    page.focus("input[name=username]")
    page.keyboard.type(account["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(account["password"])
    page.keyboard.press("Enter")
    page.wait_for_selector("nav.staff-menu")


def test_a_librarian_registers_a_patron_by_keyboard_who_borrows_at_once(chromium, staff_library, screenshot_folder):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, staff_library, "librarian")
    page.goto(f"{staff_library.base_url}/staff/patrons/new")
    page.wait_for_selector("form#patron-registration")
    check_accessibility(page, "registration form")

    card, reading, phone = unique_card(), unique_reading(6), unique_phone()
    hiragana_reading = "".join(chr(ord(character) - 0x60) for character in reading)
    page.keyboard.press("Tab")
    for name, text in (("card", card), ("family_name", "鍵盤"), ("given_name", "太郎"),
                       ("family_name_reading", hiragana_reading), ("given_name_reading", "たろう")):
        tab_to(page, name)
        page.keyboard.type(text)
    for name, text in (("birth_date", "19850701"), ("postal_code", "２７２－００３４"),
                       ("address", "市川市市川1丁目2番3号"), ("phone", phone), ("email", "taro@example.jp")):
        tab_to(page, name)
        page.keyboard.type(text)
    assert page.input_value("#family_name_reading") == reading  # hiragana became katakana on leaving the field
    page.keyboard.press("Enter")
    page.wait_for_selector("#done-message")
    assert "利用者を登録しました" in page.inner_text("#done-message")
    assert page.inner_text("dd[data-field=card]") == card
    assert page.input_value("#birth_date") == "1985-07-01" and page.input_value("#postal_code") == "272-0034"
    check_accessibility(page, "patron page")
    page.screenshot(path=str(screenshot_folder / "staff-patron.png"), full_page=True)

    barcode, = free_copies(staff_library, 1)
    response = api_checkout(staff_library, card, barcode)
    assert response.status_code == 201, response.text

    page.goto(f"{staff_library.base_url}/staff/patrons?q=さとう")  # ひらがな finds the katakana readings
    page.wait_for_selector("section.patron-results[data-kind=reading]")
    assert page.locator("tr.patron-hit").count() > 1
    check_accessibility(page, "search results")
    page.screenshot(path=str(screenshot_folder / "staff-patron-search.png"), full_page=False)
    context.close()


def test_the_merge_confirmation_and_the_bulk_dry_run_pass_axe(chromium, staff_library, tmp_path):
    librarian = staff_library.staff_client("librarian")
    survivor_id, _ = register(librarian)
    _, duplicate_card = register(librarian)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, staff_library, "librarian")
    page.goto(f"{staff_library.base_url}/staff/patrons/{survivor_id}")
    page.fill("#duplicate", duplicate_card)
    page.press("#duplicate", "Enter")
    page.wait_for_selector("form#merge-confirm")
    check_accessibility(page, "merge confirmation")

    csv_file = tmp_path / "patrons.csv"
    csv_file.write_bytes(f"カード番号,電話番号\r\n{duplicate_card},047-222-3333\r\n0000000001,\r\n".encode("cp932"))
    page.goto(f"{staff_library.base_url}/staff/patrons/bulk")
    check_accessibility(page, "bulk upload")
    page.set_input_files("#file", str(csv_file))
    page.click("form.bulk-upload button[type=submit]")
    page.wait_for_selector("section.bulk-preview")
    assert page.get_attribute("section.bulk-preview", "data-rejected") == "1"
    check_accessibility(page, "bulk dry run")
    context.close()


def test_field_errors_are_announced_and_reachable(chromium, staff_library):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, staff_library, "counter")
    page.goto(f"{staff_library.base_url}/staff/patrons/new")
    page.fill("#card", unique_card())
    page.fill("#family_name", "誤入力")
    page.fill("#family_name_reading", "ヤマダ")
    page.fill("#email", "taro@example")
    page.fill("#postal_code", "12345")
    page.press("#postal_code", "Enter")
    page.wait_for_selector("#form-problems")
    assert page.evaluate("document.activeElement.id") == "form-problems"  # a screen reader hears the problems
    assert page.get_attribute("#postal_code", "aria-invalid") == "true"
    assert page.input_value("#family_name") == "誤入力"
    check_accessibility(page, "registration form with errors")
    context.close()
