"""The documented GET parameters of /search: parsing, problems, canonical URLs and facet toggles."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from litestar.datastructures import MultiDict

from shoka.opac.search_params import SearchParameters, parse_search_parameters


def parse(pairs: list[tuple[str, str]]):
    return parse_search_parameters(MultiDict(pairs))


def test_defaults():
    parameters, problems = parse([])
    assert problems == [] and parameters == SearchParameters()
    assert not parameters.has_criteria() and parameters.url() == "/search"


def test_every_parameter_is_read():
    parameters, problems = parse([
        ("q", " 猫 "), ("title", "銀河"), ("author", "宮沢"), ("publisher", "新潮社"), ("subject", "童話"),
        ("isbn", "4-10-109205-X"), ("ndc", "913.6"), ("year_from", "1990"), ("year_to", "1999"),
        ("material_type", "book"), ("material_type", "audio"), ("language", "jpn"), ("ndc_class", "9"),
        ("branch", "central"), ("available", "1"), ("sort", "title"), ("per_page", "50"), ("page", "3"),
        ("redirect", "0"), ("lang", "en")])
    assert problems == []
    assert parameters.q == "猫" and parameters.material_type == ("book", "audio") and parameters.available
    assert parameters.page == 3 and parameters.per_page == 50 and parameters.sort == "title" and not parameters.redirect
    request = parameters.to_request()
    assert request.material_types == ["book", "audio"] and request.available_only and request.branch == "central"
    assert dict(parse_qsl(urlsplit(parameters.url("en")).query))["lang"] == "en"


def test_problems_name_each_bad_parameter():
    _, problems = parse([("per_page", "7"), ("page", "x"), ("sort", "price"), ("year_from", "2000"),
                         ("year_to", "1990"), ("ndc", "abc"), ("ndc_class", "10"), ("available", "perhaps"),
                         ("branch", "Central!"), ("language", "ja")])
    assert {problem.name for problem in problems} == {"per_page", "page", "sort", "year_to", "ndc", "ndc_class",
                                                      "available", "branch", "language"}


def test_a_page_beyond_the_deepest_result_is_a_problem():
    _, problems = parse([("q", "猫"), ("per_page", "100"), ("page", "101")])
    assert [problem.key for problem in problems] == ["param_page_too_deep"]
    _, fine = parse([("q", "猫"), ("per_page", "100"), ("page", "100")])
    assert fine == []


def test_toggling_a_filter_adds_and_removes_it_and_goes_back_to_page_one():
    parameters, _ = parse([("q", "猫"), ("page", "4"), ("ndc_class", "9")])
    added = parameters.toggled("ndc_class", "3")
    assert added.ndc_class == ("9", "3") and added.page == 1
    assert added.toggled("ndc_class", "9").ndc_class == ("3",)
    assert parameters.without_filters().ndc_class == () and parameters.without_filters().q == "猫"


words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)


@given(q=words, title=words, material_types=st.lists(st.sampled_from(["book", "audio", "video"]), unique=True),
       per_page=st.integers(10, 100), page=st.integers(1, 20), available=st.booleans(),
       sort=st.sampled_from(["relevance", "year_newest", "year_oldest", "title", "author"]))
def test_canonical_urls_parse_back_to_the_same_search(q, title, material_types, per_page, page, available, sort):
    original = SearchParameters(q=q, title=title, material_type=tuple(material_types), per_page=per_page, page=page,
                                available=available, sort=sort)
    parsed, problems = parse(parse_qsl(urlsplit(original.url()).query))
    assert problems == [] and parsed == original
