"""Editing fields together with their linked 880 fields (the readings NDL records in ``880 $6 245-01/$1``).

A regular field points at its alternate forms with ``$6 880-NN``; each 880 points back with ``$6 TAG-NN/script``
(``$1`` for the katakana reading, ``(B`` for the romanisation). When the record editor changes a reading, removes
an author or turns a personal name into a corporate one, the links must stay whole: this module keeps them so.
"""

from __future__ import annotations

import re

import pymarc
from pymarc import Field, Indicators, Subfield

from shoka.catalogue.marc_subfields import Punctuation, write_subfield

READING_SCRIPT = "$1"
_LINK_IN_REGULAR_FIELD = re.compile(r"^880-(\d{2,})")
_LINK_IN_880 = re.compile(r"^(\d{3})-(\d{2,})(?:/(.*))?$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_NOT_LATIN = re.compile(r"[^\u0000-\u024f\u1e00-\u1eff\u2000-\u206f]")


def link_number(field: Field) -> str | None:
    found = _LINK_IN_REGULAR_FIELD.match(field.get("6") or "")
    return found.group(1) if found else None


def linked_880s(record: pymarc.Record, field: Field) -> dict[str, Field]:
    """The 880 fields linked to ``field``, keyed by script id ("$1", "(B", "")."""
    number = link_number(field)
    if number is None:
        return {}
    linked: dict[str, Field] = {}
    for alternate in record.get_fields("880"):
        found = _LINK_IN_880.match(alternate.get("6") or "")
        if found and found.group(1) == field.tag and found.group(2) == number:
            linked.setdefault(found.group(3) or "", alternate)
    return linked


def vernacular_880(record: pymarc.Record, field: Field, code: str) -> Field | None:
    """The 880 that holds the text of ``code`` when the record follows the LC/OCLC convention (the 880 is the
    kanji form and the regular field its romanisation); None for NDL-style records, where the 880 is a reading."""
    cjk = linked_880s(record, field).get(READING_SCRIPT)
    if cjk is None or not _HAN.search(cjk.get(code) or ""):
        return None
    return cjk if not _NOT_LATIN.search(field.get(code) or "") else None


def set_reading(record: pymarc.Record, field: Field, code: str, reading: str | None, style: Punctuation) -> None:
    """Writes (or removes, when None) the reading of ``field``'s subfield ``code`` in its linked ``$1`` 880."""
    linked = linked_880s(record, field)
    reading_field = linked.get(READING_SCRIPT)
    if reading_field is None:
        if reading is None:
            return
        number = link_number(field)
        if number is None:
            number = _next_link_number(record)
            field.subfields = [Subfield("6", f"880-{number}"), *field.subfields]
        reading_field = Field(tag="880", indicators=Indicators(*field.indicators),
                              subfields=[Subfield("6", f"{field.tag}-{number}/{READING_SCRIPT}")])
        record.add_ordered_field(reading_field)
    reading_field.subfields = write_subfield(reading_field.subfields, code, reading, style)
    if not [subfield for subfield in reading_field.subfields if subfield.code != "6"]:
        remove_field(record, reading_field)
        if len(linked) <= 1:
            field.subfields = [subfield for subfield in field.subfields if subfield.code != "6"]


def retag(record: pymarc.Record, field: Field, tag: str) -> None:
    """Changes a field's tag and the back links of its 880s (``$6 700-05`` → ``$6 710-05``)."""
    for alternate in linked_880s(record, field).values():
        alternate.subfields = [Subfield("6", tag + subfield.value[3:]) if subfield.code == "6" else subfield
                               for subfield in alternate.subfields]
    field.tag = tag


def remove_with_links(record: pymarc.Record, field: Field) -> None:
    for alternate in linked_880s(record, field).values():
        remove_field(record, alternate)
    remove_field(record, field)


def remove_field(record: pymarc.Record, field: Field) -> None:
    # By identity: two fields with equal content are different fields of the record.
    record.fields = [existing for existing in record.fields if existing is not field]


def _next_link_number(record: pymarc.Record) -> str:
    used = [0]
    for field in record.fields:
        if field.control_field:
            continue
        link = field.get("6") or ""
        found = _LINK_IN_880.match(link) if field.tag == "880" else _LINK_IN_REGULAR_FIELD.match(link)
        if found:
            used.append(int(found.group(2) if field.tag == "880" else found.group(1)))
    return f"{max(used) + 1:02d}"
