"""A self-check terminal's login (93/94): who it is, where it stands, which character set it speaks.

Terminal accounts are staff accounts with the role `sip2` (CONTRACT.md); the password check, lockout and the
operation-log entries are the staff login's own (authenticate_staff), so a terminal cannot do more than its
account may. The location CP names the branch the terminal lends at, which must be one of the account's
branches; without CP it is the account's first branch, or the library's first service point for an account
that works everywhere. Every circulation it does afterwards is logged with actor kind 'sip2'.
"""

from __future__ import annotations

import logging

import msgspec

from shoka.audit import Actor, record_operation
from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal, authenticate_staff
from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.sip2.context import Sip2Context
from shoka.sip2.requests import CHARSETS, Request

logger = logging.getLogger(__name__)
TERMINAL_ROLES = frozenset({StaffRole.SIP2})
DEFAULT_CHARSET = "utf-8"
# Login user and password are sent in plain text (algorithm 0); other algorithms were never standardised.
PLAIN_TEXT_ALGORITHM = "0"


class Terminal(msgspec.Struct, frozen=True):
    principal: StaffPrincipal
    branch: str
    charset: str
    source_address: str

    @property
    def username(self) -> str:
        return self.principal.username

    @property
    def actor(self) -> Actor:
        return msgspec.structs.replace(self.principal.actor, source_address=self.source_address)


class LoginRefused(Exception):
    """The login failed; the reason goes to the log, never to the terminal (94 says only 0)."""


async def account_charset(context: Sip2Context, username: str) -> str:
    """The character set of a terminal account, before it has logged in (to decode its login message)."""
    async with context.pools.staff.connection() as connection:
        row = await (await connection.execute("SELECT sip2_charset FROM staff_account WHERE username = %s",
                                              [username.lower()])).fetchone()
    charset = row[0] if row else DEFAULT_CHARSET
    return charset if charset in CHARSETS else DEFAULT_CHARSET


async def log_in(context: Sip2Context, request: Request, source_address: str) -> Terminal:
    username = (request.field("CN") or "").strip().lower()
    password = request.field("CO") or ""
    algorithms = request.fixed["uid_algorithm"] + request.fixed["pwd_algorithm"]
    if algorithms.strip() not in ("", PLAIN_TEXT_ALGORITHM * 2):
        raise LoginRefused(f"unsupported login algorithms {algorithms!r}")
    charset = await account_charset(context, username)
    async with context.pools.staff.connection() as connection:
        try:
            principal = await authenticate_staff(connection, username=username, password=password, now=utc_now(),
                                                 source_address=source_address, allowed_roles=TERMINAL_ROLES)
        except ShokaError as refusal:
            raise LoginRefused(refusal.code) from None
    branch = await _terminal_branch(context, principal, request.non_empty("CP"))
    if branch is None:
        # A connection of its own: the login's connection may be inside the principal lookup's transaction.
        async with context.pools.staff.connection() as connection, connection.transaction(), \
                connection.cursor() as cursor:
            await record_operation(cursor, Actor(kind="sip2", name=principal.username, source_address=source_address),
                                   "sip2.login_refused", "staff_account", principal.staff_id,
                                   {"reason": "location_not_allowed", "location": request.field("CP")})
        raise LoginRefused("location_not_allowed")
    return Terminal(principal=principal, branch=branch, charset=charset, source_address=source_address)


async def _terminal_branch(context: Sip2Context, principal: StaffPrincipal, location: str | None) -> str | None:
    points = await context.service_points()
    if location is not None:
        location = location.strip().lower()
        point = points.by_code.get(location)
        if point is None or not point.is_active or not principal.may_work_at(location):
            return None
        return location
    if principal.branch_codes:
        return principal.branch_codes[0]
    return points.first_active


async def account_still_active(context: Sip2Context, terminal: Terminal) -> bool:
    """Whether the terminal's account may still work (an administrator can deactivate a kiosk's account)."""
    async with context.pools.staff.connection() as connection:
        row = await (await connection.execute("SELECT is_active FROM staff_account WHERE id = %s",
                                              [terminal.principal.staff_id])).fetchone()
    return bool(row and row[0])
