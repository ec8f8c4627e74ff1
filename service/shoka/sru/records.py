"""Catalogue records in the schemas SRU clients ask for: MARCXML (the stored record, or one made from the
catalogue fields), simple Dublin Core, and NDL's dcndl_simple (the vocabulary of NDL Search's replies).

Rows are read through the public database role, which may read the catalogue and nothing personal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from xml.etree import ElementTree

from shoka.catalogue.bib_record import BIB_RECORD_COLUMNS, BibRow
from shoka.catalogue.marc_export import bib_as_marc
from shoka.sru import xml_text

logger = logging.getLogger(__name__)


class RecordSchema(Enum):
    MARCXML = "marcxml"
    DC = "dc"
    DCNDL_SIMPLE = "dcndl_simple"


@dataclass(frozen=True)
class SchemaDescription:
    schema: RecordSchema
    identifier: str
    title: str
    namespace: str


SCHEMAS: dict[RecordSchema, SchemaDescription] = {
    RecordSchema.MARCXML: SchemaDescription(RecordSchema.MARCXML, "info:srw/schema/1/marcxml-v1.1", "MARC21 XML",
                                            "http://www.loc.gov/MARC21/slim"),
    RecordSchema.DC: SchemaDescription(RecordSchema.DC, "info:srw/schema/1/dc-v1.1", "Dublin Core (simple)",
                                       "info:srw/schema/1/dc-schema"),
    RecordSchema.DCNDL_SIMPLE: SchemaDescription(RecordSchema.DCNDL_SIMPLE, "http://ndl.go.jp/dcndl/dcndl_simple/",
                                                 "DC-NDL (simple)", "http://ndl.go.jp/dcndl/dcndl_simple/"),
}
DEFAULT_SCHEMA = RecordSchema.MARCXML
# What clients write in recordSchema: short names and identifiers, compared case-insensitively.
SCHEMA_NAMES: dict[str, RecordSchema] = {
    "marcxml": RecordSchema.MARCXML, "marc21": RecordSchema.MARCXML, "marc21xml": RecordSchema.MARCXML,
    "info:srw/schema/1/marcxml-v1.1": RecordSchema.MARCXML, "info:srw/schema/1/marcxml-1.1": RecordSchema.MARCXML,
    "http://www.loc.gov/marc21/slim": RecordSchema.MARCXML,
    "dc": RecordSchema.DC, "oai_dc": RecordSchema.DC, "info:srw/schema/1/dc-v1.1": RecordSchema.DC,
    "info:srw/schema/1/dc-schema": RecordSchema.DC, "http://purl.org/dc/elements/1.1/": RecordSchema.DC,
    "dcndl_simple": RecordSchema.DCNDL_SIMPLE, "http://ndl.go.jp/dcndl/dcndl_simple/": RecordSchema.DCNDL_SIMPLE,
}

class RecordUnavailable(Exception):
    """The record cannot be given in the schema asked for (a stored record that no longer converts)."""


async def fetch_bib_rows(pool, bib_ids: list[int]) -> dict[int, BibRow]:
    """The rows of these records that exist and are not withdrawn, by id (one query)."""
    if not bib_ids:
        return {}
    async with pool.connection() as connection:
        rows = await (await connection.execute(
            f"SELECT {BIB_RECORD_COLUMNS} FROM bib WHERE id = ANY(%s) AND NOT is_withdrawn", [bib_ids])).fetchall()
    return {row[0]: BibRow(*row) for row in rows}


async def existing_bib_ids(pool, bib_ids: tuple[int, ...]) -> list[int]:
    """Which of these ids are records that exist and are not withdrawn, in id order."""
    if not bib_ids:
        return []
    async with pool.connection() as connection:
        rows = await (await connection.execute(
            "SELECT id FROM bib WHERE id = ANY(%s) AND NOT is_withdrawn ORDER BY id", [list(bib_ids)])).fetchall()
    return [row[0] for row in rows]


def record_xml(row: BibRow, schema: RecordSchema, opac_base_url: str) -> str:
    """The record as an XML element (no declaration) in `schema`; raises `RecordUnavailable`."""
    if schema is RecordSchema.MARCXML:
        return _marcxml(row)
    if schema is RecordSchema.DC:
        return _dublin_core(row, opac_base_url)
    return _dcndl_simple(row, opac_base_url)


def _marcxml(row: BibRow) -> str:
    try:
        document = xml_text.without_declaration(bib_as_marc(tuple(row), "marcxml").decode("utf-8"))
        # A stored record that does not parse would make the whole response unreadable: check it here.
        ElementTree.fromstring(document)
    except Exception as error:  # pymarc and the stored text can fail in many ways; one record must not fail all
        logger.warning("record %s cannot be given as MARCXML: %s", row.id, error)
        raise RecordUnavailable(f"record {row.id} cannot be converted to MARCXML") from None
    return document


def _full_title(row: BibRow) -> str:
    return f"{row.title} : {row.subtitle}" if row.subtitle else row.title


def _author_names(row: BibRow) -> list[str]:
    return [author["name"] for author in row.authors if isinstance(author, dict) and author.get("name")]


_DCMI_TYPES = {"av_cd": "Sound", "av_dvd": "MovingImage", "map": "Image", "kamishibai": "Image"}


def _dublin_core(row: BibRow, opac_base_url: str) -> str:
    parts = [xml_text.element("dc:title", _full_title(row))]
    parts += [xml_text.element("dc:creator", name) for name in _author_names(row)]
    parts += [xml_text.element("dc:subject", subject) for subject in row.subjects]
    if row.ndc:
        parts.append(xml_text.element("dc:subject", f"NDC {row.ndc}"))
    parts += [xml_text.element("dc:description", note) for note in row.notes]
    parts.append(xml_text.element("dc:publisher", row.publisher))
    parts.append(xml_text.element("dc:date", row.publication_year))
    parts.append(xml_text.element("dc:type", _DCMI_TYPES.get(row.material_type, "Text")))
    parts.append(xml_text.element("dc:format", row.extent))
    parts += [xml_text.element("dc:identifier", f"urn:isbn:{isbn}") for isbn in row.isbns]
    parts.append(xml_text.element("dc:identifier", f"{opac_base_url}/bibs/{row.id}"))
    parts.append(xml_text.element("dc:language", row.language))
    parts += [xml_text.element("dc:relation", series) for series in row.series]
    return ('<srw_dc:dc xmlns:srw_dc="info:srw/schema/1/dc-schema" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            + "".join(parts) + "</srw_dc:dc>")


def _typed(name: str, xsi_type: str, value: object) -> str:
    return f'<{name} xsi:type="{xsi_type}">{xml_text.text(value)}</{name}>'


def _dcndl_simple(row: BibRow, opac_base_url: str) -> str:
    parts = [xml_text.element("dc:title", _full_title(row)),
             xml_text.element("dcndl:titleTranscription", row.title_reading)]
    for author in row.authors:
        if isinstance(author, dict) and author.get("name"):
            parts.append(xml_text.element("dc:creator", author["name"]))
            parts.append(xml_text.element("dcndl:creatorTranscription", author.get("reading")))
    parts.append(xml_text.element("dcndl:edition", row.edition))
    parts.append(xml_text.element("dc:publisher", row.publisher))
    parts.append(xml_text.element("dcndl:publicationPlace", row.publication_place))
    if row.publication_year is not None:
        parts.append(_typed("dcterms:issued", "dcterms:W3CDTF", row.publication_year))
    parts.append(xml_text.element("dcterms:extent", row.extent))
    parts += [xml_text.element("dcndl:seriesTitle", series) for series in row.series]
    parts += [_typed("dc:identifier", "dcndl:ISBN", isbn) for isbn in row.isbns]
    if row.ndc:
        parts.append(_typed("dc:subject", "dcndl:NDC", row.ndc))
    parts += [xml_text.element("dc:subject", subject) for subject in row.subjects]
    if row.language:
        parts.append(_typed("dc:language", "dcterms:ISO639-2", row.language))
    parts += [xml_text.element("dc:description", note) for note in row.notes]
    for url in (f"{opac_base_url}/bibs/{row.id}", row.aozora_card_url, row.ndl_digital_url):
        if url:
            parts.append(f'<rdfs:seeAlso rdf:resource="{xml_text.attribute(url)}"/>')
    return ('<dcndl_simple:dc xmlns:dcndl_simple="http://ndl.go.jp/dcndl/dcndl_simple/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcndl="http://ndl.go.jp/dcndl/terms/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' + "".join(parts) + "</dcndl_simple:dc>")
