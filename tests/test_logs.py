"""Structured log lines: one JSON object per record, the same line for every handler."""

from __future__ import annotations

import io
import json
import logging
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
