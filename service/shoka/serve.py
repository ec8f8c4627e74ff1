"""`shoka serve`: the HTTP service under granian with its worker processes, and the SIP2 server (when SHOKA_SIP2
is set) in a process of its own that is restarted if it crashes (see shoka.sip2.supervisor).

The parent resolves the database first (starting the embedded server if no URL is configured) and hands the
URL to the workers through SHOKA_DATABASE_URL, so that the workers never race to start a server themselves.
"""

from __future__ import annotations

import logging
import os

import psycopg
from granian import Granian
from granian.constants import Interfaces

from shoka.config import Settings
from shoka.db.migrate import current_version
from shoka.db.server import resolve_database_url
from shoka.errors import ShokaError
from shoka.event_loop import GRANIAN_LOOP
from shoka.logs import configure_logging
from shoka.sip2.supervisor import start_sip2_supervisor, stop_process


class SchemaMissing(ShokaError):
    code = "schema_missing"


def serve(settings: Settings) -> None:
    configure_logging(settings.log_folder)
    database_url = resolve_database_url(settings)
    with psycopg.connect(database_url) as connection:
        if current_version(connection) == 0:
            raise SchemaMissing("the database has no Shoka schema: run `shoka db upgrade` first")
    os.environ["SHOKA_DATABASE_URL"] = database_url
    logging.getLogger(__name__).info("serving", extra={"http": str(settings.http), "workers": settings.http_workers,
                                                       "sip2": str(settings.sip2) if settings.sip2 else None})
    # Started before granian forks its workers (see shoka.sip2.supervisor for why that matters).
    sip2 = start_sip2_supervisor() if settings.sip2 is not None else None
    try:
        Granian(
            "shoka.app:create_app_from_environment",
            factory=True,
            address=settings.http.host,
            port=settings.http.port,
            interface=Interfaces.ASGI,
            loop=GRANIAN_LOOP,
            workers=settings.http_workers,
            respawn_failed_workers=True,
            log_access=False,
        ).serve()
    finally:
        if sip2 is not None:
            stop_process(sip2, "sip2 supervisor")
