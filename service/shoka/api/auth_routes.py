"""POST /api/v1/auth/token: staff log in with user name and password and get a short-lived bearer token."""

from __future__ import annotations

import msgspec
from litestar import Request, get, post
from litestar.di import Provide

from shoka.auth.guards import provide_staff, requires_roles
from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal, authenticate_staff
from shoka.auth.tokens import ACCESS_TOKEN_LIFETIME
from shoka.clock import utc_now


class TokenRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    username: str = msgspec.field()
    password: str = msgspec.field()


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str
    expires_in: int
    role: str


class StaffSelf(msgspec.Struct, frozen=True):
    username: str
    role: str
    branches: list[str]


@post("/api/v1/auth/token", status_code=200, tags=["auth"], summary="Staff login: a bearer token")
async def issue_token(request: Request, data: TokenRequest) -> TokenResponse:
    now = utc_now()
    async with request.app.state.pools.staff.connection() as connection:
        principal = await authenticate_staff(
            connection, username=data.username.strip().lower(), password=data.password, now=now,
            source_address=request.client.host if request.client else "")
    token = request.app.state.tokens.issue(principal, now)
    return TokenResponse(access_token=token, token_type="bearer",
                         expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()), role=principal.role.value)


@get("/api/v1/staff/me", tags=["auth"], summary="Who the bearer token belongs to",
     guards=[requires_roles(set(StaffRole))], dependencies={"staff": Provide(provide_staff, sync_to_thread=False)})
async def staff_self(staff: StaffPrincipal) -> StaffSelf:
    return StaffSelf(username=staff.username, role=staff.role.value, branches=list(staff.branch_codes))
