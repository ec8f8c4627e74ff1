"""The card actions on a patron's page: replace the card, renew the expiry, change the status (suspend, card
lost, lift) and set the web password. Each is a form POST that returns to the patron's page with what it did,
or shows the page again with the form's problem (422) or the refusal (409)."""

from __future__ import annotations

from litestar import Request, post
from litestar.response import Redirect, Template

from shoka.auth.roles import PATRON_DATA_ROLES
from shoka.clock import library_today, utc_now
from shoka.errors import Conflict
from shoka.patrons.card_lifecycle import change_status, renew_card, replace_card, reset_web_password
from shoka.patrons.registry import PatronFormRefused, load_vocabulary
from shoka.staff.access import STAFF_SESSION, staff_area
from shoka.staff.pages import bilingual
from shoka.staff.patron_pages import editor_of, form_values, patron_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

_GUARD = {"guards": [staff_area(PATRON_DATA_ROLES)], "dependencies": STAFF_SESSION, "include_in_schema": False}


def _done(patron_id: int, key: str) -> Redirect:
    return Redirect(path=f"/staff/patrons/{patron_id}?done={key}", status_code=303)


@post("/staff/patrons/{patron_id:int}/replace-card", **_GUARD)
async def patron_replace_card(request: Request, staff: StaffSession, patron_id: int) -> Template | Redirect:
    values = await form_values(request)
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        try:
            await replace_card(connection, request.app.state.engine, patron_id=patron_id,
                               new_card=values.get("new_card", ""), reason=values.get("reason", ""),
                               vocabulary=vocabulary, editor=editor_of(request, staff), now=utc_now())
        except PatronFormRefused as refusal:
            return await patron_page(request, staff, patron_id, status_code=422, form="replace_card",
                                     problems=refusal.problems, values=values)
    return _done(patron_id, "card_replaced")


@post("/staff/patrons/{patron_id:int}/renew", **_GUARD)
async def patron_renew(request: Request, staff: StaffSession, patron_id: int) -> Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        await renew_card(connection, request.app.state.engine, patron_id=patron_id,
                         vocabulary=await load_vocabulary(connection), editor=editor_of(request, staff),
                         today=library_today(), now=utc_now())
    return _done(patron_id, "renewed")


@post("/staff/patrons/{patron_id:int}/status", **_GUARD)
async def patron_change_status(request: Request, staff: StaffSession, patron_id: int) -> Template | Redirect:
    values = await form_values(request)
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        try:
            change = await change_status(connection, request.app.state.engine, patron_id=patron_id,
                                         status=values.get("status", ""), vocabulary=vocabulary,
                                         editor=editor_of(request, staff), now=utc_now())
        except PatronFormRefused as refusal:
            return await patron_page(request, staff, patron_id, status_code=422, form="status",
                                     problems=refusal.problems)
        except Conflict as refusal:
            tr = bilingual(request_language(request))
            return await patron_page(request, staff, patron_id, status_code=409, alert=tr(
                "この利用者はすでにその状態です。", "The patron already has that status.")
                if refusal.code == "status_unchanged" else refusal.message)
    return _done(patron_id, change.value)


@post("/staff/patrons/{patron_id:int}/password", **_GUARD)
async def patron_set_password(request: Request, staff: StaffSession, patron_id: int) -> Template | Redirect:
    values = await form_values(request)
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        try:
            await reset_web_password(connection, patron_id=patron_id, new_password=values.get("new_password", ""),
                                     vocabulary=vocabulary, editor=editor_of(request, staff), now=utc_now())
        except PatronFormRefused as refusal:
            return await patron_page(request, staff, patron_id, status_code=422, form="password",
                                     problems=refusal.problems)
    return _done(patron_id, "password")


PATRON_CARD_ROUTES = [patron_replace_card, patron_renew, patron_change_status, patron_set_password]
