"""Which scenarios a run measures, at which loads, for how long.

Each scenario is a closed loop of virtual users (each sends its next request when the previous one has been
answered, after its think time, if any), stepped through levels of concurrency, except the paced ones: their
desks together are due to lend 500 copies a second, each on its own Poisson schedule, and every checkout is
timed from when it was due (an open loop, so the latency is read at that load and not at saturation):

| scenario | one virtual user | levels are |
|---|---|---|
| ceiling | GET a static file (the generator's own limit) | users |
| search | GET /api/v1/search over the query mix | users |
| search_fts | the same queries as PostgreSQL full-text search (the baseline) | connections |
| opac | OPAC page views: home, results page, record page | users |
| sru | SRU searchRetrieve | users |
| federated | GET /api/v1/federated with one peer: this server | users |
| checkout | a counter desk: check in what a patron returns, lend 1–3 copies | desks |
| checkout_floor | the same writes as bare PostgreSQL transactions (the baseline) | connections |
| lending | a lending desk: patrons in turn borrow 1–3 copies, nothing comes back (the checkout rate) | desks |
| lending_floor | the same checkouts as bare PostgreSQL transactions (the baseline) | connections |
| lending_paced | lending desks sharing 500 checkouts/s, each on a Poisson schedule | desks |
| lending_floor_paced | the same paced checkouts as bare PostgreSQL transactions | connections |
| sip2 | a self-check kiosk: 63 patron information, 09 checkins, 11 checkouts | kiosks |
| opening_day | all at once, with think times: OPAC users / desks / kiosks | one mix |

A plan is written `name=LEVELS@SECONDS`, entries separated by spaces or semicolons, for example
`search=1,8,32,64@20 checkout=1,16@20 opening_day=200/16/4@300`; a bare name takes its tier's default. The
opening day's one level is `OPAC users/desks/kiosks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

SCENARIOS = ("ceiling", "search", "search_fts", "opac", "sru", "federated", "checkout", "checkout_floor", "lending",
             "lending_floor", "lending_paced", "lending_floor_paced", "sip2", "opening_day")
# their desks' stock is drawn for each step
LENDING_SCENARIOS = ("lending", "lending_floor", "lending_paced", "lending_floor_paced")
TIERS = ("demo", "S", "L")
WARMUP_SECONDS = 3.0  # each step's first seconds warm pools and caches; their samples are not counted
SMALLEST_STEP_SECONDS = 2.0


class PlanError(ValueError):
    """A plan entry could not be read; the message names the entry and what was expected."""


@dataclass(frozen=True)
class ScenarioPlan:
    name: str
    levels: tuple[int, ...]  # concurrency per step; for the opening day: (OPAC users, desks, kiosks)
    seconds: float  # measured seconds per step, warm-up excluded

    @property
    def steps(self) -> tuple[tuple[int, ...], ...]:
        """The levels one step at a time: one step for the opening day, one per level otherwise."""
        return (self.levels,) if self.name == "opening_day" else tuple((level,) for level in self.levels)

    def describe(self) -> str:
        joined = "/".join(map(str, self.levels)) if self.name == "opening_day" else ",".join(map(str, self.levels))
        return f"{self.name}={joined}@{self.seconds:g}"


_DEFAULTS = {
    # tier S: the whole `make loadtest TIER=S` (load included) has to end within 20 minutes on 2 cores.
    # The steps with targets (search at 64 users, checkout at 16 desks) get 20 s, the lending desks 15 s, the rest
    # 10 s or less: 10 minutes.
    "S": "ceiling=64@8 search=1,8,32,64@20 search_fts=1,8,32,64@10 opac=1,8,32,64@10 sru=1,8,32@10 "
         "federated=1,4,16@10 checkout=1,4,8,16@20 checkout_floor=1,4,8,16@10 lending=1,8@15 lending_floor=8@10 "
         "lending_paced=8@15 lending_floor_paced=8@8 "
         "sip2=1,2,4@10 opening_day=200/16/4@60",
    "L": "ceiling=64@10 search=1,8,32,64@30 search_fts=1,8,32,64@20 opac=1,8,32,64@20 sru=1,8,32@20 "
         "federated=1,4,16@20 checkout=1,4,8,16@30 checkout_floor=1,4,8,16@20 lending=1,8@30 lending_floor=8@20 "
         "lending_paced=8@30 lending_floor_paced=8@20 "
         "sip2=1,2,4@20 opening_day=200/16/4@300",
}
_DEFAULTS["demo"] = _DEFAULTS["S"]

_ENTRY = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:=(?P<levels>[0-9,/]+))?(?:@(?P<seconds>[0-9]+(?:\.[0-9]+)?)s?)?$")


def _parse_levels(name: str, text: str, entry: str) -> tuple[int, ...]:
    separator = "/" if name == "opening_day" else ","
    parts = text.split(separator)
    if not all(part.isdigit() for part in parts):
        expected = "OPAC users/desks/kiosks, e.g. 200/16/4" if name == "opening_day" else "numbers joined by commas"
        raise PlanError(f"{entry!r}: levels must be {expected}")
    levels = tuple(int(part) for part in parts)
    if name == "opening_day":
        if len(levels) != 3:
            raise PlanError(f"{entry!r}: the opening day takes OPAC users/desks/kiosks, e.g. 200/16/4")
        if sum(levels) == 0:
            raise PlanError(f"{entry!r}: the opening day needs at least one user")
    elif any(level < 1 for level in levels):
        raise PlanError(f"{entry!r}: every level needs at least one user")
    return levels


def parse_entry(entry: str, defaults: dict[str, ScenarioPlan] | None = None) -> ScenarioPlan:
    match = _ENTRY.match(entry.strip())
    if match is None:
        raise PlanError(f"{entry!r}: expected NAME, NAME=LEVELS, NAME@SECONDS or NAME=LEVELS@SECONDS")
    name = match["name"]
    if name not in SCENARIOS:
        raise PlanError(f"{entry!r}: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    default = (defaults or {}).get(name)
    if default is None and (match["levels"] is None or match["seconds"] is None):
        raise PlanError(f"{entry!r}: no default for {name}; give both levels and seconds")
    levels = _parse_levels(name, match["levels"], entry) if match["levels"] else default.levels
    seconds = float(match["seconds"]) if match["seconds"] else default.seconds
    if seconds <= 0:
        raise PlanError(f"{entry!r}: seconds must be positive")
    return ScenarioPlan(name, levels, seconds)


def parse_plan(text: str, defaults: dict[str, ScenarioPlan] | None = None) -> list[ScenarioPlan]:
    """The scenarios a text names, in the canonical order of SCENARIOS (baselines beside what they compare
    with); a scenario named twice keeps the later entry."""
    chosen: dict[str, ScenarioPlan] = {}
    for entry in re.split(r"[\s;]+", text.strip()):
        if entry:
            plan = parse_entry(entry, defaults)
            chosen[plan.name] = plan
    if not chosen:
        raise PlanError("the plan names no scenario")
    return [chosen[name] for name in SCENARIOS if name in chosen]


def default_plan(tier: str) -> list[ScenarioPlan]:
    if tier not in _DEFAULTS:
        raise PlanError(f"unknown tier {tier!r}; known: {', '.join(TIERS)}")
    return parse_plan(_DEFAULTS[tier])


def tier_plan(tier: str, text: str | None, scale: float = 1.0) -> list[ScenarioPlan]:
    """The plan for a run: the tier's defaults, or the scenarios `text` names (bare names take the defaults),
    with every step's seconds multiplied by `scale` (a quick trial: scale 0.2) but never below two seconds."""
    if scale <= 0:
        raise PlanError(f"scale {scale} must be positive")
    defaults = {plan.name: plan for plan in default_plan(tier)}
    plans = parse_plan(text, defaults) if text and text.strip() else list(defaults.values())
    return [replace(plan, seconds=max(SMALLEST_STEP_SECONDS, round(plan.seconds * scale, 1))) for plan in plans]


def warmup_seconds(step_seconds: float) -> float:
    """Warm-up before a step's measured window: WARMUP_SECONDS, shorter for very short trial steps."""
    return min(WARMUP_SECONDS, max(1.0, step_seconds / 4))


def planned_seconds(plans: list[ScenarioPlan]) -> float:
    """How long the scenarios take, warm-ups included (not the setup around them)."""
    return sum((plan.seconds + warmup_seconds(plan.seconds)) * len(plan.steps) for plan in plans)
