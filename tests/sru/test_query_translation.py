"""CQL to the engine's one-box query: every index and relation of the mapping table, the diagnostics for
what cannot be searched, and the page plan that maps SRU record windows onto engine pages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoka.sru.cql import BooleanClause, CqlQuery, SearchClause, parse_cql
from shoka.sru.diagnostics import SruDiagnostic
from shoka.sru.query_translation import (EngineSearch, RecordIdSearch, parse_sort_keys_parameter, translate)
from shoka.sru.retrieval import plan_pages


def engine_query(cql: str) -> str:
    search = translate(parse_cql(cql))
    assert isinstance(search, EngineSearch)
    return search.query


@pytest.mark.parametrize("cql, expected", [
    ("猫", 'any:"猫"'),
    ('"銀河鉄道 宮沢"', '(any:"銀河鉄道" AND any:"宮沢")'),
    ("cql.anywhere = 猫", 'any:"猫"'),
    ("cql.serverChoice all \"猫 犬\"", '(any:"猫" AND any:"犬")'),
    ('cql.anywhere adj "銀河 鉄道"', 'any:"銀河 鉄道"'),
    ('dc.title = "銀河 鉄道"', 'title:"銀河 鉄道"'),
    ('dc.title adj "銀河 鉄道"', 'title:"銀河 鉄道"'),
    ('dc.title all "銀河 鉄道"', '(title:"銀河" AND title:"鉄道")'),
    ('dc.title any "猫 犬"', '(title:"猫" OR title:"犬")'),
    ("dc.title == 銀河鉄道の夜", 'title:="銀河鉄道の夜"'),
    ('dc.title exact "銀河鉄道の夜"', 'title:="銀河鉄道の夜"'),
    ('dc.creator = "宮沢 賢治"', 'author:"宮沢 賢治"'),
    ('dc.creator exact "宮沢 賢治"', 'author:"宮沢 賢治"'),
    ("dc.subject = 電子書籍", 'subject:"電子書籍"'),
    ("dc.publisher any 晶文社", 'publisher:"晶文社"'),
    ("dc.title = 銀河*", "title:銀河*"),
    ('dc.title all "銀河* 夜"', '(title:銀河* AND title:"夜")'),
    ("dc.date = 1990", "year:1990"),
    ("dc.date = 1990-04-01", "year:1990"),
    ("dc.date < 1990", "year:-1989"),
    ("dc.date <= 1990", "year:-1990"),
    ("dc.date > 1990", "year:1991-"),
    ("dc.date >= 1990", "year:1990-"),
    ("dc.date <> 1990", "NOT year:1990"),
    ('dc.date within "2000 1990"', "year:1990-2000"),
    ('dc.date any "1990 1991"', "(year:1990 OR year:1991)"),
    ("bath.isbn = 4-7949-7075-7", 'isbn:"4-7949-7075-7"'),
    ('bath.isbn = "978 4 7949 7075 6"', 'isbn:"9784794970756"'),
    ('bath.isbn any "9784794970756 4101092052"', '(isbn:"9784794970756" OR isbn:"4101092052")'),
    ("猫 and 犬", '(any:"猫") AND (any:"犬")'),
    ("猫 or 犬", '(any:"猫") OR (any:"犬")'),
    ("猫 not 犬", '(any:"猫") NOT (any:"犬")'),
    ("(猫 or 犬) and dc.date > 2000", '((any:"猫") OR (any:"犬")) AND (year:2001-)'),
    ('dc.title = "he said \\"title:x\\" (OR) NOT"', 'title:"he said title:x (OR) NOT"'),
    ("dc.title = ｔｉｔｌｅ", 'title:"title"'),
    ('title = 猫', 'title:"猫"'),
    ('> d = "info:srw/cql-context-set/1/dc-v1.1" d.title = 猫', 'title:"猫"'),
    ('> "info:srw/cql-context-set/1/dc-v1.1" creator = 宮沢', 'author:"宮沢"'),
    ("dc.title =/relevant/cql.ignoreCase 猫", 'title:"猫"'),
    ("cql.allRecords = 1", ""),
])
def test_mapping_table(cql, expected):
    assert engine_query(cql) == expected


def test_record_ids_are_looked_up_not_searched():
    assert translate(parse_cql("rec.id = 42")) == RecordIdSearch((42,))
    assert translate(parse_cql('rec.id any "3 1 2" not rec.id = 2')) == RecordIdSearch((1, 3))
    assert translate(parse_cql("rec.id = 1 and rec.id = 2")) == RecordIdSearch(())


@pytest.mark.parametrize("cql, sort", [
    ("猫", "relevance"), ("猫 sortBy dc.date", "year_oldest"), ("猫 sortBy dc.date/sort.descending", "year_newest"),
    ("猫 sortby dc.title", "title"), ("猫 sortby dc.creator/sort.ascending", "author"),
])
def test_sort_keys(cql, sort):
    assert translate(parse_cql(cql)).sort == sort


def test_the_sort_keys_parameter():
    assert translate(parse_cql("猫"), parse_sort_keys_parameter("dc.date,,0")).sort == "year_newest"
    assert translate(parse_cql("猫"), parse_sort_keys_parameter("dc.title")).sort == "title"


@pytest.mark.parametrize("cql, number, names", [
    ("foo.title = 猫", 15, "foo"),
    ('> x = "urn:unknown" x.title = 猫', 15, "urn:unknown"),
    ("dc.identifier = 猫", 16, "dc.identifier"),
    ("dc.title < 猫", 19, "<"),
    ("dc.title within 猫", 19, "within"),
    ("rec.id all 1", 19, "all"),
    ("dc.title =/stem 猫", 20, "stem"),
    ("dc.title = *猫", 28, "*猫"),
    ("dc.title = 猫?", 28, "猫?"),
    ("dc.title = 銀*河", 28, "銀*河"),
    ('dc.title = "銀河* 鉄道"', 28, "銀河* 鉄道"),
    ("dc.title == 銀河*", 28, "銀河*"),
    ("dc.date = 199*", 28, "199*"),
    ("dc.title = ^猫", 31, "^猫"),
    ('dc.title = ""', 27, ""),
    ("dc.date = 昭和", 36, "昭和"),
    ("dc.date > 2999", 36, "2999"),
    ('dc.date within "1990"', 36, "1990"),
    ("rec.id = abc", 36, "abc"),
    ("猫 prox 犬", 37, "prox"),
    ("猫 and/rel.combine=sum 犬", 46, "rel.combine"),
    ("rec.id = 1 and 猫", 48, "rec.id"),
    ("dc.title = 猫 and cql.allRecords = 1", 48, "cql.allRecords"),
    ("猫 sortBy dc.subject", 88, "dc.subject"),
    ("猫 sortBy dc.title/sort.descending", 90, "descending"),
    ("猫 sortBy dc.date dc.title", 84, "dc.date dc.title"),
])
def test_what_cannot_be_searched_is_a_diagnostic_naming_it(cql, number, names):
    with pytest.raises(SruDiagnostic) as raised:
        translate(parse_cql(cql))
    assert raised.value.diagnostic.number == number
    assert raised.value.diagnostic.details == names


def test_too_many_words_for_the_engine():
    words = " ".join(f"w{number}" for number in range(70))
    with pytest.raises(SruDiagnostic) as raised:
        translate(parse_cql(f'dc.title all "{words}"'))
    assert raised.value.diagnostic.number == 38


supported_indexes = st.sampled_from(["cql.anywhere", "cql.serverChoice", "dc.title", "dc.creator", "dc.subject",
                                     "dc.publisher", "dc.date", "bath.isbn", "rec.id", "cql.allRecords", "dc.x"])
relations = st.sampled_from(["=", "==", "exact", "adj", "all", "any", "<", ">", "<=", ">=", "<>", "within"])
terms = st.text(st.sampled_from(list('猫犬 1990-*?^\\"()ｔ:=')), max_size=10)
clauses = st.builds(SearchClause, supported_indexes, relations, terms)
trees = st.recursive(clauses, lambda children: st.builds(BooleanClause, st.sampled_from(["and", "or", "not"]),
                                                         children, children), max_leaves=6)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_translation_answers_or_raises_a_diagnostic(tree):
    try:
        result = translate(CqlQuery(tree))
    except SruDiagnostic as diagnostic:
        assert diagnostic.diagnostic.text
        return
    assert isinstance(result, EngineSearch | RecordIdSearch)
    if isinstance(result, EngineSearch):
        # Terms are always quoted or a plain truncated word: the engine never sees an unbalanced quote.
        assert result.query.count('"') % 2 == 0


@settings(max_examples=1000)
@given(st.integers(1, 10_000), st.integers(1, 100))
def test_page_plans_cover_the_window_with_allowed_pages(start, count):
    per_page, pages = plan_pages(start, count)
    assert 10 <= per_page <= 100 and 1 <= len(pages) <= 2
    if len(pages) == 2:
        assert per_page == 100 and pages[1] == pages[0] + 1
    first_record = (pages[0] - 1) * per_page + 1
    last_record = pages[-1] * per_page
    assert first_record <= start and start + count - 1 <= last_record
