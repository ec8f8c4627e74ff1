"""Building and following the search index and the holdings from PostgreSQL.

Full builds stream every record from one snapshot into the engine in batches; incremental updates
re-read the records and copies that outbox events name. The engine gets JSON documents it decodes
itself (one boundary call per batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import msgspec
import psycopg

from shoka._engine import Catalogue

BATCH_SIZE = 5000

_BIB_DOCUMENT_SELECT = """
    SELECT id, title, title_reading, subtitle, responsibility, authors, publisher, publisher_reading,
           publication_year, edition, series, subjects, notes, isbns, ndc, language, material_type, source,
           aozora_card_url, ndl_digital_url
    FROM bib"""
_BIB_DOCUMENT_KEYS = ("bib_id", "title", "title_reading", "subtitle", "responsibility", "authors", "publisher",
                      "publisher_reading", "publication_year", "edition", "series", "subjects", "notes", "isbns",
                      "ndc", "language", "material_type", "source", "aozora_card_url", "ndl_digital_url")

_ITEM_HOLDING_SELECT = """
    SELECT i.id, i.bib_id, i.barcode, sp.code, coalesce(sl.name_ja, ''), i.call_number, i.material_type,
           i.status, i.loan_policy, l.due_on, transit_to.code, tr.reason = 'hold', pickup.code
    FROM item i
    JOIN service_point sp ON sp.id = i.service_point_id
    LEFT JOIN shelf_location sl ON sl.id = i.shelf_location_id
    LEFT JOIN loan l ON l.item_id = i.id AND l.returned_at IS NULL
    LEFT JOIN transit tr ON tr.item_id = i.id AND tr.received_at IS NULL
    LEFT JOIN service_point transit_to ON transit_to.id = tr.to_service_point_id
    LEFT JOIN hold h ON h.trapped_item_id = i.id AND h.status = 'ready'
    LEFT JOIN service_point pickup ON pickup.id = h.pickup_service_point_id"""

_encoder = msgspec.json.Encoder()


def _bib_documents(rows: Iterable[tuple]) -> bytes:
    return _encoder.encode([dict(zip(_BIB_DOCUMENT_KEYS, row)) for row in rows])


def _circulation_state(due_on, transit_to, transit_for_hold, pickup) -> dict:
    if due_on is not None:
        return {"state": "on_loan", "due_on": due_on.isoformat()}
    if pickup is not None:
        return {"state": "on_hold_shelf", "pickup_branch": pickup}
    if transit_to is not None:
        return {"state": "in_transit", "to_branch": transit_to, "for_hold": bool(transit_for_hold)}
    return {"state": "on_shelf"}


def _item_holdings(rows: Iterable[tuple]) -> bytes:
    return _encoder.encode([{
        "item_id": row[0], "bib_id": row[1], "barcode": row[2], "branch": row[3], "shelf_location": row[4],
        "call_number": row[5], "material_type": row[6], "status": row[7], "loan_policy": row[8],
        "circulation": _circulation_state(*row[9:13]),
    } for row in rows])


def register_branches(connection: psycopg.Connection, catalogue: Catalogue) -> None:
    codes = [row[0] for row in connection.execute("SELECT code FROM service_point ORDER BY sort_order, id")]
    catalogue.register_branches(codes)


def load_holdings(connection: psycopg.Connection, catalogue: Catalogue) -> int:
    """Every copy with its circulation state, from the connection's snapshot."""
    register_branches(connection, catalogue)
    loaded = 0
    with connection.cursor(name="shoka_item_holdings") as cursor:
        cursor.itersize = BATCH_SIZE
        cursor.execute(_ITEM_HOLDING_SELECT + " WHERE i.status <> 'withdrawn'")
        while rows := cursor.fetchmany(BATCH_SIZE):
            loaded += catalogue.upsert_items(_item_holdings(rows))
    return loaded


def build_index(connection: psycopg.Connection, catalogue: Catalogue, outbox_seq: int,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Indexes every record of the connection's snapshot into an empty index and commits at `outbox_seq`.

    Reading the next batch from PostgreSQL overlaps with the engine indexing the previous one (the engine
    releases the GIL), so the build is bound by whichever is slower, not by their sum.
    """
    total = connection.execute("SELECT count(*) FROM bib WHERE NOT is_withdrawn").fetchone()[0]
    indexed = 0
    with connection.cursor(name="shoka_bib_documents") as cursor, ThreadPoolExecutor(max_workers=1) as engine:
        cursor.itersize = BATCH_SIZE
        cursor.execute(_BIB_DOCUMENT_SELECT + " WHERE NOT is_withdrawn ORDER BY id")
        pending = None
        while rows := cursor.fetchmany(BATCH_SIZE):
            documents = _bib_documents(rows)
            if pending is not None:
                indexed += pending.result()
                if progress is not None:
                    progress(indexed, total)
            pending = engine.submit(catalogue.add_new_bibs, documents)
        if pending is not None:
            indexed += pending.result()
            if progress is not None:
                progress(indexed, total)
    catalogue.commit(outbox_seq)
    return indexed


def reindex_bibs(connection: psycopg.Connection, catalogue: Catalogue, bib_ids: list[int]) -> None:
    """Re-reads the named records: present ones are (re)indexed, withdrawn or deleted ones removed."""
    for start in range(0, len(bib_ids), BATCH_SIZE):
        batch = bib_ids[start:start + BATCH_SIZE]
        rows = connection.execute(_BIB_DOCUMENT_SELECT + " WHERE id = ANY(%s) AND NOT is_withdrawn", [batch]).fetchall()
        present = {row[0] for row in rows}
        catalogue.delete_bibs([bib_id for bib_id in batch if bib_id not in present])
        if rows:
            catalogue.upsert_bibs(_bib_documents(rows))


def refresh_items(connection: psycopg.Connection, catalogue: Catalogue, item_ids: list[int]) -> None:
    rows = connection.execute(_ITEM_HOLDING_SELECT + " WHERE i.id = ANY(%s) AND i.status <> 'withdrawn'",
                              [item_ids]).fetchall()
    present = {row[0] for row in rows}
    catalogue.remove_items([item_id for item_id in item_ids if item_id not in present])
    if rows:
        catalogue.upsert_items(_item_holdings(rows))


def bibs_changed_since(connection: psycopg.Connection, outbox_seq: int) -> list[int]:
    """Records changed after `outbox_seq`. Catalogue events are never pruned (shoka.replica.retention), so the
    outbox reaches back to any index's last commit."""
    return [row[0] for row in connection.execute(
        "SELECT DISTINCT entity_id FROM outbox_event WHERE topic = 'bib' AND seq > %s", [outbox_seq])]
