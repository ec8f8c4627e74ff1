"""The CQL parser: the grammar's cases, errors that say where and what, and fuzzing (random text and mutated
queries only ever raise CqlSyntaxError; generated trees survive a round trip through their CQL text)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoka.sru.cql import (BooleanClause, CqlQuery, CqlSyntaxError, CqlTooComplex, Mask, Modifier, PrefixAssignment,
                           ScopedQuery, SearchClause, SortKey, decode_term, escape_literal, parse_cql, query_to_cql)


def clause(index: str, relation: str, term: str, *modifiers: Modifier) -> SearchClause:
    return SearchClause(index, relation, term, tuple(modifiers))


def test_a_bare_term_searches_the_server_choice_index():
    assert parse_cql("猫").root == clause("cql.serverChoice", "=", "猫")
    assert parse_cql('"銀河鉄道の夜"').root == clause("cql.serverChoice", "=", "銀河鉄道の夜")


def test_index_relation_term_with_symbols_and_named_relations():
    assert parse_cql("dc.title=猫").root == clause("dc.title", "=", "猫")
    assert parse_cql("dc.date >= 1990").root == clause("dc.date", ">=", "1990")
    assert parse_cql("dc.date<>1990").root == clause("dc.date", "<>", "1990")
    assert parse_cql("dc.title == 銀河鉄道の夜").root == clause("dc.title", "==", "銀河鉄道の夜")
    assert parse_cql('dc.title any "猫 犬"').root == clause("dc.title", "any", "猫 犬")
    assert parse_cql('dc.creator ALL "宮沢 賢治"').root == clause("dc.creator", "ALL", "宮沢 賢治")


def test_booleans_are_case_insensitive_and_left_associative():
    tree = parse_cql("a AND b or c Not d").root
    assert tree == BooleanClause("not", BooleanClause("or", BooleanClause(
        "and", clause("cql.serverChoice", "=", "a"), clause("cql.serverChoice", "=", "b")),
        clause("cql.serverChoice", "=", "c")), clause("cql.serverChoice", "=", "d"))


def test_parentheses_group():
    tree = parse_cql("a and (b or c)").root
    assert isinstance(tree, BooleanClause) and tree.operator == "and"
    assert isinstance(tree.right, BooleanClause) and tree.right.operator == "or"


def test_quoted_terms_keep_their_escapes_and_decode_masks():
    tree = parse_cql(r'dc.title = "say \"hi\" \* now*"').root
    assert tree.term == r'say \"hi\" \* now*'
    assert decode_term(tree.term) == ['say "hi" * now', Mask("any_characters")]
    assert decode_term("?ab^") == [Mask("one_character"), "ab", Mask("anchor")]


def test_relation_and_boolean_modifiers_prefixes_and_sort():
    tree = parse_cql("dc.title =/relevant/cql.string 猫").root
    assert tree.relation_modifiers == (Modifier("relevant"), Modifier("cql.string"))
    assert parse_cql("a and/rel.combine=sum b").root.modifiers == (Modifier("rel.combine", "=", "sum"),)
    scoped = parse_cql('> d = "info:srw/cql-context-set/1/dc-v1.1" d.title = x').root
    assert scoped == ScopedQuery((PrefixAssignment("d", "info:srw/cql-context-set/1/dc-v1.1"),),
                                 clause("d.title", "=", "x"))
    query = parse_cql("猫 sortBy dc.date/sort.descending dc.title")
    assert query.sort_keys == (SortKey("dc.date", (Modifier("sort.descending"),)), SortKey("dc.title"))


def test_keywords_may_be_terms_where_a_term_is_expected():
    assert parse_cql("dc.title = and").root == clause("dc.title", "=", "and")
    assert parse_cql('"and"').root == clause("cql.serverChoice", "=", "and")


@pytest.mark.parametrize("query, expected", [
    ("", "the query is empty"),
    ("   ", "the query is empty"),
    ('dc.title="猫', "no closing"),
    ("(猫", "')' to close"),
    ("猫)", "boolean operator"),
    ("dc.title =", "search term after '='"),
    ("dc.title any", "end of the query"),
    ("猫 and", "search term or '('"),
    ("= 猫", "search term or '('"),
    ("猫 犬", "search term after '犬'"),
    ("猫 sortby", "index to sort by"),
    ("abc\\", "lone backslash"),
    ("dc.title =/= 猫", "modifier name"),
])
def test_syntax_errors_say_what_was_expected(query, expected):
    with pytest.raises(CqlSyntaxError) as raised:
        parse_cql(query)
    assert expected in str(raised.value)
    assert "at character" in str(raised.value)


def test_limits_are_syntax_errors_too():
    with pytest.raises(CqlTooComplex):
        parse_cql("(" * 60 + "猫" + ")" * 60)
    with pytest.raises(CqlTooComplex):
        parse_cql(" or ".join(["猫"] * 150))
    with pytest.raises(CqlSyntaxError):
        parse_cql("猫" * 5000)


# --- fuzzing -------------------------------------------------------------------------------------------------

CQL_ALPHABET = st.sampled_from(list('()=<>"/\\*?^ \t.abcAND or not sortby dc.title 猫犬宮沢　-:,'))
VALID_QUERIES = ["dc.title=猫", 'dc.title any "猫 犬" and dc.date>=1990', '(a or b) not "c d"',
                 '> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.creator =/relevant 宮沢 sortby dc.date/sort.descending',
                 r'"a \"quoted\" term*"', "rec.id any \"1 2 3\"", "bath.isbn == 9784794970756"]


def assert_parses_or_explains(text: str) -> None:
    try:
        result = parse_cql(text)
    except CqlSyntaxError as error:
        assert error.message and 0 <= error.position <= max(len(text), 4000)
        return
    assert isinstance(result, CqlQuery)
    # Whatever parses serialises to CQL that parses to the same tree.
    assert parse_cql(query_to_cql(result)) == result


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(CQL_ALPHABET, max_size=60))
def test_random_cql_like_text_parses_or_raises_a_syntax_error(text):
    assert_parses_or_explains(text)


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_any_unicode_text_parses_or_raises_a_syntax_error(text):
    assert_parses_or_explains(text)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID_QUERIES), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), CQL_ALPHABET),
                                                max_size=4))
def test_mutated_valid_queries_parse_or_raise_a_syntax_error(query, mutations):
    text = query
    for position, kind, character in mutations:
        position %= len(text) + 1
        if kind == 0:
            text = text[:position] + character + text[position:]
        elif kind == 1:
            text = text[:position] + text[position + 1:]
        elif kind == 2:
            text = text[:position] + character + text[position + 1:]
        else:
            text = text[position:] + text[:position]
    assert_parses_or_explains(text)


literal_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
raw_terms = st.one_of(literal_text.map(escape_literal),
                      st.tuples(literal_text, st.sampled_from(["*", "?", "^"])).map(
                          lambda pair: escape_literal(pair[0]) + pair[1]))
index_names = st.sampled_from(["dc.title", "dc.creator", "cql.anywhere", "bath.isbn", "rec.id", "title", "x.y.z"])
relations = st.sampled_from(["=", "==", "<>", "<", ">", "<=", ">=", "any", "all", "adj", "exact", "within"])
modifiers = st.lists(st.builds(Modifier, st.sampled_from(["relevant", "cql.string", "sort.x"])), max_size=2).map(tuple)
clauses = st.builds(SearchClause, index_names, relations, raw_terms, modifiers)
trees = st.recursive(clauses, lambda children: st.builds(
    BooleanClause, st.sampled_from(["and", "or", "not", "prox"]), children, children,
    st.just(())), max_leaves=8)
sort_keys = st.lists(st.builds(SortKey, index_names, modifiers), max_size=2).map(tuple)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(trees, sort_keys)
def test_generated_trees_round_trip_through_their_cql_text(tree, keys):
    query = CqlQuery(tree, keys)
    assert parse_cql(query_to_cql(query)) == query
