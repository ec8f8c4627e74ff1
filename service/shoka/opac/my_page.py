"""My page (/my): the logged-in patron's loans, holds, reading record and password, and the forms that act on
them. Every read and change goes through the staff role, scoped to the session's patron id; ids in forms only
pick among the patron's own loans and holds. Pages are never cached (Cache-Control: no-store).
"""

from __future__ import annotations

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.clock import utc_now
from shoka.errors import NotFound, ShokaError
from shoka.opac import circulation_actions
from shoka.opac.directory import library_directory
from shoka.opac.patron_access import (done_text, form_fields, logged_in, login_redirect, patron_actor,
                                      refusal_text)
from shoka.opac.results_view import format_date
from shoka.opac.vocabulary import hold_status_label
from shoka.patrons.my_account import (PasswordChangeRefused, SessionNoLongerValid, change_password, load_my_account,
                                      set_reading_record)
from shoka.patrons.sessions import PatronSession, clear_session_cookie, write_session_cookie
from shoka.web.flash import set_flash
from shoka.web.i18n import Language, request_language, translator
from shoka.web.pages import link_builder, page
from shoka.web.web_settings import client_address

MY_PAGE = "/my"


def _ended(request: Request, language: Language) -> Redirect:
    response = login_redirect(MY_PAGE, language)
    clear_session_cookie(request, response)
    return response


async def _my_page(request: Request, session: PatronSession, *, status_code: int = 200,
                   form_errors: dict[str, str] | None = None) -> Template | Redirect:
    language = request_language(request)
    directory = await library_directory(request.app.state)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            account = await load_my_account(connection, patron_id=session.patron_id,
                                            session_credential_version=session.credential_version,
                                            actor=patron_actor(request, session))
    except SessionNoLongerValid:
        return _ended(request, language)
    pickup_points = [(place.code, place.name(language)) for place in directory.pickup_points()]
    form_errors = form_errors or {}
    shown_keys = ({f"loan-{loan.barcode}" for loan in account.loans}
                  | {f"hold-{hold.hold_id}" for hold in account.holds}
                  | {key for key in form_errors if key.startswith("password-")})
    return await page(
        request, "my.html", status_code=status_code, personal=True, account=account,
        loans=[{"loan": loan, "branch_name": directory.place_name(loan.branch, language),
                "checked_out": format_date(loan.checked_out_on, language), "due": format_date(loan.due_on, language)}
               for loan in account.loans],
        holds=[{"hold": hold, "status_label": hold_status_label(hold.status, language),
                "pickup_name": directory.place_name(hold.pickup_branch, language),
                "placed": format_date(hold.placed_on, language), "pickup_by": format_date(hold.pickup_by, language)}
               for hold in account.holds],
        history=[{"entry": entry, "checked_out": format_date(entry.checked_out_on, language),
                  "returned": format_date(entry.returned_on, language)} for entry in account.reading_record],
        expires=format_date(account.expires_on, language), pickup_points=pickup_points,
        form_errors=form_errors, other_errors=[text for key, text in form_errors.items() if key not in shown_keys])


