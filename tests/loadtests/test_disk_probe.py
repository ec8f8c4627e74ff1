"""The disk probe: small synced writes in a scratch file that it removes, summarised as the report shows them."""

from loadtests import disk_probe


def test_the_probe_syncs_small_writes_and_leaves_nothing_behind(tmp_path):
    result = disk_probe.probe(tmp_path, seconds=0.3)
    assert result["syncs"] > 10 and 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert list(tmp_path.iterdir()) == []


def test_the_summary_counts_the_slow_syncs():
    latencies = [0.2] * 98 + [80.0, 210.0]
    assert disk_probe.summary(latencies) == {"syncs": 100, "p50_ms": 0.2, "p99_ms": 210.0, "max_ms": 210.0,
                                             "over_50_ms": 2}
