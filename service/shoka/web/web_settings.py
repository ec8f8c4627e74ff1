"""Settings of the web pages (OPAC, patron sessions, kiosks), read once per process from the environment.

| variable | meaning | default |
|---|---|---|
| `SHOKA_SECURE_COOKIES` | `1`: cookies carry `Secure` (set it when a TLS reverse proxy fronts Shoka) | `0` |
| `SHOKA_TRUSTED_PROXIES` | reverse proxies (addresses/networks) whose X-Forwarded-For/-Proto are believed | empty |
| `SHOKA_KIOSK_ADDRESSES` | addresses/networks of in-library terminals, always in kiosk mode | empty |
| `SHOKA_OPAC_SESSION_MINUTES` | idle minutes after which a patron session ends (kiosks: 3 minutes) | `20` |

A request behind a trusted proxy that says `X-Forwarded-Proto: https` gets Secure cookies without the flag.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from dataclasses import dataclass

from litestar.connection import ASGIConnection

from shoka.config import ConfigurationError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
KIOSK_IDLE_SECONDS = 180
# Set by staff at /kiosk on an in-library terminal's browser; see shoka.opac.kiosk.
KIOSK_COOKIE = "shoka_kiosk"


@dataclass(frozen=True, slots=True)
class WebSettings:
    secure_cookies: bool = False
    trusted_proxies: tuple[IPNetwork, ...] = ()
    kiosk_addresses: tuple[IPNetwork, ...] = ()
    session_idle_minutes: int = 20


def _networks(variable: str, text: str) -> tuple[IPNetwork, ...]:
    networks = []
    for part in (piece.strip() for piece in text.replace(";", ",").split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigurationError(f"{variable}: {part!r} is not an IP address or network such as 10.1.2.0/24")
    return tuple(networks)


def parse_web_settings(environment: dict[str, str]) -> WebSettings:
    secure_text = environment.get("SHOKA_SECURE_COOKIES", "0").strip().lower()
    if secure_text not in ("0", "1", "true", "false", "yes", "no", ""):
        raise ConfigurationError(f"SHOKA_SECURE_COOKIES={secure_text!r}: expected 1 or 0")
    minutes_text = environment.get("SHOKA_OPAC_SESSION_MINUTES", "20").strip()
    if not minutes_text.isdigit() or not 3 <= int(minutes_text) <= 240:
        raise ConfigurationError(f"SHOKA_OPAC_SESSION_MINUTES={minutes_text!r}: expected minutes from 3 to 240")
    return WebSettings(
        secure_cookies=secure_text in ("1", "true", "yes"),
        trusted_proxies=_networks("SHOKA_TRUSTED_PROXIES", environment.get("SHOKA_TRUSTED_PROXIES", "")),
        kiosk_addresses=_networks("SHOKA_KIOSK_ADDRESSES", environment.get("SHOKA_KIOSK_ADDRESSES", "")),
        session_idle_minutes=int(minutes_text),
    )


@functools.cache
def web_settings() -> WebSettings:
    return parse_web_settings(dict(os.environ))


def _in(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_address(connection: ASGIConnection, settings: WebSettings | None = None) -> str:
    """The client's address: the peer, or behind trusted proxies the last untrusted X-Forwarded-For entry."""
    settings = settings or web_settings()
    peer = connection.client.host if connection.client else ""
    if not _in(peer, settings.trusted_proxies):
        return peer
    forwarded = [part.strip() for part in connection.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for candidate in reversed(forwarded):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return peer
        if not _in(candidate, settings.trusted_proxies):
            return candidate
    return peer


def request_is_https(connection: ASGIConnection, settings: WebSettings | None = None) -> bool:
    settings = settings or web_settings()
    if connection.url.scheme == "https":
        return True
    peer = connection.client.host if connection.client else ""
    return _in(peer, settings.trusted_proxies) and connection.headers.get("x-forwarded-proto", "") == "https"


def cookies_must_be_secure(connection: ASGIConnection) -> bool:
    settings = web_settings()
    return settings.secure_cookies or request_is_https(connection, settings)


def address_is_kiosk(address: str, settings: WebSettings | None = None) -> bool:
    return _in(address, (settings or web_settings()).kiosk_addresses)


def request_is_kiosk(connection: ASGIConnection) -> bool:
    """Kiosk mode: the terminal's address is configured as a kiosk, or staff turned its browser into one."""
    settings = web_settings()
    if connection.cookies.get(KIOSK_COOKIE) == "1":
        return True
    return bool(settings.kiosk_addresses) and address_is_kiosk(client_address(connection, settings), settings)
