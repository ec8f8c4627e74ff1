"""Reading MARC21 files (ISO 2709 in UTF-8 or MARC-8, or MARCXML) into catalogue records.

``read_marc`` turns a file into one ``ParsedBib`` per good record and one ``MarcReject`` per bad one: every
record position in the file ends up in exactly one of the two lists, a broken record never stops the reading
of the rest, and nothing vanishes silently. Each ``ParsedBib`` keeps the original record (the ISO 2709 bytes
byte for byte, or the MARCXML element text) so that export returns what was imported, plus the fields the
catalogue indexes, extracted under the NDL JAPAN/MARC conventions (readings in linked 880 fields, NDC in 084).

The extraction of fields lives in ``marc_fields``; this module owns framing, character sets and rejects.
"""

from __future__ import annotations

import enum
import io
import os
import re
import xml.etree.ElementTree as ElementTree
import xml.parsers.expat
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pymarc
from pymarc import marc8_mapping

from shoka.catalogue.marc_fields import (
    MaterialType,
    ParsedAuthor,
    ParsedBib,
    ParsedClassification,
    ParsedIsbn,
    ParsedLink,
    ParsedPublisher,
    ParsedSeries,
    ParsedSubject,
    SourceEncoding,
    SubjectKind,
    extract_bib,
)
from shoka.errors import ShokaError

__all__ = [
    "MarcFileFormat",
    "MarcReadResult",
    "MarcRecordError",
    "MarcReject",
    "MaterialType",
    "ParsedAuthor",
    "ParsedBib",
    "ParsedClassification",
    "ParsedIsbn",
    "ParsedLink",
    "ParsedPublisher",
    "ParsedSeries",
    "ParsedSubject",
    "SourceEncoding",
    "SubjectKind",
    "marcxml_to_iso2709",
    "read_marc",
    "record_to_marcxml",
]

MARCXML_NAMESPACE = "http://www.loc.gov/MARC21/slim"
_END_OF_RECORD = 0x1D
_END_OF_FIELD = 0x1E
_SUBFIELD_DELIMITER = 0x1F
_ESCAPE = 0x1B
_LEADER_LENGTH = 24
# Bytes that may sit between ISO 2709 records without being a record: newlines added by tools that
# "line up" records, the DOS end-of-file mark, NUL padding from tape images.
_INTER_RECORD_FILLER = b" \t\r\n\x1a\x00"
# MARC-8 without escape sequences is ASCII plus ANSEL in G1; any other high byte means the file is in some
# other 8-bit code page (Windows-1251, Latin-1, Shift_JIS…) that pymarc would turn into silent mojibake.
_ANSEL_BYTES = frozenset(marc8_mapping.CODESETS[0x45]) | {0x88, 0x89, 0x8D, 0x8E}
_XML_FORBIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class MarcFileFormat(enum.StrEnum):
    ISO2709 = "iso2709"
    MARCXML = "marcxml"


class MarcReject(msgspec.Struct, frozen=True, kw_only=True):
    """A record that could not be imported, with what a librarian needs to find and fix it.

    ``record_number`` is the 1-based position of the record in the file (0 when the problem is the whole
    file, e.g. an XML document that holds no MARC records at all).
    """

    file_name: str
    record_number: int
    control_number: str | None
    reason: str

    def describe(self) -> str:
        where = f"{self.file_name}: record {self.record_number}"
        if self.control_number:
            where += f" (001 {self.control_number})"
        return f"{where}: {self.reason}"


class MarcReadResult(msgspec.Struct, frozen=True, kw_only=True):
    file_name: str
    file_format: MarcFileFormat
    records: list[ParsedBib]
    rejects: list[MarcReject]


class MarcRecordError(ShokaError):
    """A single record given for conversion is not usable MARC21; the message says why."""

    code = "invalid_marc_record"


class _RecordProblem(Exception):
    """Internal: why one record is rejected; becomes a ``MarcReject``."""


