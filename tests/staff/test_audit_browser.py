"""The administration screens in a real browser (headless Chromium through Playwright, Debian's
/usr/bin/chromium): the operation log searched by action, the 改ざん検査 button, the account list and an
account's page, each checked by axe-core (no serious or critical problem), in Japanese and in English.

Screenshots (staff-audit.png, staff-accounts.png) go to $SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds
the committed ones), otherwise to a temporary folder.
"""

from __future__ import annotations


import httpx
import pytest

from tests.staff.browser_steps import check_accessibility, log_in

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin_page(chromium, staff_library):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    log_in(page, staff_library, "admin")
    yield page
    context.close()


def a_morning_at_the_desks(staff_library) -> None:
    """Some log entries of several kinds to look at: logins, a failed one, patron reads through the API."""
    staff_library.staff_client("librarian")
    staff_library.staff_client("counter", "counter-gyotoku")
    staff_library.anonymous_client().login("counter", "not-the-password")
    card = staff_library.query("SELECT p.card FROM patron p JOIN loan l ON l.patron_id = p.id "
                               "WHERE l.returned_at IS NULL ORDER BY p.id LIMIT 1")[0][0]
    headers = staff_library.api_headers("counter")
    for endpoint in ("summary", "loans"):
        httpx.get(f"{staff_library.base_url}/api/v1/patrons/{card}/{endpoint}", headers=headers, timeout=30)


def test_the_operation_log_screen_searches_verifies_and_passes_axe(admin_page, staff_library, screenshot_folder):
    a_morning_at_the_desks(staff_library)
    page = admin_page
    page.click("nav.staff-menu >> text=操作ログ")
    expect(page.locator("h1")).to_have_text("操作ログ")
    expect(page.locator("#operation-log tbody tr").first).to_contain_text("patron.read_loans")
    check_accessibility(page, "operation log")
    page.screenshot(path=str(screenshot_folder / "staff-audit.png"), full_page=False)
    page.fill("#action", "staff.login")
    page.press("#action", "Enter")
    page.wait_for_url("**/staff/audit?*action=staff.login*")
    actions = page.locator("#operation-log tbody tr td:nth-child(4)").all_inner_texts()
    assert len(actions) >= 4 and all(action.startswith("staff.login") for action in actions)
    assert "staff.login_failed" in actions  # the action is a prefix
    page.click("text=改ざん検査")
    expect(page.locator("[data-chain]")).to_have_attribute("data-chain", "intact")
    check_accessibility(page, "chain verification")
    page.goto(f"{staff_library.base_url}/staff/audit?lang=en")
    expect(page.locator("h1")).to_have_text("Operation log")
    check_accessibility(page, "operation log (English)")
    page.goto(f"{staff_library.base_url}/staff/audit?lang=ja")


def test_the_account_screens_pass_axe(admin_page, staff_library, screenshot_folder):
    page = admin_page
    page.click("nav.staff-menu >> text=職員管理")
    expect(page.locator("h1")).to_have_text("職員管理")
    expect(page.locator('#accounts tr[data-username="counter"]')).to_contain_text("中央図書館")
    check_accessibility(page, "account list")
    page.screenshot(path=str(screenshot_folder / "staff-accounts.png"), full_page=False)
    page.click('#accounts tr[data-username="counter"] a')
    expect(page.locator("h1")).to_contain_text("counter")
    check_accessibility(page, "account page")
    page.goto(f"{staff_library.base_url}/staff/accounts/new")
    check_accessibility(page, "new account form")
    page.goto(f"{staff_library.base_url}/staff/password")
    check_accessibility(page, "own password")
    page.goto(f"{staff_library.base_url}/staff/accounts?lang=en")
    expect(page.locator("h1")).to_have_text("Staff accounts")
    check_accessibility(page, "account list (English)")
    page.goto(f"{staff_library.base_url}/staff/accounts?lang=ja")
