"""ISBN normalisation for the catalogue: one canonical ISBN-13 per book.

Catalogues, vendor files, OPAC users and barcode scanners write the same ISBN in many ways:
``4-06-123456-7``, ``978-4-06-123456-?``, ``ISBN978 4 06…``, full-width ``９７８…`` typed on a Japanese
IME, a lower-case ``x`` check digit. Everything that stores or searches by ISBN goes through
``normalise_isbn`` so that ISBN-10 and ISBN-13, with or without hyphens, find the same book.
"""

from __future__ import annotations

import re
import unicodedata

# Dash-like characters that appear between ISBN groups after NFKC: NFKC already maps the full-width
# hyphen-minus (U+FF0D) to "-", but not the Unicode hyphens and dashes that word processors produce,
# nor the katakana prolonged sound mark that Japanese IMEs produce when a user types "-" in kana mode.
_ISBN_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70]+")
_ISBN_PREFIX = re.compile(r"^isbn(?:-1[03])?\s*[:：]?\s*", re.IGNORECASE)
_ISBN10_SHAPE = re.compile(r"^[0-9]{9}[0-9X]$")
_ISBN13_SHAPE = re.compile(r"^97[89][0-9]{10}$")


def normalise_isbn(text: str | None) -> str | None:
    """Return the 13 digits of a valid ISBN-10 or ISBN-13, or None when ``text`` is not one.

    Accepts hyphens, spaces, an ``ISBN`` / ``ISBN-13:`` prefix, full-width digits and a lower-case
    ``x``. The check digit must be right: a mistyped ISBN must not silently match another book.
    """
    if not text:
        return None
    compact = _compact_isbn_text(text)
    if _ISBN13_SHAPE.match(compact):
        return compact if _isbn13_check_digit(compact[:12]) == compact[12] else None
    if _ISBN10_SHAPE.match(compact):
        if _isbn10_check_digit(compact[:9]) != compact[9]:
            return None
        body = "978" + compact[:9]
        return body + _isbn13_check_digit(body)
    return None


def isbn10_from_13(text: str | None) -> str | None:
    """Return the ISBN-10 form of a valid ISBN, or None when there is none.

    Only 978-prefixed ISBN-13s have an ISBN-10; 979 ones were never issued one.
    """
    isbn13 = normalise_isbn(text)
    if isbn13 is None or not isbn13.startswith("978"):
        return None
    body = isbn13[3:12]
    return body + _isbn10_check_digit(body)


def is_valid_isbn(text: str | None) -> bool:
    """True when ``text`` is a valid ISBN-10 or ISBN-13 in any of the accepted spellings."""
    return normalise_isbn(text) is not None


def _compact_isbn_text(text: str) -> str:
    # NFKC turns full-width digits and the full-width "Ｘ" into ASCII before we look at the shape.
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = _ISBN_PREFIX.sub("", folded)
    return _ISBN_SEPARATORS.sub("", folded).upper()


def _isbn10_check_digit(first_nine_digits: str) -> str:
    total = sum((10 - position) * int(digit) for position, digit in enumerate(first_nine_digits))
    remainder = (11 - total % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def _isbn13_check_digit(first_twelve_digits: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve_digits))
    return str((10 - total % 10) % 10)
