"""Virtual users of circulation: a counter desk through the staff API, the same work as bare PostgreSQL
transactions (the floor), and a SIP2 self-check kiosk.

Every station works the same way, on copies and patrons of its own (library_data.Station): patrons come in
turn; each returns what they borrowed at their last visit (checkins) and borrows one to three copies from the
station's shelf (checkouts). A copy returned goes back on the shelf and is lent again later, so a station can
run for any time on a few dozen copies. When the step ends, whatever is still out is returned (those requests
come after the measured window and are not counted); the runner also closes in SQL any loan a failed request
left open.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from dataclasses import dataclass

from loadtests.library_data import LENDING_ON_LOAN_BEFORE_LEAVING, Station
from loadtests.sip2_client import Kiosk, Sip2Failure, answer_ok, screen_message
from loadtests.stats import Outcome
from loadtests.virtual_user import REFUSAL_STATUSES, VirtualUser


class StationStock:
    """Which of a station's copies are on its shelf and which patron has which. At a lending desk
    (`lend_only`) patrons only borrow, each until they hold LENDING_ON_LOAN_BEFORE_LEAVING, and nothing comes
    back during the step: the runner returns it in SQL afterwards."""

    def __init__(self, station: Station, lend_only: bool = False) -> None:
        self._patrons = deque(station.patrons)
        self._shelf = deque(station.copies)
        self.lend_only = lend_only
        self.borrowed: dict[str, list[str]] = {card: [] for card in station.patrons}

    def next_patron(self) -> str | None:
        """The next patron in the queue; None once a lending desk's shelf is empty or every patron has left."""
        if self.lend_only and not self._shelf:
            return None
        while self._patrons:
            card = self._patrons.popleft()
            if not self.lend_only or len(self.borrowed[card]) < LENDING_ON_LOAN_BEFORE_LEAVING:
                self._patrons.append(card)
                return card
        return None

    def brought_back(self, card: str) -> list[str]:
        """What the patron returns at this visit: everything they borrowed last time."""
        return [] if self.lend_only else list(self.borrowed[card])

    def take_from_shelf(self) -> str | None:
        return self._shelf.popleft() if self._shelf else None

    def lent(self, card: str, barcode: str) -> None:
        self.borrowed[card].append(barcode)

    def not_lent(self, barcode: str) -> None:
        """A refused checkout: the copy stays on the shelf, at the back."""
        self._shelf.append(barcode)

    def returned(self, card: str, barcode: str) -> None:
        self.borrowed[card].remove(barcode)
        self._shelf.append(barcode)

    def written_off(self, card: str, barcode: str) -> None:
        """A request failed and the copy's state is unknown: not used again in this step (the runner's SQL
        clean-up returns it if it is still out)."""
        if barcode in self.borrowed[card]:
            self.borrowed[card].remove(barcode)

    def still_out(self) -> list[tuple[str, str]]:
        """What the station returns when the step ends (a lending desk leaves it to the runner)."""
        if self.lend_only:
            return []
        return [(card, barcode) for card, barcodes in self.borrowed.items() for barcode in barcodes]


@dataclass(frozen=True)
class CounterDesks:
    """Desks through POST /api/v1/circulation/checkout and /checkin, one per virtual user, at its branch. A
    lending desk (`lend_only`) takes nothing back: its patrons only borrow, and what they borrowed is returned
    in SQL after the step (library_data.lending_copies). A paced desk (`requests_per_second`) sends each request
    when it is due on its own Poisson schedule, and its requests are timed from then (VirtualUser.on_schedule)."""

    stations: tuple[Station, ...]
    token: str
    think_seconds: tuple[float, float] = (0.0, 0.0)  # between two scans
    lend_only: bool = False
    requests_per_second: float = 0.0  # 0: a closed loop, each request as soon as the previous one is answered

    async def run_user(self, user: VirtualUser) -> None:
        station = self.stations[user.index]
        stock = StationStock(station, self.lend_only)
        headers = {"Authorization": f"Bearer {self.token}"}
        connection = user.http()

        async def checkin(card: str, barcode: str) -> None:
            due_at = await user.on_schedule(self.requests_per_second)
            answer = await user.timed_http(connection, "checkin", "POST", "/api/v1/circulation/checkin",
                                           headers=headers, document={"item": barcode, "branch": station.branch},
                                           refusals=REFUSAL_STATUSES, due_at=due_at)
            if answer is not None and answer.status == 200:
                stock.returned(card, barcode)
            else:
                stock.written_off(card, barcode)

        try:
            while user.running():
                card = stock.next_patron()
                if card is None:
                    break
                for barcode in stock.brought_back(card):
                    await checkin(card, barcode)
                    await user.think(self.think_seconds)
                for _ in range(user.random.randint(1, 3)):
                    barcode = stock.take_from_shelf()
                    if barcode is None or not user.running():
                        break
                    due_at = await user.on_schedule(self.requests_per_second)
                    answer = await user.timed_http(
                        connection, "checkout", "POST", "/api/v1/circulation/checkout", headers=headers,
                        document={"patron": card, "item": barcode, "branch": station.branch},
                        refusals=REFUSAL_STATUSES, due_at=due_at)
                    if answer is not None and answer.status == 201:
                        stock.lent(card, barcode)
                    elif answer is not None:
                        stock.not_lent(barcode)
                    await user.think(self.think_seconds)
            for card, barcode in stock.still_out():
                await checkin(card, barcode)
        finally:
            await connection.close()


