"""Following the outbox: change events in commit order, after any gap or reconnect.

Appends to outbox_event are serialised by the database (see migration 0001), so sequence order is commit
order and `seq > last applied` never skips an event that commits later. Consumers apply by entity version
(events carry new state), so an event applied twice is harmless. Circulation events are pruned once every
replica has them (shoka.replica.retention); a follower that finds it was not among them reloads those topics'
consumers from a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import msgspec
import psycopg

from shoka.replica.retention import PRUNED_TOPICS
from shoka.replica.snapshot_position import SNAPSHOT_POSITION_SQL

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "shoka_outbox"
POLL_INTERVAL_SECONDS = 1.0
RECONNECT_PAUSE_SECONDS = 1.0
# A notification is acted on after this pause, so that under load the follower reads commits in batches instead
# of one query per commit; a request that needs the follower now (request_catch_up) does not wait for it.
NOTIFY_COALESCE_SECONDS = 0.02
BATCH_LIMIT = 5000


class OutboxEvent(msgspec.Struct, frozen=True):
    seq: int
    topic: str
    entity_id: int
    payload: dict[str, Any]


class OutboxConsumer(Protocol):
    """A piece of derived state: rebuilt from a snapshot, then kept current from events."""

    topics: frozenset[str]

    def rebuild(self, connection: psycopg.Connection) -> None:
        """From the snapshot of `connection`. Called at start, and again while serving for a consumer of pruned
        topics whose follower fell behind the pruned events (it then ignores the events its snapshot holds)."""

    def apply(self, events: Sequence[OutboxEvent]) -> None: ...


async def read_batch(connection: psycopg.AsyncConnection, after_seq: int) -> tuple[int, list[OutboxEvent]]:
    """The events after `after_seq`, and how far circulation events are pruned, from one snapshot: a pruning
    round deletes and records in one transaction, so the two always agree."""
    rows = await (await connection.execute(
        "SELECT r.pruned_through, e.seq, e.topic, e.entity_id, e.payload FROM outbox_retention r LEFT JOIN LATERAL "
        "(SELECT seq, topic, entity_id, payload FROM outbox_event WHERE seq > %s ORDER BY seq LIMIT %s) e ON true "
        "ORDER BY e.seq", [after_seq, BATCH_LIMIT])).fetchall()
    return rows[0][0], [OutboxEvent(*row[1:]) for row in rows if row[1] is not None]


class OutboxFollower:
    """Rebuilds its consumers at start, then follows the outbox until stopped."""

    def __init__(self, database_url: str, consumers: Sequence[OutboxConsumer],
                 on_caught_up: Callable[[int], Awaitable[None]] | None = None,
                 on_reloaded: Callable[[int], None] | None = None) -> None:
        self.database_url = database_url
        self.consumers = list(consumers)
        self.on_caught_up = on_caught_up
        self.on_reloaded = on_reloaded
        self.last_seq = 0
        self._reloaded_through = 0  # see _reload_pruned_topics
        self.events_applied = 0
        self.last_caught_up_monotonic = 0.0
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()  # a notification (or a request)
        self._urgent = asyncio.Event()  # a request waits for the follower
        self._stopping = False

    def rebuild(self) -> None:
        """Rebuild every consumer from one consistent snapshot (blocking: run it in a thread)."""
        self.last_seq = self._rebuild(self.consumers)
        self.last_caught_up_monotonic = time.monotonic()

    def _rebuild(self, consumers: Sequence[OutboxConsumer]) -> int:
        """Rebuilds `consumers` from one consistent snapshot; returns the snapshot's outbox position."""
        with psycopg.connect(self.database_url) as connection:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            snapshot_seq = connection.execute(SNAPSHOT_POSITION_SQL).fetchone()[0]
            for consumer in consumers:
                consumer.rebuild(connection)
            connection.rollback()
        return snapshot_seq

    async def _reload_pruned_topics(self, pruned_through: int) -> None:
        """Circulation events this follower had not read yet were pruned: it was not among the live replicas (a
        process stalled for longer than the retention's grace). The consumers of those topics reload from a
        snapshot; the others go on from last_seq, since their events are kept, and the reloaded ones ignore the
        events their snapshot holds. The snapshot is newer than the pruning, so it reaches past it."""
        logger.warning("outbox events this replica had not read were pruned; reloading its loan state",
                       extra={"last_seq": self.last_seq, "pruned_through": pruned_through})
        reloading = [consumer for consumer in self.consumers if consumer.topics & PRUNED_TOPICS]
        self._reloaded_through = await asyncio.to_thread(self._rebuild, reloading)
        if self.on_reloaded is not None:
            self.on_reloaded(self._reloaded_through)

    async def catch_up(self, connection: psycopg.AsyncConnection) -> int:
        applied = 0
        while True:
            pruned_through, events = await read_batch(connection, self.last_seq)
            reloaded = pruned_through > max(self.last_seq, self._reloaded_through)
            if reloaded:
                await self._reload_pruned_topics(pruned_through)
            if events:
                for consumer in self.consumers:
                    wanted = [event for event in events if event.topic in consumer.topics]
                    if wanted:
                        await asyncio.to_thread(consumer.apply, wanted)
                self.last_seq = events[-1].seq
            applied += len(events)
            if len(events) < BATCH_LIMIT and not reloaded:  # after a reload, read what came meanwhile too
                break
        # Every event up to the reload's snapshot is applied: the pruned topics' from it, the others' read since
        # (the last read came after the snapshot). Standing there, the follower answers requests that wait for
        # the pruned horizon even when no event came after it.
        self.last_seq = max(self.last_seq, self._reloaded_through)
        self.events_applied += applied
        self.last_caught_up_monotonic = time.monotonic()
        if self.on_caught_up is not None:
            await self.on_caught_up(self.last_seq)
        return applied

    def request_catch_up(self) -> None:
        """Wakes the follower now (a request waits for it), instead of at the next notification."""
        self._urgent.set()
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="outbox-follower")

    async def stop(self) -> None:
        self._stopping = True
        self._urgent.set()
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    def seconds_since_caught_up(self) -> float:
        return time.monotonic() - self.last_caught_up_monotonic

    async def _follow(self) -> None:
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as listener, \
                        await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as reader:
                    await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    doorbell = Doorbell(listener, self._wake)
                    try:
                        while not self._stopping:
                            # Cleared and the doorbell re-armed before catching up: a wake-up that arrives during
                            # the catch-up is kept for the next round instead of waiting out the poll interval.
                            self._wake.clear()
                            self._urgent.clear()
                            doorbell.answer()
                            await self.catch_up(reader)
                            await _wait(self._wake, POLL_INTERVAL_SECONDS)
                            if not self._urgent.is_set():
                                await _wait(self._urgent, NOTIFY_COALESCE_SECONDS)
                    finally:
                        doorbell.disarm()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A lost connection: reconnect and catch up from the horizon; nothing is skipped.
                logger.warning("outbox follower lost its connection; reconnecting", exc_info=True)
                await asyncio.sleep(RECONNECT_PAUSE_SECONDS)


