"""The `bib` row a parsed record becomes, and how rows are written with their outbox events.

Imports (MARC, Aozora, migration) and cataloguing all write records through `upsert_bib_rows`, so the
row shape, the vocabulary of material types and the outbox event a change emits are decided once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from psycopg import Cursor
from psycopg.types.json import Jsonb

from shoka.catalogue.aozora_list import AozoraRole, AozoraWork
from shoka.catalogue.marc_fields import MaterialType, ParsedBib

BibSource = Literal["marc", "aozora", "manual", "migration"]

# MARC leader/06 material types → the library's material type codes, with their names for the
# vocabulary table (created on first use so an import never fails on a missing code).
MATERIAL_TYPE_OF_MARC: dict[MaterialType, tuple[str, str, str]] = {
    MaterialType.BOOK: ("book", "図書", "Book"),
    MaterialType.SERIAL: ("magazine", "雑誌", "Magazine"),
    MaterialType.AUDIO: ("av_cd", "CD・録音資料", "Sound recording"),
    MaterialType.SCORE: ("score", "楽譜", "Score"),
    MaterialType.VIDEO: ("av_dvd", "DVD・映像資料", "Video"),
    MaterialType.MAP: ("map", "地図", "Map"),
    MaterialType.ELECTRONIC: ("e_text", "電子資料", "Electronic resource"),
    MaterialType.OTHER: ("other", "その他", "Other"),
}
E_TEXT = ("e_text", "電子資料", "Electronic resource")


class Contributor(msgspec.Struct, frozen=True):
    name: str
    reading: str | None = None
    role: str | None = None


class BibRow(msgspec.Struct, frozen=True, kw_only=True):
    source: BibSource
    control_number: str | None = None
    control_source: str | None = None
    title: str
    title_reading: str | None = None
    title_romanised: str | None = None
    subtitle: str | None = None
    responsibility: str | None = None
    authors: list[Contributor] = []
    publisher: str | None = None
    publisher_reading: str | None = None
    publication_place: str | None = None
    publication_year: int | None = None
    edition: str | None = None
    extent: str | None = None
    series: list[str] = []
    subjects: list[str] = []
    ndc: str | None = None
    ndc_edition: str | None = None
    isbns: list[str] = []
    language: str | None = None
    material_type: str
    notes: list[str] = []
    marc_iso2709: bytes | None = None
    marc_xml: str | None = None
    aozora_work_id: int | None = None
    aozora_card_url: str | None = None
    aozora_text_url: str | None = None
    aozora_fingerprint: str | None = None
    ndl_digital_url: str | None = None
    is_withdrawn: bool = False


def _valid_ndc(ndc: str | None) -> str | None:
    """The schema accepts NDC numbers only (913, 913.6); children's marks like E or K are dropped."""
    if ndc is None:
        return None
    digits = ndc.strip()
    head, _, tail = digits.partition(".")
    if head.isdigit() and 1 <= len(head) <= 3 and (not tail or tail.isdigit()):
        return digits
    return None


def _valid_year(year: int | None) -> int | None:
    return year if year is not None and 0 <= year <= 2999 else None


def bib_row_from_marc(parsed: ParsedBib) -> BibRow:
    publisher = parsed.publishers[0] if parsed.publishers else None
    language = next((code for code in parsed.languages if len(code) == 3 and code.isalpha()), None)
    return BibRow(
        source="marc",
        control_number=parsed.control_number,
        control_source=parsed.control_number_source,
        title=" ".join([parsed.title, *parsed.title_parts]),
        title_reading=parsed.title_reading,
        title_romanised=parsed.title_romanised,
        subtitle=parsed.subtitle,
        responsibility=parsed.responsibility,
        authors=[Contributor(name=author.name, reading=author.reading, role=author.relator) for author in parsed.authors],
        publisher=publisher.name if publisher else None,
        publisher_reading=publisher.reading if publisher else None,
        publication_place=parsed.publication_place,
        publication_year=_valid_year(parsed.year),
        edition=parsed.edition,
        extent=parsed.extent,
        series=[f"{series.title} {series.volume}".strip() if series.volume else series.title for series in parsed.series],
        subjects=[subject.heading for subject in parsed.subjects],
        ndc=_valid_ndc(parsed.ndc),
        ndc_edition=str(parsed.ndc_edition) if parsed.ndc_edition else None,
        isbns=[isbn.isbn13 for isbn in parsed.isbns if isbn.isbn13 and not isbn.cancelled],
        language=language.lower() if language else None,
        material_type=MATERIAL_TYPE_OF_MARC[parsed.material_type][0],
        notes=[*parsed.notes, *parsed.contents],
        marc_iso2709=parsed.raw_iso2709,
        marc_xml=parsed.raw_marcxml,
        ndl_digital_url=parsed.ndl_digital_url,
        is_withdrawn=parsed.is_deletion,
    )


