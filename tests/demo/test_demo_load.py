"""`shoka demo load`: the demo library loads into an empty database, as designed, consistent and reproducible."""

from __future__ import annotations

import datetime
import itertools
import json
import stat
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from shoka.auth.passwords import verify_password
from shoka.db.server import with_database_name
from shoka.demo import (DEMO_STAFF, DEMO_TIERS, DatabaseNotEmpty, DatabaseNotMigrated, DemoAccountConflict,
                        DemoDataMissing, import_demo_generator, load_demo_library)
from shoka.demo.copying import copy_rows, table_progress

sys.path.insert(0, str(Path(__file__).parent))
from demo_consistency import consistency_violations  # noqa: E402

REFERENCE_DATE = datetime.date(2026, 5, 20)
ICHIKAWA_SERVICE_POINTS = (
    "中央図書館", "行徳図書館", "市川駅南口図書館", "信篤図書館", "南行徳図書館", "平田図書室", "塩焼市民図書室",
    "福栄市民図書室", "大柏市民図書室", "西部公民館図書室", "大野公民館図書室", "曽谷公民館図書室", "東部公民館図書室",
    "いちかわ情報プラザ", "千葉商科大学付属図書館", "市川市妙典こども地域交流館")
ROLES = {"admin", "librarian", "counter", "stats", "sip2"}


def fresh_database(maintenance_url: str, template_url: str, name: str) -> str:
    template = conninfo_to_dict(template_url)["dbname"]
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                              sql.Identifier(template)))
    return with_database_name(maintenance_url, name)


@pytest.fixture(scope="module")
def demo(postgres_maintenance_url, template_database_url, tmp_path_factory):
    """The demo tier loaded once for the tests that only read it."""
    home = tmp_path_factory.mktemp("demo-home")
    url = fresh_database(postgres_maintenance_url, template_database_url, "shoka_test_demo_a")
    report = load_demo_library(url, home, reference_date=REFERENCE_DATE, show_progress=False)
    return url, home, report


def scalar(url: str, query: str, parameters=()):
    with psycopg.connect(url) as connection:
        return connection.execute(query, parameters).fetchone()[0]


def test_the_demo_tier_has_what_was_designed(demo):
    url, _home, report = demo
    with psycopg.connect(url) as connection:
        names = {row[0] for row in connection.execute("SELECT name_ja FROM service_point")}
        assert set(ICHIKAWA_SERVICE_POINTS) <= names
        assert connection.execute("SELECT count(*) FROM service_point WHERE kind = 'bookmobile'").fetchone()[0] == 1
        assert connection.execute("SELECT count(*) FROM bookmobile_stop").fetchone()[0] > 0
        assert connection.execute("SELECT count(*) FROM bib").fetchone()[0] == 20_000
        assert connection.execute("SELECT count(*) FROM patron").fetchone()[0] == 2_000
        assert connection.execute("SELECT count(*) FROM patron_personal").fetchone()[0] == 2_000
        assert 30_000 <= connection.execute("SELECT count(*) FROM item").fetchone()[0] <= 40_000
        roles = {row[0] for row in connection.execute("SELECT role FROM staff_account")}
        assert roles == ROLES
        open_loans, overdue = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE due_on < %s) FROM loan WHERE returned_at IS NULL",
            [REFERENCE_DATE]).fetchone()
        assert open_loans >= 300 and overdue > 0
        assert connection.execute("SELECT count(*) FROM loan WHERE returned_at IS NOT NULL").fetchone()[0] > 10_000
        holds = dict(connection.execute("SELECT status, count(*) FROM hold GROUP BY status").fetchall())
        assert holds.get("waiting", 0) > 0 and holds.get("ready", 0) > 0
        statuses = {row[0] for row in connection.execute("SELECT DISTINCT status FROM item")}
        assert {"available", "in_process", "lost"} <= statuses
        assert connection.execute("SELECT count(*) FROM federation_peer").fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM outbox_event").fetchone()[0] == 0
        # Identity sequences were moved past the loaded ids.
        new_id = connection.execute(
            "INSERT INTO vendor (code, name) VALUES ('test-vendor', 'テスト') RETURNING id").fetchone()[0]
        assert new_id == 5
        connection.rollback()
    assert report.counts["bib"] == 20_000 and report.tier == "demo"


