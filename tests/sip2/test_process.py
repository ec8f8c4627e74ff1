"""The SIP2 server as a process of `shoka serve`: restarted after a crash, with TLS when configured."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from shoka.sip2.framing import checksum
from tests.conftest import RunningServer
from tests.sip2.conftest import TERMINAL, make_terminal_account


def children(parent_pid: int, module: str) -> list[int]:
    """Pids of the `python -m MODULE` children of a process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == parent_pid and module.encode() in arguments:
            found.append(int(entry.name))
    return found


def sip2_servers(serve_pid: int) -> list[int]:
    """The SIP2 server processes of a `shoka serve`: children of its SIP2 supervisor."""
    return [server for supervisor in children(serve_pid, "shoka.sip2.supervisor")
            for server in children(supervisor, "shoka.sip2")]


def wait_for(condition, timeout_seconds: float = 60.0):
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_seconds} s")


def login_answer(address, password: str, tls: ssl.SSLContext | None = None) -> bytes:
    body = f"9300CN{TERMINAL}|CO{password}|CPcentral|AY0AZ".encode()
    with socket.create_connection(address, timeout=10) as plain:
        connection = tls.wrap_socket(plain, server_hostname="localhost") if tls else plain
        connection.sendall(body + checksum(body).encode() + b"\r")
        answer = b""
        while not answer.endswith(b"\r"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


def test_every_server_process_runs_on_uvloop(sip2_library):
    """The two HTTP workers and the SIP2 server run on the loop shoka.event_loop names, whatever else is installed
    (the load tests measure that loop); each says which in the line it logs once started."""
    def started() -> list[tuple[str, str | None]]:
        lines = [json.loads(line) for line in sip2_library.server.log_path.read_text().splitlines()
                 if line.startswith("{")]
        return [(line["message"], line.get("event_loop")) for line in lines
                if line["message"] in ("service ready", "sip2 listening")]

    wait_for(lambda: len(started()) >= 3)
    assert sorted(started()) == [("service ready", "uvloop")] * 2 + [("sip2 listening", "uvloop")]


def test_a_crashed_sip2_server_is_restarted(sip2_library):
    server = sip2_library.server
    (first,) = wait_for(lambda: sip2_servers(server.process.pid))
    os.kill(first, signal.SIGKILL)
    (second,) = wait_for(lambda: [pid for pid in sip2_servers(server.process.pid) if pid != first])
    assert second != first

    def answers() -> bytes:
        try:
            return login_answer(server.sip2_address, sip2_library.terminal_passwords[TERMINAL])
        except OSError:
            return b""

    assert wait_for(answers).startswith(b"941")
    assert "sip2 server exited unexpectedly; restarting" in server.log_path.read_text()


@pytest.fixture(scope="module")
def tls_server(postgres_maintenance_url, template_database_url, tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    from tests.conftest import create_database_from_template

    home = tmp_path_factory.mktemp("sip2-tls-home")
    certificate, key = home / "sip2.crt", home / "sip2.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_sip2_tls")
    with psycopg.connect(url) as connection:
        connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) "
                           "VALUES ('central', '中央図書館', 'Central Library', 'central')")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOKA_SIP2_TLS_CERT", str(certificate))
        patch.setenv("SHOKA_SIP2_TLS_KEY", str(key))
        server = RunningServer(url, home, workers=1, sip2=True)
    try:
        server.wait_until_healthy()
        yield server, certificate
    finally:
        server.stop()


def test_tls_when_a_certificate_is_configured(tls_server):
    server, certificate = tls_server
    password = make_terminal_account(server, TERMINAL, "central")
    trusted = ssl.create_default_context(cafile=str(certificate))
    assert login_answer(server.sip2_address, password, tls=trusted).startswith(b"941")
    # Plain text to the TLS port gets no SIP2 answer.
    with socket.create_connection(server.sip2_address, timeout=10) as plain:
        plain.sendall(b"9900302.00\r")
        try:
            assert not plain.recv(4096).startswith(b"98")
        except (ConnectionError, socket.timeout):
            pass
