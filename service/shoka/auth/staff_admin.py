"""Administering staff accounts (the /staff/accounts screens): list, create, change role, branches, display name
and whether the account is active, reset a password, unlock, end every session of an account.

Rules kept here, whatever screen or command calls:
- a change of role, branches or active state, and a password reset, end the account's open staff sessions in
  the same transaction, so the change applies to the very next request (an API bearer token lives out its
  remaining minutes, see auth.tokens);
- an administrator cannot disable their own account or take the administrator role from it: an installation
  must never lock every administrator out;
- counter staff and SIP2 terminals work at named branches, so they need at least one;
- passwords follow the staff rules (auth.staff_password_rules); a reset also lifts a lockout;
- every change is in the operation log ("staff.create", "staff.update", "staff.password_reset",
  "staff.unlock", "staff.sessions_ended") in the transaction of the change.

Argon2 hashing is deliberately slow, so it runs on a worker thread, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import anyio.to_thread
import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import hash_password
from shoka.auth.roles import StaffRole
from shoka.auth.staff_password_rules import check_staff_password_rules
from shoka.errors import Conflict, InvalidRequest, NotFound

SIP2_CHARSETS = ("utf-8", "cp850", "cp932")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LONGEST_DISPLAY_NAME = 100
ROLES_AT_NAMED_BRANCHES = frozenset({StaffRole.COUNTER, StaffRole.SIP2})
# What a change must be to end the account's sessions at once.
SESSION_ENDING_CHANGES = frozenset({"role", "branches", "is_active"})


def _web_sessions():
    """shoka.staff.sessions, imported on first use: importing the staff package loads every staff page, and the
    account pages import this module."""
    from shoka.staff import sessions

    return sessions


class StaffAccountView(msgspec.Struct, frozen=True):
    """One account as the administrator sees it. `branch_codes` empty means every branch."""

    staff_id: int
    username: str
    display_name: str
    role: StaffRole
    branch_codes: tuple[str, ...]
    is_active: bool
    locked_until: dt.datetime | None
    failed_logins: int
    sip2_charset: str
    last_login: dt.datetime | None
    open_sessions: int
    created_at: dt.datetime
    password_changed_at: dt.datetime

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class AccountSettings(msgspec.Struct, frozen=True):
    """What an administrator sets on an account (everything but the user name and the password)."""

    display_name: str
    role: StaffRole
    branch_codes: tuple[str, ...] = ()
    is_active: bool = True
    sip2_charset: str = "utf-8"


def account_settings(*, display_name: str, role: str, branch_codes: list[str], is_active: bool,
                     sip2_charset: str) -> AccountSettings:
    """Validated settings from a form; errors name the field."""
    display_name = display_name.strip()
    if len(display_name) > LONGEST_DISPLAY_NAME or any(unicodedata.category(character) == "Cc"
                                                            for character in display_name):
        raise InvalidRequest(f"display_name: 表示名は{LONGEST_DISPLAY_NAME}文字以内で、制御文字を含めないでください。/ "
                             f"The display name must have at most {LONGEST_DISPLAY_NAME} characters and no control "
                             "characters.", code="invalid_display_name")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise InvalidRequest(f"role: 権限 {role!r} はありません。/ There is no role {role!r}.",
                             code="invalid_role") from None
    if sip2_charset not in SIP2_CHARSETS:
        raise InvalidRequest(f"sip2_charset: 文字コードは {', '.join(SIP2_CHARSETS)} のいずれかです。/ "
                             f"The character set must be one of {', '.join(SIP2_CHARSETS)}.", code="invalid_charset")
    branches = tuple(dict.fromkeys(code.strip() for code in branch_codes if code.strip()))
    if staff_role in ROLES_AT_NAMED_BRANCHES and not branches:
        raise InvalidRequest("branches: カウンター職員と自動貸出機には業務館を1つ以上選んでください。/ "
                             "Counter staff and SIP2 terminals need at least one branch.", code="branch_required")
    return AccountSettings(display_name=display_name, role=staff_role, branch_codes=branches, is_active=is_active,
                           sip2_charset=sip2_charset)


def checked_username(text: str) -> str:
    username = text.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidRequest("username: 職員IDは英小文字・数字・「.」「_」「-」の2〜64文字で、英数字で始めてください。/ "
                             "The user name must be 2–64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit.",
                             code="invalid_username")
    return username


_ACCOUNTS = """
SELECT s.id, s.username, s.display_name, s.role,
       coalesce(array_agg(sp.code ORDER BY sp.sort_order, sp.id) FILTER (WHERE sp.code IS NOT NULL), '{}'),
       s.is_active, s.locked_until, s.failed_logins, s.sip2_charset,
       (SELECT l.occurred_at FROM operation_log l
         WHERE l.entity = 'staff_account' AND l.entity_id = s.id::text AND l.action = 'staff.login'
         ORDER BY l.id DESC LIMIT 1),
       (SELECT count(*) FROM staff_session o
         WHERE o.staff_id = s.id AND o.ended_at IS NULL AND o.last_seen_at > %(now)s - make_interval(mins => %(idle)s)
           AND o.started_at > %(now)s - %(absolute)s),
       s.created_at, s.password_changed_at