def test_the_catalogue_reads_like_a_japanese_library(demo):
    url, _home, _report = demo
    with psycopg.connect(url) as connection:
        reading, authors = connection.execute(
            "SELECT title_reading, authors FROM bib WHERE title = '吾輩は猫である' AND material_type = 'book'").fetchone()
        assert reading == "ワガハイ ワ ネコ デ アル"
        assert authors == [{"name": "夏目, 漱石", "reading": "ナツメ, ソウセキ", "role": "著"}]
        for title in ("銀河鉄道の夜", "ぐりとぐら", "はらぺこあおむし", "學問のすゝめ", "東京都の歴史", "京都と東京"):
            assert connection.execute("SELECT count(*) FROM bib WHERE title = %s", [title]).fetchone()[0] >= 1, title
        assert connection.execute("SELECT count(*) FROM bib WHERE title ~ '[國學澤櫻]'").fetchone()[0] > 10
        assert connection.execute(
            "SELECT count(*) FROM bib WHERE authors::text ~ '佐々木|髙橋|山﨑'").fetchone()[0] > 10
        assert connection.execute(
            "SELECT count(*) FROM bib WHERE title_reading ~ ' (ワ|オ|エ) '").fetchone()[0] > 100
        assert connection.execute(
            "SELECT count(*) FROM bib WHERE language = 'jpn' AND material_type <> 'magazine' AND title_reading IS NULL"
        ).fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM bib WHERE source = 'aozora'").fetchone()[0] > 20
        assert connection.execute("SELECT count(*) FROM bib WHERE marc_xml IS NOT NULL").fetchone()[0] == 0
        call_number = connection.execute(
            "SELECT call_number FROM item i JOIN bib b ON b.id = i.bib_id WHERE b.title = 'こころ' LIMIT 1").fetchone()[0]
        assert call_number == "913.6/ナ"
        assert connection.execute(
            "SELECT count(*) FROM item WHERE call_number ~ '^[0-9.]+/[ァ-ヶA-Z]/[0-9上中下]+$'").fetchone()[0] > 0


def test_every_isbn_has_a_valid_check_digit(demo):
    url, _home, _report = demo
    generator = import_demo_generator()
    with psycopg.connect(url) as connection:
        isbns = [isbn for (isbn,) in connection.execute("SELECT unnest(isbns) FROM bib")]
    assert len(isbns) > 10_000
    assert all(generator.is_valid_isbn13(isbn) and isbn.startswith("978") for isbn in isbns)
    assert sum(isbn.startswith("9784") for isbn in isbns) > 0.9 * len(isbns)
    assert not generator.is_valid_isbn13("9784101010016")


def test_the_demo_library_is_internally_consistent(demo):
    url, _home, _report = demo
    with psycopg.connect(url, autocommit=True) as connection:
        violations = consistency_violations(connection, REFERENCE_DATE)
    assert {name: count for name, count in violations.items() if count} == {}


def test_the_calendar_opens_on_a_monday_holiday_and_closes_the_next_day(demo):
    url, _home, _report = demo
    with psycopg.connect(url) as connection:
        central = connection.execute("SELECT id FROM service_point WHERE code = 'central'").fetchone()[0]
        marine_day = datetime.date(2026, 7, 20)  # 海の日, a Monday
        assert connection.execute(
            "SELECT count(*) FROM calendar_open_day WHERE service_point_id = %s AND opened_on = %s",
            [central, marine_day]).fetchone()[0] == 1
        assert connection.execute(
            "SELECT kind FROM calendar_closed_day WHERE service_point_id = %s AND closed_on = %s",
            [central, marine_day + datetime.timedelta(days=1)]).fetchone()[0] == "holiday"
        assert connection.execute(
            "SELECT count(*) FROM calendar_closed_day WHERE kind = 'stocktake' AND service_point_id = %s",
            [central]).fetchone()[0] > 0


