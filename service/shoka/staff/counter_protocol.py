"""What the counter screen's script and its JSON endpoints (/staff/circulation/...) exchange: the bodies of a
scan, how scanned text is checked before it reaches the desk, and how a refusal is answered.

A refusal keeps the engine's code and both sentences (`message` is the Japanese one, as on the API, and
`message_en` the English one), and says whether a librarian may lend anyway (`overridable`), so the screen can
show it plainly in the desk's language and offer the override only where the rules allow one.
"""

from __future__ import annotations

import re

import msgspec
from litestar import MediaType, Request, Response

from shoka.circulation.decisions import CirculationRefused
from shoka.errors import InvalidRequest

# The engine lets staff lend past other patrons' waiting holds and nothing else (CheckoutRequest.staff_override).
OVERRIDABLE_REFUSALS = frozenset({"reserved_for_others"})

_SCANNED_CODE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_REQUEST_ID = re.compile(r"^[0-9A-Za-z_-]{8,64}$")


class PatronScan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    card: str = ""


class CheckoutScan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    patron: str = ""
    item: str = ""
    request_id: str = ""
    override: bool = False


class ItemScan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item: str = ""
    request_id: str = ""


class RefusalBody(msgspec.Struct, frozen=True):
    code: str
    message: str
    message_en: str
    overridable: bool


def scanned_card(text: str, field: str = "card") -> str:
    """A patron card as a scanner typed it (surrounding spaces dropped); 400 naming the field otherwise."""
    card = text.strip()
    if not _SCANNED_CODE.fullmatch(card):
        raise InvalidRequest(f"利用者カード番号「{card[:40]}」を読み取れません（{field}: 英数字とハイフン、32文字まで）。"
                             f" / {field}: the card number must be 1 to 32 letters, digits or hyphens.",
                             code=f"invalid_{field}")
    return card


def scanned_barcode(text: str, field: str = "item") -> str:
    barcode = text.strip()
    if not _SCANNED_CODE.fullmatch(barcode):
        raise InvalidRequest(f"資料番号「{barcode[:40]}」を読み取れません（{field}: 英数字とハイフン、32文字まで）。"
                             f" / {field}: the item barcode must be 1 to 32 letters, digits or hyphens.",
                             code=f"invalid_{field}")
    return barcode


def scan_request_id(text: str) -> str:
    """Every scan from the screen carries its idempotency key: without one a retry could lend twice."""
    if not _REQUEST_ID.fullmatch(text):
        raise InvalidRequest("処理番号がありません（request_id: 8〜64文字の英数字・ハイフン・下線）。"
                             " / request_id: 8 to 64 letters, digits, hyphens or underscores are required.",
                             code="invalid_request_id")
    return text


def refusal_response(_request: Request, refusal: CirculationRefused) -> Response:
    return Response(content=RefusalBody(code=refusal.code, message=refusal.message, message_en=refusal.message_en,
                                        overridable=refusal.code in OVERRIDABLE_REFUSALS),
                    status_code=int(refusal.status_code), media_type=MediaType.JSON,
                    headers={"Cache-Control": "no-store"})


COUNTER_ERRORS = {CirculationRefused: refusal_response}
