"""How long the OPAC results page takes at the demo scale (20,000 records, 32,000 copies, 17 service points),
measured over real HTTP against the real server. Runs only with benchmarks enabled (`make bench`, or
`pytest --benchmark-enable tests/opac/test_render_benchmark.py`); reports the median and the 95th percentile."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os

import httpx
import pytest

from tests.conftest import RunningServer, create_database_from_template

QUERIES = [
    {"q": "猫"}, {"q": "の"}, {"q": "歴史"}, {"q": "ねこ"}, {"q": "日本", "sort": "year_newest"},
    {"q": "物語", "available": "1"}, {"q": "図書館", "per_page": "50"}, {"q": "夜", "ndc_class": "9"},
    {"material_type": "book", "sort": "title"}, {"q": "旅", "branch": "central"},
]


@pytest.fixture(scope="module")
def demo_server(request, postgres_maintenance_url, template_database_url, tmp_path_factory):
    options = request.config.option
    if getattr(options, "benchmark_disable", True) and not getattr(options, "benchmark_enable", False):
        pytest.skip("benchmarks are disabled (run `make bench` or pass --benchmark-enable)")
    demo = pytest.importorskip("shoka.demo")
    home = tmp_path_factory.mktemp("bench-home")
    url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_opac_bench")
    demo.load_demo_library(url, home, tier="demo", reference_date=dt.date.today(), show_progress=False)
    server = RunningServer(url, home)
    try:
        server.wait_until_healthy(timeout_seconds=300)
        yield server
    finally:
        server.stop()


def test_results_page_render_time_at_demo_scale(benchmark, demo_server):
    client = httpx.Client(base_url=demo_server.base_url, headers={"Accept": "text/html"}, timeout=30)
    queries = itertools.cycle(QUERIES)
    for parameters in QUERIES:  # every query answers a full page, not an error or a redirect
        response = client.get("/search", params={**parameters, "redirect": "0"})
        assert response.status_code == 200 and 'class="results"' in response.text, parameters

    def render() -> None:
        response = client.get("/search", params={**next(queries), "redirect": "0"})
        assert response.status_code == 200

    benchmark.pedantic(render, rounds=300, iterations=1, warmup_rounds=20)
    timings = sorted(benchmark.stats.stats.data)
    p95 = timings[math.ceil(0.95 * len(timings)) - 1]
    median = timings[len(timings) // 2]
    benchmark.extra_info.update({"p95_ms": round(p95 * 1000, 2), "median_ms": round(median * 1000, 2)})
    print(f"\nresults page at demo scale: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
          f"over {len(timings)} requests")
    client.close()
