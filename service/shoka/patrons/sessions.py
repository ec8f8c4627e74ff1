"""The patron's web session: a signed cookie (JWT, HS256) that every worker and machine accepts.

The signing key lives in the database (service_secret 'patron_session_key'), made once, as the staff token key
does. The cookie is HttpOnly, SameSite=Lax and Secure behind TLS. A session ends after an idle time (20 minutes
by default, 3 minutes on a kiosk) and at the latest after ABSOLUTE_LIFETIME; every page a patron loads renews
its idle time. A password change ends every other session: the cookie names the credential version (the time
the password was last changed), and personal pages compare it with the database.
"""

from __future__ import annotations

import datetime as dt
import secrets

import jwt
import msgspec
from litestar import Request, Response
from litestar.datastructures import State

from shoka.web.web_settings import KIOSK_IDLE_SECONDS, cookies_must_be_secure, web_settings

SESSION_COOKIE = "shoka_session"
ABSOLUTE_LIFETIME = dt.timedelta(hours=12)
_ALGORITHM = "HS256"
_AUDIENCE = "shoka-opac"
_STATE_KEY = "patron_session"


class PatronSession(msgspec.Struct, frozen=True):
    """Who is logged in. Holds no personal data beyond the card number the patron typed."""

    patron_id: int
    card: str
    home_branch: str
    kiosk: bool
    credential_version: float
    session_id: str
    issued_at: int
    last_seen: int

    def idle_seconds(self) -> int:
        return KIOSK_IDLE_SECONDS if self.kiosk else web_settings().session_idle_minutes * 60


class SessionLookup(msgspec.Struct, frozen=True):
    """The result of reading the cookie: a live session, or none (and whether one has just expired)."""

    session: PatronSession | None
    expired: bool = False


class SessionCodec:
    def __init__(self, signing_key: bytes) -> None:
        self._signing_key = signing_key

    def encode(self, session: PatronSession) -> str:
        claims = {"aud": _AUDIENCE, "sub": str(session.patron_id), "card": session.card,
                  "home": session.home_branch, "kiosk": session.kiosk, "cv": session.credential_version,
                  "sid": session.session_id, "iat": session.issued_at, "last": session.last_seen}
        return jwt.encode(claims, self._signing_key, algorithm=_ALGORITHM)

    def decode(self, token: str, now: dt.datetime) -> SessionLookup:
        try:
            claims = jwt.decode(token, self._signing_key, algorithms=[_ALGORITHM], audience=_AUDIENCE,
                                options={"require": ["sub", "iat", "last", "sid"], "verify_iat": False})
            session = PatronSession(
                patron_id=int(claims["sub"]), card=str(claims["card"]), home_branch=str(claims.get("home", "")),
                kiosk=bool(claims.get("kiosk")), credential_version=float(claims.get("cv", 0)),
                session_id=str(claims["sid"]), issued_at=int(claims["iat"]), last_seen=int(claims["last"]))
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError):
            return SessionLookup(None)
        moment = int(now.timestamp())
        if moment - session.last_seen > session.idle_seconds():
            return SessionLookup(None, expired=True)
        if moment - session.issued_at > ABSOLUTE_LIFETIME.total_seconds():
            return SessionLookup(None, expired=True)
        return SessionLookup(session)


    def sign_notice(self, text: str, now: dt.datetime, lifetime_seconds: int = 120) -> str:
        """A short-lived signed message for the next page (see shoka.web.flash)."""
        moment = int(now.timestamp())
        return jwt.encode({"aud": "shoka-notice", "msg": text, "exp": moment + lifetime_seconds},
                          self._signing_key, algorithm=_ALGORITHM)

    def read_notice(self, token: str, now: dt.datetime) -> str | None:
        try:
            claims = jwt.decode(token, self._signing_key, algorithms=[_ALGORITHM], audience="shoka-notice",
                                options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return None
        if int(claims.get("exp", 0)) < now.timestamp() or not isinstance(claims.get("msg"), str):
            return None
        return claims["msg"]


def new_session(*, patron_id: int, card: str, home_branch: str, kiosk: bool, credential_version: float,
                now: dt.datetime) -> PatronSession:
    moment = int(now.timestamp())
    return PatronSession(patron_id=patron_id, card=card, home_branch=home_branch, kiosk=kiosk,
                         credential_version=credential_version, session_id=secrets.token_urlsafe(12),
                         issued_at=moment, last_seen=moment)


async def session_codec(state: State) -> SessionCodec:
    """The process's codec, its key loaded from (or first written to) the database on first use."""
    codec = state.get("patron_session_codec")
    if codec is None:
        async with state.pools.staff.connection() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO service_secret (name, value) VALUES ('patron_session_key', %s) "
                "ON CONFLICT (name) DO NOTHING", [secrets.token_bytes(32)])
            row = await (await connection.execute(
                "SELECT value FROM service_secret WHERE name = 'patron_session_key'")).fetchone()
        codec = SessionCodec(bytes(row[0]))
        state["patron_session_codec"] = codec
    return codec


async def read_session(request: Request, now: dt.datetime) -> SessionLookup:
    """The request's session from its cookie (cached for the request). Does not touch the database."""
    cached = request.state.get(_STATE_KEY)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    lookup = SessionLookup(None)
    if token:
        lookup = (await session_codec(request.app.state)).decode(token, now)
    request.state[_STATE_KEY] = lookup
    return lookup


def forget_session(request: Request) -> None:
    """Treat the rest of this request as anonymous (after logout, or when the database refuses the session)."""
    request.state[_STATE_KEY] = SessionLookup(None)


async def write_session_cookie(request: Request, response: Response, session: PatronSession,
                               now: dt.datetime) -> None:
    """Sets (or renews) the cookie; on a kiosk it is a browser-session cookie that is never stored."""
    renewed = msgspec.structs.replace(session, last_seen=int(now.timestamp()))
    token = (await session_codec(request.app.state)).encode(renewed)
    response.set_cookie(SESSION_COOKIE, token, max_age=None if session.kiosk else session.idle_seconds(),
                        httponly=True, samesite="lax", secure=cookies_must_be_secure(request), path="/")
    request.state[_STATE_KEY] = SessionLookup(renewed)


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    forget_session(request)
