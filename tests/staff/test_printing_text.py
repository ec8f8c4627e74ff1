"""Fitting printouts to paper without a server: printer columns of Japanese text, trimming and wrapping titles
(with 行頭禁則), masking cards, the layout settings' validation, and the roll documents' lines and PDFs."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from shoka.staff.print_documents import (NO_LINE_START, Branch, LoanRow, build_receipt, build_stickers,
                                         wrap_to_columns)
from shoka.staff.print_layouts import (LayoutInvalid, LayoutKind, ReceiptSettings, StickerSettings,
                                       settings_from_form, validated_settings)
from shoka.staff.print_pdf import roll_pdf, stickers_pdf
from shoka.staff.print_text import (fitting_points, long_date, mask_card, roll_columns, text_columns,
                                    trim_to_columns)

titles = st.text(alphabet=st.sampled_from("ぐりとぐらハリー・ポッター賢者の石。、abc XYZ123ｱｲｳ"), max_size=80)
CENTRAL = Branch(1, "central", "中央図書館", "Central Library", "047-000-0000")


def loan(title: str, number: int = 1) -> LoanRow:
    return LoanRow(loan_id=number, patron_id=1, card="2100012345678",
                   checked_out_at=dt.datetime(2025, 1, 1, 5, 30, tzinfo=dt.timezone.utc), due_on=dt.date(2025, 1, 15),
                   branch=CENTRAL, barcode=f"10000{number}", call_number="913/ア", title=title, author="芥川龍之介")


def test_printer_columns_count_full_width_characters_twice():
    assert text_columns("abc") == 3 and text_columns("ぐりとぐら") == 10 and text_columns("ｱｲｳ") == 3
    assert roll_columns(58) == 32 and roll_columns(80) == 48


@given(titles, st.integers(min_value=4, max_value=60))
def test_a_trimmed_title_never_overflows_and_keeps_what_fits(title, columns):
    trimmed = trim_to_columns(title, columns)
    assert text_columns(trimmed) <= columns
    if text_columns(" ".join(title.split())) <= columns:
        assert trimmed == " ".join(title.split())
    else:
        assert trimmed.endswith("…")


@given(titles, st.integers(min_value=8, max_value=48), st.integers(min_value=1, max_value=3))
def test_wrapped_titles_fit_their_lines_and_no_line_starts_with_a_closing_mark(title, columns, most_lines):
    lines = wrap_to_columns(title, columns, most_lines)
    assert len(lines) <= most_lines
    assert all(text_columns(line) <= columns for line in lines)
    for before, line in zip(lines, lines[1:]):
        assert len(before) == 1 or line[0] not in NO_LINE_START, lines


def test_wrapping_keeps_the_long_vowel_mark_with_its_kana():
    assert wrap_to_columns("ハリー・ポッターと賢者の石 ハリー・ポッター", 32, 2) == [
        "ハリー・ポッターと賢者の石 ハ", "リー・ポッター"]
    assert wrap_to_columns("あいうえおかきくけこさしすせ 。たちつ", 30, 2) == ["あいうえおかきくけこさしす", "せ 。たちつ"]


def test_cards_are_masked_and_dates_carry_the_weekday():
    assert mask_card("2100012345678", 4) == "*********5678"
    assert mask_card("1234", 0) == "****" and mask_card("", 4) == ""
    assert long_date(dt.date(2025, 1, 15), "ja") == "2025年1月15日(水)"
    assert long_date(dt.date(2025, 1, 5), "en") == "Sun 5 Jan 2025"


def test_a_long_branch_name_shrinks_to_the_roll():
    assert fitting_points("中央図書館", 50, 24) == 24
    assert fitting_points("市川駅南口図書館", 50, 24) < 24


def test_settings_are_validated_with_the_fields_name():
    with pytest.raises(LayoutInvalid) as refused:
        validated_settings(LayoutKind.RECEIPT, {"paper_width_mm": 70})
    assert refused.value.field == "paper_width_mm" and "58, 80" in refused.value.message
    with pytest.raises(LayoutInvalid) as refused:
        settings_from_form(LayoutKind.READING_STICKER, {"sheet": "A4", "columns": "3", "rows": "8",
                                                        "sticker_width_mm": "86.4", "sticker_height_mm": "33.9",
                                                        "margin_top_mm": "0", "margin_left_mm": "0", "gap_x_mm": "0",
                                                        "gap_y_mm": "0"})
    assert refused.value.field == "sticker_width_mm" and "259.2 mm" in refused.value.message
    assert validated_settings(LayoutKind.RECEIPT, {"unknown_key_from_a_later_version": 1}) == ReceiptSettings()


def test_a_receipt_pdf_is_as_wide_as_the_roll_and_as_long_as_its_lines():
    for width in (58, 80):
        document = build_receipt(ReceiptSettings(paper_width_mm=width), [loan("羅生門"), loan("蜘蛛の糸", 2)], "ja")
        page = PdfReader(io.BytesIO(roll_pdf(document))).pages[0]
        assert round(float(page.mediabox.width) * 25.4 / 72, 1) == width
        assert round(float(page.mediabox.height) * 25.4 / 72, 1) == document.height_mm
        text = page.extract_text()
        assert "羅生門" in text and "蜘蛛の糸" in text and "2025年1月15日(水)" in text and "*********5678" in text


def test_stickers_fill_the_sheet_after_the_used_labels():
    sheets = build_stickers(StickerSettings(), [loan(f"本 {number}", number) for number in range(20)], "ja", skip=5)
    assert len(sheets.pages) == 2
    assert [place.sticker is None for place in sheets.pages[0]][:6] == [True] * 5 + [False]
    assert sum(place.sticker is not None for page in sheets.pages for place in page) == 20
    assert sheets.pages[0][1].left_mm == pytest.approx(16.9 + 86.4 + 2.5)
    assert sheets.pages[0][2].top_mm == pytest.approx(12.9 + 33.9)
    assert sheets.pages[0][5].sticker.borrowed_on == "2025/01/01"  # 05:30 UTC is 14:30 in Japan
    reader = PdfReader(io.BytesIO(stickers_pdf(sheets, "読書記録シール")))
    assert len(reader.pages) == 2 and "本 0" in reader.pages[0].extract_text()
    roll = build_stickers(StickerSettings(sheet="roll", sticker_width_mm=60, sticker_height_mm=30),
                          [loan("羅生門")], "ja", skip=0)
    page = PdfReader(io.BytesIO(stickers_pdf(roll, "読書記録シール"))).pages[0]
    assert round(float(page.mediabox.width) * 25.4 / 72) == 60 and "羅生門" in page.extract_text()
