"""Short-lived bearer tokens for the staff API (JWT, HS256).

The signing key lives in the database (service_secret), made once, so that every worker process and every
machine of one installation accepts the same tokens. Tokens live ACCESS_TOKEN_LIFETIME; a role change or a
disabled account takes effect at the latest when the token expires.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import jwt
from psycopg import AsyncConnection

from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.errors import NotAuthenticated

ACCESS_TOKEN_LIFETIME = dt.timedelta(minutes=30)
_ALGORITHM = "HS256"
_ISSUER = "shoka"
# A desk sends the same token with every scan: a token verified once is remembered until it expires, so that
# the signature and claims are checked once per token instead of once per request. Bounded, because any
# client can send tokens; when full it is emptied (tokens are short-lived, the next requests refill it).
VERIFIED_TOKENS_KEPT = 4096


async def load_signing_key(connection: AsyncConnection) -> bytes:
    async with connection.transaction():
        await connection.execute(
            "INSERT INTO service_secret (name, value) VALUES ('token_signing_key', %s) ON CONFLICT (name) DO NOTHING",
            [secrets.token_bytes(32)])
        row = await (await connection.execute(
            "SELECT value FROM service_secret WHERE name = 'token_signing_key'")).fetchone()
    return bytes(row[0])


class TokenService:
    def __init__(self, signing_key: bytes) -> None:
        self._signing_key = signing_key
        self._verified: dict[str, tuple[StaffPrincipal, int]] = {}  # token -> (principal, its expiry in epoch seconds)

    def issue(self, principal: StaffPrincipal, now: dt.datetime) -> str:
        claims = {
            "iss": _ISSUER,
            "sub": principal.username,
            "sid": principal.staff_id,
            "role": principal.role.value,
            "branches": list(principal.branch_codes),
            "iat": int(now.timestamp()),
            "exp": int((now + ACCESS_TOKEN_LIFETIME).timestamp()),
        }
        return jwt.encode(claims, self._signing_key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> StaffPrincipal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires = remembered
            if time.time() < expires:  # PyJWT's own rule: expired once now >= exp
                return principal
            del self._verified[token]
        try:
            claims = jwt.decode(token, self._signing_key, algorithms=[_ALGORITHM], issuer=_ISSUER,
                                options={"require": ["exp", "iat", "sub", "sid", "role"]})
            principal = StaffPrincipal(staff_id=int(claims["sid"]), username=str(claims["sub"]),
                                       role=StaffRole(claims["role"]), branch_codes=tuple(claims.get("branches", ())))
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("token expired; log in again", code="token_expired") from None
        except (jwt.InvalidTokenError, ValueError, KeyError):
            raise NotAuthenticated("token is not valid", code="invalid_token") from None
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, int(claims["exp"]))
        return principal
