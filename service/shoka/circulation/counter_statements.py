"""The counter's statements (checkout, checkin, renewal), prepared once per connection and sent in batches
(shoka.db.batches): the locks and reads in one message after BEGIN, the writes in one message before COMMIT."""

from __future__ import annotations

import re

from shoka.audit import OPERATION_LOG_INSERT
from shoka.db.batches import PreparedStatements
from shoka.replica.engine_replica import POSITION_SQL


def numbered(sql: str) -> str:
    """psycopg's %s placeholders as PREPARE's $1, $2 …"""
    counter = iter(range(1, 100))
    return re.sub(r"%s", lambda _: f"${next(counter)}", sql)


# The events come as one JSON array: one value to quote and parse, where three arrays (of topics, ids and jsonb
# payloads) cost the client an array dumper each. Identities follow the array's order.
OUTBOX_INSERT = ("INSERT INTO outbox_event (topic, entity_id, payload) "
                 "SELECT e->>'topic', (e->>'entity_id')::bigint, e->'payload' "
                 "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS appended(e, position) ORDER BY position "
                 "RETURNING seq")

COUNTER_STATEMENTS = PreparedStatements({
    # Locks, always in this order: record, copy, patron.
    "counter_lock_copy": """SELECT i.id, b.id, b.title, b.ndc FROM bib b JOIN item i ON i.bib_id = b.id
                            WHERE i.barcode = $1 FOR NO KEY UPDATE OF b FOR UPDATE OF i""",
    "counter_lock_patron": "SELECT id, category, age_band, keeps_reading_record FROM patron WHERE card = $1 FOR UPDATE",
    "counter_earlier_answer": "SELECT operation, response FROM idempotent_request WHERE request_id = $1",
    "counter_position": numbered(POSITION_SQL),
    # A checkout also takes its loan id now, so that its writes need no answer before COMMIT.
    "counter_checkout_ids": """SELECT (SELECT id FROM service_point WHERE code = $1),
                                      nextval(pg_get_serial_sequence('loan', 'id'))""",
    "counter_open_loan": """INSERT INTO loan (id, item_id, patron_id, service_point_id, checked_out_at, due_on,
                                              patron_category, patron_age_band, material_type, ndc_class)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
    # The link to the borrower is cut on return unless they keep a reading record (読書記録). The borrower's row
    # is share-locked so that the choice is read as it stands at COMMIT: a patron turning the record off at
    # that moment (which cuts past loans in the same transaction) either waits for this return and then cuts
    # it too, or commits first and this return reads the new choice.
    "counter_close_loan": """WITH borrower AS (SELECT p.id, p.keeps_reading_record FROM patron p
                                                WHERE p.id = (SELECT patron_id FROM loan WHERE id = $3) FOR SHARE)
                             UPDATE loan l SET returned_at = $1, return_service_point_id = $2,
                                    patron_id = CASE WHEN b.keeps_reading_record THEN l.patron_id END
                             FROM borrower b WHERE l.id = $3 AND b.id = l.patron_id AND l.returned_at IS NULL""",
    "counter_renew_loan": """UPDATE loan l SET due_on = $1, renewals = $2 FROM service_point sp
                             WHERE l.id = $3 AND l.returned_at IS NULL AND sp.id = l.service_point_id
                             RETURNING sp.code""",
    "counter_fulfil_hold": "UPDATE hold SET status = 'fulfilled', closed_at = $1 WHERE id = $2",
    "counter_remember_answer": "INSERT INTO idempotent_request (request_id, operation, response) VALUES ($1, $2, $3)",
    # The two appends every desk waits for (their locks are held until COMMIT) come last.
    "counter_log": numbered(OPERATION_LOG_INSERT),
    "counter_outbox": numbered(OUTBOX_INSERT),
})
