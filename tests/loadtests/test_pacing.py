"""Paced virtual users (an open loop): turns fall on a Poisson schedule of their own, whatever the answers do, and
a request is timed from when it was due, so one slow answer shows in every request it held up."""

import asyncio
import time

from loadtests.http_client import Answer
from loadtests.virtual_user import Endpoint, VirtualUser


def paced_user(samples: list) -> VirtualUser:
    return VirtualUser(Endpoint("127.0.0.1", 1), index=0, seed=7, stop_at=time.monotonic() + 60,
                       record=samples.append)


def test_turns_fall_on_the_schedule_at_the_rate_asked_for():
    async def turns():
        user = paced_user([])
        return [await user.on_schedule(5000.0) for _ in range(2000)]

    async def unpaced():
        return await paced_user([]).on_schedule(0.0)

    assert asyncio.run(unpaced()) is None  # not paced: no turn to wait for
    due = asyncio.run(turns())
    gaps = [later - earlier for earlier, later in zip(due, due[1:])]
    assert all(gap >= 0 for gap in gaps)
    assert abs(sum(gaps) / len(gaps) - 1 / 5000) < 0.1 / 5000  # exponential gaps, mean 1/rate
    assert max(gaps) > 3 / 5000 and min(gaps) < 0.2 / 5000  # not evenly spaced: Poisson arrivals


class SlowFirstAnswer:
    """A connection whose first answer takes 0.3 s and every later one none."""

    def __init__(self) -> None:
        self.answered = 0

    async def request(self, method, target, headers, body) -> Answer:
        if self.answered == 0:
            await asyncio.sleep(0.3)
        self.answered += 1
        return Answer(201, {}, b"{}")


def test_a_request_held_up_by_a_slow_answer_is_timed_from_when_it_was_due():
    samples: list = []

    async def two_scans():
        user, connection = paced_user(samples), SlowFirstAnswer()
        for _ in range(2):
            await user.timed_http(connection, "checkout", "POST", "/", due_at=await user.on_schedule(1000.0))

    asyncio.run(two_scans())
    (_, first_due, first_seconds, _, _), (_, second_due, second_seconds, _, _) = samples
    assert first_seconds >= 0.3
    # The second scan was due about a millisecond after the first and waited behind it: its answer took no time,
    # yet it is timed from when it was due.
    assert second_due - first_due < 0.05 and second_seconds >= 0.3 - (second_due - first_due)
