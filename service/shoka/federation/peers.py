"""Federated-search peers (table federation_peer): what a peer is, the checks a new one must pass, and
reading the enabled ones for a search.

The server reads the table on every federated search, so `shoka peers add|remove` take effect at once in a
running server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from shoka.errors import InvalidRequest


class PeerProtocol(Enum):
    SRU = "sru"
    SHOKA = "shoka"


# The database's own limits (migration 0001): a peer must answer within the 3-second promise.
SHORTEST_TIMEOUT_MS = 100
LONGEST_TIMEOUT_MS = 2900
DEFAULT_TIMEOUT_MS = 2500
_PEER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    protocol: PeerProtocol
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    is_enabled: bool = True


class InvalidPeer(InvalidRequest):
    code = "invalid_peer"


def check_peer_name(name: str) -> str:
    if not _PEER_NAME.match(name):
        raise InvalidPeer(f"peer name {name!r} must be 1–64 letters, digits, '.', '_' or '-', starting with a "
                          "letter or digit")
    return name


def check_peer_url(url: str) -> str:
    """An absolute http(s) URL with a host, without credentials or a fragment; returned without a trailing '/'."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise InvalidPeer(f"peer URL {url!r} is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidPeer(f"peer URL {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise InvalidPeer(f"peer URL {url!r} has no host name")
    if parts.username is not None or parts.password is not None:
        raise InvalidPeer(f"peer URL {url!r} must not contain a user name or password")
    if parts.fragment:
        raise InvalidPeer(f"peer URL {url!r} must not have a #fragment")
    if port == 0:
        raise InvalidPeer(f"peer URL {url!r} has port 0")
    return url.rstrip("/") if not parts.query else url


def check_peer_protocol(protocol: str | None) -> PeerProtocol:
    if protocol is None:
        raise InvalidPeer("say which protocol the peer speaks: --protocol sru or --protocol shoka")
    try:
        return PeerProtocol(protocol.lower())
    except ValueError:
        raise InvalidPeer(f"unknown protocol {protocol!r}: use sru (an SRU 1.2 server) or shoka (another Shoka)") \
            from None


def check_timeout_ms(timeout_ms: int) -> int:
    if not SHORTEST_TIMEOUT_MS <= timeout_ms <= LONGEST_TIMEOUT_MS:
        raise InvalidPeer(f"timeout {timeout_ms} ms is outside {SHORTEST_TIMEOUT_MS}–{LONGEST_TIMEOUT_MS} ms "
                          "(federated answers must come within 3 s)")
    return timeout_ms


def new_peer(name: str, url: str, protocol: str | None, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Peer:
    """A peer from operator input; raises `InvalidPeer` with a one-line reason."""
    return Peer(name=check_peer_name(name), url=check_peer_url(url), protocol=check_peer_protocol(protocol),
                timeout_ms=check_timeout_ms(timeout_ms))


async def enabled_peers(pool) -> list[Peer]:
    async with pool.connection() as connection:
        rows = await (await connection.execute(
            "SELECT name, url, protocol, timeout_ms FROM federation_peer WHERE is_enabled ORDER BY name")).fetchall()
    return [Peer(name, url, PeerProtocol(protocol), timeout_ms) for name, url, protocol, timeout_ms in rows]
