"""The logged-in patron's own account: what my page shows and the settings the patron may change.

Every function takes the patron id from the verified session, never from a form, and scopes every query to
it. Reads and changes are in the operation log (actor kind 'patron', the card as name), in the same
transaction as what they log; details carry counts and ids, never titles or personal data.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import MINIMUM_PASSWORD_LENGTH, WeakPassword, check_password_rules, hash_password
from shoka.clock import library_today
from shoka.errors import NotAuthenticated, Unprocessable
from shoka.patrons.authentication import (LOCKOUT_DURATION, LOCKOUT_THRESHOLD, password_matches,
                                          credential_version)

HISTORY_SHOWN = 200
RENEWALS_ALLOWED = 1


class SessionNoLongerValid(NotAuthenticated):
    """The card was blocked or the password changed since the session began."""

    code = "session_ended"


class OpenLoan(msgspec.Struct, frozen=True):
    loan_id: int
    barcode: str
    bib_id: int
    title: str
    checked_out_on: dt.date
    due_on: dt.date
    renewals: int
    branch: str
    others_waiting: bool

    @property
    def overdue(self) -> bool:
        return self.due_on < library_today()

    @property
    def renewable(self) -> bool:
        return not self.overdue and self.renewals < RENEWALS_ALLOWED and not self.others_waiting


class OpenHold(msgspec.Struct, frozen=True):
    hold_id: int
    bib_id: int
    title: str
    status: str
    placed_on: dt.date
    pickup_branch: str
    pickup_by: dt.date | None
    queue_position: int | None


class ReadingRecordEntry(msgspec.Struct, frozen=True):
    bib_id: int
    title: str
    checked_out_on: dt.date
    returned_on: dt.date


class MyAccount(msgspec.Struct, frozen=True):
    card: str
    expires_on: dt.date
    keeps_reading_record: bool
    loans: list[OpenLoan]
    holds: list[OpenHold]
    reading_record: list[ReadingRecordEntry]
    reading_record_total: int

    @property
    def card_expired(self) -> bool:
        return self.expires_on < library_today()


async def _check_standing(cursor, patron_id: int, session_credential_version: float) -> tuple:
    await cursor.execute(
        """SELECT p.card, p.expires_on, p.keeps_reading_record, p.status, c.changed_at
           FROM patron p JOIN patron_credential c ON c.patron_id = p.id WHERE p.id = %s""", [patron_id])
    row = await cursor.fetchone()
    if row is None or row[3] != "active" or credential_version(row[4]) != session_credential_version:
        raise SessionNoLongerValid("セッションが無効になりました。もう一度ログインしてください。")
    return row


async def load_my_account(connection: AsyncConnection, *, patron_id: int, session_credential_version: float,
                          actor: Actor) -> MyAccount:
    async with connection.transaction(), connection.cursor() as cursor:
        card, expires_on, keeps_reading_record, _, _ = await _check_standing(
            cursor, patron_id, session_credential_version)
        await cursor.execute(
            """SELECT l.id, i.barcode, b.id, b.title, (l.checked_out_at AT TIME ZONE 'Asia/Tokyo')::date, l.due_on,
                      l.renewals, sp.code,
                      EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status = 'waiting'
                                AND h.patron_id <> l.patron_id)
               FROM loan l JOIN item i ON i.id = l.item_id JOIN bib b ON b.id = i.bib_id
               JOIN service_point sp ON sp.id = l.service_point_id
               WHERE l.patron_id = %s AND l.returned_at IS NULL ORDER BY l.due_on, l.id""", [patron_id])
        loans = [OpenLoan(*row) for row in await cursor.fetchall()]
        await cursor.execute(
            """SELECT h.id, b.id, b.title, h.status, (h.placed_at AT TIME ZONE 'Asia/Tokyo')::date, sp.code,
                      h.pickup_by,
                      CASE WHEN h.status = 'waiting' THEN
                          (SELECT count(*) FROM hold o WHERE o.bib_id = h.bib_id AND o.status = 'waiting'
                             AND (o.placed_at, o.id) <= (h.placed_at, h.id)) END
               FROM hold h JOIN bib b ON b.id = h.bib_id JOIN service_point sp ON sp.id = h.pickup_service_point_id
               WHERE h.patron_id = %s AND h.status IN ('waiting', 'in_transit', 'ready')
               ORDER BY CASE h.status WHEN 'ready' THEN 0 WHEN 'in_transit' THEN 1 ELSE 2 END, h.placed_at, h.id""",
            [patron_id])
        holds = [OpenHold(*row) for row in await cursor.fetchall()]
        history: list[ReadingRecordEntry] = []
        history_total = 0
        if keeps_reading_record:
            await cursor.execute(
                """SELECT b.id, b.title, (l.checked_out_at AT TIME ZONE 'Asia/Tokyo')::date,
                          (l.returned_at AT TIME ZONE 'Asia/Tokyo')::date, count(*) OVER ()
                   FROM loan l JOIN item i ON i.id = l.item_id JOIN bib b ON b.id = i.bib_id
                   WHERE l.patron_id = %s AND l.returned_at IS NOT NULL
                   ORDER BY l.checked_out_at DESC, l.id DESC LIMIT %s""", [patron_id, HISTORY_SHOWN])
            rows = await cursor.fetchall()
            history = [ReadingRecordEntry(*row[:4]) for row in rows]
            history_total = rows[0][4] if rows else 0
        await record_operation(cursor, actor, "patron.read", "patron", patron_id,
                               {"view": "my_page", "loans": len(loans), "holds": len(holds),
                                "reading_record": len(history)})
    return MyAccount(card=card, expires_on=expires_on, keeps_reading_record=keeps_reading_record, loans=loans,
                     holds=holds, reading_record=history, reading_record_total=history_total)


async def set_reading_record(connection: AsyncConnection, *, patron_id: int, session_credential_version: float,
                             keep: bool, actor: Actor) -> int:
    """Turns the reading record on or off; off also cuts the patron from past loans. Returns loans unlinked."""
    async with connection.transaction(), connection.cursor() as cursor:
        await _check_standing(cursor, patron_id, session_credential_version)
        await cursor.execute("UPDATE patron SET keeps_reading_record = %s, updated_at = now() WHERE id = %s",
                             [keep, patron_id])
        removed = 0
        if not keep:
            await cursor.execute("UPDATE loan SET patron_id = NULL WHERE patron_id = %s AND returned_at IS NOT NULL",
                                 [patron_id])
            removed = cursor.rowcount
        await record_operation(cursor, actor, "patron.reading_record", "patron", patron_id,
                               {"keep": keep, "history_removed": removed})
        await cursor.execute("INSERT INTO outbox_event (topic, entity_id, payload) VALUES ('patron', %s, %s)",
                             [patron_id, Jsonb({"keeps_reading_record": keep})])
    return removed


class PasswordChangeRefused(Unprocessable):
    """The current password is wrong, or the new one breaks a rule; `field` names the form field at fault."""

    code = "password_change_refused"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def japanese_password_rule_problem(password: str) -> str | None:
    try:
        check_password_rules(password)
    except WeakPassword as problem:
        if len(password) < MINIMUM_PASSWORD_LENGTH:
            return f"新しいパスワードは{MINIMUM_PASSWORD_LENGTH}文字以上にしてください。"
        if password.strip() != password:
            return "新しいパスワードの最初と最後に空白は使えません。"
        return str(problem)
    return None


async def change_password(connection: AsyncConnection, *, patron_id: int, session_credential_version: float,
                          current_password: str, new_password: str, now: dt.datetime, actor: Actor) -> float:
    """Checks the current password (a wrong one counts towards the lockout) and stores the new one.

    Returns the new credential version; the caller re-issues its own session with it, which ends all others.
    """
    refusal: Exception | None = None
    async with connection.transaction(), connection.cursor() as cursor:
        await _check_standing(cursor, patron_id, session_credential_version)
        await cursor.execute(
            """SELECT password_hash, hash_scheme, failed_logins, locked_until FROM patron_credential
               WHERE patron_id = %s FOR UPDATE""", [patron_id])
        stored_hash, scheme, failed_logins, locked_until = await cursor.fetchone()
        rule_problem = japanese_password_rule_problem(new_password)
        if locked_until is not None and locked_until > now:
            refusal = PasswordChangeRefused("パスワードの誤りが続いたため、しばらく変更できません。", "current_password")
        elif not password_matches(scheme, stored_hash, current_password):
            failed_logins += 1
            lock_until = now + LOCKOUT_DURATION if failed_logins >= LOCKOUT_THRESHOLD else None
            await cursor.execute(
                "UPDATE patron_credential SET failed_logins = %s, locked_until = %s WHERE patron_id = %s",
                [0 if lock_until else failed_logins, lock_until, patron_id])
            await record_operation(cursor, actor, "patron.password_change_failed", "patron", patron_id,
                                   {"reason": "wrong_password", "locked": lock_until is not None})
            refusal = PasswordChangeRefused("現在のパスワードが違います。", "current_password")
        elif rule_problem is not None:
            refusal = PasswordChangeRefused(rule_problem, "new_password")
        else:
            await cursor.execute(
                """UPDATE patron_credential SET password_hash = %s, hash_scheme = 'argon2id', failed_logins = 0,
                          locked_until = NULL, changed_at = %s WHERE patron_id = %s RETURNING changed_at""",
                [hash_password(new_password), now, patron_id])
            changed_at = (await cursor.fetchone())[0]
            await record_operation(cursor, actor, "patron.password_change", "patron", patron_id, {"via": "opac"})
    if refusal is not None:
        raise refusal
    return credential_version(changed_at)
