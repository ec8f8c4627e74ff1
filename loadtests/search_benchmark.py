"""Search benchmark: the engine against PostgreSQL full-text search, same records, same queries, same run.

    python -m loadtests.search_benchmark --database-url URL [--queries 2000] [--output loadtests/results/search-S.json]

1. Builds a search index from the database (as `shoka reindex` does) and reports the build rate.
2. Loads the holdings (every copy with its loan state).
3. Draws a realistic Japanese query mix from the records themselves (loadtests/query_mix.py, the load tests' mix:
   title words, author names, readings typed in hiragana, ISBN-10 and -13, two-word queries, and searches with
   filters, facets and paging) with a fixed seed, and times each query in the engine (one `Catalogue.search`
   call: hits, total and facets).
4. Builds the PostgreSQL baseline (loadtests/fts_baseline.py, as the load tests do), as Evergreen-class systems
   search: a tsvector of character bigrams (the simple configuration cannot segment Japanese) over title,
   reading, authors, publisher and subjects with a GIN index, queried with phrase operators (<->) for each word,
   ts_rank_cd ordering, a count, and the same page size — and times the same queries.
Reports p50/p95/p99 for both and the ratio, one query at a time. Nothing here asserts a time: the numbers go to
BENCHMARKS.md; the same comparison under concurrent load is the `search` and `search_fts` load-test scenarios.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from loadtests import fts_baseline
from loadtests.query_mix import draw_queries
from loadtests.stats import percentile as sorted_percentile
from shoka._engine import Catalogue
from shoka.catalogue import index_sync
from shoka.catalogue.search_models import run_search

def percentile(values: list[float], fraction: float) -> float:
    return sorted_percentile(sorted(values), fraction)


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 0.50) * 1000, 3), "p95_ms": round(percentile(values, 0.95) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3), "mean_ms": round(statistics.mean(values) * 1000, 3),
            "queries": len(values)}


def build_engine(connection: psycopg.Connection, folder: Path) -> tuple[Catalogue, dict]:
    seq = connection.execute("SELECT coalesce(max(seq), 0) FROM outbox_event").fetchone()[0]
    catalogue = Catalogue.create(folder)
    catalogue.acquire_writer(heap_bytes=512 * 1024 * 1024, threads=2)
    started = time.perf_counter()
    records = index_sync.build_index(connection, catalogue, seq)
    build_seconds = time.perf_counter() - started
    catalogue.release_writer()
    started = time.perf_counter()
    copies = index_sync.load_holdings(connection, catalogue)
    holdings_seconds = time.perf_counter() - started
    return catalogue, {"records": records, "build_seconds": round(build_seconds, 2),
                       "records_per_second": round(records / build_seconds), "copies": copies,
                       "holdings_load_seconds": round(holdings_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    results: dict = {"machine": f"{platform.node()} {platform.machine()}, {__import__('os').cpu_count()} cores",
                     "date": time.strftime("%Y-%m-%d")}
    with psycopg.connect(arguments.database_url) as connection, tempfile.TemporaryDirectory() as folder:
        results["records"] = connection.execute("SELECT count(*) FROM bib").fetchone()[0]
        catalogue, results["index"] = build_engine(connection, Path(folder))
        print("index:", results["index"], flush=True)
        queries = draw_queries(connection, arguments.queries, arguments.seed)
        for request in queries[:50]:  # warm the page cache and the engine
            run_search(catalogue, request)
        engine_times, totals = [], []
        for request in queries:
            started = time.perf_counter()
            page = run_search(catalogue, request)
            engine_times.append(time.perf_counter() - started)
            totals.append(page.total)
        results["engine"] = summary(engine_times) | {"median_total_hits": statistics.median(totals)}
        print("engine:", results["engine"], flush=True)
        if not arguments.skip_baseline:
            results["baseline_build"] = fts_baseline.build(connection)
            for request in queries[:50]:
                fts_baseline.run(connection, request)
            baseline_times = []
            for request in queries:
                started = time.perf_counter()
                fts_baseline.run(connection, request)
                baseline_times.append(time.perf_counter() - started)
            results["postgresql_fts"] = summary(baseline_times)
            results["speedup_p99"] = round(results["postgresql_fts"]["p99_ms"] / results["engine"]["p99_ms"], 1)
            results["speedup_p50"] = round(results["postgresql_fts"]["p50_ms"] / results["engine"]["p50_ms"], 1)
            print("postgresql:", results["postgresql_fts"], "speed-up p50/p99:", results["speedup_p50"],
                  results["speedup_p99"], flush=True)
            fts_baseline.drop(connection)
    if arguments.output:
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
