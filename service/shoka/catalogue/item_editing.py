"""Copies (items) of a record: adding and changing them, and the rules for withdrawing (除籍) and deleting them.

Every change appends an `item` outbox event in the same transaction, so each process's holdings, availability
and circulation engine follow within a second (a new copy can be lent at once). A copy leaves the collection
only when nothing is happening to it: not on loan, not trapped for or named by a hold, not in transit. Deleting
a row is for a copy entered by mistake; once a copy has history (loans, holds, transits), it is withdrawn.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors

from shoka.audit import Actor, record_operation
from shoka.catalogue.form_problems import FormProblems, Problem, ProblemCollector
from shoka.errors import Conflict, NotFound

ITEM_STATUSES = {"in_process": ("準備中", "In process"), "available": ("利用可", "Available"),
                 "lost": ("紛失", "Lost"), "missing": ("所在不明", "Missing"), "damaged": ("破損", "Damaged"),
                 "withdrawn": ("除籍", "Withdrawn")}
LOAN_POLICIES = {"normal": ("貸出可", "Loanable"), "in_library_only": ("館内のみ", "In library only"),
                 "not_loanable": ("貸出不可", "Not loanable")}
HIGHEST_PRICE_YEN = 10_000_000
_BARCODE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_PRICE_DECORATION = re.compile(r"[\s,円¥\\]")


class ItemForm(msgspec.Struct, frozen=True, kw_only=True):
    """The item form as typed (every value a string, so that a refused form shows exactly what was entered)."""

    barcode: str = ""
    branch: str = ""
    shelf_location: str = ""
    call_number: str = ""
    volume: str = ""
    material_type: str = "book"
    loan_policy: str = "normal"
    status: str = "available"
    price: str = ""
    acquired_on: str = ""
    note: str = ""


class ItemValues(msgspec.Struct, frozen=True, kw_only=True):
    barcode: str
    service_point_id: int
    shelf_location_id: int | None
    call_number: str
    volume: str
    material_type: str
    loan_policy: str
    status: str
    price_yen: int | None
    acquired_on: dt.date | None
    note: str


class ItemRow(msgspec.Struct, frozen=True, kw_only=True):
    """A copy as the record page lists it, with what is happening to it now."""

    item_id: int
    bib_id: int
    barcode: str
    branch: str
    shelf_location: str
    call_number: str
    volume: str
    material_type: str
    status: str
    loan_policy: str
    price_yen: int | None
    acquired_on: dt.date | None
    note: str
    version: str
    due_on: dt.date | None
    in_transit_to: str | None
    trapped_for_hold: bool


_ITEM_ROW_SELECT = """
    SELECT i.id, i.bib_id, i.barcode, sp.code, coalesce(sl.code, ''), i.call_number, i.volume, i.material_type,
           i.status, i.loan_policy, i.price_yen, i.acquired_on, i.note, i.updated_at::text, l.due_on, to_sp.code,
           EXISTS (SELECT 1 FROM hold h WHERE h.trapped_item_id = i.id AND h.status IN ('in_transit', 'ready'))
    FROM item i
    JOIN service_point sp ON sp.id = i.service_point_id
    LEFT JOIN shelf_location sl ON sl.id = i.shelf_location_id
    LEFT JOIN loan l ON l.item_id = i.id AND l.returned_at IS NULL
    LEFT JOIN transit tr ON tr.item_id = i.id AND tr.received_at IS NULL
    LEFT JOIN service_point to_sp ON to_sp.id = tr.to_service_point_id"""


async def items_of_bib(connection: AsyncConnection, bib_id: int) -> list[ItemRow]:
    rows = await (await connection.execute(
        _ITEM_ROW_SELECT + " WHERE i.bib_id = %s ORDER BY sp.sort_order, i.barcode", [bib_id])).fetchall()
    return [ItemRow(**dict(zip(ItemRow.__struct_fields__, row))) for row in rows]


async def load_item(connection: AsyncConnection, item_id: int) -> ItemRow:
    row = await (await connection.execute(_ITEM_ROW_SELECT + " WHERE i.id = %s", [item_id])).fetchone()
    if row is None:
        raise NotFound(f"資料 {item_id} はありません。/ Item {item_id} does not exist.", code="item_not_found")
    return ItemRow(**dict(zip(ItemRow.__struct_fields__, row)))


def form_of_item(item: ItemRow) -> ItemForm:
    return ItemForm(barcode=item.barcode, branch=item.branch, shelf_location=item.shelf_location,
                    call_number=item.call_number, volume=item.volume, material_type=item.material_type,
                    loan_policy=item.loan_policy, status=item.status,
                    price="" if item.price_yen is None else str(item.price_yen),
                    acquired_on=item.acquired_on.isoformat() if item.acquired_on else "", note=item.note)


def suggested_call_number(ndc: str | None, author_reading: str | None) -> str:
    """請求記号 as Japanese shelves show it: the NDC number, then the author mark (the reading's first kana)."""
    mark = (author_reading or "").strip()[:1]
    return " ".join(part for part in ((ndc or "").strip(), mark) if part)


async def create_item(connection: AsyncConnection, bib_id: int, form: ItemForm, *, actor: Actor,
                      now: dt.datetime) -> int:
    async with connection.transaction(), connection.cursor() as cursor:
        # The record stays while its copy is added (a deletion waits, then sees the copy and refuses).
        await cursor.execute("SELECT 1 FROM bib WHERE id = %s AND NOT is_withdrawn FOR KEY SHARE", [bib_id])
        if await cursor.fetchone() is None:
            raise NotFound(f"書誌 {bib_id} はありません。/ Record {bib_id} does not exist.", code="bib_not_found")
        values = await check_item_form(cursor, form, item_id=None)
        if values.status == "withdrawn":
            raise FormProblems({"status": Problem("新しい資料は除籍の状態では登録できません。",
                                                  "A new copy cannot be registered as withdrawn.")})
        async with _barcode_guard(connection, values.barcode):
            await cursor.execute(
                """INSERT INTO item (barcode, bib_id, service_point_id, shelf_location_id, call_number, volume,
                                     material_type, status, loan_policy, price_yen, acquired_on, note, created_at,
                                     updated_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                [values.barcode, bib_id, values.service_point_id, values.shelf_location_id, values.call_number,
                 values.volume, values.material_type, values.status, values.loan_policy, values.price_yen,
                 values.acquired_on, values.note, now, now])
            item_id = (await cursor.fetchone())[0]
        await record_operation(cursor, actor, "item.create", "item", item_id,
                               {"barcode": values.barcode, "bib_id": bib_id})
        await _append_item_event(cursor, item_id)
    return item_id


async def update_item(connection: AsyncConnection, item_id: int, form: ItemForm, *, version: str, actor: Actor,
                      now: dt.datetime) -> None:
    async with connection.transaction(), connection.cursor() as cursor:
        before = await _lock_item(cursor, item_id)
        if before["updated_at"] != version:
            raise Conflict(f"資料 {before['barcode']} は、この画面を開いた後に他の職員が更新しました。開き直してください。"
                           f"/ Item {before['barcode']} was changed by someone else; reopen it.", code="item_changed")
        values = await check_item_form(cursor, form, item_id=item_id)
        if values.status == "withdrawn" and before["status"] != "withdrawn":
            await _refuse_if_in_use(cursor, item_id, before["barcode"])
        changed = [name for name, value in msgspec.structs.asdict(values).items() if before[name] != value]
        async with _barcode_guard(connection, values.barcode):
            await cursor.execute(
                """UPDATE item SET barcode = %s, service_point_id = %s, shelf_location_id = %s, call_number = %s,
                                   volume = %s, material_type = %s, status = %s, loan_policy = %s, price_yen = %s,
                                   acquired_on = %s, note = %s, updated_at = %s
                   WHERE id = %s""",
                [values.barcode, values.service_point_id, values.shelf_location_id, values.call_number, values.volume,
                 values.material_type, values.status, values.loan_policy, values.price_yen, values.acquired_on,
                 values.note, now, item_id])
        await record_operation(cursor, actor, "item.update", "item", item_id,
                               {"barcode": values.barcode, "bib_id": before["bib_id"], "changed": changed})
        await _append_item_event(cursor, item_id)


async def withdraw_item(connection: AsyncConnection, item_id: int, *, actor: Actor, now: dt.datetime) -> str:
    """除籍: the copy leaves the collection but keeps its history; returns its barcode."""
    async with connection.transaction(), connection.cursor() as cursor:
        before = await _lock_item(cursor, item_id)
        await _refuse_if_in_use(cursor, item_id, before["barcode"])
        await cursor.execute("UPDATE item SET status = 'withdrawn', updated_at = %s WHERE id = %s", [now, item_id])
        await record_operation(cursor, actor, "item.withdraw", "item", item_id,
                               {"barcode": before["barcode"], "bib_id": before["bib_id"]})
        await _append_item_event(cursor, item_id)
    return before["barcode"]


async def delete_item(connection: AsyncConnection, item_id: int, *, actor: Actor) -> str:
    """Removes a copy that has never been used (entered by mistake); returns its barcode."""
    async with connection.transaction(), connection.cursor() as cursor:
        before = await _lock_item(cursor, item_id)
        await _refuse_if_in_use(cursor, item_id, before["barcode"])
        try:
            async with connection.transaction():
                await cursor.execute("DELETE FROM item WHERE id = %s", [item_id])
        except errors.ForeignKeyViolation:
            raise Conflict(f"資料 {before['barcode']} には貸出・予約・回送などの記録があるため削除できません。除籍してください。"
                           f"/ Item {before['barcode']} has loan, hold or transit history and cannot be deleted; "
                           "withdraw it instead.", code="item_has_history") from None
        await record_operation(cursor, actor, "item.delete", "item", item_id,
                               {"barcode": before["barcode"], "bib_id": before["bib_id"]})
        await _append_item_event(cursor, item_id)
    return before["barcode"]


async def item_refusals(cursor: AsyncCursor, item_id: int) -> list[Problem]:
    """Why the copy cannot be withdrawn or deleted now (empty when it can)."""
    await cursor.execute(
        """SELECT (SELECT due_on FROM loan WHERE item_id = %(id)s AND returned_at IS NULL),
                  EXISTS (SELECT 1 FROM hold WHERE trapped_item_id = %(id)s AND status IN ('in_transit', 'ready')),
                  EXISTS (SELECT 1 FROM hold WHERE item_id = %(id)s AND status = 'waiting'),
                  (SELECT sp.code FROM transit t JOIN service_point sp ON sp.id = t.to_service_point_id
                    WHERE t.item_id = %(id)s AND t.received_at IS NULL)""", {"id": item_id})
    due_on, trapped, named_by_hold, transit_to = await cursor.fetchone()
    reasons = []
    if due_on is not None:
        reasons.append(Problem(f"貸出中です（返却期限 {due_on.isoformat()}）。返却後に処理してください。",
                               f"It is on loan (due {due_on.isoformat()}); do this after it is returned."))
    if trapped:
        reasons.append(Problem("予約の取置または予約のための回送に割り当てられています。",
                               "It is trapped for a hold (on the hold shelf or on its way there)."))
    if named_by_hold:
        reasons.append(Problem("この資料を指定した予約があります。", "A hold asks for this very copy."))
    if transit_to is not None:
        reasons.append(Problem(f"回送中です（{transit_to} 行き）。到着処理の後に処理してください。",
                               f"It is in transit to {transit_to}; do this after it has arrived."))
    return reasons


async def check_item_form(cursor: AsyncCursor, form: ItemForm, *, item_id: int | None) -> ItemValues:
    """The form's values checked against the vocabularies and the other copies; FormProblems names each field."""
    problems = ProblemCollector()
    barcode = unicodedata.normalize("NFKC", form.barcode).strip()
    if not _BARCODE.match(barcode):
        problems.add("barcode", "資料番号は半角英数字とハイフン32文字以内で入力してください。",
                     "Enter the barcode: up to 32 letters, digits or hyphens.")
    else:
        await cursor.execute("SELECT bib_id FROM item WHERE barcode = %s AND id IS DISTINCT FROM %s",
                             [barcode, item_id])
        if (taken := await cursor.fetchone()) is not None:
            problems.add("barcode", f"資料番号 {barcode} はすでに書誌 {taken[0]} の資料に使われています。",
                         f"Barcode {barcode} is already used by a copy of record {taken[0]}.")
    await cursor.execute("SELECT id FROM service_point WHERE code = %s", [form.branch])
    branch = await cursor.fetchone()
    shelf_id = None
    if branch is None:
        problems.add("branch", "所蔵館を選んでください。", "Choose the branch that holds the copy.")
    elif form.shelf_location:
        await cursor.execute("SELECT id FROM shelf_location WHERE service_point_id = %s AND code = %s",
                             [branch[0], form.shelf_location])
        shelf = await cursor.fetchone()
        if shelf is None:
            problems.add("shelf_location", "この配架場所は選んだ所蔵館にありません。", "That shelf location is not at the chosen branch.")
        else:
            shelf_id = shelf[0]
    await cursor.execute("SELECT 1 FROM material_type WHERE code = %s", [form.material_type])
    if await cursor.fetchone() is None:
        problems.add("material_type", "資料種別を選んでください。", "Choose a material type.")
    if form.loan_policy not in LOAN_POLICIES:
        problems.add("loan_policy", "貸出区分を選んでください。", "Choose a loan policy.")
    if form.status not in ITEM_STATUSES:
        problems.add("status", "状態を選んでください。", "Choose a status.")
    price = _price(form.price, problems)
    acquired_on = _date(form.acquired_on, problems)
    for name, limit in (("call_number", 64), ("volume", 64), ("note", 1000)):
        if len(getattr(form, name)) > limit:
            problems.add(name, f"{limit}文字以内で入力してください。", f"Use at most {limit} characters.")
    problems.raise_if_any()
    return ItemValues(barcode=barcode, service_point_id=branch[0], shelf_location_id=shelf_id,
                      call_number=unicodedata.normalize("NFKC", form.call_number).strip(),
                      volume=unicodedata.normalize("NFKC", form.volume).strip(), material_type=form.material_type,
                      loan_policy=form.loan_policy, status=form.status, price_yen=price, acquired_on=acquired_on,
                      note=form.note.strip())


def _price(text: str, problems: ProblemCollector) -> int | None:
    digits = _PRICE_DECORATION.sub("", unicodedata.normalize("NFKC", text))
    if not digits:
        return None
    if not digits.isdigit() or int(digits) > HIGHEST_PRICE_YEN:
        problems.add("price", "価格は円単位の数字で入力してください（例: 1700）。", "Enter the price in yen as a number (e.g. 1700).")
        return None
    return int(digits)


def _date(text: str, problems: ProblemCollector) -> dt.date | None:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        return None
    found = _DATE.match(cleaned)
    try:
        if found is None:
            raise ValueError(cleaned)
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        problems.add("acquired_on", "受入日は 2024-04-01 の形で入力してください。", "Enter the acquisition date as 2024-04-01.")
        return None


async def _lock_item(cursor: AsyncCursor, item_id: int) -> dict:
    """Locks the copy's record, then the copy — the order checkout takes them in, so the two never deadlock."""
    await cursor.execute(
        """SELECT i.bib_id, i.barcode, i.service_point_id, i.shelf_location_id, i.call_number, i.volume,
                  i.material_type, i.status, i.loan_policy, i.price_yen, i.acquired_on, i.note, i.updated_at::text
           FROM bib b JOIN item i ON i.bib_id = b.id WHERE i.id = %s FOR NO KEY UPDATE OF b FOR UPDATE OF i""",
        [item_id])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"資料 {item_id} はありません。/ Item {item_id} does not exist.", code="item_not_found")
    return dict(zip(("bib_id", "barcode", "service_point_id", "shelf_location_id", "call_number", "volume",
                     "material_type", "status", "loan_policy", "price_yen", "acquired_on", "note", "updated_at"), row))


async def _refuse_if_in_use(cursor: AsyncCursor, item_id: int, barcode: str) -> None:
    reasons = await item_refusals(cursor, item_id)
    if reasons:
        raise Conflict(f"資料 {barcode} は除籍・削除できません: " + " ".join(reason.ja for reason in reasons) +
                       f" / Item {barcode} cannot be withdrawn or deleted: " +
                       " ".join(reason.en for reason in reasons),
                       code="item_in_use")


@asynccontextmanager
async def _barcode_guard(connection: AsyncConnection, barcode: str) -> AsyncIterator[None]:
    """Two desks adding one barcode at the same moment: the unique index decides, the other gets the field error."""
    try:
        async with connection.transaction():
            yield
    except errors.UniqueViolation:
        raise FormProblems({"barcode": Problem(f"資料番号 {barcode} はすでに使われています。",
                                               f"Barcode {barcode} is already in use.")}) from None


async def _append_item_event(cursor: AsyncCursor, item_id: int) -> None:
    # The transaction's last statement: appending holds the outbox lock until COMMIT (see migration 0001).
    await cursor.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('item', %s)", [item_id])
