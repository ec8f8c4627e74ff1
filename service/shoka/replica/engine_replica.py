"""The engine handle the service's lifespan owns: the Rust engine's derived state and its outbox follower.

Each service process (every granian worker) holds one. At start it rebuilds from PostgreSQL, then follows the
outbox. Health is "ok" while the follower keeps up; a follower that has not caught up for LAG_LIMIT_SECONDS
makes /healthz answer 503 so that a load balancer stops sending traffic to a stale replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import AsyncCursor

from shoka import _engine
from shoka.circulation import consistency
from shoka._engine import Catalogue, Circulation
from shoka.catalogue.replica import CatalogueReplica
from shoka.circulation.replica import CaughtUpSignal, CirculationReplica
from shoka.replica import retention
from shoka.replica.outbox import OutboxFollower

LAG_LIMIT_SECONDS = 10.0
# How often a process picks up the index writer's commits and checks for a new index generation.
MAINTENANCE_INTERVAL_SECONDS = 0.25
# The replica announces itself (for `shoka check`) every this many maintenance ticks.
HEARTBEAT_TICKS = 20

# The outbox events committed beyond a replica's horizon (the parameter), in order, the first
# CARRIED_EVENTS_LIMIT with the engine event they carry (NULL for an event that carries none, or beyond the
# limit), each with how far circulation events are pruned; a single row of NULLs and that horizon when there
# are none: see EngineReplica.position_query.
CARRIED_EVENTS_LIMIT = 64
POSITION_SQL = (f"SELECT e.seq, CASE WHEN row_number() OVER (ORDER BY e.seq) <= {CARRIED_EVENTS_LIMIT} "
                f"THEN e.payload -> 'engine' END, r.pruned_through "
                f"FROM outbox_retention r LEFT JOIN outbox_event e ON e.seq > %s ORDER BY e.seq")

logger = logging.getLogger(__name__)


class EngineReplica:
    def __init__(self, database_url: str, index_root: Path) -> None:
        self.engine_version: str = _engine.__version__
        self.catalogue_replica = CatalogueReplica(database_url, index_root)
        self.circulation_replica = CirculationReplica(database_url, self.catalogue_replica)
        self.caught_up = CaughtUpSignal()
        self.follower = OutboxFollower(database_url, [self.catalogue_replica, self.circulation_replica],
                                       on_caught_up=self.caught_up.advance, on_reloaded=self._reloaded)
        self._maintenance: asyncio.Task | None = None
        self._checking: asyncio.Task | None = None  # answering `shoka check` requests
        self._retention: asyncio.Task | None = None
        self._started = False
        self.database_url = database_url
        self.replica_id = consistency.new_replica_id()
        self._last_check_id = 0
        self._answered_through = 0  # see current_through
        self._maintenance_connection: psycopg.Connection | None = None

    @property
    def catalogue(self) -> Catalogue:
        catalogue = self.catalogue_replica.catalogue
        assert catalogue is not None, "the replica has started"
        return catalogue

    @property
    def circulation(self) -> Circulation:
        engine = self.circulation_replica.engine
        assert engine is not None, "the replica has started"
        return engine

    @property
    def current_through(self) -> int:
        """Every outbox event up to this seq is applied here: the follower's horizon, or beyond it the newest
        position answer applied in full. A position answer lists every event committed beyond the horizon it
        was asked from (appends are serialised until COMMIT, so a visible seq has no invisible one before it);
        once bring_current has applied them, the replica is current through the last."""
        return max(self.caught_up.applied_seq, self._answered_through)

    def position_query(self) -> tuple[str, list[int]]:
        """The statement (SQL, parameters) a transaction runs under its locks to learn which committed outbox
        events this replica may lack: those beyond current_through, with the engine events they carry. Its rows
        go to bring_current. Asked from current_through rather than the follower's horizon, which trails the
        counter by its coalescing pause (tens of events at 8 desks), the answer holds the few events committed
        since this process's previous counter transaction."""
        return POSITION_SQL, [self.current_through]

    async def bring_current(self, position: Sequence[tuple[int | None, dict | None, int]],
                            timeout_seconds: float = 2.0) -> None:
        """Returns once every event of `position` (position_query's rows) is applied here. Those this process
        committed are (Changes.apply_committed); circulation events that other processes committed are applied
        at once from the engine events the rows carry, as the follower would — with two workers nearly every
        transaction meets some, and waiting for the follower would cost a round trip and a wake-up each time.
        Only an event that carries none (a catalogue, rules or patron edit, a bulk change) waits for the
        follower; so does a replica that events it never applied were pruned from under (it stalled for longer
        than the retention's grace): what they changed is only in the tables now, and the follower reloads."""
        horizon = self.current_through
        pruned_through = position[0][2]
        events = [(seq, carried) for seq, carried, _pruned in position if seq is not None]
        circulation = self.circulation_replica
        missing = [(seq, carried) for seq, carried in events if seq > horizon and not circulation.applied_here(seq)]
        if pruned_through > horizon:
            await self.wait_until_applied(max(pruned_through, events[-1][0] if events else 0), timeout_seconds)
        elif missing:
            if all(carried is not None for _seq, carried in missing):
                circulation.apply_carried(missing)
            else:
                await self.wait_until_applied(missing[-1][0], timeout_seconds)
        if events:
            self._answered_through = max(self._answered_through, events[-1][0])

    def _reloaded(self, snapshot_seq: int) -> None:
        """The follower reloaded the loan state from a snapshot standing at `snapshot_seq`. Events beyond it
        that position answers or this process's own commits applied meanwhile may have gone with the replaced
        state (the follower applies them again): the next position answer is asked from the snapshot, so that
        a desk meets them too instead of deciding without them."""
        self._answered_through = min(self._answered_through, snapshot_seq)

    async def catch_up_with(self, cursor: AsyncCursor) -> None:
        """bring_current for a transaction that holds its locks: asks the database on `cursor`."""
        await cursor.execute(*self.position_query())
        await self.bring_current(await cursor.fetchall())

    async def wait_until_applied(self, seq: int, timeout_seconds: float = 2.0) -> None:
        """Returns once the follower has applied every outbox event up to `seq`."""
        if self.caught_up.applied_seq >= seq:
            return
        self.follower.request_catch_up()
        await self.caught_up.wait_for(seq, timeout_seconds)

    async def start(self) -> None:
        def last_check() -> int:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                return connection.execute("SELECT coalesce(max(id), 0) FROM replica_check").fetchone()[0]

        await asyncio.to_thread(self.follower.rebuild)
        await self.caught_up.advance(self.follower.last_seq)
        self._last_check_id = await asyncio.to_thread(last_check)
        self.follower.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="catalogue-maintenance")
        self._retention = asyncio.create_task(self._retain(), name="retention")
        self._started = True

    async def _maintain(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(MAINTENANCE_INTERVAL_SECONDS)
            ticks += 1
            try:
                await asyncio.to_thread(self.catalogue_replica.maintain)
                if ticks % HEARTBEAT_TICKS == 1:
                    await asyncio.to_thread(self._heartbeat)
                # Answering a check reads the whole open state twice (seconds at tier L): a task of its own, so
                # that the heartbeat goes on meanwhile and the replica is not taken for dead and pruned past.
                if self._checking is None or self._checking.done():
                    self._checking = asyncio.create_task(self._answer_checks_or_log(), name="consistency-check")
            except Exception:
                logger.exception("engine maintenance failed; retrying")
                self._close_maintenance_connection()  # the next tick starts on a fresh one

    async def _answer_checks_or_log(self) -> None:
        try:
            await self._answer_checks()
        except Exception:
            logger.exception("answering a consistency check failed; retrying")
            self._close_maintenance_connection()  # the next tick starts on a fresh one

    async def _retain(self) -> None:
        """A retention round (shoka.replica.retention) every ROUND_INTERVAL_SECONDS, on a connection of its own:
        the first round on a database that never pruned deletes for a while, and the maintenance ticks (the
        heartbeat among them) must go on meanwhile."""
        def one_round() -> None:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                retention.prune(connection)

        while True:
            await asyncio.sleep(retention.ROUND_INTERVAL_SECONDS)
            try:
                await asyncio.to_thread(one_round)
            except Exception:
                logger.exception("retention round failed; trying again next round")

    def _maintenance_database(self) -> psycopg.Connection:
        """The maintenance ticks' own connection (used from one worker thread at a time), kept open: the ticks
        come four times a second, and a new connection each time cost the database a backend start-up."""
        if self._maintenance_connection is None or self._maintenance_connection.closed:
            self._maintenance_connection = psycopg.connect(self.database_url, autocommit=True)
        return self._maintenance_connection

    def _close_maintenance_connection(self) -> None:
        if self._maintenance_connection is not None:
            self._maintenance_connection.close()
            self._maintenance_connection = None

    def _heartbeat(self) -> None:
        consistency.heartbeat(self._maintenance_database(), self.replica_id, self.follower.last_seq)

    async def _answer_checks(self) -> None:
        """Answers `shoka check` requests made since this replica started (see circulation/consistency.py)."""
        def pending() -> list[int]:
            return [row[0] for row in self._maintenance_database().execute(
                """SELECT c.id FROM replica_check c WHERE c.id > %s AND NOT EXISTS (
                       SELECT 1 FROM replica_check_result r WHERE r.check_id = c.id AND r.replica_id = %s)
                   ORDER BY c.id""", [self._last_check_id, self.replica_id])]

        for check_id in await asyncio.to_thread(pending):
            first = await self._compare()
            second = await self._compare() if first[1] else first
            differences = consistency.persistent(first[1], second[1]) if first[1] else []

            def answer() -> None:
                consistency.answer_check(self._maintenance_database(), check_id, self.replica_id, second[0],
                                         differences)

            await asyncio.to_thread(answer)
            self._last_check_id = check_id

    async def _compare(self) -> tuple[int, list[dict]]:
        seq, state = await asyncio.to_thread(consistency.read_snapshot, self.database_url)
        await self.wait_until_applied(seq, timeout_seconds=10.0)
        return seq, await asyncio.to_thread(consistency.differences_from, self.circulation, state)

    async def stop(self) -> None:
        for task in (self._maintenance, self._checking, self._retention):
            if task is not None:
                task.cancel()
        await self.follower.stop()
        await asyncio.to_thread(self._close_maintenance_connection)
        await asyncio.to_thread(self.catalogue_replica.close)
        await asyncio.to_thread(self.circulation_replica.close)

        def forget() -> None:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                consistency.forget(connection, self.replica_id)

        try:
            await asyncio.to_thread(forget)
        except psycopg.Error:
            logger.warning("could not remove this replica's registration")

    def health(self) -> str:
        if not self._started:
            return "starting"
        lag = self.follower.seconds_since_caught_up()
        if lag > LAG_LIMIT_SECONDS:
            return f"outbox follower {lag:.0f} s behind"
        return "ok"
