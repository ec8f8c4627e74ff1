"""Patron login and logout: GET/POST /login (fields `card` and `password`, CONTRACT.md), GET/POST /logout,
and GET /session/keepalive (a kiosk's "continue" button renews the idle time without loading a page).

After login the browser goes back to `next` (a path of this site only), by default my page.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.opac.patron_access import form_fields, logged_in, safe_next_path
from shoka.patrons.authentication import (LoginRateLimited, authenticate_patron, check_login_rate, record_logout)
from shoka.patrons.sessions import clear_session_cookie, new_session, read_session, write_session_cookie
from shoka.web.flash import set_flash
from shoka.web.i18n import Language, request_language, translator
from shoka.web.pages import link_builder, page
from shoka.web.web_settings import client_address, request_is_kiosk

_ENGLISH_LOGIN_REFUSALS = {
    "invalid_credentials": "login_wrong",
    "account_locked": "login_locked",
    "card_not_usable": "login_card_not_usable",
    "login_rate_limited": "login_rate_limited",
}


def _refusal_text(refusal: ShokaError, language: Language) -> str:
    key = _ENGLISH_LOGIN_REFUSALS.get(refusal.code)
    return translator(language)(key) if language == "en" and key else refusal.message


async def _login_page(request: Request, *, status_code: int = 200, error: str | None = None,
                      field_errors: dict[str, str] | None = None, card: str = "", next_path: str = "") -> Template:
    return await page(request, "login.html", status_code=status_code, personal=True, error=error,
                      field_errors=field_errors or {}, card=card, next_path=next_path)


@get("/login", include_in_schema=False)
async def opac_login_form(request: Request) -> Template:
    next_path = request.query_params.get("next")
    return await _login_page(request, next_path=safe_next_path(next_path) if next_path else "")


@post("/login", include_in_schema=False)
async def opac_login(request: Request) -> Template | Redirect:
    language = request_language(request)
    t = translator(language)
    fields = await form_fields(request)
    card, password = fields.get("card", "").strip(), fields.get("password", "")
    next_path = safe_next_path(fields.get("next"))
    field_errors = {}
    if not card:
        field_errors["card"] = t("login_card_required")
    if not password:
        field_errors["password"] = t("login_password_required")
    if field_errors:
        return await _login_page(request, status_code=400, field_errors=field_errors, card=card, next_path=next_path)
    address = client_address(request)
    now = utc_now()
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await check_login_rate(connection, address, now)
            login = await authenticate_patron(connection, card=card, password=password, now=now,
                                              source_address=address)
    except LoginRateLimited as refusal:
        response = await _login_page(request, status_code=429, error=_refusal_text(refusal, language), card=card,
                                     next_path=next_path)
        response.headers["Retry-After"] = str(refusal.retry_after_seconds)
        return response
    except ShokaError as refusal:
        return await _login_page(request, status_code=int(refusal.status_code),
                                 error=_refusal_text(refusal, language), card=card, next_path=next_path)
    session = new_session(patron_id=login.patron_id, card=login.card, home_branch=login.home_branch,
                          kiosk=request_is_kiosk(request), credential_version=login.credential_version, now=now)
    target = next_path
    if language == "en" and "lang=" not in target:
        target += ("&" if "?" in target else "?") + "lang=en"
    response = Redirect(path=target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    await write_session_cookie(request, response, session, now)
    return response


@get("/logout", include_in_schema=False)
async def opac_logout_form(request: Request) -> Template:
    return await page(request, "logout.html", personal=True)


@post("/logout", include_in_schema=False)
async def opac_logout(request: Request) -> Redirect:
    language = request_language(request)
    session = await logged_in(request)
    fields = await form_fields(request)
    reason = "idle" if fields.get("reason") == "idle" else "patron"
    if session is not None:
        async with request.app.state.pools.staff.connection() as connection:
            await record_logout(connection, patron_id=session.patron_id, card=session.card,
                                source_address=client_address(request), reason=reason)
    response = Redirect(path=link_builder(language)("/"), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    clear_session_cookie(request, response)
    if session is not None:
        key = "logged_out_idle" if reason == "idle" else "logged_out"
        await set_flash(request, response, translator(language)(key), utc_now())
    return response


@get("/session/keepalive", include_in_schema=False)
async def opac_session_keepalive(request: Request) -> Response:
    now = utc_now()
    lookup = await read_session(request, now)
    response = Response(content=b"", status_code=204, headers={"Cache-Control": "no-store"})
    if lookup.session is not None:
        await write_session_cookie(request, response, lookup.session, now)
    return response
