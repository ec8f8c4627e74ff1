"""What a terminal may learn about a patron, and the patron password (AD) check.

The circulation facts (blocks, loans, holds, counts) come from the engine's patron summary, as at the
counter; the name comes from patron_personal, and reading it is written to the operation log with the
terminal as actor, like every staff read of patron data. The password is the patron's web password
(patron_credential, argon2id or a migrated legacy hash): a wrong one counts towards the same lockout as a
wrong OPAC login, since both guess the same secret.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio

from shoka.audit import Actor, record_operation
from shoka.circulation.decisions import CirculationRefused
from shoka.clock import utc_now
from shoka.patrons.authentication import LOCKOUT_DURATION, LOCKOUT_THRESHOLD, password_matches
from shoka.sip2.context import Sip2Context

LONGEST_PASSWORD = 256


async def patron_summary(context: Sip2Context, card: str, today: dt.date, branch: str) -> dict[str, Any] | None:
    """The engine's summary of the patron as seen from the terminal's branch; None for an unknown card."""
    try:
        return await context.engine_view("patron_summary", {"card": card, "today": today.isoformat(),
                                                            "branch": branch})
    except CirculationRefused as refusal:
        if refusal.code == "unknown_patron":
            return None
        raise


async def read_patron_name(context: Sip2Context, patron_id: int, actor: Actor, message_code: str) -> str:
    """The patron's name for the terminal's screen; the read is logged."""
    async with context.pools.staff.connection() as connection, connection.transaction(), \
            connection.cursor() as cursor:
        await cursor.execute("SELECT family_name, given_name FROM patron_personal WHERE patron_id = %s", [patron_id])
        row = await cursor.fetchone()
        await record_operation(cursor, actor, "patron.read_summary", "patron", patron_id,
                               {"via": "sip2", "message": message_code})
    if row is None:
        return ""
    return " ".join(part for part in row if part)


async def patron_password_valid(context: Sip2Context, card: str, password: str, actor: Actor) -> bool:
    """Checks a patron's password; failures are counted and logged, a locked card answers False."""
    if len(password) > LONGEST_PASSWORD:
        return False
    now = utc_now()
    async with context.pools.staff.connection() as connection, connection.transaction(), \
            connection.cursor() as cursor:
        await cursor.execute(
            """SELECT p.id, c.password_hash, c.hash_scheme, c.failed_logins, c.locked_until
               FROM patron p JOIN patron_credential c ON c.patron_id = p.id
               WHERE p.card = %s FOR UPDATE OF c""", [card])
        row = await cursor.fetchone()
        # argon2 takes tens of milliseconds: off the event loop, and also for unknown cards (same timing).
        matches = await anyio.to_thread.run_sync(password_matches, row[2] if row else None, row[1] if row else None,
                                                 password)
        if row is None:
            return False
        patron_id, _hash, _scheme, failed_logins, locked_until = row
        if locked_until is not None and locked_until > now:
            await record_operation(cursor, actor, "patron.login_refused", "patron", patron_id,
                                   {"reason": "locked", "via": "sip2"})
            return False
        if matches:
            if failed_logins:
                await cursor.execute("UPDATE patron_credential SET failed_logins = 0 WHERE patron_id = %s",
                                     [patron_id])
            return True
        failed_logins += 1
        lock_until = now + LOCKOUT_DURATION if failed_logins >= LOCKOUT_THRESHOLD else None
        await cursor.execute("UPDATE patron_credential SET failed_logins = %s, locked_until = %s WHERE patron_id = %s",
                             [0 if lock_until else failed_logins, lock_until, patron_id])
        await record_operation(cursor, actor, "patron.login_failed", "patron", patron_id,
                               {"reason": "wrong_password", "via": "sip2", "locked": lock_until is not None})
        return False


async def item_title(context: Sip2Context, barcode: str) -> str:
    async with context.pools.staff.connection() as connection:
        row = await (await connection.execute(
            "SELECT b.title FROM item i JOIN bib b ON b.id = i.bib_id WHERE i.barcode = %s", [barcode])).fetchone()
    return row[0] if row else ""