@dataclass(frozen=True)
class FloorDesks:
    """The floor: what a checkout and a checkin write, as bare PostgreSQL transactions with the service's own
    prepared statements, lock order and two messages per transaction (shoka.db.batches) — everything but HTTP,
    the engine's decision and Python around it. One connection per desk; `lend_only` and `requests_per_second`
    as for CounterDesks."""

    stations: tuple[Station, ...]
    lend_only: bool = False
    requests_per_second: float = 0.0

    async def run_user(self, user: VirtualUser) -> None:
        import psycopg
        from psycopg.types.json import Jsonb

        from shoka.circulation.counter_statements import COUNTER_STATEMENTS
        from shoka.db.batches import run_batch

        station = self.stations[user.index]
        stock = StationStock(station, self.lend_only)
        loans: dict[str, int] = {}  # barcode -> open loan; the service knows it from its engine
        horizon = [0]  # the newest outbox seq this desk knows of, as a replica's horizon

        def log_entry(action: str, entity: str, entity_id: int, detail: dict) -> tuple[str, list]:
            return ("counter_log", ["system", "loadtest-floor", action, entity, str(entity_id), "", Jsonb(detail)])

        def outbox_entry(loan_id: int, item_id: int, engine_event: dict) -> tuple[str, list]:
            return ("counter_outbox", [Jsonb([{"topic": "loan", "entity_id": loan_id,
                                               "payload": {"item_id": item_id, "engine": engine_event}}])])

        async with await psycopg.AsyncConnection.connect(user.endpoint.database_url, autocommit=True,
                                                         prepare_threshold=None) as connection:
            await COUNTER_STATEMENTS.prepare_on(connection)
            material_types = dict(await (await connection.execute(
                "SELECT barcode, material_type FROM item WHERE barcode = ANY(%s)", [list(station.copies)])).fetchall())
            branch_id = (await (await connection.execute(
                "SELECT id FROM service_point WHERE code = %s", [station.branch])).fetchone())[0]
            # Like a replica that has caught up at start: its first position read is not the whole outbox.
            horizon[0] = (await (await connection.execute(
                "SELECT coalesce(max(seq), 0) FROM outbox_event")).fetchone())[0]

            async def timed(kind: str, work) -> bool:
                due_at = await user.on_schedule(self.requests_per_second)
                sent_at = time.monotonic() if due_at is None else due_at
                try:
                    await work()
                except psycopg.Error as error:
                    await connection.rollback()
                    user.record(kind, sent_at, time.monotonic() - sent_at, Outcome.ERROR, type(error).__name__)
                    return False
                user.record(kind, sent_at, time.monotonic() - sent_at, Outcome.OK)
                return True

            async def commit(steps: list) -> None:
                rows = await run_batch(connection, steps, commit=True)
                horizon[0] = max(row[0] for row in rows[-1])

            async def checkout(card: str, barcode: str) -> None:
                now = dt.datetime.now(dt.timezone.utc)
                due_on = (now + dt.timedelta(days=14)).date().isoformat()
                copy, patron, _position, ids = await run_batch(connection, [
                    ("counter_lock_copy", [barcode]), ("counter_lock_patron", [card]),
                    ("counter_position", [horizon[0]]), ("counter_checkout_ids", [station.branch])], begin=True)
                item_id, _bib_id, _title, ndc = copy[0]
                patron_id, category, age_band, _keeps = patron[0]
                _branch_id, loan_id = ids[0]
                await commit([
                    ("counter_open_loan", [loan_id, item_id, patron_id, branch_id, now, due_on, category, age_band,
                                           material_types[barcode], ndc[:3] if ndc else None]),
                    log_entry("circulation.checkout", "loan", loan_id,
                              {"item": barcode, "patron_id": patron_id, "branch": station.branch}),
                    outbox_entry(loan_id, item_id, {
                        "kind": "loan_opened", "loan_id": loan_id, "item_id": item_id, "patron_id": patron_id,
                        "branch": station.branch, "due_on": due_on, "renewals": 0})])
                loans[barcode] = loan_id

            async def checkin(barcode: str) -> None:
                copy, _position = await run_batch(connection, [
                    ("counter_lock_copy", [barcode]), ("counter_position", [horizon[0]])], begin=True)
                item_id, loan_id = copy[0][0], loans.pop(barcode)
                await commit([
                    ("counter_close_loan", [dt.datetime.now(dt.timezone.utc), branch_id, loan_id]),
                    log_entry("circulation.checkin", "item", item_id,
                              {"item": barcode, "loan_id": loan_id, "outcome": "shelve"}),
                    outbox_entry(loan_id, item_id, {"kind": "loan_closed", "loan_id": loan_id, "item_id": item_id})])

            async def return_copy(card: str, barcode: str) -> None:
                if await timed("floor_checkin", lambda: checkin(barcode)):
                    stock.returned(card, barcode)
                else:
                    stock.written_off(card, barcode)

            while user.running():
                card = stock.next_patron()
                if card is None:
                    break
                for barcode in stock.brought_back(card):
                    await return_copy(card, barcode)
                for _ in range(user.random.randint(1, 3)):
                    barcode = stock.take_from_shelf()
                    if barcode is None or not user.running():
                        break
                    if await timed("floor_checkout", lambda: checkout(card, barcode)):
                        stock.lent(card, barcode)
            for card, barcode in stock.still_out():
                await return_copy(card, barcode)


