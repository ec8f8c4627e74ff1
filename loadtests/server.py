"""The service under test: the database (embedded under the run's SHOKA_HOME, or LOADTEST_DATABASE_URL), the
schema and the demo library, and `shoka serve` itself on free 127.0.0.1 ports, started and stopped by the run.

The runner resolves the database once, in its own process, as `shoka` does: the embedded PostgreSQL then stays
up for the whole run (the last process that uses it stops it), and every `shoka` command and the server get
its URL through SHOKA_DATABASE_URL instead of each starting and stopping it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

from shoka.config import load_settings
from shoka.db.server import resolve_database_url

LOOPBACK = "127.0.0.1"


class ServiceFailure(RuntimeError):
    """The service or one of its commands failed; the message carries the end of its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def database_url_for(home: Path, database_url: str | None) -> str:
    """The URL of the run's database, starting the embedded server under `home` when no URL is given."""
    environment = {"SHOKA_HOME": str(home)}
    if database_url:
        environment["SHOKA_DATABASE_URL"] = database_url
    return resolve_database_url(load_settings(environment))


def shoka_environment(home: Path, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "SHOKA_HOME": str(home), "SHOKA_DATABASE_URL": database_url, **(extra or {})}


def run_shoka(environment: dict[str, str], *arguments: str, timeout_seconds: float = 7200) -> str:
    """Run one `shoka` command to its end, its output passed through; the output is returned too."""
    process = subprocess.Popen([sys.executable, "-m", "shoka.cli", *arguments], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not line.lstrip().startswith(("━", "\x1b")):  # progress bars would flood a log file
            print(f"    {line}", end="", flush=True)
    if process.wait(timeout=timeout_seconds) != 0:
        raise ServiceFailure(f"shoka {' '.join(arguments)} exited with {process.returncode}:\n{''.join(lines[-20:])}")
    return "".join(lines)


def postmaster_pid(connection: psycopg.Connection) -> int | None:
    """The PostgreSQL server's process on this machine, from its data folder's postmaster.pid; None when the
    server is elsewhere or the file cannot be read (its CPU and memory are then not sampled)."""
    try:
        folder = connection.execute("SHOW data_directory").fetchone()[0]
        return int(Path(folder, "postmaster.pid").read_text().split()[0])
    except (psycopg.Error, OSError, ValueError, IndexError):
        return None


class ServiceUnderTest:
    """`shoka serve` with two granian workers and SIP2, in a session of its own so it stops as one group."""

    def __init__(self, home: Path, database_url: str, workers: int = 2) -> None:
        self.http_port, self.sip2_port = free_port(), free_port()
        self.base_url = f"http://{LOOPBACK}:{self.http_port}"
        self.log_path = home / "loadtest-serve.log"
        self.environment = shoka_environment(home, database_url, {
            "SHOKA_HTTP": f"{LOOPBACK}:{self.http_port}", "SHOKA_SIP2": f"{LOOPBACK}:{self.sip2_port}",
            "SHOKA_HTTP_WORKERS": str(workers)})
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "shoka.cli", "serve"], env=self.environment,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_until_ready(self, timeout_seconds: float) -> float:
        """Wait for /healthz to answer 200 and the SIP2 port to accept; the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_seconds:
            if self.process.poll() is not None:
                raise ServiceFailure(f"shoka serve exited with {self.process.returncode}:\n{self._log_tail()}")
            if self._healthy() and self._sip2_listening():
                return time.monotonic() - started
            time.sleep(0.5)
        raise ServiceFailure(f"shoka serve not ready after {timeout_seconds:.0f} s:\n{self._log_tail()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _sip2_listening(self) -> bool:
        try:
            socket.create_connection((LOOPBACK, self.sip2_port), timeout=1.0).close()
        except OSError:
            return False
        return True

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def logged_errors(self) -> list[dict]:
        """What the server logged at level error since it was started, grouped by route and exception."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                return errors_in_log(log.read().decode("utf-8", errors="replace"))
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def errors_in_log(text: str) -> list[dict]:
    """Error lines of the service's JSON log, grouped by (route or logger, exception or message), most first.
    The exception is the last line of the logged traceback, cut to a readable length."""
    counts: Counter = Counter()
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") not in ("error", "critical"):
            continue
        traceback = (entry.get("traceback") or "").strip().splitlines()
        error = traceback[-1] if traceback else entry.get("message", "")
        counts[(entry.get("path_template") or entry.get("logger", ""), error[:160])] += 1
    return [{"where": where, "error": error, "count": count} for (where, error), count in counts.most_common(10)]
