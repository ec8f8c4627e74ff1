"""Reading the Aozora Bunko works list into e-text records, and the yearly refresh as a diff.

Aozora Bunko publishes its catalogue as a CSV with one row per person × work: a translated work appears once
for its author and once for its translator. Two shapes exist and both are accepted, told apart by the header:
the older 14-column 作家別作品一覧 (list_person_all.csv) and the 55-column extended list that aozora.gr.jp
publishes today (list_person_all_extended_utf8.zip). Either may be zipped or not, UTF-8 with or without a BOM,
or Shift_JIS (read as cp932, which is what Windows tools write when they say Shift_JIS).

``read_aozora_list`` merges the rows into one ``AozoraWork`` per 作品ID and reports rows it could not use with
their line numbers. ``diff_aozora`` compares a fresh list with the fingerprints stored at the last import, so
the refresh is an idempotent upsert that says what was added, changed and withdrawn.
"""

from __future__ import annotations

import csv
import datetime
import enum
import hashlib
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import msgspec

from shoka.errors import ShokaError

CARD_URL_TEMPLATE = "https://www.aozora.gr.jp/cards/{person_id:06d}/card{work_id}.html"
# The extended list unzips to about 20 MB; anything far larger is not an Aozora list (or is a zip bomb).
_LARGEST_ACCEPTED_CSV_BYTES = 256 * 1024 * 1024

_PERSON_LIST_COLUMNS = ("人物ID", "著者名", "作品ID", "作品名", "仮名遣い種別", "翻訳者名等", "入力者名", "校正者名",
                        "状態", "状態の開始日", "底本名", "出版社名", "入力に使用した版", "校正に使用した版")
_EXTENDED_LIST_REQUIRED_COLUMNS = (
    "作品ID", "作品名", "作品名読み", "ソート用読み", "副題", "副題読み", "原題", "初出", "分類番号", "文字遣い種別",
    "作品著作権フラグ", "公開日", "最終更新日", "図書カードURL", "人物ID", "姓", "名", "姓読み", "名読み",
    "姓ローマ字", "名ローマ字", "役割フラグ", "生年月日", "没年月日", "底本名1", "底本出版社名1", "底本初版発行年1",
    "入力に使用した版1", "校正に使用した版1", "底本名2", "底本出版社名2", "底本初版発行年2", "入力に使用した版2",
    "校正に使用した版2", "入力者", "校正者", "テキストファイルURL", "XHTML/HTMLファイルURL",
)


class AozoraListFormat(enum.StrEnum):
    PERSON_LIST_14_COLUMNS = "list_person_all"  # 作家別作品一覧, the older list
    EXTENDED_LIST_55_COLUMNS = "list_person_all_extended"


class AozoraRole(enum.StrEnum):
    """役割フラグ: what a person did for a work."""

    AUTHOR = "著者"
    TRANSLATOR = "翻訳者"
    EDITOR = "編者"
    REVISER = "校訂者"
    OTHER = "その他"


class KanaUsage(enum.StrEnum):
    """文字遣い種別 (仮名遣い種別 in the older list): old or new kanji forms × historical or modern kana."""

    NEW_KANJI_NEW_KANA = "新字新仮名"
    NEW_KANJI_OLD_KANA = "新字旧仮名"
    OLD_KANJI_OLD_KANA = "旧字旧仮名"
    OLD_KANJI_NEW_KANA = "旧字新仮名"
    OTHER = "その他"


class AozoraPerson(msgspec.Struct, frozen=True, kw_only=True):
    person_id: int
    name: str  # family and given name separated by a space, as Aozora writes it
    reading: str | None  # hiragana; only the extended list has it
    romanised: str | None
    role: AozoraRole
    born: str | None  # as given, usually YYYY-MM-DD
    died: str | None


class AozoraSourceBook(msgspec.Struct, frozen=True, kw_only=True):
    """底本: the printed book the e-text was typed from."""

    title: str
    publisher: str | None
    first_edition: str | None
    edition_used_for_input: str | None
    edition_used_for_proofreading: str | None


class AozoraWork(msgspec.Struct, frozen=True, kw_only=True):
    work_id: int
    title: str
    title_reading: str | None
    sort_reading: str | None  # Aozora's folded reading for Japanese sort order
    subtitle: str | None
    subtitle_reading: str | None
    original_title: str | None
    first_appearance: str | None  # 初出
    ndc: str | None  # first class, e.g. "913"
    ndc_classes: list[str]  # all classes in 分類番号 ("NDC 914 915" → ["914", "915"])
    is_childrens: bool  # a "K" class: children's literature
    kana_usage: KanaUsage | None
    copyrighted: bool  # 作品著作権フラグ "あり"
    is_published: bool
    status: str  # 状態 of the older list ("公開", "作業中"…); "公開" for the extended list
    published_on: datetime.date | None
    updated_on: datetime.date | None
    card_url: str
    text_url: str | None
    html_url: str | None
    persons: list[AozoraPerson]  # authors first, then translators, editors…; by person ID within a role
    translator_text: str | None  # 翻訳者名等 of the older list, as written
    source_books: list[AozoraSourceBook]
    inputters: str | None
    proofreaders: str | None


