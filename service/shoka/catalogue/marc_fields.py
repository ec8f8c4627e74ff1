"""The catalogue fields of one MARC21 record: title, readings, authors, NDC, ISBNs… as a ``ParsedBib``.

NDL JAPAN/MARC (and TRC MARC delivered as MARC21) records the *reading* of a field in a linked 880 field:
``245 $6 880-01`` is paired with ``880 $6 245-01/$1`` (katakana reading; Hangul for Korean books) and
``880 $6 245-01/(B`` (romanisation). LC and OCLC records use the same linkage the other way round: the 880
with script ``$1`` holds the vernacular (kanji) form and the regular field the romanisation. We tell the two
apart by content — a reading never contains a Han ideograph — so both kinds of records come out right.
"""

from __future__ import annotations

import enum
import re
import unicodedata

import msgspec
import pymarc

from shoka.catalogue.isbn import isbn10_from_13, normalise_isbn


class SourceEncoding(enum.StrEnum):
    UTF8 = "utf-8"
    MARC8 = "marc-8"
    UTF8_LABELLED_MARC8 = "utf-8 (leader/09 wrongly says MARC-8)"
    MARCXML = "marcxml"


class MaterialType(enum.StrEnum):
    """Derived from leader/06-07; the facet and the circulation rules use it."""

    BOOK = "book"
    SERIAL = "serial"
    AUDIO = "audio"
    SCORE = "score"
    VIDEO = "video"
    MAP = "map"
    ELECTRONIC = "electronic"
    OTHER = "other"


class SubjectKind(enum.StrEnum):
    PERSON = "person"  # 600
    CORPORATE = "corporate"  # 610
    MEETING = "meeting"  # 611
    UNIFORM_TITLE = "uniform_title"  # 630
    TOPIC = "topic"  # 650
    PLACE = "place"  # 651
    KEYWORD = "keyword"  # 653, uncontrolled


class ParsedAuthor(msgspec.Struct, frozen=True, kw_only=True):
    tag: str  # 100, 110, 111, 700, 710 or 711: main entry or added entry, person, body or meeting
    name: str
    reading: str | None
    romanised: str | None
    dates: str | None  # $d, e.g. "1943-"
    relator: str | None  # $e terms or $4 codes


