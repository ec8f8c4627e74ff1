"""A real server over real records for the SRU tests: the NDL JAPAN/MARC sample (Japanese books with ISBNs
and readings) and the Aozora Bunko works list, in a database of the test module's own."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from shoka.audit import Actor
from shoka.catalogue.imports import import_aozora_list, import_marc_files

IMPORTED_AT = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)


def load_library(database_url: str, shared_data) -> None:
    actor = Actor(kind="cli", name="test")
    import_marc_files(database_url, [shared_data / "marc" / "ndl_japanmarc_133.mrc"], dry_run=False,
                      skip_rejects=False, actor=actor, now=IMPORTED_AT)
    import_aozora_list(database_url, shared_data / "aozora" / "list_person_all_utf8_2017.csv", dry_run=False,
                       actor=actor, now=IMPORTED_AT)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) VALUES "
                           "('central', '中央図書館', 'Central Library', 'central'), "
                           "('gyotoku', '行徳図書館', 'Gyotoku Library', 'branch')")


@pytest.fixture(scope="module")
def library_server(module_database_url, shared_data, request):
    load_library(module_database_url, shared_data)
    return request.getfixturevalue("server")
