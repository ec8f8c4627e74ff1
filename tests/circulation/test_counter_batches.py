"""The counter's batches of prepared statements on one connection: refusals roll back and leave the connection
as it was; a connection on which psycopg had prepared statements of its own keeps working (psycopg deallocates
every prepared statement of the session after a ROLLBACK once it has prepared some itself)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from shoka.circulation import desk
from shoka.circulation.decisions import CirculationRefused
from shoka.clock import library_today, utc_now
from shoka.errors import NotFound

from .test_replica_following import DESK, lending_library, two_replicas


@pytest.fixture
def url(database_url):
    lending_library(database_url)
    return database_url


def test_refusals_roll_back_and_the_counter_keeps_working_on_the_same_connection(url):
    def at_rest(connection: psycopg.AsyncConnection) -> bool:
        return connection.info.transaction_status == TransactionStatus.IDLE and not connection.autocommit

    async def scenario(here, _elsewhere):
        steps = []
        async with await psycopg.AsyncConnection.connect(url) as connection:
            for _ in range(6):  # past psycopg's prepare_threshold (5): it prepares this query itself
                await (await connection.execute("SELECT count(*) FROM loan WHERE patron_id > %s", [0])).fetchone()
                await connection.commit()
            counter = {"today": library_today(), "now": utc_now(), "actor": DESK, "branch": "central"}
            for attempt in range(2):
                with pytest.raises(NotFound):
                    await desk.checkout(connection, here, card="P1", barcode="NO-SUCH-COPY", **counter)
                steps.append(("unknown copy", at_rest(connection)))
                lent = await desk.checkout(connection, here, card="P1", barcode="C1", request_id=f"desk-scan-{attempt}",
                                           **counter)
                steps.append(("lent", at_rest(connection)))
                with pytest.raises(CirculationRefused):
                    await desk.checkout(connection, here, card="P2", barcode="C1", **counter)
                steps.append(("on loan to another", at_rest(connection)))
                replayed = await desk.checkout(connection, here, card="P1", barcode="C1",
                                               request_id=f"desk-scan-{attempt}", **counter)
                assert replayed == lent
                returned = await desk.checkin(connection, here, barcode="C1", **counter)
                assert returned.returned_loan == lent.loan_id
                steps.append(("returned", at_rest(connection)))
            await (await connection.execute("SELECT count(*) FROM loan WHERE patron_id > %s", [0])).fetchone()
        return steps

    steps = asyncio.run(two_replicas(url, scenario))
    assert all(rested for _, rested in steps), steps
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT count(*), count(returned_at) FROM loan").fetchone() == (2, 2)
        assert connection.execute("SELECT count(*) FROM idempotent_request").fetchone()[0] == 2
