"""What the database itself guarantees: role separation, one open loan per item, the append-only log chain,
and the outbox's commit order."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest
from psycopg import errors

from shoka.db.pools import PUBLIC_ROLE, STAFF_ROLE, url_with_role

PERSONAL_TABLES = ["patron_personal", "patron_credential", "patron", "patron_card_history", "staff_account"]


def insert_minimal_library(connection: psycopg.Connection) -> dict[str, int]:
    """One branch, one title with one copy, one patron with personal data."""
    branch = connection.execute(
        "INSERT INTO service_point (code, name_ja, name_en, kind) VALUES ('central', '中央図書館', 'Central', 'central') "
        "RETURNING id").fetchone()[0]
    connection.execute("INSERT INTO patron_category (code, name_ja, name_en) VALUES ('adult', '一般', 'Adult')")
    connection.execute("INSERT INTO material_type (code, name_ja, name_en) VALUES ('book', '図書', 'Book')")
    bib = connection.execute(
        "INSERT INTO bib (source, title, material_type) VALUES ('manual', '銀河鉄道の夜', 'book') RETURNING id").fetchone()[0]
    item = connection.execute(
        "INSERT INTO item (barcode, bib_id, service_point_id, material_type) VALUES ('100001', %s, %s, 'book') "
        "RETURNING id", [bib, branch]).fetchone()[0]
    patron = connection.execute(
        "INSERT INTO patron (card, category, home_service_point_id, expires_on, age_band) "
        "VALUES ('2000001', 'adult', %s, '2030-03-31', '30-39') RETURNING id", [branch]).fetchone()[0]
    connection.execute(
        "INSERT INTO patron_personal (patron_id, family_name, given_name, family_name_reading, given_name_reading, "
        "phone) VALUES (%s, '宮沢', '賢治', 'ミヤザワ', 'ケンジ', '047-000-0000')", [patron])
    return {"branch": branch, "bib": bib, "item": item, "patron": patron}


def open_loan(connection: psycopg.Connection, ids: dict[str, int]) -> None:
    connection.execute(
        """INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on, patron_category,
                             patron_age_band, material_type)
           VALUES (%s, %s, %s, now(), current_date + 14, 'adult', '30-39', 'book')""",
        [ids["item"], ids["patron"], ids["branch"]])


@pytest.mark.parametrize("table", PERSONAL_TABLES)
def test_public_role_cannot_read_personal_data(database_url, connection, table):
    insert_minimal_library(connection)
    with psycopg.connect(url_with_role(database_url, PUBLIC_ROLE)) as public:
        assert public.execute("SELECT current_user").fetchone()[0] == PUBLIC_ROLE
        with pytest.raises(errors.InsufficientPrivilege):
            public.execute(f"SELECT * FROM {table}").fetchall()


def test_public_role_cannot_see_who_borrowed_an_item(database_url, connection):
    ids = insert_minimal_library(connection)
    open_loan(connection, ids)
    with psycopg.connect(url_with_role(database_url, PUBLIC_ROLE)) as public:
        assert public.execute("SELECT item_id, due_on FROM loan").fetchone()[0] == ids["item"]
        with pytest.raises(errors.InsufficientPrivilege):
            public.execute("SELECT patron_id FROM loan").fetchall()
        public.rollback()
        with pytest.raises(errors.InsufficientPrivilege):
            public.execute("SELECT patron_id FROM hold").fetchall()
        public.rollback()
        with pytest.raises(errors.InsufficientPrivilege):
            public.execute("SELECT * FROM operation_log").fetchall()


def test_public_role_reads_the_catalogue_and_cannot_write_it(database_url, connection):
    insert_minimal_library(connection)
    with psycopg.connect(url_with_role(database_url, PUBLIC_ROLE)) as public:
        assert public.execute("SELECT title FROM bib").fetchone()[0] == "銀河鉄道の夜"
        assert public.execute("SELECT barcode FROM item").fetchone()[0] == "100001"
        with pytest.raises(errors.InsufficientPrivilege):
            public.execute("UPDATE bib SET title = 'x'")


def test_database_refuses_a_second_open_loan_for_an_item(connection):
    ids = insert_minimal_library(connection)
    open_loan(connection, ids)
    with pytest.raises(errors.UniqueViolation, match="loan_one_open_per_item"):
        open_loan(connection, ids)
    connection.execute("UPDATE loan SET returned_at = now(), return_service_point_id = %s", [ids["branch"]])
    open_loan(connection, ids)  # after the return the copy can go out again
    assert connection.execute("SELECT count(*) FROM loan WHERE returned_at IS NULL").fetchone()[0] == 1


def test_concurrent_checkouts_of_one_copy_give_one_loan(database_url, connection):
    ids = insert_minimal_library(connection)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def desk() -> None:
        with psycopg.connect(database_url) as desk_connection:
            barrier.wait()
            try:
                open_loan(desk_connection, ids)
                desk_connection.commit()
                outcomes.append("loan")
            except errors.UniqueViolation:
                outcomes.append("refused")

    threads = [threading.Thread(target=desk) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["loan"] + ["refused"] * 7


def test_returned_loan_may_drop_the_patron_but_an_open_one_may_not(connection):
    ids = insert_minimal_library(connection)
    open_loan(connection, ids)
    with pytest.raises(errors.CheckViolation):
        connection.execute("UPDATE loan SET patron_id = NULL")
    connection.execute("UPDATE loan SET returned_at = now(), return_service_point_id = %s, patron_id = NULL",
                       [ids["branch"]])
    assert connection.execute("SELECT patron_category, material_type FROM loan").fetchone() == ("adult", "book")


def test_staff_role_cannot_alter_the_operation_log(database_url, connection):
    with psycopg.connect(url_with_role(database_url, STAFF_ROLE), autocommit=True) as staff:
        staff.execute("INSERT INTO operation_log (actor_kind, actor, action, entity) VALUES ('staff', 'a', 'x', 'y')")
        with pytest.raises(errors.InsufficientPrivilege):
            staff.execute("UPDATE operation_log SET actor = 'b'")
        with pytest.raises(errors.InsufficientPrivilege):
            staff.execute("DELETE FROM operation_log")
    # Even the owner cannot rewrite history: the trigger refuses.
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        connection.execute("UPDATE operation_log SET actor = 'b'")


def verify_chain(connection: psycopg.Connection) -> list[int]:
    """Ids of log rows whose hash does not follow from the previous row: empty when intact."""
    broken, previous = [], b""
    for row_id, previous_hash, row_hash, recomputed in connection.execute(
            """SELECT id, previous_hash, row_hash, sha256(previous_hash || operation_log_row_content(l))
               FROM operation_log l ORDER BY id"""):
        if bytes(previous_hash) != previous or bytes(row_hash) != bytes(recomputed):
            broken.append(row_id)
        previous = bytes(row_hash)
    return broken


def test_operation_log_is_hash_chained_and_a_modified_row_is_detected(connection):
    for number in range(5):
        connection.execute(
            "INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, detail) "
            "VALUES ('staff', 'alice', 'patron.read', 'patron', %s, '{}')", [str(number)])
    assert verify_chain(connection) == []
    connection.execute("ALTER TABLE operation_log DISABLE TRIGGER operation_log_append_only")
    connection.execute("UPDATE operation_log SET actor = 'mallory' WHERE entity_id = '2'")
    connection.execute("ALTER TABLE operation_log ENABLE TRIGGER operation_log_append_only")
    tampered_id = connection.execute("SELECT id FROM operation_log WHERE entity_id = '2'").fetchone()[0]
    assert verify_chain(connection) == [tampered_id]


def test_outbox_sequence_follows_commit_order(database_url, connection):
    """A writer that appended first but commits later blocks the next writer: seq order is commit order."""
    first = psycopg.connect(database_url)
    first.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('item', 1)")
    second_done = threading.Event()

    def second_writer() -> None:
        with psycopg.connect(database_url) as second:
            second.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('item', 2)")
            second.commit()
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not second_done.wait(0.5), "the second append must wait for the first transaction"
    first.commit()
    first.close()
    thread.join()
    rows = connection.execute("SELECT entity_id FROM outbox_event ORDER BY seq").fetchall()
    assert rows == [(1,), (2,)]
