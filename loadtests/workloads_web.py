"""Virtual users of the catalogue: the generator's ceiling on a static file, API search, OPAC page views, SRU,
federated search, and the PostgreSQL full-text baseline over the same queries.

Targets (paths with their query strings) are prepared once by the runner from the query mix, so a user only
picks the next one: user i starts at its own offset in the list and walks it in order.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from loadtests.http_client import Answer
from loadtests.stats import Outcome
from loadtests.virtual_user import VirtualUser

RECORD_LINK = re.compile(rb'href="/bibs/(\d+)')


@dataclass(frozen=True)
class FetchTargets:
    """GET one target after another, each answer checked only for its status (and, for SRU and federated
    search, for a diagnostic or a peer that failed, which are errors too)."""

    kind: str
    targets: tuple[str, ...]
    think_seconds: tuple[float, float] = (0.0, 0.0)

    async def run_user(self, user: VirtualUser) -> None:
        connection = user.http()
        position = user.index * 37
        try:
            while user.running():
                target = self.targets[position % len(self.targets)]
                position += 1
                await user.timed_http(connection, self.kind, "GET", target, check=self._problem)
                await user.think(self.think_seconds)
        finally:
            await connection.close()

    def _problem(self, answer: Answer) -> str | None:
        """What makes a 200 a failure all the same: an SRU diagnostic, a federated peer that did not answer."""
        if self.kind == "sru" and b"<diagnostics" in answer.body:
            return "SRU diagnostic"
        if self.kind == "federated":
            failed = [library for library in answer.json().get("libraries", []) if library.get("status") != "ok"]
            if failed:
                return f"peer {failed[0].get('status')}: {failed[0].get('message', '')[:60]}"
        return None


@dataclass(frozen=True)
class OpacVisitor:
    """A person at the OPAC: sometimes the home page first, then a search (results page), then usually one of
    the records found (its page), with think time between pages. A single hit's redirect is followed, as the
    browser does, and counted as a record page view."""

    search_targets: tuple[str, ...]
    fallback_record_ids: tuple[int, ...]
    think_seconds: tuple[float, float] = (0.0, 0.0)
    home_share: float = 0.3
    record_share: float = 0.7

    async def run_user(self, user: VirtualUser) -> None:
        connection = user.http()
        position = user.index * 53
        try:
            while user.running():
                if user.random.random() < self.home_share:
                    await user.timed_http(connection, "opac_home", "GET", "/")
                    await user.think(self.think_seconds)
                    if not user.running():
                        break
                target = self.search_targets[position % len(self.search_targets)]
                position += 1
                answer = await user.timed_http(connection, "opac_search", "GET", target)
                await user.think(self.think_seconds)
                if answer is None or not user.running():
                    continue
                if answer.status in (301, 302, 303) and "location" in answer.headers:
                    await user.timed_http(connection, "opac_record", "GET", answer.headers["location"])
                elif user.random.random() < self.record_share:
                    found = RECORD_LINK.findall(answer.body)
                    record_id = (int(user.random.choice(found)) if found
                                 else user.random.choice(self.fallback_record_ids))
                    await user.timed_http(connection, "opac_record", "GET", f"/bibs/{record_id}")
                else:
                    continue
                await user.think(self.think_seconds)
        finally:
            await connection.close()


@dataclass(frozen=True)
class FullTextBaseline:
    """The PostgreSQL baseline under the same closed loop: one connection per user, each query a count and a
    ranked page (see fts_baseline.statements), prepared by the runner as (count, page, parameters)."""

    statements: tuple[tuple[str, str, dict], ...]

    async def run_user(self, user: VirtualUser) -> None:
        import psycopg  # only these users need it in the generator processes

        position = user.index * 37
        async with await psycopg.AsyncConnection.connect(user.endpoint.database_url, autocommit=True) as connection:
            while user.running():
                count, page, parameters = self.statements[position % len(self.statements)]
                position += 1
                sent_at = time.monotonic()
                try:
                    await (await connection.execute(count, parameters)).fetchone()
                    await (await connection.execute(page, parameters)).fetchall()
                except psycopg.Error as error:
                    user.record("search_fts", sent_at, time.monotonic() - sent_at, Outcome.ERROR, type(error).__name__)
                    if connection.broken:
                        return
                    continue
                user.record("search_fts", sent_at, time.monotonic() - sent_at, Outcome.OK)
