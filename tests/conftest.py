"""Shared fixtures: one embedded PostgreSQL per test session, a migrated template, a fresh database per test.

Tests use the real database (STYLE.md: no mocks of the database). Creating a database from a migrated template
takes a few milliseconds, so each test that writes gets its own.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from shoka.db.migrate import upgrade
from shoka.db.server import start_embedded_server, with_database_name

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"
TEMPLATE_DATABASE = "shoka_test_template"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_maintenance_url() -> str:
    """A maintenance URL: SHOKA_TEST_DATABASE_URL (a real server) or an embedded server for this session."""
    if url := os.environ.get("SHOKA_TEST_DATABASE_URL"):
        return url
    # A short path keeps the Unix socket path under its 107-byte limit.
    folder = Path(tempfile.mkdtemp(prefix="shoka-test-", dir="/tmp"))
    # Registered before the server's own exit hook, so it runs after the server has stopped (atexit is LIFO):
    # a session leaves up to 2 GB of databases behind otherwise.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return start_embedded_server(folder / "pg")


@pytest.fixture(scope="session")
def template_database_url(postgres_maintenance_url: str) -> str:
    with psycopg.connect(postgres_maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DATABASE)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(TEMPLATE_DATABASE)))
    url = with_database_name(postgres_maintenance_url, TEMPLATE_DATABASE)
    upgrade(url)
    return url


def create_database_from_template(maintenance_url: str, name: str) -> str:
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE_DATABASE)))
    return with_database_name(maintenance_url, name)


@pytest.fixture
def database_url(postgres_maintenance_url: str, template_database_url: str) -> str:
    """A fresh, migrated, empty Shoka database for one test."""
    return create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_{next(_database_numbers)}")


@pytest.fixture
def connection(database_url: str):
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def module_database_url(postgres_maintenance_url: str, template_database_url: str) -> str:
    """A fresh database shared by the tests of one module (for the real server, which is slow to start)."""
    return create_database_from_template(postgres_maintenance_url,
                                         f"shoka_test_{os.getpid()}_m{next(_database_numbers)}")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningServer:
    """`shoka serve` started as a real process: granian, two workers, real HTTP on a free port; with `sip2=True`
    also its SIP2 server on another free port (`sip2_address`), which `wait_until_healthy` waits for too."""

    sip2_address: tuple[str, int] | None = None  # also for subclasses that start the server their own way

    def __init__(self, database_url: str, home: Path, workers: int = 2, sip2: bool = False) -> None:
        import subprocess
        import sys

        self.base_url = ""
        self.database_url = database_url
        self.home = home
        port = free_port()
        self.sip2_address = ("127.0.0.1", free_port()) if sip2 else None
        self.environment = {**os.environ, "SHOKA_HOME": str(home), "SHOKA_DATABASE_URL": database_url,
                            "SHOKA_HTTP": f"127.0.0.1:{port}", "SHOKA_HTTP_WORKERS": str(workers),
                            "SHOKA_SIP2": "%s:%d" % self.sip2_address if sip2 else ""}
        self.log_path = home / "serve.out"
        home.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([sys.executable, "-m", "shoka.cli", "serve"], env=self.environment,
                                        stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.base_url = f"http://127.0.0.1:{port}"

    def wait_until_healthy(self, timeout_seconds: float = 60.0) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200 and self._sip2_listening():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout_seconds} s:\n{self.log_path.read_text()[-3000:]}")

    def _sip2_listening(self) -> bool:
        import socket

        if self.sip2_address is None:
            return True
        try:
            socket.create_connection(self.sip2_address, timeout=1.0).close()
        except OSError:
            return False
        return True

    def run_cli(self, *arguments: str, input_text: str | None = None):
        import subprocess
        import sys

        return subprocess.run([sys.executable, "-m", "shoka.cli", *arguments], env=self.environment,
                              input=input_text, capture_output=True, text=True, timeout=300)

    def stop(self) -> None:
        import signal
        import subprocess

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory):
    running = RunningServer(module_database_url, tmp_path_factory.mktemp("home"))
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()
