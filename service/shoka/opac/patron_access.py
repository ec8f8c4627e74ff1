"""What OPAC handlers need to act for a logged-in patron: the session, the way back to the login page, form
fields, and the mapping of refusals to the page's own language."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect

from shoka.audit import Actor
from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.patrons.sessions import PatronSession, read_session
from shoka.web.i18n import Language, translator
from shoka.web.web_settings import client_address

LONGEST_FIELD = 256


async def logged_in(request: Request) -> PatronSession | None:
    return (await read_session(request, utc_now())).session


def login_redirect(next_path: str, language: Language) -> Redirect:
    pairs = [("next", next_path)] + ([("lang", "en")] if language == "en" else [])
    return Redirect(path=f"/login?{urlencode(pairs)}", status_code=303)


def safe_next_path(text: str | None) -> str:
    """Only paths of this site: no scheme, no host, no backslashes (open redirects)."""
    if not text or not text.startswith("/") or text.startswith("//") or "\\" in text or any(
            ord(character) < 32 for character in text):
        return "/my"
    return text[:1000]


def patron_actor(request: Request, session: PatronSession) -> Actor:
    return Actor(kind="patron", name=session.card, source_address=client_address(request))


async def form_fields(request: Request) -> dict[str, str]:
    """The form's fields, each the first value, trimmed to a sane length."""
    form = await request.form()
    return {name: str(form.get(name) or "")[:LONGEST_FIELD] for name in form.keys()}


# English for the refusals the OPAC raises itself; the circulation engine's refusals carry their own English.
_ENGLISH_REFUSALS = {
    "bib_not_found": "This record does not exist.",
    "not_found": "This loan or reservation could not be found.",
    "unknown_hold": "This reservation could not be found.",
    "hold_closed": "This reservation has already ended.",
    "hold_exists": "You have already reserved this item.",
    "password_change_refused": None,  # field-specific; see my_page.py
}


def refusal_text(error: ShokaError, language: Language) -> str:
    if language == "en":
        english = getattr(error, "message_en", "") or _ENGLISH_REFUSALS.get(error.code)
        if english:
            return english
    return error.message


def done_text(language: Language, key: str, message: str) -> str:
    """The confirmation after an action: the domain's Japanese sentence, or a plain English one."""
    return translator(language)(key) if language == "en" else message
