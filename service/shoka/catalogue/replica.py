"""This process's catalogue: the search index generation it reads, the holdings it joins, and (in the one
process that holds the index writer) keeping the index current from the outbox.

At start the process opens the current index generation — building the first one if there is none, under
the build lock so that two workers starting together build it once — and loads every copy's state. Then it
follows the outbox: changed copies update the holdings at once in every process (their loan state is the
circulation replica's, which shares the holdings);
changed records are re-indexed by the writer process and picked up by the others within a reload interval.
If the writer process dies, another takes the writer over and catches up from the index's last commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import psycopg

from shoka._engine import Catalogue, IndexUnavailableError
from shoka.catalogue import index_sync
from shoka.catalogue.index_folder import IndexFolder
from shoka.replica.outbox import OutboxEvent
from shoka.replica.snapshot_position import SNAPSHOT_POSITION_SQL

logger = logging.getLogger(__name__)

# Copies' facts; their loan state (loans, holds, transits) is the circulation engine's to follow.
ITEM_TOPICS = frozenset({"item"})


def build_new_generation(connection: psycopg.Connection, folder: IndexFolder, progress=None) -> Path:
    """Builds a complete generation from the connection's snapshot (REPEATABLE READ) and publishes it."""
    outbox_seq = connection.execute(SNAPSHOT_POSITION_SQL).fetchone()[0]
    generation = folder.new_generation()
    catalogue = Catalogue.create(generation)
    if not catalogue.acquire_writer():
        raise RuntimeError(f"could not take the writer of the new index {generation}")
    index_sync.build_index(connection, catalogue, outbox_seq, progress)
    catalogue.release_writer()
    folder.publish(generation)
    return generation


class CatalogueReplica:
    topics = frozenset({"bib", "service_point"}) | ITEM_TOPICS

    def __init__(self, database_url: str, index_root: Path) -> None:
        self.database_url = database_url
        self.folder = IndexFolder(index_root)
        self.catalogue: Catalogue | None = None
        self.generation: Path | None = None
        self._connection: psycopg.Connection | None = None
        self._committed_seq = 0
        self._lock = threading.Lock()  # apply() and maintain() run in worker threads

    # -- start-up ---------------------------------------------------------------------------------------
    def rebuild(self, connection: psycopg.Connection) -> None:
        with self.folder.build_lock():
            generation = self.folder.current_generation()
            catalogue = None
            if generation is not None:
                try:
                    catalogue = Catalogue.open(generation)
                except IndexUnavailableError:
                    logger.warning("index generation unusable; building a new one", extra={"path": str(generation)})
            if catalogue is None:
                generation = build_new_generation(connection, self.folder)
                catalogue = Catalogue.open(generation)
                self.folder.remove_generations_except({generation})
        index_sync.load_holdings(connection, catalogue)
        self.catalogue, self.generation = catalogue, generation
        self._try_to_become_writer()

    # -- following --------------------------------------------------------------------------------------
    def _database(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.database_url, autocommit=True)
        return self._connection

    def apply(self, events: Sequence[OutboxEvent]) -> None:
        with self._lock:
            catalogue = self.catalogue
            assert catalogue is not None, "rebuild() runs before apply()"
            connection = self._database()
            if any(event.topic == "service_point" for event in events):
                index_sync.register_branches(connection, catalogue)
            item_ids = sorted({event.entity_id for event in events if event.topic in ITEM_TOPICS})
            if item_ids:
                index_sync.refresh_items(connection, catalogue, item_ids)
            bib_ids = sorted({event.entity_id for event in events if event.topic == "bib"})
            if bib_ids and catalogue.holds_writer():
                index_sync.reindex_bibs(connection, catalogue, bib_ids)
                self._commit(catalogue, events[-1].seq)

    def maintain(self) -> None:
        """Periodic: follow a new generation, pick up the writer's commits, take the writer over if free."""
        with self._lock:
            current = self.folder.current_generation()
            if current is not None and current != self.generation:
                self._switch_to(current)
            elif self.catalogue is not None and not self.catalogue.holds_writer():
                self.catalogue.reload()
                self._try_to_become_writer()

    def _switch_to(self, generation: Path) -> None:
        previous = self.catalogue
        if previous is not None and previous.holds_writer():
            previous.release_writer()
        catalogue = Catalogue.open(generation, share_holdings_with=previous)
        self.catalogue, self.generation = catalogue, generation
        logger.info("switched to a new index generation", extra={"path": str(generation)})
        self._try_to_become_writer()

    def _try_to_become_writer(self) -> None:
        catalogue = self.catalogue
        if catalogue is None or catalogue.holds_writer() or not catalogue.acquire_writer():
            return
        # Whatever the previous writer had not indexed yet: catch up from this generation's last commit.
        connection = self._database()
        committed = catalogue.committed_outbox_seq() or 0
        latest = connection.execute(SNAPSHOT_POSITION_SQL).fetchone()[0]
        changed = index_sync.bibs_changed_since(connection, committed)
        if changed:
            index_sync.reindex_bibs(connection, catalogue, changed)
        self._committed_seq = committed
        if latest > committed:
            self._commit(catalogue, latest)
        logger.info("this process writes the search index", extra={"generation": str(self.generation)})

    def _commit(self, catalogue: Catalogue, outbox_seq: int) -> None:
        # Events can arrive again after a catch-up; the recorded position never moves backwards.
        self._committed_seq = max(self._committed_seq, outbox_seq)
        catalogue.commit(self._committed_seq)

    def close(self) -> None:
        with self._lock:
            if self.catalogue is not None and self.catalogue.holds_writer():
                self.catalogue.release_writer()
            if self._connection is not None:
                self._connection.close()