@dataclass(frozen=True)
class SelfCheckKiosks:
    """SIP2 kiosks: log in (93) once, then per patron 63 patron information, 09 for each copy brought back,
    11 for each copy borrowed; a checkout or checkin answered "ok 0" is a refusal (AF says why)."""

    stations: tuple[Station, ...]
    user_name: str
    password: str
    think_seconds: tuple[float, float] = (0.0, 0.0)  # between two messages

    async def run_user(self, user: VirtualUser) -> None:
        station = self.stations[user.index]
        stock = StationStock(station)
        kiosk = Kiosk(user.endpoint.host, user.endpoint.sip2_port, station.branch)

        async def exchange(kind: str, send, judge_ok: bool = True) -> str | None:
            sent_at = time.monotonic()
            try:
                answer = await send()
            except (Sip2Failure, OSError, TimeoutError, ValueError) as error:
                detail = str(error) if isinstance(error, Sip2Failure) else type(error).__name__
                user.record(kind, sent_at, time.monotonic() - sent_at, Outcome.ERROR, detail)
                return None
            seconds = time.monotonic() - sent_at
            if judge_ok and not answer_ok(answer):
                user.record(kind, sent_at, seconds, Outcome.REFUSED, screen_message(answer)[:60] or "ok 0")
            else:
                user.record(kind, sent_at, seconds, Outcome.OK)
            return answer

        async def checkin(card: str, barcode: str) -> None:
            answer = await exchange("sip2_checkin", lambda: kiosk.checkin(barcode, dt.datetime.now()))
            if answer is not None and answer_ok(answer):
                stock.returned(card, barcode)
            else:
                stock.written_off(card, barcode)

        sent_at = time.monotonic()
        try:
            await kiosk.open()
            logged_in = await kiosk.login(self.user_name, self.password)
        except (Sip2Failure, OSError, TimeoutError) as error:
            user.record("sip2_login", sent_at, time.monotonic() - sent_at, Outcome.ERROR, type(error).__name__)
            await kiosk.close()
            return
        user.record("sip2_login", sent_at, time.monotonic() - sent_at,
                    Outcome.OK if logged_in else Outcome.ERROR, "" if logged_in else "login refused")
        if not logged_in:
            await kiosk.close()
            return
        try:
            while user.running():
                card = stock.next_patron()
                if await exchange("sip2_patron_info", lambda: kiosk.patron_information(card, dt.datetime.now()),
                                  judge_ok=False) is None:
                    break  # the connection is in an unknown state: this kiosk stops, its copies are cleaned up
                await user.think(self.think_seconds)
                for barcode in list(stock.borrowed[card]):
                    await checkin(card, barcode)
                    await user.think(self.think_seconds)
                for _ in range(user.random.randint(1, 3)):
                    barcode = stock.take_from_shelf()
                    if barcode is None or not user.running():
                        break
                    answer = await exchange("sip2_checkout",
                                            lambda: kiosk.checkout(card, barcode, dt.datetime.now()))
                    if answer is not None and answer_ok(answer):
                        stock.lent(card, barcode)
                    elif answer is not None:
                        stock.not_lent(barcode)
                    await user.think(self.think_seconds)
            for card, barcode in stock.still_out():
                await checkin(card, barcode)
        finally:
            await kiosk.close()

