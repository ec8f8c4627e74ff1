"""Parsing SIP2 requests: the two-digit code, the fixed-length fields of that message, then `XXvalue|` fields.

`parse_request` turns text into a `Request` or raises `MalformedMessage`, and nothing else, whatever the
input (a property the fuzz tests hold it to). Only the fields Shoka acts on are required: a kiosk that leaves
out the institution (AO) or terminal password (AC) is still served, but a checkout without a patron (AA) or
item (AB) is malformed. Codes of standard messages Shoka does not support are parsed as far as their code, so
the session can refuse them with their own response type.
"""

from __future__ import annotations

import enum

import msgspec

# The character sets a terminal account may use (staff_account.sip2_charset) and Python's codec for each.
CHARSETS = {"utf-8": "utf-8", "cp850": "cp850", "cp932": "cp932"}


class MessageCode(enum.StrEnum):
    LOGIN = "93"
    SC_STATUS = "99"
    PATRON_STATUS = "23"
    PATRON_INFORMATION = "63"
    ITEM_INFORMATION = "17"
    CHECKOUT = "11"
    CHECKIN = "09"
    RENEW = "29"
    END_PATRON_SESSION = "35"
    RESEND = "97"


# Standard SC messages that Shoka answers with a refusal in their own response type (BX says N for them).
UNSUPPORTED_CODES = frozenset({"01", "15", "19", "25", "37", "65"})


class MalformedMessage(Exception):
    """A message that cannot be parsed; `code` is its two-digit code when that much was readable."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class UnsupportedMessage(MalformedMessage):
    """A standard message Shoka does not serve (BX says N for it): refused in its own response type."""


class Layout(msgspec.Struct, frozen=True):
    fixed: tuple[tuple[str, int], ...]  # (name, width) in order
    required: tuple[str, ...] = ()  # variable fields that must be present and non-empty


TRANSACTION_DATE = ("transaction_date", 18)
LONGEST_REQUIRED_VALUE = 256
LAYOUTS: dict[str, Layout] = {
    MessageCode.LOGIN: Layout(fixed=(("uid_algorithm", 1), ("pwd_algorithm", 1)), required=("CN", "CO")),
    MessageCode.SC_STATUS: Layout(fixed=(("status_code", 1), ("max_print_width", 3), ("protocol_version", 4))),
    MessageCode.PATRON_STATUS: Layout(fixed=(("language", 3), TRANSACTION_DATE), required=("AA",)),
    MessageCode.PATRON_INFORMATION: Layout(fixed=(("language", 3), TRANSACTION_DATE, ("summary", 10)),
                                           required=("AA",)),
    MessageCode.ITEM_INFORMATION: Layout(fixed=(TRANSACTION_DATE,), required=("AB",)),
    MessageCode.CHECKOUT: Layout(fixed=(("sc_renewal_policy", 1), ("no_block", 1), TRANSACTION_DATE,
                                        ("nb_due_date", 18)), required=("AA", "AB")),
    MessageCode.CHECKIN: Layout(fixed=(("no_block", 1), TRANSACTION_DATE, ("return_date", 18)), required=("AB",)),
    MessageCode.RENEW: Layout(fixed=(("third_party_allowed", 1), ("no_block", 1), TRANSACTION_DATE,
                                     ("nb_due_date", 18)), required=("AA",)),
    MessageCode.END_PATRON_SESSION: Layout(fixed=(TRANSACTION_DATE,), required=("AA",)),
    MessageCode.RESEND: Layout(fixed=()),
}


class Request(msgspec.Struct, frozen=True):
    code: str
    fixed: dict[str, str]
    fields: dict[str, list[str]]  # every occurrence of each field, in order
    text: str  # the whole message body as received (decoded)

    def field(self, field_id: str) -> str | None:
        """The first value of a variable field, or None when the message does not carry it."""
        values = self.fields.get(field_id)
        return values[0] if values else None

    def non_empty(self, field_id: str) -> str | None:
        value = self.field(field_id)
        return value if value else None


def decode_body(body: bytes, charset: str) -> str:
    """The message text in the terminal's character set; undecodable bytes make the message malformed."""
    try:
        return body.decode(CHARSETS.get(charset, "utf-8"))
    except UnicodeDecodeError as error:
        code = body[:2].decode("ascii", "replace") if body[:2].isdigit() else None
        raise MalformedMessage(f"not valid {charset} text at byte {error.start}", code) from None


def message_code(text: str) -> str | None:
    code = text[:2]
    return code if len(code) == 2 and code.isascii() and code.isdigit() else None


def parse_request(text: str) -> Request:
    """Parses a message body (no trailer, no terminator). Raises MalformedMessage, and only that."""
    code = message_code(text)
    if code is None:
        raise MalformedMessage("a message starts with a two-digit code")
    layout = LAYOUTS.get(code)
    if layout is None:
        if code in UNSUPPORTED_CODES:
            raise UnsupportedMessage(f"unsupported message {code}", code)
        raise MalformedMessage(f"unknown message code {code}", code)
    position = 2
    fixed: dict[str, str] = {}
    for name, width in layout.fixed:
        value = text[position:position + width]
        if len(value) != width or "|" in value:
            raise MalformedMessage(f"fixed field {name} needs {width} characters", code)
        fixed[name] = value
        position += width
    fields = _variable_fields(text[position:], code)
    for field_id in layout.required:
        value = fields.get(field_id, [""])[0]
        if not value:
            raise MalformedMessage(f"required field {field_id} is missing", code)
        # Identifiers and passwords go to the database: no control characters (PostgreSQL refuses NUL).
        if len(value) > LONGEST_REQUIRED_VALUE or not value.isprintable():
            raise MalformedMessage(f"field {field_id} is too long or holds control characters", code)
    return Request(code=code, fixed=fixed, fields=fields, text=text)


def _variable_fields(text: str, code: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for piece in text.split("|"):
        if not piece:
            continue  # the empty piece after the last "|", or a stray "||"
        field_id = piece[:2]
        if len(field_id) != 2 or not (field_id.isascii() and field_id.isalnum() and field_id.isupper()):
            raise MalformedMessage(f"variable field {piece[:8]!r} has no two-letter identifier", code)
        fields.setdefault(field_id, []).append(piece[2:])
    return fields
