"""What every virtual user shares: where the service is, how a request is timed and classified, think time.

A workload is a frozen dataclass (sent to the generator processes as it is) with one coroutine,
`run_user(user)`, that loops until `user.stop_at` and records every request through `user.timed_http` or
`user.record`. The generator runs many users of one or several workloads in each process (see generator.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from loadtests.http_client import Answer, HttpConnection, ProtocolViolation
from loadtests.stats import Outcome

REQUEST_TIMEOUT_SECONDS = 30.0
PAUSE_AFTER_ERROR_SECONDS = 0.1  # an error must not turn a user into a tight loop of failures
REFUSAL_STATUSES = frozenset({409, 422})  # circulation refusals: answers with a business reason, not errors

# (kind, sent_at, seconds, outcome, detail): plain tuples, cheap to keep and to send between processes
RawSample = tuple[str, float, float, int, str]


@dataclass(frozen=True)
class Endpoint:
    host: str
    http_port: int
    sip2_port: int | None = None
    database_url: str | None = None  # for the PostgreSQL baselines


class Workload(Protocol):
    async def run_user(self, user: "VirtualUser") -> None: ...


class VirtualUser:
    def __init__(self, endpoint: Endpoint, index: int, seed: int, stop_at: float,
                 record: Callable[[RawSample], None]) -> None:
        self.endpoint, self.index, self.stop_at = endpoint, index, stop_at
        self.random = random.Random(seed * 100_003 + index)
        self._record = record
        self._next_due: float | None = None

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    def http(self) -> HttpConnection:
        return HttpConnection(self.endpoint.host, self.endpoint.http_port, REQUEST_TIMEOUT_SECONDS)

    def record(self, kind: str, sent_at: float, seconds: float, outcome: Outcome, detail: str = "") -> None:
        self._record((kind, sent_at, seconds, int(outcome), detail))

    async def think(self, seconds: tuple[float, float]) -> None:
        """Wait as a person would between two requests, uniformly in the range, never past the stop time."""
        low, high = seconds
        if high <= 0:
            return
        pause = min(self.random.uniform(low, high), max(0.0, self.stop_at - time.monotonic()))
        await asyncio.sleep(pause)

    async def on_schedule(self, per_second: float) -> float | None:
        """An open loop: waits for this user's next turn on a Poisson schedule of `per_second` (exponential gaps
        from the previous turn, not from the previous answer) and returns the moment the turn was due. A request
        timed from that moment (`timed_http(due_at=…)`) counts the time it waited behind a late answer too, so
        a slow answer shows in every request it held up instead of hiding them (coordinated omission). At 0 per
        second the user is not paced (a closed loop): None, at once."""
        if not per_second:
            return None
        now = time.monotonic()
        if self._next_due is None:
            self._next_due = now + self.random.expovariate(per_second)
        due_at = self._next_due
        self._next_due += self.random.expovariate(per_second)
        if due_at > now:
            await asyncio.sleep(due_at - now)
        return due_at

    async def pause_after_error(self) -> None:
        await asyncio.sleep(PAUSE_AFTER_ERROR_SECONDS)

    async def timed_http(self, connection: HttpConnection, kind: str, method: str, target: str, *,
                         headers: dict[str, str] | None = None, document: object = None,
                         refusals: frozenset[int] = frozenset(),
                         check: Callable[[Answer], str | None] | None = None,
                         due_at: float | None = None) -> Answer | None:
        """One request, recorded: below 400 is OK, a status in `refusals` is REFUSED (detail: the answer's
        `code`), anything else — or no answer — is an ERROR. `check` may find a problem in an answer that came
        back below 400 (an SRU diagnostic, a peer that failed), which makes it an ERROR too. A paced request is
        timed from `due_at` (see on_schedule), not from when it could be sent. Returns the answer, or None on
        an error."""
        body = b"" if document is None else json.dumps(document, ensure_ascii=False).encode()
        if document is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        sent_at = time.monotonic() if due_at is None else due_at
        try:
            answer = await connection.request(method, target, headers, body)
        except TimeoutError:
            return await self._failed(connection, kind, sent_at, "timeout")
        except (OSError, ProtocolViolation, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            return await self._failed(connection, kind, sent_at, type(error).__name__)
        seconds = time.monotonic() - sent_at
        if answer.status < 400:
            problem = check(answer) if check is not None else None
            if problem is None:
                self.record(kind, sent_at, seconds, Outcome.OK)
                return answer
            self.record(kind, sent_at, seconds, Outcome.ERROR, problem)
            await self.pause_after_error()
            return None
        if answer.status in refusals:
            self.record(kind, sent_at, seconds, Outcome.REFUSED, refusal_code(answer))
            return answer
        self.record(kind, sent_at, seconds, Outcome.ERROR, f"HTTP {answer.status}")
        await self.pause_after_error()
        return None

    async def _failed(self, connection: HttpConnection, kind: str, sent_at: float, detail: str) -> None:
        self.record(kind, sent_at, time.monotonic() - sent_at, Outcome.ERROR, detail)
        await connection.close()  # whatever was half-read must not be taken for the next answer
        await self.pause_after_error()
        return None


def refusal_code(answer: Answer) -> str:
    try:
        return str(answer.json().get("code") or f"HTTP {answer.status}")
    except (ValueError, AttributeError):
        return f"HTTP {answer.status}"
