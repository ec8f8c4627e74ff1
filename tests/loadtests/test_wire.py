"""The generator's HTTP/1.1 client and SIP2 framing, against an in-process asyncio server (no Shoka server)."""

import asyncio

import pytest

from loadtests.http_client import HttpConnection, ProtocolViolation
from loadtests.sip2_client import answer_ok, checksum, frame, screen_message


def test_sip2_checksum_matches_the_specification_example():
    # SIP2.md: two's complement of the 16-bit byte sum up to and including AZ.
    data = b"9300CNkiosk|COsecret|AY0AZ"
    assert checksum(data) == f"{(-sum(data)) & 0xFFFF:04X}"
    framed = frame("9300CNkiosk|COsecret|", 0)
    assert framed.endswith(b"\r") and framed[:-5] == data
    assert (sum(framed[:-1 - 4]) + int(framed[-5:-1], 16)) & 0xFFFF == 0


def test_sip2_answer_flags_and_screen_message():
    assert answer_ok("121NNY20261121    101010AOcentral|AApatron|AFお貸しできます|")
    assert not answer_ok("120NUN20261121    101010AOcentral|AFこの資料は予約されています|AY1AZF00D")
    refused = "120NUN20261121    101010AOc|AFこの資料は予約されています|AY1AZF00D"
    assert screen_message(refused) == "この資料は予約されています"
    assert screen_message("941") == ""


async def serve(answers: list[bytes]):
    """A server that answers each request it reads (up to the blank line and any Content-Length body) with the
    next of `answers`, recording the requests."""
    received: list[bytes] = []

    async def handle(reader, writer):
        for answer in answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), 0)
            received.append(head + (await reader.readexactly(length) if length else b""))
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


def run(coroutine):
    return asyncio.run(coroutine)


def test_content_length_and_chunked_answers_on_one_kept_alive_connection():
    async def scenario():
        server, port, received = await serve([
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        ])
        connection = HttpConnection("127.0.0.1", port)
        first = await connection.get("/static/opac.css")
        second = await connection.post_json("/api/v1/circulation/checkout", {"patron": "P1", "item": "資料1"})
        await connection.close()
        server.close()
        return first, second, received, connection.reconnects

    first, second, received, reconnects = run(scenario())
    assert (first.status, first.body, first.headers["content-type"]) == (200, b"hello", "text/plain")
    assert (second.status, second.json()) == (201, {"a": 1})
    assert reconnects == 0
    assert received[0].startswith(b"GET /static/opac.css HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Type: application/json" in received[1]
    assert received[1].endswith('{"patron": "P1", "item": "資料1"}'.encode())


def test_a_connection_the_server_closed_while_idle_is_reopened_once():
    async def scenario():
        server, port, _ = await serve([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])  # then closes
        connection = HttpConnection("127.0.0.1", port)
        await connection.get("/")
        await asyncio.sleep(0.05)
        second = await connection.get("/")  # the first connection is gone: a new one answers
        await connection.close()
        server.close()
        return second, connection.reconnects

    second, reconnects = run(scenario())
    assert second.status == 200 and reconnects == 1


def test_connection_close_and_a_body_without_length():
    async def scenario():
        server, port, _ = await serve([b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\ndown"])
        connection = HttpConnection("127.0.0.1", port)
        answer = await connection.get("/healthz")
        server.close()
        return answer

    answer = run(scenario())
    assert (answer.status, answer.body) == (503, b"down")


def test_an_answer_that_is_not_http_is_refused():
    async def scenario():
        server, port, _ = await serve([b"SSH-2.0-OpenSSH\r\n\r\n"])
        connection = HttpConnection("127.0.0.1", port)
        try:
            await connection.get("/")
        finally:
            await connection.close()
            server.close()

    with pytest.raises(ProtocolViolation):
        run(scenario())


def test_a_server_that_does_not_answer_times_out():
    async def scenario():
        async def silent(reader, writer):
            await asyncio.sleep(5)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        connection = HttpConnection("127.0.0.1", server.sockets[0].getsockname()[1], timeout_seconds=0.2)
        try:
            await connection.get("/")
        finally:
            await connection.close()
            server.close()

    with pytest.raises(TimeoutError):
        run(scenario())


def test_a_kiosk_frames_each_message_and_never_sends_the_same_text_twice():
    from loadtests.sip2_client import Kiosk

    async def scenario():
        received: list[bytes] = []

        async def terminal_server(reader, writer):
            while line := await reader.readuntil(b"\r"):
                received.append(line)
                code = {b"93": b"941", b"09": b"101NNN20261121    101010AOcentral|ABC1|",
                        b"11": b"121NNY20261121    101010AOcentral|AAP1|ABC1|"}[line[:2]]
                writer.write(code + b"\r")
                if len(received) == 4:
                    break
            writer.close()

        server = await asyncio.start_server(terminal_server, "127.0.0.1", 0)
        kiosk = Kiosk("127.0.0.1", server.sockets[0].getsockname()[1], "central")
        await kiosk.open()
        moment = __import__("datetime").datetime(2026, 11, 21, 10, 10, 10)
        assert await kiosk.login("kiosk-1", "secret")
        first = await kiosk.checkin("C1", moment)
        await kiosk.checkout("P1", "C1", moment)
        second = await kiosk.checkin("C1", moment)
        await kiosk.close()
        server.close()
        return received, first, second

    received, first, second = run(scenario())
    assert answer_ok(first) and answer_ok(second)
    assert received[0].startswith(b"9300CNkiosk-1|COsecret|CPcentral|AY0AZ")
    for line in received:
        body = line[:-1]
        assert (sum(body[:-4]) + int(body[-4:], 16)) & 0xFFFF == 0  # a valid checksum on every message
    texts = [line.split(b"AY")[0] for line in received]
    assert texts[1].startswith(b"09N20261121    10101020261121    101010APcentral|AOcentral|ABC1|AC|CH")
    assert texts[1] != texts[3]  # the same copy checked in twice in one second: still two different messages
