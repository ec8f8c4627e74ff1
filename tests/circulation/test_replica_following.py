"""Two engine replicas over one database, as two service processes hold them: a desk's own commits are applied
at once and need no wait for its follower; another process's commits are waited for; a follower applies the
engine event an outbox event carries without reading the rows again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
from pathlib import Path

import msgspec
import psycopg
import pytest

from shoka.audit import Actor
from shoka.catalogue.search_models import SearchRequest, run_search
from shoka.circulation import consistency, desk, engine_state, holds
from shoka.circulation.replica import ReplicaBehind
from shoka.clock import library_today, utc_now
from shoka.errors import Conflict
from shoka.replica import engine_replica, outbox, retention
from shoka.replica.engine_replica import EngineReplica

DESK = Actor(kind="staff", name="desk-test")


def lending_library(url: str) -> None:
    """One branch, one rule, patrons P1 and P2, copies C1…C4 of four titles."""
    today = library_today()
    with psycopg.connect(url) as connection:
        central = connection.execute("INSERT INTO service_point (code, name_ja, name_en, kind) VALUES "
                                     "('central', '中央図書館', 'Central', 'central') RETURNING id").fetchone()[0]
        connection.execute("INSERT INTO patron_category (code, name_ja, name_en) VALUES ('adult', '一般', 'Adult')")
        connection.execute("INSERT INTO material_type (code, name_ja, name_en) VALUES ('book', '図書', 'Book')")
        connection.execute("""INSERT INTO circulation_rule (loan_days, max_items_of_type, max_items_total, max_renewals,
                                  holds_allowed, max_holds, hold_pickup_days) VALUES (14, 10, 10, 1, true, 10, 7)""")
        for number in range(1, 5):
            bib_id = connection.execute("INSERT INTO bib (source, title, material_type) VALUES "
                                        "('manual', %s, 'book') RETURNING id", [f"本{number}"]).fetchone()[0]
            connection.execute("INSERT INTO item (barcode, bib_id, service_point_id, material_type) VALUES "
                               "(%s, %s, %s, 'book')", [f"C{number}", bib_id, central])
        for card in ("P1", "P2"):
            connection.execute("INSERT INTO patron (card, category, home_service_point_id, expires_on, status, age_band)"
                               " VALUES (%s, 'adult', %s, %s, 'active', '30-39')",
                               [card, central, today.replace(year=today.year + 1)])


@pytest.fixture
def url(database_url):
    lending_library(database_url)
    return database_url


async def two_replicas(url: str, scenario):
    replicas = [EngineReplica(url, Path(tempfile.mkdtemp(prefix="shoka-replica-index-"))) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        return await scenario(*replicas)
    finally:
        for replica in replicas:
            await replica.stop()


async def lend(url: str, replica: EngineReplica, card: str, barcode: str) -> desk.CheckoutResult:
    async with await psycopg.AsyncConnection.connect(url) as connection:
        return await desk.checkout(connection, replica, card=card, barcode=barcode, branch="central",
                                   today=library_today(), now=utc_now(), actor=DESK)


def loans_of(replica: EngineReplica, card: str) -> list[str]:
    summary = msgspec.json.decode(replica.circulation.patron_summary(msgspec.json.encode(
        {"card": card, "today": library_today().isoformat(), "branch": "central"})))
    return sorted(loan["item_id"] for loan in summary["decision"]["loans"])


def test_a_desk_decides_on_its_own_commits_without_waiting_for_its_follower(url):
    async def scenario(here, _elsewhere):
        await here.follower.stop()  # nothing is read from the outbox here any more
        await lend(url, here, "P1", "C1")
        await lend(url, here, "P1", "C2")  # would wait for the follower (ReplicaBehind) without apply_here
        return len(loans_of(here, "P1"))

    assert asyncio.run(two_replicas(url, scenario)) == 2


def test_a_desk_applies_what_another_process_committed_from_its_position_answer(url):
    async def scenario(here, elsewhere):
        await here.follower.stop()  # what elsewhere commits can reach this engine only through the desk
        await lend(url, elsewhere, "P1", "C1")
        await lend(url, here, "P1", "C2")  # the patron changed elsewhere: this engine sees it before deciding
        return loans_of(here, "P1")

    item_ids = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        expected = [row[0] for row in connection.execute(
            "SELECT item_id FROM loan WHERE returned_at IS NULL ORDER BY item_id").fetchall()]
    assert item_ids == expected and len(expected) == 2


def test_a_desk_asks_only_for_what_was_committed_after_its_last_position_answer(url):
    async def scenario(here, elsewhere):
        await here.follower.stop()
        follower_horizon = here.caught_up.applied_seq
        await lend(url, elsewhere, "P1", "C1")
        await lend(url, here, "P2", "C2")  # its answer held elsewhere's loan, which was applied from it
        after_two = here.position_query()[1]
        await lend(url, elsewhere, "P1", "C3")
        await lend(url, here, "P2", "C4")
        return follower_horizon, after_two, here.position_query()[1], loans_of(here, "P1"), loans_of(here, "P2")

    follower_horizon, after_two, after_four, p1_loans, p2_loans = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        seqs = [row[0] for row in connection.execute("SELECT seq FROM outbox_event ORDER BY seq").fetchall()]
    # Each answer was complete through its last event (the loan elsewhere lent just before): the next transaction
    # asks from there, not from the stopped follower's horizon, and the engine still saw every loan.
    assert len(seqs) == 4 and follower_horizon < seqs[0]
    assert after_two == [seqs[0]] and after_four == [seqs[2]]
    assert len(p1_loans) == 2 and len(p2_loans) == 2


def test_a_desk_waits_for_the_follower_when_a_change_carries_no_engine_event(url):
    async def scenario(here, _elsewhere):
        await here.follower.stop()
        with psycopg.connect(url) as connection:  # a patron edited elsewhere: the engine must re-read the row
            connection.execute("INSERT INTO outbox_event (topic, entity_id) "
                               "SELECT 'patron', id FROM patron WHERE card = 'P1'")
        with pytest.raises(ReplicaBehind) as behind:
            await lend(url, here, "P1", "C2")
        assert behind.value.status_code == 503 and behind.value.code == "replica_behind"  # retry, not a fault

    asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT count(*) FROM loan").fetchone()[0] == 0


def test_one_request_id_sent_with_two_different_checkouts_at_once_is_refused_for_the_second(url, monkeypatch):
    """Two desks' requests with one request id and different copies do not wait for each other's locks: the
    second to commit meets the first's remembered answer in the key of idempotent_request, and gets 409
    request_id_reused (not a 500), with nothing lent."""
    async def scenario(here, _elsewhere):
        bring_current = here.bring_current

        async def first_request_commits_meanwhile(position, *arguments):
            with psycopg.connect(url, autocommit=True) as other_desk:
                other_desk.execute("INSERT INTO idempotent_request (request_id, operation, response) "
                                   "VALUES ('R-shared-1', 'checkout', '{\"item\": \"C1\"}')")
            await bring_current(position, *arguments)

        monkeypatch.setattr(here, "bring_current", first_request_commits_meanwhile)
        async with await psycopg.AsyncConnection.connect(url) as connection:
            with pytest.raises(Conflict) as refused:
                await desk.checkout(connection, here, card="P1", barcode="C2", branch="central",
                                    today=library_today(), now=utc_now(), actor=DESK, request_id="R-shared-1")
        return refused.value.code

    assert asyncio.run(two_replicas(url, scenario)) == "request_id_reused"
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT count(*) FROM loan").fetchone()[0] == 0


class FreshConnections:
    """A pool as expire_ready_holds uses one: a new connection each time."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextlib.asynccontextmanager
    async def connection(self):
        async with await psycopg.AsyncConnection.connect(self.url) as connection:
            yield connection


