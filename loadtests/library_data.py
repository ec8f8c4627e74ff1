"""What the scenarios take from the library: its size, free copies and patrons for desks and kiosks, record ids,
and the clean-up that returns every copy the run lent.

Each desk and kiosk gets copies and patrons of its own, so no two stations ever reach for the same copy and a
refusal can only come from the library's rules, never from the harness: copies on the shelf at the station's
branch, loanable, books, with nobody waiting for their record and not in transit; adult patrons, active, card
valid for two more months, nothing on loan. A desk at a branch lends that branch's copies, so a return shelves
them again (a copy returned elsewhere would go home in transit and could not be lent again during the run).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from shoka.replica import retention

PATRONS_PER_STATION = 6
# A patron borrows at most three copies a visit and returns them at the next, so a station never has more
# than 3 × its patrons out; a few more stay on the shelf so the next visit always finds some.
COPIES_PER_STATION = 3 * PATRONS_PER_STATION + 6
# A lending desk (the `lending` scenarios) takes nothing back during its step, so it needs a copy for every
# checkout it could make: stock for the fastest any machine could go — LENDING_CEILING_PER_SECOND across the
# machine, at most LENDING_CEILING_PER_DESK for one desk (a round trip under 2 ms) — drawn for each step at the
# largest branch and returned in SQL after it. A patron comes back for more until they hold
# LENDING_ON_LOAN_BEFORE_LEAVING, so never more than 8 (every category lends at least 10).
LENDING_CEILING_PER_SECOND = 2000
LENDING_CEILING_PER_DESK = 500
LENDING_ON_LOAN_BEFORE_LEAVING = 6


@dataclass(frozen=True)
class Station:
    """A counter desk or a kiosk: where it works, whom it serves, what it lends."""

    branch: str
    patrons: tuple[str, ...]
    copies: tuple[str, ...]


def library_size(connection: psycopg.Connection) -> dict:
    row = connection.execute(
        """SELECT (SELECT count(*) FROM bib), (SELECT count(*) FROM item), (SELECT count(*) FROM patron),
                  (SELECT count(*) FROM loan WHERE returned_at IS NULL), (SELECT count(*) FROM loan),
                  (SELECT count(*) FROM hold WHERE closed_at IS NULL),
                  (SELECT count(*) FROM service_point)""").fetchone()
    return dict(zip(("bibs", "items", "patrons", "open_loans", "loans_all_time", "active_holds", "service_points"),
                    row))


def lending_branches(connection: psycopg.Connection) -> list[str]:
    """Branches with a counter (not the bookmobile or partner libraries), the largest collection first."""
    return [row[0] for row in connection.execute(
        """SELECT sp.code FROM service_point sp JOIN item i ON i.service_point_id = sp.id
           WHERE sp.is_active AND sp.kind NOT IN ('bookmobile', 'partner') AND i.status = 'available'
           GROUP BY sp.code HAVING count(*) >= %s ORDER BY count(*) DESC, sp.code""", [COPIES_PER_STATION * 4])]


def free_copies(connection: psycopg.Connection, copies_wanted: dict[str, int]) -> dict[str, list[str]]:
    """Per branch, up to the number wanted of free copies shelved there, in random order."""
    rows = connection.execute(
        """SELECT code, barcode FROM (
               SELECT sp.code, i.barcode, row_number() OVER (PARTITION BY sp.code ORDER BY random()) AS n
               FROM item i JOIN service_point sp ON sp.id = i.service_point_id
               WHERE sp.code = ANY(%s) AND i.status = 'available' AND i.loan_policy = 'normal'
                 AND i.material_type IN ('book', 'children_book')
                 AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.closed_at IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
           ) chosen WHERE n <= (%s::jsonb ->> code)::int""",
        [list(copies_wanted), Jsonb(copies_wanted)]).fetchall()
    found: dict[str, list[str]] = {branch: [] for branch in copies_wanted}
    for branch, barcode in rows:
        found[branch].append(barcode)
    return found


def free_patrons(connection: psycopg.Connection, count: int) -> list[str]:
    return [row[0] for row in connection.execute(
        """SELECT p.card FROM patron p WHERE p.status = 'active' AND p.category = 'adult'
           AND p.expires_on > current_date + 60
           AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
           ORDER BY random() LIMIT %s""", [count])]


def allocate(branches: list[str], copies: dict[str, list[str]], patrons: list[str],
             copies_each: int = COPIES_PER_STATION, patrons_each: int = PATRONS_PER_STATION) -> list[Station]:
    """One station per entry of `branches` (a branch may have several), each with its own patrons and copies
    taken in turn from the branch's pool; raises ValueError naming what ran short."""
    copy_pools = {branch: list(found) for branch, found in copies.items()}
    patron_pool = list(patrons)
    stations = []
    for branch in branches:
        pool = copy_pools.get(branch, [])
        if len(pool) < copies_each:
            raise ValueError(f"branch {branch}: {len(pool)} free copies left, a station needs {copies_each}")
        if len(patron_pool) < patrons_each:
            raise ValueError(f"{len(patron_pool)} free patrons left, a station needs {patrons_each}")
        stations.append(Station(branch, tuple(patron_pool[:patrons_each]), tuple(pool[:copies_each])))
        del pool[:copies_each]
        del patron_pool[:patrons_each]
    return stations


