"""A bibliographic record as read for display and export: the columns, in the order every reader uses.

The OPAC/API record view, SRU records and MARC export (`marc_export.record_from_fields`, which unpacks this
order) read the same columns through this one list.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

# The column order `marc_export.record_from_fields` unpacks, then the two stored MARC forms.
BIB_RECORD_COLUMNS = ("id, source, title, title_reading, title_romanised, subtitle, responsibility, authors, "
                      "publisher, publisher_reading, publication_place, publication_year, edition, extent, series, "
                      "subjects, ndc, isbns, language, material_type, notes, aozora_card_url, aozora_text_url, "
                      "ndl_digital_url, updated_at, marc_iso2709, marc_xml")


class BibRow(NamedTuple):
    id: int
    source: str
    title: str
    title_reading: str | None
    title_romanised: str | None
    subtitle: str | None
    responsibility: str | None
    authors: list[dict]
    publisher: str | None
    publisher_reading: str | None
    publication_place: str | None
    publication_year: int | None
    edition: str | None
    extent: str | None
    series: list[str]
    subjects: list[str]
    ndc: str | None
    isbns: list[str]
    language: str | None
    material_type: str
    notes: list[str]
    aozora_card_url: str | None
    aozora_text_url: str | None
    ndl_digital_url: str | None
    updated_at: dt.datetime
    marc_iso2709: bytes | None
    marc_xml: str | None
