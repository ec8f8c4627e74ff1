"""Aozora Bunko works list: both list shapes, every packaging and encoding, rejects, and the yearly diff."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from pathlib import Path

import msgspec
import pytest

from shoka.catalogue.aozora_list import (
    AozoraListError,
    AozoraListFormat,
    AozoraRole,
    KanaUsage,
    diff_aozora,
    read_aozora_list,
    work_fingerprint,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

EXTENDED_HEADER = (
    "作品ID,作品名,作品名読み,ソート用読み,副題,副題読み,原題,初出,分類番号,文字遣い種別,作品著作権フラグ,公開日,最終更新日,"
    "図書カードURL,人物ID,姓,名,姓読み,名読み,姓読みソート用,名読みソート用,姓ローマ字,名ローマ字,役割フラグ,生年月日,没年月日,"
    "人物著作権フラグ,底本名1,底本出版社名1,底本初版発行年1,入力に使用した版1,校正に使用した版1,底本の親本名1,底本の親本出版社名1,"
    "底本の親本初版発行年1,底本名2,底本出版社名2,底本初版発行年2,入力に使用した版2,校正に使用した版2,底本の親本名2,"
    "底本の親本出版社名2,底本の親本初版発行年2,入力者,校正者,テキストファイルURL,テキストファイル最終更新日,"
    "テキストファイル符号化方式,テキストファイル文字集合,テキストファイル修正回数,XHTML/HTMLファイルURL,"
    "XHTML/HTMLファイル最終更新日,XHTML/HTMLファイル符号化方式,XHTML/HTMLファイル文字集合,XHTML/HTMLファイル修正回数"
).split(",")

RASHOMON = {
    "作品ID": "000127", "作品名": "羅生門", "作品名読み": "らしょうもん", "ソート用読み": "らしようもん",
    "初出": "「帝国文学」1915（大正4）年11月", "分類番号": "NDC 913", "文字遣い種別": "新字旧仮名",
    "作品著作権フラグ": "なし", "公開日": "1997-10-29", "最終更新日": "2020-09-27",
    "図書カードURL": "https://www.aozora.gr.jp/cards/000879/card127.html", "人物ID": "000879", "姓": "芥川",
    "名": "竜之介", "姓読み": "あくたがわ", "名読み": "りゅうのすけ",
    "姓ローマ字": "Akutagawa", "名ローマ字": "Ryunosuke",
    "役割フラグ": "著者", "生年月日": "1892-03-01", "没年月日": "1927-07-24", "人物著作権フラグ": "なし",
    "底本名1": "芥川龍之介全集1", "底本出版社名1": "ちくま文庫、筑摩書房", "底本初版発行年1": "1986（昭和61）年9月24日",
    "入力に使用した版1": "1997（平成9）年4月15日第14刷", "入力者": "野口英司、平山誠", "校正者": "もりみつじゅんじ",
    "テキストファイルURL": "https://www.aozora.gr.jp/cards/000879/files/127_ruby_150.zip",
    "XHTML/HTMLファイルURL": "https://www.aozora.gr.jp/cards/000879/files/127_15260.html",
}
# A translated work: one row for the author, one for the translator; a comma inside a quoted subtitle.
SKETCH_BOOK_AUTHOR = {
    "作品ID": "056078", "作品名": "駅伝馬車", "作品名読み": "えきでんばしゃ", "ソート用読み": "えきてんはしや",
    "副題": "スケッチ・ブック, 抄", "副題読み": "すけっち・ぶっく, しょう", "原題": "The Stage Coach",
    "分類番号": "NDC 933", "文字遣い種別": "旧字旧仮名", "作品著作権フラグ": "なし", "公開日": "2013-09-20",
    "最終更新日": "2013-09-20", "図書カードURL": "https://www.aozora.gr.jp/cards/001257/card56078.html",
    "人物ID": "001257", "姓": "アーヴィング", "名": "ワシントン", "姓読み": "あーびんぐ", "名読み": "わしんとん",
    "役割フラグ": "著者", "底本名1": "スケッチ・ブック", "底本出版社名1": "岩波文庫、岩波書店",
    "底本名2": "改訳 スケッチ・ブック", "底本出版社名2": "岩波書店",
}
SKETCH_BOOK_TRANSLATOR = {**SKETCH_BOOK_AUTHOR, "人物ID": "000621", "姓": "高垣", "名": "松雄", "姓読み": "たかがき",
                          "名読み": "まつお", "役割フラグ": "翻訳者"}
CHILDRENS = {**RASHOMON, "作品ID": "000043", "作品名": "蜘蛛の糸", "作品名読み": "くものいと",
             "ソート用読み": "くものいと", "分類番号": "NDC K913", "文字遣い種別": "新字新仮名",
             "図書カードURL": "https://www.aozora.gr.jp/cards/000879/card92.html"}
ESSAY = {**RASHOMON, "作品ID": "000200", "作品名": "文芸的な、余りに文芸的な", "分類番号": "NDC 914 915",
         "図書カードURL": "https://www.aozora.gr.jp/cards/000879/card200.html", "作品著作権フラグ": "あり"}


def extended_csv(*rows: dict[str, str]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(EXTENDED_HEADER)
    for row in rows:
        writer.writerow([row.get(column, "") for column in EXTENDED_HEADER])
    return buffer.getvalue()


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


STANDARD_LIST = extended_csv(RASHOMON, SKETCH_BOOK_AUTHOR, SKETCH_BOOK_TRANSLATOR, CHILDRENS, ESSAY)


# --- the real 14-column list ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def person_list():
    path = SHARED_DATA / "aozora" / "list_person_all_utf8_2017.csv"
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent (../shared/data is not beside the checkout)")
    return read_aozora_list(path)


def test_real_14_column_list_counts(person_list) -> None:
    assert person_list.list_format is AozoraListFormat.PERSON_LIST_14_COLUMNS
    assert person_list.encoding == "utf-8-sig"
    assert person_list.row_count == 15226
    assert len(person_list.works) == 14283
    assert person_list.rejects == []


def test_real_14_column_list_known_work(person_list) -> None:
    works = {work.work_id: work for work in person_list.works}
    rashomon = works[127]
    assert rashomon.title == "羅生門"
    assert rashomon.title_reading is None  # the older list has no readings
    assert rashomon.kana_usage is KanaUsage.NEW_KANJI_NEW_KANA
    assert rashomon.is_published and rashomon.status == "公開"
    assert rashomon.published_on == datetime.date(1997, 10, 29)
    assert rashomon.card_url == "https://www.aozora.gr.jp/cards/000879/card127.html"
    assert [(p.person_id, p.name, p.role) for p in rashomon.persons] == [(879, "芥川 竜之介", AozoraRole.AUTHOR)]
    assert [(b.title, b.publisher) for b in rashomon.source_books] == [("芥川龍之介全集1", "ちくま文庫、筑摩書房")]
    assert (rashomon.inputters, rashomon.proofreaders) == ("野口英司、平山誠", "もりみつじゅんじ")

    # Translated: two rows (author, translator) merge into one work whose card lives under the author.
    coach = works[56078]
    assert [(p.person_id, p.name, p.role) for p in coach.persons] == [
        (1257, "アーヴィング ワシントン", AozoraRole.AUTHOR), (621, "高垣 松雄", AozoraRole.TRANSLATOR)]
    assert coach.translator_text == "高垣 松雄"
    assert coach.card_url == "https://www.aozora.gr.jp/cards/001257/card56078.html"


# --- the extended list ----------------------------------------------------------------------------------


def test_extended_list_merges_rows_into_works() -> None:
    result = read_aozora_list(STANDARD_LIST.encode("utf-8"), file_name="list_person_all_extended_utf8.csv")
    assert result.list_format is AozoraListFormat.EXTENDED_LIST_55_COLUMNS
    assert (result.row_count, len(result.works), result.rejects) == (5, 4, [])
    works = {work.work_id: work for work in result.works}

    rashomon = works[127]
    assert (rashomon.title, rashomon.title_reading, rashomon.sort_reading) == ("羅生門", "らしょうもん", "らしようもん")
    assert (rashomon.ndc, rashomon.ndc_classes, rashomon.is_childrens) == ("913", ["913"], False)
    assert rashomon.kana_usage is KanaUsage.NEW_KANJI_OLD_KANA
    assert rashomon.first_appearance == "「帝国文学」1915（大正4）年11月"
    assert rashomon.updated_on == datetime.date(2020, 9, 27)
    assert rashomon.card_url == "https://www.aozora.gr.jp/cards/000879/card127.html"
    assert rashomon.text_url == "https://www.aozora.gr.jp/cards/000879/files/127_ruby_150.zip"
    assert rashomon.html_url == "https://www.aozora.gr.jp/cards/000879/files/127_15260.html"
    [author] = rashomon.persons
    assert (author.name, author.reading, author.romanised, author.born, author.died) == (
        "芥川 竜之介", "あくたがわ りゅうのすけ", "Akutagawa Ryunosuke", "1892-03-01", "1927-07-24")
    assert rashomon.source_books[0].first_edition == "1986（昭和61）年9月24日"
    assert not rashomon.copyrighted

    coach = works[56078]
    assert coach.subtitle == "スケッチ・ブック, 抄"  # the quoted comma stays inside the field
    assert coach.original_title == "The Stage Coach"
    assert [(p.name, p.reading, p.role) for p in coach.persons] == [
        ("アーヴィング ワシントン", "あーびんぐ わしんとん", AozoraRole.AUTHOR),
        ("高垣 松雄", "たかがき まつお", AozoraRole.TRANSLATOR)]
    assert [book.title for book in coach.source_books] == ["スケッチ・ブック", "改訳 スケッチ・ブック"]

    assert (works[43].ndc, works[43].is_childrens) == ("913", True)  # "NDC K913"
    assert (works[200].ndc, works[200].ndc_classes, works[200].copyrighted) == ("914", ["914", "915"], True)


def test_packaging_and_encodings_give_the_same_works(tmp_path: Path) -> None:
    expected = read_aozora_list(STANDARD_LIST.encode("utf-8"), file_name="plain.csv").works
    variants = {
        "utf-8": STANDARD_LIST.encode("utf-8"),
        "utf-8-sig": STANDARD_LIST.encode("utf-8-sig"),
        "cp932": STANDARD_LIST.encode("cp932"),
    }
    for encoding, content in variants.items():
        plain = read_aozora_list(content, file_name="list.csv")
        assert (plain.encoding, plain.works) == (encoding, expected)
        zip_path = tmp_path / f"list_{encoding}.zip"
        zip_path.write_bytes(zipped("list_person_all_extended_utf8.csv", content))
        from_zip = read_aozora_list(zip_path)
        assert (from_zip.file_name, from_zip.encoding, from_zip.works) == (zip_path.name, encoding, expected)


def test_older_list_in_shift_jis_zip() -> None:
    header = ("人物ID,著者名,作品ID,作品名,仮名遣い種別,翻訳者名等,入力者名,校正者名,状態,状態の開始日,"
              "底本名,出版社名,入力に使用した版,校正に使用した版")
    coach = "駅伝馬車,旧字旧仮名,高垣 松雄,雀,小林繁雄,公開,2013-09-20,スケッチ・ブック,岩波文庫、岩波書店,,"
    rows = [
        "001257,アーヴィング ワシントン,056078," + coach,
        "000621,高垣 松雄,056078," + coach,
        "000999,知里 幸恵,000300,アイヌ神謡集,新字新仮名,知里 幸恵,入力者,校正者,作業中,2020-01-01,,,,",
    ]
    content = ("\r\n".join([header, *rows]) + "\r\n").encode("cp932")
    result = read_aozora_list(zipped("list_person_all.csv", content), file_name="list_person_all.zip")
    assert (result.list_format, result.encoding, len(result.works)) == (
        AozoraListFormat.PERSON_LIST_14_COLUMNS, "cp932", 2)
    coach, ainu = result.works
    assert [p.role for p in coach.persons] == [AozoraRole.AUTHOR, AozoraRole.TRANSLATOR]
    # Named only in 翻訳者名等, yet the work's sole person: she is its author.
    assert [(p.name, p.role) for p in ainu.persons] == [("知里 幸恵", AozoraRole.AUTHOR)]
    assert (ainu.is_published, ainu.status, ainu.published_on) == (False, "作業中", None)
    assert ainu.card_url == "https://www.aozora.gr.jp/cards/000999/card300.html"


def test_malformed_rows_are_reported_with_their_line_numbers() -> None:
    multi_line = {**RASHOMON, "作品ID": "000500", "作品名": "二行の\n題名"}  # a quoted newline: lines 2-3
    missing_columns = ",".join(f'"{RASHOMON.get(c, "")}"' for c in EXTENDED_HEADER[:20])  # line 4
    bad_id = {**RASHOMON, "作品ID": "12a"}  # line 5
    bad_date = {**RASHOMON, "作品ID": "000501", "公開日": "1997/10/29"}  # line 6
    text = extended_csv(multi_line)
    text += missing_columns + "\r\n"
    text += extended_csv(bad_id, bad_date, CHILDRENS).split("\r\n", 1)[1]
    result = read_aozora_list(text.encode("utf-8"), file_name="broken.csv")
    assert [work.work_id for work in result.works] == [500, 43]
    assert result.works[0].title == "二行の\n題名"
    assert [(reject.line_number, reject.work_id) for reject in result.rejects] == [(4, None), (5, None), (6, 501)]
    assert "expected 55 columns but found 20" in result.rejects[0].reason
    assert "作品ID '12a' is not a number" in result.rejects[1].reason
    assert "公開日" in result.rejects[2].reason
    assert result.rejects[1].describe() == "broken.csv: line 5: 作品ID '12a' is not a number"
    assert result.row_count == 5


def test_conflicting_titles_for_one_work_are_rejected() -> None:
    renamed = {**SKETCH_BOOK_TRANSLATOR, "作品名": "駅馬車"}
    result = read_aozora_list(extended_csv(SKETCH_BOOK_AUTHOR, renamed).encode(), file_name="x.csv")
    assert [p.role for p in result.works[0].persons] == [AozoraRole.AUTHOR]
    assert [(r.line_number, r.work_id) for r in result.rejects] == [(3, 56078)]
    assert "line 2" in result.rejects[0].reason


def test_files_that_are_not_aozora_lists_are_refused() -> None:
    with pytest.raises(AozoraListError, match="header"):
        read_aozora_list(b"a,b,c\r\n1,2,3\r\n", file_name="other.csv")
    with pytest.raises(AozoraListError, match=r"one \.csv"):
        two = io.BytesIO()
        with zipfile.ZipFile(two, "w") as archive:
            archive.writestr("a.csv", STANDARD_LIST)
            archive.writestr("b.csv", STANDARD_LIST)
        read_aozora_list(two.getvalue(), file_name="two.zip")
    with pytest.raises(AozoraListError, match="neither UTF-8 nor Shift_JIS"):
        read_aozora_list(STANDARD_LIST.encode("utf-8") + b"\x81\x20", file_name="mixed.csv")
    with pytest.raises(AozoraListError, match="damaged"):
        read_aozora_list(b"PK\x03\x04 not really a zip", file_name="bad.zip")


# --- the yearly refresh ---------------------------------------------------------------------------------


def fingerprints(works) -> dict[int, str]:
    return {work.work_id: work_fingerprint(work) for work in works}


def test_refresh_is_an_idempotent_upsert() -> None:
    first = read_aozora_list(STANDARD_LIST.encode(), file_name="2024.csv").works
    initial = diff_aozora({}, first)
    assert sorted(upsert.work.work_id for upsert in initial.added) == [43, 127, 200, 56078]
    stored = {upsert.work.work_id: upsert.fingerprint for upsert in initial.added}

    again = diff_aozora(stored, read_aozora_list(STANDARD_LIST.encode("cp932"), file_name="2025.csv").works)
    assert (again.added, again.changed, again.withdrawn) == ([], [], [])
    assert sorted(again.unchanged) == [43, 127, 200, 56078]

    # Row order and the order of a work's persons do not matter.
    shuffled = extended_csv(SKETCH_BOOK_TRANSLATOR, ESSAY, CHILDRENS, SKETCH_BOOK_AUTHOR, RASHOMON)
    assert fingerprints(read_aozora_list(shuffled.encode(), file_name="s.csv").works) == stored


def test_refresh_reports_withdrawn_and_changed_works() -> None:
    stored = fingerprints(read_aozora_list(STANDARD_LIST.encode(), file_name="2024.csv").works)
    retitled = {**RASHOMON, "作品名": "羅生門（改訂）"}
    new_work = {**CHILDRENS, "作品ID": "000777", "作品名": "新しい作品"}
    next_year = extended_csv(retitled, SKETCH_BOOK_AUTHOR, SKETCH_BOOK_TRANSLATOR, ESSAY, new_work)
    diff = diff_aozora(stored, read_aozora_list(next_year.encode(), file_name="2025.csv").works)
    assert [upsert.work.work_id for upsert in diff.added] == [777]
    assert [(upsert.work.work_id, upsert.work.title) for upsert in diff.changed] == [(127, "羅生門（改訂）")]
    assert diff.changed[0].fingerprint != stored[127]
    assert diff.withdrawn == [43]
    assert sorted(diff.unchanged) == [200, 56078]


def test_fingerprint_is_stable_and_covers_every_field() -> None:
    work = read_aozora_list(STANDARD_LIST.encode(), file_name="x.csv").works[0]
    assert work_fingerprint(work) == work_fingerprint(msgspec.json.decode(msgspec.json.encode(work), type=type(work)))
    assert work_fingerprint(work) != work_fingerprint(msgspec.structs.replace(work, text_url="https://example.org/"))
    with pytest.raises(ValueError, match="twice"):
        diff_aozora({}, [work, work])