AOZORA_ROLE_LABELS = {AozoraRole.AUTHOR: "著", AozoraRole.TRANSLATOR: "訳"}


def bib_row_from_aozora(work: AozoraWork, fingerprint: str) -> BibRow:
    subtitle = work.subtitle
    return BibRow(
        source="aozora",
        control_number=str(work.work_id),
        control_source="aozora",
        title=work.title,
        title_reading=work.title_reading,
        subtitle=subtitle,
        authors=[Contributor(name=person.name, reading=person.reading,
                             role=AOZORA_ROLE_LABELS.get(person.role, person.role.value)) for person in work.persons],
        publisher="青空文庫",
        publisher_reading="アオゾラ ブンコ",
        publication_year=work.published_on.year if work.published_on else None,
        subjects=[],
        ndc=_valid_ndc(work.ndc),
        language="jpn",
        material_type=E_TEXT[0],
        notes=[f"底本：{book.title}（{book.publisher}）" if book.publisher else f"底本：{book.title}"
               for book in work.source_books],
        aozora_work_id=work.work_id,
        aozora_card_url=work.card_url,
        aozora_text_url=work.text_url or work.html_url,
        aozora_fingerprint=fingerprint,
        is_withdrawn=not work.is_published,
    )


_COLUMNS = [field for field in BibRow.__struct_fields__]
_JSON_COLUMNS = {"authors"}


def _values(row: BibRow) -> list[object]:
    values = []
    for column in _COLUMNS:
        value = getattr(row, column)
        if column in _JSON_COLUMNS:
            value = Jsonb(msgspec.to_builtins(value))
        values.append(value)
    return values


def ensure_material_types(cursor: Cursor, codes: list[tuple[str, str, str]]) -> None:
    for code, name_ja, name_en in codes:
        cursor.execute("INSERT INTO material_type (code, name_ja, name_en) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                       [code, name_ja, name_en])


def upsert_bib_rows(cursor: Cursor, rows: list[BibRow], *, match_on: Literal["control_number", "aozora_work_id"],
                    now: dt.datetime) -> list[tuple[int, bool]]:
    """Inserts or updates rows; returns (bib id, was inserted) per row. Emits one outbox event per bib.

    Records matched on (control_source, control_number) or on the Aozora work id are updated in place,
    so importing the same file twice changes nothing the second time.
    """
    if not rows:
        return []
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS if column != "source")
    conflict_target = ("(control_source, control_number)" if match_on == "control_number" else "(aozora_work_id)")
    statement = (
        f"INSERT INTO bib ({', '.join(_COLUMNS)}, updated_at) VALUES ({', '.join(['%s'] * len(_COLUMNS))}, %s) "
        f"ON CONFLICT {conflict_target} DO UPDATE SET {assignments}, updated_at = EXCLUDED.updated_at "
        "RETURNING id, (xmax = 0) AS inserted")
    # executemany with returning runs in pipeline mode: one round trip per batch, not per record.
    cursor.executemany(statement, [[*_values(row), now] for row in rows], returning=True)
    results: list[tuple[int, bool]] = []
    while True:
        bib_id, inserted = cursor.fetchone()
        results.append((bib_id, inserted))
        if not cursor.nextset():
            break
    return results


def append_bib_events(cursor: Cursor, bib_ids: list[int]) -> None:
    """The outbox events for changed records: appended last, just before COMMIT (see the outbox's lock)."""
    if bib_ids:
        cursor.execute("INSERT INTO outbox_event (topic, entity_id) SELECT 'bib', unnest(%s::bigint[])", [bib_ids])
