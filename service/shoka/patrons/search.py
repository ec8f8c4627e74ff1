"""Finding patrons at the desk: by card (current or replaced), reading, phone or name, one page at a time.

- card: exact, after NFKC (full-width digits); a replaced or merged card finds the patron who holds it now.
- reading: a prefix of family + given reading; ｶﾀｶﾅ and ひらがな fold to katakana and spaces are ignored (サトウ
  ハナコ = さとうはなこ). The first character narrows through the patron_personal_reading index.
- phone: digits only are compared (047-300-1234 = 0473001234), whole numbers.
- name: a prefix of family + given name, spaces ignored.
`auto` picks the kind from what was typed: a known card, then digits as a phone number, then kana as a
reading, otherwise a name. Merged records appear only under their card (their patron is the one they went to).

A search shows personal data, so it is logged ("patron.search") with its kind and result count, never the
terms typed.
"""

from __future__ import annotations

import datetime as dt
import enum
import re

import msgspec
from psycopg import AsyncConnection

from shoka.audit import Actor, record_operation
from shoka.errors import InvalidRequest
from shoka.patrons.patron_fields import (CARD_PATTERN, normalise, normalise_card, phone_digits, reading_search_key,
                                         to_katakana)

PAGE_SIZES = (20, 50, 100)
LONGEST_QUERY = 100
_KANA_ONLY = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB\u30FD\u30FE ]+$")
_PHONE_LIKE = re.compile(r"^\+?[0-9()\- ]+$")


class SearchKind(enum.StrEnum):
    AUTO = "auto"
    CARD = "card"
    READING = "reading"
    PHONE = "phone"
    NAME = "name"


class PatronHit(msgspec.Struct, frozen=True):
    id: int
    card: str
    matched_old_card: str | None  # the replaced card the search was for, if found through the card history
    family_name: str
    given_name: str
    family_name_reading: str
    given_name_reading: str
    birth_date: dt.date | None
    category: str
    home_branch: str
    status: str
    expires_on: dt.date


