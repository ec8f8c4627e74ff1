"""A staff member changes their own password (/staff/password): the current password, then the new one twice.

The new password follows the staff rules (auth.staff_password_rules) and must differ from the current one. The
change ends the account's other staff sessions (another desk, a browser left open) and keeps the one it was
made from. A wrong current password is refused and logged ("staff.password_change_refused"), as a failed
login would be; a change is logged as "staff.password_change".
"""

from __future__ import annotations

import datetime as dt

import anyio.to_thread
from psycopg import AsyncConnection

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import hash_password, verify_password
from shoka.auth.staff_password_rules import check_staff_password_rules
from shoka.errors import Forbidden, InvalidRequest, NotAuthenticated


class WrongCurrentPassword(Forbidden):
    code = "wrong_current_password"


async def change_own_password(connection: AsyncConnection, *, staff_id: int, session_token_hash: bytes,
                              current_password: str, new_password: str, new_password_again: str, actor: Actor,
                              now: dt.datetime) -> int:
    """Change the password; returns how many other sessions were ended."""
    if not current_password:
        raise InvalidRequest("current_password: 現在のパスワードを入力してください。/ Enter your current password.",
                             code="current_password_required")
    if new_password != new_password_again:
        raise InvalidRequest("new_password_again: 新しいパスワードが2回とも同じになるよう入力してください。/ "
                             "The new password and its repetition differ.", code="new_passwords_differ")
    async with connection.transaction():
        row = await (await connection.execute(
            "SELECT username, password_hash FROM staff_account WHERE id = %s AND is_active", [staff_id])).fetchone()
    if row is None:
        raise NotAuthenticated("このアカウントは使えません。/ This account is not active.", code="account_inactive")
    username, stored_hash = row
    if not await anyio.to_thread.run_sync(verify_password, stored_hash, current_password):
        async with connection.transaction(), connection.cursor() as cursor:
            await record_operation(cursor, actor, "staff.password_change_refused", "staff_account", staff_id,
                                   {"reason": "wrong_current_password"})
        raise WrongCurrentPassword("current_password: 現在のパスワードが違います。/ The current password is wrong.")
    if new_password == current_password:
        raise InvalidRequest("new_password: 現在と違うパスワードにしてください。/ "
                             "The new password must differ from the current one.", code="password_unchanged")
    check_staff_password_rules(new_password, username)
    password_hash = await anyio.to_thread.run_sync(hash_password, new_password)
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute("UPDATE staff_account SET password_hash = %s, password_changed_at = %s WHERE id = %s",
                             [password_hash, now, staff_id])
        await cursor.execute(
            """UPDATE staff_session SET ended_at = %s, end_reason = 'account_changed'
               WHERE staff_id = %s AND ended_at IS NULL AND token_hash <> %s""",
            [now, staff_id, session_token_hash])
        ended = cursor.rowcount
        await record_operation(cursor, actor, "staff.password_change", "staff_account", staff_id,
                               {"other_sessions_ended": ended})
    return ended
