"""The staff client's front door: GET /staff/ (the login form, or the day's figures once logged in), staff
login and logout, and the choice of the branch the desk works at.

Login takes `username` and `password` (CONTRACT.md) and optionally the working branch; the lockout, the
operation-log entries and the refusal texts are those of the API login (auth.staff_accounts). SIP2 terminal
accounts cannot log in here.
"""

from __future__ import annotations

import datetime as dt

from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.auth.roles import WEB_LOGIN_ROLES
from shoka.auth.staff_accounts import authenticate_staff
from shoka.clock import LIBRARY_TIME_ZONE, library_today, utc_now
from shoka.errors import Forbidden, ShokaError
from shoka.staff.access import STAFF_SESSION, current_staff_session, require_branch, staff_actor, staff_area
from shoka.staff.pages import bilingual, branch_choices, staff_page
from shoka.staff.sessions import (STAFF_COOKIE_PATH, STAFF_SESSION_COOKIE, StaffSession, change_working_branch,
                                  end_lapsed_session, end_staff_session, start_staff_session, staff_idle_minutes)
from shoka.audit import record_operation
from shoka.web.i18n import request_language
from shoka.web.web_settings import client_address, cookies_must_be_secure

LONGEST_FIELD = 256

_LAPSE_NOTICES = {
    "idle": ("一定時間操作がなかったため、ログアウトしました。", "You were logged out after a period of inactivity."),
    "expired": ("ログインの有効時間が過ぎました。もう一度ログインしてください。", "Your login has expired; please log in again."),
    "revoked": ("管理者によりログアウトされました。", "An administrator ended your session."),
    "account_changed": ("アカウントが変更されたため、ログアウトしました。", "Your account changed; please log in again."),
}


def safe_staff_next(text: str | None) -> str:
    """Only staff pages of this site (no open redirects)."""
    if not text or not text.startswith("/staff") or "//" in text or "\\" in text or any(
            ord(character) < 32 for character in text):
        return "/staff/"
    return text[:1000]


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name) or "")[:LONGEST_FIELD] for name in form.keys()}


async def _login_page(request: Request, *, status_code: int = 200, error: str = "", username: str = "",
                      next_path: str = "/staff/", notice: str = "") -> Template:
    return await staff_page(request, "staff/login.html", None, status_code=status_code, error=error,
                            username=username, next_path=next_path, notice=notice,
                            login_branches=await branch_choices(request, None))


async def _lapse_notice(request: Request) -> str:
    token = request.cookies.get(STAFF_SESSION_COOKIE)
    if not token:
        return ""
    async with request.app.state.pools.staff.connection() as connection:
        reason = await end_lapsed_session(connection, token, utc_now())
    if reason in _LAPSE_NOTICES:
        return bilingual(request_language(request))(*_LAPSE_NOTICES[reason])
    return ""


async def _dashboard_figures(request: Request, staff: StaffSession) -> dict[str, int]:
    """Today's figures at the desk's branch: counts only, no personal data (the stats role sees them too)."""
    today = library_today()
    async with request.app.state.pools.staff.connection() as connection:
        row = await (await connection.execute(
            """WITH here AS (SELECT id FROM service_point WHERE code = %(branch)s)
               SELECT (SELECT count(*) FROM loan WHERE service_point_id = (SELECT id FROM here)
                         AND checked_out_at >= %(start)s AND checked_out_at < %(end)s),
                      (SELECT count(*) FROM loan WHERE return_service_point_id = (SELECT id FROM here)
                         AND returned_at >= %(start)s AND returned_at < %(end)s),
                      (SELECT count(*) FROM hold WHERE pickup_service_point_id = (SELECT id FROM here)
                         AND status = 'ready'),
                      (SELECT count(*) FROM transit WHERE to_service_point_id = (SELECT id FROM here)
                         AND received_at IS NULL),
                      (SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id
                         WHERE i.service_point_id = (SELECT id FROM here) AND l.returned_at IS NULL
                           AND l.due_on < %(today)s)""",
            {"branch": staff.working_branch, "today": today,
             "start": dt.datetime.combine(today, dt.time(), tzinfo=LIBRARY_TIME_ZONE),
             "end": dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=LIBRARY_TIME_ZONE)})).fetchone()
    return {"loans_today": row[0], "returns_today": row[1], "holds_ready": row[2], "transit_incoming": row[3],
            "overdue": row[4]}


