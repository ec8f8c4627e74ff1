"""Kiosk mode for in-library terminals, and /kiosk where staff switch a terminal's browser into it.

A request is in kiosk mode when its client address is in SHOKA_KIOSK_ADDRESSES, or when its browser carries
the kiosk cookie that staff set here with their own user name and password (roles admin, librarian, counter;
the same login with lockout and logging as the staff API). Switching it off needs staff credentials again.
In kiosk mode a patron login is a browser-session cookie only, ends after 3 minutes without activity (the
browser warns 30 seconds before and logs out by itself), every page is Cache-Control: no-store, and forms ask
the browser not to remember what was typed.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.audit import Actor, record_operation
from shoka.auth.roles import CIRCULATION_ROLES
from shoka.auth.staff_accounts import authenticate_staff
from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.opac.patron_access import form_fields
from shoka.patrons.authentication import LoginRateLimited, check_login_rate
from shoka.web.flash import set_flash
from shoka.web.i18n import request_language, translator
from shoka.web.pages import link_builder, page
from shoka.web.web_settings import KIOSK_COOKIE, address_is_kiosk, client_address, cookies_must_be_secure

KIOSK_COOKIE_YEARS = 5


async def _kiosk_page(request: Request, *, status_code: int = 200, error: str | None = None) -> Template:
    return await page(request, "kiosk.html", status_code=status_code, personal=True, error=error,
                      kiosk_cookie=request.cookies.get(KIOSK_COOKIE) == "1",
                      kiosk_address=address_is_kiosk(client_address(request)))


@get("/kiosk", include_in_schema=False)
async def opac_kiosk_form(request: Request) -> Template:
    return await _kiosk_page(request)


@post("/kiosk", include_in_schema=False)
async def opac_kiosk_switch(request: Request) -> Template | Redirect:
    language = request_language(request)
    t = translator(language)
    fields = await form_fields(request)
    username, password = fields.get("username", "").strip(), fields.get("password", "")
    switch_on = fields.get("mode") != "off"
    if not username or not password:
        return await _kiosk_page(request, status_code=400, error=t("kiosk_credentials_required"))
    address = client_address(request)
    now = utc_now()
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await check_login_rate(connection, address, now)
            principal = await authenticate_staff(connection, username=username, password=password, now=now,
                                                 source_address=address, allowed_roles=CIRCULATION_ROLES)
        # A connection of its own: authenticate_staff leaves an implicit read transaction open on the first.
        async with request.app.state.pools.staff.connection() as connection, connection.transaction(), \
                connection.cursor() as cursor:
            await record_operation(cursor, Actor(kind="staff", name=principal.username, source_address=address),
                                   "opac.kiosk_on" if switch_on else "opac.kiosk_off", "kiosk", None)
    except LoginRateLimited as refusal:
        response = await _kiosk_page(request, status_code=429, error=t("login_rate_limited"))
        response.headers["Retry-After"] = str(refusal.retry_after_seconds)
        return response
    except ShokaError as refusal:
        return await _kiosk_page(request, status_code=int(refusal.status_code),
                                 error=t("kiosk_login_refused", reason=refusal.message))
    response = Redirect(path=link_builder(language)("/"), status_code=303)
    if switch_on:
        response.set_cookie(KIOSK_COOKIE, "1", max_age=KIOSK_COOKIE_YEARS * 365 * 24 * 3600, httponly=True,
                            samesite="lax", secure=cookies_must_be_secure(request), path="/")
    else:
        response.delete_cookie(KIOSK_COOKIE, path="/")
    await set_flash(request, response, t("kiosk_on_done" if switch_on else "kiosk_off_done"), now)
    return response
