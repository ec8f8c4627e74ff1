"""Consistency checks: does this process's engine hold exactly what PostgreSQL holds?

`shoka check` inserts a row in replica_check and notifies; every live replica (a heartbeat within
LIVE_SECONDS) compares its engine with one consistent database snapshot — after applying every event that
snapshot includes, so nothing in flight counts as a difference — and writes its list of differences. A
difference must show in two comparisons a moment apart to be reported, so a change committed during the
comparison is not mistaken for drift.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import msgspec
import psycopg

from shoka.circulation import engine_state
from shoka.replica.snapshot_position import SNAPSHOT_POSITION_SQL

LIVE_SECONDS = 15
_encoder = msgspec.json.Encoder()


def new_replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def heartbeat(connection: psycopg.Connection, replica_id: str, applied_seq: int) -> None:
    connection.execute(
        """INSERT INTO engine_replica (replica_id, host, pid, started_at, heartbeat_at, applied_seq)
           VALUES (%s, %s, %s, now(), now(), %s)
           ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = now(), applied_seq = EXCLUDED.applied_seq""",
        [replica_id, socket.gethostname(), os.getpid(), applied_seq])


def forget(connection: psycopg.Connection, replica_id: str) -> None:
    connection.execute("DELETE FROM engine_replica WHERE replica_id = %s", [replica_id])


def read_snapshot(database_url: str) -> tuple[int, dict]:
    """The outbox position and the open circulation state of one consistent snapshot."""
    with psycopg.connect(database_url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        snapshot_seq = connection.execute(SNAPSHOT_POSITION_SQL).fetchone()[0]
        state = engine_state.read_open_state(connection)
        connection.rollback()
    return snapshot_seq, state


def differences_from(engine, state: dict) -> list[dict]:
    return msgspec.json.decode(engine.check_consistency(_encoder.encode(state)))


def persistent(first: list[dict], second: list[dict]) -> list[dict]:
    """The differences seen in both comparisons."""
    first_keys = {_encoder.encode(difference) for difference in first}
    return [difference for difference in second if _encoder.encode(difference) in first_keys]


def answer_check(connection: psycopg.Connection, check_id: int, replica_id: str, applied_seq: int,
                 differences: list[dict]) -> None:
    connection.execute(
        "INSERT INTO replica_check_result (check_id, replica_id, applied_seq, differences) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING", [check_id, replica_id, applied_seq, psycopg.types.json.Jsonb(differences)])


def run_check(database_url: str, timeout_seconds: float = 30.0) -> dict:
    """What `shoka check` does: ask every live replica and collect the answers."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        live = [row[0] for row in connection.execute(
            "SELECT replica_id FROM engine_replica WHERE heartbeat_at > now() - make_interval(secs => %s)",
            [LIVE_SECONDS])]
        check_id = connection.execute("INSERT INTO replica_check DEFAULT VALUES RETURNING id").fetchone()[0]
        connection.execute("SELECT pg_notify('shoka_outbox', 'check')")
        deadline = time.monotonic() + timeout_seconds
        answers: dict[str, tuple[int, list]] = {}
        while time.monotonic() < deadline and not set(live) <= set(answers):
            for replica_id, applied_seq, differences in connection.execute(
                    "SELECT replica_id, applied_seq, differences FROM replica_check_result WHERE check_id = %s",
                    [check_id]):
                answers[replica_id] = (applied_seq, differences)
            time.sleep(0.2)
    return {"check_id": check_id, "live_replicas": live, "answers": answers,
            "silent": [replica for replica in live if replica not in answers]}
