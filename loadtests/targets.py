"""The issue's targets, judged from a run's results, and — for each one missed — why, read off the same results.

Targets (issue #8): at tier S, search p99 ≤ 50 ms at 64 concurrent users, checkout p99 ≤ 30 ms at 16 desks, no
errors anywhere; at tier L, the opening day holds p99 ≤ 300 ms for every request type (the opening day of a tier-S
run is judged by the same bound, as a preview).

The explanation of a miss is built from measurements only: latency with one user (is the time in the request
itself, or in queueing?), whether throughput still grew with more users, how busy the two cores were and with
what (service, PostgreSQL, the generator, other people's work), the PostgreSQL baseline at the same load, and,
by Little's law for a closed loop (users in flight = throughput × latency), the throughput and cores the target
would need at the CPU cost per request that was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEARCH_P99_MS, SEARCH_USERS = 50.0, 64
CHECKOUT_P99_MS, CHECKOUT_DESKS = 30.0, 16
OPENING_DAY_P99_MS = 300.0
SATURATED_SHARE = 0.85  # busy cores / all cores from which the machine counts as saturated
NOTABLE_OTHER_CORES = 0.25
NOTABLE_GENERATOR_CORES = 0.3
PERSON_THINK_SECONDS = 10.0  # a person reading a results page before the next search


@dataclass
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run
    reasons: list[str] = field(default_factory=list)


def find_step(results: dict, scenario: str, level: tuple[int, ...] | None = None) -> dict | None:
    for step in results.get("steps", []):
        if step["scenario"] == scenario and (level is None or tuple(step["level"]) == level):
            return step
    return None


def steps_of(results: dict, scenario: str) -> list[dict]:
    return sorted((step for step in results.get("steps", []) if step["scenario"] == scenario),
                  key=lambda step: step["level"])


def service_cores(step: dict) -> float:
    groups = step["resources"]["groups"]
    return groups["service_http"]["cpu_cores"] + groups["service_sip2"]["cpu_cores"] + groups["postgresql"]["cpu_cores"]


def machine_reasons(step: dict) -> list[str]:
    """What the machine was doing during the step: saturation, other people's work, the generator's share."""
    resources = step["resources"]
    groups, machine = resources["groups"], resources["machine"]
    reasons = []
    busy, cores = machine["busy_cores"], machine["cores"]
    if busy >= SATURATED_SHARE * cores:
        reasons.append(
            f"the machine was saturated: {busy:.2f} of {cores} cores busy — the service's HTTP workers "
            f"{groups['service_http']['cpu_cores']:.2f}, SIP2 {groups['service_sip2']['cpu_cores']:.2f}, PostgreSQL "
            f"{groups['postgresql']['cpu_cores']:.2f}, the load generator {groups['generator']['cpu_cores']:.2f}, "
            f"other processes {machine['other_cores']:.2f}; requests waited for a core")
    if machine["other_cores"] >= NOTABLE_OTHER_CORES:
        reasons.append(f"other processes on the machine took {machine['other_cores']:.2f} cores during the step "
                       f"(a contended run): the same step on a quiet machine would be faster")
    if groups["generator"]["cpu_cores"] >= NOTABLE_GENERATOR_CORES:
        reasons.append(f"the load generator itself used {groups['generator']['cpu_cores']:.2f} cores of the same "
                       f"machine; a generator on another machine would leave them to the service")
    return reasons


def scaling_reasons(results: dict, scenario: str, kind: str, level: int) -> list[str]:
    """One user's latency and where throughput stopped growing, across the scenario's steps up to `level`."""
    steps = [step for step in steps_of(results, scenario) if step["level"][0] <= level and kind in step["by_kind"]]
    reasons = []
    single = next((step for step in steps if step["level"][0] == 1), None)
    if single is not None:
        reasons.append(f"one user alone sees p50 {single['by_kind'][kind]['p50_ms']} ms, p99 "
                       f"{single['by_kind'][kind]['p99_ms']} ms")
    for previous, current in zip(steps, steps[1:]):
        before, after = previous["by_kind"][kind]["throughput_per_s"], current["by_kind"][kind]["throughput_per_s"]
        users_ratio = current["level"][0] / previous["level"][0]
        if before > 0 and users_ratio >= 2 and after / before < 1.25:
            reasons.append(f"throughput stopped growing from {previous['level'][0]} to {current['level'][0]} users "
                           f"({before:g}/s → {after:g}/s): beyond that, more users only queue")
            break
    return reasons


def little_law_reason(step: dict, kind: str, users: int, target_ms: float) -> str | None:
    """The throughput and cores a closed loop of `users` needs for its p99 to meet the target, at the measured
    p99/mean ratio and CPU cost per request."""
    summary = step["by_kind"].get(kind)
    throughput = sum(figures["throughput_per_s"] for figures in step["by_kind"].values())
    if not summary or not summary["mean_ms"] or not throughput:
        return None
    tail = summary["p99_ms"] / summary["mean_ms"]
    needed_mean_ms = target_ms / tail
    needed_throughput = users / (needed_mean_ms / 1000)
    cost_ms = service_cores(step) / throughput * 1000
    needed_cores = needed_throughput * cost_ms / 1000
    people = throughput * (PERSON_THINK_SECONDS + summary["mean_ms"] / 1000)
    return (f"with {users} users and no think time, {users} requests are always in flight, so mean latency = "
            f"{users} / throughput; the p99 was {tail:.1f}× the mean, so p99 ≤ {target_ms:g} ms needs a mean of "
            f"{needed_mean_ms:.1f} ms, i.e. about {needed_throughput:,.0f} requests/s — "
            f"{needed_throughput / throughput:.1f}× the {throughput:,.0f}/s measured; at the measured "
            f"{cost_ms:.2f} ms of service and PostgreSQL CPU per request that is about {needed_cores:.1f} cores "
            f"(for scale: the {throughput:,.0f}/s measured would serve about {people:,.0f} people who each pause "
            f"{PERSON_THINK_SECONDS:g} s between requests)")


def _latency_verdict(results: dict, label: str, scenario: str, kind: str, level: int, target_ms: float,
                     baseline: tuple[str, str] | None, remedies) -> Verdict:
    step = find_step(results, scenario, (level,))
    if step is None or kind not in step["by_kind"]:
        return Verdict(label, "not measured in this run", None)
    summary = step["by_kind"][kind]
    p99 = summary["p99_ms"]
    verdict = Verdict(label, f"p99 {p99} ms ({summary['throughput_per_s']:g}/s, p50 {summary['p50_ms']} ms)",
                      p99 is not None and p99 <= target_ms and summary["errors"] == 0)
    if verdict.met:
        return verdict
    if summary["errors"]:
        verdict.reasons.append(f"{summary['errors']} errors in the step: {summary['error_kinds']}")
    verdict.reasons.extend(scaling_reasons(results, scenario, kind, level))
    verdict.reasons.extend(machine_reasons(step))
    if baseline is not None:
        base_step = find_step(results, baseline[0], (level,))
        if base_step is not None and baseline[1] in base_step["by_kind"]:
            base = base_step["by_kind"][baseline[1]]
            verdict.reasons.append(f"PostgreSQL alone ({baseline[0]}) at the same {level} connections: "
                                   f"{base['throughput_per_s']:g}/s, p99 {base['p99_ms']} ms")
    if (reason := little_law_reason(step, kind, level, target_ms)) is not None:
        verdict.reasons.append(reason)
    verdict.reasons.extend(remedies(results, level, target_ms))
    return verdict


def search_remedies(results: dict, level: int, target_ms: float) -> list[str]:
    step = find_step(results, "search", (level,))
    share = service_cores(step) / step["resources"]["machine"]["cores"] if step else 0.0
    remedies = []
    if share >= 0.5:
        remedies.append(f"the service and PostgreSQL used {share:.0%} of the machine for search alone: what would "
                        "fix it is more cores for the service — each service replica holds its own engine replica "
                        "and a search makes no PostgreSQL round trip, so search capacity grows with replicas (README, "
                        "Capacity)")
    remedies.append("and less CPU per search: the slow tail is broad fragments matching many records, where "
                    "counting facets over every match dominates (BENCHMARKS.md); counting facets on a sample above a "
                    "match threshold would cut it")
    return remedies


def checkout_remedies(results: dict, level: int, target_ms: float) -> list[str]:
    floor = find_step(results, "checkout_floor", (level,))
    floor_one, desk_one = find_step(results, "checkout_floor", (1,)), find_step(results, "checkout", (1,))
    remedies = []
    if floor is not None and "floor_checkout" in floor["by_kind"]:
        floor_p99 = floor["by_kind"]["floor_checkout"]["p99_ms"]
        if floor_p99 is not None and floor_p99 > target_ms:
            groups = floor["resources"]["groups"]
            remedies.append(f"even bare PostgreSQL transactions with the same writes miss it (p99 {floor_p99} ms at "
                            f"{level} connections, with PostgreSQL at {groups['postgresql']['cpu_cores']:.2f} cores "
                            f"and the floor's own client at {groups['generator']['cpu_cores']:.2f}): this machine's "
                            "cores are shared by the database, its clients and the service — what would fix it is "
                            "PostgreSQL on cores of its own")
        else:
            remedies.append(f"bare PostgreSQL transactions with the same writes meet it (p99 {floor_p99} ms), so the "
                            "gap is the service's own work per checkout (HTTP, Python, the engine's decision, round "
                            "trips)")
    if floor_one is not None and desk_one is not None and "checkout" in desk_one["by_kind"] \
            and "floor_checkout" in floor_one["by_kind"]:
        added = desk_one["by_kind"]["checkout"]["p50_ms"] - floor_one["by_kind"]["floor_checkout"]["p50_ms"]
        remedies.append(f"at one desk the API adds {added:.1f} ms (p50) to the bare transaction; what would fix the "
                        "rest is fewer round trips per checkout and checkin, and cores of its own for PostgreSQL "
                        "(a database server beside the service replicas, README Capacity)")
    return remedies


def evaluate(results: dict) -> list[Verdict]:
    tier = results["tier"]
    verdicts = []
    if tier in ("S", "demo"):
        verdicts.append(_latency_verdict(results, f"search p99 ≤ {SEARCH_P99_MS:g} ms at {SEARCH_USERS} users",
                                         "search", "search", SEARCH_USERS, SEARCH_P99_MS,
                                         ("search_fts", "search_fts"), search_remedies))
        verdicts.append(_latency_verdict(results, f"checkout p99 ≤ {CHECKOUT_P99_MS:g} ms at {CHECKOUT_DESKS} desks",
                                         "checkout", "checkout", CHECKOUT_DESKS, CHECKOUT_P99_MS,
                                         ("checkout_floor", "floor_checkout"), checkout_remedies))
        verdicts.append(errors_verdict(results))
    verdicts.extend(opening_day_verdicts(results))
    return verdicts


def server_error_reasons(results: dict) -> list[str]:
    logged = results.get("server_errors") or []
    if not logged:
        return []
    return ["the server's log says why: " + "; ".join(f"{entry['count']} × `{entry['error']}` at {entry['where']}"
                                                      for entry in logged)]


def errors_verdict(results: dict) -> Verdict:
    failing = [(step, kind, summary) for step in results.get("steps", [])
               for kind, summary in step["by_kind"].items() if summary["errors"]]
    warming = [(step, kind, counts) for step in results.get("steps", [])
               for kind, counts in step.get("warmup_errors", {}).items()]
    total = sum(summary["errors"] for _, _, summary in failing)
    in_warmup = sum(sum(counts.values()) for _, _, counts in warming)
    requests = sum(summary["requests"] for step in results.get("steps", []) for summary in step["by_kind"].values())
    measured = f"{total} errors in {requests:,} requests" + (f", {in_warmup} more during warm-ups" if in_warmup else "")
    verdict = Verdict("zero errors", measured, total == 0 and in_warmup == 0 and requests > 0)
    for step, kind, summary in failing:
        verdict.reasons.append(f"{step['scenario']} {'/'.join(map(str, step['level']))}, {kind}: "
                               f"{summary['errors']} × {summary['error_kinds']}")
    for step, kind, counts in warming:
        verdict.reasons.append(f"{step['scenario']} {'/'.join(map(str, step['level']))} warm-up, {kind}: {counts}")
    verdict.reasons.extend(server_error_reasons(results))
    harness = [failure for step in results.get("steps", []) for failure in step.get("harness_failures", [])]
    if harness:
        verdict.met = False
        verdict.reasons.append(f"virtual users crashed (a harness bug, not the service): {harness[:3]}")
    return verdict


def opening_day_context(results: dict) -> list[str]:
    """What every request type of the opening day shared: the machine, and errors the server logged."""
    step = find_step(results, "opening_day")
    if step is None:
        return []
    reasons = machine_reasons(step) + server_error_reasons(results)
    if any("PoolTimeout" in entry["error"] for entry in results.get("server_errors") or []):
        slowest = slowest_single_user(results)
        if slowest is not None:
            reasons.append(
                "a PoolTimeout means a request waited longer than the pool's time-out for one of the service's "
                "few database connections, which slower requests held; the slowest request type with one user "
                f"was {slowest['kind']} (p50 {slowest['p50_ms']} ms), which holds a connection that long each time, "
                "so making it cheap (or caching its answer) frees the pool for the rest")
    return reasons


def slowest_single_user(results: dict) -> dict | None:
    """The request type with the highest p50 in any stepped scenario's one-user step."""
    candidates = [{"kind": kind, **summary} for step in results.get("steps", [])
                  if step["scenario"] not in ("opening_day", "federated", "search_fts", "checkout_floor",
                                                 "lending_floor", "lending_floor_paced")
                  and step["level"] == [1] for kind, summary in step["by_kind"].items()
                  if summary["p50_ms"] is not None]
    return max(candidates, key=lambda candidate: candidate["p50_ms"], default=None)