def test_hold_expiry_decides_again_under_its_locks(url):
    """The expiry round's list is made before any lock. A process whose list says "the expired copy goes to the
    next in line" must not act on it when, meanwhile, another desk returned a second copy that was trapped for
    that patron: under the locks it decides again on current state, and the expired copy goes back to the
    shelf instead of overwriting the other trap (which left a copy on the hold shelf that no hold named)."""
    with psycopg.connect(url) as connection:
        bib_id, central = connection.execute("SELECT bib_id, service_point_id FROM item WHERE barcode = 'C1'").fetchone()
        connection.execute("INSERT INTO item (barcode, bib_id, service_point_id, material_type) "
                           "VALUES ('C1b', %s, %s, 'book')", [bib_id, central])
        connection.execute("INSERT INTO patron (card, category, home_service_point_id, expires_on, status, age_band) "
                           "SELECT card, 'adult', %s, current_date + 365, 'active', '30-39' "
                           "FROM unnest(ARRAY['P3', 'P4']) AS card", [central])

    async def scenario(here, elsewhere):
        today, clerk = library_today(), dict(branch="central", actor=DESK)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            for card, barcode in (("P1", "C1"), ("P2", "C1b")):
                await desk.checkout(connection, elsewhere, card=card, barcode=barcode, today=today, now=utc_now(),
                                    **clerk)
            for card in ("P3", "P4"):
                await holds.place_hold(connection, elsewhere, bib_id=bib_id, pickup_branch="central", today=today,
                                       now=utc_now(), actor=DESK, via="desk", card=card)
            returned = await desk.checkin(connection, elsewhere, barcode="C1", today=today, now=utc_now(), **clerk)
            assert returned.status == "hold_ready"  # for P3
            latest = (await (await connection.execute("SELECT max(seq) FROM outbox_event")).fetchone())[0]
            await here.wait_until_applied(latest)
            await here.follower.stop()  # this process's list will not know what comes next
            second = await desk.checkin(connection, elsewhere, barcode="C1b", today=today, now=utc_now(), **clerk)
            assert second.status == "hold_ready"  # for P4, the next in line
            pickup_by = (await (await connection.execute(
                "SELECT pickup_by FROM hold h JOIN patron p ON p.id = h.patron_id WHERE p.card = 'P3'")).fetchone())[0]
        expired = await holds.expire_ready_holds(FreshConnections(url), here, today=pickup_by + dt.timedelta(days=1),
                                                 now=utc_now())
        return expired, consistency.differences_from(here.circulation, consistency.read_snapshot(url)[1])

    expired, differences = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        rows = dict(connection.execute(
            "SELECT p.card, h.status || ' ' || coalesce(i.barcode, '-') FROM hold h JOIN patron p ON p.id = h.patron_id "
            "LEFT JOIN item i ON i.id = h.trapped_item_id").fetchall())
    assert expired == 1 and rows == {"P3": "expired C1", "P4": "ready C1b"}
    assert differences == []