async def _after_action(request: Request, message: str, anchor: str) -> Redirect:
    language = request_language(request)
    response = Redirect(path=link_builder(language)(MY_PAGE) + f"#{anchor}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    await set_flash(request, response, message, utc_now())
    return response


def _parse_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 19 else None


@get(MY_PAGE, include_in_schema=False)
async def opac_my_page(request: Request) -> Template | Redirect:
    session = await logged_in(request)
    if session is None:
        return login_redirect(MY_PAGE, request_language(request))
    return await _my_page(request, session)


@post("/my/loans/renew", include_in_schema=False)
async def opac_renew_loan(request: Request) -> Template | Redirect:
    language = request_language(request)
    session = await logged_in(request)
    if session is None:
        return login_redirect(MY_PAGE, language)
    barcode = (await form_fields(request)).get("item", "").strip()
    try:
        message = await circulation_actions.renew_loan(request.app.state, session.patron_id, barcode,
                                                       client_address(request))
    except ShokaError as refusal:
        return await _my_page(request, session, status_code=int(refusal.status_code),
                              form_errors={f"loan-{barcode}": refusal_text(refusal, language)})
    return await _after_action(request, done_text(language, "loan_renewed", message), "loans")


async def _hold_action(request: Request, hold_ref: str, action: str) -> Template | Redirect:
    language = request_language(request)
    session = await logged_in(request)
    if session is None:
        return login_redirect(MY_PAGE, language)
    fields = await form_fields(request)
    hold_id = _parse_id(hold_ref)
    try:
        if hold_id is None:
            raise NotFound("この予約は見つかりません。", code="hold_not_found")
        if action == "cancel":
            message = await circulation_actions.cancel_hold(request.app.state, session.patron_id, hold_id,
                                                            client_address(request))
        else:
            message = await circulation_actions.change_pickup(request.app.state, session.patron_id, hold_id,
                                                              fields.get("pickup_branch", "").strip(),
                                                              client_address(request))
    except ShokaError as refusal:
        return await _my_page(request, session, status_code=int(refusal.status_code),
                              form_errors={f"hold-{hold_ref}": refusal_text(refusal, language)})
    key = "hold_cancelled" if action == "cancel" else "hold_pickup_changed"
    return await _after_action(request, done_text(language, key, message), "holds")


@post("/my/holds/{hold_ref:str}/cancel", include_in_schema=False)
async def opac_cancel_hold(request: Request, hold_ref: str) -> Template | Redirect:
    return await _hold_action(request, hold_ref, "cancel")


@post("/my/holds/{hold_ref:str}/pickup", include_in_schema=False)
async def opac_change_pickup(request: Request, hold_ref: str) -> Template | Redirect:
    return await _hold_action(request, hold_ref, "pickup")


@post("/my/reading-record", include_in_schema=False)
async def opac_reading_record(request: Request) -> Template | Redirect:
    language = request_language(request)
    session = await logged_in(request)
    if session is None:
        return login_redirect(MY_PAGE, language)
    keep = (await form_fields(request)).get("keep") == "1"
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await set_reading_record(connection, patron_id=session.patron_id,
                                     session_credential_version=session.credential_version, keep=keep,
                                     actor=patron_actor(request, session))
    except SessionNoLongerValid:
        return _ended(request, language)
    t = translator(language)
    return await _after_action(request, t("reading_record_on_done" if keep else "reading_record_off_done"),
                               "reading-record")


@post("/my/password", include_in_schema=False)
async def opac_change_password(request: Request) -> Template | Redirect:
    language = request_language(request)
    t = translator(language)
    session = await logged_in(request)
    if session is None:
        return login_redirect(MY_PAGE, language)
    fields = await form_fields(request)
    current, new, confirm = (fields.get("current_password", ""), fields.get("new_password", ""),
                             fields.get("new_password_confirm", ""))
    problems = {}
    if not current:
        problems["password-current_password"] = t("password_current_required")
    if not new:
        problems["password-new_password"] = t("password_new_required")
    elif new != confirm:
        problems["password-new_password_confirm"] = t("password_confirm_mismatch")
    if problems:
        return await _my_page(request, session, status_code=400, form_errors=problems)
    now = utc_now()
    try:
        async with request.app.state.pools.staff.connection() as connection:
            version = await change_password(connection, patron_id=session.patron_id,
                                            session_credential_version=session.credential_version,
                                            current_password=current, new_password=new, now=now,
                                            actor=patron_actor(request, session))
    except SessionNoLongerValid:
        return _ended(request, language)
    except PasswordChangeRefused as refusal:
        text = refusal.message
        if language == "en":
            text = t("password_wrong" if refusal.field == "current_password" else "password_rules")
        return await _my_page(request, session, status_code=int(refusal.status_code),
                              form_errors={f"password-{refusal.field}": text})
    response = await _after_action(request, t("password_changed"), "password")
    renewed = msgspec.structs.replace(session, credential_version=version)
    await write_session_cookie(request, response, renewed, now)
    return response
