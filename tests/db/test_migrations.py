"""Schema migrations: applied once, idempotent, and guarded against edited history."""

from __future__ import annotations

import threading

import psycopg
import pytest

from shoka.db import migrate
from shoka.db.migrate import MigrationError, available_migrations, upgrade


def schema_fingerprint(url: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(
            """SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
               FROM information_schema.columns WHERE table_schema = 'public'
               UNION ALL
               SELECT tablename, indexname, indexdef, '', '' FROM pg_indexes WHERE schemaname = 'public'
               ORDER BY 1, 2""").fetchall()


def test_upgrade_is_idempotent(database_url):
    before = schema_fingerprint(database_url)
    report = upgrade(database_url)
    assert report.applied == []
    assert report.current_version == max(m.version for m in available_migrations())
    assert schema_fingerprint(database_url) == before


def test_upgrade_creates_the_schema_on_an_empty_database(postgres_maintenance_url):
    from shoka.db.server import ensure_database_exists, with_database_name

    ensure_database_exists(postgres_maintenance_url, "shoka_test_fresh_upgrade")
    url = with_database_name(postgres_maintenance_url, "shoka_test_fresh_upgrade")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    first = upgrade(url)
    assert first.applied == [f"{m.version:04d}_{m.name}" for m in available_migrations()]
    second = upgrade(url)
    assert second.applied == [] and second.current_version == first.current_version


def test_concurrent_upgrades_take_turns(postgres_maintenance_url):
    from shoka.db.server import ensure_database_exists, with_database_name

    ensure_database_exists(postgres_maintenance_url, "shoka_test_concurrent_upgrade")
    url = with_database_name(postgres_maintenance_url, "shoka_test_concurrent_upgrade")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    reports, failures = [], []

    def run() -> None:
        try:
            reports.append(upgrade(url))
        except Exception as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(len(report.applied) for report in reports) == [0, 0, len(available_migrations())]


def test_an_edited_applied_migration_is_refused(database_url, monkeypatch):
    original = available_migrations()
    edited = [migrate.Migration(m.version, m.name, m.sql_text + "\n-- edited") for m in original]
    monkeypatch.setattr(migrate, "available_migrations", lambda: edited)
    with pytest.raises(MigrationError, match="0001_schema was changed after it was applied"):
        upgrade(database_url)
