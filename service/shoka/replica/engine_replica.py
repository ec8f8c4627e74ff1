"""The engine handle the service's lifespan owns: the Rust engine's derived state and its outbox follower.

Each service process (every granian worker) holds one. At start it rebuilds from PostgreSQL, then follows the
outbox. Health is "ok" while the follower keeps up; a follower that has not caught up for LAG_LIMIT_SECONDS
makes /healthz answer 503 so that a load balancer stops sending traffic to a stale replica.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from shoka import _engine
from shoka._engine import Catalogue
from shoka.catalogue.replica import CatalogueReplica
from shoka.replica.outbox import OutboxFollower

LAG_LIMIT_SECONDS = 10.0
# How often a process picks up the index writer's commits and checks for a new index generation.
MAINTENANCE_INTERVAL_SECONDS = 0.25

logger = logging.getLogger(__name__)


class EngineReplica:
    def __init__(self, database_url: str, index_root: Path) -> None:
        self.engine_version: str = _engine.__version__
        self.catalogue_replica = CatalogueReplica(database_url, index_root)
        self.follower = OutboxFollower(database_url, [self.catalogue_replica])
        self._maintenance: asyncio.Task | None = None
        self._started = False

    @property
    def catalogue(self) -> Catalogue:
        catalogue = self.catalogue_replica.catalogue
        assert catalogue is not None, "the replica has started"
        return catalogue

    async def start(self) -> None:
        await asyncio.to_thread(self.follower.rebuild)
        self.follower.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="catalogue-maintenance")
        self._started = True

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_INTERVAL_SECONDS)
            try:
                await asyncio.to_thread(self.catalogue_replica.maintain)
            except Exception:
                logger.exception("catalogue maintenance failed; retrying")

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
        await self.follower.stop()
        await asyncio.to_thread(self.catalogue_replica.close)

    def health(self) -> str:
        if not self._started:
            return "starting"
        lag = self.follower.seconds_since_caught_up()
        if lag > LAG_LIMIT_SECONDS:
            return f"outbox follower {lag:.0f} s behind"
        return "ok"
