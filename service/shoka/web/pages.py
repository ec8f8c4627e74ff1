"""Rendering pages: the template engine, the context every page gets, and the HTML error page.

Every OPAC page goes through `page()`, which also keeps the patron session alive (each page renews its idle
time), ends an expired one, sets the caching rules (personal and kiosk pages are never stored) and shows the
one-time message a previous POST left (flash).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from litestar.utils.scope.state import ScopeState

from shoka.clock import utc_now
from shoka.patrons.sessions import SESSION_COOKIE, read_session, write_session_cookie
from shoka.web.flash import FLASH_COOKIE, take_flash
from shoka.web.i18n import LANGUAGE_COOKIE, MESSAGES, Language, request_language, translator
from shoka.web.web_settings import KIOSK_IDLE_SECONDS, request_is_kiosk

TEMPLATE_FOLDERS = [Path(__file__).parent / "templates", Path(__file__).parents[1] / "opac" / "templates",
                    Path(__file__).parents[1] / "federation" / "templates",
                    Path(__file__).parents[1] / "staff" / "templates"]

TEMPLATE_CONFIG = TemplateConfig(directory=TEMPLATE_FOLDERS, engine=JinjaTemplateEngine)

# The kiosk's browser warns this long before its idle logout, and logs out a little before the server would.
KIOSK_WARNING_SECONDS = 30
KIOSK_BROWSER_IDLE_SECONDS = KIOSK_IDLE_SECONDS - 30


def link_builder(language: Language):
    """`href(path, name=value, ...)`: a site link that keeps English pages in English."""

    def href(path: str, **parameters: Any) -> str:
        pairs = [(name, str(value)) for name, value in parameters.items() if value not in (None, "")]
        if language == "en":
            pairs.append(("lang", "en"))
        return f"{path}?{urlencode(pairs)}" if pairs else path

    return href


def language_switch_url(request: Request, language: Language) -> str:
    pairs = [(name, value) for name, value in request.query_params.multi_items() if name != "lang"]
    pairs.append(("lang", "en" if language == "ja" else "ja"))
    return f"{request.url.path}?{urlencode(pairs)}"


def _login_url(request: Request, language: Language) -> str:
    if request.url.path in ("/login", "/logout"):
        return link_builder(language)("/login")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return link_builder(language)("/login", next=here)


def _base_context(request: Request, language: Language, *, logged_in: bool, kiosk: bool) -> dict[str, Any]:
    return {"lang": language, "t": translator(language), "href": link_builder(language),
            "request_path": request.url.path, "language_switch_url": language_switch_url(request, language),
            "login_url": _login_url(request, language), "logged_in": logged_in, "kiosk": kiosk,
            "kiosk_idle_seconds": KIOSK_BROWSER_IDLE_SECONDS, "kiosk_warning_seconds": KIOSK_WARNING_SECONDS}


async def page(request: Request, template_name: str, *, status_code: int = 200, personal: bool = False,
               **context: Any) -> Template:
    """A rendered page. `personal` pages (my page, login) are marked never to be stored by any cache."""
    language = request_language(request)
    now = utc_now()
    lookup = await read_session(request, now)
    kiosk = request_is_kiosk(request)
    flash = await take_flash(request, now)
    response = Template(template_name=template_name, status_code=status_code, context={
        **_base_context(request, language, logged_in=lookup.session is not None, kiosk=kiosk),
        "session": lookup.session, "session_expired": lookup.expired, "flash": flash, **context})
    if personal or kiosk:
        response.headers["Cache-Control"] = "no-store"
    elif lookup.session is not None:
        response.headers["Cache-Control"] = "private, no-cache"
    if lookup.session is not None:
        await write_session_cookie(request, response, lookup.session, now)
    elif lookup.expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


# Errors raised before a handler runs arrive with Litestar's English phrases; pages say them in the page language.
_GENERIC_ERRORS = {
    "CSRF token verification failed": "error_csrf",
    "Not Found": "error_not_found",
    "Method Not Allowed": "error_method_not_allowed",
    "an internal error occurred; it has been logged": "error_internal",
    "the search index is not available; retry shortly": "error_index_unavailable",
}


def render_error_page(request: Request, status_code: int, code: str, message: str) -> Response:
    language = request_language(request)
    translate = translator(language)
    if message in _GENERIC_ERRORS:
        message = translate(_GENERIC_ERRORS[message])
    elif code == "not_found" and message.startswith("No route"):
        message = translate("error_not_found")
    lookup = request.state.get("patron_session")
    csrf_token = ScopeState.from_scope(request.scope).csrf_token
    csrf_token = csrf_token if isinstance(csrf_token, str) else ""
    csrf_input = f'<input type="hidden" name="_csrf_token" value="{html.escape(csrf_token)}">' if csrf_token else ""
    engine = request.app.template_engine
    if request.url.path.startswith("/staff"):
        from shoka.staff.pages import staff_context  # staff pages build on this module, not the reverse

        rendered = engine.get_template("staff/error.html").render(
            **staff_context(request, request.state.get("staff_session")), request=request, branches=[],
            working_branch_name="", csrf_input=csrf_input, error_status=status_code, code=code, message=message,
            flash=None)
        return Response(content=rendered, status_code=status_code, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})
    rendered = engine.get_template("error.html").render(
        **_base_context(request, language, logged_in=bool(lookup and lookup.session), kiosk=request_is_kiosk(request)),
        csrf_input=csrf_input, error_status=status_code, code=code, message=message, flash=None)
    return Response(content=rendered, status_code=status_code, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


__all__ = ["MESSAGES", "TEMPLATE_CONFIG", "language_switch_url", "link_builder", "page", "render_error_page"]
