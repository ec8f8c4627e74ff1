"""What one step's samples add up to: counts by outcome, throughput, latency percentiles.

A sample is one request: its kind (`search`, `checkout`, `sip2_checkin`, …), when it was sent (monotonic
seconds), how long the answer took, and its outcome. Three outcomes, kept apart on purpose:
- OK: the request did what was asked;
- REFUSED: the library said no for a business reason (a checkout refused with 409/422, a SIP2 "ok 0"): an answer,
  with its latency, but not an error of the system;
- ERROR: a 5xx, any other unexpected status, a timeout, a broken connection — what the targets allow none of.
Latency percentiles are over answered requests (OK and REFUSED); errors are counted, with their kinds, not timed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable


class Outcome(IntEnum):
    OK = 0
    REFUSED = 1
    ERROR = 2


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    sent_at: float  # time.monotonic() when the request left (comparable across processes on Linux)
    seconds: float
    outcome: Outcome
    detail: str = ""  # the refusal's code or the error's kind; empty when OK


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (the method the older benchmarks used, so figures
    stay comparable): the value at index round(fraction × (n − 1)). NaN for no values."""
    if not values:
        return math.nan
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction {fraction} is not between 0 and 1")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def milliseconds(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


def in_window(samples: Iterable[Sample], start: float, end: float) -> list[Sample]:
    """The samples sent inside [start, end): the measured window of a step, without its warm-up. A request sent
    just before the end still counts with its full latency, as a closed-loop user would wait for it."""
    return [sample for sample in samples if start <= sample.sent_at < end]


def summarise(samples: list[Sample], window_seconds: float) -> dict:
    """One kind's figures over a window. `throughput_per_s` counts answered requests (OK and REFUSED)."""
    if window_seconds <= 0:
        raise ValueError("the window must last a positive time")
    answered = sorted(sample.seconds for sample in samples if sample.outcome != Outcome.ERROR)
    outcomes = Counter(sample.outcome for sample in samples)
    errors = Counter(sample.detail or "unknown" for sample in samples if sample.outcome == Outcome.ERROR)
    refusals = Counter(sample.detail or "unknown" for sample in samples if sample.outcome == Outcome.REFUSED)
    return {
        "requests": len(samples),
        "ok": outcomes[Outcome.OK],
        "refused": outcomes[Outcome.REFUSED],
        "errors": outcomes[Outcome.ERROR],
        "throughput_per_s": round(len(answered) / window_seconds, 1),
        "p50_ms": milliseconds(percentile(answered, 0.50)),
        "p95_ms": milliseconds(percentile(answered, 0.95)),
        "p99_ms": milliseconds(percentile(answered, 0.99)),
        "max_ms": milliseconds(answered[-1]) if answered else None,
        "mean_ms": milliseconds(sum(answered) / len(answered)) if answered else None,
        "error_kinds": dict(errors.most_common(8)),
        "refusal_codes": dict(refusals.most_common(8)),
    }


def error_counts(samples: list[Sample]) -> dict[str, dict[str, int]]:
    """Per kind, errors by detail (for the warm-up, whose latencies are not counted but whose errors are)."""
    counts: dict[str, Counter] = {}
    for sample in samples:
        if sample.outcome == Outcome.ERROR:
            counts.setdefault(sample.kind, Counter())[sample.detail or "unknown"] += 1
    return {kind: dict(counter.most_common(8)) for kind, counter in sorted(counts.items())}


def summarise_by_kind(samples: list[Sample], window_seconds: float) -> dict[str, dict]:
    kinds: dict[str, list[Sample]] = {}
    for sample in samples:
        kinds.setdefault(sample.kind, []).append(sample)
    return {kind: summarise(kind_samples, window_seconds) for kind, kind_samples in sorted(kinds.items())}


def timeline(samples: list[Sample], start: float, bucket_seconds: float) -> dict[str, list[dict]]:
    """Per kind, per bucket of `bucket_seconds` from `start`: answered count and p95, to show whether a long
    step stayed steady (the opening day) or drifted (a growing queue, a cache warming up)."""
    buckets: dict[str, dict[int, list[float]]] = {}
    for sample in samples:
        if sample.outcome == Outcome.ERROR:
            continue
        index = int((sample.sent_at - start) // bucket_seconds)
        buckets.setdefault(sample.kind, {}).setdefault(index, []).append(sample.seconds)
    return {kind: [{"t_s": round(index * bucket_seconds, 1), "answered": len(values),
                    "p95_ms": milliseconds(percentile(sorted(values), 0.95))}
                   for index, values in sorted(by_index.items())]
            for kind, by_index in sorted(buckets.items())}
