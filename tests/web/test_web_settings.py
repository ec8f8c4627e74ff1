"""Web settings from the environment, the client address behind trusted proxies, and kiosk addresses."""

from __future__ import annotations

import pytest
from litestar.testing import RequestFactory

from shoka.config import ConfigurationError
from shoka.web.web_settings import (address_is_kiosk, client_address, parse_web_settings, request_is_https)


def test_defaults_are_safe():
    settings = parse_web_settings({})
    assert settings.secure_cookies is False and settings.trusted_proxies == () and settings.kiosk_addresses == ()
    assert settings.session_idle_minutes == 20


@pytest.mark.parametrize("environment,variable", [
    ({"SHOKA_SECURE_COOKIES": "maybe"}, "SHOKA_SECURE_COOKIES"),
    ({"SHOKA_TRUSTED_PROXIES": "10.0.0.1, not-an-address"}, "SHOKA_TRUSTED_PROXIES"),
    ({"SHOKA_KIOSK_ADDRESSES": "192.168.1.0/33"}, "SHOKA_KIOSK_ADDRESSES"),
    ({"SHOKA_OPAC_SESSION_MINUTES": "1"}, "SHOKA_OPAC_SESSION_MINUTES"),
    ({"SHOKA_OPAC_SESSION_MINUTES": "ten"}, "SHOKA_OPAC_SESSION_MINUTES"),
])
def test_malformed_settings_name_the_variable(environment, variable):
    with pytest.raises(ConfigurationError, match=variable):
        parse_web_settings(environment)


def request(peer: str, headers: dict[str, str] | None = None, scheme: str = "http"):
    built = RequestFactory(server="library.example", scheme=scheme).get("/", headers=headers or {})
    built.scope["client"] = (peer, 50000)
    return built


def test_client_address_believes_forwarded_for_only_from_trusted_proxies():
    settings = parse_web_settings({"SHOKA_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    forwarded = {"x-forwarded-for": "203.0.113.9, 10.0.0.7"}
    assert client_address(request("10.0.0.2", forwarded), settings) == "203.0.113.9"
    assert client_address(request("198.51.100.1", forwarded), settings) == "198.51.100.1"
    assert client_address(request("10.0.0.2", {"x-forwarded-for": "garbage"}), settings) == "10.0.0.2"
    assert client_address(request("10.0.0.2"), settings) == "10.0.0.2"
    spoofed = {"x-forwarded-for": "192.0.2.99, 203.0.113.9"}  # the client put its own header first
    assert client_address(request("10.0.0.2", spoofed), settings) == "203.0.113.9"


def test_https_is_known_from_the_scheme_or_a_trusted_proxy():
    settings = parse_web_settings({"SHOKA_TRUSTED_PROXIES": "10.0.0.1"})
    assert request_is_https(request("10.0.0.1", {"x-forwarded-proto": "https"}), settings)
    assert not request_is_https(request("198.51.100.1", {"x-forwarded-proto": "https"}), settings)
    assert request_is_https(request("198.51.100.1", scheme="https"), settings)


def test_kiosk_addresses_are_networks():
    settings = parse_web_settings({"SHOKA_KIOSK_ADDRESSES": "192.0.2.0/28; 2001:db8::5"})
    assert address_is_kiosk("192.0.2.14", settings) and address_is_kiosk("2001:db8::5", settings)
    assert not address_is_kiosk("192.0.2.16", settings) and not address_is_kiosk("", settings)
