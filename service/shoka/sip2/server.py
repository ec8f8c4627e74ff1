"""The SIP2 server process: an asyncio TCP server (TLS when SHOKA_SIP2_TLS_CERT and SHOKA_SIP2_TLS_KEY are
set) in front of its own database pools and engine replica, like one HTTP worker.

`shoka serve` runs it as a child process (see supervisor.py); `python -m shoka.sip2` runs it alone. It
listens only once its engine replica is current, stops on SIGTERM or SIGINT, and also stops when the process
that started it goes away, so a killed `shoka serve` never leaves a SIP2 server behind holding the port.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import sys
from pathlib import Path

from shoka import event_loop
from shoka.config import ConfigurationError, ListenAddress, Settings, load_settings
from shoka.db.pools import DatabasePools
from shoka.db.server import resolve_database_url
from shoka.logs import configure_logging
from shoka.replica.engine_replica import EngineReplica
from shoka.sip2.context import Sip2Context
from shoka.sip2.session import Session

logger = logging.getLogger(__name__)
TLS_CERTIFICATE_VARIABLE = "SHOKA_SIP2_TLS_CERT"
TLS_KEY_VARIABLE = "SHOKA_SIP2_TLS_KEY"
# A SIP2 message is a few hundred bytes; a line longer than this is discarded and answered with 96.
LONGEST_LINE = 64 * 1024
PARENT_CHECK_SECONDS = 1.0


def tls_context(environment: dict[str, str] | None = None) -> ssl.SSLContext | None:
    environment = dict(os.environ if environment is None else environment)
    certificate = environment.get(TLS_CERTIFICATE_VARIABLE, "").strip()
    key = environment.get(TLS_KEY_VARIABLE, "").strip()
    if not certificate and not key:
        return None
    if not certificate or not key:
        raise ConfigurationError(f"{TLS_CERTIFICATE_VARIABLE} and {TLS_KEY_VARIABLE} must be set together "
                                 "(PEM files of the SIP2 server's certificate chain and private key)")
    for variable, path in ((TLS_CERTIFICATE_VARIABLE, certificate), (TLS_KEY_VARIABLE, key)):
        if not Path(path).is_file():
            raise ConfigurationError(f"{variable}={path!r}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certificate, key)
    except (ssl.SSLError, OSError) as error:
        raise ConfigurationError(f"{TLS_CERTIFICATE_VARIABLE}/{TLS_KEY_VARIABLE}: cannot load ({error})") from None
    return context


class Sip2Server:
    def __init__(self, context: Sip2Context, address: ListenAddress, tls: ssl.SSLContext | None) -> None:
        self.context = context
        self.address = address
        self.tls = tls
        self._connections: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.address.host, self.address.port,
                                                  ssl=self.tls, limit=LONGEST_LINE)
        logger.info("sip2 listening", extra={"sip2": str(self.address), "tls": self.tls is not None,
                                             "event_loop": event_loop.running_loop_name()})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        peer = writer.get_extra_info("peername") or ("", 0)
        session = Session(self.context, source_address=str(peer[0]))
        logger.info("sip2 connection opened", extra={"peer": session.source_address})
        try:
            await self._converse(session, reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the terminal went away; nothing to answer
        finally:
            self._connections.discard(task)
            writer.close()
            logger.info("sip2 connection closed", extra={
                "peer": session.source_address, "terminal": session.terminal.username if session.terminal else None})

    async def _converse(self, session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                line = await reader.readuntil(b"\r")
            except asyncio.IncompleteReadError:
                return  # closed; a last line without CR is not a complete message
            except asyncio.LimitOverrunError as overrun:
                await _discard_line(reader, overrun.consumed)
                answer = session.oversized()
            else:
                answer = await session.answer(line[:-1])
            if answer is not None:
                writer.write(answer)
                await writer.drain()


async def _discard_line(reader: asyncio.StreamReader, buffered: int) -> None:
    """Drops an over-long line up to and including its CR (the stream keeps what it could not return)."""
    while True:
        await reader.readexactly(max(buffered, 1))
        try:
            await reader.readuntil(b"\r")
            return
        except asyncio.LimitOverrunError as overrun:
            buffered = overrun.consumed


async def serve_sip2(settings: Settings, database_url: str) -> None:
    assert settings.sip2 is not None
    tls = tls_context()
    pools = DatabasePools.create(database_url, public_size=1)
    await pools.open()
    replica = EngineReplica(database_url, settings.index_folder)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    watch = asyncio.create_task(_stop_when_orphaned(stopping), name="sip2-parent-watch")
    server = Sip2Server(Sip2Context(pools, replica), settings.sip2, tls)
    try:
        await replica.start()
        await server.start()
        await stopping.wait()
        logger.info("sip2 stopping")
    finally:
        watch.cancel()
        await server.stop()
        await replica.stop()
        await pools.close()


async def _stop_when_orphaned(stopping: asyncio.Event) -> None:
    parent = os.getppid()
    while not stopping.is_set():
        await asyncio.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            logger.warning("sip2: the process that started it is gone; stopping")
            stopping.set()


def main() -> None:
    try:
        settings = load_settings()
        configure_logging(settings.log_folder)
        if settings.sip2 is None:
            raise ConfigurationError("SHOKA_SIP2 is empty: the SIP2 server is disabled")
        tls_context()  # a bad TLS setting stops here, with its message, before anything starts
        database_url = resolve_database_url(settings)
    except ConfigurationError as error:
        print(f"shoka sip2: {error}", file=sys.stderr)
        sys.exit(2)
    event_loop.run(serve_sip2(settings, database_url))
