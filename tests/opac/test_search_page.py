"""The OPAC top page, results page and advanced search over real records through the real server: the stable
GET parameters, the documented result markup, facets, sorting, paging, redirects and the 400 page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.opac.conftest import Browser, parse_html

ELECTRONIC_BOOKS = "電子書籍"


def api_total(library, **parameters) -> int:
    response = httpx.get(f"{library.base_url}/api/v1/search", params={"per_page": 10, **parameters})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def results(browser: Browser, **parameters):
    response = browser.get("/search", **parameters)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return parse_html(response.text)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_home_page_has_the_contract_search_box_and_login_link(browser):
    page = parse_html(browser.get("/").text)
    box = page.find("input", name="q")
    assert box is not None and box.get("type") == "search"
    assert page.find("form", role="search").get("action") == "/search"
    assert page.find("html").get("lang") == "ja"
    login = page.find("a", cls="login-link")
    assert login.text() == "ログイン" and login.get("href").startswith("/login")
    assert page.find("a", cls="skip-link").get("href") == "#main"
    english = browser.get("/", lang="en")
    assert 'lang="en"' in english.text and "Log in" in english.text
    assert "shoka_lang=en" in english.headers["set-cookie"]


def test_results_carry_the_documented_markup(browser, library):
    page = results(browser, q=ELECTRONIC_BOOKS, per_page=20)
    listing = page.find("ol", cls="results")
    total = int(listing.get("data-total"))
    assert total == api_total(library, q=ELECTRONIC_BOOKS) and total > 20
    hits = listing.find_all("li", cls="hit")
    assert len(hits) == 20
    for hit in hits:
        bib_id = int(hit.get("data-bib-id"))
        title = hit.find(cls="title")
        assert title.tag == "a" and title.get("href") == f"/bibs/{bib_id}" and title.text().strip()
        assert hit.find(cls="availability") is not None
    with_items = [hit for hit in hits if hit.find(cls="availability", data_branch="central")]
    assert with_items, "records with copies show availability per branch"
    entry = with_items[0].find(cls="availability", data_branch="central")
    assert entry.get("data-status") in {"available", "on_loan", "reserved", "in_library_only", "in_preparation"}
    assert "中央図書館" in entry.text() and "central" not in entry.text()
    assert any(hit.find(cls="author") and hit.find(cls="publisher") and hit.find(cls="year") and hit.find(cls="isbn")
               for hit in hits)
    assert any(hit.find(cls="title-reading") for hit in hits), "readings are shown"


def test_availability_in_the_vocabulary_japanese_users_know(browser, library):
    page = results(browser, isbn="9784794970756", redirect="0")
    hit = page.find("li", cls="hit")
    states = {entry.get("data-branch"): entry for entry in hit.find_all(cls="availability")}
    assert states["central"].get("data-status") == "available" and "貸出可" in states["central"].text()
    assert states["gyotoku"].get("data-status") == "on_loan" and "貸出中" in states["gyotoku"].text()
    assert "返却予定" in states["gyotoku"].text()
    held = results(browser, q="キンドル・アンリミテッドの衝撃", redirect="0").find(
        "li", cls="hit", data_bib_id=str(library.bibs["kindle_unlimited"]))
    labels = {entry.get("data-branch"): entry.find(cls="status").text() for entry in held.find_all(cls="availability")}
    assert labels == {"central": "予約中", "gyotoku": "準備中"}
    without_copies = results(browser, q="電子書籍少女", redirect="0").find("li", cls="hit")
    assert without_copies.find(cls="availability").get("data-status") == "no_holding"
    assert "蔵書なし" in without_copies.find(cls="availability").text()
    english = results(browser, isbn="9784794970756", redirect="0", lang="en")
    central = english.find(cls="availability", data_branch="central")
    assert "Central Library" in central.text() and "Available" in central.text()


def test_facets_add_and_remove_filters(browser):
    page = results(browser, q=ELECTRONIC_BOOKS)
    facets = {section.get("data-facet"): section for section in page.find_all("section", cls="facet")}
    assert {"material_type", "ndc_class", "year", "branch", "language"} <= set(facets)
    ndc = facets["ndc_class"].find("a", data_value="0")
    assert "総記" in ndc.text()
    narrowed_url = ndc.get("href")
    assert query_of(narrowed_url)["ndc_class"] == ["0"] and query_of(narrowed_url)["q"] == [ELECTRONIC_BOOKS]
    narrowed = parse_html(browser.get(narrowed_url).text)
    total = int(narrowed.find("ol", cls="results").get("data-total"))
    selected = narrowed.find("section", data_facet="ndc_class").find("a", data_value="0")
    assert selected.get("aria-current") == "true"
    assert "ndc_class" not in query_of(selected.get("href")), "a selected facet links to its removal"
    both = results(browser, q=ELECTRONIC_BOOKS, ndc_class=["0", "5"])
    selected_classes = both.find("section", data_facet="ndc_class").find_all("a", aria_current="true")
    assert {link.get("data-value") for link in selected_classes} == {"0", "5"}, "ndc_class is repeatable"
    assert query_of(selected_classes[0].get("href"))["ndc_class"] == ["5"]
    assert int(both.find("ol", cls="results").get("data-total")) > total
    decade = narrowed.find("section", data_facet="year").find("a")
    years = query_of(decade.get("href"))
    assert int(years["year_to"][0]) - int(years["year_from"][0]) == 9
    branch = narrowed.find("section", data_facet="branch").find("a", data_value="central")
    assert "中央図書館" in branch.text() and query_of(branch.get("href"))["branch"] == ["central"]
    available = narrowed.find("section", data_facet="available").find("a")
    assert query_of(available.get("href"))["available"] == ["1"]
    only_available = parse_html(browser.get(available.get("href")).text)
    assert int(only_available.find("ol", cls="results").get("data-total")) < total
    chips = only_available.find("div", cls="active-filters").find_all("a", cls="chip")
    assert len(chips) == 2


def test_sorting_page_size_and_pagination(browser):
    page = results(browser, q=ELECTRONIC_BOOKS, per_page=10, sort="year_newest")
    years = [int(year.get("data-year")) for year in page.find_all(cls="year")]
    assert len(page.find_all("li", cls="hit")) == 10 and years == sorted(years, reverse=True)
    chosen = [option for option in page.find("select", id="sort").find_all("option") if "selected" in option.attributes]
    assert [option.get("value") for option in chosen] == ["year_newest"]
    pagination = page.find("nav", cls="pagination")
    current = pagination.find("a", aria_current="page")
    assert current.text().strip().endswith("1")
    next_link = pagination.find("a", rel="next")
    assert query_of(next_link.get("href")) == {"q": [ELECTRONIC_BOOKS], "sort": ["year_newest"], "per_page": ["10"],
                                               "page": ["2"]}
    second = parse_html(browser.get(next_link.get("href")).text)
    assert second.find("ol", cls="results").get("start") == "11"
    assert {hit.get("data-bib-id") for hit in second.find_all("li", cls="hit")}.isdisjoint(
        {hit.get("data-bib-id") for hit in page.find_all("li", cls="hit")})
    oldest = results(browser, q=ELECTRONIC_BOOKS, per_page=100, sort="year_oldest")
    years = [int(year.get("data-year")) for year in oldest.find_all(cls="year")]
    assert years == sorted(years) and len(oldest.find_all("li", cls="hit")) <= 100
    for order in ("title", "author", "relevance"):
        assert browser.get("/search", q=ELECTRONIC_BOOKS, sort=order).status_code == 200


def test_a_single_hit_goes_straight_to_its_record(browser, library):
    response = browser.get("/search", isbn="978-4-7949-7075-6")
    assert response.status_code == 303
    assert response.headers["location"] == f"/bibs/{library.bibs['kore_kara']}"
    english = browser.get("/search", q="9784794970756", lang="en")
    assert english.headers["location"] == f"/bibs/{library.bibs['kore_kara']}?lang=en"
    stay = results(browser, isbn="9784794970756", redirect="0")
    assert stay.find("ol", cls="results").get("data-total") == "1"


def test_no_hits_give_suggestions(browser):
    page = results(browser, q="存在しない語ずずずずず", available="1", material_type="book")
    assert page.find("ol", cls="results").get("data-total") == "0"
    suggestions = page.find("section", cls="no-results")
    text = suggestions.text()
    assert "ひらがな" in text and "誤り" in text
    links = {link.text(): link.get("href") for link in suggestions.find_all("a")}
    assert "/search?q=" in links["絞り込みをすべて解除して探す"] and "available" not in links["絞り込みをすべて解除して探す"]
    assert "available" not in links["貸出中の資料も含めて探す"]
    english = results(browser, q="存在しない語ずずずずず", lang="en")
    assert "hiragana" in english.find("section", cls="no-results").text()


def test_an_empty_search_asks_for_words_and_browsing_by_filter_works(browser):
    empty = results(browser)
    assert empty.find("ol", cls="results") is None and "キーワード" in empty.text()
    by_type = results(browser, material_type="book", per_page=10)
    assert int(by_type.find("ol", cls="results").get("data-total")) > 100


@pytest.mark.parametrize("parameters,named", [
    ({"q": "猫", "per_page": "5"}, "per_page"),
    ({"q": "猫", "per_page": "abc"}, "per_page"),
    ({"q": "猫", "page": "0"}, "page"),
    ({"q": "猫", "page": "2000", "per_page": "10"}, "page"),
    ({"q": "猫", "page": "99999999999999999999"}, "page"),
    ({"q": "猫", "sort": "price"}, "sort"),
    ({"q": "猫", "branch": "nowhere"}, "branch"),
    ({"q": "猫", "branch": "<script>"}, "branch"),
    ({"q": "猫", "year_from": "abc"}, "year_from"),
    ({"q": "猫", "year_from": "2000", "year_to": "1990"}, "year_to"),
    ({"q": "猫", "year_to": "5000"}, "year_to"),
    ({"q": "猫", "ndc": "abc"}, "ndc"),
    ({"q": "猫", "ndc_class": "x"}, "ndc_class"),
    ({"q": "猫", "material_type": "Book; DROP"}, "material_type"),
    ({"q": "猫", "language": "japanese"}, "language"),
    ({"q": "猫", "available": "maybe"}, "available"),
    ({"q": "あ" * 1001}, "q"),
    ({"title": "あ" * 501}, "title"),
    ({"q": "year:abc"}, "q"),
    ({"q": "猫\x00"}, "q"),
])
def test_bad_parameters_get_a_helpful_400_page(browser, parameters, named):
    response = browser.get("/search", **parameters)
    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    page = parse_html(response.text)
    problems = page.find("div", cls="error-summary")
    assert problems.get("role") == "alert" and problems.find("li", data_parameter=named) is not None
    assert page.find("input", name="q") is not None, "the page keeps the search box"
    plain = httpx.get(f"{browser.library.base_url}/search", params=parameters)  # no Accept header: still a page
    assert plain.status_code == 400 and plain.headers["content-type"].startswith("text/html")


def test_unknown_parameters_are_ignored_and_repeats_take_the_first(browser):
    page = results(browser, q=ELECTRONIC_BOOKS, per_page=["10", "50"], utm_source="crosssearch")
    assert len(page.find_all("li", cls="hit")) == 10


def test_advanced_search_form_is_labelled_and_prefilled(browser):
    page = parse_html(browser.get("/advanced", title="銀河", year_from="1990", material_type="book",
                                  available="1", branch="central").text)
    form = page.find("form", cls="advanced-form")
    assert form.get("action") == "/search" and form.get("method") == "get"
    labels = {label.get("for") for label in form.find_all("label")}
    for field in form.find_all("input") + form.find_all("select"):
        if field.get("type") != "hidden":
            assert field.get("id") in labels, field.attributes
    names = {field.get("name") for field in form.find_all("input") + form.find_all("select")}
    assert {"q", "title", "author", "publisher", "subject", "isbn", "ndc", "year_from", "year_to", "material_type",
            "language", "ndc_class", "branch", "available", "sort", "per_page"} <= names
    assert form.find("input", name="title").get("value") == "銀河"
    assert form.find("input", name="year_from").get("value") == "1990"
    assert "checked" in form.find("input", name="available").attributes
    branch = form.find("select", name="branch").find("option", value="central")
    assert "selected" in branch.attributes and branch.text() == "中央図書館"
    by_field = results(browser, title="これからの本の話", author="萩野", year_from="2019", year_to="2019",
                       redirect="0")
    assert by_field.find("ol", cls="results").get("data-total") == "1"


def test_language_switch_keeps_the_search(browser):
    page = parse_html(browser.get("/search", q=ELECTRONIC_BOOKS, per_page="10").text)
    switch = next(link for link in page.find_all("a") if link.get("hreflang") == "en")
    assert query_of(switch.get("href")) == {"q": [ELECTRONIC_BOOKS], "per_page": ["10"], "lang": ["en"]}
    english = parse_html(browser.get(switch.get("href")).text)
    assert english.find("html").get("lang") == "en" and english.find("h1").text() == "Search results"
    assert english.find("ol", cls="results") is not None


def test_search_pages_are_public_and_cacheable_when_anonymous(browser):
    response = browser.get("/search", q=ELECTRONIC_BOOKS)
    assert "no-store" not in response.headers.get("cache-control", "")
    assert "shoka_session" not in response.headers.get("set-cookie", "")
    assert response.headers["x-frame-options"] == "DENY" and "script-src 'self'" in response.headers[
        "content-security-policy"]


def test_a_page_after_the_last_says_so(browser):
    page = results(browser, q="これからの本", page="40", per_page="10")
    assert page.find("li", cls="hit") is None and page.find("section", cls="no-results") is None
    link = next(link for link in page.find_all("a") if link.text() == "最初のページへ")
    assert "page" not in query_of(link.get("href"))
