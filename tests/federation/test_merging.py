"""Merging libraries' answers: the same book (by ISBN-13, then by normalised title and first author) becomes
one entry listing every library that holds it; different editions stay apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shoka.federation.merging import merge_records, normalised_name, normalised_text
from shoka.federation.results import LibraryRecord, SourceOut


def record(library: str, record_id: str, title: str, authors=(), isbns=(), year=None) -> LibraryRecord:
    return LibraryRecord(title=title, authors=list(authors), year=year, isbns=list(isbns),
                         source=SourceOut(library=library, protocol="sru", record_id=record_id, bib_id=None, url=None,
                                          availability="unknown", availability_label="所蔵状況不明"))


def test_normalisation_folds_what_catalogues_write_differently():
    assert normalised_text("ギンガ テツドウ ノ ヨル") == normalised_text("ぎんがてつどうのよる")
    assert normalised_text("「銀河鉄道の夜」") == normalised_text("銀河鉄道の夜")
    assert normalised_text("ＡＢＣ　ｄｅｆ！") == "abcdef"
    assert normalised_text("ｻｸﾗ") == normalised_text("さくら")
    assert normalised_name("宮沢賢治 著") == normalised_name("宮沢, 賢治") == "宮沢賢治"
    assert normalised_name("文") == "文"  # a one-character name is not a role word


def test_same_isbn_merges_and_sources_accumulate():
    merged = merge_records([
        [record("local", "1", "これからの本の話をしよう", ["萩野, 正昭"], ["9784794970756"], 2019)],
        [record("peer-a", "X9", "これからの本の話をしよう : 電子出版", ["萩野正昭 著"], ["9784794970756"])],
        [record("peer-b", "77", "Another book", ["Someone"], ["9784101092058"])],
    ])
    assert len(merged) == 2
    assert merged[0].isbn == "9784794970756" and merged[0].year == 2019
    assert [source.library for source in merged[0].sources] == ["local", "peer-a"]


def test_title_and_author_merge_when_an_isbn_is_missing_but_not_across_editions():
    merged = merge_records([
        [record("local", "1", "銀河鉄道の夜", ["宮沢 賢治"], ["9784101092058"])],
        [record("aozora", "a", "ギンガテツドウノヨル", ["宮沢賢治"]),
         record("aozora", "b", "銀河鉄道の夜", ["宮沢, 賢治 著"])],
        [record("other", "c", "銀河鉄道の夜", ["宮沢賢治"], ["9784041040034"])],
    ])
    titles = [(entry.title, [source.library for source in entry.sources]) for entry in merged]
    assert ("銀河鉄道の夜", ["local", "aozora"]) in titles  # no ISBN on aozora "b": same book by title + author
    assert ("銀河鉄道の夜", ["other"]) in titles  # two different ISBNs: two editions
    assert ("ギンガテツドウノヨル", ["aozora"]) in titles  # a reading is not a title


def test_a_library_listing_the_same_record_twice_counts_once():
    merged = merge_records([[record("z", "1", "Book", ["A"]), record("z", "1", "Book", ["A"]),
                             record("z", "2", "Book", ["A"])]])
    assert len(merged) == 1 and [source.record_id for source in merged[0].sources] == ["1", "2"]


def test_results_interleave_by_rank():
    merged = merge_records([[record("a", "1", "A1", ["x"]), record("a", "2", "A2", ["x"])],
                            [record("b", "1", "B1", ["y"]), record("b", "2", "B2", ["y"])]])
    assert [entry.title for entry in merged] == ["A1", "B1", "A2", "B2"]


records = st.builds(record, st.sampled_from(["a", "b", "c"]), st.text(max_size=3), st.text(max_size=8),
                    st.lists(st.text(max_size=5), max_size=2),
                    st.lists(st.sampled_from(["9784794970756", "9784101092058"]), max_size=2))


@given(st.lists(st.lists(records, max_size=6), max_size=4))
def test_merging_keeps_every_source(answers):
    merged = merge_records(answers)
    kept = {(source.library, source.record_id) for entry in merged for source in entry.sources}
    assert kept == {(item.source.library, item.source.record_id) for answer in answers for item in answer}