FROM staff_account s
LEFT JOIN staff_branch_scope b ON b.staff_id = s.id
LEFT JOIN service_point sp ON sp.id = b.service_point_id
WHERE %(staff_id)s::integer IS NULL OR s.id = %(staff_id)s
GROUP BY s.id
ORDER BY s.is_active DESC, s.username
"""


async def _accounts(connection: AsyncConnection, now: dt.datetime, staff_id: int | None) -> list[StaffAccountView]:
    sessions = _web_sessions()
    cursor = await connection.execute(_ACCOUNTS, {"now": now, "idle": sessions.staff_idle_minutes(),
                                                  "absolute": sessions.ABSOLUTE_LIFETIME, "staff_id": staff_id})
    return [StaffAccountView(row[0], row[1], row[2], StaffRole(row[3]), tuple(row[4]), *row[5:])
            for row in await cursor.fetchall()]


async def list_staff_accounts(connection: AsyncConnection, now: dt.datetime) -> list[StaffAccountView]:
    return await _accounts(connection, now, None)


async def load_staff_account(connection: AsyncConnection, staff_id: int, now: dt.datetime) -> StaffAccountView:
    accounts = await _accounts(connection, now, staff_id)
    if not accounts:
        raise NotFound(f"職員アカウント {staff_id} はありません。/ Staff account {staff_id} does not exist.",
                       code="unknown_staff")
    return accounts[0]


async def _lock_account(cursor: AsyncCursor, staff_id: int) -> str:
    """Lock the account's row for this transaction; its user name. NotFound when there is no such account."""
    await cursor.execute("SELECT username FROM staff_account WHERE id = %s FOR UPDATE", [staff_id])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"職員アカウント {staff_id} はありません。/ Staff account {staff_id} does not exist.",
                       code="unknown_staff")
    return row[0]


async def _branch_ids(cursor: AsyncCursor, codes: tuple[str, ...]) -> list[int]:
    await cursor.execute("SELECT code, id FROM service_point WHERE code = ANY(%s)", [list(codes)])
    known = dict(await cursor.fetchall())
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidRequest(f"branches: 館コード {unknown[0]!r} はありません。/ There is no branch {unknown[0]!r}.",
                             code="unknown_branch")
    return [known[code] for code in codes]


async def _replace_branches(cursor: AsyncCursor, staff_id: int, branch_ids: list[int]) -> None:
    await cursor.execute("DELETE FROM staff_branch_scope WHERE staff_id = %s", [staff_id])
    for branch_id in branch_ids:
        await cursor.execute("INSERT INTO staff_branch_scope (staff_id, service_point_id) VALUES (%s, %s)",
                             [staff_id, branch_id])