class Doorbell:
    """The listening connection, rung by any notification on it. Every commit that appends to the outbox notifies,
    hundreds of times a second at a busy counter, and all the follower needs to know is that something came: so
    the socket is not read notification by notification. The first byte that arrives sets `wake` and silences
    the bell; the follower answers it once per round, discarding whatever notifications came meanwhile and
    re-arming it. A lost connection rings too, and answering it then raises (the follower reconnects)."""

    def __init__(self, listener: psycopg.AsyncConnection, wake: asyncio.Event) -> None:
        self._connection = listener.pgconn
        self._socket = listener.pgconn.socket
        self._wake = wake
        self._loop = asyncio.get_running_loop()
        self._armed = False

    def answer(self) -> None:
        """Discards the notifications received so far and re-arms the bell; raises if the connection is lost."""
        self._connection.consume_input()
        while self._connection.notifies() is not None:
            pass
        if not self._armed:
            self._loop.add_reader(self._socket, self._ring)
            self._armed = True

    def disarm(self) -> None:
        if self._armed:
            self._loop.remove_reader(self._socket)
            self._armed = False

    def _ring(self) -> None:
        self.disarm()
        self._wake.set()


async def _wait(event: asyncio.Event, timeout_seconds: float) -> None:
    """Waits for `event` at most `timeout_seconds`."""
    try:
        await asyncio.wait_for(event.wait(), timeout_seconds)
    except TimeoutError:
        pass
