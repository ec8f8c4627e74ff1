"""The OPAC in a real browser (headless Chromium through Playwright, Debian's /usr/bin/chromium): the walk
search → results → record → login → reserve → my page → cancel → logout in Japanese and English at desktop
(1280 px) and phone (375 px) widths, keyboard-only use, 320 px without sideways scrolling, and axe-core on every
page with no serious or critical violation.

Screenshots go to $SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the committed ones), otherwise to a
temporary folder, so that ordinary test runs leave the checkout unchanged.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": (1280, 800), "phone": (375, 812)}
TEXT = {
    "ja": {"search": "検索", "login": "ログイン", "logout": "ログアウト", "my_page": "マイページ", "reserve": "予約する",
           "login_to_reserve": "ログインして予約する", "cancel": "予約を取り消す", "placed": "予約しました", "renew": "延長する", "renewed": "延長しました",
           "cancelled": "予約を取り消しました", "logged_out": "ログアウトしました", "card": "利用者カード番号",
           "password": "パスワード", "pickup": "受取館"},
    "en": {"search": "Search", "login": "Log in", "logout": "Log out", "my_page": "My page", "reserve": "Reserve",
           "login_to_reserve": "Log in to reserve", "cancel": "Cancel", "placed": "reservation has been placed", "renew": "Renew",
           "renewed": "The loan has been renewed.",
           "cancelled": "reservation has been cancelled", "logged_out": "You have logged out",
           "card": "Library card number", "password": "Password", "pickup": "Pickup library"},
}
axe_findings: list[tuple[str, str, str, int]] = []


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
    print("\naxe-core findings (page, language, width, impact: count):")
    for finding in axe_findings:
        print("  ", *finding)


@pytest.fixture(scope="module")
def screenshot_folder(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SHOKA_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_accessibility(page, name: str, language: str, width: str) -> None:
    results = axe_module.Axe().run(page)
    violations = results.response["violations"]
    by_impact: dict[str, int] = {}
    for violation in violations:
        by_impact[violation["impact"]] = by_impact.get(violation["impact"], 0) + 1
    axe_findings.append((name, language, width, str(by_impact or "none")))
    serious = [f"{violation['id']} ({violation['impact']}): {violation['help']} — "
               f"{[node['target'] for node in violation['nodes']][:3]}"
               for violation in violations if violation["impact"] in ("serious", "critical")]
    assert serious == [], f"{name} [{language}, {width}]: " + "; ".join(serious)
    assert page.evaluate("document.documentElement.lang") == language


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shoot(page, folder: Path, name: str, language: str, width: str) -> None:
    if language == "ja" or name in ("results", "detail"):
        page.screenshot(path=str(folder / f"{name}-{language}-{width}.png"))


def give_kate_a_renewable_loan(library) -> None:
    """Each walk renews kate's loan C1201: make it renewable again (due in a week, not yet renewed)."""
    with psycopg.connect(library.database_url) as connection:
        loan_id = connection.execute(
            "UPDATE loan SET renewals = 0, due_on = current_date + 7 FROM item i WHERE i.id = loan.item_id "
            "AND i.barcode = 'C1201' AND loan.returned_at IS NULL RETURNING loan.id").fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('loan', %s)", [loan_id])
    time.sleep(0.5)  # both workers follow the outbox within milliseconds


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", ["ja", "en"])
def test_search_to_logout_walk(chromium, library, screenshot_folder, language, width):
    give_kate_a_renewable_loan(library)
    words = TEXT[language]
    viewport_width, viewport_height = WIDTHS[width]
    context = chromium.new_context(viewport={"width": viewport_width, "height": viewport_height},
                                   locale="ja-JP" if language == "ja" else "en-US")
    page = context.new_page()
    base = library.base_url
    suffix = "?lang=en" if language == "en" else ""

    page.goto(f"{base}/{suffix}")
    check_accessibility(page, "home", language, width)
    shoot(page, screenshot_folder, "home", language, width)
    assert page.get_by_role("link", name=words["login"]).is_visible()

    page.locator("input[name=q]").fill("電子書籍")
    page.locator("input[name=q]").press("Enter")
    page.wait_for_selector("ol.results")
    assert int(page.locator("ol.results").get_attribute("data-total")) > 20
    check_accessibility(page, "results", language, width)
    shoot(page, screenshot_folder, "results", language, width)
    assert no_sideways_scrolling(page)

    page.locator("section.facet[data-facet=branch] a[data-value=central]").click()
    page.wait_for_selector("div.active-filters")
    check_accessibility(page, "results-filtered", language, width)

    page.locator("input#q").fill("本の話")
    page.locator("input#q").press("Enter")
    page.locator(f"li.hit[data-bib-id='{library.bibs['kore_kara']}'] a.title").click()
    page.wait_for_selector("table.holdings-table")
    check_accessibility(page, "detail", language, width)
    shoot(page, screenshot_folder, "detail", language, width)
    assert no_sideways_scrolling(page)

    page.get_by_role("link", name=words["login_to_reserve"]).click()
    page.wait_for_selector("form.login-form")
    check_accessibility(page, "login", language, width)
    shoot(page, screenshot_folder, "login", language, width)
    page.get_by_label(words["card"]).fill(library.patrons["kate"].card)
    page.get_by_label(words["password"], exact=True).fill(library.patrons["kate"].password)
    page.get_by_label(words["password"], exact=True).press("Enter")
    page.wait_for_selector("table.holdings-table")
    assert page.get_by_role("button", name=words["logout"]).is_visible()

    page.get_by_label(words["pickup"]).select_option("gyotoku")
    page.get_by_role("button", name=words["reserve"], exact=True).click()
    page.wait_for_selector("div.notice")
    assert words["placed"] in page.locator("div.notice").inner_text()
    check_accessibility(page, "detail-reserved", language, width)

    page.get_by_role("link", name=words["my_page"]).click()
    page.wait_for_selector("table.holds-table")
    check_accessibility(page, "my", language, width)
    shoot(page, screenshot_folder, "my", language, width)
    assert no_sideways_scrolling(page)
    page.locator("tr.loan[data-barcode='C1201']").get_by_role("button", name=words["renew"]).click()
    page.wait_for_selector("div.notice")
    assert words["renewed"] in page.locator("div.notice").inner_text()
    row = page.locator("tr.hold", has_text="これからの本の話をしよう")
    row.get_by_role("button", name=words["cancel"]).click()
    page.wait_for_selector("div.notice")
    assert words["cancelled"] in page.locator("div.notice").inner_text()

    page.get_by_role("button", name=words["logout"]).click()
    page.wait_for_selector("div.notice")
    assert words["logged_out"] in page.locator("div.notice").inner_text()
    assert page.get_by_role("link", name=words["login"]).is_visible()
    context.close()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_other_pages_pass_axe_at_both_widths(chromium, library, screenshot_folder, language):
    suffix = "&lang=en" if language == "en" else ""
    pages = {"advanced": "/advanced?x=1", "no-results": "/search?q=ずずずずずず", "bad-request": "/search?per_page=5",
             "aozora": f"/bibs/{library.bibs['aozora_ginga']}?x=1", "kiosk": "/kiosk?x=1", "not-found": "/bibs/0?x=1"}
    for width, (viewport_width, viewport_height) in WIDTHS.items():
        context = chromium.new_context(viewport={"width": viewport_width, "height": viewport_height})
        page = context.new_page()
        for name, path in pages.items():
            page.goto(f"{library.base_url}{path}{suffix}")
            check_accessibility(page, name, language, width)
            assert no_sideways_scrolling(page), name
            if name == "advanced":
                shoot(page, screenshot_folder, name, language, width)
        context.close()


