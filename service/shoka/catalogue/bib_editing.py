"""Creating, changing and deleting bibliographic records from the cataloguing screen.

A record is edited as MARC21 (``bib_form_apply`` and ``marc_text`` change a pymarc record); saving turns it into ISO
2709 and reads it back through the import's own reader and extraction (``read_marc``, ``bib_row_from_marc``),
so a record saved here has exactly the columns an imported one would. The row, an operation-log entry and the
outbox event commit together: search follows within a second, as it does after an import.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, NamedTuple

import msgspec
import pymarc
from psycopg import AsyncConnection, AsyncCursor, errors
from psycopg.types.json import Jsonb

from shoka.audit import Actor, record_operation
from shoka.catalogue.bib_form import form_from_record
from shoka.catalogue.bib_record import BIB_RECORD_COLUMNS
from shoka.catalogue.bib_rows import MATERIAL_TYPE_OF_MARC, BibRow, bib_row_from_marc
from shoka.catalogue.form_problems import FormProblems, Problem
from shoka.catalogue.marc_export import record_from_fields
from shoka.catalogue.marc_records import read_marc, record_to_marcxml
from shoka.clock import LIBRARY_TIME_ZONE
from shoka.errors import Conflict, NotFound

SHOKA_CONTROL_SOURCE = "Shoka"
LONGEST_ISO2709_RECORD = 99999
# Columns a save writes. The source stays what it was; Aozora's columns belong to the works-list refresh; a
# record is withdrawn only through deletion (never by a leader/05 typed in the MARC view).
EDITED_COLUMNS = tuple(column for column in BibRow.__struct_fields__
                       if column not in ("source", "aozora_work_id", "aozora_card_url", "aozora_text_url",
                                         "aozora_fingerprint", "is_withdrawn"))
_MATERIAL_TYPE_NAMES = {code: (code, name_ja, name_en) for code, name_ja, name_en in MATERIAL_TYPE_OF_MARC.values()}


class EditableBib(NamedTuple):
    bib_id: int
    source: str
    title: str
    version: str  # updated_at: a save names the version it was made from, so a newer change is never overwritten
    record: pymarc.Record


async def load_bib_for_editing(connection: AsyncConnection, bib_id: int) -> EditableBib:
    row = await (await connection.execute(
        f"SELECT {BIB_RECORD_COLUMNS} FROM bib WHERE id = %s AND NOT is_withdrawn", [bib_id])).fetchone()
    if row is None:
        raise NotFound(f"書誌 {bib_id} はありません。/ Record {bib_id} does not exist.", code="bib_not_found")
    return EditableBib(bib_id=row[0], source=row[1], title=row[2], version=row[24].isoformat(),
                       record=stored_record(row))


def stored_record(row: tuple) -> pymarc.Record:
    """The record as MARC: the one stored (ISO 2709 in any character set, or MARCXML), or for records that never
    had one (the demo library, Aozora e-texts) the MARC that export makes from the catalogue fields."""
    marc_iso2709, marc_xml = row[-2], row[-1]
    if marc_xml is None and marc_iso2709 is not None:
        marc_xml = record_to_marcxml(bytes(marc_iso2709))  # decodes MARC-8 and mislabelled UTF-8 as the import does
    if marc_xml is None:
        record = record_from_fields(row)
    else:
        record = pymarc.parse_xml_to_array(io.BytesIO(marc_xml.encode("utf-8")))[0]
    record.force_utf8 = True
    return record


def catalogue_row(record: pymarc.Record, *, source: str) -> BibRow:
    """The bib row of a record, through the import's reader and extraction; FormProblems when it cannot be saved."""
    record.force_utf8 = True
    data = record.as_marc()
    if len(data) > LONGEST_ISO2709_RECORD:
        raise FormProblems({"marc": Problem(
            f"レコードが {len(data):,} バイトあり、MARC21の上限 99,999 バイトを超えています。",
            f"The record is {len(data):,} bytes; MARC21 allows at most 99,999.")})
    result = read_marc(data, file_name="record")
    if result.rejects:
        reason = result.rejects[0].reason
        raise FormProblems({"marc": Problem(f"このレコードは保存できません（{reason}）。",
                                            f"This record cannot be saved: {reason}.")})
    return msgspec.structs.replace(bib_row_from_marc(result.records[0]), source=source, marc_xml=None)


