"""Chain verification of the operation log (shoka.audit_chain and `shoka audit verify`), each test on its own
fresh database: a changed row, a changed hash, a deleted row, a rewritten chain are found at the right id;
concurrent appenders keep the chain in id order (migration 0005); the command's exit status tells the operator.

Tampering connects as the database owner with session_replication_role = replica, which switches the log's
append-only trigger off for that session only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import psycopg
import pytest
from psycopg.types.json import Jsonb

from shoka import audit_chain
from shoka.audit_chain import ChainProblem, verify_operation_log_chain

_APPEND = """INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, detail)
             VALUES ('staff', %s, %s, 'patron', %s, %s) RETURNING id"""


def append_rows(database_url: str, count: int) -> list[int]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        return [connection.execute(_APPEND, [f"staff{number % 3}", "patron.read_summary", str(number),
                                             Jsonb({"note": f"閲覧 {number}"})]).fetchone()[0]
                for number in range(count)]


def tamper(database_url: str, sql: str, *parameters) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute(sql, parameters)


def verify(database_url: str) -> audit_chain.ChainReport:
    async def walk():
        async with await psycopg.AsyncConnection.connect(database_url) as connection:
            return await verify_operation_log_chain(connection)

    return asyncio.run(walk())


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 7 rows, so that the walk crosses batch boundaries on a small log."""
    monkeypatch.setattr(audit_chain, "ROWS_PER_BATCH", 7)


def test_an_untouched_chain_is_intact(database_url, small_batches):
    ids = append_rows(database_url, 30)
    assert ids == list(range(ids[0], ids[0] + 30))  # one id per row, drawn under the chain lock
    report = verify(database_url)
    assert report.intact and report.rows_checked == 30 and report.last_id == ids[-1]
    with psycopg.connect(database_url) as connection:
        last_hash = connection.execute("SELECT row_hash FROM operation_log WHERE id = %s", [ids[-1]]).fetchone()[0]
    assert report.last_hash == bytes(last_hash).hex()


def test_an_empty_log_is_intact(database_url):
    report = verify(database_url)
    assert report.intact and report.rows_checked == 0 and report.last_id is None


def test_a_changed_row_is_found(database_url, small_batches):
    ids = append_rows(database_url, 30)
    tamper(database_url, "UPDATE operation_log SET detail = '{\"note\": \"書き換え\"}' WHERE id = %s", ids[17])
    report = verify(database_url)
    assert (report.first_bad_id, report.problem, report.rows_checked) == (ids[17], ChainProblem.CONTENT_CHANGED, 18)
    assert report.last_id == ids[16]


def test_a_changed_hash_is_found(database_url, small_batches):
    ids = append_rows(database_url, 20)
    tamper(database_url, "UPDATE operation_log SET row_hash = sha256('forged') WHERE id = %s", ids[5])
    report = verify(database_url)
    assert (report.first_bad_id, report.problem) == (ids[5], ChainProblem.CONTENT_CHANGED)


def test_a_deleted_row_is_found_at_the_row_after_it(database_url, small_batches):
    ids = append_rows(database_url, 20)
    tamper(database_url, "DELETE FROM operation_log WHERE id = %s", ids[9])
    report = verify(database_url)
    assert (report.first_bad_id, report.problem, report.rows_checked) == (ids[10], ChainProblem.LINK_BROKEN, 10)


def test_deleting_the_first_rows_is_found(database_url):
    ids = append_rows(database_url, 5)
    tamper(database_url, "DELETE FROM operation_log WHERE id <= %s", ids[1])
    report = verify(database_url)
    assert (report.first_bad_id, report.problem, report.rows_checked) == (ids[2], ChainProblem.LINK_BROKEN, 1)


def test_a_changed_row_whose_hash_was_recomputed_breaks_the_link_to_the_next_row(database_url):
    ids = append_rows(database_url, 10)
    tamper(database_url, """UPDATE operation_log l SET actor = 'mallory' WHERE id = %s""", ids[4])
    tamper(database_url, """UPDATE operation_log l SET row_hash = sha256(previous_hash || operation_log_row_content(l))
                            WHERE id = %s""", ids[4])
    report = verify(database_url)
    assert (report.first_bad_id, report.problem) == (ids[5], ChainProblem.LINK_BROKEN)


def test_concurrent_appenders_keep_the_chain_in_id_order(database_url):
    """The first transaction appends, the second waits for the chain lock, the first appends again and commits:
    ids must follow the chain, or the verification would see a broken link where nothing was tampered with."""
    first, second = psycopg.connect(database_url), psycopg.connect(database_url)
    try:
        first.execute(_APPEND, ["a", "x.first", "1", Jsonb({})])
        waiting = threading.Thread(target=lambda: (second.execute(_APPEND, ["b", "x.second", "2",
                                                                            Jsonb({})]),
                                                   second.commit()))
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # blocked on the chain lock
        first.execute(_APPEND, ["a", "x.first_again", "3", Jsonb({})])
        first.commit()
        waiting.join(timeout=10)
    finally:
        first.close()
        second.close()
    append_rows(database_url, 1)
    with psycopg.connect(database_url) as connection:
        actions = [row[0] for row in connection.execute("SELECT action FROM operation_log ORDER BY id")]
    assert actions == ["x.first", "x.first_again", "x.second", "patron.read_summary"]
    assert verify(database_url).intact


def test_an_id_given_in_the_insert_is_replaced_by_the_next_in_the_chain(database_url):
    first = append_rows(database_url, 1)[0]
    with psycopg.connect(database_url, autocommit=True) as connection:
        given = connection.execute(
            """INSERT INTO operation_log (id, actor_kind, actor, action, entity)
               VALUES (1000000, 'staff', 'a', 'x', 'y') RETURNING id""").fetchone()[0]
    assert given == first + 1 and verify(database_url).intact


def test_appending_from_a_repeatable_read_transaction_is_refused(database_url):
    with psycopg.connect(database_url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="READ COMMITTED"):
            connection.execute(_APPEND, ["a", "x", "1", Jsonb({})])


def run_shoka(database_url: str, home, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SHOKA_DATABASE_URL": database_url, "SHOKA_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "shoka.cli", *arguments], env=environment, capture_output=True,
                          text=True, timeout=120)


def test_the_command_reports_an_intact_chain_and_a_broken_one_with_its_exit_status(database_url, tmp_path):
    ids = append_rows(database_url, 12)
    intact = run_shoka(database_url, tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact: 12 rows checked" in intact.stdout and f"last id {ids[-1]}" in intact.stdout
    tamper(database_url, "UPDATE operation_log SET detail = '{}' WHERE id = %s", ids[3])
    broken = run_shoka(database_url, tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert broken.stderr.strip().count("\n") == 0
    assert f"broken at id {ids[3]}" in broken.stderr and "content or hash was changed" in broken.stderr
    with psycopg.connect(database_url) as connection:
        verifications = connection.execute("SELECT actor_kind, detail->>'intact' FROM operation_log "
                                           "WHERE action = 'audit.verify' ORDER BY id").fetchall()
    assert verifications == [("cli", "true"), ("cli", "false")]