class AozoraReject(msgspec.Struct, frozen=True, kw_only=True):
    file_name: str
    line_number: int  # physical line in the CSV where the row starts (the header is line 1)
    work_id: int | None
    reason: str

    def describe(self) -> str:
        work = f" (作品ID {self.work_id})" if self.work_id is not None else ""
        return f"{self.file_name}: line {self.line_number}{work}: {self.reason}"


class AozoraListResult(msgspec.Struct, frozen=True, kw_only=True):
    file_name: str
    list_format: AozoraListFormat
    encoding: str  # "utf-8-sig" (with BOM), "utf-8" or "cp932"
    row_count: int  # data rows read, rejected ones included
    works: list[AozoraWork]
    rejects: list[AozoraReject]


class AozoraUpsert(msgspec.Struct, frozen=True, kw_only=True):
    work: AozoraWork
    fingerprint: str


class AozoraDiff(msgspec.Struct, frozen=True, kw_only=True):
    added: list[AozoraUpsert]
    changed: list[AozoraUpsert]
    withdrawn: list[int]  # work IDs stored before and absent from the new list
    unchanged: list[int]


class AozoraListError(ShokaError):
    """The file as a whole is not a readable Aozora Bunko works list."""

    code = "invalid_aozora_list"


class _RowProblem(Exception):
    pass


