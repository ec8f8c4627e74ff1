"""`shoka import marc` / `import aozora` against the real database: counts, idempotency, all-or-nothing,
skip-and-report, dry runs, outbox events and the operation log."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from shoka.audit import Actor
from shoka.catalogue.imports import import_aozora_list, import_marc_files

ACTOR = Actor(kind="cli", name="test")
NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)


def count(connection, sql: str, *parameters) -> int:
    return connection.execute(sql, parameters).fetchone()[0]


def test_ndl_japan_marc_imports_with_readings_and_ndc(database_url, connection, shared_data):
    path = shared_data / "marc" / "ndl_japanmarc_133.mrc"
    report = import_marc_files(database_url, [path], dry_run=False, skip_rejects=False, actor=ACTOR, now=NOW)
    assert report.written and report.rejected == 0 and report.added == 133
    assert count(connection, "SELECT count(*) FROM bib WHERE source = 'marc'") == 133
    title, reading, ndc, raw = connection.execute(
        "SELECT title, title_reading, ndc, marc_iso2709 FROM bib WHERE title LIKE 'これからの本の話をしよう%'").fetchone()
    assert reading.startswith("コレカラ ノ ホン")
    assert raw is not None and bytes(raw).endswith(b"\x1d")
    assert count(connection, "SELECT count(*) FROM bib WHERE ndc IS NOT NULL") >= 100
    assert count(connection, "SELECT count(*) FROM outbox_event WHERE topic = 'bib'") == 133
    assert count(connection, "SELECT count(*) FROM operation_log WHERE action = 'catalogue.import_marc'") == 1


def test_reimporting_the_same_file_updates_in_place(database_url, connection, shared_data):
    path = shared_data / "marc" / "ndl_japanmarc_133.mrc"
    import_marc_files(database_url, [path], dry_run=False, skip_rejects=False, actor=ACTOR, now=NOW)
    again = import_marc_files(database_url, [path], dry_run=False, skip_rejects=False, actor=ACTOR, now=NOW)
    assert (again.added, again.updated) == (0, 133)
    assert count(connection, "SELECT count(*) FROM bib") == 133


def test_marc8_and_marcxml_sets_import(database_url, connection, shared_data):
    files = [shared_data / "marc" / "evergreen__jazz_1k.mrc",
             shared_data / "marcxml" / "evergreen_concerto_biblio_record_entry.marcxml.xml"]
    report = import_marc_files(database_url, files, dry_run=False, skip_rejects=True, actor=ACTOR, now=NOW)
    assert report.written
    assert count(connection, "SELECT count(*) FROM bib") == report.added + report.updated
    assert count(connection, "SELECT count(*) FROM bib WHERE title LIKE %s", "%Köln%") >= 1
    assert count(connection, "SELECT count(*) FROM bib WHERE marc_xml IS NOT NULL") > 0


def test_a_file_with_bad_records_is_refused_whole_by_default(database_url, connection, shared_data):
    path = shared_data / "marc" / "pymarc_tests" / "bad_records.mrc"
    report = import_marc_files(database_url, [path], dry_run=False, skip_rejects=False, actor=ACTOR, now=NOW)
    assert report.refused and not report.written
    assert all(reject.record_number >= 1 and reject.reason for reject in report.files[0].rejects)
    assert count(connection, "SELECT count(*) FROM bib") == 0
    assert count(connection, "SELECT count(*) FROM outbox_event") == 0


def test_skip_rejects_imports_the_good_records_and_reports_the_rest(database_url, connection, shared_data):
    path = shared_data / "marc" / "pymarc_tests" / "bad_records.mrc"
    report = import_marc_files(database_url, [path], dry_run=False, skip_rejects=True, actor=ACTOR, now=NOW)
    summary = report.files[0]
    assert report.written and report.added == summary.records and report.rejected == len(summary.rejects) > 0
    assert count(connection, "SELECT count(*) FROM bib") == summary.records


def test_dry_run_reports_and_writes_nothing(database_url, connection, shared_data):
    path = shared_data / "marc" / "ndl_japanmarc_133.mrc"
    report = import_marc_files(database_url, [path], dry_run=True, skip_rejects=False, actor=ACTOR, now=NOW)
    assert report.dry_run and report.added == 133 and not report.written
    assert count(connection, "SELECT count(*) FROM bib") == 0


def test_aozora_list_imports_once_and_refresh_reports_changes(database_url, connection, shared_data, tmp_path):
    path = shared_data / "aozora" / "list_person_all_utf8_2017.csv"
    first = import_aozora_list(database_url, path, dry_run=False, actor=ACTOR, now=NOW)
    assert (first.works, first.added, first.changed, first.withdrawn) == (14283, 14283, 0, 0)
    card = connection.execute(
        "SELECT aozora_card_url, material_type FROM bib WHERE title = '猫の事務所' LIMIT 1").fetchone()
    assert card[0].startswith("https://www.aozora.gr.jp/cards/") and card[1] == "e_text"
    again = import_aozora_list(database_url, path, dry_run=False, actor=ACTOR, now=NOW)
    assert (again.added, again.changed, again.withdrawn, again.unchanged) == (0, 0, 0, 14283)

    # A refresh whose list lost one work and renamed another, delivered zipped as Shift_JIS.
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    dropped_work = rows[0].split(",")[2]
    kept = [row for row in rows if row.split(",")[2] != dropped_work]
    renamed = kept[0].split(",")
    renamed_work = renamed[2]
    kept = [",".join(renamed[:3] + ["改題された作品"] + renamed[4:]) if row.split(",")[2] == renamed_work else row
            for row in kept]
    refreshed = tmp_path / "list_person_all.zip"
    with zipfile.ZipFile(refreshed, "w") as archive:
        archive.writestr("list_person_all.csv", "\r\n".join([header, *kept]).encode("cp932", errors="replace"))
    report = import_aozora_list(database_url, refreshed, dry_run=False, actor=ACTOR, now=NOW)
    assert report.withdrawn == 1 and report.changed >= 1
    assert connection.execute("SELECT is_withdrawn FROM bib WHERE aozora_work_id = %s",
                              [int(dropped_work)]).fetchone()[0] is True
    assert count(connection, "SELECT count(*) FROM bib WHERE title = '改題された作品'") == 1


def test_aozora_dry_run_writes_nothing(database_url, connection, shared_data):
    report = import_aozora_list(database_url, shared_data / "aozora" / "list_person_all_utf8_2017.csv",
                                dry_run=True, actor=ACTOR, now=NOW)
    assert report.added == 14283 and not report.written
    assert count(connection, "SELECT count(*) FROM bib") == 0