@get(["/staff", "/staff/"], include_in_schema=False)
async def staff_home(request: Request) -> Template:
    staff = await current_staff_session(request)
    if staff is None:
        return await _login_page(request, notice=await _lapse_notice(request))
    return await staff_page(request, "staff/home.html", staff, figures=await _dashboard_figures(request, staff),
                            today=library_today(), idle_minutes=staff_idle_minutes())


@get("/staff/login", include_in_schema=False)
async def staff_login_form(request: Request) -> Template | Redirect:
    next_path = safe_staff_next(request.query_params.get("next"))
    if await current_staff_session(request) is not None:
        return Redirect(path=next_path, status_code=303)
    return await _login_page(request, next_path=next_path, notice=await _lapse_notice(request))


@post("/staff/login", include_in_schema=False)
async def staff_login(request: Request) -> Template | Redirect:
    tr = bilingual(request_language(request))
    fields = await _form(request)
    username, password = fields.get("username", "").strip(), fields.get("password", "")
    next_path = safe_staff_next(fields.get("next"))
    if not username or not password:
        return await _login_page(request, status_code=400, username=username, next_path=next_path,
                                 error=tr("職員IDとパスワードを入力してください。", "Enter your user name and password."))
    now = utc_now()
    address = client_address(request)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            principal = await authenticate_staff(connection, username=username, password=password, now=now,
                                                 source_address=address, allowed_roles=WEB_LOGIN_ROLES)
    except ShokaError as refusal:
        text = tr("職員IDまたはパスワードが違います。", "User name or password is wrong.")
        if refusal.code == "account_locked":
            text = tr("ログインに続けて失敗したため、このアカウントはロックされています。管理者に解除を依頼してください。",
                      "This account is locked after repeated failed logins; ask an administrator to unlock it.")
        return await _login_page(request, status_code=int(refusal.status_code), error=text, username=username,
                                 next_path=next_path)
    choices = [code for code, _name in await branch_choices(request, None) if principal.may_work_at(code)]
    if not choices:
        return await _login_page(request, status_code=403, username=username, next_path=next_path,
                                 error=tr("このアカウントが業務できる館がありません。", "This account has no branch to work at."))
    branch = fields.get("branch") if fields.get("branch") in choices else choices[0]
    async with request.app.state.pools.staff.connection() as connection:
        token = await start_staff_session(connection, principal, working_branch=branch, source_address=address,
                                          now=now)
    response = Redirect(path=next_path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(STAFF_SESSION_COOKIE, token, path=STAFF_COOKIE_PATH, httponly=True, samesite="strict",
                        secure=cookies_must_be_secure(request))
    return response


@post("/staff/logout", include_in_schema=False)
async def staff_logout(request: Request) -> Redirect:
    staff = await current_staff_session(request)
    if staff is not None:
        async with request.app.state.pools.staff.connection() as connection:
            async with connection.transaction(), connection.cursor() as cursor:
                await end_staff_session(connection, staff.token_hash, utc_now(), "logout")
                await record_operation(cursor, staff_actor(request, staff), "staff.logout", "staff_account",
                                       staff.principal.staff_id)
    response = Redirect(path="/staff/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(STAFF_SESSION_COOKIE, path=STAFF_COOKIE_PATH)
    return response


@post("/staff/branch", guards=[staff_area(WEB_LOGIN_ROLES)], dependencies=STAFF_SESSION, include_in_schema=False)
async def staff_change_branch(request: Request, staff: StaffSession) -> Redirect:
    fields = await _form(request)
    branch = fields.get("branch", "")
    if branch not in dict(await branch_choices(request, staff)):
        raise Forbidden(f"このアカウントは {branch} では業務できません。/ This account may not work at {branch}.",
                        code="branch_not_allowed")
    require_branch(staff, branch)
    async with request.app.state.pools.staff.connection() as connection:
        await change_working_branch(connection, staff.token_hash, branch)
    return Redirect(path=safe_staff_next(fields.get("next")), status_code=303)


HOME_ROUTES = [staff_home, staff_login_form, staff_login, staff_logout, staff_change_branch]
