"""The staff accounts screens (/staff/accounts, administrators only): the list of accounts with their role,
branches, state, last login and open sessions; creating an account (SIP2 terminals with their character set);
changing role, branches, display name and whether it is active; resetting a password; unlocking; logging an
account out everywhere. The rules themselves are in shoka.auth.staff_admin.

Every form posts back to the account and answers with a redirect to its page (`?done=` names the notice to
show, from a fixed list); a refused form is shown again with the message and what was typed, passwords apart.
"""

from __future__ import annotations

import datetime as dt

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from shoka.auth.roles import ADMIN_ONLY, StaffRole
from shoka.auth.staff_admin import (SIP2_CHARSETS, AccountSettings, account_settings, create_account,
                                    end_all_sessions, list_staff_accounts, load_staff_account, reset_password,
                                    unlock_account, update_account)
from shoka.auth.staff_password_rules import STAFF_PASSWORD_RULES
from shoka.clock import LIBRARY_TIME_ZONE, utc_now
from shoka.errors import InvalidRequest, ShokaError
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import bilingual, branch_choices, staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

ADMIN_AREA = {"guards": [staff_area(ADMIN_ONLY)], "dependencies": STAFF_SESSION, "include_in_schema": False}

ROLE_LABELS = {
    StaffRole.ADMIN: ("管理者", "Administrator"),
    StaffRole.LIBRARIAN: ("司書", "Librarian"),
    StaffRole.COUNTER: ("カウンター", "Counter"),
    StaffRole.STATS: ("統計担当", "Statistics"),
    StaffRole.SIP2: ("自動貸出機 (SIP2)", "Self-check terminal (SIP2)"),
}

DONE_NOTICES = {
    "created": ("職員アカウントを登録しました。", "The staff account has been created."),
    "saved_and_logged_out": ("変更を保存しました。権限・業務館・有効状態が変わったため、この職員はログアウトされました。",
                             "Saved. The role, branches or state changed, so this account was logged out."),
    "saved": ("変更を保存しました。", "Saved."),
    "unchanged": ("変更はありませんでした。", "Nothing was changed."),
    "password_reset": ("パスワードを再設定しました。この職員はログアウトされ、ロックも解除されました。",
                       "The password has been reset; the account was logged out and unlocked."),
    "unlocked": ("ロックを解除しました。", "The account has been unlocked."),
    "sessions_ended": ("この職員のすべてのログインを終了しました。", "Every session of this account has been ended."),
}


def japan_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(LIBRARY_TIME_ZONE).strftime("%Y-%m-%d %H:%M") if moment else ""


async def _common_context(request: Request) -> dict:
    return {"role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
            "all_branches": await branch_choices(request, None), "charsets": SIP2_CHARSETS,
            "password_rules": STAFF_PASSWORD_RULES, "japan_time": japan_time}


def _settings_from(form: FormMultiDict) -> AccountSettings:
    return account_settings(display_name=str(form.get("display_name") or ""), role=str(form.get("role") or ""),
                            branch_codes=[str(code) for code in form.getall("branches", [])],
                            is_active=form.get("is_active") == "on",
                            sip2_charset=str(form.get("sip2_charset") or "utf-8"))


def _typed_values(form: FormMultiDict) -> dict:
    """What the administrator typed, to show a refused form again (never the passwords)."""
    return {"username": str(form.get("username") or ""), "display_name": str(form.get("display_name") or ""),
            "role": str(form.get("role") or ""), "branch_codes": [str(code) for code in form.getall("branches", [])],
            "is_active": form.get("is_active") == "on", "sip2_charset": str(form.get("sip2_charset") or "utf-8")}


def _new_password_twice(form: FormMultiDict) -> str:
    password = str(form.get("password") or "")
    if password != str(form.get("password_again") or ""):
        raise InvalidRequest("password_again: パスワードが2回とも同じになるよう入力してください。/ "
                             "The password and its repetition differ.", code="passwords_differ")
    return password


@get("/staff/accounts", **ADMIN_AREA)
async def account_list(request: Request, staff: StaffSession) -> Template:
    now = utc_now()
    async with request.app.state.pools.staff.connection() as connection:
        accounts = await list_staff_accounts(connection, now)
    return await staff_page(request, "staff/accounts.html", staff, accounts=accounts, now=now,
                            **await _common_context(request))


async def _new_account_form(request: Request, staff: StaffSession, *, values: dict, error: str = "",
                            status_code: int = 200) -> Template:
    return await staff_page(request, "staff/account_new.html", staff, status_code=status_code, values=values,
                            error=error, **await _common_context(request))


@get("/staff/accounts/new", **ADMIN_AREA)
async def new_account_form(request: Request, staff: StaffSession) -> Template:
    return await _new_account_form(request, staff, values={"role": StaffRole.COUNTER.value, "is_active": True,
                                                           "branch_codes": [], "sip2_charset": "utf-8"})


@post("/staff/accounts", **ADMIN_AREA)
async def create_account_from_form(request: Request, staff: StaffSession) -> Template | Redirect:
    form = await request.form()
    try:
        settings = _settings_from(form)
        password = _new_password_twice(form)
        async with request.app.state.pools.staff.connection() as connection:
            staff_id = await create_account(connection, username=str(form.get("username") or ""), settings=settings,
                                            password=password, actor=staff_actor(request, staff))
    except ShokaError as refusal:
        return await _new_account_form(request, staff, values=_typed_values(form), error=refusal.message,
                                       status_code=int(refusal.status_code))
    return Redirect(path=f"/staff/accounts/{staff_id}?done=created", status_code=303)


async def _account_page(request: Request, staff: StaffSession, staff_id: int, *, values: dict | None = None,
                        error: str = "", status_code: int = 200) -> Template:
    now = utc_now()
    async with request.app.state.pools.staff.connection() as connection:
        account = await load_staff_account(connection, staff_id, now)
    tr = bilingual(request_language(request))
    done = DONE_NOTICES.get(request.query_params.get("done", "")) if not error else None
    shown = values or {"display_name": account.display_name, "role": account.role.value,
                       "branch_codes": list(account.branch_codes), "is_active": account.is_active,
                       "sip2_charset": account.sip2_charset}
    return await staff_page(request, "staff/account_edit.html", staff, status_code=status_code, account=account,
                            values=shown, error=error, notice=tr(*done) if done else "", now=now,
                            is_self=account.staff_id == staff.principal.staff_id, **await _common_context(request))


@get("/staff/accounts/{staff_id:int}", **ADMIN_AREA)
async def account_detail(request: Request, staff: StaffSession, staff_id: int) -> Template:
    return await _account_page(request, staff, staff_id)


@post("/staff/accounts/{staff_id:int}", **ADMIN_AREA)
async def update_account_from_form(request: Request, staff: StaffSession, staff_id: int) -> Template | Redirect:
    form = await request.form()
    try:
        settings = _settings_from(form)
        async with request.app.state.pools.staff.connection() as connection:
            update = await update_account(connection, staff_id, settings, acting_staff_id=staff.principal.staff_id,
                                          actor=staff_actor(request, staff), now=utc_now())
    except ShokaError as refusal:
        if refusal.status_code == 404:
            raise
        return await _account_page(request, staff, staff_id, values=_typed_values(form), error=refusal.message,
                                   status_code=int(refusal.status_code))
    done = "unchanged" if not update.changes else "saved_and_logged_out" if update.sessions_ended else "saved"
    return Redirect(path=f"/staff/accounts/{staff_id}?done={done}", status_code=303)


@post("/staff/accounts/{staff_id:int}/password", **ADMIN_AREA)
async def reset_password_from_form(request: Request, staff: StaffSession, staff_id: int) -> Template | Redirect:
    form = await request.form()
    try:
        password = _new_password_twice(form)
        async with request.app.state.pools.staff.connection() as connection:
            await reset_password(connection, staff_id, password, actor=staff_actor(request, staff), now=utc_now())
    except ShokaError as refusal:
        if refusal.status_code == 404:
            raise
        return await _account_page(request, staff, staff_id, error=refusal.message,
                                   status_code=int(refusal.status_code))
    if staff_id == staff.principal.staff_id:  # the administrator reset their own password: this session ended too
        return Redirect(path="/staff/", status_code=303)
    return Redirect(path=f"/staff/accounts/{staff_id}?done=password_reset", status_code=303)


@post("/staff/accounts/{staff_id:int}/unlock", **ADMIN_AREA)
async def unlock_account_from_form(request: Request, staff: StaffSession, staff_id: int) -> Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        await unlock_account(connection, staff_id, actor=staff_actor(request, staff))
    return Redirect(path=f"/staff/accounts/{staff_id}?done=unlocked", status_code=303)


@post("/staff/accounts/{staff_id:int}/sessions/end", **ADMIN_AREA)
async def end_sessions_from_form(request: Request, staff: StaffSession, staff_id: int) -> Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        await end_all_sessions(connection, staff_id, actor=staff_actor(request, staff), now=utc_now())
    if staff_id == staff.principal.staff_id:
        return Redirect(path="/staff/", status_code=303)
    return Redirect(path=f"/staff/accounts/{staff_id}?done=sessions_ended", status_code=303)


ACCOUNT_ROUTES = [account_list, new_account_form, create_account_from_form, account_detail,
                  update_account_from_form, reset_password_from_form, unlock_account_from_form, end_sessions_from_form]
