"""One-time messages across a POST-redirect-GET ("予約しました"): a signed, short-lived, HttpOnly cookie.

The message is signed so that no other site can make our pages show its text; the next page shows it once.
"""

from __future__ import annotations

import datetime as dt

from litestar import Request, Response

from shoka.patrons.sessions import session_codec
from shoka.web.web_settings import cookies_must_be_secure

FLASH_COOKIE = "shoka_notice"


async def set_flash(request: Request, response: Response, message: str, now: dt.datetime) -> None:
    token = (await session_codec(request.app.state)).sign_notice(message[:500], now)
    response.set_cookie(FLASH_COOKIE, token, max_age=120, httponly=True, samesite="lax",
                        secure=cookies_must_be_secure(request), path="/")


async def take_flash(request: Request, now: dt.datetime) -> str | None:
    token = request.cookies.get(FLASH_COOKIE)
    if not token:
        return None
    return (await session_codec(request.app.state)).read_notice(token, now)
