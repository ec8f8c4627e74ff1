"""The record editor's model, without a server: the MARC text view (catalogue/marc_text.py) and the record form
over MARC (catalogue/bib_form.py), on real NDL JAPAN/MARC and Evergreen records."""

from __future__ import annotations

import msgspec
import pymarc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoka.catalogue.bib_editing import catalogue_row, stored_record
from shoka.catalogue.bib_form import AuthorEntry, form_from_record, new_record, read_form_fields
from shoka.catalogue.bib_form_apply import apply_form
from shoka.catalogue.bib_rows import bib_row_from_marc
from shoka.catalogue.form_problems import FormProblems
from shoka.catalogue.marc_records import read_marc
from shoka.catalogue.marc_text import MarcTextInvalid, record_from_text, record_to_text
from shoka.catalogue.marc_uploads import MARC_UPLOAD_LIMIT_BYTES, pending_upload, store_upload
from shoka.errors import InvalidRequest, NotFound


def _records(path) -> list[pymarc.Record]:
    with open(path, "rb") as handle:
        return [record for record in pymarc.MARCReader(handle, to_unicode=True, force_utf8="ndl" in path.name)
                if record is not None]


@pytest.fixture(scope="module")
def ndl_records(shared_data) -> list[pymarc.Record]:
    return _records(shared_data / "marc" / "ndl_japanmarc_133.mrc")


def _saved(record: pymarc.Record):
    """What the catalogue would store for the record: the import's reader and extraction."""
    record.force_utf8 = True
    result = read_marc(record.as_marc())
    assert result.rejects == []
    return result.records[0]


def test_the_text_view_reads_back_to_the_same_record(shared_data, ndl_records):
    records = ndl_records + _records(shared_data / "marc" / "evergreen__lul_fre_500.mrc")
    for record in records:
        text = record_to_text(record)
        assert record_to_text(record_from_text(text)) == text
    assert "$6245-01/$1$a" in record_to_text(ndl_records[0])  # NDL's linkage reads as catalogues print it


def test_the_text_view_names_each_bad_line():
    text = "LDR 00000nam_a2200000_i_4500\n245 1 $aTitle\n24 00 $aBad tag\n500 __ no subfields\n650 _4 $aOK\n"
    with pytest.raises(MarcTextInvalid) as refused:
        record_from_text(text)
    assert [problem.line for problem in refused.value.problems] == [2, 3, 4]
    assert "インジケータ" in refused.value.problems[0].ja
    with pytest.raises(MarcTextInvalid, match="LDR"):
        record_from_text("245 00 $aNo leader\n")


def test_control_characters_are_refused_with_their_line():
    with pytest.raises(MarcTextInvalid) as refused:
        record_from_text("LDR 00000nam_a2200000_i_4500\n245 00 $aA\x1ebroken\n")
    assert refused.value.problems[0].line == 2


def test_a_dollar_inside_a_value_survives_the_text_view():
    record = record_from_text("LDR 00000nam_a2200000_i_4500\n245 00 $aPrice {dollar}5 /$cSomeone\n")
    assert record["245"]["a"] == "Price $5 /"
    assert "{dollar}5" in record_to_text(record)


def test_an_unchanged_form_leaves_every_record_byte_for_byte(ndl_records):
    for record in ndl_records:
        assert record_to_text(apply_form(record, form_from_record(record))) == record_to_text(record)


def test_form_edits_are_extracted_exactly_as_typed(ndl_records):
    record = ndl_records[5]  # 電子書籍の制作と販売 : 出版社は… (NDL, readings in 880)
    form = form_from_record(record)
    edited = msgspec.structs.replace(
        form, title="電子書籍の作り方", subtitle="", subtitle_reading="", title_reading="でんししょせき の つくりかた",
        responsibility="沢辺均, 山田太郎 著", edition="新版 / 山田太郎 補訂", publisher="ポット出版プラス",
        publisher_reading="ポットシュッパン プラス", publication_date="2020.4", extent="120p : 図版 ; 21cm",
        authors=[msgspec.structs.replace(form.authors[0], dates="1956-", role="著"),
                 AuthorEntry(name="山田, 太郎", reading="ヤマダ, タロウ", role="著")],
        isbns=[*form.isbns, "4-7949-7075-7"], ndc="023.1", subjects=["電子書籍--日本", "出版"], notes=["索引あり"])
    saved = _saved(apply_form(record, edited))
    assert (saved.title, saved.subtitle, saved.title_reading) == ("電子書籍の作り方", None, "デンシショセキ ノ ツクリカタ")
    assert [(author.name, author.reading, author.relator) for author in saved.authors] == [
        ("沢辺, 均", "サワベ, キン", "著"), ("山田, 太郎", "ヤマダ, タロウ", "著")]
    assert (saved.edition, saved.extent, saved.year) == ("新版 / 山田太郎 補訂", "120p : 図版 ; 21cm", 2020)
    assert (saved.publishers[0].name, saved.publishers[0].reading) == ("ポット出版プラス", "ポットシュッパン プラス")
    assert [isbn.isbn13 for isbn in saved.isbns] == ["9784780802320", "9784794970756"]
    assert [subject.heading for subject in saved.subjects] == ["電子書籍--日本", "出版"]
    assert saved.notes == ["索引あり"] and saved.ndc == "023.1"
    assert form_from_record(apply_form(record, edited)) == msgspec.structs.replace(
        edited, title_reading="デンシショセキ ノ ツクリカタ",
        authors=[msgspec.structs.replace(edited.authors[0], key="0"), msgspec.structs.replace(edited.authors[1], key="1")])


