"""The event loop every Shoka server process runs on: uvloop.

Named here rather than left to what happens to be installed: granian's default ("auto") takes uvloop when the
package is importable and asyncio's own loop otherwise, so the same code could run on either depending on the
extras installed beside it, and the load tests would have measured another loop than a library runs. The HTTP
workers (shoka.serve) and the SIP2 server (shoka.sip2.server) both run on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import uvloop
from granian.constants import Loops

GRANIAN_LOOP = Loops.uvloop  # the HTTP workers': granian builds their loops


def run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run on uvloop, for a process that runs its own loop (the SIP2 server)."""
    uvloop.run(main)


def running_loop_name() -> str:
    """The running loop's implementation, for the start-up log line ("uvloop" or "asyncio")."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]
