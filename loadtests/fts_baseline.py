"""The PostgreSQL full-text baseline: how Evergreen-class systems search, over the same records and the same
query mix as the engine.

PostgreSQL's `simple` configuration cannot segment Japanese, so each document is stored as its character
bigrams (a lone CJK character as itself, Latin words as words) over title, reading, subtitle, publisher and its
reading, authors and their readings, subjects and ISBNs, with a GIN index. A query becomes, per word, its
bigrams joined by the phrase operator (<->), the words ANDed; it is answered with a count and the page ranked by
ts_rank_cd — what a results page needs, without the per-branch availability and facets the engine also returns.

The table lives in its own schema, `loadtest`, beside the library's; a later run reuses it while the catalogue
has not changed (same number of records, same latest change), because building it at tier L takes minutes.
`drop` removes it.
"""

from __future__ import annotations

import re
import time

import psycopg

from loadtests.query_mix import CJK, fold
from shoka.catalogue.search_models import SearchRequest

WORD = re.compile(r"[0-9a-z]+")
SCHEMA = "loadtest"
TABLE = f"{SCHEMA}.fts_document"
STATE = f"{SCHEMA}.fts_state"


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


def _catalogue_state(connection: psycopg.Connection) -> tuple:
    return connection.execute("SELECT count(*), max(updated_at) FROM bib").fetchone()


def build(connection: psycopg.Connection) -> dict:
    """Build the baseline table, or keep the one a previous run built from the same catalogue."""
    started = time.perf_counter()
    state = _catalogue_state(connection)
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    connection.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (records bigint, last_change timestamptz)")
    if connection.execute(f"SELECT records, last_change FROM {STATE}").fetchone() == state \
            and connection.execute(f"SELECT to_regclass('{TABLE}')").fetchone()[0] is not None:
        connection.commit()
        return {"build_seconds": 0.0, "reused": True, "records": state[0]}
    connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    connection.execute(f"CREATE TABLE {TABLE} (bib_id bigint PRIMARY KEY, material_type text, doc tsvector)")
    with connection.cursor(name="fts_rows") as rows, connection.cursor() as writer:
        rows.execute("SELECT id, material_type, concat_ws(' ', title, title_reading, subtitle, publisher, "
                     "publisher_reading, (SELECT string_agg(concat_ws(' ', a->>'name', a->>'reading'), ' ') "
                     "FROM jsonb_array_elements(authors) a), array_to_string(subjects, ' '), "
                     "array_to_string(isbns, ' ')) FROM bib")
        while batch := rows.fetchmany(5000):
            with writer.copy(f"COPY {TABLE} (bib_id, material_type, doc) FROM STDIN") as copy:
                for bib_id, material_type, text in batch:
                    grams = " ".join(" ".join(words) for words in bigram_words(text or ""))
                    copy.write_row((bib_id, material_type, grams))
    connection.execute(f"UPDATE {TABLE} SET doc = to_tsvector('simple', doc::text)")
    connection.execute(f"CREATE INDEX ON {TABLE} USING gin (doc)")
    connection.execute(f"ANALYZE {TABLE}")
    connection.execute(f"DELETE FROM {STATE}")
    connection.execute(f"INSERT INTO {STATE} VALUES (%s, %s)", state)
    connection.commit()
    return {"build_seconds": round(time.perf_counter() - started, 1), "reused": False, "records": state[0]}


def drop(connection: psycopg.Connection) -> None:
    connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    connection.commit()


def statements(request: SearchRequest) -> tuple[str, str, dict] | None:
    """The count and the ranked page for one request, with their parameters; None for a query with no
    indexable word (the engine answers those from its filters alone)."""
    query = tsquery(request.query)
    if query is None:
        return None
    material_filter = " AND material_type = ANY(%(types)s)" if request.material_types else ""
    parameters = {"query": query, "types": list(request.material_types), "limit": request.per_page,
                  "offset": (request.page - 1) * request.per_page}
    count = f"SELECT count(*) FROM {TABLE} WHERE doc @@ to_tsquery('simple', %(query)s){material_filter}"
    page = (f"SELECT bib_id FROM {TABLE} WHERE doc @@ to_tsquery('simple', %(query)s){material_filter} "
            "ORDER BY ts_rank_cd(doc, to_tsquery('simple', %(query)s)) DESC LIMIT %(limit)s OFFSET %(offset)s")
    return count, page, parameters


def run(connection: psycopg.Connection, request: SearchRequest) -> None:
    """One query, synchronously (search_benchmark.py); the load generator runs `statements` asynchronously."""
    prepared = statements(request)
    if prepared is None:
        return
    count, page, parameters = prepared
    connection.execute(count, parameters).fetchone()
    connection.execute(page, parameters).fetchall()
