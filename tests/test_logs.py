"""Structured log lines: one JSON object per record, the same line for every handler."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from decimal import Decimal

from shoka.logs import JsonLineFormatter


def test_each_handler_writes_the_same_json_line():
    formatter = JsonLineFormatter()
    streams = [io.StringIO(), io.StringIO()]
    logger = logging.getLogger("shoka.test-logs")
    logger.propagate = False
    for stream in streams:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    try:
        logger.warning("貸出 %s 件", 3, extra={"route": "/api/v1/circulation/checkout", "amount": Decimal("1.5")})
        logger.warning("second")
    finally:
        logger.handlers.clear()
    first_lines = [stream.getvalue().splitlines() for stream in streams]
    assert first_lines[0] == first_lines[1] and len(first_lines[0]) == 2
    entry = json.loads(first_lines[0][0])
    assert entry["message"] == "貸出 3 件" and "貸出" in first_lines[0][0]  # not \\u-escaped
    assert entry["level"] == "warning" and entry["logger"] == "shoka.test-logs"
    assert entry["route"] == "/api/v1/circulation/checkout" and entry["amount"] == "1.5"
    assert entry["time"].endswith("Z")
    assert json.loads(first_lines[0][1])["message"] == "second"


def test_a_traceback_is_kept():
    formatter = JsonLineFormatter()
    try:
        raise ValueError("broken record")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(formatter.format(record))
    assert "ValueError: broken record" in entry["traceback"]


def test_the_service_does_not_gather_what_a_line_never_shows(tmp_path):
    """Configured for the service, a record costs no walk up the stack for its caller, nor thread and process
    lookups (a line shows none of them); the line in the log file still holds the message and its fields. In a
    process of its own, since the configuration is the process's."""
    program = f"""
import json, logging
from pathlib import Path
from shoka.logs import configure_logging
configure_logging(Path({str(tmp_path)!r}))
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)
logging.getLogger().addHandler(Keep())
logging.getLogger("shoka.http").info("request", extra={{"route": "/api/v1/circulation/checkout", "status": 201}})
record = records[0]
print(json.dumps([record.pathname, record.lineno, record.thread, record.process]))
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == ["(unknown file)", 0, None, None]
    line = json.loads((tmp_path / "shoka.log").read_text(encoding="utf-8").splitlines()[-1])
    assert line["message"] == "request" and line["route"] == "/api/v1/circulation/checkout" and line["status"] == 201
