"""From a plan's step to the virtual users that run it, over data prepared once per run (queries, stations,
credentials). The think times of the opening day live here, with the reasons for them."""

from __future__ import annotations

from dataclasses import dataclass

from shoka.catalogue.search_models import SearchRequest

from loadtests import fts_baseline, query_mix
from loadtests.generator import UserGroup
from loadtests.library_data import Station
from loadtests.plan import ScenarioPlan
from loadtests.workloads_circulation import CounterDesks, FloorDesks, SelfCheckKiosks
from loadtests.workloads_web import FetchTargets, FullTextBaseline, OpacVisitor

STATIC_FILE = "/static/opac.css"  # the generator's ceiling: the cheapest answer the service gives
# Opening day think times: a person reads a results page or a record for one to three seconds before the next
# click; a counter librarian scans the next barcode within one to two seconds on a busy morning; a patron at a
# kiosk places the next book within two to four seconds.
OPAC_THINK_SECONDS = (1.0, 3.0)
DESK_THINK_SECONDS = (1.0, 2.0)
KIOSK_THINK_SECONDS = (2.0, 4.0)
# The paced lending steps: the desks together are due to lend this many copies a second (the counter's target
# rate, unless a run asks for another: `--paced-rate`), each on its own Poisson schedule, so latency is read at
# that load rather than at saturation.
PACED_CHECKOUTS_PER_SECOND = 500.0


@dataclass(frozen=True)
class Prepared:
    queries: tuple[SearchRequest, ...]
    record_ids: tuple[int, ...]
    staff_token: str
    desks: tuple[Station, ...]
    floor_desks: tuple[Station, ...]
    kiosks: tuple[Station, ...]
    sip2_user: str
    sip2_password: str
    lenders: tuple[Station, ...] = ()  # drawn for each step of a lending scenario (runner.draw_lenders)
    paced_checkouts_per_second: float = PACED_CHECKOUTS_PER_SECOND

    def targets(self, render) -> tuple[str, ...]:
        return tuple(render(request) for request in self.queries)

    def fts_statements(self) -> tuple[tuple[str, str, dict], ...]:
        return tuple(prepared for request in self.queries if (prepared := fts_baseline.statements(request)))


def stations_needed(plans: list[ScenarioPlan]) -> dict[str, int]:
    """How many desks, floor connections and kiosks the plan's largest steps use."""
    needed = {"desks": 0, "floor_desks": 0, "kiosks": 0}
    for plan in plans:
        if plan.name == "checkout":
            needed["desks"] = max(needed["desks"], *plan.levels)
        elif plan.name == "checkout_floor":
            needed["floor_desks"] = max(needed["floor_desks"], *plan.levels)
        elif plan.name == "sip2":
            needed["kiosks"] = max(needed["kiosks"], *plan.levels)
        elif plan.name == "opening_day":
            needed["desks"] = max(needed["desks"], plan.levels[1])
            needed["kiosks"] = max(needed["kiosks"], plan.levels[2])
    return needed


def step_groups(name: str, level: tuple[int, ...], prepared: Prepared) -> list[UserGroup]:
    """The user groups of one step of scenario `name` at `level`."""
    if name == "ceiling":
        return [UserGroup(FetchTargets("static", (STATIC_FILE,)), level[0])]
    if name == "search":
        return [UserGroup(FetchTargets("search", prepared.targets(query_mix.api_target)), level[0])]
    if name == "search_fts":
        return [UserGroup(FullTextBaseline(prepared.fts_statements()), level[0])]
    if name == "opac":
        return [UserGroup(OpacVisitor(prepared.targets(query_mix.opac_target), prepared.record_ids), level[0])]
    if name == "sru":
        return [UserGroup(FetchTargets("sru", prepared.targets(query_mix.sru_target)), level[0])]
    if name == "federated":
        return [UserGroup(FetchTargets("federated", prepared.targets(query_mix.federated_target)), level[0])]
    if name == "checkout":
        return [UserGroup(CounterDesks(prepared.desks, prepared.staff_token), level[0])]
    if name == "checkout_floor":
        return [UserGroup(FloorDesks(prepared.floor_desks), level[0])]
    if name == "lending":
        return [UserGroup(CounterDesks(prepared.lenders, prepared.staff_token, lend_only=True), level[0])]
    if name == "lending_floor":
        return [UserGroup(FloorDesks(prepared.lenders, lend_only=True), level[0])]
    if name == "lending_paced":
        return [UserGroup(CounterDesks(prepared.lenders, prepared.staff_token, lend_only=True,
                                       requests_per_second=prepared.paced_checkouts_per_second / level[0]),
                          level[0])]
    if name == "lending_floor_paced":
        return [UserGroup(FloorDesks(prepared.lenders, lend_only=True,
                                     requests_per_second=prepared.paced_checkouts_per_second / level[0]),
                          level[0])]
    if name == "sip2":
        return [UserGroup(SelfCheckKiosks(prepared.kiosks, prepared.sip2_user, prepared.sip2_password), level[0])]
    if name == "opening_day":
        opac_users, desks, kiosks = level
        groups = []
        if opac_users:
            groups.append(UserGroup(OpacVisitor(prepared.targets(query_mix.opac_target), prepared.record_ids,
                                                think_seconds=OPAC_THINK_SECONDS), opac_users))
        if desks:
            groups.append(UserGroup(CounterDesks(prepared.desks, prepared.staff_token,
                                                 think_seconds=DESK_THINK_SECONDS), desks))
        if kiosks:
            groups.append(UserGroup(SelfCheckKiosks(prepared.kiosks, prepared.sip2_user, prepared.sip2_password,
                                                    think_seconds=KIOSK_THINK_SECONDS), kiosks))
        return groups
    raise ValueError(f"unknown scenario {name!r}")


def think_times() -> dict[str, list[float]]:
    """The opening day's think times, for the report."""
    return {"opac_user": list(OPAC_THINK_SECONDS), "desk": list(DESK_THINK_SECONDS),
            "kiosk": list(KIOSK_THINK_SECONDS)}
