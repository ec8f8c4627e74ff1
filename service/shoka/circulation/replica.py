"""This process's circulation engine: rebuilt from a snapshot at start, then following the outbox.

An event written by a circulation transaction carries its engine event (payload "engine"), which the follower
applies as it is; for any other event it re-reads the rows the event names (loans, holds, transits, patrons).
Either way the engine event carries the outbox seq, so applying late or twice changes nothing. Rules and
calendars are reloaded whole when an event says they changed. A transaction this process committed is applied
here at once (apply_local) and remembered, so the follower skips it and a desk's next decision need not wait
for the follower; so are other processes' events that a transaction's position answer carries
(apply_carried, see EngineReplica.bring_current).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import msgspec
import psycopg

from shoka._engine import Catalogue, Circulation
from shoka.circulation import engine_state
from shoka.errors import Unavailable
from shoka.replica.outbox import OutboxEvent
from shoka.replica.snapshot_position import SNAPSHOT_POSITION_SQL

_encoder = msgspec.json.Encoder()


class ReplicaBehind(Unavailable):
    """The engine did not catch up with the database in time (a bulk import is being followed, say): nothing was
    written, and the request can be retried (503)."""

    code = "replica_behind"


class CirculationReplica:
    topics = frozenset({"patron", "loan", "hold", "transit", "calendar", "rules", "service_point"})

    def __init__(self, database_url: str, catalogue_source) -> None:
        self.database_url = database_url
        self._catalogue_source = catalogue_source  # the catalogue replica, whose holdings the engine shares
        self.engine: Circulation | None = None
        self._connection: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self._applied_here: set[int] = set()  # seqs apply_local applied that the follower has not passed yet

    def rebuild(self, connection: psycopg.Connection) -> None:
        """At start, and again while serving if the follower fell behind pruned events: the engine's loan state is
        replaced in one step (Circulation.load). The seqs applied here before are forgotten only after it, so that
        the follower applies again whatever the replaced state had from apply_local and the snapshot lacks."""
        engine = self.engine
        if engine is None:
            catalogue: Catalogue = self._catalogue_source.catalogue
            engine = Circulation(catalogue)
        engine.set_rules(_encoder.encode(engine_state.read_rules(connection)))
        engine.set_calendar(_encoder.encode(engine_state.read_calendar(connection)))
        as_of = connection.execute(SNAPSHOT_POSITION_SQL).fetchone()[0]
        snapshot = engine_state.read_open_state(connection)
        engine.load(_encoder.encode({"as_of_seq": as_of, **snapshot}))
        self.engine = engine
        self._applied_here.clear()

    def _database(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.database_url, autocommit=True)
        return self._connection

    def apply(self, events: Sequence[OutboxEvent]) -> None:
        with self._lock:
            engine = self.engine
            assert engine is not None, "rebuild() runs before apply()"
            connection = self._database()
            if any(event.topic in ("calendar", "service_point") for event in events):
                engine.set_calendar(_encoder.encode(engine_state.read_calendar(connection)))
            if any(event.topic == "rules" for event in events):
                engine.set_rules(_encoder.encode(engine_state.read_rules(connection)))
            applied_here = self._applied_here
            carried: list[dict] = []
            topic_ids: dict[str, list[int]] = {}
            seq_of: dict[tuple[str, int], int] = {}
            for event in events:
                if event.seq in applied_here or event.topic not in ("patron", "loan", "hold", "transit"):
                    continue
                engine_event = event.payload.get("engine")
                if engine_event is not None:
                    carried.append({**engine_event, "seq": event.seq})
                else:
                    topic_ids.setdefault(event.topic, []).append(event.entity_id)
                    seq_of[(event.topic, event.entity_id)] = event.seq  # the latest event of an entity wins
            engine_events = carried
            if topic_ids:
                engine_events = sorted(carried + engine_state.events_for(connection, topic_ids, seq_of),
                                       key=lambda engine_event: engine_event["seq"])
            if engine_events:
                engine.apply_events(_encoder.encode(engine_events))
            self._forget_applied_through(events[-1].seq)

    def apply_local(self, engine_events: list[dict]) -> None:
        """Applies the events of a transaction this process just committed (seq already set)."""
        if engine_events and self.engine is not None:
            self.engine.apply_events(_encoder.encode(engine_events))
            self._applied_here.update(event["seq"] for event in engine_events)

    def apply_carried(self, carried: Sequence[tuple[int, dict]]) -> None:
        """Applies engine events other processes committed, as a transaction's position answer carried them
        (seq, engine event), and remembers them like apply_local's."""
        self.apply_local([{**engine_event, "seq": seq} for seq, engine_event in carried])

    def applied_here(self, seq: int) -> bool:
        return seq in self._applied_here

    def _forget_applied_through(self, seq: int) -> None:
        """The follower has passed `seq`: earlier local seqs need no remembering (one that apply_local added
        after the follower had already read it goes with the next batch)."""
        for applied in list(self._applied_here):  # a copy: apply_local adds from the event loop meanwhile
            if applied <= seq:
                self._applied_here.discard(applied)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class CaughtUpSignal:
    """Lets requests wait until the outbox follower has applied a given sequence number."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self.applied_seq = 0

    async def advance(self, seq: int) -> None:
        async with self._condition:
            if seq > self.applied_seq:
                self.applied_seq = seq
            self._condition.notify_all()

    async def wait_for(self, seq: int, timeout_seconds: float) -> None:
        async with self._condition:
            try:
                await asyncio.wait_for(self._condition.wait_for(lambda: self.applied_seq >= seq), timeout_seconds)
            except TimeoutError:
                raise ReplicaBehind(f"貸出データの反映が遅れています。数秒後にもう一度お試しください"
                                    f"（反映済み {self.applied_seq}、必要 {seq}）。") from None
