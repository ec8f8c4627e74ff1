"""Versioned schema migrations (`shoka db upgrade`).

Migrations are the numbered SQL files beside this module, applied in order, each in its own transaction,
under an advisory lock so that two processes upgrading at once take turns. An applied migration's checksum is
kept: if the file changed after it was applied, the upgrade stops instead of guessing what the change meant.
Running the upgrade again is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import msgspec
import psycopg

MIGRATION_LOCK_KEY = 7310000
MIGRATION_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """A migration cannot be applied safely; the message names the migration."""


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql_text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql_text.encode()).hexdigest()


class UpgradeReport(msgspec.Struct, frozen=True):
    applied: list[str]
    current_version: int


def available_migrations() -> list[Migration]:
    migrations = []
    for entry in resources.files("shoka.db.migrations").iterdir():
        match = MIGRATION_FILE_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return migrations


def upgrade(database_url: str) -> UpgradeReport:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            connection.execute(
                """CREATE TABLE IF NOT EXISTS schema_migration (
                       version     integer PRIMARY KEY,
                       name        text NOT NULL,
                       checksum    text NOT NULL,
                       applied_at  timestamptz NOT NULL DEFAULT now())""")
            applied = {version: (name, checksum) for version, name, checksum in
                       connection.execute("SELECT version, name, checksum FROM schema_migration").fetchall()}
            newly_applied = []
            for migration in available_migrations():
                if migration.version in applied:
                    _name, checksum = applied[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was changed after it was applied; "
                            "write a new migration instead of editing an applied one")
                    continue
                with connection.transaction():
                    connection.execute(migration.sql_text)
                    connection.execute("INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                                       [migration.version, migration.name, migration.checksum])
                newly_applied.append(f"{migration.version:04d}_{migration.name}")
            current = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migration").fetchone()[0]
            return UpgradeReport(applied=newly_applied, current_version=current)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


def current_version(connection: psycopg.Connection) -> int:
    """The schema version of a database; 0 for an empty one."""
    if connection.execute("SELECT to_regclass('schema_migration')").fetchone()[0] is None:
        return 0
    return int(connection.execute("SELECT coalesce(max(version), 0) FROM schema_migration").fetchone()[0])
