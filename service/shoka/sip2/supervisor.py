"""Keeping the SIP2 server running beside the HTTP workers of `shoka serve`.

`shoka serve` starts one supervisor process (`python -m shoka.sip2.supervisor`) before granian starts its
workers, and stops it when granian returns. The supervisor runs the SIP2 server (`python -m shoka.sip2`,
with its own pools and engine replica, like a granian worker) as its child: when the server crashes (a
non-zero exit, or a signal other than a stop) the exit is logged and the server started again, after a
pause that doubles while it keeps crashing early (1 s up to 30 s). An exit 0, SIGTERM or SIGINT is a stop
(a terminal's Ctrl-C and service managers signal the whole process group) and ends the supervisor too.

Why a process and not a thread in `shoka serve`: granian forks its workers from that process, and a fork
while a thread is inside subprocess.Popen hands the worker a copy of Popen's internal pipe, so the thread
waits for that worker to exit before Popen returns. A process of its own has no such neighbours.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from shoka.sip2.server import tls_context

logger = logging.getLogger("shoka.sip2.supervisor")  # also when run as __main__
SERVER_COMMAND = [sys.executable, "-m", "shoka.sip2"]
SUPERVISOR_COMMAND = [sys.executable, "-m", "shoka.sip2.supervisor"]
FIRST_RESTART_DELAY_SECONDS = 1.0
LONGEST_RESTART_DELAY_SECONDS = 30.0
# A server that ran this long before crashing is restarted after the shortest delay again.
STABLE_RUN_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.5
DELIBERATE_EXITS = frozenset({0, -signal.SIGTERM, -signal.SIGINT})


def start_sip2_supervisor() -> subprocess.Popen:
    """For `shoka serve`: the supervisor process. A bad TLS setting stops `shoka serve` here, with its
    message, instead of a server that crashes again and again."""
    tls_context()
    return subprocess.Popen(SUPERVISOR_COMMAND)


def stop_process(process: subprocess.Popen, name: str) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning(f"{name} did not stop in time; killing it", extra={"pid": process.pid})
        process.kill()
        process.wait()


class Supervisor:
    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.parent = os.getppid()
        self.stopping = False

    def request_stop(self, *_signal) -> None:
        self.stopping = True

    def _parent_gone(self) -> bool:
        return os.getppid() != self.parent

    def run(self) -> None:
        delay = FIRST_RESTART_DELAY_SECONDS
        while not self.stopping:
            started = time.monotonic()
            server = subprocess.Popen(self.command)
            logger.info("sip2 server started", extra={"pid": server.pid})
            exit_code = self._wait(server)
            if exit_code is None or exit_code in DELIBERATE_EXITS:
                logger.info("sip2 server stopped", extra={"pid": server.pid})
                return
            if time.monotonic() - started > STABLE_RUN_SECONDS:
                delay = FIRST_RESTART_DELAY_SECONDS
            logger.error("sip2 server exited unexpectedly; restarting",
                         extra={"pid": server.pid, "exit_code": exit_code, "restart_in_seconds": delay})
            self._pause(delay)
            delay = min(delay * 2, LONGEST_RESTART_DELAY_SECONDS)

    def _wait(self, server: subprocess.Popen) -> int | None:
        """The server's exit status, or None once it was stopped because we are stopping."""
        while True:
            try:
                return server.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                if self.stopping or self._parent_gone():
                    self.stopping = True
                    stop_process(server, "sip2 server")
                    return None

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and not self._parent_gone() and time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, seconds))
        if self._parent_gone():
            self.stopping = True


def main() -> None:
    from shoka.config import load_settings
    from shoka.logs import configure_logging

    configure_logging(load_settings().log_folder)
    supervisor = Supervisor(SERVER_COMMAND)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    supervisor.run()


if __name__ == "__main__":
    main()
