"""The OPAC's circulation adapter (shoka.opac.circulation_actions) against a real database and a real engine
replica: the engine's rules reach the patron, the operation-log entry and the outbox event commit in the same
transaction, and two simultaneous holds make one."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
import datetime as dt
from types import SimpleNamespace

import psycopg
import pytest

from shoka.clock import library_today
from shoka.db.pools import DatabasePools
from shoka.errors import Conflict, NotFound, Unprocessable
from shoka.circulation.decisions import CirculationRefused
from shoka.opac import circulation_actions
from shoka.replica.engine_replica import EngineReplica


def small_library(url: str) -> dict[str, int]:
    today = library_today()
    with psycopg.connect(url) as connection:
        central = connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) VALUES "
                                     "('central', '中央図書館', 'Central', 'central') RETURNING id").fetchone()[0]
        connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind, is_pickup_point) VALUES "
                           "('bookmobile', '移動図書館', 'Bookmobile', 'bookmobile', false)")
        connection.execute("INSERT INTO patron_category (code, name_ja, name_en) VALUES ('adult', '一般', 'Adult')")
        connection.execute("INSERT INTO material_type (code, name_ja, name_en) VALUES ('book', '図書', 'Book')")
        connection.execute("""INSERT INTO circulation_rule (loan_days, max_items_of_type, max_items_total, max_renewals,
                                  holds_allowed, max_holds, hold_pickup_days) VALUES (14, 10, 10, 1, true, 10, 7)""")
        ids = {"central": central}
        for key, title in (("lendable", "貸せる本"), ("reference", "参考図書だけの本"), ("withdrawn", "除籍した本")):
            ids[key] = connection.execute("INSERT INTO bib (source, title, material_type, is_withdrawn) VALUES "
                                          "('manual', %s, 'book', %s) RETURNING id",
                                          [title, key == "withdrawn"]).fetchone()[0]
        ids["item"] = connection.execute(
            "INSERT INTO item (barcode, bib_id, service_point_id, material_type) VALUES ('A1', %s, %s, 'book') "
            "RETURNING id", [ids["lendable"], central]).fetchone()[0]
        connection.execute("INSERT INTO item (barcode, bib_id, service_point_id, material_type, loan_policy) VALUES "
                           "('R1', %s, %s, 'book', 'in_library_only')", [ids["reference"], central])
        for key, card, status, expires in (("active", "P1", "active", today + dt.timedelta(days=100)),
                                           ("other", "P2", "active", today + dt.timedelta(days=100)),
                                           ("suspended", "P3", "suspended", today + dt.timedelta(days=100)),
                                           ("expired", "P4", "active", today - dt.timedelta(days=1))):
            ids[key] = connection.execute(
                "INSERT INTO patron (card, category, home_service_point_id, expires_on, status, age_band) "
                "VALUES (%s, 'adult', %s, %s, %s, '30-39') RETURNING id",
                [card, central, expires, status]).fetchone()[0]
    return ids


@pytest.fixture
def setting(database_url):
    ids = small_library(database_url)
    return database_url, ids


async def with_state(url: str, action, index_root):
    pools = DatabasePools.create(url, staff_size=4, public_size=1)
    await pools.open()
    engine = EngineReplica(url, index_root)
    await engine.start()
    try:
        return await action(SimpleNamespace(pools=pools, engine=engine))
    finally:
        await engine.stop()
        await pools.close()


def run(url: str, action):
    return asyncio.run(with_state(url, action, Path(tempfile.mkdtemp(prefix="shoka-opac-index-"))))


def latest(url: str, sql: str, parameters=()):
    with psycopg.connect(url) as connection:
        return connection.execute(sql, parameters).fetchone()


def test_a_hold_is_placed_logged_and_announced_last(setting):
    url, ids = setting
    message = run(url, lambda state: circulation_actions.place_hold(state, ids["active"], ids["lendable"], "central",
                                                                      "203.0.113.5"))
    assert message == "『貸せる本』を予約しました（受取館：中央図書館、予約順位：1番目）。"
    hold_id, status, via = latest(url, "SELECT id, status, placed_via FROM hold")
    assert (status, via) == ("waiting", "opac")
    assert latest(url, "SELECT topic, entity_id, payload - 'engine', payload->'engine'->>'kind' FROM outbox_event "
                       "ORDER BY seq DESC LIMIT 1") == ("hold", hold_id, {"item_id": None}, "hold_upserted")
    assert latest(url, "SELECT actor_kind, actor, action, source_address FROM operation_log ORDER BY id DESC LIMIT 1"
                  ) == ("patron", "P1", "hold.place", "203.0.113.5")


@pytest.mark.parametrize("patron,bib,pickup,error,code", [
    ("suspended", "lendable", "central", CirculationRefused, "patron_suspended"),
    ("expired", "lendable", "central", CirculationRefused, "card_expired"),
    ("active", "withdrawn", "central", NotFound, "bib_not_found"),
    ("active", "reference", "central", CirculationRefused, "no_copies"),
    ("active", "lendable", "bookmobile", CirculationRefused, "not_pickup_point"),
    ("active", "lendable", "nowhere", CirculationRefused, "not_pickup_point"),
])
def test_hold_refusals(setting, patron, bib, pickup, error, code):
    url, ids = setting
    with pytest.raises(error) as refusal:
        run(url, lambda state: circulation_actions.place_hold(state, ids[patron], ids[bib], pickup, ""))
    assert refusal.value.code == code and refusal.value.message
    assert latest(url, "SELECT count(*) FROM hold")[0] == 0 and latest(url, "SELECT count(*) FROM outbox_event")[0] == 0


def test_two_simultaneous_holds_on_one_record_make_one(setting):
    url, ids = setting

    async def both(state):
        return await asyncio.gather(
            *(circulation_actions.place_hold(state, ids["active"], ids["lendable"], "central", "") for _ in range(2)),
            return_exceptions=True)

    outcomes = run(url, both)
    refusals = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(refusals) == 1 and refusals[0].code == "hold_exists"
    assert latest(url, "SELECT count(*) FROM hold")[0] == 1


def _loan(url: str, ids: dict, patron: str, due_in_days: int, renewals: int = 0) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on, renewals, "
            "patron_category, patron_age_band, material_type) "
            "VALUES (%s, %s, %s, now() - interval '20 days', %s, %s, 'adult', '30-39', 'book') RETURNING id", [ids["item"], ids[patron], ids["central"],
                                     library_today() + dt.timedelta(days=due_in_days), renewals]).fetchone()[0]


def test_renewal_rules(setting):
    url, ids = setting
    loan_id = _loan(url, ids, "active", due_in_days=2)
    with pytest.raises(NotFound):  # another patron's loan is simply not there for them
        run(url, lambda state: circulation_actions.renew_loan(state, ids["other"], "A1", ""))
    run(url, lambda state: circulation_actions.place_hold(state, ids["other"], ids["lendable"], "central", ""))
    with pytest.raises(CirculationRefused) as held:
        run(url, lambda state: circulation_actions.renew_loan(state, ids["active"], "A1", ""))
    assert held.value.code == "renewal_blocked_by_hold"
    with psycopg.connect(url) as connection:
        connection.execute("UPDATE hold SET status = 'cancelled', closed_at = now()")
    message = run(url, lambda state: circulation_actions.renew_loan(state, ids["active"], "A1", ""))
    assert "延長しました" in message
    due_on, renewals = latest(url, "SELECT due_on, renewals FROM loan WHERE id = %s", [loan_id])
    assert renewals == 1 and due_on >= library_today() + dt.timedelta(days=14)
    assert latest(url, "SELECT topic, entity_id, payload - 'engine', payload->'engine'->>'kind' FROM outbox_event "
                       "ORDER BY seq DESC LIMIT 1") == ("loan", loan_id, {"item_id": ids["item"]}, "loan_opened")
    with pytest.raises(CirculationRefused) as limit:
        run(url, lambda state: circulation_actions.renew_loan(state, ids["active"], "A1", ""))
    assert limit.value.code == "renewal_limit"


def test_cancelling_a_ready_hold_names_its_trapped_copy(setting):
    url, ids = setting
    with psycopg.connect(url) as connection:
        hold_id = connection.execute(
            "INSERT INTO hold (patron_id, bib_id, pickup_service_point_id, placed_at, placed_via, status, "
            "trapped_item_id, ready_at, pickup_by) "
            "VALUES (%s, %s, %s, now(), 'desk', 'ready', %s, now(), current_date + 7) RETURNING id",
            [ids["active"], ids["lendable"], ids["central"], ids["item"]]).fetchone()[0]
    with pytest.raises(NotFound):
        run(url, lambda state: circulation_actions.cancel_hold(state, ids["other"], hold_id, ""))
    with pytest.raises(CirculationRefused) as trapped:
        run(url, lambda state: circulation_actions.change_pickup(state, ids["active"], hold_id, "central", ""))
    assert trapped.value.code == "hold_not_waiting"
    assert "取り消しました" in run(url, lambda state: circulation_actions.cancel_hold(state, ids["active"], hold_id, ""))
    assert latest(url, "SELECT status, cancel_reason FROM hold WHERE id = %s", [hold_id]) == ("cancelled", "patron")
    assert latest(url, "SELECT topic, entity_id, payload - 'engine', payload->'engine'->>'kind' FROM outbox_event "
                       "WHERE topic = 'hold' ORDER BY seq DESC LIMIT 1") == (
        "hold", hold_id, {"item_id": ids["item"]}, "hold_closed")
