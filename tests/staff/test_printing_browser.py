"""Printouts in a real browser (headless Chromium through Playwright, Debian's /usr/bin/chromium): the receipt
page as a desk sees it (docs/screenshots/staff-print-receipt.png) with no serious axe-core finding, what Chromium's own print produces from it
(one page exactly as wide as the roll and as long as the PDF the server makes), and the print-layout page with
no serious or critical axe-core finding.

Screenshots go to $SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the committed ones), otherwise to a
temporary folder.
"""

from __future__ import annotations

import io
import unicodedata

import pytest
from pypdf import PdfReader

from tests.staff.browser_steps import check_accessibility, log_in
from tests.staff.test_printing import free_copies, free_patrons, lend, page_size_mm, pdf_of

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e
PIXELS_PER_MM = 96 / 25.4


def logged_in_page(browser, library, role: str, width: int = 900):
    page = browser.new_page(viewport={"width": width, "height": 720 if width < 900 else 900},
                            device_scale_factor=2 if width < 900 else 1)
    log_in(page, library, role)
    return page


def test_the_receipt_on_screen_and_through_the_browsers_print(staff_library, chromium, screenshot_folder):
    patron = free_patrons(staff_library, 1)[0]
    loans = lend(staff_library, patron["card"], [barcode for barcode, _title in free_copies(staff_library, 3)])
    ids = ",".join(str(loan["loan_id"]) for loan in loans)
    page = logged_in_page(chromium, staff_library, "librarian", width=480)
    page.goto(f"{staff_library.base_url}/staff/print/receipt?loans={ids}")
    page.evaluate("document.fonts.ready")
    check_accessibility(page, page.url)
    roll = page.locator("article.roll")
    box = roll.bounding_box()
    assert abs(box["width"] / PIXELS_PER_MM - 80) < 0.5
    page.screenshot(path=str(screenshot_folder / "staff-print-receipt.png"), full_page=True)

    server_pdf = pdf_of(staff_library.staff_client("librarian").get("/staff/print/receipt", loans=ids, format="pdf"))
    server_width, server_height = page_size_mm(server_pdf)
    # The HTML lays out the same lines at the same sizes as the PDF: the roll is as long on screen.
    assert abs(box["height"] / PIXELS_PER_MM - server_height) < 3, (box, server_height)

    printed = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    printed_width, printed_height = page_size_mm(printed)
    assert len(printed.pages) == 1, "the receipt spilled onto a second page"
    assert abs(printed_width - server_width) < 0.5 and abs(printed_height - server_height) < 0.5
    # Chromium's PDF maps some kanji of Noto CJK to look-alike Kangxi radicals (用 as ⽤); NFKC folds them back.
    text = unicodedata.normalize("NFKC", printed.pages[0].extract_text())
    assert "返却期限" in text and "ご利用ありがとうございました" in text
    assert "印刷する" not in text, "the toolbar must not be printed"
    page.close()


def test_the_print_layout_page_is_accessible(staff_library, chromium, screenshot_folder):
    page = logged_in_page(chromium, staff_library, "librarian")
    for kind in ("receipt", "reading_sticker"):
        page.goto(f"{staff_library.base_url}/staff/print-layouts?kind={kind}")
        check_accessibility(page, page.url)
    page.goto(f"{staff_library.base_url}/staff/print-layouts?kind=receipt")
    page.screenshot(path=str(screenshot_folder / "staff-print-layouts.png"), full_page=True)
    page.close()
