"""Percentiles, windows and summaries of load-test samples."""

import math

import pytest

from loadtests.stats import Outcome, Sample, in_window, percentile, summarise, summarise_by_kind, timeline


def test_percentile_is_nearest_rank_over_sorted_values():
    values = [float(value) for value in range(1, 101)]  # 1 … 100
    assert percentile(values, 0.50) == 51.0  # index round(0.5 × 99) = 50 (rounds half to even)
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0


def test_percentile_of_one_value_and_of_none():
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_percentile_refuses_a_fraction_outside_zero_to_one():
    with pytest.raises(ValueError):
        percentile([1.0], 99)


def sample(kind="search", sent_at=0.0, seconds=0.010, outcome=Outcome.OK, detail=""):
    return Sample(kind, sent_at, seconds, outcome, detail)


def test_only_samples_sent_inside_the_window_count():
    samples = [sample(sent_at=moment) for moment in (0.5, 1.0, 1.5, 2.0, 2.5)]
    kept = in_window(samples, 1.0, 2.0)
    assert [kept_sample.sent_at for kept_sample in kept] == [1.0, 1.5]


def test_summary_keeps_refusals_and_errors_apart():
    samples = ([sample(seconds=0.010)] * 90 + [sample(seconds=0.020, outcome=Outcome.REFUSED, detail="limit")] * 5
               + [sample(seconds=30.0, outcome=Outcome.ERROR, detail="timeout")] * 5)
    summary = summarise(samples, window_seconds=10.0)
    assert summary["requests"] == 100
    assert (summary["ok"], summary["refused"], summary["errors"]) == (90, 5, 5)
    assert summary["throughput_per_s"] == 9.5  # answered (ok and refused) per second
    assert summary["p99_ms"] == 20.0  # errors are not timed: the 30 s time-outs do not make the p99
    assert summary["max_ms"] == 20.0
    assert summary["error_kinds"] == {"timeout": 5}
    assert summary["refusal_codes"] == {"limit": 5}


def test_summary_of_only_errors_has_no_latency():
    summary = summarise([sample(outcome=Outcome.ERROR, detail="HTTP 500")], 1.0)
    assert summary["p50_ms"] is None and summary["mean_ms"] is None and summary["throughput_per_s"] == 0


def test_summary_needs_a_positive_window():
    with pytest.raises(ValueError):
        summarise([sample()], 0)


def test_summaries_by_kind():
    by_kind = summarise_by_kind([sample("checkout"), sample("checkin"), sample("checkout")], 1.0)
    assert list(by_kind) == ["checkin", "checkout"]
    assert by_kind["checkout"]["requests"] == 2


def test_timeline_buckets_answered_requests_by_time():
    samples = [sample(sent_at=100.0 + second, seconds=0.001 * (second + 1)) for second in range(20)]
    samples.append(sample(sent_at=101.0, outcome=Outcome.ERROR))
    series = timeline(samples, start=100.0, bucket_seconds=10.0)["search"]
    assert [bucket["t_s"] for bucket in series] == [0.0, 10.0]
    assert [bucket["answered"] for bucket in series] == [10, 10]
    assert series[1]["p95_ms"] == 20.0


def test_error_counts_per_kind_ignore_answers():
    from loadtests.stats import error_counts

    samples = [sample("opac_home", outcome=Outcome.ERROR, detail="HTTP 500")] * 2 + [
        sample("opac_home"), sample("checkout", outcome=Outcome.REFUSED, detail="limit"),
        sample("checkout", outcome=Outcome.ERROR, detail="timeout")]
    assert error_counts(samples) == {"checkout": {"timeout": 1}, "opac_home": {"HTTP 500": 2}}
