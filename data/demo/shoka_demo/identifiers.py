"""Identifiers printed on things: ISBN-13 with its check digit, item and card barcodes with a mod-10 check digit."""

from __future__ import annotations


def isbn13_check_digit(first_twelve_digits: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve_digits))
    return str((10 - total % 10) % 10)


def is_valid_isbn13(isbn: str) -> bool:
    digits = isbn.replace("-", "")
    return len(digits) == 13 and digits.isdigit() and isbn13_check_digit(digits[:12]) == digits[12]


def isbn13(prefix_after_978: str, title_number: int) -> str:
    """978-{group}{publisher}-{title}-{check} as 13 digits without hyphens (the form bib.isbns keeps).

    The prefix is the registration group and the publisher, 4 for Japan: "400" is 岩波書店 (978-4-00-...).
    """
    title_digits = 9 - len(prefix_after_978)
    body = f"978{prefix_after_978}{title_number:0{title_digits}d}"
    if len(body) != 12:
        raise ValueError(f"title number {title_number} does not fit ISBN prefix 978-{prefix_after_978}")
    return body + isbn13_check_digit(body)


def isbn_title_capacity(prefix_after_978: str) -> int:
    """How many title numbers a prefix leaves (978-4-00 leaves a million)."""
    return 10 ** (9 - len(prefix_after_978))


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def item_barcode(service_point_id: int, serial: int) -> str:
    """12 digits: 2, the owning branch (2 digits), a serial (8 digits), a mod-10 check digit."""
    body = f"2{service_point_id:02d}{serial:08d}"
    return body + luhn_check_digit(body)


def patron_card(serial: int) -> str:
    """10 digits: 10, a serial (7 digits), a mod-10 check digit."""
    body = f"10{serial:07d}"
    return body + luhn_check_digit(body)
