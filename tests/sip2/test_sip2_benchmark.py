"""SIP2 checkout round trip through the real server (socket, parsing, the desk's transaction, the answer),
measured with pytest-benchmark. Skipped unless benchmarks are enabled: `pytest tests/sip2 --benchmark-enable`
(or `make bench`). Each round checks the copy back in first, outside the timing. The messages carry transaction
times a second apart: faster than any kiosk, the same checkout text with the same sequence digit within one
second would be taken for a resend (see Session.request_id)."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics

import pytest

pytestmark = pytest.mark.skipif("config.getoption('benchmark_disable') and not config.getoption('benchmark_enable')",
                                reason="a benchmark: run with --benchmark-enable")


def test_checkout_round_trip(sip2_library, benchmark):
    terminal = sip2_library.terminal()
    card = sip2_library.free_patron()
    (barcode, _), = sip2_library.free_items(1)

    start = dt.datetime.now()
    moments = (start + dt.timedelta(seconds=second) for second in itertools.count())

    def return_the_copy() -> None:
        assert terminal.checkin(barcode, next(moments)).startswith("101")

    def checkout() -> None:
        assert terminal.checkout(card, barcode, next(moments)).startswith("121")

    for _ in range(10):  # warm up the pools, the engine and the branch cache (pedantic's warm-up skips setup)
        checkout()
        return_the_copy()
    benchmark.pedantic(checkout, setup=return_the_copy, rounds=300)
    return_the_copy()
    terminal.close()
    samples = sorted(benchmark.stats.stats.data)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    benchmark.extra_info.update({"p50_ms": round(p50 * 1000, 2), "p99_ms": round(p99 * 1000, 2)})
    print(f"SIP2 checkout round trip: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms over {len(samples)} checkouts")
