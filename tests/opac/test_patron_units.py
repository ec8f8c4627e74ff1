"""Patron sessions and legacy password hashes, without a server: expiry, tampering, kiosk idle time."""

from __future__ import annotations

import datetime as dt
import hashlib

import msgspec

from shoka.patrons.authentication import normalise_card
from shoka.patrons.legacy_passwords import verify_legacy_password
from shoka.patrons.sessions import ABSOLUTE_LIFETIME, SessionCodec, new_session

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)
KEY = b"k" * 32


def session(kiosk: bool = False):
    return new_session(patron_id=7, card="1000007", home_branch="central", kiosk=kiosk, credential_version=1.5, now=NOW)


def test_a_session_round_trips_while_active():
    codec = SessionCodec(KEY)
    original = session()
    lookup = codec.decode(codec.encode(original), NOW + dt.timedelta(minutes=19))
    assert lookup.session == original and not lookup.expired


def test_idle_and_absolute_expiry():
    codec = SessionCodec(KEY)
    token = codec.encode(session())
    assert codec.decode(token, NOW + dt.timedelta(minutes=21)).expired
    kiosk_token = codec.encode(session(kiosk=True))
    assert codec.decode(kiosk_token, NOW + dt.timedelta(minutes=2)).session is not None
    assert codec.decode(kiosk_token, NOW + dt.timedelta(minutes=4)).expired
    kept_alive = msgspec.structs.replace(session(), last_seen=int((NOW + ABSOLUTE_LIFETIME).timestamp()))
    assert codec.decode(codec.encode(kept_alive), NOW + ABSOLUTE_LIFETIME + dt.timedelta(minutes=1)).expired


def test_another_key_or_a_changed_token_is_nobody():
    token = SessionCodec(KEY).encode(session())
    assert SessionCodec(b"x" * 32).decode(token, NOW).session is None
    assert SessionCodec(KEY).decode(token[:-2] + "AA", NOW).session is None
    assert SessionCodec(KEY).decode("not-a-token", NOW).session is None


def test_notices_expire():
    codec = SessionCodec(KEY)
    token = codec.sign_notice("予約しました", NOW)
    assert codec.read_notice(token, NOW + dt.timedelta(seconds=60)) == "予約しました"
    assert codec.read_notice(token, NOW + dt.timedelta(seconds=300)) is None
    assert codec.read_notice(codec.encode(session()), NOW) is None, "a session is not a notice"


def test_legacy_hashes_plain_and_salted():
    assert verify_legacy_password("legacy_md5", hashlib.md5(b"secret-1").hexdigest().upper(), "secret-1")
    assert verify_legacy_password("legacy_sha1", "ab$" + hashlib.sha1(b"absecret-1").hexdigest(), "secret-1")
    assert verify_legacy_password("legacy_sha256", hashlib.sha256("パスワード".encode()).hexdigest(), "パスワード")
    assert not verify_legacy_password("legacy_sha256", hashlib.sha256(b"secret-1").hexdigest(), "secret-2")
    assert not verify_legacy_password("argon2id", "whatever", "secret-1")


def test_cards_are_normalised_as_typed():
    assert normalise_card(" １０００ ０１２ ") == "1000012"