def single_user(results: dict, kind: str) -> dict | None:
    """The figures of `kind` in a stepped scenario's one-user step, with the scenario's name."""
    for step in results.get("steps", []):
        if step["scenario"] != "opening_day" and step["level"] == [1] and kind in step["by_kind"]:
            return {"scenario": step["scenario"], **step["by_kind"][kind]}
    return None


def opening_day_verdicts(results: dict) -> list[Verdict]:
    step = find_step(results, "opening_day")
    if step is None:
        return [Verdict(f"opening day p99 ≤ {OPENING_DAY_P99_MS:g} ms per request type", "not measured in this run",
                        None)] if results["tier"] == "L" else []
    verdicts = []
    users, desks, kiosks = step["level"]
    for kind, summary in step["by_kind"].items():
        if kind == "sip2_login":
            continue  # once per kiosk, before the window: too few to judge
        label = (f"opening day ({users} OPAC users, {desks} desks, {kiosks} kiosks): {kind} p99 ≤ "
                 f"{OPENING_DAY_P99_MS:g} ms")
        p99 = summary["p99_ms"]
        verdict = Verdict(label, f"p99 {p99} ms ({summary['throughput_per_s']:g}/s)",
                          p99 is not None and p99 <= OPENING_DAY_P99_MS and summary["errors"] == 0)
        if not verdict.met:
            if summary["errors"]:
                verdict.reasons.append(f"{summary['errors']} errors: {summary['error_kinds']}")
            alone = single_user(results, kind)
            if alone is not None:
                in_itself = alone["p50_ms"] is not None and alone["p50_ms"] > OPENING_DAY_P99_MS / 2
                verdict.reasons.append(
                    f"one user alone ({alone['scenario']} 1) sees {kind} p50 {alone['p50_ms']} ms, p99 "
                    f"{alone['p99_ms']} ms" + (": the time is in the request itself, not in queueing — the fix "
                                               "is in that request's own work" if in_itself else ""))
            series = step.get("timeline", {}).get(kind, [])
            if series:
                worst = max(series, key=lambda bucket: bucket["p95_ms"] or 0)
                verdict.reasons.append(f"p95 per 10 s ranged {min(b['p95_ms'] or 0 for b in series)}–"
                                       f"{worst['p95_ms']} ms, worst from second {worst['t_s']:g}")
        verdicts.append(verdict)
    return verdicts