def test_the_credentials_file_is_private_and_its_passwords_verify(demo):
    url, home, report = demo
    path = home / "demo-credentials.json"
    assert report.credentials_file == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document) == {"staff", "patrons"}
    assert {entry["role"] for entry in document["staff"]} == ROLES
    assert len(document["staff"]) == len(DEMO_STAFF) and len(document["patrons"]) == 3
    with psycopg.connect(url) as connection:
        for entry in document["staff"]:
            assert set(entry) == {"username", "password", "role"}
            stored, role = connection.execute("SELECT password_hash, role FROM staff_account WHERE username = %s",
                                              [entry["username"]]).fetchone()
            assert role == entry["role"] and verify_password(stored, entry["password"])
            assert not verify_password(stored, entry["password"] + "x")
        for entry in document["patrons"]:
            assert set(entry) == {"card", "password"}
            stored = connection.execute(
                "SELECT c.password_hash FROM patron_credential c JOIN patron p ON p.id = c.patron_id WHERE p.card = %s",
                [entry["card"]]).fetchone()[0]
            assert stored.startswith("$argon2id$") and verify_password(stored, entry["password"])
        scopes = connection.execute(
            """SELECT a.username, array_agg(s.code ORDER BY s.code) FROM staff_branch_scope b
               JOIN staff_account a ON a.id = b.staff_id JOIN service_point s ON s.id = b.service_point_id
               GROUP BY a.username""").fetchall()
        assert ("counter", ["central", "ekiminami"]) in scopes
    passwords = [entry["password"] for entry in document["staff"] + document["patrons"]]
    assert len(set(passwords)) == len(passwords) and min(map(len, passwords)) >= 16


def test_a_database_that_holds_data_is_refused(demo):
    url, home, _report = demo
    before = (home / "demo-credentials.json").read_bytes()
    with pytest.raises(DatabaseNotEmpty, match="not empty.*20000 bibliographic records"):
        load_demo_library(url, home, reference_date=REFERENCE_DATE, show_progress=False)
    assert scalar(url, "SELECT count(*) FROM bib") == 20_000
    assert scalar(url, "SELECT count(*) FROM staff_account") == len(DEMO_STAFF)
    assert (home / "demo-credentials.json").read_bytes() == before


def table_digests(url: str) -> dict[str, str]:
    """A digest of each table's rows in primary-key order, password hashes left out."""
    digests = {}
    with psycopg.connect(url) as connection:
        tables = [row[0] for row in connection.execute(
            """SELECT table_name FROM information_schema.tables
               WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migration'
               ORDER BY table_name""")]
        for table in tables:
            columns = [row[0] for row in connection.execute(
                """SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'
                   AND table_name = %s AND column_name <> 'password_hash' ORDER BY ordinal_position""", [table])]
            key = [row[0] for row in connection.execute(
                """SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
                   AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary
                   ORDER BY array_position(i.indkey::int2[], a.attnum)""", [table])]
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(row({})::text, E'\\n' ORDER BY {}), '')) FROM {}")
            count, digest = connection.execute(query.format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(map(sql.Identifier, key)),
                sql.Identifier(table))).fetchone()
            digests[table] = f"{count}:{digest}"
    return digests


def test_the_same_seed_and_date_give_the_same_library(demo, postgres_maintenance_url, template_database_url,
                                                      tmp_path):
    url, _home, _report = demo
    second = fresh_database(postgres_maintenance_url, template_database_url, "shoka_test_demo_b")
    progress: dict[str, tuple[int, int | None]] = {}
    report = load_demo_library(second, tmp_path, reference_date=REFERENCE_DATE, show_progress=False,
                               on_progress=lambda table, rows, expected: progress.__setitem__(table, (rows, expected)))
    assert progress["bib"] == (20_000, 20_000) and progress["hold"] == (report.counts["hold"],) * 2
    first_digests, second_digests = table_digests(url), table_digests(second)
    assert first_digests == second_digests
    assert first_digests["bib"].startswith("20000:") and first_digests["staff_account"].startswith("6:")


