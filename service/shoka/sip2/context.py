"""What every SIP2 connection of this process shares: the database pools, the engine replica, and the
library's service points (the institution id, branch names for screen messages), re-read once a minute."""

from __future__ import annotations

import time
from typing import Any

import anyio
import msgspec

from shoka.circulation.decisions import CirculationRefused
from shoka.db.pools import DatabasePools

SERVICE_POINTS_TTL_SECONDS = 60.0
FALLBACK_INSTITUTION = "shoka"


class ServicePoint(msgspec.Struct, frozen=True):
    code: str
    name_ja: str
    name_en: str
    is_active: bool


class ServicePoints(msgspec.Struct, frozen=True):
    by_code: dict[str, ServicePoint]
    institution: str  # AO: the code of the central library (the library system's first service point)
    first_active: str | None

    def name(self, code: str, english: bool) -> str:
        point = self.by_code.get(code)
        if point is None:
            return code
        return point.name_en if english else point.name_ja


class Sip2Context:
    def __init__(self, pools: DatabasePools, replica) -> None:
        self.pools = pools
        self.replica = replica
        self._service_points: ServicePoints | None = None
        self._service_points_read_at = 0.0

    async def service_points(self) -> ServicePoints:
        if self._service_points is None or time.monotonic() - self._service_points_read_at > SERVICE_POINTS_TTL_SECONDS:
            self._service_points = await self._read_service_points()
            self._service_points_read_at = time.monotonic()
        return self._service_points

    async def _read_service_points(self) -> ServicePoints:
        async with self.pools.staff.connection() as connection:
            rows = await (await connection.execute(
                """SELECT code, name_ja, name_en, is_active FROM service_point
                   ORDER BY NOT is_active, kind <> 'central', sort_order, id""")).fetchall()
        points = {row[0]: ServicePoint(*row) for row in rows}
        first_active = next((point.code for point in points.values() if point.is_active), None)
        return ServicePoints(by_code=points, institution=first_active or FALLBACK_INSTITUTION,
                             first_active=first_active)

    async def engine_view(self, method: str, request: dict[str, Any]) -> dict[str, Any]:
        """One read-only engine view (patron_summary, item_view); raises CirculationRefused for unknown ids."""
        engine = self.replica.circulation
        raw = await anyio.to_thread.run_sync(getattr(engine, method), msgspec.json.encode(request))
        answer = msgspec.json.decode(raw)
        if isinstance(answer, dict) and "ok" in answer:
            if not answer["ok"]:
                raise CirculationRefused(answer["refusal"])
            return answer["decision"]
        return answer
