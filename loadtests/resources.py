"""CPU and memory of the service, PostgreSQL and the load generator during each measured window (psutil).

Process groups are found afresh at every sample, so processes that come and go (PostgreSQL backends, a
respawned worker) are counted: the service is `shoka serve` and every process under it, split into the HTTP
workers and the SIP2 server; PostgreSQL is the postmaster and its children; the generator is this process and
its generator processes. CPU is CPU time used within the window divided by the window's length, in cores (1.0
is one core busy throughout; the machine has `os.cpu_count()`). A process first seen after the window began and
started after it counts from zero; processes that exit between samples lose at most one interval.

Memory is resident memory with shared pages counted once per group: the sum over processes of (RSS − shared)
plus the largest shared part — PostgreSQL's backends all map the same shared buffers, and summing their RSS
would count those many times. Its peak and mean over the window are reported.

The machine's busy time over the window, less what the three groups used, is "other": builds and tests of
other people on the same two cores. It says how far a figure can be trusted.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

import psutil

SAMPLE_SECONDS = 0.5
MEGABYTE = 1024 * 1024

ProcessFinder = Callable[[], list[psutil.Process]]


def tree(pid: int) -> list[psutil.Process]:
    """A process and all its descendants; empty when it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def is_sip2(process: psutil.Process) -> bool:
    try:
        return any("shoka.sip2" in part for part in process.cmdline())
    except psutil.Error:
        return False


def busy_seconds(times) -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, from psutil.cpu_times()."""
    total = sum(times)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


class ResourceSampler:
    def __init__(self, groups: dict[str, ProcessFinder]) -> None:
        self.groups = groups
        self._lock = threading.Lock()
        self._active = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="resource-sampler", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def begin(self) -> None:
        with self._lock:
            self._started_wall = time.time()
            self._started = time.monotonic()
            self._machine_start = busy_seconds(psutil.cpu_times())
            self._first: dict[tuple[int, float], float] = {}
            self._last: dict[tuple[int, float], float] = {}
            self._group_of: dict[tuple[int, float], str] = {}
            self._memory: dict[str, list[float]] = {name: [] for name in self.groups}
            self._counts: dict[str, int] = {name: 0 for name in self.groups}
            self._active = True
            self._sample(at_begin=True)

    def end(self) -> dict:
        with self._lock:
            self._sample(at_begin=False)
            self._active = False
            seconds = time.monotonic() - self._started
            busy_end, total_end = busy_seconds(psutil.cpu_times())
            busy_start, total_start = self._machine_start
            cores = os.cpu_count() or 1
            elapsed = total_end - total_start
            machine_busy = (busy_end - busy_start) / elapsed * cores if elapsed > 0 else 0.0
            used: dict[str, float] = {name: 0.0 for name in self.groups}
            for key, last in self._last.items():
                used[self._group_of[key]] += max(0.0, last - self._first[key])
            figures = {name: {"cpu_cores": round(used[name] / seconds, 2),
                              "memory_mb_peak": round(max(self._memory[name], default=0.0)),
                              "memory_mb_mean": round(sum(self._memory[name]) / len(self._memory[name]))
                              if self._memory[name] else 0,
                              "processes": self._counts[name]}
                       for name in self.groups}
            accounted = sum(used.values()) / seconds
            return {"seconds": round(seconds, 1), "groups": figures,
                    "machine": {"cores": cores, "busy_cores": round(machine_busy, 2),
                                "other_cores": round(max(0.0, machine_busy - accounted), 2),
                                "load_average_1m": round(os.getloadavg()[0], 2)}}

    def _loop(self) -> None:
        while not self._stopped.wait(SAMPLE_SECONDS):
            with self._lock:
                if self._active:
                    self._sample(at_begin=False)

    def _sample(self, at_begin: bool) -> None:
        for name, find in self.groups.items():
            private, largest_shared, count = 0.0, 0.0, 0
            for process in find():
                try:
                    with process.oneshot():
                        key = (process.pid, process.create_time())
                        times = process.cpu_times()
                        memory = process.memory_info()
                except psutil.Error:
                    continue
                cpu = times.user + times.system
                if key not in self._first:
                    started_before = key[1] < self._started_wall
                    self._first[key] = cpu if (at_begin or started_before) else 0.0
                    self._group_of[key] = name
                self._last[key] = cpu
                private += memory.rss - memory.shared
                largest_shared = max(largest_shared, memory.shared)
                count += 1
            self._memory[name].append((private + largest_shared) / MEGABYTE)
            self._counts[name] = max(self._counts[name], count)
