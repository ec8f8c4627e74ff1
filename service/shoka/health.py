"""GET /healthz: 200 when the database answers and the engine is loaded, 503 otherwise, with what failed."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get


class HealthReport(msgspec.Struct, frozen=True):
    status: str
    database: str
    engine: str
    schema_version: int | None = None


@get("/healthz", tags=["operations"], summary="Liveness and readiness")
async def health(request: Request) -> Response[HealthReport]:
    database_state, schema_version = "ok", None
    try:
        async with request.app.state.pools.public.connection(timeout=2.0) as connection:
            row = await (await connection.execute("SELECT 1")).fetchone()
            schema_version = request.app.state.schema_version
            if row != (1,):
                database_state = "unexpected answer"
    except Exception as error:  # any failure to answer is exactly what this endpoint reports
        database_state = f"unavailable: {type(error).__name__}"
    engine_state = request.app.state.engine.health()
    healthy = database_state == "ok" and engine_state == "ok"
    report = HealthReport(status="ok" if healthy else "unhealthy", database=database_state, engine=engine_state,
                          schema_version=schema_version)
    return Response(report, status_code=200 if healthy else 503)
