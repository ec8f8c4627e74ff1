"""The rules of a patron record without a server: normalising readings, phone numbers and postal codes, the
age band, the expiry rule, and the bulk CSV reader (fuzzed: any bytes give a plan or a clear refusal)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoka.patrons.bulk_update import BulkFileRefused, decode_upload, read_rows
from shoka.patrons.patron_fields import (add_years, age_band, check_birth_date, check_email, check_membership,
                                         check_personal, check_phone, check_postal_code, check_reading,
                                         reading_search_key, renewed_expiry, to_katakana)

TODAY = dt.date(2025, 4, 1)


@pytest.mark.parametrize("typed, reading", [
    ("さとう　はなこ", "サトウ ハナコ"), ("ｻﾄｳ ﾊﾅｺ", "サトウ ハナコ"), ("  ヴァイオリン  ", "ヴァイオリン"),
    ("すゞき", "スヾキ"), ("おおの ゆうこ", "オオノ ユウコ"), ("ガッコウ", "ガッコウ"),
])
def test_readings_become_katakana_with_single_spaces(typed, reading):
    assert to_katakana(typed) == reading
    assert check_reading(typed, required=True) == (reading, None)


def test_a_reading_in_kanji_or_latin_is_refused_and_an_empty_one_only_when_required():
    assert check_reading("山田", required=True)[1] is not None
    assert check_reading("Yamada", required=True)[1] is not None
    assert check_reading("", required=True)[1] is not None
    assert check_reading("", required=False) == ("", None)


def test_the_search_key_of_a_reading_ignores_spaces_and_kana_kind():
    assert reading_search_key("さとう はなこ") == reading_search_key("ｻﾄｳﾊﾅｺ") == "サトウハナコ"


@pytest.mark.parametrize("birth, band", [
    (dt.date(2018, 4, 2), "0-6"), (dt.date(2018, 4, 1), "7-12"), (dt.date(2012, 4, 1), "13-15"),
    (dt.date(2009, 4, 2), "13-15"), (dt.date(2006, 4, 1), "19-29"), (dt.date(1995, 4, 2), "19-29"),
    (dt.date(1995, 4, 1), "30-39"), (dt.date(1955, 4, 1), "70+"), (None, "unknown"),
])
def test_the_age_band_on_the_day(birth, band):
    assert age_band(birth, TODAY) == band


def test_expiry_runs_for_the_period_and_renewal_never_loses_days():
    assert add_years(dt.date(2024, 2, 29), 3) == dt.date(2027, 2, 28)
    assert renewed_expiry(dt.date(2024, 1, 1), TODAY, 3) == dt.date(2028, 4, 1)   # expired: from today
    assert renewed_expiry(dt.date(2025, 9, 30), TODAY, 3) == dt.date(2028, 9, 30)  # early: from the expiry


@pytest.mark.parametrize("typed, kept, valid", [
    ("047-123-4567", "047-123-4567", True), ("０９０ １２３４ ５６７８", "090 1234 5678", True),
    ("(047)123-4567", "(047)123-4567", True), ("+44 20 7946 0958", "+44 20 7946 0958", True),
    ("123-4567", "123-4567", False), ("047-123-45678-9", "047-123-45678-9", False), ("tel 047", "tel 047", False),
])
def test_phone_numbers(typed, kept, valid):
    phone, problem = check_phone(typed)
    assert phone == kept and (problem is None) == valid


def test_postal_codes_email_and_birth_dates():
    assert check_postal_code("〒２７２００１５") == ("272-0015", None)
    assert check_postal_code("272-001")[1] is not None
    assert check_email("Name@Example.JP") == ("Name@Example.JP", None)
    assert check_email("name@localhost")[1] is not None
    assert check_birth_date("2010/4/1", TODAY) == check_birth_date("２０１００４０１", TODAY) == (dt.date(2010, 4, 1), None)
    assert check_birth_date("2025-04-02", TODAY)[1] is not None
    assert check_birth_date("2010-02-30", TODAY)[1] is not None


def test_every_problem_of_a_form_is_reported_at_once():
    _details, problems = check_personal({"family_name": "", "family_name_reading": "X", "email": "@",
                                         "postal_code": "1", "address": "あ" * 201}, TODAY)
    assert set(problems) == {"family_name", "family_name_reading", "email", "postal_code", "address"}
    _membership, problems = check_membership({"category": "nobody", "home_branch": "", "expires_on": "2020-01-01"},
                                             categories={"adult": 1}, branches={"central": 1}, today=TODAY,
                                             allow_past_expiry=False)
    assert set(problems) == {"category", "home_branch", "expires_on"}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_readings_are_normalised_once_and_for_all(text):
    assert to_katakana(to_katakana(text)) == to_katakana(text)
    assert " " not in reading_search_key(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_upload_is_read_or_refused_with_a_reason(data):
    try:
        columns, rows = read_rows(decode_upload(data)[0])
    except BulkFileRefused as refusal:
        assert refusal.message
        return
    assert "card" in columns
    assert all(line >= 2 for line, _cells in rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab,\"\n\r 電話", max_size=8), min_size=1, max_size=4), max_size=6))
def test_line_numbers_follow_the_file(cells):
    text = "card,phone\n" + "\n".join(",".join(row) for row in cells)
    try:
        _columns, rows = read_rows(text)
    except BulkFileRefused:
        return
    numbers = [line for line, _cells in rows]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert all(2 <= line <= len(text.splitlines()) + 1 for line in numbers)  # CR, LF and CRLF end lines
