"""GET/POST /staff/password: any logged-in staff member changes their own password (the current one, then the
new one twice). The rules and the logging are in shoka.auth.staff_password_change; the account's other
sessions end, this one goes on.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.auth.roles import WEB_LOGIN_ROLES
from shoka.auth.staff_password_change import change_own_password
from shoka.auth.staff_password_rules import STAFF_PASSWORD_RULES
from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import bilingual, staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language


async def _password_form(request: Request, staff: StaffSession, *, error: str = "", notice: str = "",
                         status_code: int = 200) -> Template:
    return await staff_page(request, "staff/account_password.html", staff, status_code=status_code, error=error,
                            notice=notice, password_rules=STAFF_PASSWORD_RULES)


@get("/staff/password", guards=[staff_area(WEB_LOGIN_ROLES)], dependencies=STAFF_SESSION, include_in_schema=False)
async def own_password_form(request: Request, staff: StaffSession) -> Template:
    notice = ""
    if request.query_params.get("done") == "changed":
        notice = bilingual(request_language(request))(
            "パスワードを変更しました。ほかの端末でのログインは終了しました。",
            "Your password has been changed; your other sessions have been ended.")
    return await _password_form(request, staff, notice=notice)


@post("/staff/password", guards=[staff_area(WEB_LOGIN_ROLES)], dependencies=STAFF_SESSION, include_in_schema=False)
async def change_own_password_from_form(request: Request, staff: StaffSession) -> Template | Redirect:
    form = await request.form()
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await change_own_password(
                connection, staff_id=staff.principal.staff_id, session_token_hash=staff.token_hash,
                current_password=str(form.get("current_password") or ""),
                new_password=str(form.get("new_password") or ""),
                new_password_again=str(form.get("new_password_again") or ""),
                actor=staff_actor(request, staff), now=utc_now())
    except ShokaError as refusal:
        return await _password_form(request, staff, error=refusal.message, status_code=int(refusal.status_code))
    return Redirect(path="/staff/password?done=changed", status_code=303)


PASSWORD_ROUTES = [own_password_form, change_own_password_from_form]