def test_a_taken_staff_user_name_rolls_the_whole_load_back(database_url, tmp_path):
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("INSERT INTO staff_account (username, role, password_hash) VALUES ('stats', 'stats', 'x')")
    with pytest.raises(DemoAccountConflict, match="'stats' already exists"):
        load_demo_library(database_url, tmp_path, reference_date=REFERENCE_DATE, show_progress=False)
    assert scalar(database_url, "SELECT count(*) FROM bib") == 0
    assert scalar(database_url, "SELECT count(*) FROM staff_account") == 1
    assert not (tmp_path / "demo-credentials.json").exists()


def test_the_demo_folder_must_be_found(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("SHOKA_DEMO_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DemoDataMissing, match="SHOKA_DEMO_DIR"):
        load_demo_library(database_url, tmp_path, reference_date=REFERENCE_DATE, show_progress=False)
    assert not (tmp_path / "demo-credentials.json").exists()


def test_an_unknown_tier_is_refused():
    generator = import_demo_generator()
    assert tuple(generator.TIERS) == DEMO_TIERS
    with pytest.raises(generator.UnknownTier, match="demo, S, L"):
        generator.DemoLibrary(tier="XL", reference_date=REFERENCE_DATE)


def test_a_database_without_the_schema_is_refused(postgres_maintenance_url, tmp_path):
    with psycopg.connect(postgres_maintenance_url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS shoka_test_demo_bare WITH (FORCE)")
        connection.execute("CREATE DATABASE shoka_test_demo_bare")
    url = with_database_name(postgres_maintenance_url, "shoka_test_demo_bare")
    with pytest.raises(DatabaseNotMigrated, match="shoka db upgrade"):
        load_demo_library(url, tmp_path, reference_date=REFERENCE_DATE, show_progress=False)
    assert not (tmp_path / "demo-credentials.json").exists()


def test_tables_must_be_consumed_in_order():
    generator = import_demo_generator()
    tables = generator.DemoLibrary(tier="demo", reference_date=REFERENCE_DATE, max_rows=50).tables()
    first = next(tables)
    next(first.rows)
    with pytest.raises(generator.TableOrderError, match="service_point"):
        next(tables)


def test_a_slice_of_tier_s_loads_and_is_consistent(database_url):
    """Tier S cut to 3,000 rows a table, on a reference date at the year end (closed days around it)."""
    generator = import_demo_generator()
    reference_date = datetime.date(2027, 1, 4)
    library = generator.DemoLibrary(tier="S", seed=7, reference_date=reference_date, max_rows=3_000)
    counts = {}
    with psycopg.connect(database_url, autocommit=True) as connection:
        with connection.transaction(), table_progress(False, None) as progress:
            for table in library.tables():
                counts[table.name] = copy_rows(connection, table.name, table.columns, table.rows,
                                               table.expected_rows, progress)
                if table.expected_rows is not None:
                    assert counts[table.name] <= table.expected_rows
        violations = consistency_violations(connection, reference_date)
    assert {name: count for name, count in violations.items() if count} == {}
    assert counts["bib"] == counts["item"] == counts["patron"] == 3_000
    assert counts["loan"] > 3_000 and counts["hold"] > 100
    sizes = generator.TIERS["S"]
    assert (sizes.bibs, sizes.items, sizes.patrons, sizes.open_loans, sizes.loan_history, sizes.active_holds) == (
        300_000, 400_000, 60_000, 20_000, 1_000_000, 2_000)


def test_the_generator_depends_on_the_seed():
    generator = import_demo_generator()

    def first_titles(seed: int) -> list[str]:
        for table in generator.DemoLibrary(tier="demo", seed=seed, reference_date=REFERENCE_DATE,
                                           max_rows=400).tables():
            rows = list(itertools.islice(table.rows, 400)) if table.name == "bib" else list(table.rows)
            if table.name == "bib":
                return [row[2] for row in rows[200:]]
        return []

    assert first_titles(1) == first_titles(1)
    assert first_titles(1) != first_titles(2)


def test_tier_l_adds_the_consortium_branches():
    generator = import_demo_generator()
    library = generator.DemoLibrary(tier="L", reference_date=REFERENCE_DATE, max_rows=10)
    point_rows = list(next(library.tables()).rows)
    assert len(point_rows) == 41 and len({row[1] for row in point_rows}) == 41
