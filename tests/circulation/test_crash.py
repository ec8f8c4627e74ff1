"""Crash safety: SIGKILL the server and its embedded PostgreSQL in the middle of a burst of checkouts.

After the restart every acknowledged loan is there; requests whose answer was lost are retried with their
request_id and get the loan they made or make it now — so in the end every loan is acknowledged and none
exists twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from tests.conftest import RunningServer, free_port


def shoka(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "SHOKA_DATABASE_URL"}
    environment.update({"SHOKA_HOME": str(home), "SHOKA_SIP2": ""})
    return subprocess.run([sys.executable, "-m", "shoka.cli", *arguments], env=environment, capture_output=True,
                          text=True, timeout=300)


class EmbeddedServer(RunningServer):
    """`shoka serve` on its own SHOKA_HOME with the embedded PostgreSQL (no SHOKA_DATABASE_URL)."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.database_url = f"host={home / 'pg'} dbname=shoka user=postgres"
        self.environment = {key: value for key, value in os.environ.items() if key != "SHOKA_DATABASE_URL"}
        self.environment.update({"SHOKA_HOME": str(home), "SHOKA_HTTP": f"127.0.0.1:{port}", "SHOKA_SIP2": ""})
        self.log_path = home / "serve.out"
        self.process = subprocess.Popen([sys.executable, "-m", "shoka.cli", "serve"], env=self.environment,
                                        stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.base_url = f"http://127.0.0.1:{port}"

    def kill_everything(self) -> None:
        """SIGKILL the server's process group and the PostgreSQL postmaster: no shutdown of any kind."""
        postmaster = int((self.home / "pg" / "postmaster.pid").read_text().split()[0])
        os.killpg(self.process.pid, signal.SIGKILL)
        os.kill(postmaster, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if subprocess.run(["pgrep", "-f", str(self.home / "pg")], capture_output=True).returncode != 0:
                return
            time.sleep(0.2)


def stop_postgres_and_remove(home: Path) -> None:
    """The restarted server may leave its embedded PostgreSQL running (it was started by a killed process, so
    no exit hook owns it): a fast shutdown, then the home goes, or every run leaves a database behind."""
    pid_file = home / "pg" / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pid_file.exists():
            time.sleep(0.2)
    shutil.rmtree(home, ignore_errors=True)


def test_no_acknowledged_loan_is_lost_and_none_is_doubled(tmp_path_factory):
    home = Path(tempfile.mkdtemp(prefix="shoka-crash-", dir="/tmp"))
    assert shoka(home, "db", "upgrade").returncode == 0
    loaded = shoka(home, "demo", "load")
    assert loaded.returncode == 0, loaded.stderr
    port = free_port()
    server = EmbeddedServer(home, port)
    try:
        server.wait_until_healthy()
        admin = next(staff for staff in json.loads((home / "demo-credentials.json").read_text())["staff"]
                     if staff["role"] == "admin")
        token = httpx.post(f"{server.base_url}/api/v1/auth/token",
                           json={"username": admin["username"], "password": admin["password"]}).json()["access_token"]
        with psycopg.connect(server.database_url) as connection:
            items = [row[0] for row in connection.execute(
                """SELECT i.barcode FROM item i WHERE i.status = 'available' AND i.loan_policy = 'normal'
                   AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
                   AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status <> 'cancelled'
                                   AND h.closed_at IS NULL) ORDER BY i.id LIMIT 400""")]
            patrons = [row[0] for row in connection.execute(
                """SELECT p.card FROM patron p WHERE p.status = 'active' AND p.category = 'adult'
                   AND p.expires_on > current_date + 30
                   AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
                   ORDER BY p.id LIMIT 100""")]
        requests = [{"patron": patrons[index % len(patrons)], "item": barcode, "request_id": uuid.uuid4().hex}
                    for index, barcode in enumerate(items)]
        acknowledged: dict[str, int] = {}
        unanswered: list[dict] = []
        lock = threading.Lock()
        enough = threading.Event()

        def desk(share: list[dict]) -> None:
            with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"},
                              timeout=10) as client:
                for body in share:
                    try:
                        response = client.post("/api/v1/circulation/checkout", json=body)
                    except httpx.HTTPError:
                        with lock:
                            unanswered.append(body)
                        continue
                    with lock:
                        if response.status_code == 201:
                            acknowledged[body["request_id"]] = response.json()["loan_id"]
                            if len(acknowledged) >= 40:
                                enough.set()
                        elif response.status_code >= 500 or response.status_code == 503:
                            unanswered.append(body)

        shares = [requests[index::8] for index in range(8)]
        threads = [threading.Thread(target=desk, args=(share,)) for share in shares]
        for thread in threads:
            thread.start()
        enough.wait(timeout=60)
        server.kill_everything()
        for thread in threads:
            thread.join()
        assert len(acknowledged) >= 40

        restarted = EmbeddedServer(home, port)
        try:
            restarted.wait_until_healthy(timeout_seconds=120)
            with psycopg.connect(restarted.database_url) as connection:
                open_loans = dict(connection.execute(
                    "SELECT l.id, i.barcode FROM loan l JOIN item i ON i.id = l.item_id "
                    "WHERE l.returned_at IS NULL AND i.barcode = ANY(%s)", [items]).fetchall())
            missing = [loan for loan in acknowledged.values() if loan not in open_loans]
            assert missing == [], f"acknowledged loans lost: {missing}"
            assert len(set(open_loans.values())) == len(open_loans), "a copy lent twice"
            # Resolve every request whose answer was lost, by sending it again with its request_id.
            sent = {body["request_id"] for body in requests}
            unsent_ids = sent - set(acknowledged) - {body["request_id"] for body in unanswered}
            retried: dict[str, int] = {}
            with httpx.Client(base_url=restarted.base_url, timeout=30) as client:
                token = client.post("/api/v1/auth/token", json={"username": admin["username"],
                                                                "password": admin["password"]}).json()["access_token"]
                for body in unanswered:
                    response = client.post("/api/v1/circulation/checkout", json=body,
                                           headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 201, response.text
                    retried[body["request_id"]] = response.json()["loan_id"]
            with psycopg.connect(restarted.database_url) as connection:
                final_loans = {row[0] for row in connection.execute(
                    "SELECT l.id FROM loan l JOIN item i ON i.id = l.item_id "
                    "WHERE l.returned_at IS NULL AND i.barcode = ANY(%s)", [items])}
                unsent_items = [body["item"] for body in requests if body["request_id"] in unsent_ids]
                stray = connection.execute(
                    "SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id "
                    "WHERE l.returned_at IS NULL AND i.barcode = ANY(%s)", [unsent_items]).fetchone()[0]
            assert stray == 0, "a loan exists for a request that was never sent"
            assert final_loans == set(acknowledged.values()) | set(retried.values())
            print(f"acknowledged {len(acknowledged)}, answer lost and retried {len(retried)}, never sent "
                  f"{len(unsent_ids)}")
        finally:
            restarted.stop()
    finally:
        server.stop()
        stop_postgres_and_remove(home)
