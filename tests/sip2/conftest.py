"""One real `shoka serve` with its SIP2 server over the demo library, shared by the SIP2 tests, two terminal
accounts made with `shoka staff add` (a UTF-8 one and a Shift_JIS one), and a raw-socket terminal."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket

import pytest

from shoka.demo import load_demo_library
from shoka.sip2.framing import checksum
from tests.circulation.conftest import Library
from tests.conftest import RunningServer, create_database_from_template

TERMINAL = "kiosk-central-test"
SJIS_TERMINAL = "kiosk-sjis-test"
TERMINAL_BRANCH = "central"


class Sip2Library(Library):
    """The demo library behind a running server with SIP2, and the terminal accounts' passwords."""

    def __init__(self, server: RunningServer, credentials: dict, terminal_passwords: dict[str, str]) -> None:
        super().__init__(server, credentials)
        self.terminal_passwords = terminal_passwords

    def terminal(self, username: str = TERMINAL, *, location: str | None = TERMINAL_BRANCH,
                 charset: str = "utf-8") -> "RawTerminal":
        """A connected raw terminal, logged in."""
        terminal = RawTerminal(self.server.sip2_address, charset=charset)
        answer = terminal.login(username, self.terminal_passwords[username], location)
        assert answer.startswith("941"), answer
        return terminal

    def patron_with_password(self) -> tuple[str, str]:
        patron = self.credentials["patrons"][0]
        return patron["card"], patron["password"]


def make_terminal_account(server: RunningServer, username: str, branch: str) -> str:
    password = secrets.token_urlsafe(12)
    done = server.run_cli("staff", "add", username, "--role", "sip2", "--branch", branch, input_text=password + "\n")
    assert done.returncode == 0, done.stderr
    return password


@pytest.fixture(scope="package")
def sip2_library(postgres_maintenance_url, template_database_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("sip2-home")
    url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_sip2")
    load_demo_library(url, home, tier="demo", seed=2024, reference_date=dt.date.today(), show_progress=False)
    server = RunningServer(url, home, sip2=True)
    try:
        server.wait_until_healthy()
        passwords = {TERMINAL: make_terminal_account(server, TERMINAL, TERMINAL_BRANCH),
                     SJIS_TERMINAL: make_terminal_account(server, SJIS_TERMINAL, TERMINAL_BRANCH)}
        library = Sip2Library(server, json.loads((home / "demo-credentials.json").read_text()), passwords)
        library.query("UPDATE staff_account SET sip2_charset = 'cp932' WHERE username = %s RETURNING id",
                      SJIS_TERMINAL)
        yield library
    finally:
        server.stop()


def sip2_date(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now()).strftime("%Y%m%d    %H%M%S")


class RawTerminal:
    """A terminal speaking SIP2 over a plain socket: bytes in, bytes out, nothing hidden."""

    def __init__(self, address: tuple[str, int], charset: str = "utf-8", timeout: float = 30.0) -> None:
        self.socket = socket.create_connection(address, timeout=timeout)
        self.charset = charset
        self.sequence = 0
        self._buffer = b""

    def close(self) -> None:
        self.socket.close()

    def send_raw(self, data: bytes) -> bytes:
        """Sends bytes as they are and returns the next answer line, CR included."""
        self.socket.sendall(data)
        return self.read_line()

    def read_line(self) -> bytes:
        while b"\r" not in self._buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; unread {self._buffer!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r")
        return line + b"\r"

    def framed(self, text: str, *, with_checksum: bool = True, sequence: int | None = None) -> bytes:
        body = text.encode(self.charset)
        if not with_checksum:
            return body + b"\r"
        if sequence is None:
            sequence = self.sequence
            self.sequence = (self.sequence + 1) % 10
        body += f"AY{sequence}AZ".encode()
        return body + checksum(body).encode() + b"\r"

    def exchange(self, text: str, **framing) -> str:
        """Sends one message with error detection (by default) and returns the answer's text, trailer included."""
        return self.send_raw(self.framed(text, **framing)).decode(self.charset).rstrip("\r")

    def login(self, username: str, password: str, location: str | None = TERMINAL_BRANCH) -> str:
        return self.exchange(f"9300CN{username}|CO{password}|" + (f"CP{location}|" if location else ""))

    def checkout(self, card: str, barcode: str, moment: dt.datetime | None = None, **framing) -> str:
        return self.exchange(f"11YN{sip2_date(moment)}{' ' * 18}AO{TERMINAL_BRANCH}|AA{card}|AB{barcode}|AC|BON|BIN|",
                             **framing)

    def checkin(self, barcode: str, moment: dt.datetime | None = None) -> str:
        date = sip2_date(moment)
        return self.exchange(f"09N{date}{date}AP{TERMINAL_BRANCH}|AO{TERMINAL_BRANCH}|AB{barcode}|AC|")

    def renew(self, card: str, barcode: str) -> str:
        return self.exchange(f"29NN{sip2_date()}{' ' * 18}AO{TERMINAL_BRANCH}|AA{card}|AB{barcode}|AC|")

    def patron_information(self, card: str, summary: str = " " * 10, language: str = "014",
                           extra: str = "") -> str:
        return self.exchange(f"63{language}{sip2_date()}{summary:<10}AO{TERMINAL_BRANCH}|AA{card}|AC|{extra}")

    def item_information(self, barcode: str) -> str:
        return self.exchange(f"17{sip2_date()}AO{TERMINAL_BRANCH}|AB{barcode}|AC|")


def fields_of(answer: str, start: int) -> dict[str, list[str]]:
    """The variable fields of an answer whose fixed part ends at `start` (trailer dropped)."""
    body = answer.split("|AY")[0] if "|AY" in answer else answer
    fields: dict[str, list[str]] = {}
    for piece in body[start:].split("|"):
        if piece and not piece.startswith(("AY", "AZ")):
            fields.setdefault(piece[:2], []).append(piece[2:])
    return fields


def verify_trailer(answer_bytes: bytes) -> None:
    """The answer's checksum adds up over its bytes."""
    line = answer_bytes.rstrip(b"\r")
    assert line[-6:-4] == b"AZ", line
    assert line[-4:].decode() == checksum(line[:-4]), line
