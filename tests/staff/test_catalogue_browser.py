"""The cataloguing screens in a real browser (headless Chromium through Playwright, Debian's /usr/bin/chromium):
a librarian fills in the new-record form (the reading typed in hiragana), looks at the MARC tab, which the page
brings up to date through the server, comes back to the form and saves; a copy is added with the shelf list
narrowed to the chosen branch; a MARC file is previewed; and without JavaScript both editors still work, one
above the other. axe-core finds no serious or critical problem on the form, the saved record, its MARC view, the
copy form or the import preview.

Screenshots (staff-catalogue.png: the record form; staff-catalogue-import.png: an import preview) go to
$SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the committed ones), otherwise to a temporary folder.
"""

from __future__ import annotations

import re
import secrets

import pytest

from tests.staff.catalogue_steps import hit_ids, search_until
from tests.staff.browser_steps import check_accessibility, log_in

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(chromium, staff_library):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    log_in(page, staff_library, "librarian")
    yield page
    context.close()


def test_a_librarian_catalogues_a_new_record_in_the_browser(page, staff_library, screenshot_folder):
    base = staff_library.base_url
    token = secrets.token_hex(3)
    page.goto(f"{base}/staff/catalogue")
    page.get_by_role("link", name="書誌を新規作成").click()
    expect(page.get_by_role("tab", name="書誌フォーム")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#marc-panel")).to_be_hidden()
    check_accessibility(page, "new record form")

    page.fill("#field-title", f"ブラウザで作った本 {token}")
    page.fill("#field-title_reading", "ぶらうざ で つくった ほん")
    page.fill("#field-responsibility", "目録 花子 著")
    page.fill("#field-authors-0-name", "目録, 花子")
    page.fill("#field-authors-0-reading", "もくろく, はなこ")
    page.get_by_role("button", name="著者の行を追加").click()
    expect(page.locator("#author-rows tr")).to_have_count(3)
    page.fill("#field-publisher", "書架出版")
    page.fill("#field-publication_date", "2025.3")
    page.fill("#field-isbns", "978-4-7949-7075-6")
    page.fill("#field-ndc", "010")
    page.fill("#field-subjects", "図書館--日本")

    page.get_by_role("tab", name="MARC").click()
    expect(page.locator("#marc-panel")).to_be_visible()
    marc = page.locator("#field-marc")
    expect(marc).to_have_value(re.compile(r"880 00 \$6245-01/\$1\$aブラウザ デ ツクッタ ホン"))
    expect(marc).to_have_value(re.compile(r"084 __ \$a010\$2njb/10"))
    marc.fill(marc.input_value().replace("$b書架出版", "$b書架出版社"))
    page.get_by_role("tab", name="書誌フォーム").click()
    expect(page.locator("#field-publisher")).to_have_value("書架出版社")
    expect(page.locator("#field-title_reading")).to_have_value("ブラウザ デ ツクッタ ホン")
    page.screenshot(path=str(screenshot_folder / "staff-catalogue.png"), full_page=True)

    page.locator("#form-panel").get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("書誌を登録しました")
    bib_id = int(re.search(r"/staff/catalogue/bibs/(\d+)", page.url).group(1))
    check_accessibility(page, "saved record")
    page.get_by_role("tab", name="MARC").click()
    expect(page.locator("#field-marc")).to_have_value(re.compile(rf"001 {bib_id}\n003 Shoka"))
    check_accessibility(page, "MARC view")
    page.get_by_role("tab", name="書誌フォーム").click()
    expect(page.locator("#form-panel")).to_be_visible()
    found, seconds = search_until(base, lambda result: bib_id in hit_ids(result), q="ぶらうざでつくったほん")
    assert bib_id in hit_ids(found), f"not in search after {seconds:.2f} s"

    # A problem is shown beside its field, the summary takes the focus, and what was typed stays.
    page.fill("#field-isbns", "978-4-7949-7075-5")
    page.locator("#form-panel").get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#problem-summary")).to_be_focused()
    expect(page.locator("#error-isbns")).to_contain_text("チェックディジット")
    expect(page.locator("#field-isbns")).to_have_value("978-4-7949-7075-5")


def test_a_copy_form_offers_the_shelves_of_the_chosen_branch(page, staff_library):
    bib_id = staff_library.query("SELECT min(id) FROM bib WHERE NOT is_withdrawn")[0][0]
    page.goto(f"{staff_library.base_url}/staff/catalogue/bibs/{bib_id}/items/new")
    page.select_option("#field-branch", "gyotoku")
    visible = page.eval_on_selector_all("#field-shelf_location optgroup", "groups => groups.filter(g => !g.hidden)"
                                                                          ".map(g => g.dataset.branch)")
    assert visible == ["gyotoku"]
    check_accessibility(page, "copy form")


def test_an_import_preview_in_the_browser(page, staff_library, shared_data, screenshot_folder):
    page.goto(f"{staff_library.base_url}/staff/catalogue/import")
    page.set_input_files("#marc-file", str(shared_data / "marc" / "pymarc_tests" / "bad_records.mrc"))
    page.get_by_role("button", name="取込内容を確認").click()
    expect(page.get_by_role("heading", name="取込内容の確認")).to_be_visible()
    expect(page.locator('[data-figure="rejected"]')).to_have_text("6")
    check_accessibility(page, "import preview")
    page.screenshot(path=str(screenshot_folder / "staff-catalogue-import.png"), full_page=True)
    page.get_by_role("button", name="取込をやめる（ファイルを削除）").click()
    expect(page.locator(".notice")).to_contain_text("取込を取り消しました")


def test_without_javascript_both_editors_work_one_above_the_other(chromium, staff_library):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    account = staff_library.account("librarian")
    page.goto(f"{staff_library.base_url}/staff/login")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.press("input[name=password]", "Enter")
    page.goto(f"{staff_library.base_url}/staff/catalogue/new")
    expect(page.get_by_role("tablist")).to_be_hidden()
    expect(page.locator("#add-author-row")).to_be_hidden()
    expect(page.locator("#marc-panel")).to_be_visible()
    page.fill("#field-title", "スクリプトなしの本")
    page.get_by_role("button", name="MARCに反映（保存しない）").click()
    expect(page.locator("#field-marc")).to_have_value(re.compile(r"245 00 \$aスクリプトなしの本"))
    marc = page.locator("#field-marc")
    marc.fill(marc.input_value().replace("$aスクリプトなしの本", "$aスクリプトなしで直した本"))
    page.get_by_role("button", name="MARCの内容で保存").click()
    expect(page.locator(".notice")).to_contain_text("書誌を登録しました")
    expect(page.locator("#field-title")).to_have_value("スクリプトなしで直した本")
    context.close()
