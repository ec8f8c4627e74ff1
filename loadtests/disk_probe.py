"""How long the disk takes to make a small write durable: the wait every commit has before it is acknowledged.

A checkout is acknowledged after PostgreSQL has flushed its commit record to the WAL (fdatasync), and commits
flush one after another, so a disk that now and then takes 100 ms to sync holds every desk for 100 ms, whatever
the service does. The probe writes 8 kB and syncs it, as a commit does, every 2 ms for a few seconds on the disk
under SHOKA_HOME, before the steps, and the report gives its distribution beside the counter figures.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BLOCK = b"\0" * 8192
PAUSE_SECONDS = 0.002  # about the rate of commits at the counter's target, 500 a second
SLOW_MS = 50.0  # a sync this slow shows in a desk's p99


def sync_latencies(folder: Path, seconds: float) -> list[float]:
    """Milliseconds each 8 kB write + fdatasync took, over `seconds`, in a scratch file in `folder`."""
    path = folder / ".disk-probe"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    latencies: list[float] = []
    try:
        ends_at, block_number = time.monotonic() + seconds, 0
        while time.monotonic() < ends_at:
            os.pwrite(descriptor, BLOCK, (block_number % 1024) * len(BLOCK))
            block_number += 1
            started = time.monotonic()
            os.fdatasync(descriptor)
            latencies.append((time.monotonic() - started) * 1000)
            time.sleep(PAUSE_SECONDS)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)
    return latencies


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)

    return {"syncs": len(ordered), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(ordered[-1], 2),
            "over_50_ms": sum(1 for latency in ordered if latency > SLOW_MS)}


def probe(folder: Path, seconds: float = 10.0) -> dict:
    return {"seconds": seconds, **summary(sync_latencies(folder, seconds))}
