"""Building SIP2 responses: fixed fields, `XXvalue|` fields, SIP2 dates, and encoding in the terminal's
character set.

Values are cleaned before they go out: a `|` inside a title would end the field early at the terminal and a
CR would end the message, so both become spaces. Characters the terminal's character set lacks (Japanese
titles on an IBM850 terminal) become `?` rather than failing the whole response.
"""

from __future__ import annotations

import datetime as dt

from shoka.clock import LIBRARY_TIME_ZONE
from shoka.sip2.requests import CHARSETS

# A blank date: "nb due date" and friends when there is nothing to say.
BLANK_DATE = " " * 18
# Loans are due by the end of their due day (the library's local time).
END_OF_DUE_DAY = dt.time(23, 59, 59)
_FIELD_BREAKERS = str.maketrans({"|": " ", "\r": " ", "\n": " "})


def sip2_datetime(moment: dt.datetime) -> str:
    """`YYYYMMDDZZZZHHMMSS` in the library's local time (ZZZZ = four spaces for local time)."""
    local = moment.astimezone(LIBRARY_TIME_ZONE)
    return local.strftime("%Y%m%d    %H%M%S")


def sip2_due_date(due_on: dt.date) -> str:
    return dt.datetime.combine(due_on, END_OF_DUE_DAY).strftime("%Y%m%d    %H%M%S")


def yes_no(flag: bool) -> str:
    return "Y" if flag else "N"


def clean_value(value: object) -> str:
    return str(value).translate(_FIELD_BREAKERS)


class Response:
    """A response under construction: `Response("12").fixed("1", "Y").field("AO", "central").text()`."""

    def __init__(self, code: str) -> None:
        self.code = code
        self._fixed: list[str] = []
        self._fields: list[str] = []

    def fixed(self, *values: str) -> Response:
        self._fixed.extend(values)
        return self

    def field(self, field_id: str, value: object) -> Response:
        """A variable field; always sent, even empty (required fields)."""
        self._fields.append(f"{field_id}{clean_value(value)}|")
        return self

    def optional(self, field_id: str, value: object | None) -> Response:
        """A variable field sent only when it has a value."""
        if value is not None and value != "":
            self.field(field_id, value)
        return self

    def repeated(self, field_id: str, values: list[str]) -> Response:
        for value in values:
            self.field(field_id, value)
        return self

    def text(self) -> str:
        return self.code + "".join(self._fixed) + "".join(self._fields)


def encode_text(text: str, charset: str) -> bytes:
    return text.encode(CHARSETS.get(charset, "utf-8"), errors="replace")
