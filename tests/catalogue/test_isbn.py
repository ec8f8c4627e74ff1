"""ISBN-10 and ISBN-13, with or without hyphens, full-width or not, must come out as the same ISBN-13."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoka.catalogue.isbn import is_valid_isbn, isbn10_from_13, normalise_isbn


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("978-4-7949-7075-6", "9784794970756"),
        ("9784794970756", "9784794970756"),
        ("4-7949-7075-7", "9784794970756"),
        ("4794970757", "9784794970756"),
        ("404653883X", "9784046538833"),
        ("4-04-653883-x", "9784046538833"),
        ("ISBN 4-04-653883-X", "9784046538833"),
        ("ISBN978-4-04-653883-3", "9784046538833"),
        ("ISBN-13: 978 4 04 653883 3", "9784046538833"),
        ("９７８－４－７９４９－７０７５－６", "9784794970756"),  # typed with a Japanese IME
        ("４０４６５３８８３Ｘ", "9784046538833"),
        ("978‐4‐7949‐7075‐6", "9784794970756"),  # U+2010 hyphens from a word processor
        ("  978-4-7949-7075-6  ", "9784794970756"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_valid_isbns_normalise_to_isbn13(written: str, expected: str) -> None:
    assert normalise_isbn(written) == expected
    assert is_valid_isbn(written)


@pytest.mark.parametrize(
    "written",
    [
        None,
        "",
        "978-4-7949-7075-5",  # wrong check digit
        "4-7949-7075-8",
        "97847949707",  # too short
        "97847949707566",  # too long
        "977-4-7949-7075-6",  # 977 is ISSN territory, not ISBN
        "47949X7075",  # X only as the ISBN-10 check digit
        "978479497075X",  # never X in an ISBN-13
        "abcdefghij",
        "1700円",
    ],
)
def test_invalid_isbns_are_refused(written: str | None) -> None:
    assert normalise_isbn(written) is None
    assert not is_valid_isbn(written)


def test_isbn10_from_13() -> None:
    assert isbn10_from_13("978-4-04-653883-3") == "404653883X"
    assert isbn10_from_13("4-04-653883-x") == "404653883X"
    assert isbn10_from_13("9791090636071") is None  # 979 ISBNs have no ISBN-10
    assert isbn10_from_13("978-4-7949-7075-5") is None


def _isbn10_check(body: str) -> str:
    remainder = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def _isbn13_check(body: str) -> str:
    return str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10)


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
twelve_digit_bodies = st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(["978", "979"]),
                                st.text(alphabet="0123456789", min_size=9, max_size=9))


@given(nine_digits)
def test_every_isbn10_maps_to_an_isbn13_that_maps_back(body: str) -> None:
    isbn10 = body + _isbn10_check(body)
    isbn13 = normalise_isbn(isbn10)
    assert isbn13 is not None and isbn13.startswith("978") and len(isbn13) == 13
    assert normalise_isbn(isbn13) == isbn13
    assert isbn10_from_13(isbn13) == isbn10
    hyphenated = f"{isbn10[0]}-{isbn10[1:4]}-{isbn10[4:9]}-{isbn10[9].lower()}"
    assert normalise_isbn(hyphenated) == isbn13


@given(twelve_digit_bodies)
def test_every_valid_isbn13_is_its_own_normal_form(body: str) -> None:
    isbn13 = body + _isbn13_check(body)
    assert normalise_isbn(isbn13) == isbn13
    if isbn13.startswith("978"):
        assert normalise_isbn(isbn10_from_13(isbn13)) == isbn13
    else:
        assert isbn10_from_13(isbn13) is None


@given(twelve_digit_bodies, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_a_single_mistyped_digit_is_caught(body: str, position: int, shift: int) -> None:
    isbn13 = body + _isbn13_check(body)
    mistyped = isbn13[:position] + str((int(isbn13[position]) + shift) % 10) + isbn13[position + 1 :]
    assert normalise_isbn(mistyped) is None


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    result = normalise_isbn(text)
    assert result is None or (len(result) == 13 and result.isdigit())
