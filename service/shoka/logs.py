"""Structured logs: one JSON object per line on stderr and in $SHOKA_HOME/log/shoka.log.

Requests are logged by their route template (/api/v1/patrons/{card}/loans), never the concrete path or query,
so card numbers and search terms stay out of the logs.
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonLineFormatter(logging.Formatter):
    """Shared by both handlers (stderr, file): a record is formatted once, for the first, and the line reused."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder(enc_hook=str)
        self._last: tuple[logging.LogRecord | None, str] = (None, "")

    def format(self, record: logging.LogRecord) -> str:
        last_record, last_line = self._last
        if last_record is record:
            return last_line
        line = self._encoder.encode(self._entry(record)).decode()
        self._last = (record, line)
        return line

    def _entry(self, record: logging.LogRecord) -> dict:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_FIELDS})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return entry


def configure_logging(log_folder: Path | None, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if getattr(root, "_shoka_configured", False):
        return
    # A line holds none of the record's standard attributes (_STANDARD_RECORD_FIELDS), so the ones that cost
    # something per record are not gathered: the caller's file and line (a walk up the stack for every request
    # logged, 2-3% of an HTTP worker's Python time at a busy counter), thread and process. The logging HOWTO's
    # "Optimization" section names these switches.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    formatter = JsonLineFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_folder is not None:
        log_folder.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.WatchedFileHandler(log_folder / "shoka.log", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    root._shoka_configured = True  # type: ignore[attr-defined]


class RequestLogMiddleware:
    """Logs method, route template, status and duration of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger("shoka.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_remember_status)
        finally:
            self.logger.info("request", extra={
                "method": scope.get("method"), "route": scope.get("path_template") or "(unrouted)",
                "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
