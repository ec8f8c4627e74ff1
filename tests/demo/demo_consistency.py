"""Checks that a loaded demo library is internally consistent, each as SQL that counts the rows breaking it.

Written against the tables only (not the generator), so that they judge what the service will read.
"""

from __future__ import annotations

import datetime

import psycopg

# Whether service point `sp` is closed on day `d` by the calendar tables (a fact for the day wins over the rules).
CLOSED_FUNCTION = """
CREATE FUNCTION pg_temp.closed_at(sp smallint, d date) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM calendar_open_day o WHERE o.service_point_id = sp AND o.opened_on = d) THEN false
        WHEN EXISTS (SELECT 1 FROM calendar_closed_day c WHERE c.service_point_id = sp AND c.closed_on = d) THEN true
        WHEN EXISTS (SELECT 1 FROM calendar_weekly_closure w
                     WHERE w.service_point_id = sp AND w.iso_weekday = extract(isodow FROM d)) THEN true
        ELSE EXISTS (SELECT 1 FROM calendar_annual_closure a WHERE a.service_point_id = sp AND CASE
                 WHEN (a.from_month, a.from_day) <= (a.to_month, a.to_day)
                 THEN (extract(month FROM d), extract(day FROM d)) BETWEEN (a.from_month, a.from_day)
                                                                        AND (a.to_month, a.to_day)
                 ELSE (extract(month FROM d), extract(day FROM d)) >= (a.from_month, a.from_day)
                      OR (extract(month FROM d), extract(day FROM d)) <= (a.to_month, a.to_day) END)
    END
$$"""

# The most specific circulation rule for (service point, category, material type), as the matrix defines it.
RULE_FUNCTION = """
CREATE FUNCTION pg_temp.rule_for(sp smallint, category text, material text) RETURNS circulation_rule
LANGUAGE sql STABLE AS $$
    SELECT r FROM circulation_rule r
    WHERE (r.service_point_id IS NULL OR r.service_point_id = sp)
      AND (r.patron_category IS NULL OR r.patron_category = category)
      AND (r.material_type IS NULL OR r.material_type = material)
    ORDER BY r.service_point_id IS NOT NULL DESC, r.patron_category IS NOT NULL DESC, r.material_type IS NOT NULL DESC
    LIMIT 1
$$"""

OPEN = "l.returned_at IS NULL"
ACTIVE_HOLD = "h.status IN ('waiting', 'in_transit', 'ready')"
LOCAL_DATE = "(({0}) AT TIME ZONE 'Asia/Tokyo')::date"