def test_a_follower_applies_the_carried_engine_event_without_reading_the_rows(url, monkeypatch):
    async def scenario(here, elsewhere):
        def no_reading(*_arguments):
            raise AssertionError("a carried engine event was read again from the database")

        monkeypatch.setattr(engine_state, "events_for", no_reading)
        result = await lend(url, here, "P2", "C3")
        async with await psycopg.AsyncConnection.connect(url) as connection, connection.cursor() as cursor:
            await elsewhere.catch_up_with(cursor)
        return result, loans_of(elsewhere, "P2")

    result, seen_elsewhere = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        item_id, carried = connection.execute(
            "SELECT l.item_id, o.payload->'engine' FROM loan l JOIN outbox_event o ON o.topic = 'loan' "
            "AND o.entity_id = l.id WHERE l.id = %s", [result.loan_id]).fetchone()
    assert seen_elsewhere == [item_id]
    assert carried["kind"] == "loan_opened" and carried["loan_id"] == result.loan_id


def outbox_horizon(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT max(seq) FROM outbox_event").fetchone()[0]


async def followed_within(replica: EngineReplica, seq: int, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if replica.follower.last_seq >= seq:
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_notification_wakes_the_follower(url, monkeypatch):
    monkeypatch.setattr(outbox, "POLL_INTERVAL_SECONDS", 60.0)  # only the notification can wake it in time

    async def scenario(here, elsewhere):
        await asyncio.sleep(0.2)  # both followers are waiting
        await lend(url, here, "P1", "C1")
        return await followed_within(elsewhere, outbox_horizon(url))

    assert asyncio.run(two_replicas(url, scenario))


LISTENERS = "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN shoka_outbox'"


def test_a_follower_whose_listening_connection_is_cut_reconnects_and_catches_up(url, monkeypatch):
    monkeypatch.setattr(outbox, "POLL_INTERVAL_SECONDS", 60.0)

    async def scenario(here, elsewhere):
        with psycopg.connect(url, autocommit=True) as connection:
            for _ in range(200):  # both followers listen (each connects on its own task, in its own time)
                if connection.execute(LISTENERS).fetchone()[0] == 2:
                    break
                await asyncio.sleep(0.05)
            cut = connection.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE query = 'LISTEN shoka_outbox'").fetchone()[0]
        await lend(url, here, "P2", "C2")  # notifies no one: every listener is gone
        return cut, await followed_within(elsewhere, outbox_horizon(url)), loans_of(elsewhere, "P2")

    cut, followed, seen_elsewhere = asyncio.run(two_replicas(url, scenario))
    assert cut == 2 and followed and len(seen_elsewhere) == 1


def test_replicas_answer_shoka_check_after_losing_their_maintenance_connection(url):
    async def scenario(here, elsewhere):
        await asyncio.sleep(1.5)  # maintenance ticks: each replica has its connection and has announced itself
        with psycopg.connect(url, autocommit=True) as connection:
            cut = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE '%FROM replica_check c%' AND pid <> pg_backend_pid()").fetchone()[0]
        report = await asyncio.to_thread(consistency.run_check, url, 20.0)
        return cut, report, {here.replica_id, elsewhere.replica_id}

    cut, report, replica_ids = asyncio.run(two_replicas(url, scenario))
    assert cut == 2  # one kept connection each, not one per tick
    assert set(report["answers"]) == replica_ids and not report["silent"]
    assert all(differences == [] for _seq, differences in report["answers"].values())


def test_a_replica_keeps_announcing_itself_while_it_answers_a_long_check(url, monkeypatch):
    """Answering `shoka check` takes seconds on a large library; meanwhile the heartbeat must go on, or the
    replica would count as dead (not asked by the next check, and pruned past by retention)."""
    monkeypatch.setattr(engine_replica, "MAINTENANCE_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(engine_replica, "HEARTBEAT_TICKS", 2)

    async def scenario(here, _elsewhere):
        compare = here._compare

        async def slow_compare():
            await asyncio.sleep(1.5)
            return await compare()

        monkeypatch.setattr(here, "_compare", slow_compare)
        await asyncio.sleep(0.5)  # both replicas have announced themselves, so the check asks both
        report = asyncio.create_task(asyncio.to_thread(consistency.run_check, url, 20.0))
        await asyncio.sleep(1.0)  # the check is being answered (two slow comparisons)
        beats = []
        with psycopg.connect(url, autocommit=True) as connection:
            for _ in range(2):
                beats.append(connection.execute("SELECT heartbeat_at FROM engine_replica WHERE replica_id = %s",
                                                [here.replica_id]).fetchone()[0])
                await asyncio.sleep(0.5)
        return beats, await report

    beats, report = asyncio.run(two_replicas(url, scenario))
    assert beats[1] > beats[0]
    assert not report["silent"] and all(differences == [] for _seq, differences in report["answers"].values())


def prune_everything_followed(url: str) -> int:
    """Two retention rounds without grace (the first marks, the second prunes); returns pruned_through."""
    with psycopg.connect(url, autocommit=True) as connection:
        retention.prune(connection, grace=dt.timedelta(0))
        return retention.prune(connection, grace=dt.timedelta(0)).pruned_through


async def stall_then_prune(url: str, stalled: EngineReplica, elsewhere: EngineReplica, copies: list[str]) -> int:
    """`stalled` stops following (and heartbeating) for a while, `elsewhere` lends `copies` to P1 meanwhile, and
    retention prunes every event elsewhere has followed; returns pruned_through."""
    await stalled.follower.stop()
    for replica in (stalled, elsewhere):
        replica._maintenance.cancel()
    for barcode in copies:
        await lend(url, elsewhere, "P1", barcode)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE engine_replica SET heartbeat_at = now() - interval '1 minute', applied_seq = 0 "
                           "WHERE replica_id = %s", [stalled.replica_id])
        connection.execute("UPDATE engine_replica SET applied_seq = (SELECT max(seq) FROM outbox_event) "
                           "WHERE replica_id = %s", [elsewhere.replica_id])
    return prune_everything_followed(url)


def test_a_replica_behind_pruned_events_reloads_its_loan_state_and_follows_on(url):
    async def scenario(stalled, elsewhere):
        pruned_through = await stall_then_prune(url, stalled, elsewhere, ["C1"])
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as reader:
            await stalled.follower.catch_up(reader)  # finds the hole: reloads instead of skipping the loan
            reloaded = loans_of(stalled, "P1")
            await lend(url, elsewhere, "P1", "C2")
            await stalled.follower.catch_up(reader)  # and follows on from the outbox
        return pruned_through, reloaded, loans_of(stalled, "P1")

    pruned_through, reloaded, followed = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        lent = [row[0] for row in connection.execute("SELECT item_id FROM loan ORDER BY id").fetchall()]
        left = connection.execute("SELECT count(*) FROM outbox_event WHERE seq <= %s", [pruned_through]).fetchone()[0]
    assert pruned_through > 0 and left == 0
    assert reloaded == lent[:1] and followed == sorted(lent)


def test_a_desk_on_a_replica_behind_pruned_events_waits_for_the_reload_instead_of_deciding(url):
    """A process that stalled past the retention's grace missed events that are gone from the outbox; its desk's
    position answer cannot carry them. The desk must not decide on the state without them (the patron's two
    loans elsewhere): it waits for the follower, which reloads, and then decides on the full state."""
    async def scenario(stalled, elsewhere):
        pruned_through = await stall_then_prune(url, stalled, elsewhere, ["C1", "C2"])
        with pytest.raises(ReplicaBehind):  # the follower is stopped: nothing can bring the state back
            await lend(url, stalled, "P1", "C3")
        # A position answer that reached further before the reload (pretended here) may have gone with the
        # replaced state: after the reload the next one is asked from the snapshot.
        stalled._answered_through = pruned_through + 1000
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as reader:
            await stalled.follower.catch_up(reader)  # reloads; the outbox holds nothing after the pruned events
        horizon = stalled.current_through
        await lend(url, stalled, "P1", "C3")
        return pruned_through, horizon, loans_of(stalled, "P1")

    pruned_through, horizon, loans = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        left = connection.execute("SELECT count(*) FROM outbox_event WHERE seq <= %s", [pruned_through]).fetchone()
        lent = [row[0] for row in connection.execute("SELECT item_id FROM loan ORDER BY item_id").fetchall()]
    assert pruned_through > 0 and left == (0,) and horizon == pruned_through
    assert loans == lent and len(lent) == 3


def test_a_replica_started_after_every_event_was_pruned_stands_at_the_pruned_horizon(url, monkeypatch):
    """After a quiet hour a retention round may prune every event, leaving the outbox empty. A replica that
    starts then stands where pruning stopped, so its follower finds no hole: it does not reload its loan state
    (before, it reloaded at every round until the next event came)."""
    async def scenario(first, _second):
        await lend(url, first, "P1", "C1")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("UPDATE engine_replica SET applied_seq = (SELECT max(seq) FROM outbox_event)")
        pruned_through = prune_everything_followed(url)
        started = EngineReplica(url, Path(tempfile.mkdtemp(prefix="shoka-replica-index-")))
        reloads: list[int] = []
        reload = started.follower._reload_pruned_topics

        async def counted_reload(pruned: int) -> None:
            reloads.append(pruned)
            await reload(pruned)

        monkeypatch.setattr(started.follower, "_reload_pruned_topics", counted_reload)
        await started.start()
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as reader:
                for _ in range(3):
                    await started.follower.catch_up(reader)
            return pruned_through, reloads, started.follower.last_seq, loans_of(started, "P1")
        finally:
            await started.stop()

    pruned_through, reloads, position, loans = asyncio.run(two_replicas(url, scenario))
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT count(*) FROM outbox_event").fetchone()[0] == 0
        lent = [row[0] for row in connection.execute("SELECT item_id FROM loan").fetchall()]
    assert pruned_through > 0 and position == pruned_through
    assert reloads == [] and loans == lent


def test_the_search_index_writer_catches_up_past_pruned_circulation_events(url):
    index_root = Path(tempfile.mkdtemp(prefix="shoka-replica-index-"))  # kept from one process to the next

    async def serve_a_while(lending: bool) -> int:
        """Starts a replica on the index, lends or not, and returns how many records the index finds as 改題."""
        replica = EngineReplica(url, index_root)
        await replica.start()
        try:
            if lending:
                await lend(url, replica, "P1", "C1")
                await lend(url, replica, "P2", "C2")
            return run_search(replica.catalogue, SearchRequest(query="改題")).total
        finally:
            await replica.stop()

    assert asyncio.run(serve_a_while(lending=True)) == 0
    pruned_through = prune_everything_followed(url)  # no replica is live: everything is followed
    with psycopg.connect(url) as connection:  # a record edited while no process served
        bib_id = connection.execute("UPDATE bib SET title = '改題' WHERE title = '本3' RETURNING id").fetchone()[0]
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('bib', %s)", [bib_id])
    # The index's last commit is older than every event left: its writer reindexes the edited record all the same.
    assert pruned_through > 0
    assert asyncio.run(serve_a_while(lending=False)) == 1


def test_replicas_run_retention_rounds_on_their_own(url, monkeypatch):
    monkeypatch.setattr(retention, "ROUND_INTERVAL_SECONDS", 0.1)

    async def scenario(_here, _elsewhere):
        await asyncio.sleep(1.0)
        with psycopg.connect(url) as connection:
            return connection.execute("SELECT marked_at IS NOT NULL FROM outbox_retention").fetchone()[0]

    assert asyncio.run(two_replicas(url, scenario))  # a round ran: the grace has its first mark
