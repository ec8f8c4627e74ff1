"""Staff accounts: creation, password login with lockout, and the principal a request acts as.

After LOCKOUT_THRESHOLD consecutive failures an account is locked for LOCKOUT_DURATION; a success resets the
count. Every login attempt, good or bad, is in the operation log. Unknown user names cost the same time as
wrong passwords (see passwords.verify_password), and both answer with the same error.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from psycopg import AsyncConnection, errors

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import check_password_rules, hash_password, verify_password
from shoka.auth.roles import StaffRole, WEB_LOGIN_ROLES
from shoka.errors import Conflict, InvalidRequest, Locked, NotAuthenticated, NotFound

LOCKOUT_THRESHOLD = 5
LOCKOUT_DURATION = dt.timedelta(minutes=15)


class StaffPrincipal(msgspec.Struct, frozen=True):
    """Who a staff request acts as. `branch_codes` empty means every branch."""

    staff_id: int
    username: str
    role: StaffRole
    branch_codes: tuple[str, ...] = ()

    def may_work_at(self, branch_code: str) -> bool:
        return not self.branch_codes or branch_code in self.branch_codes

    @property
    def actor(self) -> Actor:
        return Actor(kind="sip2" if self.role is StaffRole.SIP2 else "staff", name=self.username)


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class AccountLocked(Locked):
    code = "account_locked"


async def create_staff_account(connection: AsyncConnection, *, username: str, role: StaffRole, password: str,
                               branch_codes: list[str], display_name: str = "", actor: Actor) -> int:
    check_password_rules(password)
    async with connection.transaction(), connection.cursor() as cursor:
        branch_ids = []
        for code in branch_codes:
            await cursor.execute("SELECT id FROM service_point WHERE code = %s", [code])
            row = await cursor.fetchone()
            if row is None:
                raise NotFound(f"branch {code!r} does not exist", code="unknown_branch")
            branch_ids.append(row[0])
        try:
            await cursor.execute(
                """INSERT INTO staff_account (username, display_name, role, password_hash)
                   VALUES (%s, %s, %s, %s) RETURNING id""",
                [username, display_name, role.value, hash_password(password)])
        except errors.UniqueViolation:
            raise Conflict(f"staff account {username!r} already exists", code="username_taken") from None
        except errors.CheckViolation:
            raise InvalidRequest(f"user name {username!r} must be 2–64 of a-z, 0-9, '.', '_', '-'",
                                 code="invalid_username") from None
        staff_id = (await cursor.fetchone())[0]
        for branch_id in branch_ids:
            await cursor.execute("INSERT INTO staff_branch_scope (staff_id, service_point_id) VALUES (%s, %s)",
                                 [staff_id, branch_id])
        await record_operation(cursor, actor, "staff.create", "staff_account", staff_id,
                               {"username": username, "role": role.value, "branches": branch_codes})
    return staff_id


async def load_principal(connection: AsyncConnection, staff_id: int) -> StaffPrincipal | None:
    async with connection.cursor() as cursor:
        await cursor.execute(
            """SELECT s.id, s.username, s.role,
                      coalesce(array_agg(sp.code ORDER BY sp.code) FILTER (WHERE sp.code IS NOT NULL), '{}')
               FROM staff_account s
               LEFT JOIN staff_branch_scope b ON b.staff_id = s.id
               LEFT JOIN service_point sp ON sp.id = b.service_point_id
               WHERE s.id = %s AND s.is_active
               GROUP BY s.id""", [staff_id])
        row = await cursor.fetchone()
    if row is None:
        return None
    return StaffPrincipal(staff_id=row[0], username=row[1], role=StaffRole(row[2]), branch_codes=tuple(row[3]))


async def authenticate_staff(connection: AsyncConnection, *, username: str, password: str, now: dt.datetime,
                             source_address: str, allowed_roles: frozenset[StaffRole] = WEB_LOGIN_ROLES
                             ) -> StaffPrincipal:
    """Check a password login; raises InvalidCredentials or AccountLocked. Commits the attempt's bookkeeping."""
    attempt = Actor(kind="staff", name=username[:64], source_address=source_address)
    # The failure bookkeeping must commit, so the refusal is raised after the transaction, not inside it.
    refusal: Exception | None = None
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(
            """SELECT id, password_hash, role, failed_logins, locked_until FROM staff_account
               WHERE username = %s AND is_active FOR UPDATE""", [username])
        row = await cursor.fetchone()
        password_matches = verify_password(row[1] if row else None, password)
        if row is None:
            await record_operation(cursor, attempt, "staff.login_failed", "staff_account", None,
                                   {"reason": "unknown_user"})
            refusal = InvalidCredentials("user name or password is wrong")
        else:
            staff_id, _, role, failed_logins, locked_until = row
            refusal = await _check_attempt(cursor, attempt, staff_id, StaffRole(role), failed_logins, locked_until,
                                           password_matches, now, allowed_roles)
    if refusal is not None:
        raise refusal
    principal = await load_principal(connection, staff_id)
    assert principal is not None  # the row was locked and active inside the transaction above
    return principal


async def _check_attempt(cursor, attempt: Actor, staff_id: int, role: StaffRole, failed_logins: int,
                         locked_until: dt.datetime | None, password_matches: bool, now: dt.datetime,
                         allowed_roles: frozenset[StaffRole]) -> Exception | None:
    """Record one login attempt on an existing account; the refusal to raise, or None on success."""
    if locked_until is not None and locked_until > now:
        await record_operation(cursor, attempt, "staff.login_refused", "staff_account", staff_id, {"reason": "locked"})
        return AccountLocked(
            f"account locked after {LOCKOUT_THRESHOLD} failed logins until "
            f"{locked_until.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; ask an administrator to unlock it")
    if not password_matches:
        failed_logins += 1
        lock_until = now + LOCKOUT_DURATION if failed_logins >= LOCKOUT_THRESHOLD else None
        await cursor.execute("UPDATE staff_account SET failed_logins = %s, locked_until = %s WHERE id = %s",
                             [0 if lock_until else failed_logins, lock_until, staff_id])
        await record_operation(cursor, attempt, "staff.login_failed", "staff_account", staff_id,
                               {"reason": "wrong_password", "locked": lock_until is not None})
        return InvalidCredentials("user name or password is wrong")
    if role not in allowed_roles:
        await record_operation(cursor, attempt, "staff.login_refused", "staff_account", staff_id,
                               {"reason": "role_not_allowed_here", "role": role.value})
        return InvalidCredentials(f"role {role.value!r} cannot log in here")
    await cursor.execute("UPDATE staff_account SET failed_logins = 0, locked_until = NULL WHERE id = %s", [staff_id])
    await record_operation(cursor, attempt, "staff.login", "staff_account", staff_id, {"role": role.value})
    return None


async def unlock_staff_account(connection: AsyncConnection, username: str, actor: Actor) -> None:
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(
            "UPDATE staff_account SET failed_logins = 0, locked_until = NULL WHERE username = %s RETURNING id",
            [username])
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"staff account {username!r} does not exist", code="unknown_staff")
        await record_operation(cursor, actor, "staff.unlock", "staff_account", row[0])
