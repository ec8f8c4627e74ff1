"""Counter checkout benchmark: N desks checking out through the real API, against the floor of a bare
PostgreSQL transaction doing the same writes, in the same run.

    python -m loadtests.checkout_benchmark --base-url http://127.0.0.1:8000 --database-url URL \
        --credentials $SHOKA_HOME/demo-credentials.json [--desks 8] [--seconds 30] [--output FILE]

Each desk lends distinct copies (on the shelf, loanable, nobody waiting) to patrons with room under their
limits, as fast as the answers come. The floor runs the same writes directly in PostgreSQL with the same
number of connections: lock the copy and the patron, insert the loan, an operation-log entry and an outbox
event, commit — everything the service does except the engine's decision and HTTP. Afterwards every loan
made is returned in bulk SQL so the run leaves the library as it found it (statistics rows aside).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import threading
import time
from pathlib import Path

import httpx
import psycopg


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float("nan")


def summary(latencies: list[float], seconds: float, errors: int) -> dict:
    return {"requests": len(latencies), "errors": errors, "throughput_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2), "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "mean_ms": round(statistics.mean(latencies) * 1000, 2) if latencies else None}


def candidates(database_url: str, count: int) -> tuple[list[str], list[str]]:
    with psycopg.connect(database_url) as connection:
        items = [row[0] for row in connection.execute(
            """SELECT i.barcode FROM item i WHERE i.status = 'available' AND i.loan_policy = 'normal'
               AND i.material_type IN ('book', 'children_book')
               AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.closed_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
               ORDER BY random() LIMIT %s""", [count])]
        patrons = [row[0] for row in connection.execute(
            """SELECT p.card FROM patron p WHERE p.status = 'active' AND p.category = 'adult'
               AND p.expires_on > current_date + 60
               AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
               ORDER BY random() LIMIT %s""", [count // 4 + 1])]
    return items, patrons


async def api_run(base_url: str, token: str, work: list[tuple[str, str]], desks: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = iter(work)
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def desk() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                try:
                    card, barcode = next(queue)
                except StopIteration:
                    return
                started = time.perf_counter()
                response = await client.post("/api/v1/circulation/checkout", json={"patron": card, "item": barcode})
                elapsed = time.perf_counter() - started
                if response.status_code == 201:
                    latencies.append(elapsed)
                else:
                    errors += 1

    started = time.monotonic()
    await asyncio.gather(*(desk() for _ in range(desks)))
    return summary(latencies, time.monotonic() - started, errors)


def bare_run(database_url: str, work: list[tuple[str, str]], desks: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(work)
    deadline = time.monotonic() + seconds

    def desk() -> None:
        nonlocal errors
        with psycopg.connect(database_url) as connection:
            branch = connection.execute("SELECT id FROM service_point ORDER BY sort_order, id LIMIT 1").fetchone()[0]
            connection.commit()
            while time.monotonic() < deadline:
                with lock:
                    try:
                        card, barcode = next(queue)
                    except StopIteration:
                        return
                started = time.perf_counter()
                try:
                    with connection.transaction():
                        item_id, bib_id, material = connection.execute(
                            "SELECT id, bib_id, material_type FROM item WHERE barcode = %s FOR UPDATE", [barcode]).fetchone()
                        patron_id, category, age_band = connection.execute(
                            "SELECT id, category, age_band FROM patron WHERE card = %s FOR UPDATE", [card]).fetchone()
                        loan_id = connection.execute(
                            """INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on,
                                   patron_category, patron_age_band, material_type)
                               VALUES (%s, %s, %s, now(), current_date + 14, %s, %s, %s) RETURNING id""",
                            [item_id, patron_id, branch, category, age_band, material]).fetchone()[0]
                        connection.execute(
                            "INSERT INTO operation_log (actor_kind, actor, action, entity, entity_id) "
                            "VALUES ('system', 'benchmark', 'circulation.checkout', 'loan', %s)", [str(loan_id)])
                        connection.execute("INSERT INTO outbox_event (topic, entity_id, payload) VALUES ('loan', %s, %s)",
                                           [loan_id, json.dumps({"item_id": item_id})])
                except psycopg.Error:
                    errors += 1
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(latencies, time.monotonic() - started, errors)


def return_all(database_url: str, barcodes: list[str]) -> None:
    with psycopg.connect(database_url) as connection:
        connection.execute(
            """WITH closed AS (
                   UPDATE loan l SET returned_at = now(), return_service_point_id = l.service_point_id
                   FROM item i WHERE i.id = l.item_id AND i.barcode = ANY(%s) AND l.returned_at IS NULL
                   RETURNING l.id)
               INSERT INTO outbox_event (topic, entity_id) SELECT 'loan', id FROM closed""", [barcodes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--desks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    credentials = json.loads(arguments.credentials.read_text())
    admin = next(staff for staff in credentials["staff"] if staff["role"] == "admin")
    token = httpx.post(f"{arguments.base_url}/api/v1/auth/token",
                       json={"username": admin["username"], "password": admin["password"]}).json()["access_token"]
    items, patrons = candidates(arguments.database_url, 40_000)
    half = len(items) // 2
    api_work = [(patrons[index // 4 % len(patrons)], barcode) for index, barcode in enumerate(items[:half])]
    bare_work = [(patrons[(index // 4 + len(patrons) // 2) % len(patrons)], barcode)
                 for index, barcode in enumerate(items[half:])]
    results = {"machine": f"{platform.node()}, {__import__('os').cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
               "desks": arguments.desks, "seconds": arguments.seconds}
    try:
        results["api_checkout"] = asyncio.run(api_run(arguments.base_url, token, api_work, arguments.desks,
                                                      arguments.seconds))
        print("API checkout:", results["api_checkout"], flush=True)
        results["bare_transaction"] = bare_run(arguments.database_url, bare_work, arguments.desks, arguments.seconds)
        print("bare PostgreSQL transaction:", results["bare_transaction"], flush=True)
        results["p99_ratio_to_floor"] = round(results["api_checkout"]["p99_ms"] / results["bare_transaction"]["p99_ms"], 2)
    finally:
        return_all(arguments.database_url, items)
    if arguments.output:
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
