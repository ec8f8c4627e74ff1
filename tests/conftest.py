"""Shared fixtures: one embedded PostgreSQL per test session, a migrated template, a fresh database per test.

Tests use the real database (STYLE.md: no mocks of the database). Creating a database from a migrated template
takes a few milliseconds, so each test that writes gets its own.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from shoka.db.migrate import upgrade
from shoka.db.server import start_embedded_server, with_database_name

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"
TEMPLATE_DATABASE = "shoka_test_template"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_maintenance_url() -> str:
    """A maintenance URL: SHOKA_TEST_DATABASE_URL (a real server) or an embedded server for this session."""
    if url := os.environ.get("SHOKA_TEST_DATABASE_URL"):
        return url
    # A short path keeps the Unix socket path under its 107-byte limit.
    folder = Path(tempfile.mkdtemp(prefix="shoka-test-", dir="/tmp"))
    return start_embedded_server(folder / "pg")


@pytest.fixture(scope="session")
def template_database_url(postgres_maintenance_url: str) -> str:
    with psycopg.connect(postgres_maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DATABASE)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(TEMPLATE_DATABASE)))
    url = with_database_name(postgres_maintenance_url, TEMPLATE_DATABASE)
    upgrade(url)
    return url


def create_database_from_template(maintenance_url: str, name: str) -> str:
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE_DATABASE)))
    return with_database_name(maintenance_url, name)


@pytest.fixture
def database_url(postgres_maintenance_url: str, template_database_url: str) -> str:
    """A fresh, migrated, empty Shoka database for one test."""
    return create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_{next(_database_numbers)}")


@pytest.fixture
def connection(database_url: str):
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection
