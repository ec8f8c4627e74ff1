"""Checkout (11/12), checkin (09/10) and renew (29/30): the counter's own use cases, called for the terminal.

Each goes through shoka.circulation.desk at the terminal's branch, so the rules, the transaction, the
operation log (actor kind 'sip2') and the outbox are those of the counter. The request id given to the desk
is derived from the terminal, the sequence number, the day and the message text: a kiosk that lost an answer
and sends the same message again gets the stored answer, not a second loan or a confusing refusal. "Renewal
ok" is read from the engine's patron summary after the change, never assumed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from shoka.circulation import desk
from shoka.clock import library_today, utc_now
from shoka.errors import ShokaError
from shoka.sip2.patron_access import item_title, patron_password_valid, patron_summary
from shoka.sip2.requests import Request
from shoka.sip2.responses import Response, sip2_datetime, sip2_due_date, yes_no
from shoka.sip2.screen_messages import Language, due_date_text, refusal_text, say
from shoka.sip2.status_codes import magnetic_media

if TYPE_CHECKING:
    from shoka.sip2.session import Session

# Sort bins (CL) for a sorter: the local hold shelf, or the branch a copy travels to.
HOLD_SHELF_BIN = "hold"
TRANSIT_BIN_PREFIX = "transit-"


def _renewable(summary: dict[str, Any] | None, barcode: str) -> bool:
    for loan in (summary or {}).get("loans", []):
        if loan["barcode"] == barcode:
            return bool(loan["renewable"])
    return False


async def _material_type(session: Session, barcode: str) -> str | None:
    try:
        return (await session.context.engine_view("item_view", {"barcode": barcode})).get("material_type")
    except ShokaError:
        return None


def _loan_response(code: str, *, ok: bool, renewal_ok: bool, magnetic: str, institution: str, card: str,
                   barcode: str, title: str, due_on: dt.date | None, message: str) -> str:
    """12 and 30 share one layout."""
    return (Response(code).fixed("1" if ok else "0", yes_no(renewal_ok), magnetic, yes_no(ok),
                                 sip2_datetime(utc_now()))
            .field("AO", institution).field("AA", card).field("AB", barcode).field("AJ", title)
            .field("AH", sip2_due_date(due_on) if due_on else "").field("AF", message).text())


async def _wrong_patron_password(session: Session, request: Request, card: str) -> bool:
    password = request.non_empty("AD")
    if password is None:
        return False
    return not await patron_password_valid(session.context, card, password, session.terminal.actor)


async def checkout_message(session: Session, request: Request) -> str:
    terminal, context, language = session.terminal, session.context, session.language
    card, barcode = request.field("AA").strip(), request.field("AB").strip()
    institution = (await context.service_points()).institution

    async def refused(message: str) -> str:
        return _loan_response("12", ok=False, renewal_ok=False, magnetic=magnetic_media(None), institution=institution,
                              card=card, barcode=barcode, title=await item_title(context, barcode), due_on=None,
                              message=message)

    if await _wrong_patron_password(session, request, card):
        return await refused(say(language, "wrong_password"))
    today = library_today()
    try:
        async with context.pools.staff.connection() as connection:
            result = await desk.checkout(connection, context.replica, card=card, barcode=barcode,
                                         branch=terminal.branch, today=today, now=utc_now(), actor=terminal.actor,
                                         staffed=False, request_id=session.request_id(request))
    except ShokaError as refusal:
        return await refused(refusal_text(refusal, language))
    summary = await patron_summary(context, card, today, terminal.branch)
    message = say(language, "checkout_done", due=due_date_text(result.due_date, language))
    return _loan_response("12", ok=True, renewal_ok=_renewable(summary, barcode),
                          magnetic=magnetic_media(await _material_type(session, barcode)), institution=institution,
                          card=card, barcode=barcode, title=result.title, due_on=result.due_date, message=message)


async def renew_message(session: Session, request: Request) -> str:
    terminal, context, language = session.terminal, session.context, session.language
    card, barcode = request.field("AA").strip(), (request.field("AB") or "").strip()
    institution = (await context.service_points()).institution

    async def refused(message: str) -> str:
        title = await item_title(context, barcode) if barcode else request.field("AJ") or ""
        return _loan_response("30", ok=False, renewal_ok=False, magnetic=magnetic_media(None), institution=institution,
                              card=card, barcode=barcode, title=title, due_on=None, message=message)

    if not barcode:
        return await refused(say(language, "renew_needs_item"))
    today = library_today()
    summary = await patron_summary(context, card, today, terminal.branch)
    if summary is None:
        return await refused(say(language, "unknown_patron"))
    if await _wrong_patron_password(session, request, card):
        return await refused(say(language, "wrong_password"))
    try:
        async with context.pools.staff.connection() as connection:
            result = await desk.renew(connection, context.replica, barcode=barcode, branch=terminal.branch,
                                      today=today, now=utc_now(), actor=terminal.actor,
                                      patron_id=summary["patron_id"], request_id=session.request_id(request))
    except ShokaError as refusal:
        return await refused(refusal_text(refusal, language))
    after = await patron_summary(context, card, today, terminal.branch)
    message = say(language, "renew_done", due=due_date_text(result.due_date, language))
    return _loan_response("30", ok=True, renewal_ok=_renewable(after, barcode),
                          magnetic=magnetic_media(await _material_type(session, barcode)), institution=institution,
                          card=card, barcode=barcode, title=await item_title(context, barcode),
                          due_on=result.due_date, message=message)


async def checkin_message(session: Session, request: Request) -> str:
    terminal, context, language = session.terminal, session.context, session.language
    barcode = request.field("AB").strip()
    points = await context.service_points()
    try:
        async with context.pools.staff.connection() as connection:
            result = await desk.checkin(connection, context.replica, barcode=barcode, branch=terminal.branch,
                                        today=library_today(), now=utc_now(), actor=terminal.actor,
                                        request_id=session.request_id(request))
    except ShokaError as refusal:
        return (Response("10").fixed("0", "N", "U", "N", sip2_datetime(utc_now())).field("AO", points.institution)
                .field("AB", barcode).field("AQ", "").optional("AJ", await item_title(context, barcode))
                .field("AF", refusal_text(refusal, language)).text())
    item = await context.engine_view("item_view", {"barcode": barcode})
    sort_bin, message = _routing(result, language, points)
    return (Response("10").fixed("1", "Y", magnetic_media(item.get("material_type")), yes_no(sort_bin is not None),
                                 sip2_datetime(utc_now()))
            .field("AO", points.institution).field("AB", barcode).field("AQ", item.get("branch", ""))
            .field("AJ", result.title).optional("CL", sort_bin).field("AF", message).text())


def _routing(result: desk.CheckinResult, language: Language, points) -> tuple[str | None, str]:
    """Where the returned copy goes: the sort bin (None for its own shelf) and what the screen says."""
    english = language is Language.ENGLISH
    if result.status == "hold_ready":
        return HOLD_SHELF_BIN, say(language, "checkin_hold_ready")
    if result.status in ("hold_transit", "transit_home") and result.transit_to:
        branch = points.name(result.transit_to, english)
        key = "checkin_hold_transit" if result.status == "hold_transit" else "checkin_transit_home"
        return TRANSIT_BIN_PREFIX + result.transit_to, say(language, key, branch=branch)
    return None, say(language, "checkin_done")
