"""Who may open which staff page: the session guard of every /staff route, and the session as a dependency.

A staff route declares `guards=[staff_area(ROLES)]` and takes `staff: StaffSession`. Without a live session a
browser is sent to the login page (and back afterwards); a logged-in account of another role gets 403. The
administrator passes every guard, as on the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from shoka.audit import Actor
from shoka.auth.roles import StaffRole
from shoka.clock import utc_now
from shoka.errors import Forbidden, LoginRequired, NotAuthenticated
from shoka.staff.sessions import STAFF_SESSION_COOKIE, StaffSession, resolve_staff_session
from shoka.web.web_settings import client_address

_SESSION_KEY = "staff_session"


def staff_login_url(connection: ASGIConnection) -> str:
    here = connection.url.path + (f"?{connection.url.query}" if connection.url.query else "")
    return "/staff/login?" + urlencode({"next": here})


async def current_staff_session(connection: ASGIConnection) -> StaffSession | None:
    """The request's live staff session (looked up once per request), or None."""
    if _SESSION_KEY in connection.state:
        return connection.state[_SESSION_KEY]
    token = connection.cookies.get(STAFF_SESSION_COOKIE)
    session = None
    if token:
        async with connection.app.state.pools.staff.connection() as database:
            session = await resolve_staff_session(database, token, utc_now())
    connection.state[_SESSION_KEY] = session
    return session


def staff_area(roles: Iterable[StaffRole]) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    allowed = frozenset(roles) | {StaffRole.ADMIN}

    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        session = await current_staff_session(connection)
        if session is None:
            raise LoginRequired("職員ログインが必要です。/ Staff login required.",
                                login_url=staff_login_url(connection))
        if session.role not in allowed:
            raise Forbidden(f"この画面は権限（{session.role.value}）では利用できません。/ "
                            f"Your role ({session.role.value}) may not use this screen.", code="role_not_allowed")

    return guard


def provide_staff_session(request: Request) -> StaffSession:
    session = request.state.get(_SESSION_KEY)
    if session is None:  # a route that forgot its guard fails closed
        raise NotAuthenticated("staff login required")
    return session


STAFF_SESSION = {"staff": Provide(provide_staff_session, sync_to_thread=False)}


def staff_actor(request: Request, staff: StaffSession) -> Actor:
    """The operation log's actor for a staff page request: the account and the desk's address."""
    return msgspec.structs.replace(staff.principal.actor, source_address=client_address(request))


def require_branch(staff: StaffSession, branch_code: str) -> None:
    """Counter staff work only at their own branches (REQUIREMENTS §9)."""
    if not staff.principal.may_work_at(branch_code):
        raise Forbidden(f"このアカウントは {branch_code} では業務できません。/ "
                        f"This account may not work at {branch_code}.", code="branch_not_allowed")