def read_marc(source: bytes | str | os.PathLike[str], *, file_name: str | None = None) -> MarcReadResult:
    """Read every record of an ISO 2709 or MARCXML file given as a path or as its bytes.

    The format is found by sniffing the content (an XML document starts with "<"), never from the name.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = file_name or "<bytes>"
    else:
        path = Path(source)
        data = path.read_bytes()
        name = file_name or path.name
    if _looks_like_xml(data):
        return _read_marcxml(data, name)
    return _read_iso2709(data, name)


def record_to_marcxml(record: bytes | pymarc.Record) -> str:
    """One record as a standalone MARCXML ``<record>`` element (for records imported as ISO 2709).

    MARCXML is always Unicode, so leader/09 is written as "a" whatever the ISO 2709 record said.
    """
    if isinstance(record, bytes | bytearray):
        try:
            record, _ = _decode_iso2709(bytes(record))
        except _RecordProblem as problem:
            raise MarcRecordError(f"Cannot convert the record to MARCXML: {problem}") from None
    node = pymarc.record_to_xml_node(record, quiet=True, namespace=True)
    for element in node.iter():
        if element.tag == "leader" and element.text and len(element.text) == _LEADER_LENGTH:
            element.text = element.text[:9] + "a" + element.text[10:]
        if element.text:
            # XML 1.0 cannot carry C0 controls; a MARC-8 stray escape would otherwise make the export unreadable.
            element.text = _XML_FORBIDDEN_CONTROLS.sub("\ufffd", element.text)
    return ElementTree.tostring(node, encoding="unicode")


def marcxml_to_iso2709(xml: str | bytes) -> bytes:
    """The ISO 2709 (UTF-8) form of a MARCXML document holding exactly one record."""
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    texts, broken = _split_marcxml(data)
    if broken or len(texts) != 1:
        detail = broken or f"it holds {len(texts)} records"
        raise MarcRecordError(f"Cannot convert MARCXML to ISO 2709: expected one record, but {detail}.")
    try:
        records = pymarc.parse_xml_to_array(io.BytesIO(texts[0].encode("utf-8")))
        iso2709 = records[0].as_marc()
    except Exception as error:  # pymarc raises KeyError, ValueError… on elements it cannot map
        raise MarcRecordError(f"Cannot convert MARCXML to ISO 2709: {type(error).__name__}: {error}") from None
    if len(iso2709) > 99999:
        raise MarcRecordError(f"The record is {len(iso2709)} bytes; ISO 2709 allows at most 99,999.")
    if any(len(field.as_marc("utf-8")) > 9999 for field in records[0].fields if not field.control_field):
        raise MarcRecordError("A field is longer than the 9,999 bytes an ISO 2709 directory entry can express.")
    return iso2709


# --- ISO 2709 -------------------------------------------------------------------------------------------


def _read_iso2709(data: bytes, file_name: str) -> MarcReadResult:
    records: list[ParsedBib] = []
    rejects: list[MarcReject] = []
    for record_number, chunk, framing_problem in _frame_iso2709(data):
        try:
            if framing_problem:
                raise _RecordProblem(framing_problem)
            record, encoding = _decode_iso2709(chunk)
            records.append(_extract(record, record_number, encoding, raw_iso2709=chunk))
        except _RecordProblem as problem:
            rejects.append(MarcReject(file_name=file_name, record_number=record_number,
                                      control_number=_raw_control_number(chunk), reason=str(problem)))
    return MarcReadResult(file_name=file_name, file_format=MarcFileFormat.ISO2709, records=records, rejects=rejects)


def _frame_iso2709(data: bytes) -> Iterator[tuple[int, bytes, str | None]]:
    """Yield (record number, record bytes, framing problem or None) for each record in the file.

    A record ends at the first end-of-record mark (1D). The leader's length must agree; when it does not,
    the bytes up to that mark are one bad record and reading resumes after it, so a single damaged length
    costs one record instead of the rest of the file (pymarc's own reader stops at such errors).
    """
    position = 0
    record_number = 0
    while position < len(data):
        if data[position] in _INTER_RECORD_FILLER:
            position += 1
            continue
        record_number += 1
        end_mark = data.find(_END_OF_RECORD, position)
        end = len(data) if end_mark == -1 else end_mark + 1
        chunk = data[position:end]
        position = end
        declared = chunk[:5]
        if end_mark == -1:
            yield record_number, chunk, "the file ends in the middle of this record (no end-of-record mark 1D)"
        elif not declared.isdigit():
            yield record_number, chunk, f"leader/00-04 should be the record length but is {declared!r}"
        elif int(declared) != len(chunk):
            yield record_number, chunk, (f"leader length mismatch: the leader says {int(declared)} bytes but the "
                                         f"record is {len(chunk)} bytes up to its end-of-record mark")
        else:
            yield record_number, chunk, None


def _decode_iso2709(chunk: bytes) -> tuple[pymarc.Record, SourceEncoding]:
    structure_problem = _structure_problem(chunk)
    if structure_problem:
        raise _RecordProblem(structure_problem)
    fields = _raw_fields(chunk)
    if chunk[9:10] == b"a":
        encoding = SourceEncoding.UTF8
        _check_utf8(fields)
    elif _is_utf8_with_multibyte_text(chunk):
        # Leader/09 says MARC-8, but the bytes are valid UTF-8 with multi-byte characters and no MARC-8
        # escapes: real MARC-8 diacritics (E0–FE before an ASCII letter) are never valid UTF-8.
        encoding = SourceEncoding.UTF8_LABELLED_MARC8
    else:
        encoding = SourceEncoding.MARC8
        _check_marc8(fields)
    reader = pymarc.MARCReader(chunk, to_unicode=True, force_utf8=encoding != SourceEncoding.MARC8,
                               hide_utf8_warnings=True, utf8_handling="strict", permissive=True)
    record = next(reader, None)
    if record is None:
        raise _RecordProblem(_explain_pymarc_failure(reader.current_exception))
    return record, encoding


def _structure_problem(chunk: bytes) -> str | None:
    """Check leader and directory before pymarc sees the record, so the reason can be precise."""
    if len(chunk) < _LEADER_LENGTH + 2:
        return f"the record is {len(chunk)} bytes, too short to hold a leader and a directory"
    if not chunk[:_LEADER_LENGTH].isascii():
        return "the leader contains non-ASCII bytes"
    base_text = chunk[12:17]
    if not base_text.isdigit():
        return f"leader/12-16 should be the base address of data but is {base_text!r}"
    base_address = int(base_text)
    if base_address <= _LEADER_LENGTH or base_address >= len(chunk):
        return f"the base address of data ({base_address}) lies outside the record ({len(chunk)} bytes)"
    if chunk[base_address - 1] != _END_OF_FIELD:
        return "the directory does not end with a field terminator (1E) at the base address"
    directory = chunk[_LEADER_LENGTH : base_address - 1]
    if not directory:
        return "the record has no fields (empty directory)"
    if len(directory) % 12:
        return f"the directory is {len(directory)} bytes, not a multiple of 12: it is damaged"
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        tag = entry[:3].decode("ascii", "replace")
        if not entry[:3].isalnum() or not entry[3:].isdigit():
            return f"directory entry {start // 12 + 1} ({entry!r}) is damaged"
        field_end = base_address + int(entry[7:12]) + int(entry[3:7])
        if field_end > len(chunk) - 1:
            return f"field {tag} runs past the end of the record"
        if int(entry[3:7]) == 0 or chunk[field_end - 1] != _END_OF_FIELD:
            # A damaged length or offset would otherwise shift the field and import misaligned text.
            return f"the directory entry for field {tag} does not point at a field ending in a terminator (1E)"
    return None


def _raw_fields(chunk: bytes) -> list[tuple[str, bytes]]:
    """(tag, data without terminator) for each directory entry of a structurally sound record."""
    base_address = int(chunk[12:17])
    directory = chunk[_LEADER_LENGTH : base_address - 1]
    fields = []
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        offset = base_address + int(entry[7:12])
        data = chunk[offset : offset + int(entry[3:7])]
        fields.append((entry[:3].decode("ascii"), data.rstrip(b"\x1e")))
    return fields


def _check_utf8(fields: list[tuple[str, bytes]]) -> None:
    for tag, data in fields:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            bad_byte = data[error.start]
            raise _RecordProblem(f"invalid UTF-8 in field {tag} (byte 0x{bad_byte:02x} at offset {error.start}); "
                                 "leader/09 says the record is UTF-8") from None
        _check_subfield_codes(tag, data)


def _check_marc8(fields: list[tuple[str, bytes]]) -> None:
    for tag, data in fields:
        _check_subfield_codes(tag, data)
        if _ESCAPE in data:
            continue  # explicit character sets (CJK, Cyrillic…): pymarc's MARC-8 tables check those
        foreign = sorted({byte for byte in data if byte >= 0x80 and byte not in _ANSEL_BYTES})
        if foreign:
            shown = " ".join(f"0x{byte:02x}" for byte in foreign[:5])
            raise _RecordProblem(f"field {tag} holds bytes that are not MARC-8 ({shown}); leader/09 says MARC-8, "
                                 "but the text looks like another code page (e.g. Windows-1251 or Latin-1) — "
                                 "convert the file to UTF-8 and set leader/09 to 'a'")


def _check_subfield_codes(tag: str, data: bytes) -> None:
    if tag.isdigit() and tag < "010":
        return
    indicators, *subfields = data.split(bytes([_SUBFIELD_DELIMITER]))
    if not indicators.isascii():
        raise _RecordProblem(f"field {tag} has indicators that are not ASCII ({indicators!r}): the record is damaged")
    for subfield in subfields:
        if subfield and not (0x21 <= subfield[0] <= 0x7E):
            raise _RecordProblem(f"field {tag} has a subfield code that is not an ASCII character "
                                 f"(byte 0x{subfield[0]:02x}): the record is damaged")


def _is_utf8_with_multibyte_text(chunk: bytes) -> bool:
    if _ESCAPE in chunk or chunk.isascii():
        return False
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _explain_pymarc_failure(error: BaseException | None) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"the text cannot be decoded ({error.reason})"
    if isinstance(error, pymarc.exceptions.PymarcException):
        return f"pymarc could not parse the record: {error}"
    return f"pymarc could not parse the record: {type(error).__name__}: {error}"


def _raw_control_number(chunk: bytes) -> str | None:
    """Best effort: the 001 of a record that may be too damaged for pymarc."""
    if _structure_problem(chunk):
        return None
    for tag, data in _raw_fields(chunk):
        if tag == "001":
            return data.decode("utf-8", "replace").strip() or None
    return None


# --- MARCXML --------------------------------------------------------------------------------------------


def _looks_like_xml(data: bytes) -> bool:
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _read_marcxml(data: bytes, file_name: str) -> MarcReadResult:
    texts, broken = _split_marcxml(data)
    records: list[ParsedBib] = []
    rejects: list[MarcReject] = []
    for index, text in enumerate(texts):
        record_number = index + 1
        try:
            parsed = pymarc.parse_xml_to_array(io.BytesIO(text.encode("utf-8")))
            if len(parsed) != 1:
                raise _RecordProblem("the <record> element could not be read as one MARC record")
            records.append(_extract(parsed[0], record_number, SourceEncoding.MARCXML, raw_marcxml=text))
        except _RecordProblem as problem:
            rejects.append(_xml_reject(file_name, record_number, text, str(problem)))
        except Exception as error:  # pymarc raises KeyError, ValueError… on odd elements; report, never stop
            rejects.append(_xml_reject(file_name, record_number, text, _explain_marcxml_failure(error)))
    if broken:
        rejects.append(MarcReject(file_name=file_name, record_number=len(texts) + 1, control_number=None,
                                  reason=f"{broken}; no record from this point on could be read"))
    elif not texts:
        rejects.append(MarcReject(file_name=file_name, record_number=0, control_number=None,
                                  reason="the XML document holds no MARC21 <record> elements"))
    return MarcReadResult(file_name=file_name, file_format=MarcFileFormat.MARCXML, records=records, rejects=rejects)


def _explain_marcxml_failure(error: Exception) -> str:
    if isinstance(error, KeyError) and error.args == ((None, "code"),):
        return "a <subfield> has no code attribute"
    if isinstance(error, KeyError) and error.args == ((None, "tag"),):
        return "a <controlfield> or <datafield> has no tag attribute"
    if isinstance(error, pymarc.exceptions.RecordLeaderInvalid):
        return "the <leader> is not 24 characters long"
    return f"the MARCXML record is not valid: {type(error).__name__}: {error}"


def _xml_reject(file_name: str, record_number: int, text: str, reason: str) -> MarcReject:
    found = re.search(r"""tag=["']001["'][^>]*>\s*([^<]+?)\s*<""", text)
    return MarcReject(file_name=file_name, record_number=record_number,
                      control_number=found.group(1) if found else None, reason=reason)


def _split_marcxml(data: bytes) -> tuple[list[str], str | None]:
    """The text of each MARC ``<record>`` element, and the well-formedness error that stopped reading, if any.

    The record text is cut from the original bytes so that export returns it unchanged. Namespace
    declarations the record inherits from its ``<collection>`` are added to its start tag, because the
    element must stand alone once it is stored by itself.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16").encode("utf-8")
        parser = xml.parsers.expat.ParserCreate(encoding="UTF-8")
    else:
        parser = xml.parsers.expat.ParserCreate()
    document_encoding = ["utf-8"]
    scopes: list[dict[str, str]] = []
    open_record: dict[str, int] = {}
    used_prefixes: set[str] = set()  # as declaration names: "xmlns" for the default namespace, "xmlns:marc"…
    texts: list[str] = []

    def on_declaration(version: str, encoding: str | None, standalone: int) -> None:
        if encoding:
            document_encoding[0] = encoding

    def on_start(qname: str, attributes: dict[str, str]) -> None:
        declared = {name: value for name, value in attributes.items() if name == "xmlns" or name.startswith("xmlns:")}
        scopes.append(declared)
        if open_record:
            used_prefixes.update(_prefixes_used(qname, attributes))
            return
        if qname.rpartition(":")[2] != "record" or _namespace_of(qname, scopes) not in (MARCXML_NAMESPACE, None):
            return  # not a MARC record; an SRU <srw:record> wrapper holds its MARC record further in
        used_prefixes.clear()
        used_prefixes.update(_prefixes_used(qname, attributes))
        open_record.update(depth=len(scopes), start=parser.CurrentByteIndex)

    def on_end(qname: str) -> None:
        if open_record and open_record["depth"] == len(scopes):
            index = parser.CurrentByteIndex
            # Expat reports an end tag at its "<"; for an empty <record/> it reports the byte after "/>".
            end = data.index(b">", index) + 1 if data.startswith(b"</" + qname.encode(), index) else index
            text = data[open_record["start"] : end].decode(document_encoding[0])
            # Declarations the record relies on but inherits from its <collection> must travel with it.
            inherited: dict[str, str] = {}
            for scope in scopes[:-1]:
                inherited.update(scope)
            missing = {name: value for name, value in inherited.items()
                       if name in used_prefixes and name not in scopes[-1]}
            texts.append(_with_namespace_declarations(text, qname, missing))
            open_record.clear()
        scopes.pop()

    parser.XmlDeclHandler = on_declaration
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as error:
        return texts, (f"the MARCXML is not well-formed at line {error.lineno}, column {error.offset + 1}: "
                       f"{xml.parsers.expat.ErrorString(error.code)}")
    return texts, None


def _namespace_of(qname: str, scopes: list[dict[str, str]]) -> str | None:
    prefix = qname.partition(":")[0] if ":" in qname else None
    key = f"xmlns:{prefix}" if prefix else "xmlns"
    for scope in reversed(scopes):
        if key in scope:
            return scope[key] or None
    return None


def _prefixes_used(qname: str, attributes: dict[str, str]) -> set[str]:
    used = {f"xmlns:{qname.partition(':')[0]}" if ":" in qname else "xmlns"}
    used.update(f"xmlns:{name.partition(':')[0]}" for name in attributes
                if ":" in name and not name.startswith("xmlns:") and not name.startswith("xml:"))
    return used


def _with_namespace_declarations(text: str, qname: str, missing: dict[str, str]) -> str:
    if not missing:
        return text
    declarations = "".join(f' {name}="{_escape_attribute(value)}"' for name, value in missing.items())
    return text[: 1 + len(qname)] + declarations + text[1 + len(qname) :]


def _escape_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# --- both ----------------------------------------------------------------------------------------------


def _extract(record: pymarc.Record, record_number: int, encoding: SourceEncoding, *,
             raw_iso2709: bytes | None = None, raw_marcxml: str | None = None) -> ParsedBib:
    title_field = record.get("245")
    if title_field is None or not any(title_field.get(code, "").strip() for code in "ak"):
        raise _RecordProblem("no 245 title ($a or $k)")
    try:
        return extract_bib(record, record_number=record_number, source_encoding=encoding,
                           raw_iso2709=raw_iso2709, raw_marcxml=raw_marcxml)
    except Exception as error:  # a field shaped in a way we did not foresee must not end the import
        raise _RecordProblem(f"the fields could not be extracted: {type(error).__name__}: {error}") from error
