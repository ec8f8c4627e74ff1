"""Staff web sessions: a random token in an HttpOnly cookie scoped to /staff, its sha256 in `staff_session`.

A session ends on logout, after STAFF_IDLE_MINUTES without a request (SHOKA_STAFF_SESSION_MINUTES, default 30),
after ABSOLUTE_LIFETIME, when an administrator ends it, and when the account is disabled. Because each request
reads the account with the session, a role or branch change applies to the very next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets

import msgspec
from psycopg import AsyncConnection

from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.config import ConfigurationError

STAFF_SESSION_COOKIE = "shoka_staff"
STAFF_COOKIE_PATH = "/staff"
ABSOLUTE_LIFETIME = dt.timedelta(hours=12)


def staff_idle_minutes() -> int:
    text = os.environ.get("SHOKA_STAFF_SESSION_MINUTES", "30").strip()
    if not text.isdigit() or not 1 <= int(text) <= 480:
        raise ConfigurationError(f"SHOKA_STAFF_SESSION_MINUTES={text!r}: expected minutes from 1 to 480")
    return int(text)


class StaffSession(msgspec.Struct, frozen=True):
    """The logged-in staff member of one request and the branch their desk works at."""

    principal: StaffPrincipal
    display_name: str
    working_branch: str
    token_hash: bytes

    @property
    def role(self) -> StaffRole:
        return self.principal.role


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def start_staff_session(connection: AsyncConnection, principal: StaffPrincipal, *, working_branch: str,
                              source_address: str, now: dt.datetime) -> str:
    """A new session for a principal who has just proved their password; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    async with connection.transaction():
        await connection.execute(
            """INSERT INTO staff_session (token_hash, staff_id, working_branch, source_address, started_at, last_seen_at)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            [_hash(token), principal.staff_id, working_branch, source_address, now, now])
    return token


_RESOLVE = """
WITH touched AS (
    UPDATE staff_session SET last_seen_at = %(now)s
    WHERE token_hash = %(hash)s AND ended_at IS NULL
      AND last_seen_at > %(now)s - make_interval(mins => %(idle)s) AND started_at > %(now)s - %(absolute)s
    RETURNING staff_id, working_branch, token_hash)
SELECT s.id, s.username, s.role, s.display_name, t.working_branch,
       coalesce(array_agg(sp.code ORDER BY sp.code) FILTER (WHERE sp.code IS NOT NULL), '{}')
FROM touched t
JOIN staff_account s ON s.id = t.staff_id AND s.is_active AND s.role <> 'sip2'
LEFT JOIN staff_branch_scope b ON b.staff_id = s.id
LEFT JOIN service_point sp ON sp.id = b.service_point_id
GROUP BY s.id, t.working_branch
"""


async def resolve_staff_session(connection: AsyncConnection, token: str, now: dt.datetime) -> StaffSession | None:
    """The live session of a cookie token, its idle time renewed (one statement); None when there is none."""
    token_hash = _hash(token)
    row = await (await connection.execute(_RESOLVE, {"now": now, "hash": token_hash, "idle": staff_idle_minutes(),
                                                      "absolute": ABSOLUTE_LIFETIME})).fetchone()
    if row is None:
        return None
    principal = StaffPrincipal(staff_id=row[0], username=row[1], role=StaffRole(row[2]), branch_codes=tuple(row[5]))
    return StaffSession(principal=principal, display_name=row[3], working_branch=row[4], token_hash=token_hash)


async def end_lapsed_session(connection: AsyncConnection, token: str, now: dt.datetime) -> str | None:
    """After a cookie found no live session: end it if it is still open, and say why it no longer works
    ('idle', 'expired', 'account_changed', or what ended it before), so the login page can tell the user."""
    row = await (await connection.execute(
        """UPDATE staff_session SET ended_at = coalesce(ended_at, %(now)s),
                  end_reason = coalesce(end_reason, CASE
                      WHEN started_at <= %(now)s - %(absolute)s THEN 'expired'
                      WHEN last_seen_at <= %(now)s - make_interval(mins => %(idle)s) THEN 'idle'
                      ELSE 'account_changed' END)
           WHERE token_hash = %(hash)s RETURNING end_reason""",
        {"now": now, "hash": _hash(token), "absolute": ABSOLUTE_LIFETIME, "idle": staff_idle_minutes()})).fetchone()
    return row[0] if row else None


async def end_staff_session(connection: AsyncConnection, token_hash: bytes, now: dt.datetime, reason: str) -> None:
    await connection.execute(
        "UPDATE staff_session SET ended_at = %s, end_reason = %s WHERE token_hash = %s AND ended_at IS NULL",
        [now, reason, token_hash])


async def end_sessions_of(connection: AsyncConnection, staff_id: int, now: dt.datetime, reason: str) -> int:
    """End every open session of an account (disabled, role changed, password reset); returns how many."""
    cursor = await connection.execute(
        "UPDATE staff_session SET ended_at = %s, end_reason = %s WHERE staff_id = %s AND ended_at IS NULL",
        [now, reason, staff_id])
    return cursor.rowcount


async def change_working_branch(connection: AsyncConnection, token_hash: bytes, branch: str) -> None:
    await connection.execute("UPDATE staff_session SET working_branch = %s WHERE token_hash = %s",
                             [branch, token_hash])
