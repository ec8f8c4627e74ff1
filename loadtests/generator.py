"""The load generator: a few processes, each running many virtual users on one asyncio loop (uvloop, as the
server's processes), driven step by step by the runner.

One step: the runner hands every process its share of the users (user i goes to process i mod P), each process
opens nothing yet and says it is ready, the runner names one start time, the users arrive at random moments in
the first part of the warm-up (two hundred users sending their first request in the same millisecond is no
opening day), and from then on every user loops until the end of warm-up plus the measured window. Samples come
back as plain tuples; the runner keeps those sent in the window. Several processes, because one Python process
tops out at a few thousand requests a second and on two cores the generator must never be what limits the
figures (the `ceiling` scenario checks it every run).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

import uvloop

from loadtests.virtual_user import Endpoint, RawSample, VirtualUser, Workload

START_DELAY_SECONDS = 0.3  # time for the start message to reach every process
GRACE_SECONDS = 90.0  # after the window: in-flight requests (30 s time-out) and the stations' returns
RAMP_SHARE_OF_WARMUP = 0.6  # users arrive over the first 60 % of the warm-up, then all of them run a while


@dataclass(frozen=True)
class UserGroup:
    workload: Workload
    users: int


@dataclass(frozen=True)
class Order:
    """One process's part of a step: per group, which of its users (by index) this process runs."""

    endpoint: Endpoint
    groups: tuple[tuple[Workload, tuple[int, ...]], ...]
    seed: int
    run_seconds: float  # warm-up and measured window
    ramp_seconds: float  # users start spread over this time, as people arrive, not all in one instant


@dataclass
class StepResult:
    samples: list[RawSample]
    window: tuple[float, float]
    failures: list[str]  # users that crashed: a harness bug, reported as such


def share(users: int, processes: int) -> list[tuple[int, ...]]:
    """User indices per process, in turn: 5 users over 2 processes → (0, 2, 4), (1, 3)."""
    return [tuple(range(process, users, processes)) for process in range(processes)]


async def _run_order(order: Order, pipe: Connection) -> tuple[list[RawSample], list[str]]:
    loop = asyncio.get_running_loop()
    pipe.send(("ready", os.getpid()))
    start_at = await loop.run_in_executor(None, pipe.recv)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    stop_at = start_at + order.run_seconds
    samples: list[RawSample] = []

    async def arrive(workload: Workload, user: VirtualUser) -> None:
        await asyncio.sleep(user.random.uniform(0.0, order.ramp_seconds))
        await workload.run_user(user)

    tasks = [asyncio.create_task(arrive(workload, VirtualUser(order.endpoint, index, order.seed, stop_at,
                                                             samples.append)))
             for workload, indices in order.groups for index in indices]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [f"{type(outcome).__name__}: {outcome}" for outcome in outcomes if isinstance(outcome, BaseException)]
    return samples, failures


def _worker(pipe: Connection) -> None:
    while (order := pipe.recv()) is not None:
        try:
            samples, failures = uvloop.run(_run_order(order, pipe))
        except Exception:  # a harness bug: the runner stops with this process's traceback
            pipe.send(("failed", traceback.format_exc()))
            continue
        pipe.send(("done", samples, failures))


class Generator:
    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("the generator needs at least one process")
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads and open sockets
        self._pipes: list[Connection] = []
        self._processes = []
        for number in range(processes):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_worker, args=(child_end,), name=f"loadtest-generator-{number}",
                                      daemon=True)
            process.start()
            self._pipes.append(parent_end)
            self._processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    def run_step(self, endpoint: Endpoint, groups: list[UserGroup], warmup: float, seconds: float, seed: int,
                 on_window=None) -> StepResult:
        """Run one step; `on_window(start, end)` is called in this process during the step and may sleep
        through the window (the resource sampler marks its edges that way)."""
        shares = [share(group.users, len(self._pipes)) for group in groups]
        busy = [number for number in range(len(self._pipes)) if any(parts[number] for parts in shares)]
        for number in busy:
            self._pipes[number].send(Order(endpoint, tuple((group.workload, parts[number])
                                                           for group, parts in zip(groups, shares) if parts[number]),
                                           seed, warmup + seconds, warmup * RAMP_SHARE_OF_WARMUP))
        for number in busy:
            self._expect(number, "ready", 120.0)
        start_at = time.monotonic() + START_DELAY_SECONDS
        for number in busy:
            self._pipes[number].send(start_at)
        window = (start_at + warmup, start_at + warmup + seconds)
        if on_window is not None:
            on_window(*window)
        samples: list[RawSample] = []
        failures: list[str] = []
        for number in busy:
            _, process_samples, process_failures = self._expect(number, "done",
                                                                max(0.0, window[1] - time.monotonic()) + GRACE_SECONDS)
            samples.extend(process_samples)
            failures.extend(process_failures)
        return StepResult(samples, window, failures)

    def _expect(self, number: int, what: str, timeout_seconds: float) -> tuple:
        pipe = self._pipes[number]
        if not pipe.poll(timeout_seconds):
            raise RuntimeError(f"generator process {number} sent no '{what}' within {timeout_seconds:.0f} s")
        message = pipe.recv()
        if message[0] == "failed":
            raise RuntimeError(f"generator process {number} failed:\n{message[1]}")
        if message[0] != what:
            raise RuntimeError(f"generator process {number} sent {message[0]!r}, expected {what!r}")
        return message

    def close(self) -> None:
        for pipe in self._pipes:
            try:
                pipe.send(None)
            except (BrokenPipeError, OSError):
                pass
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
