"""SRU searchRetrieve latency through the real server (HTTP round trip included), measured with
pytest-benchmark. Skipped unless benchmarks are enabled: `pytest tests/sru --benchmark-enable` (or `make bench`).
"""

from __future__ import annotations

import statistics

import httpx
import pytest

pytestmark = pytest.mark.skipif("config.getoption('benchmark_disable') and not config.getoption('benchmark_enable')",
                                reason="a benchmark: run with --benchmark-enable")

QUERIES = {
    "title_dc_10": {"query": "dc.title = 猫", "recordSchema": "dc", "maximumRecords": "10"},
    "anywhere_marcxml_10": {"query": "宮沢 and 銀河", "recordSchema": "marcxml", "maximumRecords": "10"},
    "unaligned_window_marcxml_25": {"query": "cql.allRecords = 1", "recordSchema": "marcxml",
                                    "startRecord": "95", "maximumRecords": "25"},
    "count_only": {"query": "dc.date >= 1900", "maximumRecords": "0"},
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_search_retrieve_latency(library_server, benchmark, name):
    parameters = {"version": "1.2", "operation": "searchRetrieve", **QUERIES[name]}
    with httpx.Client(base_url=library_server.base_url, timeout=30) as client:
        for _ in range(5):  # warm both workers and the connection
            client.get("/sru", params=parameters)

        def one_request() -> int:
            response = client.get("/sru", params=parameters)
            assert response.status_code == 200 and b"<zs:diagnostics" not in response.content
            return len(response.content)

        benchmark.pedantic(one_request, rounds=200, iterations=1)
    samples = sorted(benchmark.stats.stats.data)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    benchmark.extra_info.update({"p50_ms": round(p50 * 1000, 2), "p99_ms": round(p99 * 1000, 2)})
    print(f"{name}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