async def create_bib(connection: AsyncConnection, record: pymarc.Record, *, actor: Actor, now: dt.datetime) -> int:
    """A new record catalogued here: 001 is its id, 003 "Shoka", as MARC export writes them."""
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute("SELECT nextval(pg_get_serial_sequence('bib', 'id'))")
        bib_id = (await cursor.fetchone())[0]
        _set_control_fields(record, now, control_number=str(bib_id))
        row = catalogue_row(record, source="manual")
        await _ensure_material_type(cursor, row.material_type)
        columns = ("id", "source", *EDITED_COLUMNS, "created_at", "updated_at")
        async with _control_number_guard(connection, row):
            await cursor.execute(
                f"INSERT INTO bib ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                [bib_id, row.source, *_values(row), now, now])
        await record_operation(cursor, actor, "bib.create", "bib", bib_id, {"title": row.title})
        await _append_bib_event(cursor, bib_id)
    return bib_id


async def update_bib(connection: AsyncConnection, bib_id: int, record: pymarc.Record, *, loaded: pymarc.Record,
                     version: str, actor: Actor, now: dt.datetime) -> None:
    """Saves ``record`` over the record as it was ``loaded`` (and as ``version`` names it)."""
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute("SELECT source, updated_at, marc_iso2709 IS NULL AND marc_xml IS NULL FROM bib "
                             "WHERE id = %s AND NOT is_withdrawn FOR UPDATE", [bib_id])
        found = await cursor.fetchone()
        if found is None:
            raise NotFound(f"書誌 {bib_id} はありません。/ Record {bib_id} does not exist.", code="bib_not_found")
        source, updated_at, had_no_marc = found
        if updated_at.isoformat() != version:
            raise Conflict(f"書誌 {bib_id} は、この画面を開いた後に他の職員が更新しました。開き直して最新の内容に"
                           f"変更を加えてください。/ Record {bib_id} was changed by someone else after you opened "
                           "it; reopen it and make your change again.", code="bib_changed")
        _set_control_fields(record, now, control_number=None)
        row = catalogue_row(record, source=source)
        await _ensure_material_type(cursor, row.material_type)
        columns = [column for column in EDITED_COLUMNS if column not in _kept_columns(loaded, record, had_no_marc)]
        assignments = ", ".join(f"{column} = %s" for column in columns)
        async with _control_number_guard(connection, row):
            await cursor.execute(f"UPDATE bib SET {assignments}, updated_at = %s WHERE id = %s",
                                 [*_values(row, columns), now, bib_id])
        await record_operation(cursor, actor, "bib.update", "bib", bib_id, {"title": row.title})
        await _append_bib_event(cursor, bib_id)


class DeletionCheck(NamedTuple):
    title: str
    items: int  # copies still in the collection (not withdrawn)
    withdrawn_items: int
    open_holds: int

    @property
    def refusals(self) -> list[Problem]:
        reasons = []
        if self.items:
            reasons.append(Problem(f"所蔵資料が {self.items} 点あります。先に資料を除籍または削除してください。",
                                   f"It still has {self.items} copies; withdraw or delete them first."))
        if self.open_holds:
            reasons.append(Problem(f"受付中の予約が {self.open_holds} 件あります。予約が終わるか取り消されるまで削除できません。",
                                   f"It has {self.open_holds} open holds; it can be deleted once they are closed."))
        return reasons


async def deletion_check(cursor: AsyncCursor, bib_id: int, *, lock: bool = False) -> DeletionCheck:
    await cursor.execute(f"SELECT title FROM bib WHERE id = %s AND NOT is_withdrawn{' FOR UPDATE' if lock else ''}",
                         [bib_id])
    found = await cursor.fetchone()
    if found is None:
        raise NotFound(f"書誌 {bib_id} はありません。/ Record {bib_id} does not exist.", code="bib_not_found")
    await cursor.execute(
        """SELECT (SELECT count(*) FROM item WHERE bib_id = %(id)s AND status <> 'withdrawn'),
                  (SELECT count(*) FROM item WHERE bib_id = %(id)s AND status = 'withdrawn'),
                  (SELECT count(*) FROM hold WHERE bib_id = %(id)s AND status IN ('waiting', 'in_transit', 'ready'))""",
        {"id": bib_id})
    items, withdrawn_items, open_holds = await cursor.fetchone()
    return DeletionCheck(found[0], items, withdrawn_items, open_holds)


async def delete_bib(connection: AsyncConnection, bib_id: int, *, typed_id: str, actor: Actor,
                     now: dt.datetime) -> Literal["deleted", "withdrawn"]:
    """Deletes a record with no copies left and no open holds, once the cataloguer has typed its id.

    A record that loan history, withdrawn copies or closed holds still point at cannot leave the database; it
    is withdrawn instead (hidden from search, the OPAC and the API, kept for the statistics). Either way the
    operation log keeps the id and the title only."""
    if typed_id.strip() != str(bib_id):
        raise FormProblems({"confirm_id": Problem(f"確認のため書誌ID {bib_id} を入力してください。",
                                                  f"Type the record id {bib_id} to confirm.")})
    async with connection.transaction(), connection.cursor() as cursor:
        check = await deletion_check(cursor, bib_id, lock=True)
        if check.refusals:
            raise Conflict(" ".join(f"{reason.ja} / {reason.en}" for reason in check.refusals), code="bib_in_use")
        outcome: Literal["deleted", "withdrawn"] = "deleted"
        try:
            async with connection.transaction():
                await cursor.execute("DELETE FROM bib WHERE id = %s", [bib_id])
        except errors.ForeignKeyViolation:
            outcome = "withdrawn"
            await cursor.execute("UPDATE bib SET is_withdrawn = true, updated_at = %s WHERE id = %s", [now, bib_id])
        await record_operation(cursor, actor, "bib.delete", "bib", bib_id, {"title": check.title, "outcome": outcome})
        await _append_bib_event(cursor, bib_id)
    return outcome


@asynccontextmanager
async def _control_number_guard(connection: AsyncConnection, row: BibRow) -> AsyncIterator[None]:
    """(003, 001) identify a record across imports; a save that would give a second record the same pair is refused."""
    try:
        async with connection.transaction():
            yield
    except errors.UniqueViolation:
        raise Conflict(f"制御番号（003 {row.control_source} / 001 {row.control_number}）は他の書誌で使われています。"
                       f"/ Another record already has control number {row.control_source} {row.control_number}.",
                       code="control_number_taken") from None


def _set_control_fields(record: pymarc.Record, now: dt.datetime, *, control_number: str | None) -> None:
    """001/003 for a new record; 005 (date and time of the latest change, the library's local time) on every save."""
    replacements = {"005": now.astimezone(LIBRARY_TIME_ZONE).strftime("%Y%m%d%H%M%S.0")}
    if control_number is not None:
        replacements.update({"001": control_number, "003": SHOKA_CONTROL_SOURCE})
    for tag, data in replacements.items():
        existing = record.get(tag)
        if existing is not None and existing.control_field:
            existing.data = data
        else:
            record.add_ordered_field(pymarc.Field(tag=tag, data=data))


async def _ensure_material_type(cursor: AsyncCursor, code: str) -> None:
    if code in _MATERIAL_TYPE_NAMES:
        await cursor.execute("INSERT INTO material_type (code, name_ja, name_en) VALUES (%s, %s, %s) "
                             "ON CONFLICT DO NOTHING", list(_MATERIAL_TYPE_NAMES[code]))


def _kept_columns(loaded: pymarc.Record, saved: pymarc.Record, had_no_marc: bool) -> set[str]:
    """Columns finer than MARC that a save leaves alone while their part of the record is unchanged.

    Leader/06 knows "book", the library's vocabulary also 児童書, 紙芝居, 大活字本…: while the broad type stays,
    so does the library's code. A record that never had MARC (the demo library, e-texts) keeps its romanised
    title, which the MARC made from its fields does not carry, until the title itself changes."""
    before, after = form_from_record(loaded), form_from_record(saved)
    kept = set()
    if before.material_type == after.material_type:
        kept.add("material_type")
    if had_no_marc and (before.title, before.title_reading) == (after.title, after.title_reading):
        kept.add("title_romanised")
    return kept


def _values(row: BibRow, columns: tuple[str, ...] | list[str] = EDITED_COLUMNS) -> list[object]:
    return [Jsonb(msgspec.to_builtins(row.authors)) if column == "authors" else getattr(row, column)
            for column in columns]


async def _append_bib_event(cursor: AsyncCursor, bib_id: int) -> None:
    # The transaction's last statement: appending holds the outbox lock until COMMIT (see migration 0001).
    await cursor.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('bib', %s)", [bib_id])
