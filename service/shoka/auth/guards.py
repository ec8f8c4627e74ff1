"""Route guards: every staff route names the roles that may call it; the guard checks the bearer token.

A route declares `guards=[requires_roles(CIRCULATION_ROLES)]`; handlers then receive the principal through the
`staff` dependency. Anonymous requests get 401, other roles 403. The administrator passes every guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.errors import Forbidden, NotAuthenticated

_PRINCIPAL_KEY = "staff_principal"


def bearer_principal(connection: ASGIConnection) -> StaffPrincipal:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("staff login required: send Authorization: Bearer <token> from POST /api/v1/auth/token")
    return connection.app.state.tokens.verify(token.strip())


def requires_roles(roles: Iterable[StaffRole]) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    allowed = frozenset(roles) | {StaffRole.ADMIN}

    # async although it awaits nothing: Litestar hands a synchronous guard to a worker thread, which costs
    # more than checking a token does.
    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        principal = bearer_principal(connection)
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role.value!r} may not do this", code="role_not_allowed")
        connection.state[_PRINCIPAL_KEY] = principal

    return guard


def provide_staff(request: ASGIConnection) -> StaffPrincipal:
    """The dependency `staff`: the principal the route's guard has authenticated."""
    principal = request.state.get(_PRINCIPAL_KEY)
    if principal is None:  # a route that forgot its guard must fail closed
        raise NotAuthenticated("staff login required")
    return principal