CHECKS = {
    "open loan of an item that is not available for loan": f"""
        SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id
        WHERE {OPEN} AND (i.status <> 'available' OR i.loan_policy <> 'normal')""",
    "item both on loan and trapped for a hold": f"""
        SELECT count(*) FROM loan l JOIN hold h ON h.trapped_item_id = l.item_id
        WHERE {OPEN} AND h.status IN ('ready', 'in_transit')""",
    "ready hold whose copy is not on the pickup branch's shelf": """
        SELECT count(*) FROM hold h JOIN item i ON i.id = h.trapped_item_id
        WHERE h.status = 'ready' AND (i.bib_id <> h.bib_id OR i.service_point_id <> h.pickup_service_point_id
                                      OR i.status <> 'available' OR i.loan_policy <> 'normal')""",
    "ready hold placed after a waiting hold on the same record": """
        SELECT count(*) FROM hold r JOIN hold w ON w.bib_id = r.bib_id AND w.status = 'waiting'
        WHERE r.status = 'ready' AND w.placed_at < r.placed_at""",
    "waiting hold although a copy is on the shelf": f"""
        SELECT count(*) FROM hold h WHERE h.status = 'waiting' AND EXISTS (
            SELECT 1 FROM item i WHERE i.bib_id = h.bib_id AND i.status = 'available' AND i.loan_policy = 'normal'
              AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND {OPEN})
              AND NOT EXISTS (SELECT 1 FROM hold t
                              WHERE t.trapped_item_id = i.id AND t.status IN ('ready', 'in_transit')))""",
    "hold on a record without a loanable copy": f"""
        SELECT count(*) FROM hold h WHERE {ACTIVE_HOLD} AND NOT EXISTS (
            SELECT 1 FROM item i WHERE i.bib_id = h.bib_id AND i.loan_policy = 'normal')""",
    "hold picked up where holds cannot be picked up": f"""
        SELECT count(*) FROM hold h JOIN service_point s ON s.id = h.pickup_service_point_id
        WHERE {ACTIVE_HOLD} AND NOT s.is_pickup_point""",
    "patron holding a record of which they have a copy on loan": f"""
        SELECT count(*) FROM hold h JOIN item i ON i.bib_id = h.bib_id
        JOIN loan l ON l.item_id = i.id AND l.patron_id = h.patron_id AND {OPEN} WHERE {ACTIVE_HOLD}""",
    "open loan due on a closed day": f"""
        SELECT count(*) FROM loan l WHERE {OPEN} AND pg_temp.closed_at(l.service_point_id, l.due_on)""",
    "checkout on a closed day": f"""
        SELECT count(*) FROM loan l
        WHERE pg_temp.closed_at(l.service_point_id, {LOCAL_DATE.format('l.checked_out_at')})""",
    "ready hold to be picked up by a closed day or a past day": """
        SELECT count(*) FROM hold h WHERE h.status = 'ready'
          AND (pg_temp.closed_at(h.pickup_service_point_id, h.pickup_by) OR h.pickup_by < %(today)s)""",
    "patron with more open loans than the rules allow": f"""
        SELECT count(*) FROM (
            SELECT l.patron_id, count(*) AS loans, min((pg_temp.rule_for(l.service_point_id, p.category,
                                                                         l.material_type)).max_items_total) AS most
            FROM loan l JOIN patron p ON p.id = l.patron_id WHERE {OPEN} GROUP BY l.patron_id) counted
        WHERE loans > most""",
    "patron with more open loans of a material type than the rules allow": f"""
        SELECT count(*) FROM (
            SELECT l.patron_id, l.material_type, count(*) AS loans,
                   min((pg_temp.rule_for(l.service_point_id, p.category, l.material_type)).max_items_of_type) AS most
            FROM loan l JOIN patron p ON p.id = l.patron_id WHERE {OPEN} GROUP BY l.patron_id, l.material_type) counted
        WHERE loans > most""",
    "patron with more holds than the rules allow": f"""
        SELECT count(*) FROM (
            SELECT h.patron_id, count(*) AS holds, min((pg_temp.rule_for(h.pickup_service_point_id, p.category,
                                                                         b.material_type)).max_holds) AS most
            FROM hold h JOIN patron p ON p.id = h.patron_id JOIN bib b ON b.id = h.bib_id
            WHERE {ACTIVE_HOLD} GROUP BY h.patron_id) counted
        WHERE holds > most""",
    "open loan or hold by a patron without a valid card": f"""
        SELECT (SELECT count(*) FROM loan l JOIN patron p ON p.id = l.patron_id
                WHERE {OPEN} AND (p.status <> 'active' OR p.expires_on < %(today)s))
             + (SELECT count(*) FROM hold h JOIN patron p ON p.id = h.patron_id
                WHERE {ACTIVE_HOLD} AND (p.status <> 'active' OR p.expires_on < %(today)s))""",
    "two loans of one copy at the same time": """
        SELECT count(*) FROM (
            SELECT checked_out_at, lag(returned_at) OVER (PARTITION BY item_id ORDER BY checked_out_at) AS before,
                   lag(id) OVER (PARTITION BY item_id ORDER BY checked_out_at) AS previous_id
            FROM loan) ordered
        WHERE previous_id IS NOT NULL AND (before IS NULL OR before > checked_out_at)""",
    "copy returned from a loan after it was trapped for a hold": """
        SELECT count(*) FROM loan l JOIN hold h ON h.trapped_item_id = l.item_id AND h.status = 'ready'
        WHERE l.returned_at > h.ready_at""",
    "loan history that keeps a patron who keeps no reading record": """
        SELECT count(*) FROM loan l JOIN patron p ON p.id = l.patron_id
        WHERE l.returned_at IS NOT NULL AND NOT p.keeps_reading_record""",
    "loan before the copy was acquired or the patron registered": """
        SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id LEFT JOIN patron p ON p.id = l.patron_id
        WHERE (l.checked_out_at AT TIME ZONE 'Asia/Tokyo')::date < i.acquired_on
           OR l.checked_out_at < p.registered_at""",
    "loan statistics that do not match the copy": """
        SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id JOIN bib b ON b.id = i.bib_id
        WHERE l.material_type <> i.material_type OR l.ndc_class IS DISTINCT FROM split_part(b.ndc, '.', 1)""",
    "age band that does not match the birth date": """
        SELECT count(*) FROM patron p JOIN patron_personal pp ON pp.patron_id = p.id,
             LATERAL (SELECT extract(year FROM age(%(today)s, pp.birth_date))::int AS years) a
        WHERE p.age_band <> CASE WHEN pp.birth_date IS NULL THEN 'unknown' WHEN years <= 6 THEN '0-6'
            WHEN years <= 12 THEN '7-12' WHEN years <= 15 THEN '13-15' WHEN years <= 18 THEN '16-18'
            WHEN years <= 29 THEN '19-29' WHEN years >= 70 THEN '70+'
            ELSE (years / 10 * 10)::text || '-' || (years / 10 * 10 + 9)::text END""",
    "patron category that does not fit the age": """
        SELECT count(*) FROM patron p JOIN patron_personal pp ON pp.patron_id = p.id,
             LATERAL (SELECT extract(year FROM age(%(today)s, pp.birth_date))::int AS years) a
        WHERE (p.category = 'child' AND years > 12) OR (p.category = 'student' AND years NOT BETWEEN 13 AND 18)
           OR (p.category = 'adult' AND years < 19) OR (p.category = 'group' AND pp.birth_date IS NOT NULL)""",
    "event after the start of the reference day": """
        SELECT (SELECT count(*) FROM loan WHERE checked_out_at >= %(start)s OR returned_at >= %(start)s)
             + (SELECT count(*) FROM hold WHERE placed_at >= %(start)s OR ready_at >= %(start)s)
             + (SELECT count(*) FROM item WHERE acquired_on >= %(today)s OR created_at >= %(start)s)
             + (SELECT count(*) FROM patron WHERE registered_at >= %(start)s)""",
}


def consistency_violations(connection: psycopg.Connection, reference_date: datetime.date) -> dict[str, int]:
    """Every check with the number of rows that break it (all zero for a consistent library)."""
    start = datetime.datetime.combine(reference_date, datetime.time(0, 0),
                                      tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    parameters = {"today": reference_date, "start": start}
    with connection.transaction():
        connection.execute(CLOSED_FUNCTION)
        connection.execute(RULE_FUNCTION)
        results = {name: connection.execute(query, parameters).fetchone()[0] for name, query in CHECKS.items()}
        connection.execute("DROP FUNCTION pg_temp.closed_at(smallint, date)")
        connection.execute("DROP FUNCTION pg_temp.rule_for(smallint, text, text)")
    return results
