"""Settings read once from the environment (CONTRACT.md, "Configuration").

Every variable is validated here, at the edge, so that a typo in an address stops the process with a message
naming the variable instead of failing later somewhere deep in a server.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict


class ConfigurationError(Exception):
    """A setting in the environment is malformed; the message names the variable and what was expected."""


class ListenAddress(msgspec.Struct, frozen=True):
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class Settings(msgspec.Struct, frozen=True):
    home: Path
    database_url: str | None
    http: ListenAddress
    sip2: ListenAddress | None
    http_workers: int

    @property
    def embedded_database_folder(self) -> Path:
        return self.home / "pg"

    @property
    def index_folder(self) -> Path:
        return self.home / "index"

    @property
    def log_folder(self) -> Path:
        return self.home / "log"


def parse_listen_address(variable: str, text: str) -> ListenAddress:
    host, separator, port_text = text.strip().rpartition(":")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"{variable}={text!r}: expected HOST:PORT, for example 127.0.0.1:8000")
    return ListenAddress(host=host.strip("[]"), port=int(port_text))


def load_settings(environment: dict[str, str] | None = None) -> Settings:
    environment = dict(os.environ if environment is None else environment)
    home = Path(environment.get("SHOKA_HOME") or "./var").expanduser().resolve()
    database_url = environment.get("SHOKA_DATABASE_URL") or None
    if database_url is not None:
        try:
            conninfo_to_dict(database_url)
        except psycopg.ProgrammingError as error:
            raise ConfigurationError(f"SHOKA_DATABASE_URL: not a PostgreSQL URL or connection string ({error})") from None
    http = parse_listen_address("SHOKA_HTTP", environment.get("SHOKA_HTTP") or "127.0.0.1:8000")
    sip2_text = environment.get("SHOKA_SIP2", "127.0.0.1:6001")
    sip2 = parse_listen_address("SHOKA_SIP2", sip2_text) if sip2_text.strip() else None
    workers_text = environment.get("SHOKA_HTTP_WORKERS", "2")
    if not workers_text.isdigit() or not 1 <= int(workers_text) <= 64:
        raise ConfigurationError(f"SHOKA_HTTP_WORKERS={workers_text!r}: expected a number from 1 to 64")
    return Settings(home=home, database_url=database_url, http=http, sip2=sip2, http_workers=int(workers_text))
