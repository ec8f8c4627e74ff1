"""The record form of the cataloguing screen: what it shows of a MARC21 record, and what was submitted.

The form is a view of the MARC record, never a second copy of the data. Its values come from the catalogue's
one extraction (``marc_fields.extract_bib``), so a field reads exactly as it would after an import; the list
sections (authors, ISBNs, subjects, notes) keep the field each value came from, so that saving
(``bib_form_apply``) can change just those fields.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec
import pymarc
from pymarc import Field, Indicators, Subfield

from shoka.catalogue.isbn import normalise_isbn
from shoka.catalogue.marc_fields import MaterialType, ParsedBib, SourceEncoding, extract_bib
from shoka.catalogue.marc_linkage import linked_880s

AuthorKind = Literal["person", "corporate", "meeting"]
AUTHOR_TAGS = ("100", "110", "111", "700", "710", "711")
KIND_OF_TAG_ENDING = {"00": "person", "10": "corporate", "11": "meeting"}
TAG_ENDING_OF_KIND = {kind: ending for ending, kind in KIND_OF_TAG_ENDING.items()}
# Languages offered in the form (MARC codes); a record in another language keeps its code.
LANGUAGE_CHOICES = (("jpn", "日本語", "Japanese"), ("eng", "英語", "English"), ("chi", "中国語", "Chinese"),
                    ("kor", "韓国語", "Korean"), ("fre", "フランス語", "French"), ("ger", "ドイツ語", "German"),
                    ("spa", "スペイン語", "Spanish"), ("ita", "イタリア語", "Italian"), ("rus", "ロシア語", "Russian"),
                    ("por", "ポルトガル語", "Portuguese"), ("mul", "多言語", "Multiple languages"),
                    ("und", "不明", "Undetermined"))
NEW_RECORD_LEADER = "00000nam a2200000 i 4500"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


class AuthorEntry(msgspec.Struct, frozen=True, kw_only=True):
    name: str = ""
    reading: str = ""
    dates: str = ""
    role: str = ""
    kind: AuthorKind = "person"
    # The author's position among the record's author fields when the form was made; "" for a row added in the form.
    key: str = ""


class BibForm(msgspec.Struct, frozen=True, kw_only=True):
    title: str = ""
    subtitle: str = ""
    title_reading: str = ""
    subtitle_reading: str = ""
    responsibility: str = ""
    authors: list[AuthorEntry] = []
    edition: str = ""
    place: str = ""
    publisher: str = ""
    publisher_reading: str = ""
    publication_date: str = ""
    extent: str = ""
    isbns: list[str] = []
    ndc: str = ""
    subjects: list[str] = []
    language: str = "jpn"
    material_type: str = MaterialType.BOOK.value
    notes: list[str] = []


# --- reading the form from a record -------------------------------------------------------------------------


def form_from_record(record: pymarc.Record) -> BibForm:
    parsed = _extract(record)
    publisher = parsed.publishers[0] if parsed.publishers else None
    return BibForm(
        title=parsed.title, subtitle=parsed.subtitle or "", title_reading=parsed.title_reading or "",
        subtitle_reading=parsed.subtitle_reading or "", responsibility=parsed.responsibility or "",
        authors=[entry for _field, entry in author_entries(record)],
        edition=parsed.edition or "", place=parsed.publication_place or "",
        publisher=publisher.name if publisher else "", publisher_reading=(publisher.reading or "") if publisher else "",
        publication_date=parsed.publication_date or "", extent=parsed.extent or "",
        isbns=[value for _field, values in isbn_entries(record) for value in values],
        ndc=parsed.ndc or "", subjects=[value for _field, value in subject_entries(record)],
        language=parsed.languages[0] if parsed.languages else "", material_type=parsed.material_type.value,
        notes=[value for _field, value in note_entries(record)])


def read_form_fields(values: Mapping[str, Sequence[str]]) -> BibForm:
    """The form as submitted: one value per name, parallel lists for the author rows, one ISBN, subject or note
    per line. Rows left wholly empty are dropped."""
    def one(name: str) -> str:
        found = values.get(name) or [""]
        return str(found[0]).strip()

    def lines(name: str) -> list[str]:
        return [line.strip() for line in one(name).splitlines() if line.strip()]

    parts = ("key", "kind", "name", "reading", "dates", "role")
    rows = zip(*(list(values.get(f"author_{part}") or []) for part in parts), strict=False)
    authors = [AuthorEntry(key=key.strip(), kind=kind if kind in TAG_ENDING_OF_KIND else "person", name=name.strip(),
                           reading=reading.strip(), dates=dates.strip(), role=role.strip())
               for key, kind, name, reading, dates, role in rows if key.strip() or name.strip() or reading.strip()
               or dates.strip() or role.strip()]
    return BibForm(
        title=one("title"), subtitle=one("subtitle"), title_reading=one("title_reading"),
        subtitle_reading=one("subtitle_reading"), responsibility=one("responsibility"), authors=authors,
        edition=one("edition"), place=one("place"), publisher=one("publisher"),
        publisher_reading=one("publisher_reading"), publication_date=one("publication_date"), extent=one("extent"),
        isbns=lines("isbns"), ndc=one("ndc"), subjects=lines("subjects"), language=one("language"),
        material_type=one("material_type") or MaterialType.BOOK.value, notes=lines("notes"))


def new_record(today_yymmdd: str) -> pymarc.Record:
    """An empty book record in Japanese, as a new record starts; 001, 003 and 005 are set when it is saved."""
    record = pymarc.Record(force_utf8=True, leader=NEW_RECORD_LEADER)
    record.add_field(Field(tag="008", data=f"{today_yymmdd}s{'':8}ja {'':17}jpn d"))
    return record


# --- the form's view of single fields -----------------------------------------------------------------------


def _extract(record: pymarc.Record) -> ParsedBib:
    if record.get("245") is None:
        record = copy.copy(record)
        empty_title = Field(tag="245", indicators=Indicators("0", "0"), subfields=[Subfield("a", "")])
        record.fields = [empty_title, *record.fields]
    return extract_bib(record, record_number=1, source_encoding=SourceEncoding.UTF8, raw_iso2709=None,
                       raw_marcxml=None)


def _single_field_view(record: pymarc.Record, field: Field) -> ParsedBib:
    """The extraction of one field with its 880s: what the form shows for that field alone."""
    alone = pymarc.Record(force_utf8=True, leader=str(record.leader))
    alone.fields = [field, *linked_880s(record, field).values()]
    return _extract(alone)


def author_entries(record: pymarc.Record) -> list[tuple[Field, AuthorEntry]]:
    entries = []
    for field in record.get_fields(*AUTHOR_TAGS):
        authors = _single_field_view(record, field).authors
        if authors:
            author = authors[0]
            entries.append((field, AuthorEntry(
                name=author.name, reading=author.reading or "", dates=author.dates or "", role=author.relator or "",
                kind=KIND_OF_TAG_ENDING.get(field.tag[1:], "person"), key=str(len(entries)))))
    return entries


def isbn_entries(record: pymarc.Record) -> list[tuple[Field, list[str]]]:
    entries = []
    for field in record.get_fields("020"):
        values = [isbn.original for isbn in _single_field_view(record, field).isbns if not isbn.cancelled]
        if values:
            entries.append((field, values))
    return entries


def subject_entries(record: pymarc.Record) -> list[tuple[Field, str]]:
    return [(field, subjects[0].heading) for field in record.get_fields("650")
            if (subjects := _single_field_view(record, field).subjects)]


def note_entries(record: pymarc.Record) -> list[tuple[Field, str]]:
    return [(field, notes[0]) for field in record.get_fields("500")
            if (notes := _single_field_view(record, field).notes)]


# --- values -------------------------------------------------------------------------------------------------


def clean_text(value: str) -> str | None:
    return unicodedata.normalize("NFC", value).strip() or None


def clean_reading(value: str) -> str | None:
    """Readings as NDL writes them: full-width katakana (hiragana and half-width kana are converted), single spaces."""
    folded = unicodedata.normalize("NFKC", value).translate(_HIRAGANA_TO_KATAKANA)
    return " ".join(folded.split()) or None


def changed(new: str, old: str, *, reading: bool = False) -> bool:
    normalise = clean_reading if reading else clean_text
    return normalise(new) != normalise(old)


def isbn_text(value: str) -> str:
    """The ISBN of a line without its qualifier ("4-06-123456-7 (上)" → "4-06-123456-7")."""
    return re.sub(r"\s*\(.*\)\s*$", "", value).strip()


def isbn_key(value: str) -> str:
    text = isbn_text(value)
    return normalise_isbn(text) or unicodedata.normalize("NFKC", value).strip()
