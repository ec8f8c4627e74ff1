"""GET /api/v1/service-points: the libraries, rooms, bookmobile and partners (public)."""

from __future__ import annotations

import msgspec
from litestar import Request, get


class ServicePoint(msgspec.Struct, frozen=True):
    code: str
    name_ja: str
    name_en: str
    kind: str
    address: str
    is_pickup_point: bool
    closed_weekdays: list[int]


@get("/api/v1/service-points", tags=["places"], summary="Service points and their weekly closed days")
async def list_service_points(request: Request) -> list[ServicePoint]:
    async with request.app.state.pools.public.connection() as connection:
        rows = await (await connection.execute(
            """SELECT sp.code, sp.name_ja, sp.name_en, sp.kind, sp.address, sp.is_pickup_point,
                      coalesce(array_agg(w.iso_weekday ORDER BY w.iso_weekday)
                               FILTER (WHERE w.iso_weekday IS NOT NULL), '{}')
               FROM service_point sp LEFT JOIN calendar_weekly_closure w ON w.service_point_id = sp.id
               WHERE sp.is_active GROUP BY sp.id ORDER BY sp.sort_order, sp.id""")).fetchall()
    return [ServicePoint(*row) for row in rows]
