"""Search benchmark: the engine against PostgreSQL full-text search, same records, same queries, same run.

    python loadtests/search_benchmark.py --database-url URL [--queries 2000] [--output loadtests/results/search-S.json]

1. Builds a search index from the database (as `shoka reindex` does) and reports the build rate.
2. Loads the holdings (every copy with its loan state).
3. Draws a realistic Japanese query mix from the records themselves (title words, author names, readings typed
   in hiragana, ISBN-10 and -13, two-word queries, and searches with filters, facets and paging) with a fixed
   seed, and times each query in the engine (one `Catalogue.search` call: hits, total and facets).
4. Builds the PostgreSQL baseline, as Evergreen-class systems search: a tsvector of character bigrams (the
   simple configuration cannot segment Japanese) over title, reading, authors, publisher and subjects with a
   GIN index, queried with phrase operators (<->) for each word, ts_rank_cd ordering, a count, and the same
   page size — and times the same queries.
Reports p50/p95/p99 for both and the ratio. Nothing here asserts a time: the numbers go to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

import msgspec
import psycopg

from shoka._engine import Catalogue
from shoka.catalogue import index_sync
from shoka.catalogue.search_models import SearchRequest, run_search

KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(KATAKANA_TO_HIRAGANA)


def bigram_words(text: str) -> list[list[str]]:
    """Per CJK run or Latin word, its bigrams (or the lone character / word)."""
    folded = fold(text)
    words = []
    for run in CJK.findall(folded):
        words.append([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    words.extend([[word] for word in WORD.findall(folded)])
    return words


def tsquery(text: str) -> str | None:
    clauses = []
    for word in text.split():
        for grams in bigram_words(word):
            quoted = [f"'{gram}'" for gram in grams]
            clauses.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(clauses) if clauses else None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 0.50) * 1000, 3), "p95_ms": round(percentile(values, 0.95) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3), "mean_ms": round(statistics.mean(values) * 1000, 3),
            "queries": len(values)}


def draw_queries(connection: psycopg.Connection, count: int, seed: int) -> list[SearchRequest]:
    rng = random.Random(seed)
    sample = connection.execute(
        "SELECT title, title_reading, authors, isbns FROM bib WHERE id % 97 = 0 LIMIT 4000").fetchall()
    branches = [row[0] for row in connection.execute("SELECT code FROM service_point ORDER BY id LIMIT 8")]
    material_types = [row[0] for row in connection.execute("SELECT code FROM material_type")]
    queries: list[SearchRequest] = []
    while len(queries) < count:
        title, reading, authors, isbns = rng.choice(sample)
        kind = rng.random()
        runs = CJK.findall(title) or [title]
        run = rng.choice(runs)
        start = rng.randrange(0, max(1, len(run) - 1))
        word = run[start:start + rng.choice([2, 2, 3, 4])]
        if kind < 0.30:
            queries.append(SearchRequest(query=word))
        elif kind < 0.45 and authors:
            queries.append(SearchRequest(query=authors[0]["name"].split(",")[0].strip()))
        elif kind < 0.60 and reading:
            kana = fold(reading).split()
            queries.append(SearchRequest(query="".join(kana[: rng.choice([1, 2, 3])])))
        elif kind < 0.70 and isbns:
            isbn = isbns[0]
            queries.append(SearchRequest(query=isbn if rng.random() < 0.5 else isbn[3:12] + "X"))
        elif kind < 0.80:
            other = rng.choice(sample)[0]
            other_runs = CJK.findall(other) or [other]
            queries.append(SearchRequest(query=f"{word} {rng.choice(other_runs)[:2]}"))
        elif kind < 0.90:
            queries.append(SearchRequest(query=word, branch=rng.choice(branches), available_only=rng.random() < 0.5))
        else:
            queries.append(SearchRequest(query=word, material_types=[rng.choice(material_types)],
                                         page=rng.choice([1, 2, 3]), sort=rng.choice(["relevance", "year_newest", "title"])))
    return queries


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


def build_baseline(connection: psycopg.Connection) -> dict:
    started = time.perf_counter()
    connection.execute("DROP TABLE IF EXISTS bench_fts")
    connection.execute("CREATE TABLE bench_fts (bib_id bigint PRIMARY KEY, material_type text, doc tsvector)")
    with connection.cursor(name="bench_rows") as rows, connection.cursor() as writer:
        rows.execute("SELECT id, material_type, concat_ws(' ', title, title_reading, subtitle, publisher, "
                     "publisher_reading, (SELECT string_agg(concat_ws(' ', a->>'name', a->>'reading'), ' ') "
                     "FROM jsonb_array_elements(authors) a), array_to_string(subjects, ' '), "
                     "array_to_string(isbns, ' ')) FROM bib")
        while batch := rows.fetchmany(5000):
            with writer.copy("COPY bench_fts (bib_id, material_type, doc) FROM STDIN") as copy:
                for bib_id, material_type, text in batch:
                    grams = " ".join(" ".join(words) for words in bigram_words(text or ""))
                    copy.write_row((bib_id, material_type, grams))
    connection.execute("UPDATE bench_fts SET doc = to_tsvector('simple', doc::text)")
    connection.execute("CREATE INDEX bench_fts_doc ON bench_fts USING gin (doc)")
    connection.execute("ANALYZE bench_fts")
    connection.commit()
    return {"build_seconds": round(time.perf_counter() - started, 2)}


def run_baseline(connection: psycopg.Connection, request: SearchRequest) -> None:
    query = tsquery(request.query)
    if query is None:
        return
    material_filter = " AND material_type = ANY(%(types)s)" if request.material_types else ""
    parameters = {"query": query, "types": request.material_types, "limit": request.per_page,
                  "offset": (request.page - 1) * request.per_page}
    connection.execute(
        f"SELECT count(*) FROM bench_fts WHERE doc @@ to_tsquery('simple', %(query)s){material_filter}",
        parameters).fetchone()
    connection.execute(
        f"SELECT bib_id FROM bench_fts WHERE doc @@ to_tsquery('simple', %(query)s){material_filter} "
        "ORDER BY ts_rank_cd(doc, to_tsquery('simple', %(query)s)) DESC LIMIT %(limit)s OFFSET %(offset)s",
        parameters).fetchall()


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
            results["baseline_build"] = build_baseline(connection)
            for request in queries[:50]:
                run_baseline(connection, request)
            baseline_times = []
            for request in queries:
                started = time.perf_counter()
                run_baseline(connection, request)
                baseline_times.append(time.perf_counter() - started)
            results["postgresql_fts"] = summary(baseline_times)
            results["speedup_p99"] = round(results["postgresql_fts"]["p99_ms"] / results["engine"]["p99_ms"], 1)
            results["speedup_p50"] = round(results["postgresql_fts"]["p50_ms"] / results["engine"]["p50_ms"], 1)
            print("postgresql:", results["postgresql_fts"], "speed-up p50/p99:", results["speedup_p50"],
                  results["speedup_p99"], flush=True)
            connection.execute("DROP TABLE bench_fts")
            connection.commit()
    if arguments.output:
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
