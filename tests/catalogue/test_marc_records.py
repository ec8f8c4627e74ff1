"""MARC21 import: every record of a file is either parsed or rejected with a reason, and the originals survive.

Real files come from ../shared/data (NDL JAPAN/MARC, Evergreen MARC-8 and French sets, pymarc's broken files,
MARCXML); small broken files are built here byte by byte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pymarc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoka.catalogue.marc_fields import MaterialType, SourceEncoding, SubjectKind
from shoka.catalogue.marc_records import (
    MarcFileFormat,
    MarcReadResult,
    MarcRecordError,
    marcxml_to_iso2709,
    read_marc,
    record_to_marcxml,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent (../shared/data is not beside the checkout)")
    return path


def assert_every_position_accounted_for(result: MarcReadResult, expected_count: int | None = None) -> None:
    numbers = sorted([record.record_number for record in result.records]
                     + [reject.record_number for reject in result.rejects if reject.record_number > 0])
    assert numbers == list(range(1, len(numbers) + 1)), "a record position vanished or was counted twice"
    if expected_count is not None:
        assert len(numbers) == expected_count


def by_control_number(result: MarcReadResult, control_number: str):
    return next(record for record in result.records if record.control_number == control_number)


def make_record(fields: list[tuple[str, bytes]], *, leader_09: bytes = b"a") -> bytes:
    """An ISO 2709 record from (tag, field data without terminator) pairs."""
    directory = b""
    body = b""
    for tag, data in fields:
        data += b"\x1e"
        directory += tag.encode() + b"%04d%05d" % (len(data), len(body))
        body += data
    base_address = 24 + len(directory) + 1
    length = base_address + len(body) + 1
    leader = b"%05dnam " % length + leader_09 + b"22%05d   4500" % base_address
    return leader + directory + b"\x1e" + body + b"\x1d"


def title_field(title: str) -> tuple[str, bytes]:
    return "245", b"00\x1fa" + title.encode()


# --- NDL JAPAN/MARC -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ndl() -> MarcReadResult:
    return read_marc(shared_file("marc/ndl_japanmarc_133.mrc"))


def test_all_133_ndl_records_parse(ndl: MarcReadResult) -> None:
    assert ndl.file_format is MarcFileFormat.ISO2709
    assert len(ndl.records) == 133
    assert ndl.rejects == []
    assert_every_position_accounted_for(ndl, 133)
    assert all(record.source_encoding is SourceEncoding.UTF8 for record in ndl.records)


def test_ndl_originals_are_kept_byte_for_byte(ndl: MarcReadResult) -> None:
    original = shared_file("marc/ndl_japanmarc_133.mrc").read_bytes()
    assert b"".join(record.raw_iso2709 for record in ndl.records) == original
    assert all(record.raw_marcxml is None for record in ndl.records)


def test_ndl_record_title_reading_romanisation_and_ndc10(ndl: MarcReadResult) -> None:
    record = by_control_number(ndl, "029455884")
    assert record.control_number_source == "JTNDL"
    assert record.title == "これからの本の話をしよう"
    assert record.title_reading == "コレカラ ノ ホン ノ ハナシ オ シヨウ"  # 880 $6 245-01/$1
    assert record.title_romanised == "Korekara no hon no hanashi o shiyo"  # 880 $6 245-01/(B
    assert record.responsibility == "萩野正昭 著"
    assert (record.ndc, record.ndc_edition) == ("023", 10)  # 084 $a023 $2njb/10
    assert [(c.scheme, c.number) for c in record.classifications] == [("kktb", "UE13")]
    assert record.isbns[0].isbn13 == "9784794970756"
    assert record.isbns[0].isbn10 == "4794970757"
    assert record.isbns[0].original == "978-4-7949-7075-6"
    assert record.price == "1700円"
    assert [(a.tag, a.name, a.reading, a.romanised) for a in record.authors] == [
        ("700", "萩野, 正昭", "ハギノ, マサアキ", "Hagino, Masaki")]
    assert [(p.name, p.reading, p.place) for p in record.publishers] == [("晶文社", "ショウブンシャ", "東京")]
    assert record.publication_date == "2019.2"
    assert record.year == 2019
    assert record.extent == "301p ; 19cm"
    assert record.languages == ["jpn"]
    assert record.material_type is MaterialType.BOOK
    assert record.national_bibliography_numbers == ["23173255"]
    assert [(s.kind, s.heading, s.reading, s.scheme, s.authority_id) for s in record.subjects] == [
        (SubjectKind.TOPIC, "電子書籍", "デンシ ショセキ", "ndlsh", "01194148"),
        (SubjectKind.TOPIC, "電子出版", "デンシシュッパン", "ndlsh", "00575535")]


def test_ndl_subtitle_and_part_are_separate_from_the_title(ndl: MarcReadResult) -> None:
    record = by_control_number(ndl, "029611852")
    assert record.title == "CNNニュース・リスニング"
    assert record.subtitle == "音声&電子書籍版付き : 1本30秒だから、聞きやすい!"
    assert record.title_parts == ["2019春夏"]
    assert record.title_reading == "シーエヌエヌ ニュース リスニング"
    assert record.subtitle_reading == (
        "オンセイ アンド デンシ ショセキバンツキ : イッポン サンジュウビョウ ダカラ キキヤスイ")
    assert [(s.kind, s.heading) for s in record.subjects] == [
        (SubjectKind.KEYWORD, "英語"), (SubjectKind.KEYWORD, "和訳")]


def test_ndl_two_publishers_each_with_their_reading(ndl: MarcReadResult) -> None:
    record = by_control_number(ndl, "024974290")
    assert [(p.name, p.reading, p.place) for p in record.publishers] == [
        ("日経BP社", "ニッケイビーピーシャ", "[東京]"),
        ("日経BPマーケティング (発売)", "ニッケイビーピーマーケティング", "東京")]
    assert [(s.title, s.reading) for s in record.series] == [
        ("日経BPパソコンベストムック", "ニッケイ ビーピー パソコン ベスト ムック")]


def test_ndl_ndc9_edition_and_translation_language(ndl: MarcReadResult) -> None:
    assert (by_control_number(ndl, "027189970").ndc, by_control_number(ndl, "027189970").ndc_edition) == ("507.2", 9)
    translated = [record for record in ndl.records if record.original_languages == ["eng"]]
    assert translated and all(record.languages[0] == "jpn" for record in translated)


def test_ndl_record_without_a_reading_and_korean_reading(ndl: MarcReadResult) -> None:
    # 245 links to 880-01, but the record has no such 880: no reading rather than a wrong one.
    no_reading = by_control_number(ndl, "000007029824")
    assert no_reading.title_reading is None
    assert no_reading.year == 1987
    assert no_reading.authors[0].reading == "ハタノ, ヒロユキ"
    korean = by_control_number(ndl, "024929826")
    assert korean.title == "韓國目録規則"
    assert korean.title_reading == "한국 목록 규칙"  # NDL gives Korean books a Hangul reading, not katakana
    assert korean.languages == ["kor"]


def test_ndl_iso2709_to_marcxml_and_back_is_byte_identical(ndl: MarcReadResult) -> None:
    for record in ndl.records[:20]:
        xml = record_to_marcxml(record.raw_iso2709)
        ElementTree.fromstring(xml)  # standalone, well-formed
        assert marcxml_to_iso2709(xml) == record.raw_iso2709


# --- MARC-8 and other real files ------------------------------------------------------------------------


def test_marc8_jazz_file_decodes_diacritics() -> None:
    result = read_marc(shared_file("marc/evergreen__jazz_1k.mrc"))
    assert len(result.records) == 1000 and result.rejects == []
    koln = by_control_number(result, "03-0017438")
    assert koln.title == "The Köln concert"
    assert koln.source_encoding is SourceEncoding.MARC8
    assert koln.material_type is MaterialType.AUDIO
    assert by_control_number(result, "03-0017123").title == "Mudanças"
    kinds = {record.material_type for record in result.records}
    assert {MaterialType.AUDIO, MaterialType.SCORE, MaterialType.BOOK, MaterialType.VIDEO} <= kinds


def test_marc8_record_exports_as_unicode_marcxml() -> None:
    result = read_marc(shared_file("marc/evergreen__jazz_1k.mrc"))
    xml = record_to_marcxml(by_control_number(result, "03-0017438").raw_iso2709)
    root = ElementTree.fromstring(xml)
    leader = root.find("{http://www.loc.gov/MARC21/slim}leader").text
    assert leader[9] == "a"
    assert "The Köln concert" in xml
    again = read_marc(marcxml_to_iso2709(xml), file_name="converted.mrc")
    assert again.records[0].title == "The Köln concert"
    assert again.records[0].source_encoding is SourceEncoding.UTF8


def test_french_set_parses() -> None:
    result = read_marc(shared_file("marc/evergreen__lul_fre_500.mrc"))
    assert len(result.records) == 500 and result.rejects == []
    record = by_control_number(result, "01-0211801")
    assert record.title == "L'autre monde, mythes et légendes"
    assert record.subtitle == "le purgatoire de Saint Patrice"
    assert record.title_nonfiling_characters == 2
    assert record.authors[0].name == "Félice, Philippe de"
    assert record.languages == ["fre"]
    assert record.year == 1906


def test_authority_records_are_rejected_as_having_no_title() -> None:
    result = read_marc(shared_file("marc/evergreen__auth-1066.mrc"))
    assert result.records == []
    assert len(result.rejects) == 1066
    assert result.rejects[0].reason == "no 245 title ($a or $k)"
    assert result.rejects[0].control_number


def test_marcxml_files_parse_and_keep_their_record_text() -> None:
    concerto_path = shared_file("marcxml/evergreen_concerto_biblio_record_entry.marcxml.xml")
    concerto = read_marc(concerto_path)
    assert concerto.file_format is MarcFileFormat.MARCXML
    assert len(concerto.records) == 344 and concerto.rejects == []
    first = concerto.records[0]
    assert first.title == "La canzone italiana del Novecento"
    assert first.raw_iso2709 is None and first.source_encoding is SourceEncoding.MARCXML
    # The record inherits its default namespace from <collection>; stored alone it must declare it itself.
    assert first.raw_marcxml.startswith('<record xmlns="http://www.loc.gov/MARC21/slim"><leader>')
    assert first.raw_marcxml.replace(' xmlns="http://www.loc.gov/MARC21/slim"', "", 1) in concerto_path.read_text()
    assert ElementTree.fromstring(first.raw_marcxml) is not None

    utf8_path = shared_file("marcxml/pymarc__utf8.xml")
    utf8 = read_marc(utf8_path)
    assert utf8.records[0].raw_marcxml in utf8_path.read_text()  # declares its own namespace: kept exactly
    batch = read_marc(shared_file("marcxml/pymarc__batch.xml"))
    assert len(batch.records) == 2
    assert batch.records[0].title == "The Great Ray Charles"


def test_marcxml_record_converts_to_iso2709() -> None:
    concerto = read_marc(shared_file("marcxml/evergreen_concerto_biblio_record_entry.marcxml.xml"))
    iso2709 = marcxml_to_iso2709(concerto.records[0].raw_marcxml)
    again = read_marc(iso2709, file_name="converted.mrc")
    assert again.records[0].title == concerto.records[0].title
    assert again.records[0].control_number == concerto.records[0].control_number


# --- broken files ---------------------------------------------------------------------------------------


def test_pymarc_bad_records_file_rejects_the_damaged_and_keeps_the_good() -> None:
    result = read_marc(shared_file("marc/pymarc_tests/bad_records.mrc"))
    assert [record.record_number for record in result.records] == [1, 8]
    assert all(record.title == "The pragmatic programmer" for record in result.records)
    reasons = {reject.record_number: reject.reason for reject in result.rejects}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "base address" in reasons[2] and "base address" in reasons[3]
    assert "directory" in reasons[4] and "directory" in reasons[5]
    assert "leader/12-16" in reasons[6]
    assert "no fields" in reasons[7]
    assert_every_position_accounted_for(result, 8)


def test_pymarc_damaged_subfield_code_is_rejected() -> None:
    result = read_marc(shared_file("marc/pymarc_tests/utf8_invalid.mrc"))
    assert result.records == []
    [reject] = result.rejects
    assert (reject.record_number, reject.control_number) == (1, "144917")
    assert "field 260" in reject.reason


def test_windows_1251_file_labelled_marc8_is_rejected_not_garbled() -> None:
    result = read_marc(shared_file("marc/pymarc_tests/1251.dat"))
    assert result.records == []
    assert [reject.record_number for reject in result.rejects] == [1, 2, 3, 4, 5, 6]
    assert all("not MARC-8" in reject.reason for reject in result.rejects)


def test_utf8_record_wrongly_labelled_marc8_is_read_as_utf8() -> None:
    labelled = read_marc(shared_file("marc/pymarc_tests/utf8_with_leader_flag.dat")).records[0]
    mislabelled = read_marc(shared_file("marc/pymarc_tests/utf8_without_leader_flag.dat")).records[0]
    assert mislabelled.source_encoding is SourceEncoding.UTF8_LABELLED_MARC8
    assert (mislabelled.title, mislabelled.authors, mislabelled.subjects) == (
        labelled.title, labelled.authors, labelled.subjects)
    real_marc8 = read_marc(shared_file("marc/pymarc_tests/marc8.dat")).records[0]
    assert real_marc8.source_encoding is SourceEncoding.MARC8
    assert real_marc8.title == labelled.title


@pytest.mark.parametrize("name", ["marc.dat", "test.dat", "one.dat", "multi_isbn.dat", "diacritic.dat",
                                  "regression45.dat", "marc8.dat"])
def test_records_plus_rejects_equal_records_in_file(name: str) -> None:
    data = shared_file(f"marc/pymarc_tests/{name}").read_bytes()
    result = read_marc(data, file_name=name)
    assert_every_position_accounted_for(result, data.count(b"\x1d"))


def test_invalid_utf8_names_the_field_and_neighbours_survive() -> None:
    good_one = make_record([("001", b"A1"), title_field("Before")])
    broken = make_record([("001", b"B2"), ("245", b"00\x1faBad \xff\xfe title")])
    good_two = make_record([("001", b"C3"), title_field("After")])
    result = read_marc(good_one + broken + good_two, file_name="synthetic.mrc")
    assert [record.title for record in result.records] == ["Before", "After"]
    [reject] = result.rejects
    assert (reject.file_name, reject.record_number, reject.control_number) == ("synthetic.mrc", 2, "B2")
    assert reject.reason.startswith("invalid UTF-8 in field 245")
    assert reject.describe().startswith("synthetic.mrc: record 2 (001 B2): invalid UTF-8 in field 245")


def test_leader_length_mismatch_costs_one_record_only() -> None:
    good_one = make_record([("001", b"A1"), title_field("Before")])
    wrong_length = bytearray(make_record([("001", b"B2"), title_field("Lying leader")]))
    wrong_length[0:5] = b"%05d" % (len(wrong_length) + 40)
    good_two = make_record([("001", b"C3"), title_field("After")])
    result = read_marc(good_one + bytes(wrong_length) + b"\r\n" + good_two, file_name="synthetic.mrc")
    assert [(record.record_number, record.title) for record in result.records] == [(1, "Before"), (3, "After")]
    assert result.rejects[0].record_number == 2
    assert "leader length mismatch" in result.rejects[0].reason
    assert result.rejects[0].control_number == "B2"


def test_truncated_last_record_and_missing_title_are_reported() -> None:
    no_title = make_record([("001", b"N1"), ("100", b"1 \x1faSomeone")])
    good = make_record([("001", b"G1"), title_field("Good")])
    truncated = make_record([("001", b"T1"), title_field("Cut off")])[:-20]
    result = read_marc(no_title + good + truncated, file_name="synthetic.mrc")
    assert [record.title for record in result.records] == ["Good"]
    assert [(reject.record_number, reject.reason) for reject in result.rejects] == [
        (1, "no 245 title ($a or $k)"),
        (3, "the file ends in the middle of this record (no end-of-record mark 1D)")]


def test_empty_file_has_nothing_and_raw_bytes_are_kept_for_marc8() -> None:
    assert read_marc(b"", file_name="empty.mrc") == MarcReadResult(
        file_name="empty.mrc", file_format=MarcFileFormat.ISO2709, records=[], rejects=[])
    marc8 = make_record([("245", b"00\x1faCaf\xe2e")], leader_09=b" ")  # ANSEL acute precedes its "e"
    record = read_marc(marc8, file_name="x.mrc").records[0]
    assert record.title == "Café"
    assert record.raw_iso2709 == marc8


def test_broken_marcxml_keeps_the_records_before_the_break() -> None:
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">'
           b'<record><leader>00000nam a2200000 a 4500</leader>'
           b'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">First</subfield></datafield></record>'
           b'<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">N2</controlfield></record>'
           b'<record><datafield tag="245"><subfield code="a">Broken</subfield></datafiel')
    result = read_marc(xml, file_name="broken.xml")
    assert [record.title for record in result.records] == ["First"]
    assert [(reject.record_number, reject.control_number) for reject in result.rejects] == [(2, "N2"), (3, None)]
    assert result.rejects[0].reason == "no 245 title ($a or $k)"
    assert "not well-formed" in result.rejects[1].reason


def test_xml_without_marc_records_is_reported_for_the_whole_file() -> None:
    result = read_marc(b"<?xml version='1.0'?><rss><channel/></rss>", file_name="feed.xml")
    assert result.records == []
    assert [(reject.record_number, reject.file_name) for reject in result.rejects] == [(0, "feed.xml")]


def test_conversions_refuse_unusable_input() -> None:
    with pytest.raises(MarcRecordError):
        record_to_marcxml(b"00010nam a2200000   4500\x1d")
    with pytest.raises(MarcRecordError):
        marcxml_to_iso2709("<collection xmlns='http://www.loc.gov/MARC21/slim'/>")


def test_lc_style_880_holds_the_vernacular_not_a_reading() -> None:
    # LC/OCLC records romanise 245 and put the kanji in 880 $1: the kanji is the title, 245 its romanisation.
    record = pymarc.Record()
    record.add_field(pymarc.Field("245", pymarc.Indicators("1", "0"), [
        pymarc.Subfield("6", "880-01"), pymarc.Subfield("a", "Korekara no hon no hanashi o shiyō /")]))
    record.add_field(pymarc.Field("880", pymarc.Indicators("1", "0"), [
        pymarc.Subfield("6", "245-01/$1"), pymarc.Subfield("a", "これからの本の話をしよう /")]))
    parsed = read_marc(record.as_marc(), file_name="lc.mrc").records[0]
    assert (parsed.title, parsed.title_reading, parsed.title_romanised) == (
        "これからの本の話をしよう", None, "Korekara no hon no hanashi o shiyō")


def test_links_rda_publication_isbn_qualifiers_and_material_types() -> None:
    fields = [
        ("001", b"S1"),
        ("008", b"190212s2019    ja            000 0 jpn  "),
        ("020", b"  \x1fa4-04-653883-x (\xe4\xb8\x8a) :\x1fc1200\xe5\x86\x86"),  # 4-04-653883-x (上) : 1200円
        ("020", b"  \x1fz978-4-7949-7075-5\x1fqpbk."),  # cancelled, bad check digit
        title_field("Links"),
        ("264", b" 0\x1fbProducer,\x1fc2001"),  # production, not publication
        ("264", b" 1\x1faTokyo :\x1fbPublisher,\x1fc[2019]"),
        ("856", b"40\x1fuhttps://dl.ndl.go.jp/pid/1234567\x1fyNDL Digital"),
        ("856", b"42\x1fuhttps://example.org/about"),
    ]
    record = read_marc(make_record(fields), file_name="links.mrc").records[0]
    assert record.ndl_digital_url == "https://dl.ndl.go.jp/pid/1234567"
    assert [(link.url, link.label, link.is_ndl_digital) for link in record.links] == [
        ("https://dl.ndl.go.jp/pid/1234567", "NDL Digital", True), ("https://example.org/about", None, False)]
    assert [(p.name, p.place) for p in record.publishers] == [("Publisher", "Tokyo")]
    assert (record.publication_date, record.year) == ("[2019]", 2019)
    assert [(i.isbn13, i.qualifier, i.cancelled) for i in record.isbns] == [
        ("9784046538833", "上", False), (None, "pbk.", True)]  # "pbk." keeps its abbreviation period
    assert record.price == "1200円"
    leaders = {"c": MaterialType.SCORE, "e": MaterialType.MAP, "g": MaterialType.VIDEO, "j": MaterialType.AUDIO,
               "m": MaterialType.ELECTRONIC, "k": MaterialType.OTHER}
    for record_type, material in leaders.items():
        raw = bytearray(make_record([title_field("Kind")]))
        raw[6:7] = record_type.encode()
        assert read_marc(bytes(raw), file_name="kind.mrc").records[0].material_type is material
    serial = bytearray(make_record([title_field("Serial")]))
    serial[7:8] = b"s"
    assert read_marc(bytes(serial), file_name="serial.mrc").records[0].material_type is MaterialType.SERIAL


# --- fuzzing --------------------------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    result = read_marc(data, file_name="fuzz")
    if result.file_format is MarcFileFormat.ISO2709:
        assert_every_position_accounted_for(result)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_records_never_raise(data: st.DataObject) -> None:
    ndl = shared_file("marc/ndl_japanmarc_133.mrc").read_bytes()
    records = ndl.split(b"\x1d")[:3]
    chunk = bytearray(b"\x1d".join(records) + b"\x1d")
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        position = data.draw(st.integers(min_value=0, max_value=len(chunk) - 1))
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        byte = data.draw(st.integers(min_value=0, max_value=255))
        if action == "replace":
            chunk[position] = byte
        elif action == "delete":
            del chunk[position]
        else:
            chunk.insert(position, byte)
    result = read_marc(bytes(chunk), file_name="mutated.mrc")
    if result.file_format is MarcFileFormat.ISO2709:
        assert_every_position_accounted_for(result)
        assert len(result.records) + len(result.rejects) >= 1


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_xml_looking_garbage_never_raises(tail: bytes) -> None:
    head = b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000 a 4500</leader>'
    read_marc(head + tail, file_name="fuzz.xml")