class PatronSearchPage(msgspec.Struct, frozen=True):
    kind: SearchKind
    hits: list[PatronHit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


_COLUMNS = """p.id, p.card, {matched}, pp.family_name, pp.given_name, pp.family_name_reading, pp.given_name_reading,
              pp.birth_date, p.category, sp.code, p.status, p.expires_on"""
_TOTAL = ", count(*) OVER ()"
_FROM = """FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id
           LEFT JOIN patron_personal pp ON pp.patron_id = p.id"""
_ORDER = " ORDER BY pp.family_name_reading, pp.given_name_reading, p.id LIMIT %(limit)s OFFSET %(offset)s"
_CARD_SEARCH = f"""
    SELECT *{_TOTAL} FROM (
        SELECT {_COLUMNS.format(matched="NULL::text")} {_FROM} WHERE p.card = %(card)s
        UNION ALL
        SELECT {_COLUMNS.format(matched="h.card")} {_FROM} JOIN patron_card_history h ON h.patron_id = p.id
        WHERE h.card = %(card)s) AS found
    ORDER BY 3 NULLS FIRST, 1 LIMIT %(limit)s OFFSET %(offset)s"""
_READING_SEARCH = f"""
    SELECT {_COLUMNS.format(matched="NULL::text")}{_TOTAL} {_FROM}
    WHERE (pp.family_name_reading || pp.given_name_reading) LIKE %(first)s
      AND replace(pp.family_name_reading || pp.given_name_reading, ' ', '') LIKE %(prefix)s
      AND p.status <> 'merged'""" + _ORDER
_PHONE_SEARCH = f"""
    SELECT {_COLUMNS.format(matched="NULL::text")}{_TOTAL} {_FROM}
    WHERE regexp_replace(pp.phone, '[^0-9]', '', 'g') = %(digits)s AND p.status <> 'merged'""" + _ORDER
_NAME_SEARCH = f"""
    SELECT {_COLUMNS.format(matched="NULL::text")}{_TOTAL} {_FROM}
    WHERE lower(replace(pp.family_name || pp.given_name, ' ', '')) LIKE %(prefix)s ESCAPE '\\'
      AND p.status <> 'merged'""" + _ORDER


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _card_is_known(connection: AsyncConnection, card: str) -> bool:
    row = await (await connection.execute(
        "SELECT EXISTS (SELECT 1 FROM patron WHERE card = %(card)s) "
        "OR EXISTS (SELECT 1 FROM patron_card_history WHERE card = %(card)s)", {"card": card})).fetchone()
    return row[0]


async def choose_kind(connection: AsyncConnection, text: str) -> SearchKind:
    card = normalise_card(text)
    if CARD_PATTERN.match(card) and await _card_is_known(connection, card):
        return SearchKind.CARD
    if _PHONE_LIKE.match(normalise(text)) and len(phone_digits(text)) >= 6:
        return SearchKind.PHONE
    if _KANA_ONLY.match(to_katakana(text)):
        return SearchKind.READING
    return SearchKind.NAME


def _statement(kind: SearchKind, text: str) -> tuple[str, dict]:
    if kind is SearchKind.CARD:
        card = normalise_card(text)
        if not CARD_PATTERN.match(card):
            raise InvalidRequest("カード番号は半角英数字とハイフンで入力してください。/ "
                                 "A card number has letters, digits and hyphens only.", code="invalid_card")
        return _CARD_SEARCH, {"card": card}
    if kind is SearchKind.READING:
        key = reading_search_key(text)
        if not _KANA_ONLY.match(key):
            raise InvalidRequest("フリガナはカタカナかひらがなで入力してください。/ "
                                 "Type the reading in katakana or hiragana.", code="invalid_reading")
        return _READING_SEARCH, {"first": key[0] + "%", "prefix": key + "%"}
    if kind is SearchKind.PHONE:
        digits = phone_digits(text)
        if len(digits) < 6:
            raise InvalidRequest("電話番号は市外局番から数字で入力してください。/ "
                                 "Type the whole phone number.", code="invalid_phone")
        return _PHONE_SEARCH, {"digits": digits}
    key = "".join(normalise(text).split()).lower()
    return _NAME_SEARCH, {"prefix": _escape_like(key) + "%"}


async def search_patrons(connection: AsyncConnection, *, text: str, kind: SearchKind, page: int, per_page: int,
                         actor: Actor) -> PatronSearchPage:
    text = text.strip()[:LONGEST_QUERY]
    if not normalise(text):
        raise InvalidRequest("検索語を入力してください。/ Type what to search for.", code="empty_query")
    if per_page not in PAGE_SIZES:
        raise InvalidRequest(f"per_page は {PAGE_SIZES} のいずれかです。/ per_page must be one of {PAGE_SIZES}.",
                             code="invalid_per_page")
    if not 1 <= page <= 10_000:
        raise InvalidRequest("page は 1 以上です。/ page starts at 1.", code="invalid_page")
    if kind is SearchKind.AUTO:
        kind = await choose_kind(connection, text)
    statement, parameters = _statement(kind, text)
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(statement, {**parameters, "limit": per_page, "offset": (page - 1) * per_page})
        rows = await cursor.fetchall()
        total = rows[0][-1] if rows else 0
        if not rows and page > 1:  # past the last page: still say how many there are
            await cursor.execute(statement, {**parameters, "limit": 1, "offset": 0})
            first = await cursor.fetchone()
            total = first[-1] if first else 0
        await record_operation(cursor, actor, "patron.search", "patron", None,
                               {"kind": kind.value, "results": total, "page": page})
    return PatronSearchPage(kind=kind, hits=[PatronHit(*row[:-1]) for row in rows], total=total, page=page,
                            per_page=per_page)
