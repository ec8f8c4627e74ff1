"""Print layouts per branch: what each kind of printed document looks like at one service point.

The table print_layout keeps one jsonb row per (service point, kind); a branch without a row prints with the
defaults below. Each kind's settings are a msgspec Struct, so a saved layout is validated once, on save, and a
bad value is refused with the field's name and what it accepts. The same Structs describe the admin page's form
(`setting_fields`), so a new setting needs only a field here and its label.

Unknown keys in a stored row are ignored, so a row written by an older or newer version still prints.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import inspect as type_inspect
from psycopg import AsyncCursor
from psycopg.types.json import Jsonb

from shoka.errors import Unprocessable

PaperWidth = Literal[58, 80]
PrintedLine = Annotated[str, msgspec.Meta(max_length=40)]
PrintedLines = Annotated[tuple[PrintedLine, ...], msgspec.Meta(max_length=6)]
VisibleCardDigits = Annotated[int, msgspec.Meta(ge=0, le=6)]
Millimetres = Annotated[float, msgspec.Meta(ge=0, le=60)]


class LayoutKind(enum.StrEnum):
    RECEIPT = "receipt"
    READING_STICKER = "reading_sticker"
    HOLD_SLIP = "hold_slip"
    TRANSIT_SLIP = "transit_slip"


class RollSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What every document printed on a receipt roll shares."""

    paper_width_mm: PaperWidth = 80
    header_lines: PrintedLines = ()
    footer_lines: PrintedLines = ()
    show_call_number: bool = True


class ReceiptSettings(RollSettings, frozen=True, kw_only=True):
    footer_lines: PrintedLines = ("ご利用ありがとうございました。",)
    show_call_number: bool = False
    show_branch_phone: bool = True
    title_lines: Annotated[int, msgspec.Meta(ge=1, le=3)] = 2
    visible_card_digits: VisibleCardDigits = 4


class HoldSlipSettings(RollSettings, frozen=True, kw_only=True):
    # Japanese libraries file held copies under a mark the patron can be found by without a full name.
    patron_mark: Literal["reading_initial", "card_last4"] = "reading_initial"
    visible_card_digits: VisibleCardDigits = 4


class TransitSlipSettings(RollSettings, frozen=True, kw_only=True):
    show_sent_at: bool = True


SheetSize = Literal["A4", "B5", "roll"]
SHEET_SIZES_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "B5": (182.0, 257.0)}


class StickerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """読書記録シール: a label sheet (default: A4, 2 × 8 labels of 86.4 × 33.9 mm, a common 16-label sheet) or a
    roll of single labels (a label printer; columns, rows and margins are then unused)."""

    sheet: SheetSize = "A4"
    columns: Annotated[int, msgspec.Meta(ge=1, le=6)] = 2
    rows: Annotated[int, msgspec.Meta(ge=1, le=20)] = 8
    sticker_width_mm: Annotated[float, msgspec.Meta(ge=20, le=200)] = 86.4
    sticker_height_mm: Annotated[float, msgspec.Meta(ge=12, le=150)] = 33.9
    margin_top_mm: Millimetres = 12.9
    margin_left_mm: Millimetres = 16.9
    gap_x_mm: Annotated[float, msgspec.Meta(ge=0, le=20)] = 2.5
    gap_y_mm: Annotated[float, msgspec.Meta(ge=0, le=20)] = 0.0
    heading: Annotated[str, msgspec.Meta(max_length=20)] = "どくしょきろく"
    show_author: bool = True
    show_branch: bool = True


LayoutSettings = ReceiptSettings | StickerSettings | HoldSlipSettings | TransitSlipSettings

SETTINGS_TYPES: dict[LayoutKind, type[Any]] = {
    LayoutKind.RECEIPT: ReceiptSettings,
    LayoutKind.READING_STICKER: StickerSettings,
    LayoutKind.HOLD_SLIP: HoldSlipSettings,
    LayoutKind.TRANSIT_SLIP: TransitSlipSettings,
}

KIND_NAMES = {
    LayoutKind.RECEIPT: ("貸出レシート", "Loan receipt"),
    LayoutKind.READING_STICKER: ("読書記録シール", "Reading-record stickers"),
    LayoutKind.HOLD_SLIP: ("予約取置票", "Hold slip"),
    LayoutKind.TRANSIT_SLIP: ("回送票", "Transit slip"),
}

