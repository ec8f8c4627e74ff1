"""A self-check kiosk's side of SIP2 2.00 over TCP (framing as in /work/shared/SIP2.md): one message per CR,
sequence digit and checksum on every message, answers checked for their code and ok flag.

The server answers a resend (same terminal, sequence digit, day and message text) from its store instead of
carrying it out again (shoka.sip2.session). A real kiosk never sends the same text twice within a second, but a
load-test kiosk sends a hundred messages a second and cycles through a few dozen copies: the checkin of one copy
could repeat, ten messages later, within the same second and with the same digit, and be answered from the store
without the copy being returned. So every checkout and checkin also carries CH (item properties, an optional field
the server keeps but does not act on) with a tag unique to the kiosk and message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import secrets


class Sip2Failure(Exception):
    """The answer was not a SIP2 answer to what was asked (wrong code, resend request, closed connection)."""


def checksum(data: bytes) -> str:
    """Two's complement of the 16-bit sum of every byte up to and including `AZ`, as 4 upper-case hex digits."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def frame(body: str, sequence: int) -> bytes:
    data = f"{body}AY{sequence}AZ".encode()
    return data + checksum(data).encode() + b"\r"


def sip2_date(moment: dt.datetime) -> str:
    """18 characters, YYYYMMDDZZZZHHMMSS with four spaces for local time."""
    return moment.strftime("%Y%m%d    %H%M%S")


def screen_message(answer: str) -> str:
    """The AF field of an answer (the reason a kiosk shows), or ''."""
    for field in answer.split("|"):
        if field.startswith("AF"):
            return field[2:]
    return ""


class Kiosk:
    def __init__(self, host: str, port: int, branch: str, timeout_seconds: float = 30.0) -> None:
        self.host, self.port, self.branch, self.timeout_seconds = host, port, branch, timeout_seconds
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._sequence = 0
        self._tag = f"loadtest-{secrets.token_hex(4)}"
        self._serial = itertools.count(1)

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._writer = None

    async def exchange(self, body: str, expected_code: str) -> str:
        """Send one message and return its answer (checksum trailer included); raises Sip2Failure, OSError or
        TimeoutError."""
        if self._writer is None:
            raise Sip2Failure("not connected")
        async with asyncio.timeout(self.timeout_seconds):
            self._writer.write(frame(body, self._sequence))
            self._sequence = (self._sequence + 1) % 10
            try:
                line = await self._reader.readuntil(b"\r")
            except asyncio.IncompleteReadError:
                raise Sip2Failure("connection closed by the server") from None
        answer = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
        if not answer.startswith(expected_code):
            raise Sip2Failure(f"expected {expected_code}, got {answer[:2] or 'nothing'}")
        return answer

    async def login(self, user: str, password: str) -> bool:
        return (await self.exchange(f"9300CN{user}|CO{password}|CP{self.branch}|", "94"))[2:3] == "1"

    async def patron_information(self, card: str, now: dt.datetime) -> str:
        return await self.exchange(f"63014{sip2_date(now)}{' ' * 10}AO{self.branch}|AA{card}|AC|", "64")

    async def checkout(self, card: str, barcode: str, now: dt.datetime) -> str:
        return await self.exchange(
            f"11YN{sip2_date(now)}{' ' * 18}AO{self.branch}|AA{card}|AB{barcode}|AC|BON|BIN|{self._unique()}", "12")

    async def checkin(self, barcode: str, now: dt.datetime) -> str:
        date = sip2_date(now)
        return await self.exchange(f"09N{date}{date}AP{self.branch}|AO{self.branch}|AB{barcode}|AC|{self._unique()}",
                                   "10")

    def _unique(self) -> str:
        return f"CH{self._tag}-{next(self._serial)}|"


def answer_ok(answer: str) -> bool:
    """The ok flag of a 12 (checkout) or 10 (checkin) answer: the character after the code."""
    return answer[2:3] == "1"
