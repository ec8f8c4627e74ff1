"""A small HTTP/1.1 client for the load generator: one keep-alive connection per virtual user, as a browser or a
counter PC keeps one.

Why not httpx: on two cores shared with the server, the generator's own CPU per request decides how far the
figures can be trusted. httpx spends several hundred microseconds of Python per request; this client writes the
request bytes and reads the status line, headers and body (Content-Length or chunked), which costs a fraction of
that (the `ceiling` scenario measures it in every run). Nothing else of HTTP is needed against our own server.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass


class ProtocolViolation(Exception):
    """The server's answer was not HTTP/1.1 as expected."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self):
        return json.loads(self.body)


class HttpConnection:
    def __init__(self, host: str, port: int, timeout_seconds: float = 30.0) -> None:
        self.host, self.port, self.timeout_seconds = host, port, timeout_seconds
        self._host_header = f"{host}:{port}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None

    async def get(self, target: str, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", target, headers)

    async def post_json(self, target: str, document: object, headers: dict[str, str] | None = None) -> Answer:
        body = json.dumps(document, ensure_ascii=False).encode()
        return await self.request("POST", target, {**(headers or {}), "Content-Type": "application/json"}, body)

    async def request(self, method: str, target: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> Answer:
        """One exchange; raises TimeoutError, OSError or ProtocolViolation. A kept-alive connection that the
        server closed while idle is reopened and the request sent once more, as browsers do — but only when
        not a byte of the answer had arrived, so no request is ever carried out twice."""
        message = self._encode(method, target, headers, body)
        async with asyncio.timeout(self.timeout_seconds):
            reused = self._writer is not None
            if not reused:
                await self._connect()
            try:
                self._writer.write(message)
                return await self._read_answer(method)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as error:
                nothing_read = not isinstance(error, asyncio.IncompleteReadError) or not error.partial
                await self.close()
                if not (reused and nothing_read):
                    raise
            self.reconnects += 1
            await self._connect()
            self._writer.write(message)
            return await self._read_answer(method)

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def _encode(self, method: str, target: str, headers: dict[str, str] | None, body: bytes) -> bytes:
        lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: " + self._host_header,
                 b"User-Agent: shoka-loadtest", b"Accept-Encoding: identity"]
        lines.extend(f"{name}: {value}".encode() for name, value in (headers or {}).items())
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}".encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    async def _read_answer(self, method: str) -> Answer:
        reader = self._reader
        status_line = await reader.readuntil(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolViolation(f"bad status line {status_line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # no length: the body runs to the end of the connection
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, body)

    async def _read_chunked(self) -> bytes:
        reader, chunks = self._reader, []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolViolation(f"bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
