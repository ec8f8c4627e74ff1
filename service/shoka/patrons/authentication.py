"""Patron login with card number and web password, through the staff database role.

After LOCKOUT_THRESHOLD consecutive wrong passwords a card's web login is locked for LOCKOUT_DURATION; a
success resets the count. The failure bookkeeping commits before the refusal is raised (as for staff). A client
address with RATE_LIMIT_FAILURES failed or refused logins in RATE_LIMIT_WINDOW is refused before any password
is checked; the count comes from the operation log, so every worker and machine agrees on it. Every attempt is
logged with actor kind 'patron' and the card as the name; nothing else about the patron goes into the log.
Unknown cards cost the same time as wrong passwords and get the same answer.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import msgspec
from psycopg import AsyncConnection

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import hash_password, needs_rehash, verify_password
from shoka.errors import Forbidden, Locked, NotAuthenticated, TooManyRequests
from shoka.patrons.legacy_passwords import LEGACY_DIGESTS, verify_legacy_password

LOCKOUT_THRESHOLD = 5
LOCKOUT_DURATION = dt.timedelta(minutes=15)
RATE_LIMIT_FAILURES = 20
RATE_LIMIT_WINDOW = dt.timedelta(minutes=10)
LONGEST_CARD = 32
LONGEST_PASSWORD = 256
_COUNTED_ACTIONS = ["patron.login_failed", "patron.login_refused", "staff.login_failed", "staff.login_refused"]


class PatronLogin(msgspec.Struct, frozen=True):
    patron_id: int
    card: str
    home_branch: str
    credential_version: float


class InvalidPatronCredentials(NotAuthenticated):
    code = "invalid_credentials"


class PatronLoginLocked(Locked):
    code = "account_locked"


class PatronCardNotUsable(Forbidden):
    code = "card_not_usable"


class LoginRateLimited(TooManyRequests):
    code = "login_rate_limited"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


WRONG_CREDENTIALS_MESSAGE = "利用者カード番号またはパスワードが違います。"


def normalise_card(text: str) -> str:
    """Cards as people type them: full-width digits from a Japanese input method, spaces around."""
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "")[:LONGEST_CARD + 1]


def credential_version(changed_at: dt.datetime) -> float:
    return round(changed_at.timestamp(), 6)


async def check_login_rate(connection: AsyncConnection, source_address: str, now: dt.datetime) -> None:
    """Refuses an address that failed too often lately (counted from the operation log)."""
    if not source_address:
        return
    # Its own transaction: on a pooled connection a bare SELECT would open one that swallows the login's
    # bookkeeping (the login's transaction would become a savepoint and roll back with it).
    async with connection.transaction():
        row = await (await connection.execute(
            """SELECT count(*), min(occurred_at) FROM operation_log
               WHERE action = ANY(%s) AND occurred_at > %s AND source_address = %s""",
            [_COUNTED_ACTIONS, now - RATE_LIMIT_WINDOW, source_address])).fetchone()
    failures, oldest = row
    if failures >= RATE_LIMIT_FAILURES:
        retry_after = max(1, int((oldest + RATE_LIMIT_WINDOW - now).total_seconds()) + 1)
        raise LoginRateLimited("ログインの失敗が続いたため、この端末からのログインを一時的に止めています。"
                               f"{(retry_after + 59) // 60}分ほどたってから、もう一度お試しください。", retry_after)


def password_matches(scheme: str | None, stored_hash: str | None, password: str) -> bool:
    if scheme in LEGACY_DIGESTS and stored_hash is not None:
        if verify_legacy_password(scheme, stored_hash, password):
            return True
        verify_password(None, password)  # cost the same time as an argon2id check
        return False
    return verify_password(stored_hash, password)


async def authenticate_patron(connection: AsyncConnection, *, card: str, password: str, now: dt.datetime,
                              source_address: str) -> PatronLogin:
    """Checks a login; raises InvalidPatronCredentials, PatronLoginLocked or PatronCardNotUsable."""
    card = normalise_card(card)
    attempt = Actor(kind="patron", name=card[:LONGEST_CARD], source_address=source_address)
    refusal: Exception | None = None
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(
            """SELECT p.id, p.status, sp.code FROM patron p
               JOIN service_point sp ON sp.id = p.home_service_point_id WHERE p.card = %s""", [card])
        patron = await cursor.fetchone()
        credential = None
        if patron is not None:
            await cursor.execute(
                """SELECT password_hash, hash_scheme, failed_logins, locked_until, changed_at
                   FROM patron_credential WHERE patron_id = %s FOR UPDATE""", [patron[0]])
            credential = await cursor.fetchone()
        matches = password_matches(credential[1] if credential else None, credential[0] if credential else None,
                                   password)
        if patron is None or credential is None:
            reason = "unknown_card" if patron is None else "no_web_password"
            await record_operation(cursor, attempt, "patron.login_failed", "patron",
                                   None if patron is None else patron[0], {"reason": reason})
            refusal = InvalidPatronCredentials(WRONG_CREDENTIALS_MESSAGE)
        else:
            refusal = await _check_attempt(cursor, attempt, patron, credential, password, matches, now)
    if refusal is not None:
        raise refusal
    patron_id, _, home_branch = patron
    changed_at = credential[4]
    return PatronLogin(patron_id=patron_id, card=card, home_branch=home_branch,
                       credential_version=credential_version(changed_at))


async def _check_attempt(cursor, attempt: Actor, patron: tuple, credential: tuple, password: str,
                         matches: bool, now: dt.datetime) -> Exception | None:
    patron_id, status, _ = patron
    stored_hash, scheme, failed_logins, locked_until, _ = credential
    if locked_until is not None and locked_until > now:
        await record_operation(cursor, attempt, "patron.login_refused", "patron", patron_id, {"reason": "locked"})
        until = locked_until.astimezone(dt.timezone(dt.timedelta(hours=9)))
        return PatronLoginLocked(f"パスワードの誤りが{LOCKOUT_THRESHOLD}回続いたため、{until:%H:%M}まで"
                                 "ログインできません。お急ぎの場合はカウンターでお尋ねください。")
    if not matches:
        failed_logins += 1
        lock_until = now + LOCKOUT_DURATION if failed_logins >= LOCKOUT_THRESHOLD else None
        await cursor.execute("UPDATE patron_credential SET failed_logins = %s, locked_until = %s WHERE patron_id = %s",
                             [0 if lock_until else failed_logins, lock_until, patron_id])
        await record_operation(cursor, attempt, "patron.login_failed", "patron", patron_id,
                               {"reason": "wrong_password", "locked": lock_until is not None})
        return InvalidPatronCredentials(WRONG_CREDENTIALS_MESSAGE)
    if status != "active":
        # Said only after a correct password, so that guessing cards reveals nothing about them.
        await record_operation(cursor, attempt, "patron.login_refused", "patron", patron_id,
                               {"reason": f"card_{status}"})
        return PatronCardNotUsable("このカードは現在ご利用いただけません（紛失・停止・統合など）。"
                                   "カウンターでお尋ねください。")
    upgraded = scheme != "argon2id" or needs_rehash(stored_hash)
    if upgraded:
        await cursor.execute("UPDATE patron_credential SET password_hash = %s, hash_scheme = 'argon2id' "
                             "WHERE patron_id = %s", [hash_password(password), patron_id])
    await cursor.execute("UPDATE patron_credential SET failed_logins = 0, locked_until = NULL WHERE patron_id = %s",
                         [patron_id])
    await record_operation(cursor, attempt, "patron.login", "patron", patron_id,
                           {"via": "opac", "hash_upgraded_from": scheme} if upgraded else {"via": "opac"})
    return None


async def record_logout(connection: AsyncConnection, *, patron_id: int, card: str, source_address: str,
                        reason: str) -> None:
    async with connection.transaction(), connection.cursor() as cursor:
        await record_operation(cursor, Actor(kind="patron", name=card, source_address=source_address),
                               "patron.logout", "patron", patron_id, {"reason": reason})
