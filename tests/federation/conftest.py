"""Peers for federated-search tests, all real: yaz-ztest (YAZ's SRU test server, canned MARC records for
any query), a second Shoka server on a database of its own, a TCP server that accepts and never answers, one
that answers HTTP with something that is not SRU, and a port nobody listens on."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time

import psycopg
import pytest

from shoka.audit import Actor
from shoka.catalogue.imports import import_marc_files
from tests.conftest import RunningServer, create_database_from_template, free_port

IMPORTED_AT = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
BOOK = "これからの本の話をしよう"
BOOK_ISBN = "9784794970756"


def load_ndl_records_with_a_copy(database_url: str, shared_data, service_point: tuple[str, str, str],
                                 barcode: str) -> None:
    """The NDL sample, one service point, and one copy on the shelf of BOOK there."""
    import_marc_files(database_url, [shared_data / "marc" / "ndl_japanmarc_133.mrc"], dry_run=False,
                      skip_rejects=False, actor=Actor(kind="cli", name="test"), now=IMPORTED_AT)
    with psycopg.connect(database_url, autocommit=True) as connection:
        point = connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) VALUES (%s, %s, %s, "
                                   "'central') RETURNING id", list(service_point)).fetchone()[0]
        bib = connection.execute("SELECT min(id) FROM bib WHERE title = %s", [BOOK]).fetchone()[0]
        item = connection.execute("INSERT INTO item (barcode, bib_id, service_point_id, material_type) "
                                  "VALUES (%s, %s, %s, 'book') RETURNING id", [barcode, bib, point]).fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('item', %s)", [item])


def wait_for_port(port: int, timeout_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def local_library(module_database_url, shared_data, request):
    load_ndl_records_with_a_copy(module_database_url, shared_data, ("central", "中央図書館", "Central Library"),
                                 "LOCAL-0001")
    return request.getfixturevalue("server")


@pytest.fixture(scope="module")
def shoka_peer(postgres_maintenance_url, template_database_url, shared_data, tmp_path_factory):
    database_url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_peer")
    load_ndl_records_with_a_copy(database_url, shared_data, ("main", "隣町図書館", "Neighbour Town Library"),
                                 "PEER-0001")
    running = RunningServer(database_url, tmp_path_factory.mktemp("peer-home"), workers=1)
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def yaz_ztest_url():
    if shutil.which("yaz-ztest") is None:
        pytest.skip("yaz-ztest is not installed (Debian package yaz; .ci/run installs it)")
    port = free_port()
    process = subprocess.Popen(["yaz-ztest", f"tcp:127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/Default"
    finally:
        process.terminate()
        process.wait(timeout=10)


class SilentServer:
    """Accepts TCP connections, reads nothing, answers nothing: a peer that hangs."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture(scope="module")
def silent_peer_url():
    server = SilentServer()
    try:
        yield f"http://127.0.0.1:{server.port}/sru"
    finally:
        server.close()


class _NotSruHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body = b"<html><body>Maintenance</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments) -> None:
        pass


@pytest.fixture(scope="module")
def not_sru_peer_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSruHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sru"
    finally:
        server.shutdown()
        server.server_close()
