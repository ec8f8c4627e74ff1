"""A record in MARC21 for export: the imported record unchanged when there is one, otherwise a MARC21
record made from the catalogue fields (Aozora e-texts, records catalogued in Shoka), with the readings in
880 fields as NDL writes them (`$6 245-01/$1`)."""

from __future__ import annotations

from typing import Literal

import pymarc
from pymarc import Field, Indicators, Subfield

from shoka.catalogue.marc_records import marcxml_to_iso2709, record_to_marcxml

LEADER_TYPE_OF_MATERIAL = {"book": "am", "children_book": "am", "magazine": "as", "av_cd": "jm", "av_dvd": "gm",
                           "score": "cm", "map": "em", "e_text": "am", "kamishibai": "km", "large_print": "am",
                           "reference": "am"}


def _linked(record: pymarc.Record, tag: str, indicators: tuple[str, str], subfields: list[Subfield],
            reading: str | None, link_number: int) -> int:
    """Adds a field and, when there is a reading, its 880 with `$6 TAG-NN/$1`; returns the next link number."""
    if reading:
        link = f"{link_number:02d}"
        record.add_field(Field(tag=tag, indicators=Indicators(*indicators),
                               subfields=[Subfield("6", f"880-{link}"), *subfields]))
        record.add_field(Field(tag="880", indicators=Indicators(*indicators),
                               subfields=[Subfield("6", f"{tag}-{link}/$1"), Subfield("a", reading)]))
        return link_number + 1
    record.add_field(Field(tag=tag, indicators=Indicators(*indicators), subfields=subfields))
    return link_number


def record_from_fields(row: tuple) -> pymarc.Record:
    (bib_id, source, title, title_reading, _romanised, subtitle, responsibility, authors, publisher,
     publisher_reading, place, year, edition, extent, series, subjects, ndc, isbns, language, material_type,
     notes, aozora_card_url, aozora_text_url, ndl_digital_url, _updated_at) = row[:25]
    record = pymarc.Record(force_utf8=True, leader=f"00000n{LEADER_TYPE_OF_MATERIAL.get(material_type, 'am')} a2200000 i 4500")
    record.add_field(Field(tag="001", data=str(bib_id)))
    record.add_field(Field(tag="003", data="Shoka"))
    language_code = (language or "und")[:3]
    record.add_field(Field(tag="008", data=f"{'':6}s{year or '    '!s:4}{'':4}ja {'':17}{language_code} d"[:40].ljust(40)))
    for isbn in isbns:
        record.add_field(Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn)]))
    if ndc:
        record.add_field(Field(tag="084", indicators=Indicators(" ", " "),
                               subfields=[Subfield("a", ndc), Subfield("2", "njb/10")]))
    link = 1
    title_subfields = [Subfield("a", title + (" :" if subtitle else (" /" if responsibility else "")))]
    if subtitle:
        title_subfields.append(Subfield("b", subtitle + (" /" if responsibility else "")))
    if responsibility:
        title_subfields.append(Subfield("c", responsibility))
    link = _linked(record, "245", ("0", "0"), title_subfields, title_reading, link)
    if edition:
        record.add_field(Field(tag="250", indicators=Indicators(" ", " "), subfields=[Subfield("a", edition)]))
    imprint = [Subfield("a", place)] if place else []
    if publisher:
        imprint.append(Subfield("b", publisher))
    if year:
        imprint.append(Subfield("c", str(year)))
    if imprint:
        link = _linked(record, "260", (" ", " "), imprint, publisher_reading, link)
    if extent:
        record.add_field(Field(tag="300", indicators=Indicators(" ", " "), subfields=[Subfield("a", extent)]))
    for series_title in series:
        record.add_field(Field(tag="490", indicators=Indicators("0", " "), subfields=[Subfield("a", series_title)]))
    for note in notes:
        record.add_field(Field(tag="500", indicators=Indicators(" ", " "), subfields=[Subfield("a", note)]))
    for subject in subjects:
        record.add_field(Field(tag="650", indicators=Indicators(" ", "7"),
                               subfields=[Subfield("a", subject), Subfield("2", "ndlsh")]))
    for position, author in enumerate(authors):
        subfields = [Subfield("a", author["name"])]
        if author.get("role"):
            subfields.append(Subfield("e", author["role"]))
        link = _linked(record, "100" if position == 0 else "700", ("1", " "), subfields, author.get("reading"), link)
    for url, label in ((aozora_card_url, "青空文庫 図書カード"), (aozora_text_url, "青空文庫 テキスト"),
                       (ndl_digital_url, "国立国会図書館デジタルコレクション")):
        if url:
            record.add_field(Field(tag="856", indicators=Indicators("4", "0"),
                                   subfields=[Subfield("u", url), Subfield("y", label)]))
    return record


def bib_as_marc(row: tuple, output_format: Literal["marcxml", "iso2709"]) -> bytes:
    """`row` is the bib columns of the API's query followed by marc_iso2709 and marc_xml."""
    stored_iso2709, stored_xml = row[-2], row[-1]
    if output_format == "iso2709":
        if stored_iso2709 is not None:
            return bytes(stored_iso2709)
        if stored_xml is not None:
            return marcxml_to_iso2709(stored_xml)
        return record_from_fields(row).as_marc()
    if stored_xml is not None:
        return stored_xml.encode("utf-8")
    if stored_iso2709 is not None:
        return record_to_marcxml(bytes(stored_iso2709)).encode("utf-8")
    return record_to_marcxml(record_from_fields(row)).encode("utf-8")
