"""The engine handle the service's lifespan owns: the Rust engine's derived state and its outbox follower.

Each service process (every granian worker) holds one. At start it rebuilds from PostgreSQL, then follows the
outbox. Health is "ok" while the follower keeps up; a follower that has not caught up for LAG_LIMIT_SECONDS
makes /healthz answer 503 so that a load balancer stops sending traffic to a stale replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shoka import _engine
from shoka.replica.outbox import OutboxConsumer, OutboxFollower

LAG_LIMIT_SECONDS = 10.0


class EngineReplica:
    def __init__(self, database_url: str, consumers: Sequence[OutboxConsumer]) -> None:
        self.engine_version: str = _engine.__version__
        self.follower = OutboxFollower(database_url, consumers)
        self._started = False

    async def start(self) -> None:
        await asyncio.to_thread(self.follower.rebuild)
        self.follower.start()
        self._started = True

    async def stop(self) -> None:
        await self.follower.stop()

    def health(self) -> str:
        if not self._started:
            return "starting"
        lag = self.follower.seconds_since_caught_up()
        if lag > LAG_LIMIT_SECONDS:
            return f"outbox follower {lag:.0f} s behind"
        return "ok"
