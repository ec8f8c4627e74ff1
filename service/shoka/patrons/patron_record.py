"""One patron as staff see it: membership, personal data, card history, loan and hold counts, web login.

Reading it is a read of personal data, so it is logged ("patron.view", the patron's id and which screen) in
the same transaction as the read. Loans and holds are counted here; the counter screen lists them.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from psycopg import AsyncConnection

from shoka.audit import Actor, record_operation
from shoka.errors import NotFound
from shoka.patrons.patron_fields import PersonalDetails
from shoka.patrons.registry import read_personal


class CardHistoryEntry(msgspec.Struct, frozen=True):
    card: str
    replaced_at: dt.datetime
    reason: str  # lost | damaged | merged | other


class PatronRecord(msgspec.Struct, frozen=True):
    id: int
    card: str
    category: str
    home_branch: str
    expires_on: dt.date
    status: str
    keeps_reading_record: bool
    age_band: str
    registered_at: dt.datetime
    updated_at: dt.datetime
    merged_into_id: int | None
    merged_into_card: str | None
    personal: PersonalDetails
    card_history: list[CardHistoryEntry]
    merged_from: list[tuple[int, str]]
    open_loans: int
    overdue_loans: int
    open_holds: int
    ready_holds: int
    loan_history: int
    has_web_password: bool
    web_login_locked_until: dt.datetime | None

    def expired_on(self, today: dt.date) -> bool:
        return self.expires_on < today


_RECORD = """
SELECT p.id, p.card, p.category, sp.code, p.expires_on, p.status, p.keeps_reading_record, p.age_band,
       p.registered_at, p.updated_at, p.merged_into_id, target.card,
       (SELECT count(*) FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL),
       (SELECT count(*) FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL AND l.due_on < %(today)s),
       (SELECT count(*) FROM hold h WHERE h.patron_id = p.id AND h.status IN ('waiting', 'in_transit', 'ready')),
       (SELECT count(*) FROM hold h WHERE h.patron_id = p.id AND h.status = 'ready'),
       (SELECT count(*) FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NOT NULL),
       c.patron_id IS NOT NULL, c.locked_until
FROM patron p
JOIN service_point sp ON sp.id = p.home_service_point_id
LEFT JOIN patron target ON target.id = p.merged_into_id
LEFT JOIN patron_credential c ON c.patron_id = p.id
WHERE p.id = %(id)s
"""


async def read_patron(connection: AsyncConnection, patron_id: int, *, actor: Actor, today: dt.date,
                      view: str = "detail") -> PatronRecord:
    """The patron's record for a staff screen; logs "patron.view" with the screen's name."""
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(_RECORD, {"id": patron_id, "today": today})
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"利用者 {patron_id} は登録されていません。/ Patron {patron_id} does not exist.",
                           code="unknown_patron")
        personal = await read_personal(cursor, patron_id)
        await cursor.execute("SELECT card, replaced_at, reason FROM patron_card_history WHERE patron_id = %s "
                             "ORDER BY replaced_at DESC, card", [patron_id])
        history = [CardHistoryEntry(*entry) for entry in await cursor.fetchall()]
        await cursor.execute("SELECT id, card FROM patron WHERE merged_into_id = %s ORDER BY id", [patron_id])
        merged_from = [tuple(entry) for entry in await cursor.fetchall()]
        await record_operation(cursor, actor, "patron.view", "patron", patron_id, {"view": view})
    (identifier, card, category, home_branch, expires_on, status, keeps, band, registered_at, updated_at,
     merged_into_id, merged_into_card, open_loans, overdue, open_holds, ready_holds, loan_history, has_password,
     locked_until) = row
    return PatronRecord(id=identifier, card=card, category=category, home_branch=home_branch, expires_on=expires_on,
                        status=status, keeps_reading_record=keeps, age_band=band, registered_at=registered_at,
                        updated_at=updated_at, merged_into_id=merged_into_id, merged_into_card=merged_into_card,
                        personal=personal, card_history=history, merged_from=merged_from, open_loans=open_loans,
                        overdue_loans=overdue, open_holds=open_holds, ready_holds=ready_holds,
                        loan_history=loan_history, has_web_password=has_password,
                        web_login_locked_until=locked_until)