def test_fields_the_form_does_not_show_survive_an_edit(ndl_records):
    record = ndl_records[0]
    record.add_ordered_field(pymarc.Field(tag="938", indicators=pymarc.Indicators(" ", " "),
                                          subfields=[pymarc.Subfield("a", "local field")]))
    edited = apply_form(record, msgspec.structs.replace(form_from_record(record), title="新しい書名"))
    text = record_to_text(edited)
    assert "938 __ $alocal field" in text
    assert "$6700-05/(B$aHagino, Masaki$001215194" in text  # the romanisation and the authority link
    assert "084 __ $aUE13$2kktb" in text


def test_removing_an_author_removes_its_readings_and_links(ndl_records):
    record = ndl_records[0]
    form = form_from_record(record)
    edited = apply_form(record, msgspec.structs.replace(form, authors=[]))
    assert edited.get_fields("700") == []
    assert not any((field.get("6") or "").startswith("700-") for field in edited.get_fields("880"))


def test_readings_are_written_in_katakana_as_ndl_records_them():
    record = new_record("250401")
    form = msgspec.structs.replace(form_from_record(record), title="試験の本", title_reading="しけん の ほん",
                                   authors=[AuthorEntry(name="試験, 太郎", reading="ｼｹﾝ, ﾀﾛｳ")])
    text = record_to_text(apply_form(record, form))
    assert "245 00 $6880-01$a試験の本" in text and "880 00 $6245-01/$1$aシケン ノ ホン" in text
    assert "700 1_ $6880-02$a試験, 太郎" in text and "880 1_ $6700-02/$1$aシケン, タロウ" in text


def test_a_form_with_problems_names_each_field():
    record = new_record("250401")
    form = msgspec.structs.replace(form_from_record(record), title="", title_reading="漢字の読み",
                                   isbns=["978-4-06-123456-0"], ndc="E", publication_date="昭和55",
                                   authors=[AuthorEntry(reading="ヨミダケ")])
    with pytest.raises(FormProblems) as refused:
        apply_form(record, form)
    assert set(refused.value.problems) == {"title", "title_reading", "isbns", "ndc", "publication_date",
                                           "authors.0.name"}
    assert "チェックディジット" in refused.value.problems["isbns"].ja


def test_isbn10_and_isbn13_with_hyphens_are_accepted():
    record = new_record("250401")
    form = msgspec.structs.replace(form_from_record(record), title="本", isbns=["4-7808-0232-6", "978-4-7949-7075-6"])
    saved = _saved(apply_form(record, form))
    assert bib_row_from_marc(saved).isbns == ["9784780802320", "9784794970756"]


def test_submitted_fields_become_a_form():
    form = read_form_fields({"title": [" 本 "], "isbns": ["978-4-7949-7075-6\r\n\r\n4-7808-0232-6"],
                             "author_key": ["0", ""], "author_kind": ["person", "corporate"],
                             "author_name": ["甲, 乙", ""], "author_reading": ["", ""], "author_dates": ["", ""],
                             "author_role": ["著", ""]})
    assert form.title == "本" and form.isbns == ["978-4-7949-7075-6", "4-7808-0232-6"]
    assert form.authors == [AuthorEntry(key="0", name="甲, 乙", role="著")]


def test_uploads_are_kept_by_their_hash_and_checked_again(tmp_path):
    upload = store_upload(tmp_path, b"00026     2200025   4500\x1e\x1d", "../../etc/passwd")
    assert upload.path.parent.name == upload.sha256 and upload.path.name == "passwd"
    assert pending_upload(tmp_path, upload.sha256).path == upload.path
    upload.path.write_bytes(b"changed")
    with pytest.raises(NotFound):
        pending_upload(tmp_path, upload.sha256)
    with pytest.raises(NotFound):
        pending_upload(tmp_path, "../" + "0" * 61)
    with pytest.raises(InvalidRequest, match="MB"):
        store_upload(tmp_path, b"x" * (MARC_UPLOAD_LIMIT_BYTES + 1), "big.mrc")


@pytest.mark.parametrize("name", ["marc/evergreen__jazz_1k.mrc", "marc/ndl_japanmarc_133.mrc",
                                  "marcxml/evergreen_concerto_biblio_record_entry.marcxml.xml"])
def test_a_stored_record_saved_unchanged_has_the_columns_its_import_gave(shared_data, name):
    """MARC-8, UTF-8 and MARCXML records: opened for editing and saved (as UTF-8 ISO 2709), every extracted
    column is what the import extracted."""
    result = read_marc(shared_data / name)
    for parsed in result.records:
        stored = (None,) * 25 + (parsed.raw_iso2709, parsed.raw_marcxml)
        saved = msgspec.structs.asdict(catalogue_row(stored_record(stored), source="marc"))
        imported = msgspec.structs.asdict(bib_row_from_marc(parsed))
        for column in ("marc_iso2709", "marc_xml"):
            saved.pop(column), imported.pop(column)
        assert saved == imported, parsed.control_number


_FIELD_LINES = st.one_of(
    st.builds(lambda tag, indicators, body: f"{tag} {indicators} {body}",
              st.from_regex(r"[0-9]{3}", fullmatch=True), st.from_regex(r"[0-9a-z_ #]{0,3}", fullmatch=True),
              st.text(alphabet=st.sampled_from("$a1b6/-{}dollar テスト本 \t"), max_size=30)),
    st.text(max_size=40))


@given(st.lists(_FIELD_LINES, max_size=12))
def test_any_text_becomes_a_record_or_a_list_of_line_problems(lines):
    text = "LDR 00000nam_a2200000_i_4500\n" + "\n".join(lines)
    try:
        record = record_from_text(text)
    except MarcTextInvalid as invalid:
        assert invalid.problems and all(problem.ja and problem.en for problem in invalid.problems)
        return
    assert record_to_text(record_from_text(record_to_text(record))) == record_to_text(record)