class ParsedPublisher(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    reading: str | None
    place: str | None


class ParsedSeries(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    reading: str | None
    volume: str | None
    issn: str | None


class ParsedSubject(msgspec.Struct, frozen=True, kw_only=True):
    kind: SubjectKind
    heading: str  # main heading and subdivisions joined with "--"
    reading: str | None
    scheme: str | None  # $2 (e.g. "ndlsh"), or "lcsh" when ind2 is 0
    authority_id: str | None  # $0


class ParsedClassification(msgspec.Struct, frozen=True, kw_only=True):
    scheme: str  # "ddc", "lcc", or the 084 $2 code (e.g. "kktb" for NDLC)
    number: str
    edition: str | None


class ParsedIsbn(msgspec.Struct, frozen=True, kw_only=True):
    original: str  # $a (or $z) as catalogued
    isbn13: str | None  # None when the printed ISBN does not validate
    isbn10: str | None
    qualifier: str | None  # $q, or a parenthesised qualifier in $a such as "(上)" or "(pbk.)"
    cancelled: bool  # from $z: invalid or cancelled ISBN, kept so it still finds the book


class ParsedLink(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    label: str | None
    is_ndl_digital: bool  # NDL Digital Collections (dl.ndl.go.jp)


class ParsedBib(msgspec.Struct, frozen=True, kw_only=True):
    """One bibliographic record: the original exactly as imported, and the fields the catalogue uses."""

    record_number: int  # position in the imported file, 1-based
    source_encoding: SourceEncoding
    raw_iso2709: bytes | None  # the record's bytes as read, when imported as ISO 2709
    raw_marcxml: str | None  # the <record> element's text, when imported as MARCXML
    leader: str
    control_number: str | None  # 001
    control_number_source: str | None  # 003, e.g. "JTNDL"
    is_deletion: bool  # leader/05 "d": the supplier withdrew this record
    material_type: MaterialType
    title: str
    subtitle: str | None
    title_parts: list[str]  # 245 $n and $p, in order
    title_nonfiling_characters: int  # 245 ind2: "The ", "L'"… skipped when sorting Western titles
    title_reading: str | None
    subtitle_reading: str | None
    title_romanised: str | None
    variant_titles: list[str]  # 246, 740
    responsibility: str | None  # 245 $c
    authors: list[ParsedAuthor]
    publishers: list[ParsedPublisher]
    publication_place: str | None
    publication_date: str | None  # 260/264 $c as catalogued, e.g. "2019.2"
    year: int | None
    edition: str | None
    extent: str | None  # 300
    series: list[ParsedSeries]
    subjects: list[ParsedSubject]
    ndc: str | None
    ndc_edition: int | None  # 10 for "njb/10"
    classifications: list[ParsedClassification]
    isbns: list[ParsedIsbn]
    price: str | None  # 020 $c, e.g. "1700円"
    national_bibliography_numbers: list[str]  # 015 $a (JP numbers for NDL)
    languages: list[str]  # 008/35-37 then 041 $a, MARC language codes
    original_languages: list[str]  # 041 $h: the language a translation was made from
    notes: list[str]  # 500
    contents: list[str]  # 505
    links: list[ParsedLink]  # 856
    ndl_digital_url: str | None


def extract_bib(record: pymarc.Record, *, record_number: int, source_encoding: SourceEncoding,
                raw_iso2709: bytes | None, raw_marcxml: str | None) -> ParsedBib:
    """The catalogue fields of ``record``; the caller has checked that it has a 245 title."""
    leader = str(record.leader)
    alternates = _AlternateForms(record)
    title_field = record["245"]
    title_forms = alternates.forms(title_field, "a")
    subtitle_forms = alternates.forms(title_field, "b")
    publishers, place, date_text = _publication(record, alternates)
    ndc, ndc_edition, classifications = _classifications(record)
    fixed = _control_value(record, "008")
    return ParsedBib(
        record_number=record_number,
        source_encoding=source_encoding,
        raw_iso2709=raw_iso2709,
        raw_marcxml=raw_marcxml,
        leader=leader,
        control_number=_control_value(record, "001") or None,
        control_number_source=_control_value(record, "003") or None,
        is_deletion=leader[5:6] == "d",
        material_type=_material_type(leader),
        title=title_forms.main or _clean(title_field.get("k")) or "",
        subtitle=subtitle_forms.main,
        title_parts=[part for code, value in _subfields(title_field, "np") if (part := _clean(value))],
        title_nonfiling_characters=int(title_field.indicator2) if title_field.indicator2.isdigit() else 0,
        title_reading=title_forms.reading,
        subtitle_reading=subtitle_forms.reading,
        title_romanised=title_forms.romanised,
        variant_titles=[title for field in record.get_fields("246", "740") if (title := _clean(field.get("a")))],
        responsibility=_clean(title_field.get("c")),
        authors=[_author(field, alternates) for field in record.get_fields("100", "110", "111", "700", "710", "711")
                 if _clean(field.get("a"))],
        publishers=publishers,
        publication_place=place,
        publication_date=date_text,
        year=_year(date_text, fixed),
        edition=_joined(record.get("250"), "ab"),
        extent=_joined(record.get("300"), "abcdefg3"),
        series=_series(record, alternates),
        subjects=_subjects(record, alternates),
        ndc=ndc,
        ndc_edition=ndc_edition,
        classifications=classifications,
        isbns=_isbns(record),
        price=next((price for field in record.get_fields("020") if (price := _clean(field.get("c")))), None),
        national_bibliography_numbers=[number for field in record.get_fields("015") for number in
                                       (_clean(value) for value in field.get_subfields("a")) if number],
        languages=_languages(record, fixed),
        original_languages=_language_codes(value for field in record.get_fields("041")
                                           for value in field.get_subfields("h")),
        notes=[note for field in record.get_fields("500") if (note := _clean(field.get("a")))],
        contents=[text for field in record.get_fields("505") if (text := _joined(field, "agrtu"))],
        links=(links := _links(record)),
        ndl_digital_url=next((link.url for link in links if link.is_ndl_digital), None),
    )


# --- 880 readings -------------------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_NON_LATIN_SCRIPT = re.compile(
    r"[\u0370-\u1dff\u1f00-\u1fff\u3000-\ud7ff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)


class _Forms(msgspec.Struct, frozen=True):
    main: str | None
    reading: str | None
    romanised: str | None


class _AlternateForms:
    """The 880 fields of a record, found by the tag and occurrence number in their $6 linkage."""

    def __init__(self, record: pymarc.Record) -> None:
        self._by_link: dict[tuple[str, str], dict[str, pymarc.Field]] = {}
        for field in record.get_fields("880"):
            linkage = field.get("6") or ""
            # "$6 245-01/$1": linked tag, occurrence, then a script id ("$1" CJK, "(B" Latin, "(3/r" Arabic…)
            found = re.match(r"(\d{3})-(\d{2,})(?:/([^/]*))?", linkage)
            if found and found.group(2).strip("0"):
                key = (found.group(1), found.group(2))
                self._by_link.setdefault(key, {}).setdefault(found.group(3) or "", field)

    def linked(self, field: pymarc.Field) -> dict[str, pymarc.Field]:
        """The 880 fields linked to ``field`` by its "$6 880-NN", keyed by script id."""
        found = re.match(r"880-(\d{2,})", field.get("6") or "")
        return self._by_link.get((field.tag, found.group(1)), {}) if found else {}

    def forms(self, field: pymarc.Field, code: str, *, values: list[str] | None = None) -> _Forms:
        main = _clean(field.get(code)) if values is None else _clean(" ".join(values))
        linked = self.linked(field)
        cjk, latin = linked.get("$1"), linked.get("(B")
        cjk_text = _clean(cjk.get(code)) if cjk else None
        latin_text = _clean(latin.get(code)) if latin else None
        if cjk_text and _HAN.search(cjk_text) and main and not _NON_LATIN_SCRIPT.search(main):
            # LC/OCLC convention: the 880 is the vernacular and the regular field its romanisation.
            return _Forms(main=cjk_text, reading=None, romanised=main)
        reading = cjk_text if cjk_text and not _HAN.search(cjk_text) else None
        return _Forms(main=main, reading=reading, romanised=latin_text)

    def reading_values(self, field: pymarc.Field, code: str) -> list[str]:
        """Each ``code`` subfield of the linked reading, in order; "" where it is not a reading."""
        cjk = self.linked(field).get("$1")
        if cjk is None:
            return []
        return [text if not _HAN.search(text := _clean(value) or "") else "" for value in cjk.get_subfields(code)]


# --- field groups -------------------------------------------------------------------------------------


def _author(field: pymarc.Field, alternates: _AlternateForms) -> ParsedAuthor:
    name_codes = "ab" if field.tag in ("110", "710") else "a"
    name_values = [value for code, value in _subfields(field, name_codes)]
    forms = alternates.forms(field, "a", values=name_values)
    name = forms.main or ""
    # A personal name's final period is ISBD punctuation ("Félice, Philippe de."), unless it ends an initial;
    # corporate names keep theirs when it may end an abbreviation ("Inc.").
    if field.tag.endswith("00") and name.endswith(".") and not re.search(r"(?:^|[\s.,])[A-Za-z]\.$", name):
        name = name[:-1].rstrip()
    relators = [_clean(value) for value in field.get_subfields("e", "j")] or field.get_subfields("4")
    return ParsedAuthor(tag=field.tag, name=name, reading=forms.reading, romanised=forms.romanised,
                        dates=_clean(field.get("d")), relator="; ".join(r for r in relators if r) or None)


def _publication(record: pymarc.Record, alternates: _AlternateForms) -> tuple[list[ParsedPublisher], str | None,
                                                                                str | None]:
    """Publishers with their readings and places, the first place, and the first date as catalogued."""
    fields = record.get_fields("260") or [f for f in record.get_fields("264") if f.indicator2 == "1"]
    publishers: list[ParsedPublisher] = []
    places: list[str] = []
    dates: list[str] = []
    for field in fields:
        # The linked 880 repeats $b once per publisher, in the same order ("日経BP社 ; 日経BPマーケティング").
        readings = alternates.reading_values(field, "b")
        place = None
        publisher_index = 0
        for code, value in _subfields(field, "abc"):
            text = _clean(value)
            if code == "b":
                reading = readings[publisher_index] if publisher_index < len(readings) else None
                publisher_index += 1
                if text:
                    publishers.append(ParsedPublisher(name=text, reading=reading or None, place=place))
            elif text and code == "a":
                place = text
                places.append(text)
            elif text:
                dates.append(text)
    return publishers, (places[0] if places else None), (dates[0] if dates else None)


def _series(record: pymarc.Record, alternates: _AlternateForms) -> list[ParsedSeries]:
    series: list[ParsedSeries] = []
    for field in record.get_fields("490", "830"):
        forms = alternates.forms(field, "a")
        if not forms.main or any(existing.title == forms.main for existing in series):
            continue  # 490 ind1=1 is traced by an 830 with the same title; keep one
        volume = _clean(field.get("v"))
        series.append(ParsedSeries(title=forms.main, reading=forms.reading, volume=volume,
                                   issn=_clean(field.get("x"))))
    return series


_SUBJECT_SCHEMES_BY_INDICATOR = {"0": "lcsh", "1": "lcshac", "2": "mesh", "3": "nal", "5": "cash", "6": "rvm"}
_SUBJECT_KINDS = {"600": SubjectKind.PERSON, "610": SubjectKind.CORPORATE, "611": SubjectKind.MEETING,
                  "630": SubjectKind.UNIFORM_TITLE, "650": SubjectKind.TOPIC, "651": SubjectKind.PLACE,
                  "653": SubjectKind.KEYWORD}


def _subjects(record: pymarc.Record, alternates: _AlternateForms) -> list[ParsedSubject]:
    subjects: list[ParsedSubject] = []
    for field in record.get_fields(*_SUBJECT_KINDS):
        reading_field = alternates.linked(field).get("$1")
        if field.indicator2 == "7":
            scheme = _clean(field.get("2"))
        else:
            scheme = _SUBJECT_SCHEMES_BY_INDICATOR.get(field.indicator2)
        if field.tag == "653":
            # Uncontrolled keywords: each $a is a term of its own ("$a英語$a和訳").
            terms = [_clean(value) for value in field.get_subfields("a")]
            readings = [_clean(value) for value in reading_field.get_subfields("a")] if reading_field else []
        else:
            terms = [_heading(field)]
            readings = [_heading(reading_field)] if reading_field is not None else []
        for index, term in enumerate(terms):
            if not term:
                continue
            reading = readings[index] if index < len(readings) else None
            subjects.append(ParsedSubject(kind=_SUBJECT_KINDS[field.tag], heading=term,
                                          reading=reading if reading and not _HAN.search(reading) else None,
                                          scheme=None if field.tag == "653" else scheme,
                                          authority_id=_clean(field.get("0"))))
    return subjects


def _heading(field: pymarc.Field) -> str | None:
    main_codes = {"600": "abcdq", "610": "abcd", "611": "acdn", "630": "adfklnp"}.get(field.tag, "ab")
    main = _joined(field, main_codes)
    subdivisions = [text for code, value in _subfields(field, "vxyz") if (text := _clean(value))]
    return "--".join([main, *subdivisions]) if main else None


def _classifications(record: pymarc.Record) -> tuple[str | None, int | None, list[ParsedClassification]]:
    ndc_candidates: list[tuple[int, str]] = []
    others: list[ParsedClassification] = []
    for field in record.get_fields("084"):
        scheme = (field.get("2") or "").strip()
        number = _clean(field.get("a"))
        if not number:
            continue
        if re.match(r"(?i)(njb|ndc)", scheme):
            # "njb/10", "njb/09", "NDC10", "ndc8": the edition is the number in $2 (0 when not given)
            edition_digits = re.search(r"\d+", scheme)
            ndc_candidates.append((int(edition_digits.group()) if edition_digits else 0, number))
        else:
            others.append(ParsedClassification(scheme=scheme or "unknown", number=number, edition=None))
    for field in record.get_fields("082"):
        if number := _clean(field.get("a")):
            others.append(ParsedClassification(scheme="ddc", number=number.replace("/", ""),
                                               edition=_clean(field.get("2"))))
    for field in record.get_fields("050"):
        if number := _joined(field, "ab"):
            others.append(ParsedClassification(scheme="lcc", number=number, edition=None))
    if not ndc_candidates:
        return None, None, others
    # A record may carry NDC9 and NDC10 side by side; the newest edition is the one shelves follow now.
    edition, number = max(ndc_candidates, key=lambda candidate: candidate[0])
    return number, (edition or None), others


_ISBN_IN_TEXT = re.compile(r"^\s*(?:ISBN[:\s]*)?([0-9０-９][0-9０-９Xx\-‐ ]{8,20}[0-9０-９Xx])(.*)$", re.IGNORECASE)


def _isbns(record: pymarc.Record) -> list[ParsedIsbn]:
    isbns: list[ParsedIsbn] = []
    for field in record.get_fields("020"):
        qualifiers = [text for value in field.get_subfields("q") if (text := _clean(value))]
        for code, value in _subfields(field, "az"):
            found = _ISBN_IN_TEXT.match(value)
            isbn_text = found.group(1).strip() if found else value.strip()
            # "978-4-7949-7075-6 :" ends in ISBD punctuation; "4-06-123456-7 (上)" carries a qualifier.
            rest = found.group(2) if found else ""
            inline = [text for text in re.findall(r"\(([^)]*)\)", rest) if text.strip()]
            if not isbn_text:
                continue
            isbn13 = normalise_isbn(isbn_text)
            isbns.append(ParsedIsbn(original=_clean(value) or isbn_text, isbn13=isbn13, isbn10=isbn10_from_13(isbn13),
                                    qualifier="; ".join(inline + qualifiers) or None, cancelled=code == "z"))
    return isbns


def _languages(record: pymarc.Record, fixed: str) -> list[str]:
    coded = [fixed[35:38]] if len(fixed) >= 38 else []
    declared = [value for field in record.get_fields("041") for value in field.get_subfields("a")]
    return _language_codes([*coded, *declared])


def _language_codes(values) -> list[str]:
    codes: list[str] = []
    for value in values:
        # Older records pack several codes into one $a ("engfre").
        for code in re.findall(r"[a-z]{3}", value.strip().lower()) if len(value.strip()) % 3 == 0 else []:
            if code not in codes:
                codes.append(code)
    return codes


def _links(record: pymarc.Record) -> list[ParsedLink]:
    links: list[ParsedLink] = []
    for field in record.get_fields("856"):
        label = _clean(field.get("3") or field.get("y") or field.get("z"))
        for url in field.get_subfields("u"):
            if url := url.strip():
                links.append(ParsedLink(url=url, label=label, is_ndl_digital="dl.ndl.go.jp" in url))
    return links


def _material_type(leader: str) -> MaterialType:
    record_type, level = leader[6:7], leader[7:8]
    if record_type in ("a", "t"):
        return MaterialType.SERIAL if level in ("b", "i", "s") else MaterialType.BOOK
    return {"i": MaterialType.AUDIO, "j": MaterialType.AUDIO, "c": MaterialType.SCORE, "d": MaterialType.SCORE,
            "g": MaterialType.VIDEO, "e": MaterialType.MAP, "f": MaterialType.MAP,
            "m": MaterialType.ELECTRONIC}.get(record_type, MaterialType.OTHER)


def _year(date_text: str | None, fixed: str) -> int | None:
    candidates = re.findall(r"(?<!\d)(\d{4})(?!\d)", date_text or "")
    # 008/07-10 (date 1) is the coded fallback when $c holds no Western year (e.g. only "昭和55").
    if len(fixed) >= 11 and fixed[7:11].isdigit():
        candidates.append(fixed[7:11])
    for candidate in candidates:
        if 1000 <= int(candidate) <= 2100:
            return int(candidate)
    return None


# --- text ----------------------------------------------------------------------------------------------

_TRAILING_ISBD = re.compile(r"[\s/:;=,]+$")


def _clean(text: str | None) -> str | None:
    """Field text without the ISBD punctuation that separates it from the next subfield."""
    if text is None:
        return None
    cleaned = _TRAILING_ISBD.sub("", unicodedata.normalize("NFC", text).strip())
    # A final period is ISBD punctuation ("著.", "2019.2.", "Osby."), except after an abbreviation or an
    # initial ("Ont.", "ed.", "N.Y.", "Smith, J."): keep it after a Latin word of three letters or fewer.
    if cleaned.endswith(".") and not cleaned.endswith(".."):
        latin_word = re.search(r"[A-Za-z]+$", cleaned[:-1])
        # "cm" and "mm" are symbols, not abbreviations: "19cm." ends with ISBD punctuation.
        if latin_word is None or len(latin_word.group()) >= 4 or re.search(r"\d\s?[cm]m\.$", cleaned):
            cleaned = _TRAILING_ISBD.sub("", cleaned[:-1])
    return cleaned or None


def _joined(field: pymarc.Field | None, codes: str) -> str | None:
    if field is None:
        return None
    parts = [value.strip() for code, value in _subfields(field, codes) if value.strip()]
    return _clean(" ".join(parts))


def _subfields(field: pymarc.Field, codes: str) -> list[tuple[str, str]]:
    return [(subfield.code, subfield.value) for subfield in field.subfields if subfield.code in codes]


def _control_value(record: pymarc.Record, tag: str) -> str:
    field = record.get(tag)
    return (field.data or "").strip() if field is not None and field.control_field else ""
