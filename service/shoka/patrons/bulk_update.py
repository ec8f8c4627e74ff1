"""Bulk update of patrons from a CSV file (一括更新): a dry run that shows every change and every rejected
line, then the same file applied all-or-nothing.

The file: UTF-8 with or without BOM, or Shift_JIS (cp932) as Excel writes it; comma-separated, the first
line a header. The column `card` (カード番号) is required; any of these may follow, in any order:

  category (利用者区分)      a category code or its Japanese or English name (adult, 一般, ...)
  home_branch (登録館)       a service point code or its Japanese or English name
  expires_on (有効期限)      2028-03-31 or 2028/3/31
  status (状態)              active / suspended / card_lost, or 有効 / 停止 / 紛失
  phone (電話番号), email (メールアドレス), postal_code (郵便番号), address (住所), staff_note (職員メモ)

An empty cell leaves the value as it is. A line is rejected with its line number and reason when the card
is unknown, replaced or merged, appears twice, or a value is invalid. Applying re-reads the patrons under
lock and recomputes the plan; it is written only when that plan is exactly the previewed one (same file,
same current values) and has no rejected line, in one transaction with one operation-log entry
("patron.bulk_update": counts, the file's digest, the patrons' ids) and the engine's patron events.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import msgspec
from psycopg import AsyncConnection, AsyncCursor

from shoka.audit import Actor, record_operation
from shoka.circulation.desk import Changes
from shoka.errors import Conflict, Unprocessable
from shoka.patrons.patron_fields import (FIELD_LIMITS, FieldProblem, check_email, check_expiry, check_phone,
                                         check_postal_code, normalise, normalise_card)
from shoka.patrons.registry import Editor, PatronVocabulary, publish_patrons

LARGEST_UPLOAD = 2 * 1024 * 1024
MOST_LINES = 20_000
MEMBERSHIP_COLUMNS = ("category", "home_branch", "expires_on", "status")
PERSONAL_COLUMNS = ("phone", "email", "postal_code", "address", "staff_note")
BULK_COLUMNS = MEMBERSHIP_COLUMNS + PERSONAL_COLUMNS
_HEADER_ALIASES = {"カード番号": "card", "利用者番号": "card", "利用者区分": "category", "登録館": "home_branch",
                   "有効期限": "expires_on", "状態": "status", "電話番号": "phone", "メールアドレス": "email",
                   "郵便番号": "postal_code", "住所": "address", "職員メモ": "staff_note"}
_STATUS_WORDS = {"active": "active", "有効": "active", "suspended": "suspended", "停止": "suspended",
                 "貸出停止": "suspended", "card_lost": "card_lost", "紛失": "card_lost"}


class BulkFileRefused(Unprocessable):
    """The file as a whole cannot be read (encoding, header, size)."""

    code = "invalid_bulk_file"


class FieldChange(msgspec.Struct, frozen=True, array_like=True):
    field: str
    old: str
    new: str


class LinePlan(msgspec.Struct, frozen=True):
    line: int
    card: str
    patron_id: int | None
    changes: list[FieldChange]
    error: FieldProblem | None = None


class BulkPlan(msgspec.Struct, frozen=True):
    file_digest: str
    encoding: str
    columns: list[str]
    lines: list[LinePlan]

    @property
    def rejected(self) -> list[LinePlan]:
        return [line for line in self.lines if line.error is not None]

    @property
    def changed(self) -> list[LinePlan]:
        return [line for line in self.lines if line.error is None and line.changes]

    @property
    def unchanged(self) -> list[LinePlan]:
        return [line for line in self.lines if line.error is None and not line.changes]

    @property
    def plan_digest(self) -> str:
        """Names exactly what applying would write, given the values the patrons have now."""
        return hashlib.sha256(msgspec.json.encode([self.file_digest, self.lines])).hexdigest()


def decode_upload(data: bytes) -> tuple[str, str]:
    if len(data) > LARGEST_UPLOAD:
        raise BulkFileRefused(f"ファイルが大きすぎます（{LARGEST_UPLOAD // 1024 // 1024} MB まで）。/ "
                              f"The file is too large (at most {LARGEST_UPLOAD // 1024 // 1024} MB).")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "Shift_JIS"
    except UnicodeDecodeError:
        raise BulkFileRefused("文字コードを判別できません。UTF-8 または Shift_JIS の CSV にしてください。/ "
                              "The file is neither UTF-8 nor Shift_JIS; save it as CSV in one of them.") from None


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header's columns and each data line (its number in the file, its cells by column)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise BulkFileRefused("ファイルが空です。/ The file is empty.") from None
    columns = []
    for cell in header:
        name = normalise(cell)
        name = _HEADER_ALIASES.get(name, name.lower())
        if name != "card" and name not in BULK_COLUMNS:
            raise BulkFileRefused(f"1行目: 列「{cell}」は使えません。使える列: card, {', '.join(BULK_COLUMNS)}。/ "
                                  f"line 1: unknown column {cell!r}; use card, {', '.join(BULK_COLUMNS)}.")
        if name in columns:
            raise BulkFileRefused(f"1行目: 列「{cell}」が重複しています。/ line 1: column {cell!r} appears twice.")
        columns.append(name)
    if "card" not in columns:
        raise BulkFileRefused("1行目に card（カード番号）列が必要です。/ line 1 must have a card column.")
    rows = []
    next_line = reader.line_num + 1
    try:
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                rows.append((line, {"": "too_many_cells"}))
                continue
            rows.append((line, dict(zip(columns, cells))))
            if len(rows) > MOST_LINES:
                raise BulkFileRefused(f"行数が多すぎます（{MOST_LINES}行まで）。/ Too many lines (at most {MOST_LINES}).")
    except csv.Error as problem:
        raise BulkFileRefused(f"{next_line}行目: CSV として読めません（{problem}）。/ line {next_line}: "
                              f"not valid CSV ({problem}).") from None
    return columns, rows


def _lookup(text: str, choices: dict[str, tuple[str, ...]]) -> str | None:
    wanted = normalise(text).casefold()
    return next((code for code, names in choices.items() if wanted in (name.casefold() for name in names)), None)


def _new_value(column: str, cell: str, vocabulary: PatronVocabulary, today: dt.date) -> tuple[str, FieldProblem | None]:
    if column == "category":
        code = _lookup(cell, {c.code: (c.code, c.name_ja, c.name_en) for c in vocabulary.categories.values()})
        return code or "", None if code else FieldProblem(f"利用者区分「{cell}」はありません。", f"No category {cell!r}.")
    if column == "home_branch":
        code = _lookup(cell, {b.code: (b.code, b.name_ja, b.name_en) for b in vocabulary.branches.values()})
        return code or "", None if code else FieldProblem(f"登録館「{cell}」はありません。", f"No branch {cell!r}.")
    if column == "expires_on":
        day, problem = check_expiry(cell, today, allow_past=True)
        return (day.isoformat() if day else ""), problem
    if column == "status":
        status = _STATUS_WORDS.get(normalise(cell).casefold())
        return status or "", None if status else FieldProblem(
            f"状態「{cell}」は使えません（active / suspended / card_lost）。",
            f"Status {cell!r} is not one of active / suspended / card_lost.")
    checks = {"phone": check_phone, "email": check_email, "postal_code": check_postal_code}
    if column in checks:
        return checks[column](cell)
    value = " ".join(normalise(cell).split()) if column == "address" else cell.strip()
    if len(value) > FIELD_LIMITS[column]:
        return value, FieldProblem(f"{FIELD_LIMITS[column]}文字以内にしてください。",
                                   f"Use at most {FIELD_LIMITS[column]} characters.")
    return value, None


_CURRENT = """
SELECT p.card, p.id, p.category, sp.code, p.expires_on::text, p.status, pp.phone, pp.email, pp.postal_code,
       pp.address, pp.staff_note, pp.patron_id IS NOT NULL, target.card
FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id
LEFT JOIN patron_personal pp ON pp.patron_id = p.id
LEFT JOIN patron target ON target.id = p.merged_into_id
WHERE p.card = ANY(%s)"""


def _rejected(line: int, card: str, patron_id: int | None, ja: str, en: str) -> LinePlan:
    return LinePlan(line=line, card=card, patron_id=patron_id, changes=[], error=FieldProblem(ja, en))


async def plan_bulk_update(cursor: AsyncCursor, data: bytes, vocabulary: PatronVocabulary,
                           today: dt.date) -> BulkPlan:
    text, encoding = decode_upload(data)
    columns, rows = read_rows(text)
    cards = [normalise_card(cells.get("card", "")) for _line, cells in rows]
    await cursor.execute(_CURRENT, [cards])
    current = {row[0]: row[1:] for row in await cursor.fetchall()}
    await cursor.execute("SELECT h.card, p.card FROM patron_card_history h JOIN patron p ON p.id = h.patron_id "
                         "WHERE h.card = ANY(%s)", [cards])
    replaced = dict(await cursor.fetchall())
    first_line_of: dict[str, int] = {}
    plans = []
    for (line, cells), card in zip(rows, cards):
        if "" in cells:
            plans.append(_rejected(line, card, None, "見出しより列が多い行です。", "The line has more cells than the header."))
            continue
        if not card:
            plans.append(_rejected(line, card, None, "カード番号が空です。", "The card number is empty."))
            continue
        if card in first_line_of:
            plans.append(_rejected(line, card, None, f"このカードは{first_line_of[card]}行目にもあります。",
                                   f"This card is also on line {first_line_of[card]}."))
            continue
        first_line_of[card] = line
        if card not in current:
            if card in replaced:
                plans.append(_rejected(line, card, None, f"旧カードです。現在のカード {replaced[card]} で指定してください。",
                                       f"This card was replaced; use the current card {replaced[card]}."))
            else:
                plans.append(_rejected(line, card, None, "このカードの利用者は登録されていません。",
                                       "No patron has this card."))
            continue
        patron_id, *values, has_personal, merged_into = current[card]
        old_values = dict(zip(BULK_COLUMNS, values))
        if old_values["status"] == "merged":
            plans.append(_rejected(line, card, patron_id, f"統合済みの登録です（統合先 {merged_into}）。",
                                   f"This record was merged into {merged_into}."))
            continue
        changes, problems = [], []
        for column in BULK_COLUMNS:
            cell = cells.get(column, "")
            if not cell.strip():
                continue
            new, problem = _new_value(column, cell, vocabulary, today)
            if problem:
                problems.append((column, problem))
            elif column in PERSONAL_COLUMNS and not has_personal:
                problems.append((column, FieldProblem("個人情報の登録がない利用者です。", "The patron has no personal record.")))
            elif new != (old_values[column] or ""):
                changes.append(FieldChange(column, old_values[column] or "", new))
        if problems:
            plans.append(_rejected(line, card, patron_id, "; ".join(f"{column}: {p.ja}" for column, p in problems),
                                   "; ".join(f"{column}: {p.en}" for column, p in problems)))
        else:
            plans.append(LinePlan(line=line, card=card, patron_id=patron_id, changes=changes))
    return BulkPlan(file_digest=hashlib.sha256(data).hexdigest(), encoding=encoding, columns=columns, lines=plans)


async def preview_bulk_update(connection: AsyncConnection, data: bytes, vocabulary: PatronVocabulary, *,
                              actor: Actor, today: dt.date) -> BulkPlan:
    """The dry run: what applying the file would change; writes nothing but the log entry of the preview."""
    async with connection.transaction(), connection.cursor() as cursor:
        plan = await plan_bulk_update(cursor, data, vocabulary, today)
        await record_operation(cursor, actor, "patron.bulk_preview", "patron", None, _counts(plan))
    return plan


def _counts(plan: BulkPlan) -> dict:
    return {"file_digest": plan.file_digest, "lines": len(plan.lines), "changed": len(plan.changed),
            "unchanged": len(plan.unchanged), "rejected": len(plan.rejected)}


async def apply_bulk_update(connection: AsyncConnection, replica, data: bytes, *, previewed_plan_digest: str,
                            vocabulary: PatronVocabulary, editor: Editor, today: dt.date, now: dt.datetime) -> BulkPlan:
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        _columns, rows = read_rows(decode_upload(data)[0])
        await cursor.execute("SELECT id FROM patron WHERE card = ANY(%s) ORDER BY id FOR UPDATE",
                             [[normalise_card(cells.get("card", "")) for _line, cells in rows]])
        plan = await plan_bulk_update(cursor, data, vocabulary, today)
        if plan.plan_digest != previewed_plan_digest:
            raise Conflict("確認（ドライラン）の後にファイルか利用者の登録内容が変わりました。もう一度確認してください。/ "
                           "The file or the patrons changed since the dry run; run the dry run again.",
                           code="bulk_plan_changed")
        if plan.rejected:
            lines = ", ".join(str(line.line) for line in plan.rejected[:20])
            raise Unprocessable(f"エラーの行（{lines}）があるため、何も更新していません。エラーの行を直すか削除して、"
                                f"もう一度確認してください。/ Nothing was written: lines {lines} were rejected; fix or "
                                "remove them and run the dry run again.", code="bulk_has_rejected_lines")
        await _write_changes(cursor, plan.changed, vocabulary, now)
        await publish_patrons(cursor, changes, [line.patron_id for line in plan.changed
                                                if any(change.field in MEMBERSHIP_COLUMNS for change in line.changes)])
        await record_operation(cursor, editor.actor, "patron.bulk_update", "patron", None,
                               {**_counts(plan), "patron_ids": [line.patron_id for line in plan.changed]})
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return plan


async def _write_changes(cursor: AsyncCursor, lines: list[LinePlan], vocabulary: PatronVocabulary,
                         now: dt.datetime) -> None:
    """Two statements for the whole file: each column an array over the patrons, NULL where a line leaves
    the value as it is (a bulk file never empties a field)."""
    def column(name: str) -> list[str | None]:
        return [next((change.new for change in line.changes if change.field == name), None) for line in lines]

    ids = [line.patron_id for line in lines]
    homes = [vocabulary.branches[code].id if code else None for code in column("home_branch")]
    await cursor.execute(
        """UPDATE patron p SET category = coalesce(v.category, p.category),
                  home_service_point_id = coalesce(v.home, p.home_service_point_id),
                  expires_on = coalesce(v.expires_on, p.expires_on), status = coalesce(v.status, p.status),
                  updated_at = %s
           FROM unnest(%s::bigint[], %s::text[], %s::smallint[], %s::date[], %s::text[])
                AS v(id, category, home, expires_on, status)
           WHERE p.id = v.id""",
        [now, ids, column("category"), homes, column("expires_on"), column("status")])
    assignments = ", ".join(f"{name} = coalesce(v.{name}, pp.{name})" for name in PERSONAL_COLUMNS)
    await cursor.execute(
        f"""UPDATE patron_personal pp SET {assignments}
            FROM unnest(%s::bigint[], {", ".join(["%s::text[]"] * len(PERSONAL_COLUMNS))})
                 AS v(id, {", ".join(PERSONAL_COLUMNS)})
            WHERE pp.patron_id = v.id""", [ids, *(column(name) for name in PERSONAL_COLUMNS)])