def read_aozora_list(source: bytes | str | os.PathLike[str], *, file_name: str | None = None) -> AozoraListResult:
    """Read a works list (.csv or a .zip holding one .csv) given as a path or as the file's bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), file_name or "<bytes>"
    else:
        data, name = Path(source).read_bytes(), file_name or Path(source).name
    if data.startswith(b"PK\x03\x04"):
        data = _single_csv_in_zip(data, name)
    text, encoding = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip() for column in next(reader, [])]
    list_format = _list_format(header, name)
    columns = {column: index for index, column in enumerate(header)}
    builder = _WorkBuilder(list_format, columns, name)
    row_count = 0
    line_number = reader.line_num + 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                row_count += 1
                builder.add_row(row, line_number, len(header))
            line_number = reader.line_num + 1
    except csv.Error as error:
        raise AozoraListError(f"{name}: line {line_number}: the CSV is malformed ({error}); "
                              "the file is cut short or not a CSV") from None
    return AozoraListResult(file_name=name, list_format=list_format, encoding=encoding, row_count=row_count,
                            works=builder.works(), rejects=builder.rejects)


def work_fingerprint(work: AozoraWork) -> str:
    """A stable hash of everything stored for a work: equal fingerprints mean nothing to update."""
    return hashlib.sha256(msgspec.json.encode(work, order="deterministic")).hexdigest()


def diff_aozora(existing: Mapping[int, str], incoming: Iterable[AozoraWork]) -> AozoraDiff:
    """Compare a new list with the work ID → fingerprint map saved at the previous import."""
    added: list[AozoraUpsert] = []
    changed: list[AozoraUpsert] = []
    unchanged: list[int] = []
    seen: set[int] = set()
    for work in incoming:
        if work.work_id in seen:
            raise ValueError(f"作品ID {work.work_id} appears twice in the incoming works; merge rows first")
        seen.add(work.work_id)
        fingerprint = work_fingerprint(work)
        if work.work_id not in existing:
            added.append(AozoraUpsert(work=work, fingerprint=fingerprint))
        elif existing[work.work_id] != fingerprint:
            changed.append(AozoraUpsert(work=work, fingerprint=fingerprint))
        else:
            unchanged.append(work.work_id)
    withdrawn = sorted(work_id for work_id in existing if work_id not in seen)
    return AozoraDiff(added=added, changed=changed, withdrawn=withdrawn, unchanged=unchanged)


def _single_csv_in_zip(data: bytes, name: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [member for member in archive.infolist() if member.filename.lower().endswith(".csv")
                       and not member.filename.startswith("__MACOSX/")]
            if len(members) != 1:
                raise AozoraListError(f"{name}: the zip should hold one .csv file but holds {len(members)}.")
            if members[0].file_size > _LARGEST_ACCEPTED_CSV_BYTES:
                raise AozoraListError(f"{name}: {members[0].filename} unpacks to {members[0].file_size:,} bytes, "
                                      "far more than an Aozora works list.")
            return archive.read(members[0])
    except (zipfile.BadZipFile, EOFError) as error:
        raise AozoraListError(f"{name}: the zip file is damaged ({error}).") from None


def _decode(data: bytes, name: str) -> tuple[str, str]:
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as error:
        raise AozoraListError(f"{name}: the file is neither UTF-8 nor Shift_JIS (cp932): "
                              f"undecodable byte at offset {error.start}.") from None


def _list_format(header: list[str], name: str) -> AozoraListFormat:
    if all(column in header for column in _EXTENDED_LIST_REQUIRED_COLUMNS):
        return AozoraListFormat.EXTENDED_LIST_55_COLUMNS
    if all(column in header for column in _PERSON_LIST_COLUMNS):
        return AozoraListFormat.PERSON_LIST_14_COLUMNS
    shown = ",".join(header[:6])
    raise AozoraListError(f"{name}: the header ({shown}…) is neither the 14-column 作家別作品一覧 nor the 55-column "
                          "extended list of Aozora Bunko.")


class _WorkBuilder:
    """Collects rows into works; the first row of a work gives its work-level fields."""

    def __init__(self, list_format: AozoraListFormat, columns: dict[str, int], file_name: str) -> None:
        self.list_format = list_format
        self.columns = columns
        self.file_name = file_name
        self.rejects: list[AozoraReject] = []
        self._first_rows: dict[int, tuple[int, list[str]]] = {}
        self._persons: dict[int, list[AozoraPerson]] = {}

    def add_row(self, row: list[str], line_number: int, column_count: int) -> None:
        work_id = None
        try:
            if len(row) != column_count:
                raise _RowProblem(f"expected {column_count} columns but found {len(row)}; "
                                  "a comma inside a field is probably not quoted")
            work_id = _identifier(self._cell(row, "作品ID"), "作品ID")
            person_id = _identifier(self._cell(row, "人物ID"), "人物ID")
            if not self._cell(row, "作品名"):
                raise _RowProblem("作品名 (the title) is empty")
            if work_id in self._first_rows:
                first_line, first_row = self._first_rows[work_id]
                if self._cell(first_row, "作品名") != self._cell(row, "作品名"):
                    raise _RowProblem(f"作品名 {self._cell(row, '作品名')!r} differs from "
                                      f"{self._cell(first_row, '作品名')!r} on line {first_line} for the same 作品ID")
            else:
                self._check_dates(row)
            person = self._person(row, person_id)
        except _RowProblem as problem:
            self.rejects.append(AozoraReject(file_name=self.file_name, line_number=line_number, work_id=work_id,
                                             reason=str(problem)))
            return
        self._first_rows.setdefault(work_id, (line_number, row))
        persons = self._persons.setdefault(work_id, [])
        if not any(p.person_id == person.person_id and p.role == person.role for p in persons):
            persons.append(person)

    def works(self) -> list[AozoraWork]:
        return [self._work(work_id, row) for work_id, (_, row) in self._first_rows.items()]

    def _cell(self, row: list[str], column: str) -> str:
        index = self.columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    def _optional(self, row: list[str], column: str) -> str | None:
        return self._cell(row, column) or None

    def _check_dates(self, row: list[str]) -> None:
        for column in ("公開日", "最終更新日", "状態の開始日"):
            _date(self._cell(row, column), column)

    def _person(self, row: list[str], person_id: int) -> AozoraPerson:
        if self.list_format is AozoraListFormat.PERSON_LIST_14_COLUMNS:
            name = self._cell(row, "著者名")
            # The older list names every person of a row in 著者名; 翻訳者名等 says which of them translated.
            translators = {_name_key(part) for part in re.split(r"[、,，]", self._cell(row, "翻訳者名等"))}
            role = AozoraRole.TRANSLATOR if _name_key(name) in translators else AozoraRole.AUTHOR
            return AozoraPerson(person_id=person_id, name=name, reading=None, romanised=None, role=role,
                                born=None, died=None)
        role_text = self._cell(row, "役割フラグ")
        return AozoraPerson(
            person_id=person_id,
            name=_spaced(self._cell(row, "姓"), self._cell(row, "名")),
            reading=_spaced(self._cell(row, "姓読み"), self._cell(row, "名読み")) or None,
            romanised=_spaced(self._cell(row, "姓ローマ字"), self._cell(row, "名ローマ字")) or None,
            role=AozoraRole(role_text) if role_text in AozoraRole._value2member_map_ else AozoraRole.OTHER,
            born=self._optional(row, "生年月日"),
            died=self._optional(row, "没年月日"),
        )

    def _work(self, work_id: int, row: list[str]) -> AozoraWork:
        persons = self._persons[work_id]
        if not any(person.role is AozoraRole.AUTHOR for person in persons):
            # e.g. 知里幸恵 both wrote down and translated アイヌ神謡集: the older list names her only as translator.
            persons[0] = msgspec.structs.replace(persons[0], role=AozoraRole.AUTHOR)
        role_order = list(AozoraRole)
        persons = sorted(persons, key=lambda person: (role_order.index(person.role), person.person_id))
        extended = self.list_format is AozoraListFormat.EXTENDED_LIST_55_COLUMNS
        ndc_classes, is_childrens = _ndc_classes(self._cell(row, "分類番号"))
        kana_text = self._cell(row, "文字遣い種別" if extended else "仮名遣い種別")
        status = "公開" if extended else self._cell(row, "状態")
        card_url = self._cell(row, "図書カードURL") if extended else ""
        if not card_url:
            author = next(person for person in persons if person.role is AozoraRole.AUTHOR)
            card_url = CARD_URL_TEMPLATE.format(person_id=author.person_id, work_id=work_id)
        return AozoraWork(
            work_id=work_id,
            title=self._cell(row, "作品名"),
            title_reading=self._optional(row, "作品名読み"),
            sort_reading=self._optional(row, "ソート用読み"),
            subtitle=self._optional(row, "副題"),
            subtitle_reading=self._optional(row, "副題読み"),
            original_title=self._optional(row, "原題"),
            first_appearance=self._optional(row, "初出"),
            ndc=ndc_classes[0] if ndc_classes else None,
            ndc_classes=ndc_classes,
            is_childrens=is_childrens,
            kana_usage=(KanaUsage(kana_text) if kana_text in KanaUsage._value2member_map_
                        else KanaUsage.OTHER if kana_text else None),
            copyrighted=self._cell(row, "作品著作権フラグ") == "あり",
            is_published=status == "公開",
            status=status,
            published_on=_date(self._cell(row, "公開日" if extended else "状態の開始日"), "公開日")
            if status == "公開" else None,
            updated_on=_date(self._cell(row, "最終更新日"), "最終更新日"),
            card_url=card_url,
            text_url=self._optional(row, "テキストファイルURL"),
            html_url=self._optional(row, "XHTML/HTMLファイルURL"),
            persons=persons,
            translator_text=None if extended else self._optional(row, "翻訳者名等"),
            source_books=self._source_books(row, extended),
            inputters=self._optional(row, "入力者" if extended else "入力者名"),
            proofreaders=self._optional(row, "校正者" if extended else "校正者名"),
        )

    def _source_books(self, row: list[str], extended: bool) -> list[AozoraSourceBook]:
        columns: list[tuple[str, str, str | None, str, str]]
        if not extended:
            columns = [("底本名", "出版社名", None, "入力に使用した版", "校正に使用した版")]
        else:
            columns = [(f"底本名{n}", f"底本出版社名{n}", f"底本初版発行年{n}", f"入力に使用した版{n}",
                        f"校正に使用した版{n}") for n in (1, 2)]
        books = []
        for title, publisher, first_edition, input_edition, proof_edition in columns:
            if book_title := self._cell(row, title):
                books.append(AozoraSourceBook(
                    title=book_title, publisher=self._optional(row, publisher),
                    first_edition=self._optional(row, first_edition) if first_edition else None,
                    edition_used_for_input=self._optional(row, input_edition),
                    edition_used_for_proofreading=self._optional(row, proof_edition)))
        return books


def _identifier(text: str, column: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _RowProblem(f"{column} {text!r} is not a number")
    return int(text)


def _date(text: str, column: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise _RowProblem(f"{column} {text!r} is not a date (YYYY-MM-DD)") from None


def _ndc_classes(text: str) -> tuple[list[str], bool]:
    """"NDC 913" → (["913"], False); "NDC K913" → (["913"], True); "NDC 914 915" → (["914", "915"], False)."""
    classes: list[str] = []
    is_childrens = False
    for token in text.replace("NDC", " ").split():
        number = token[1:] if token[:1] in ("K", "k") else token
        if re.fullmatch(r"\d{1,3}(?:\.\d+)?", number):
            is_childrens = is_childrens or number != token
            classes.append(number)
    return classes, is_childrens


def _spaced(family: str, given: str) -> str:
    return " ".join(part for part in (family, given) if part)


def _name_key(name: str) -> str:
    # "新青年編輯局 " and "大久保 ゆう" must compare equal however spaces and widths were typed.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