def test_keyboard_only_search_with_visible_focus(chromium, library):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(library.base_url + "/")
    page.keyboard.press("Tab")
    skip = page.evaluate("document.activeElement.className")
    assert skip == "skip-link" and page.locator("a.skip-link").bounding_box()["x"] >= 0, "the skip link shows on focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    assert page.evaluate("document.activeElement.name") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    page.keyboard.type("本の話")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.results")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('title')"):
            break
    page.keyboard.press("Enter")
    page.wait_for_selector("article.bib")
    context.close()


def test_narrowest_phones_need_no_sideways_scrolling(chromium, library):
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("/", "/search?q=電子書籍", f"/bibs/{library.bibs['kore_kara']}", "/advanced", "/login"):
        page.goto(library.base_url + path)
        assert no_sideways_scrolling(page), path
    page.goto(library.base_url + "/login")
    page.fill("input[name=card]", library.patrons["alice"].card)
    page.fill("input[name=password]", library.patrons["alice"].password)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("table.loans-table")
    assert no_sideways_scrolling(page), "/my"
    context.close()


def test_the_kiosk_logs_out_by_itself(chromium, library):
    context = chromium.new_context(viewport={"width": 1280, "height": 800},
                                   extra_http_headers={"X-Forwarded-For": "192.0.2.77"})  # a kiosk address
    # Run the page's timers 50 times faster: the 150 s idle logout then takes 3 s.
    context.add_init_script("""(() => { const original = window.setTimeout;
        window.setTimeout = (callback, delay, ...rest) =>
            original(callback, delay >= 1000 ? delay / 50 : delay, ...rest);
    })()""")
    page = context.new_page()
    page.goto(library.base_url + "/login")
    page.fill("input[name=card]", library.patrons["leo"].card)
    page.fill("input[name=password]", library.patrons["leo"].password)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("section.loans")
    assert page.get_attribute("body", "data-idle-seconds") == "150"
    page.wait_for_selector("#idle-warning", state="visible", timeout=10_000)
    assert page.locator("#idle-warning").get_attribute("role") == "alertdialog"
    assert page.evaluate("document.activeElement.id") == "idle-continue"
    page.wait_for_url(library.base_url + "/", timeout=10_000)
    assert "自動的にログアウトしました" in page.locator("div.notice").inner_text()
    assert page.get_by_role("link", name="ログイン").is_visible()
    context.close()