FIELD_LABELS = {
    "paper_width_mm": ("用紙幅（mm）", "Paper width (mm)"),
    "header_lines": ("ヘッダー行（1行ずつ）", "Header lines (one per line)"),
    "footer_lines": ("フッター行（開館時間・電話・お礼など）", "Footer lines (opening hours, phone, thanks)"),
    "show_call_number": ("請求記号を印刷する", "Print the call number"),
    "show_branch_phone": ("館の電話番号を印刷する", "Print the branch's phone number"),
    "title_lines": ("書名の最大行数", "Most lines per title"),
    "visible_card_digits": ("カード番号の表示桁数（末尾）", "Card digits shown (last)"),
    "patron_mark": ("利用者の識別", "Patron mark"),
    "show_sent_at": ("発送日時を印刷する", "Print the time sent"),
    "sheet": ("用紙", "Sheet"),
    "columns": ("列数", "Columns"),
    "rows": ("行数", "Rows"),
    "sticker_width_mm": ("シールの幅（mm）", "Sticker width (mm)"),
    "sticker_height_mm": ("シールの高さ（mm）", "Sticker height (mm)"),
    "margin_top_mm": ("上余白（mm）", "Top margin (mm)"),
    "margin_left_mm": ("左余白（mm）", "Left margin (mm)"),
    "gap_x_mm": ("列の間隔（mm）", "Gap between columns (mm)"),
    "gap_y_mm": ("行の間隔（mm）", "Gap between rows (mm)"),
    "heading": ("見出し", "Heading"),
    "show_author": ("著者を印刷する", "Print the author"),
    "show_branch": ("館名を印刷する", "Print the branch name"),
}

CHOICE_LABELS = {
    "reading_initial": ("氏名よみの頭文字", "Family-name reading initial"),
    "card_last4": ("カード番号の下4桁", "Last 4 digits of the card"),
    "A4": ("A4 シート", "A4 sheet"), "B5": ("B5 シート", "B5 sheet"),
    "roll": ("ロール（1枚ずつ）", "Roll (one label at a time)"),
}


class SettingField(msgspec.Struct, frozen=True):
    """One input of the layout form: built from the settings Struct's type, so form and validation agree."""

    name: str
    label: tuple[str, str]
    control: Literal["number", "checkbox", "select", "lines", "text"]
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    step: str = "1"
    choices: tuple[tuple[str, tuple[str, str]], ...] = ()
    max_items: int | None = None
    max_length: int | None = None


def _field_infos(kind: LayoutKind) -> list[type_inspect.Field]:
    return list(type_inspect.type_info(SETTINGS_TYPES[kind]).fields)


def _describe(info: type_inspect.Field, value: Any) -> SettingField:
    label = FIELD_LABELS[info.name]
    kind = info.type
    if isinstance(kind, type_inspect.BoolType):
        return SettingField(info.name, label, "checkbox", bool(value))
    if isinstance(kind, type_inspect.LiteralType):
        return SettingField(info.name, label, "select", value, choices=tuple(
            (str(choice), CHOICE_LABELS.get(str(choice), (str(choice), str(choice)))) for choice in kind.values))
    if isinstance(kind, (type_inspect.IntType, type_inspect.FloatType)):
        return SettingField(info.name, label, "number", value, minimum=kind.ge, maximum=kind.le,
                            step="1" if isinstance(kind, type_inspect.IntType) else "0.1")
    if isinstance(kind, type_inspect.VarTupleType):
        lines = "\n".join(value) if isinstance(value, (tuple, list)) else str(value)
        return SettingField(info.name, label, "lines", lines, max_items=kind.max_length,
                            max_length=kind.item_type.max_length)
    return SettingField(info.name, label, "text", value, max_length=kind.max_length)


def setting_fields(kind: LayoutKind, settings: LayoutSettings,
                   entered: Mapping[str, str] | None = None) -> list[SettingField]:
    """The form's inputs with the layout's values, or with what was entered when a save was refused."""
    fields = []
    for info in _field_infos(kind):
        value = getattr(settings, info.name)
        if entered is not None and not isinstance(info.type, type_inspect.BoolType):
            value = entered.get(info.name, "")
        elif entered is not None:
            value = entered.get(info.name) == "on"
        fields.append(_describe(info, value))
    return fields


def _accepts(info: type_inspect.Field) -> tuple[str, str]:
    """What a field accepts, in words, for the refusal message."""
    kind = info.type
    if isinstance(kind, type_inspect.LiteralType):
        values = ", ".join(str(value) for value in kind.values)
        return f"{values} のいずれか", f"one of {values}"
    if isinstance(kind, type_inspect.IntType):
        return f"{kind.ge}〜{kind.le} の整数", f"a whole number from {kind.ge} to {kind.le}"
    if isinstance(kind, type_inspect.FloatType):
        return f"{kind.ge:g}〜{kind.le:g} の数", f"a number from {kind.ge:g} to {kind.le:g}"
    if isinstance(kind, type_inspect.VarTupleType):
        return (f"{kind.max_length} 行まで、1 行 {kind.item_type.max_length} 文字まで",
                f"at most {kind.max_length} lines of at most {kind.item_type.max_length} characters")
    if isinstance(kind, type_inspect.StrType):
        return f"{kind.max_length} 文字まで", f"at most {kind.max_length} characters"
    return "はい／いいえ", "yes or no"