async def create_account(connection: AsyncConnection, *, username: str, settings: AccountSettings, password: str,
                         actor: Actor) -> int:
    username = checked_username(username)
    check_staff_password_rules(password, username)
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    async with connection.transaction(), connection.cursor() as cursor:
        branch_ids = await _branch_ids(cursor, settings.branch_codes)
        try:
            await cursor.execute(
                """INSERT INTO staff_account (username, display_name, role, password_hash, is_active, sip2_charset)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                [username, settings.display_name, settings.role.value, password_hash, settings.is_active,
                 settings.sip2_charset])
        except errors.UniqueViolation:
            raise Conflict(f"username: 職員ID {username!r} は既に使われています。/ "
                           f"The user name {username!r} is taken.", code="username_taken") from None
        staff_id = (await cursor.fetchone())[0]
        await _replace_branches(cursor, staff_id, branch_ids)
        await record_operation(cursor, actor, "staff.create", "staff_account", staff_id,
                               {"username": username, "role": settings.role.value,
                                "branches": list(settings.branch_codes), "active": settings.is_active,
                                "sip2_charset": settings.sip2_charset})
    return staff_id


class AccountUpdate(msgspec.Struct, frozen=True):
    changes: dict[str, Any]
    sessions_ended: int


async def update_account(connection: AsyncConnection, staff_id: int, settings: AccountSettings, *,
                         acting_staff_id: int, actor: Actor, now: dt.datetime) -> AccountUpdate:
    if staff_id == acting_staff_id and (settings.role is not StaffRole.ADMIN or not settings.is_active):
        raise Conflict("自分のアカウントを無効にしたり、管理者以外の権限に変えたりはできません（管理者が誰もいなくなるのを"
                       "防ぐため）。別の管理者に依頼してください。/ You cannot disable your own account or take the "
                       "administrator role from it; ask another administrator.", code="own_account_protected")
    async with connection.transaction(), connection.cursor() as cursor:
        await _lock_account(cursor, staff_id)
        await cursor.execute(
            """SELECT s.display_name, s.role, s.is_active, s.sip2_charset,
                      coalesce(array_agg(sp.code ORDER BY sp.code) FILTER (WHERE sp.code IS NOT NULL), '{}')
               FROM staff_account s
               LEFT JOIN staff_branch_scope b ON b.staff_id = s.id
               LEFT JOIN service_point sp ON sp.id = b.service_point_id
               WHERE s.id = %s GROUP BY s.id""", [staff_id])
        row = await cursor.fetchone()
        branch_ids = await _branch_ids(cursor, settings.branch_codes)
        before = {"display_name": row[0], "role": row[1], "is_active": row[2], "sip2_charset": row[3],
                  "branches": sorted(row[4])}
        after = {"display_name": settings.display_name, "role": settings.role.value, "is_active": settings.is_active,
                 "sip2_charset": settings.sip2_charset, "branches": sorted(settings.branch_codes)}
        changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
        if not changes:
            return AccountUpdate(changes={}, sessions_ended=0)
        await cursor.execute(
            "UPDATE staff_account SET display_name = %s, role = %s, is_active = %s, sip2_charset = %s WHERE id = %s",
            [settings.display_name, settings.role.value, settings.is_active, settings.sip2_charset, staff_id])
        if "branches" in changes:
            await _replace_branches(cursor, staff_id, branch_ids)
        ended = 0
        if SESSION_ENDING_CHANGES & changes.keys():
            ended = await _web_sessions().end_sessions_of(connection, staff_id, now, "account_changed")
        await record_operation(cursor, actor, "staff.update", "staff_account", staff_id,
                               {"changes": changes, "sessions_ended": ended})
    return AccountUpdate(changes=changes, sessions_ended=ended)


async def reset_password(connection: AsyncConnection, staff_id: int, password: str, *, actor: Actor,
                         now: dt.datetime) -> int:
    """Set a new password chosen by an administrator; lifts a lockout and ends the account's sessions."""
    async with connection.transaction(), connection.cursor() as cursor:
        username = await _lock_account(cursor, staff_id)
    check_staff_password_rules(password, username)
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    async with connection.transaction(), connection.cursor() as cursor:
        await _lock_account(cursor, staff_id)
        await cursor.execute(
            """UPDATE staff_account SET password_hash = %s, password_changed_at = %s, failed_logins = 0,
                      locked_until = NULL WHERE id = %s""", [password_hash, now, staff_id])
        ended = await _web_sessions().end_sessions_of(connection, staff_id, now, "account_changed")
        await record_operation(cursor, actor, "staff.password_reset", "staff_account", staff_id,
                               {"sessions_ended": ended})
    return ended


async def unlock_account(connection: AsyncConnection, staff_id: int, *, actor: Actor) -> None:
    async with connection.transaction(), connection.cursor() as cursor:
        await _lock_account(cursor, staff_id)
        await cursor.execute("UPDATE staff_account SET failed_logins = 0, locked_until = NULL WHERE id = %s",
                             [staff_id])
        await record_operation(cursor, actor, "staff.unlock", "staff_account", staff_id)


async def end_all_sessions(connection: AsyncConnection, staff_id: int, *, actor: Actor, now: dt.datetime) -> int:
    """Log an account out everywhere (a lost badge, a shared screen left open)."""
    async with connection.transaction(), connection.cursor() as cursor:
        await _lock_account(cursor, staff_id)
        ended = await _web_sessions().end_sessions_of(connection, staff_id, now, "revoked")
        await record_operation(cursor, actor, "staff.sessions_ended", "staff_account", staff_id,
                               {"sessions_ended": ended})
    return ended
