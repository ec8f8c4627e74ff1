"""This process's circulation engine: rebuilt from a snapshot at start, then following the outbox.

The follower re-reads the rows each event names (loans, holds, transits, patrons) and applies them as engine
events carrying the event's seq, so applying late or twice changes nothing. Rules and calendars are reloaded
whole when an event says they changed. `wait_until_current` lets a transaction that holds its row locks wait
until every change committed before it has been applied here: decisions are then made on current state.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import msgspec
import psycopg

from shoka._engine import Catalogue, Circulation
from shoka.circulation import engine_state
from shoka.replica.outbox import OutboxEvent

_encoder = msgspec.json.Encoder()


class ReplicaBehind(Exception):
    """The engine did not catch up with the database in time; the request can be retried."""


class CirculationReplica:
    topics = frozenset({"patron", "loan", "hold", "transit", "calendar", "rules", "service_point"})

    def __init__(self, database_url: str, catalogue_source) -> None:
        self.database_url = database_url
        self._catalogue_source = catalogue_source  # the catalogue replica, whose holdings the engine shares
        self.engine: Circulation | None = None
        self._connection: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def rebuild(self, connection: psycopg.Connection) -> None:
        catalogue: Catalogue = self._catalogue_source.catalogue
        engine = Circulation(catalogue)
        engine.set_rules(_encoder.encode(engine_state.read_rules(connection)))
        engine.set_calendar(_encoder.encode(engine_state.read_calendar(connection)))
        as_of = connection.execute("SELECT coalesce(max(seq), 0) FROM outbox_event").fetchone()[0]
        snapshot = engine_state.read_open_state(connection)
        engine.load(_encoder.encode({"as_of_seq": as_of, **snapshot}))
        self.engine = engine

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
            topic_ids: dict[str, list[int]] = {}
            seq_of: dict[tuple[str, int], int] = {}
            for event in events:
                if event.topic in ("patron", "loan", "hold", "transit"):
                    topic_ids.setdefault(event.topic, []).append(event.entity_id)
                    seq_of[(event.topic, event.entity_id)] = event.seq  # the latest event of an entity wins
            if topic_ids:
                engine_events = engine_state.events_for(connection, topic_ids, seq_of)
                if engine_events:
                    engine.apply_events(_encoder.encode(engine_events))

    def apply_local(self, engine_events: list[dict]) -> None:
        """Applies the events of a transaction this process just committed (seq already set)."""
        if engine_events and self.engine is not None:
            self.engine.apply_events(_encoder.encode(engine_events))

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
                raise ReplicaBehind(f"the loan state has not caught up with the database (at {self.applied_seq}, "
                                    f"needs {seq}); retry") from None
