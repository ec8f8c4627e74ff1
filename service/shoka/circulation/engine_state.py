"""Reading circulation state from PostgreSQL in the shapes the engine takes (see engine/src/circulation).

The same row readers serve the start-up snapshot, the outbox follower (which re-reads the rows an event
names) and `shoka check` (which compares the engine with the database).
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

PATRON_SELECT = """
    SELECT p.id, p.card, p.category, sp.code, p.expires_on, p.status
    FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id"""
LOAN_SELECT = """
    SELECT l.id, l.item_id, l.patron_id, sp.code, l.due_on, l.renewals, l.returned_at IS NOT NULL
    FROM loan l JOIN service_point sp ON sp.id = l.service_point_id"""
HOLD_SELECT = """
    SELECT h.id, h.patron_id, h.bib_id, h.item_id, sp.code, h.placed_at, h.status, h.trapped_item_id,
           h.pickup_by, h.not_before
    FROM hold h JOIN service_point sp ON sp.id = h.pickup_service_point_id"""
TRANSIT_SELECT = """
    SELECT t.id, t.item_id, sp.code, t.hold_id, t.received_at IS NOT NULL
    FROM transit t JOIN service_point sp ON sp.id = t.to_service_point_id"""
OPEN_HOLD_STATUSES = ("waiting", "in_transit", "ready")


def placed_at_key(placed_at) -> str:
    """A sortable text for the FIFO queue: UTC, microseconds, fixed width."""
    return placed_at.astimezone(__import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def patron_state(row: tuple) -> dict:
    patron_id, card, category, home_branch, expires_on, status = row
    return {"patron_id": patron_id, "card": card, "category": category, "home_branch": home_branch,
            "expires_on": expires_on.isoformat(), "status": status}


def loan_state(row: tuple) -> dict:
    loan_id, item_id, patron_id, branch, due_on, renewals, _returned = row
    return {"loan_id": loan_id, "item_id": item_id, "patron_id": patron_id, "branch": branch,
            "due_on": due_on.isoformat(), "renewals": renewals}


def hold_state(row: tuple) -> dict:
    hold_id, patron_id, bib_id, item_id, pickup, placed_at, status, trapped, pickup_by, not_before = row
    return {"hold_id": hold_id, "patron_id": patron_id, "bib_id": bib_id, "item_id": item_id,
            "pickup_branch": pickup, "placed_at": placed_at_key(placed_at), "status": status,
            "trapped_item_id": trapped, "pickup_by": pickup_by.isoformat() if pickup_by else None,
            "not_before": not_before.isoformat() if not_before else None}


def transit_state(row: tuple) -> dict:
    _transit_id, item_id, to_branch, hold_id, _received = row
    return {"item_id": item_id, "to_branch": to_branch, "for_hold": hold_id}


def read_rules(connection: psycopg.Connection) -> list[dict]:
    rows = connection.execute(
        """SELECT sp.code, r.patron_category, r.material_type, r.loan_days, r.max_items_of_type, r.max_items_total,
                  r.max_renewals, r.holds_allowed, r.max_holds, r.hold_pickup_days
           FROM circulation_rule r LEFT JOIN service_point sp ON sp.id = r.service_point_id""").fetchall()
    keys = ("branch", "patron_category", "material_type", "loan_days", "max_items_of_type", "max_items_total",
            "max_renewals", "holds_allowed", "max_holds", "hold_pickup_days")
    return [dict(zip(keys, row)) for row in rows]


def read_calendar(connection: psycopg.Connection) -> dict:
    branches = {}
    for code, is_pickup_point, point_id in connection.execute(
            "SELECT code, is_pickup_point, id FROM service_point ORDER BY sort_order, id"):
        branches[point_id] = {"code": code, "is_pickup_point": is_pickup_point, "weekly_closures": [],
                              "annual_closures": [], "closed_days": [], "open_days": []}
    for point_id, weekday in connection.execute("SELECT service_point_id, iso_weekday FROM calendar_weekly_closure"):
        branches[point_id]["weekly_closures"].append(weekday)
    for point_id, from_month, from_day, to_month, to_day, reason in connection.execute(
            "SELECT service_point_id, from_month, from_day, to_month, to_day, reason FROM calendar_annual_closure"):
        branches[point_id]["annual_closures"].append({"from_month": from_month, "from_day": from_day,
                                                      "to_month": to_month, "to_day": to_day, "reason": reason})
    for point_id, day in connection.execute("SELECT service_point_id, closed_on FROM calendar_closed_day"):
        branches[point_id]["closed_days"].append(day.isoformat())
    for point_id, day in connection.execute("SELECT service_point_id, opened_on FROM calendar_open_day"):
        branches[point_id]["open_days"].append(day.isoformat())
    return {"branches": list(branches.values())}


def read_open_state(connection: psycopg.Connection, *, with_patrons: bool = True) -> dict:
    """Every patron, open loan, open hold and open transit (the engine's snapshot, or `shoka check`'s)."""
    state = {
        "loans": [loan_state(row) for row in connection.execute(LOAN_SELECT + " WHERE l.returned_at IS NULL")],
        "holds": [hold_state(row) for row in connection.execute(
            HOLD_SELECT + " WHERE h.status IN ('waiting', 'in_transit', 'ready')")],
        "transits": [transit_state(row) for row in connection.execute(TRANSIT_SELECT + " WHERE t.received_at IS NULL")],
    }
    if with_patrons:
        state["patrons"] = [patron_state(row) for row in connection.execute(PATRON_SELECT)]
    return state


def events_for(connection: psycopg.Connection, topic_ids: dict[str, list[int]], seq_of: dict[tuple[str, int], int]
               ) -> list[dict]:
    """Engine events for the rows outbox events named, read as they are now, each with its event's seq."""
    events: list[dict] = []

    def ids(topic: str) -> list[int]:
        return sorted(set(topic_ids.get(topic, [])))

    if patron_ids := ids("patron"):
        for row in connection.execute(PATRON_SELECT + " WHERE p.id = ANY(%s)", [patron_ids]):
            events.append({"kind": "patron_upserted", "seq": seq_of[("patron", row[0])], **patron_state(row)})
    if loan_ids := ids("loan"):
        for row in connection.execute(LOAN_SELECT + " WHERE l.id = ANY(%s)", [loan_ids]):
            seq = seq_of[("loan", row[0])]
            if row[6]:
                events.append({"kind": "loan_closed", "seq": seq, "loan_id": row[0], "item_id": row[1]})
            else:
                events.append({"kind": "loan_opened", "seq": seq, **loan_state(row)})
    if hold_ids := ids("hold"):
        for row in connection.execute(HOLD_SELECT + " WHERE h.id = ANY(%s)", [hold_ids]):
            seq = seq_of[("hold", row[0])]
            if row[6] in OPEN_HOLD_STATUSES:
                events.append({"kind": "hold_upserted", "seq": seq, **hold_state(row)})
            else:
                events.append({"kind": "hold_closed", "seq": seq, "hold_id": row[0]})
    if transit_ids := ids("transit"):
        for row in connection.execute(TRANSIT_SELECT + " WHERE t.id = ANY(%s)", [transit_ids]):
            seq = seq_of[("transit", row[0])]
            if row[4]:
                events.append({"kind": "transit_closed", "seq": seq, "item_id": row[1]})
            else:
                events.append({"kind": "transit_opened", "seq": seq, **transit_state(row)})
    events.sort(key=lambda event: event["seq"])
    return events


def chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
