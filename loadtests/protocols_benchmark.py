"""OPAC results page, SRU searchRetrieve and SIP2 checkout round trips against a running server.

    python -m loadtests.protocols_benchmark --base-url http://127.0.0.1:8000 --sip2 127.0.0.1:6001 \
        --database-url URL --sip2-user kiosk --sip2-password PASSWORD [--requests 300] [--output FILE]

The query words are drawn from the catalogue itself (title words), the SIP2 checkouts lend distinct copies on
the shelf to patrons with room under their limits and are returned in bulk SQL afterwards. Sequential requests:
this measures the latency one terminal or one OPAC user sees, not throughput (see loadtests/ for load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import re
import socket
import time
from pathlib import Path

import httpx
import psycopg

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]+")


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] * 1000, 2)

    return {"requests": len(values), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def words(database_url: str, count: int) -> list[str]:
    rng = random.Random(5)
    with psycopg.connect(database_url) as connection:
        titles = [row[0] for row in connection.execute("SELECT title FROM bib WHERE id % 211 = 0 LIMIT 2000")]
    chosen = []
    while len(chosen) < count:
        runs = CJK.findall(rng.choice(titles)) or ["本"]
        run = rng.choice(runs)
        chosen.append(run[:rng.choice([2, 3, 4])])
    return chosen


def timed_gets(client: httpx.Client, path: str, parameter_sets: list[dict]) -> list[float]:
    times = []
    for parameters in parameter_sets:
        started = time.perf_counter()
        response = client.get(path, params=parameters)
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 303), (response.status_code, response.text[:200])
    return times


def checksum(data: bytes) -> str:
    return f"{(-sum(data)) & 0xFFFF:04X}"


class Terminal:
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.socket = socket.create_connection((host, int(port)))
        self.buffer = b""
        self.sequence = 0

    def exchange(self, message: str) -> str:
        body = f"{message}AY{self.sequence}AZ".encode()
        self.sequence = (self.sequence + 1) % 10
        self.socket.sendall(body + checksum(body).encode() + b"\r")
        while b"\r" not in self.buffer:
            self.buffer += self.socket.recv(65536)
        line, _, self.buffer = self.buffer.partition(b"\r")
        return line.decode()


def sip2_date(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d    %H%M%S")


def sip2_checkouts(address: str, user: str, password: str, pairs: list[tuple[str, str]]) -> list[float]:
    terminal = Terminal(address)
    assert terminal.exchange(f"9300CN{user}|CO{password}|").startswith("941"), "SIP2 login failed"
    times = []
    moment = dt.datetime.now()
    for index, (card, barcode) in enumerate(pairs):
        stamp = sip2_date(moment + dt.timedelta(seconds=index))
        started = time.perf_counter()
        answer = terminal.exchange(f"11YN{stamp}{' ' * 18}AO|AA{card}|AB{barcode}|AC|")
        times.append(time.perf_counter() - started)
        assert answer.startswith("121"), answer
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--sip2", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sip2-user", required=True)
    parser.add_argument("--sip2-password", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    queries = words(arguments.database_url, arguments.requests)
    results = {"machine": f"{platform.node()}, {__import__('os').cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}
    with httpx.Client(base_url=arguments.base_url, timeout=30) as client:
        for query in queries[:20]:
            client.get("/search", params={"q": query, "redirect": "0"})
        results["opac_results_page"] = percentiles(timed_gets(
            client, "/search", [{"q": query, "redirect": "0"} for query in queries]))
        print("OPAC results page:", results["opac_results_page"], flush=True)
        results["sru_search_retrieve"] = percentiles(timed_gets(client, "/sru", [
            {"version": "1.2", "operation": "searchRetrieve", "query": f'dc.title="{query}"', "maximumRecords": 10,
             "recordSchema": "marcxml"} for query in queries]))
        print("SRU searchRetrieve:", results["sru_search_retrieve"], flush=True)
    with psycopg.connect(arguments.database_url) as connection:
        items = [row[0] for row in connection.execute(
            """SELECT i.barcode FROM item i JOIN service_point sp ON sp.id = i.service_point_id
               WHERE sp.code = 'central' AND i.status = 'available' AND i.loan_policy = 'normal'
               AND i.material_type = 'book'
               AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.closed_at IS NULL)
               ORDER BY random() LIMIT %s""", [arguments.requests])]
        patrons = [row[0] for row in connection.execute(
            """SELECT p.card FROM patron p WHERE p.status = 'active' AND p.category = 'adult'
               AND p.expires_on > current_date + 60
               AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL)
               ORDER BY random() LIMIT %s""", [arguments.requests // 4 + 1])]
    pairs = [(patrons[index // 4], barcode) for index, barcode in enumerate(items)]
    try:
        results["sip2_checkout"] = percentiles(sip2_checkouts(arguments.sip2, arguments.sip2_user,
                                                              arguments.sip2_password, pairs))
        print("SIP2 checkout:", results["sip2_checkout"], flush=True)
    finally:
        with psycopg.connect(arguments.database_url) as connection:
            connection.execute(
                """WITH closed AS (UPDATE loan l SET returned_at = now(), return_service_point_id = l.service_point_id
                                   FROM item i WHERE i.id = l.item_id AND i.barcode = ANY(%s) AND l.returned_at IS NULL
                                   RETURNING l.id)
                   INSERT INTO outbox_event (topic, entity_id) SELECT 'loan', id FROM closed""", [items])
    if arguments.output:
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