def stations_for(connection: psycopg.Connection, branches: list[str]) -> list[Station]:
    """Stations at the given branches (repeat a branch for several), with free copies and patrons."""
    wanted: dict[str, int] = {}
    for branch in branches:
        wanted[branch] = wanted.get(branch, 0) + COPIES_PER_STATION
    copies = free_copies(connection, wanted)
    patrons = free_patrons(connection, PATRONS_PER_STATION * len(branches))
    return allocate(branches, copies, patrons)


def lending_copies(desks: int, seconds: float) -> int:
    """Copies for each of `desks` lending desks running `seconds` (warm-up included)."""
    return math.ceil(min(LENDING_CEILING_PER_SECOND / desks, LENDING_CEILING_PER_DESK) * seconds)


def lending_patrons(copies: int) -> int:
    """Patrons enough to borrow `copies` at a lending desk, each leaving with LENDING_ON_LOAN_BEFORE_LEAVING."""
    return copies // LENDING_ON_LOAN_BEFORE_LEAVING + 1


def lending_stations(connection: psycopg.Connection, branch: str, desks: int, seconds: float) -> list[Station]:
    """Lending desks at `branch` with stock for `seconds` of lending (see lending_copies), or as much as a small
    library's branch has, shared evenly (its desks may then run out before the step ends)."""
    wanted = lending_copies(desks, seconds)
    found = free_copies(connection, {branch: wanted * desks})
    copies_each = min(wanted, len(found[branch]) // desks)
    patrons_each = lending_patrons(copies_each)
    patrons = free_patrons(connection, patrons_each * desks)
    return allocate([branch] * desks, found, patrons, copies_each, patrons_each)


def spread(branches: list[str], count: int) -> list[str]:
    """`count` desks over the branches in turn: desk 1 at the largest, desk 2 at the next, …"""
    if not branches:
        raise ValueError("no branch has enough free copies for a desk")
    return [branches[index % len(branches)] for index in range(count)]


def record_ids(connection: psycopg.Connection, count: int) -> list[int]:
    return [row[0] for row in connection.execute(
        "SELECT id FROM bib WHERE id %% 89 = 0 AND NOT is_withdrawn LIMIT %s", [count])]


EVERYTHING_DUE = 10**12  # tidy_up's retention round: no limit
# The tables every circulation step writes to; see tidy_up.
CIRCULATION_TABLES = ("loan", "operation_log", "outbox_event", "idempotent_request", "hold", "item", "patron")


def tidy_up(connection: psycopg.Connection) -> float:
    """Prune what retention allows and VACUUM (ANALYZE) the circulation tables before the run (connection in
    autocommit), as a library's nightly maintenance leaves them and as pgbench does before it measures: otherwise
    the rows earlier runs added set off autovacuum or autoanalyze in the middle of a step (all 8 desks stalled
    for 0.3-1.4 s during an autoanalyze of the operation log on this machine's disk), and the events of earlier
    runs would be pruned by the service's rounds during the steps. Returns the seconds it took."""
    started = time.monotonic()
    retention.prune(connection, events_per_round=EVERYTHING_DUE)
    connection.execute(f"VACUUM (ANALYZE) {', '.join(CIRCULATION_TABLES)}")
    return time.monotonic() - started


def return_everything(connection: psycopg.Connection, barcodes: list[str]) -> int:
    """Close every loan still open on these copies, as a checkin at the lending branch would (the patron link
    cut unless they keep a reading record, an outbox event so every engine replica follows); the number closed."""
    closed = connection.execute(
        """WITH closed AS (
               UPDATE loan l SET returned_at = now(), return_service_point_id = l.service_point_id,
                      patron_id = CASE WHEN p.keeps_reading_record THEN l.patron_id END
               FROM item i, patron p
               WHERE i.id = l.item_id AND p.id = l.patron_id AND i.barcode = ANY(%s) AND l.returned_at IS NULL
               RETURNING l.id)
           INSERT INTO outbox_event (topic, entity_id) SELECT 'loan', id FROM closed RETURNING entity_id""",
        [barcodes]).fetchall()
    connection.commit()
    return len(closed)
