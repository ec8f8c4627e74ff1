"""Fitting text to slips of paper: how many printer columns a Japanese string takes, trimming titles to the
paper, masking card numbers, and the dates printed on receipts and slips.

Receipt printers count in columns: a 58 mm roll holds 32 half-width characters a line, an 80 mm roll 48, and a
full-width character (kanji, kana) takes two. Trimming by columns here, once, keeps the HTML and the PDF of a
document identical, whatever the browser's or the PDF viewer's fonts.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from shoka.clock import LIBRARY_TIME_ZONE
from shoka.web.i18n import Language

ELLIPSIS = "…"
# Printable width of the body text on a roll: the printers' usual 4 mm margin on each side.
ROLL_MARGIN_MM = 4.0
# Slip body text size in points; at this size 2 columns take 3 mm (a full-width character), which gives 32
# columns on a 58 mm roll and 48 on an 80 mm roll, as the printers themselves print.
SLIP_FONT_POINTS = 8.5
_MM_PER_POINT = 25.4 / 72
_WEEKDAYS_JA = "月火水木金土日"


def text_columns(text: str) -> int:
    """Printer columns a text takes: wide and full-width characters two, ambiguous ones (○, ※) two as on
    Japanese printers, combining marks none."""
    columns = 0
    for character in text:
        if unicodedata.combining(character):
            continue
        columns += 2 if unicodedata.east_asian_width(character) in ("W", "F", "A") else 1
    return columns


def trim_to_columns(text: str, columns: int) -> str:
    """The text cut to at most `columns` printer columns, ending in … when something was cut."""
    text = " ".join(text.split())
    if text_columns(text) <= columns:
        return text
    room = columns - text_columns(ELLIPSIS)
    kept, used = [], 0
    for character in text:
        width = text_columns(character)
        if used + width > room:
            break
        kept.append(character)
        used += width
    return "".join(kept).rstrip() + ELLIPSIS


def roll_columns(paper_width_mm: int) -> int:
    """Columns of body text across a roll of this width (32 on 58 mm, 48 on 80 mm)."""
    half_width_mm = SLIP_FONT_POINTS * _MM_PER_POINT / 2
    return int((paper_width_mm - 2 * ROLL_MARGIN_MM) / half_width_mm) // 2 * 2


def mask_card(card: str, visible: int) -> str:
    """A card number with all but its last `visible` characters hidden (******1234): enough for the patron to
    recognise their own card, not enough to use someone else's."""
    if not card:
        return ""
    shown = card[-visible:] if visible > 0 else ""
    return "*" * (len(card) - len(shown)) + shown


def long_date(day: dt.date, language: Language) -> str:
    """2025年1月15日(水) / Wed 15 Jan 2025: due dates need the weekday."""
    if language == "en":
        return f"{day:%a} {day.day} {day:%b} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"


def short_date(day: dt.date) -> str:
    return f"{day.year}/{day.month:02d}/{day.day:02d}"


def local_time(moment: dt.datetime) -> str:
    """A moment as the library's wall clock shows it: 2025/01/15 14:32."""
    local = moment.astimezone(LIBRARY_TIME_ZONE)
    return f"{short_date(local.date())} {local.hour:02d}:{local.minute:02d}"


def fitting_points(text: str, width_mm: float, largest: float) -> float:
    """The largest size up to `largest` points at which the text fits the width (a full-width character is one
    em wide in Japanese fonts), for the big branch name on a transit slip."""
    columns = max(text_columns(text), 1)
    fitting = width_mm / (columns / 2) / _MM_PER_POINT
    return round(min(largest, fitting), 1)


def points_to_mm(points: float) -> float:
    return points * _MM_PER_POINT
