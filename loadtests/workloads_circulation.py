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

from loadtests.library_data import Station
from loadtests.sip2_client import Kiosk, Sip2Failure, answer_ok, screen_message
from loadtests.stats import Outcome
from loadtests.virtual_user import REFUSAL_STATUSES, VirtualUser


class StationStock:
    """Which of a station's copies are on its shelf and which patron has which."""

    def __init__(self, station: Station) -> None:
        self._patrons = deque(station.patrons)
        self._shelf = deque(station.copies)
        self.borrowed: dict[str, list[str]] = {card: [] for card in station.patrons}

    def next_patron(self) -> str:
        card = self._patrons[0]
        self._patrons.rotate(-1)
        return card

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
        return [(card, barcode) for card, barcodes in self.borrowed.items() for barcode in barcodes]


@dataclass(frozen=True)
class CounterDesks:
    """Desks through POST /api/v1/circulation/checkout and /checkin, one per virtual user, at its branch."""

    stations: tuple[Station, ...]
    token: str
    think_seconds: tuple[float, float] = (0.0, 0.0)  # between two scans

    async def run_user(self, user: VirtualUser) -> None:
        station = self.stations[user.index]
        stock = StationStock(station)
        headers = {"Authorization": f"Bearer {self.token}"}
        connection = user.http()

        async def checkin(card: str, barcode: str) -> None:
            answer = await user.timed_http(connection, "checkin", "POST", "/api/v1/circulation/checkin",
                                           headers=headers, document={"item": barcode, "branch": station.branch},
                                           refusals=REFUSAL_STATUSES)
            if answer is not None and answer.status == 200:
                stock.returned(card, barcode)
            else:
                stock.written_off(card, barcode)

        try:
            while user.running():
                card = stock.next_patron()
                for barcode in list(stock.borrowed[card]):
                    await checkin(card, barcode)
                    await user.think(self.think_seconds)
                for _ in range(user.random.randint(1, 3)):
                    barcode = stock.take_from_shelf()
                    if barcode is None or not user.running():
                        break
                    answer = await user.timed_http(
                        connection, "checkout", "POST", "/api/v1/circulation/checkout", headers=headers,
                        document={"patron": card, "item": barcode, "branch": station.branch},
                        refusals=REFUSAL_STATUSES)
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
    statements and lock order, pipelined as the service pipelines its checkout — everything but HTTP, the
    engine's decision and Python around it. One connection per desk."""

    stations: tuple[Station, ...]

    async def run_user(self, user: VirtualUser) -> None:
        import psycopg
        from psycopg.types.json import Jsonb

        station = self.stations[user.index]
        stock = StationStock(station)
        async with await psycopg.AsyncConnection.connect(user.endpoint.database_url) as connection:
            branch_id = (await (await connection.execute(
                "SELECT id FROM service_point WHERE code = %s", [station.branch])).fetchone())[0]
            await connection.commit()

            async def timed(kind: str, work) -> bool:
                sent_at = time.monotonic()
                try:
                    await work()
                except psycopg.Error as error:
                    await connection.rollback()
                    user.record(kind, sent_at, time.monotonic() - sent_at, Outcome.ERROR, type(error).__name__)
                    return False
                user.record(kind, sent_at, time.monotonic() - sent_at, Outcome.OK)
                return True

            async def checkout(card: str, barcode: str) -> None:
                due_on = dt.date.today() + dt.timedelta(days=14)
                async with connection.pipeline(), connection.transaction():
                    item_cursor, patron_cursor, position_cursor = (connection.cursor() for _ in range(3))
                    await item_cursor.execute(
                        "SELECT i.id, b.id, i.material_type, b.ndc FROM bib b JOIN item i ON i.bib_id = b.id "
                        "WHERE i.barcode = %s FOR NO KEY UPDATE OF b FOR UPDATE OF i", [barcode])
                    await patron_cursor.execute(
                        "SELECT id, category, age_band FROM patron WHERE card = %s FOR UPDATE", [card])
                    await position_cursor.execute("SELECT (SELECT coalesce(max(seq), 0) FROM outbox_event), "
                                                  "nextval(pg_get_serial_sequence('loan', 'id'))")
                    item_id, _bib_id, material_type, ndc = await item_cursor.fetchone()
                    patron_id, category, age_band = await patron_cursor.fetchone()
                    _seq, loan_id = await position_cursor.fetchone()
                    await connection.execute(
                        """INSERT INTO loan (id, item_id, patron_id, service_point_id, checked_out_at, due_on,
                               patron_category, patron_age_band, material_type, ndc_class)
                           VALUES (%s, %s, %s, %s, now(), %s, %s, %s, %s, %s)""",
                        [loan_id, item_id, patron_id, branch_id, due_on, category, age_band, material_type,
                         ndc[:3] if ndc else None])
                    await connection.execute(
                        "INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, source_address, "
                        "detail) VALUES ('system', 'loadtest-floor', 'circulation.checkout', 'loan', %s, '', %s)",
                        [str(loan_id), Jsonb({"item": barcode, "patron_id": patron_id, "branch": station.branch})])
                    await (await connection.execute(
                        "INSERT INTO outbox_event (topic, entity_id, payload) VALUES ('loan', %s, %s) RETURNING seq",
                        [loan_id, Jsonb({"item_id": item_id, "engine": {
                            "kind": "loan_opened", "loan_id": loan_id, "item_id": item_id, "patron_id": patron_id,
                            "branch": station.branch, "due_on": due_on.isoformat(), "renewals": 0}})])).fetchone()

            async def checkin(barcode: str) -> None:
                async with connection.pipeline(), connection.transaction():
                    item_cursor, loan_cursor = connection.cursor(), connection.cursor()
                    await item_cursor.execute(
                        "SELECT i.id FROM bib b JOIN item i ON i.bib_id = b.id WHERE i.barcode = %s "
                        "FOR NO KEY UPDATE OF b FOR UPDATE OF i", [barcode])
                    await loan_cursor.execute(
                        "SELECT l.id FROM loan l JOIN item i ON i.id = l.item_id "
                        "WHERE i.barcode = %s AND l.returned_at IS NULL", [barcode])
                    item_id = (await item_cursor.fetchone())[0]
                    loan_id = (await loan_cursor.fetchone())[0]
                    await connection.execute(
                        """UPDATE loan l SET returned_at = now(), return_service_point_id = %s,
                                  patron_id = CASE WHEN p.keeps_reading_record THEN l.patron_id END
                           FROM patron p WHERE l.id = %s AND p.id = l.patron_id AND l.returned_at IS NULL""",
                        [branch_id, loan_id])
                    await connection.execute(
                        "INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id, source_address, "
                        "detail) VALUES ('system', 'loadtest-floor', 'circulation.checkin', 'item', %s, '', %s)",
                        [str(item_id), Jsonb({"item": barcode, "loan_id": loan_id, "outcome": "shelve"})])
                    await (await connection.execute(
                        "INSERT INTO outbox_event (topic, entity_id, payload) VALUES ('loan', %s, %s) RETURNING seq",
                        [loan_id, Jsonb({"item_id": item_id, "engine": {
                            "kind": "loan_closed", "loan_id": loan_id, "item_id": item_id}})])).fetchone()

            async def return_copy(card: str, barcode: str) -> None:
                if await timed("floor_checkin", lambda: checkin(barcode)):
                    stock.returned(card, barcode)
                else:
                    stock.written_off(card, barcode)

            while user.running():
                card = stock.next_patron()
                for barcode in list(stock.borrowed[card]):
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

