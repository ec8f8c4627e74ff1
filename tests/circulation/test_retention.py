"""Retention rounds (shoka.replica.retention) against a real database: which outbox events go and when, the
counter's remembered answers, stale registrations, the round's limit and its lock."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from shoka.replica import retention

NO_GRACE = dt.timedelta(0)


def append(connection: psycopg.Connection, topic: str, entity_id: int = 1) -> int:
    return connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES (%s, %s) RETURNING seq",
                              [topic, entity_id]).fetchone()[0]


def register(connection: psycopg.Connection, replica_id: str, applied_seq: int, seconds_since_heartbeat: int = 0):
    connection.execute(
        """INSERT INTO engine_replica (replica_id, host, pid, started_at, heartbeat_at, applied_seq)
           VALUES (%(id)s, 'test', 1, now(), now() - make_interval(secs => %(age)s), %(seq)s)
           ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at,
                                                  applied_seq = EXCLUDED.applied_seq""",
        {"id": replica_id, "seq": applied_seq, "age": seconds_since_heartbeat})


def remaining(connection: psycopg.Connection) -> list[tuple[int, str]]:
    return connection.execute("SELECT seq, topic FROM outbox_event ORDER BY seq").fetchall()


def test_circulation_events_go_once_every_live_replica_has_them_and_the_grace_is_over(connection):
    loan, bib, hold, later_loan = (append(connection, topic) for topic in ("loan", "bib", "hold", "loan"))
    register(connection, "ahead", later_loan)
    register(connection, "behind", bib)
    register(connection, "stalled", 0, seconds_since_heartbeat=60)  # not live: it will reload if it wakes
    first = retention.prune(connection, grace=NO_GRACE)
    assert first.outbox_events == 0  # the first round only marks where the grace starts
    newest = append(connection, "transit")  # after the mark: waits for the next one
    second = retention.prune(connection, grace=NO_GRACE)
    # The live replica that is behind holds the horizon at its position; catalogue events always stay.
    assert (second.outbox_events, second.pruned_through) == (1, bib)
    assert remaining(connection) == [(bib, "bib"), (hold, "hold"), (later_loan, "loan"), (newest, "transit")]
    register(connection, "behind", newest)
    third = retention.prune(connection, grace=NO_GRACE)  # under the mark the second round set on reaching its horizon
    assert (third.outbox_events, third.pruned_through) == (2, later_loan)  # "ahead" has not got `newest` yet
    assert remaining(connection) == [(bib, "bib"), (newest, "transit")]


def test_nothing_goes_before_the_grace_is_over(connection):
    loan = append(connection, "loan")
    register(connection, "live", loan)
    for _ in range(2):
        assert retention.prune(connection).outbox_events == 0  # the default grace: an hour
    assert remaining(connection) == [(loan, "loan")]


def test_events_committed_after_the_mark_wait_for_the_next_one(connection):
    before = append(connection, "loan")
    retention.prune(connection, grace=NO_GRACE)
    after = append(connection, "loan")
    register(connection, "live", after)
    assert retention.prune(connection, grace=NO_GRACE).pruned_through == before
    assert remaining(connection) == [(after, "loan")]


def test_a_round_deletes_at_most_its_limit_and_the_next_goes_on(connection):
    seqs = [append(connection, "loan", number) for number in range(25)]
    retention.prune(connection, grace=NO_GRACE)
    rounds = [retention.prune(connection, grace=NO_GRACE, events_per_round=10) for _ in range(3)]
    assert [(pruned.outbox_events, pruned.pruned_through) for pruned in rounds] == [
        (10, seqs[9]), (10, seqs[19]), (5, seqs[24])]
    assert remaining(connection) == []


def test_remembered_answers_and_stale_registrations_expire(connection):
    connection.execute("""INSERT INTO idempotent_request (request_id, operation, response, created_at) VALUES
                              ('yesterday-1', 'checkout', '{"patron": "1000000001"}', now() - interval '25 hours'),
                              ('this-hour-1', 'checkout', '{"patron": "1000000002"}', now() - interval '5 minutes')""")
    register(connection, "killed", 0, seconds_since_heartbeat=2 * 86400)
    register(connection, "serving", 0)
    connection.execute("INSERT INTO replica_check (requested_at) VALUES (now() - interval '2 days'), (now())")
    pruned = retention.prune(connection, grace=NO_GRACE)
    assert (pruned.answers, pruned.replica_registrations, pruned.replica_checks) == (1, 1, 1)
    assert connection.execute("SELECT array_agg(request_id) FROM idempotent_request").fetchone()[0] == ["this-hour-1"]
    assert connection.execute("SELECT array_agg(replica_id) FROM engine_replica").fetchone()[0] == ["serving"]


def test_one_process_at_a_time_runs_a_round(connection, database_url):
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [retention.RETENTION_LOCK_KEY])
        assert retention.prune(connection, grace=NO_GRACE) is None
        other.execute("SELECT pg_advisory_unlock(%s)", [retention.RETENTION_LOCK_KEY])
    assert retention.prune(connection, grace=NO_GRACE) is not None


@pytest.mark.parametrize("retention_row", ["marked", "unmarked"])
def test_an_empty_outbox_prunes_nothing(connection, retention_row):
    if retention_row == "marked":
        retention.prune(connection, grace=NO_GRACE)
    pruned = retention.prune(connection, grace=NO_GRACE)
    assert (pruned.outbox_events, pruned.pruned_through) == (0, 0)
