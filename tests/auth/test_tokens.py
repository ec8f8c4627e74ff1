"""The token service: a verified token is remembered until it expires, never longer, and a bad one never."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from shoka.auth import tokens
from shoka.auth.roles import StaffRole
from shoka.auth.staff_accounts import StaffPrincipal
from shoka.auth.tokens import TokenService
from shoka.errors import NotAuthenticated

KEY = b"k" * 32
CLERK = StaffPrincipal(staff_id=7, username="counter1", role=StaffRole.COUNTER, branch_codes=("central",))


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    service = TokenService(KEY)
    issued_at = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.timezone.utc)
    token = service.issue(CLERK, issued_at)
    expires = (issued_at + tokens.ACCESS_TOKEN_LIFETIME).timestamp()

    monkeypatch.setattr(tokens.time, "time", lambda: expires - 1)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(expires - 1))
    assert service.verify(token) == CLERK
    assert service.verify(token) == CLERK  # from memory this time

    monkeypatch.setattr(tokens.time, "time", lambda: expires)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(expires))
    with pytest.raises(NotAuthenticated) as refused:
        service.verify(token)
    assert refused.value.code == "token_expired"


def test_a_token_that_fails_verification_is_not_remembered():
    service = TokenService(KEY)
    forged = TokenService(b"x" * 32).issue(CLERK, dt.datetime.now(dt.timezone.utc))
    for _ in range(2):
        with pytest.raises(NotAuthenticated) as refused:
            service.verify(forged)
        assert refused.value.code == "invalid_token"


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 3)
    service = TokenService(KEY)
    now = dt.datetime.now(dt.timezone.utc)
    for minute in range(10):
        assert service.verify(service.issue(CLERK, now - dt.timedelta(minutes=minute))) == CLERK
        assert len(service._verified) <= 3


class _FrozenDatetime:
    """Stands in for the datetime class PyJWT reads the clock from."""

    def __init__(self, epoch_seconds: float) -> None:
        self._now = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.timezone.utc)

    def now(self, tz=None):
        return self._now

    def __getattr__(self, name):
        return getattr(dt.datetime, name)