class LayoutInvalid(Unprocessable):
    code = "invalid_layout"

    def __init__(self, kind: LayoutKind, field: str, problem: tuple[str, str] | None = None) -> None:
        info = next(info for info in _field_infos(kind) if info.name == field)
        label_ja, label_en = FIELD_LABELS[field]
        problem_ja, problem_en = problem or _accepts(info)
        super().__init__(f"「{label_ja}」（{field}）: {problem_ja}で入力してください。/ "
                         f"{label_en} ({field}): enter {problem_en}.")
        self.field = field


def _number(kind: LayoutKind, info: type_inspect.Field, text: str) -> int | float:
    try:
        return int(text) if isinstance(info.type, type_inspect.IntType) else float(text)
    except ValueError:
        raise LayoutInvalid(kind, info.name) from None


def _failed_field(kind: LayoutKind, error: msgspec.ValidationError) -> str:
    """The settings field a msgspec refusal names (`... - at `$.columns[2]``)."""
    path = str(error).rpartition("`$.")[2]
    name = path.split("[")[0].rstrip("`")
    known = {info.name for info in _field_infos(kind)}
    return name if name in known else next(iter(known))


def settings_from_form(kind: LayoutKind, form: Mapping[str, str]) -> LayoutSettings:
    """The admin form's values as validated settings; LayoutInvalid names the first field that is wrong."""
    values: dict[str, Any] = {}
    for info in _field_infos(kind):
        text = form.get(info.name, "").strip()
        if isinstance(info.type, type_inspect.BoolType):
            values[info.name] = form.get(info.name) == "on"
        elif isinstance(info.type, type_inspect.LiteralType):
            by_text = {str(choice): choice for choice in info.type.values}
            if text not in by_text:
                raise LayoutInvalid(kind, info.name)
            values[info.name] = by_text[text]
        elif isinstance(info.type, (type_inspect.IntType, type_inspect.FloatType)):
            values[info.name] = _number(kind, info, text)
        elif isinstance(info.type, type_inspect.VarTupleType):
            values[info.name] = [line.strip() for line in form.get(info.name, "").splitlines() if line.strip()]
        else:
            values[info.name] = text
    return validated_settings(kind, values)


def validated_settings(kind: LayoutKind, values: Mapping[str, Any]) -> LayoutSettings:
    """Settings from a mapping (a stored row or a form), missing keys taking their defaults."""
    try:
        settings = msgspec.convert(dict(values), SETTINGS_TYPES[kind])
    except msgspec.ValidationError as error:
        raise LayoutInvalid(kind, _failed_field(kind, error)) from None
    if isinstance(settings, StickerSettings):
        _check_sheet_fits(settings)
    return settings


def _check_sheet_fits(settings: StickerSettings) -> None:
    """The label grid must lie on the sheet, or the printer would drop the outer labels."""
    if settings.sheet == "roll":
        return
    sheet_width, sheet_height = SHEET_SIZES_MM[settings.sheet]
    width = settings.margin_left_mm + settings.columns * settings.sticker_width_mm + (
        settings.columns - 1) * settings.gap_x_mm
    height = settings.margin_top_mm + settings.rows * settings.sticker_height_mm + (
        settings.rows - 1) * settings.gap_y_mm
    if width > sheet_width:
        raise LayoutInvalid(LayoutKind.READING_STICKER, "sticker_width_mm", (
            f"左余白＋列数×幅＋間隔が {settings.sheet} の幅 {sheet_width:g} mm に収まる値（現在 {width:.1f} mm）",
            f"a value for which margin + columns × width + gaps fit the {settings.sheet} width of "
            f"{sheet_width:g} mm (now {width:.1f} mm)"))
    if height > sheet_height:
        raise LayoutInvalid(LayoutKind.READING_STICKER, "sticker_height_mm", (
            f"上余白＋行数×高さ＋間隔が {settings.sheet} の高さ {sheet_height:g} mm に収まる値（現在 {height:.1f} mm）",
            f"a value for which margin + rows × height + gaps fit the {settings.sheet} height of "
            f"{sheet_height:g} mm (now {height:.1f} mm)"))


async def load_layout(cursor: AsyncCursor, service_point_id: int, kind: LayoutKind) -> Any:
    """A branch's settings for one kind of document: its saved row, or the defaults."""
    await cursor.execute("SELECT settings FROM print_layout WHERE service_point_id = %s AND kind = %s",
                         [service_point_id, kind.value])
    row = await cursor.fetchone()
    return validated_settings(kind, row[0] if row else {})


async def save_layout(cursor: AsyncCursor, service_point_id: int, kind: LayoutKind, settings: LayoutSettings) -> None:
    await cursor.execute(
        """INSERT INTO print_layout (service_point_id, kind, settings) VALUES (%s, %s, %s)
           ON CONFLICT (service_point_id, kind) DO UPDATE SET settings = EXCLUDED.settings""",
        [service_point_id, kind.value, Jsonb(msgspec.to_builtins(settings))])
