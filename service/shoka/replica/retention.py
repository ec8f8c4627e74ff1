"""Retention: what the database keeps only while something may still need it.

- **Circulation events in the outbox** (patron, loan, hold, transit). They exist for the replicas to follow, and
  a replica that starts rebuilds its loan state from the tables, not from old events. A loan event names the
  patron and the copy: kept, the outbox would be the very reading record that the loan table forgets on return
  (REQUIREMENTS §2, privacy), and it would grow by every checkout for as long as the library runs. So an event is
  removed once every live replica has applied it and it has been committed for OUTBOX_GRACE.
- **Catalogue events** (bib, item, service point, calendar, rules) are kept: they name no one, they are few,
  and the search index, which persists across restarts, catches up from them.
- **The counter's remembered answers** (idempotent_request), which carry card and barcode: a desk retries within
  seconds, a kiosk that was offline within hours; kept ANSWER_RETENTION.
- **Registrations of replicas that stopped without saying so** (a killed process) and answered `shoka check`
  requests, after STALE_RECORD_RETENTION.

The grace is measured from a mark (outbox_retention.marked_seq, marked_at): every event up to the newest seq at
the mark was committed before it, so once the mark is OUTBOX_GRACE old they are all at least that old — a
replica still rebuilding from an older snapshot has time to start following. A replica that nevertheless falls
behind the pruned events (stalled for longer than its heartbeat's liveness and the grace together) learns it
from its next outbox read and reloads its loan state (OutboxFollower).

Every service process runs a round every ROUND_INTERVAL_SECONDS (EngineReplica); an advisory lock lets one at a
time do the work.
"""

from __future__ import annotations

import datetime as dt
import logging

import msgspec
import psycopg

from shoka.circulation.consistency import LIVE_SECONDS

PRUNED_TOPICS = frozenset({"patron", "loan", "hold", "transit"})
OUTBOX_GRACE = dt.timedelta(hours=1)
ANSWER_RETENTION = dt.timedelta(days=1)
STALE_RECORD_RETENTION = dt.timedelta(days=1)
ROUND_INTERVAL_SECONDS = 60.0
# A round deletes at most this many events, in transactions of DELETE_BATCH, so that the first round on a
# database that never pruned (millions of events) neither holds one long transaction nor stalls its process.
DELETE_BATCH = 10_000
EVENTS_PER_ROUND = 100_000
RETENTION_LOCK_KEY = 7310004

logger = logging.getLogger(__name__)


class Pruned(msgspec.Struct, frozen=True):
    """What one round removed."""

    outbox_events: int
    pruned_through: int
    answers: int
    replica_registrations: int
    replica_checks: int


# Whether there is a mark, whether it is a grace old, the horizon it allows (no further than any live replica
# has applied), and how far events are pruned already.
_STATE = f"""
    SELECT r.marked_at IS NOT NULL, r.marked_at <= now() - %s,
           least(r.marked_seq, (SELECT min(applied_seq) FROM engine_replica
                                WHERE heartbeat_at > now() - make_interval(secs => {LIVE_SECONDS}))),
           r.pruned_through
    FROM outbox_retention r"""

_DELETE_EVENTS = """
    WITH doomed AS (SELECT seq FROM outbox_event WHERE seq > %(after)s AND seq <= %(horizon)s
                      AND topic = ANY(%(topics)s) ORDER BY seq LIMIT %(limit)s),
         gone AS (DELETE FROM outbox_event e USING doomed WHERE e.seq = doomed.seq RETURNING e.seq)
    UPDATE outbox_retention SET pruned_through = greatest(pruned_through, (SELECT max(seq) FROM gone))
    RETURNING (SELECT count(*) FROM gone), pruned_through"""

_MARK = """
    UPDATE outbox_retention SET marked_seq = (SELECT coalesce(max(seq), 0) FROM outbox_event), marked_at = now()"""


def prune(connection: psycopg.Connection, *, grace: dt.timedelta = OUTBOX_GRACE,
          answer_retention: dt.timedelta = ANSWER_RETENTION,
          stale_record_retention: dt.timedelta = STALE_RECORD_RETENTION,
          events_per_round: int = EVENTS_PER_ROUND) -> Pruned | None:
    """One round on an autocommit connection; None when another process is running one."""
    if not connection.execute("SELECT pg_try_advisory_lock(%s)", [RETENTION_LOCK_KEY]).fetchone()[0]:
        return None
    try:
        events, pruned_through = _prune_outbox(connection, grace, events_per_round)
        answers = connection.execute("DELETE FROM idempotent_request WHERE created_at < now() - %s",
                                     [answer_retention]).rowcount
        registrations = connection.execute("DELETE FROM engine_replica WHERE heartbeat_at < now() - %s",
                                           [stale_record_retention]).rowcount
        checks = connection.execute("DELETE FROM replica_check WHERE requested_at < now() - %s",
                                    [stale_record_retention]).rowcount
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", [RETENTION_LOCK_KEY])
    pruned = Pruned(outbox_events=events, pruned_through=pruned_through, answers=answers,
                    replica_registrations=registrations, replica_checks=checks)
    if events or answers or registrations or checks:
        logger.info("pruned what nothing needs any more", extra=msgspec.structs.asdict(pruned))
    return pruned


def _prune_outbox(connection: psycopg.Connection, grace: dt.timedelta, events_per_round: int) -> tuple[int, int]:
    """Deletes the circulation events up to the due horizon, and marks anew once it is reached (or if there was no
    mark yet). Returns (events deleted, pruned_through)."""
    marked, due, horizon, pruned_through = connection.execute(_STATE, [grace]).fetchone()
    if not due:
        if not marked:
            connection.execute(_MARK)
        return 0, pruned_through
    deleted = 0
    while True:
        limit = min(DELETE_BATCH, events_per_round - deleted)
        if limit <= 0:
            return deleted, pruned_through  # the rest next round, under the same mark
        count, pruned_through = connection.execute(_DELETE_EVENTS, {
            "after": pruned_through, "horizon": horizon, "topics": sorted(PRUNED_TOPICS), "limit": limit}).fetchone()
        deleted += count
        if count < limit:
            break
    # Reached: what is left up to the horizon names no one. Marked anew, the next horizon is a grace away.
    pruned_through = connection.execute(
        "UPDATE outbox_retention SET pruned_through = greatest(pruned_through, %s) RETURNING pruned_through",
        [horizon]).fetchone()[0]
    connection.execute(_MARK)
    return deleted, pruned_through
