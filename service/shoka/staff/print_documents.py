"""The printed documents of the desk, laid out once for both outputs: the loan receipt, the hold slip and the
transit slip as lines on a receipt roll, reading-record stickers as places on a label sheet. The HTML templates
and the PDF renderer (print_pdf.py) draw these same lines and places, so the two print the same text at the same
sizes, and the paper's length is known before printing.

The documents show no patron name: a receipt carries the card number masked (******1234), a hold slip the
family-name reading's initial or the card's last digits, as Japanese libraries do on 予約取置票.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from shoka.clock import LIBRARY_TIME_ZONE
from shoka.staff.print_layouts import (SHEET_SIZES_MM, HoldSlipSettings, ReceiptSettings, RollSettings,
                                       StickerSettings, TransitSlipSettings)
from shoka.staff.print_text import (ROLL_MARGIN_MM, SLIP_FONT_POINTS, fitting_points, long_date, local_time,
                                    mask_card, points_to_mm, roll_columns, short_date, text_columns, trim_to_columns)
from shoka.web.i18n import Language

# Every label a document prints, Japanese and English.
PRINT_LABELS = {
    "receipt": ("貸出票", "Loan receipt"),
    "checked_out": ("貸出日時", "Borrowed"),
    "card": ("利用者番号", "Card"),
    "due": ("返却期限", "Due"),
    "barcode": ("資料番号", "Item"),
    "call_number": ("請求記号", "Call no."),
    "count": ("貸出点数", "Items"),
    "phone": ("電話", "Tel"),
    "hold_slip": ("予約取置票", "Hold slip"),
    "pickup_branch": ("受取館", "Pick up at"),
    "pickup_by": ("取置期限", "Hold until"),
    "in_transit": ("受取館へ回送", "Send to the pickup library"),
    "transit_slip": ("回送票", "Transit slip"),
    "to_branch": ("回送先", "To"),
    "from_branch": ("発送館", "From"),
    "reason": ("理由", "Reason"),
    "sent": ("発送日時", "Sent"),
    "reading_record": ("読書記録シール", "Reading-record stickers"),
}
TRANSIT_REASONS = {
    "return_home": ("返却回送", "Returning home"),
    "hold": ("予約回送", "For a hold"),
    "ill": ("相互貸借回送", "Inter-library loan"),
    "transfer": ("移管回送", "Transfer"),
}
LINE_SPACING = 1.35
RULE_MM = 2.5
ROLL_TOP_MM = 4.0
ROLL_BOTTOM_MM = 8.0  # room for the printer's cutter
# Sticker text: the title large enough for a child to read back in the notebook.
STICKER_TITLE_POINTS = 9.0
STICKER_SMALL_POINTS = 7.0
STICKER_PADDING_MM = 3.0
STICKER_TITLE_LINES = 2
# 行頭禁則: characters that may not begin a line.
NO_LINE_START = frozenset("ー・、。，．：；？！）」』】〕〉》ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‐")


def label(key: str, language: Language) -> str:
    japanese, english = PRINT_LABELS[key]
    return english if language == "en" else japanese


class Branch(msgspec.Struct, frozen=True):
    id: int
    code: str
    name_ja: str
    name_en: str
    phone: str = ""

    def name(self, language: Language) -> str:
        return self.name_en if language == "en" else self.name_ja


class LoanRow(msgspec.Struct, frozen=True):
    """One loan as the receipt and the stickers need it, read from the database (or made up for a preview)."""

    loan_id: int
    patron_id: int | None
    card: str
    checked_out_at: dt.datetime
    due_on: dt.date
    branch: Branch
    barcode: str
    call_number: str
    title: str
    author: str


class HoldRow(msgspec.Struct, frozen=True):
    hold_id: int
    patron_id: int
    status: str
    card: str
    family_name_reading: str
    pickup_branch: Branch
    pickup_by: dt.date | None
    title: str
    barcode: str
    call_number: str


class TransitRow(msgspec.Struct, frozen=True):
    transit_id: int
    reason: str
    from_branch: Branch
    to_branch: Branch
    sent_at: dt.datetime
    pickup_by: dt.date | None
    title: str
    barcode: str
    call_number: str


class RollLine(msgspec.Struct, frozen=True):
    """One printed line: a text, a label with its value at the right edge, or a dividing rule. `field` says what
    the line shows (the HTML's data-field)."""

    kind: Literal["text", "pair", "rule"]
    text: str = ""
    value: str = ""
    points: float = SLIP_FONT_POINTS
    align: Literal["left", "center", "right"] = "left"
    field: str = ""

    @property
    def height_mm(self) -> float:
        return RULE_MM if self.kind == "rule" else points_to_mm(self.points * LINE_SPACING)


class RollDocument(msgspec.Struct, frozen=True):
    kind: str
    title: str
    width_mm: int
    lines: list[RollLine]

    @property
    def height_mm(self) -> float:
        return round(ROLL_TOP_MM + sum(line.height_mm for line in self.lines) + ROLL_BOTTOM_MM, 1)


def wrap_to_columns(text: str, columns: int, most_lines: int) -> list[str]:
    """A title over at most `most_lines` lines of `columns` printer columns, the last one trimmed with ….
    A line never starts with a mark Japanese typesetting keeps off the line start (ー, ・, 。, small kana)."""
    lines: list[str] = []
    rest = " ".join(text.split())
    while rest and len(lines) < most_lines - 1 and text_columns(rest) > columns:
        line, used = "", 0
        for character in rest:
            if used + text_columns(character) > columns:
                break
            line, used = line + character, used + text_columns(character)
        while len(line) > 1 and rest[len(line):].lstrip()[:1] in NO_LINE_START:
            line = line[:-1]
        lines.append(line)
        rest = rest[len(line):].lstrip()
    if rest:
        lines.append(trim_to_columns(rest, columns))
    return lines


class _Roll:
    """Collects a roll document's lines, keeping each within the paper's columns."""

    def __init__(self, settings: RollSettings) -> None:
        self.width_mm = settings.paper_width_mm
        self.columns = roll_columns(settings.paper_width_mm)
        self.lines: list[RollLine] = []
        self.settings = settings

    def text(self, text: str, *, points: float = SLIP_FONT_POINTS, align: str = "left", field: str = "") -> None:
        if text:
            columns = int(self.columns * SLIP_FONT_POINTS / points)
            self.lines.append(RollLine("text", trim_to_columns(text, columns), points=points, align=align,
                                       field=field))

    def pair(self, name: str, value: str, *, points: float = SLIP_FONT_POINTS, field: str = "") -> None:
        """A label and its value on one line, or on two when both do not fit."""
        if not value:
            return
        columns = int(self.columns * SLIP_FONT_POINTS / points)
        if text_columns(name) + 2 + text_columns(value) <= columns:
            self.lines.append(RollLine("pair", name, value, points=points, field=field))
            return
        self.lines.append(RollLine("text", name, points=points, field=field))
        self.lines.append(RollLine("text", trim_to_columns(value, columns), points=points, align="right", field=field))

    def big(self, text: str, largest: float, field: str) -> None:
        width = self.width_mm - 2 * ROLL_MARGIN_MM
        self.lines.append(RollLine("text", text, points=fitting_points(text, width, largest), align="center",
                                   field=field))

    def rule(self) -> None:
        self.lines.append(RollLine("rule"))

    def header(self) -> None:
        for line in self.settings.header_lines:
            self.text(line, align="center", field="header")

    def footer(self) -> None:
        for line in self.settings.footer_lines:
            self.text(line, align="center", field="footer")

    def document(self, kind: str, title: str) -> RollDocument:
        return RollDocument(kind=kind, title=title, width_mm=self.width_mm, lines=self.lines)


def build_receipt(settings: ReceiptSettings, loans: list[LoanRow], language: Language) -> RollDocument:
    """貸出票: where and when, the masked card, each title with its barcode and due date, the count, the footer."""
    roll = _Roll(settings)
    branch = loans[0].branch
    roll.header()
    roll.big(branch.name(language), 12, "branch")
    roll.text(label("receipt", language), points=10, align="center", field="heading")
    roll.rule()
    roll.pair(label("checked_out", language), local_time(max(loan.checked_out_at for loan in loans)),
              field="checked_out")
    card = next((loan.card for loan in loans if loan.card), "")
    roll.pair(label("card", language), mask_card(card, settings.visible_card_digits), field="card")
    roll.rule()
    for loan in loans:
        for line in wrap_to_columns(loan.title, roll.columns, settings.title_lines):
            roll.text(line, field="title")
        roll.pair(label("barcode", language), loan.barcode, field="barcode")
        if settings.show_call_number:
            roll.pair(label("call_number", language), loan.call_number, field="call_number")
        roll.pair(label("due", language), long_date(loan.due_on, language), points=9.5, field="due")
        roll.rule()
    count = f"{len(loans)}点" if language == "ja" else f"{len(loans)} item{'s' if len(loans) > 1 else ''}"
    roll.pair(label("count", language), count, points=9.5, field="count")
    roll.footer()
    if settings.show_branch_phone and branch.phone:
        roll.text(f"{label('phone', language)} {branch.phone}", align="center", field="phone")
    return roll.document("receipt", label("receipt", language))


def patron_mark(settings: HoldSlipSettings, card: str, family_name_reading: str) -> str:
    """What the held copy is shelved under: the reading's first kana, or the card's last four characters."""
    if settings.patron_mark == "reading_initial" and family_name_reading.strip():
        return family_name_reading.strip()[0]
    return card[-4:]


def build_hold_slip(settings: HoldSlipSettings, hold: HoldRow, language: Language) -> RollDocument:
    """予約取置票: the patron's mark large, where and until when to pick up, the copy."""
    roll = _Roll(settings)
    roll.header()
    roll.text(label("hold_slip", language), points=10, align="center", field="heading")
    roll.big(patron_mark(settings, hold.card, hold.family_name_reading), 28, "patron_mark")
    roll.pair(label("card", language), mask_card(hold.card, settings.visible_card_digits), field="card")
    roll.rule()
    roll.pair(label("pickup_branch", language), hold.pickup_branch.name(language), points=10, field="pickup_branch")
    if hold.pickup_by:
        roll.pair(label("pickup_by", language), long_date(hold.pickup_by, language), points=10, field="pickup_by")
    if hold.status == "in_transit":
        roll.text(f"▶ {label('in_transit', language)}", points=10, align="center", field="in_transit")
    roll.rule()
    for line in wrap_to_columns(hold.title, roll.columns, 2):
        roll.text(line, field="title")
    roll.pair(label("barcode", language), hold.barcode, field="barcode")
    if settings.show_call_number:
        roll.pair(label("call_number", language), hold.call_number, field="call_number")
    roll.footer()
    return roll.document("hold_slip", label("hold_slip", language))


def build_transit_slip(settings: TransitSlipSettings, transit: TransitRow, language: Language) -> RollDocument:
    """回送票: the destination as large as the paper allows, where from, why, and the copy."""
    roll = _Roll(settings)
    reason_ja, reason_en = TRANSIT_REASONS[transit.reason]
    roll.header()
    roll.text(label("transit_slip", language), points=10, align="center", field="heading")
    roll.text(label("to_branch", language), align="center", field="to_label")
    roll.big(transit.to_branch.name(language), 24, "to_branch")
    roll.rule()
    roll.pair(label("from_branch", language), transit.from_branch.name(language), field="from_branch")
    roll.pair(label("reason", language), reason_en if language == "en" else reason_ja, points=10, field="reason")
    if transit.pickup_by:
        roll.pair(label("pickup_by", language), long_date(transit.pickup_by, language), field="pickup_by")
    if settings.show_sent_at:
        roll.pair(label("sent", language), local_time(transit.sent_at), field="sent")
    roll.rule()
    for line in wrap_to_columns(transit.title, roll.columns, 2):
        roll.text(line, field="title")
    roll.pair(label("barcode", language), transit.barcode, field="barcode")
    if settings.show_call_number:
        roll.pair(label("call_number", language), transit.call_number, field="call_number")
    roll.footer()
    return roll.document("transit_slip", label("transit_slip", language))


class Sticker(msgspec.Struct, frozen=True):
    heading: str
    borrowed_on: str
    title_lines: list[str]
    author: str
    branch_name: str


class StickerPlace(msgspec.Struct, frozen=True):
    """Where one label lies on its page, from the page's top left corner; no sticker on labels left blank."""

    left_mm: float
    top_mm: float
    sticker: Sticker | None


class StickerSheets(msgspec.Struct, frozen=True):
    settings: StickerSettings
    page_width_mm: float
    page_height_mm: float
    pages: list[list[StickerPlace]]


def sticker_columns(settings: StickerSettings) -> int:
    return max(4, int((settings.sticker_width_mm - 2 * STICKER_PADDING_MM) / points_to_mm(STICKER_TITLE_POINTS / 2)))


def build_stickers(settings: StickerSettings, loans: list[LoanRow], language: Language, skip: int) -> StickerSheets:
    """One sticker per loan; on a sheet, the first `skip` labels (used before) stay blank."""
    columns = sticker_columns(settings)
    small_columns = int(columns * STICKER_TITLE_POINTS / STICKER_SMALL_POINTS)
    stickers = [Sticker(
        heading=settings.heading,
        borrowed_on=short_date(loan.checked_out_at.astimezone(LIBRARY_TIME_ZONE).date()),
        title_lines=wrap_to_columns(loan.title, columns, STICKER_TITLE_LINES),
        author=trim_to_columns(loan.author, small_columns) if settings.show_author else "",
        branch_name=loan.branch.name(language) if settings.show_branch else "") for loan in loans]
    if settings.sheet == "roll":
        return StickerSheets(settings, settings.sticker_width_mm, settings.sticker_height_mm,
                             [[StickerPlace(0, 0, sticker)] for sticker in stickers])
    page_width, page_height = SHEET_SIZES_MM[settings.sheet]
    per_sheet = settings.columns * settings.rows
    queue: list[Sticker | None] = [None] * (skip % per_sheet) + list(stickers)
    pages = []
    for start in range(0, len(queue), per_sheet):
        page = queue[start:start + per_sheet]
        page += [None] * (per_sheet - len(page))
        pages.append([StickerPlace(
            left_mm=round(settings.margin_left_mm + (index % settings.columns) * (
                settings.sticker_width_mm + settings.gap_x_mm), 2),
            top_mm=round(settings.margin_top_mm + (index // settings.columns) * (
                settings.sticker_height_mm + settings.gap_y_mm), 2),
            sticker=sticker) for index, sticker in enumerate(page)])
    return StickerSheets(settings, page_width, page_height, pages)


def first_author(authors: Any, responsibility: str | None) -> str:
    """The name to print for a record: its first author, else its statement of responsibility."""
    for author in authors or []:
        if isinstance(author, dict) and author.get("name"):
            return str(author["name"])
    return responsibility or ""
