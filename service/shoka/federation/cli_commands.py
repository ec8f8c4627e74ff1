"""`shoka peers add|remove|list`: managing federated-search targets from the command line.

Each change is written with its operation-log entry in one transaction. Failures raise `InvalidPeer` (a
`ShokaError`), which `shoka` prints as one line on stderr with a non-zero exit status.
"""

from __future__ import annotations

import argparse

import psycopg

from shoka.audit import record_operation_sync
from shoka.config import Settings
from shoka.db.server import resolve_database_url
from shoka.federation.peers import DEFAULT_TIMEOUT_MS, InvalidPeer, Peer, PeerProtocol, check_peer_name, new_peer

PEER_ENTITY = "federation_peer"


def _actor():
    # Imported here: shoka.cli imports this module while it is being built.
    from shoka.cli import cli_actor

    return cli_actor()


def command_peers_add(settings: Settings, arguments: argparse.Namespace) -> None:
    peer = new_peer(arguments.name, arguments.url, arguments.protocol, arguments.timeout_ms)
    with psycopg.connect(resolve_database_url(settings)) as connection, connection.cursor() as cursor:
        try:
            cursor.execute("INSERT INTO federation_peer (name, url, protocol, timeout_ms, is_enabled) "
                           "VALUES (%s, %s, %s, %s, %s)",
                           [peer.name, peer.url, peer.protocol.value, peer.timeout_ms, not arguments.disabled])
        except psycopg.errors.UniqueViolation:
            raise InvalidPeer(f"a peer named {peer.name!r} already exists (remove it first, or choose another name)") \
                from None
        record_operation_sync(cursor, _actor(), "peer.add", PEER_ENTITY, peer.name,
                              {"url": peer.url, "protocol": peer.protocol.value, "timeout_ms": peer.timeout_ms,
                               "enabled": not arguments.disabled})
    state = "disabled" if arguments.disabled else "enabled"
    print(f"peer {peer.name} added ({peer.protocol.value}, {peer.url}, timeout {peer.timeout_ms} ms, {state})")


def command_peers_remove(settings: Settings, arguments: argparse.Namespace) -> None:
    name = check_peer_name(arguments.name)
    with psycopg.connect(resolve_database_url(settings)) as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM federation_peer WHERE name = %s RETURNING url, protocol", [name])
        removed = cursor.fetchone()
        if removed is None:
            raise InvalidPeer(f"no peer named {name!r} (see `shoka peers list`)")
        record_operation_sync(cursor, _actor(), "peer.remove", PEER_ENTITY, name,
                              {"url": removed[0], "protocol": removed[1]})
    print(f"peer {name} removed")


def _peer_rows(settings: Settings) -> list[Peer]:
    with psycopg.connect(resolve_database_url(settings)) as connection:
        rows = connection.execute(
            "SELECT name, url, protocol, timeout_ms, is_enabled FROM federation_peer ORDER BY name").fetchall()
    return [Peer(name, url, PeerProtocol(protocol), timeout_ms, enabled)
            for name, url, protocol, timeout_ms, enabled in rows]


def format_peer_table(peers: list[Peer]) -> str:
    header = ("NAME", "PROTOCOL", "TIMEOUT", "ENABLED", "URL")
    rows = [(peer.name, peer.protocol.value, f"{peer.timeout_ms} ms", "yes" if peer.is_enabled else "no", peer.url)
            for peer in peers]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]])
                     for row in [header, *rows])


def command_peers_list(settings: Settings, _arguments: argparse.Namespace) -> None:
    peers = _peer_rows(settings)
    if not peers:
        print("no federated-search peers (add one with `shoka peers add NAME URL --protocol sru|shoka`)")
        return
    print(format_peer_table(peers))


def add_peer_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `peers` command group to the `shoka` parser."""
    peers = commands.add_parser("peers", help="federated-search targets (横断検索)").add_subparsers(
        dest="peers_command", required=True)
    add = peers.add_parser("add", help="add a peer: an SRU server or another Shoka")
    add.add_argument("name", help="a short name shown to users (letters, digits, . _ -)")
    add.add_argument("url", help="SRU base URL (e.g. http://host:210/db) or the Shoka server's root URL")
    add.add_argument("--protocol", metavar="sru|shoka", help="what the peer speaks")
    add.add_argument("--timeout-ms", type=int, default=DEFAULT_TIMEOUT_MS,
                     help=f"how long to wait for the peer (100–2900, default {DEFAULT_TIMEOUT_MS})")
    add.add_argument("--disabled", action="store_true", help="add it without searching it yet")
    add.set_defaults(handler=command_peers_add)
    remove = peers.add_parser("remove", help="remove a peer")
    remove.add_argument("name")
    remove.set_defaults(handler=command_peers_remove)
    peers.add_parser("list", help="list the peers").set_defaults(handler=command_peers_list)
