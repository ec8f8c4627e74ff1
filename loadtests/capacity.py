"""How far the measured machine goes, per workload, from a run's results: the most it answered, the most it
answered while still within the latency bound, and what one request cost in CPU (service and PostgreSQL apart),
which is what sizing more machines needs. Written into RESULTS.md and into the README's Capacity section (between
its markers), so the README's figures are always those of the latest run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from loadtests import targets

# The workloads, the kinds that make up one of their answers, the latency bound their "within bound" uses, the
# unit of their levels.
WORKLOADS = (
    ("search", ("search",), targets.SEARCH_P99_MS, "users", "search through the API (hits, availability, facets)"),
    ("opac", ("opac_home", "opac_search", "opac_record"), targets.OPENING_DAY_P99_MS, "users", "OPAC page views"),
    ("sru", ("sru",), targets.OPENING_DAY_P99_MS, "users", "SRU searchRetrieve"),
    ("federated", ("federated",), targets.OPENING_DAY_P99_MS, "users", "federated search (one peer)"),
    ("checkout", ("checkout", "checkin"), targets.CHECKOUT_P99_MS, "desks", "counter checkouts and checkins"),
    ("sip2", ("sip2_patron_info", "sip2_checkout", "sip2_checkin"), targets.OPENING_DAY_P99_MS, "kiosks",
     "SIP2 messages"),
)
README_START = "<!-- loadtest-capacity:start -->"
README_END = "<!-- loadtest-capacity:end -->"


@dataclass(frozen=True)
class Capacity:
    label: str
    unit: str
    bound_ms: float
    peak_per_s: float
    peak_level: int
    peak_p99_ms: float | None
    within_bound_per_s: float | None  # the most answered in a step whose every kind met the bound
    within_bound_level: int | None
    service_ms_per_request: float  # CPU of the service's processes per answer, at the peak
    postgresql_ms_per_request: float


def _step_figures(step: dict, kinds: tuple[str, ...]) -> tuple[float, float | None]:
    present = [step["by_kind"][kind] for kind in kinds if kind in step["by_kind"]]
    throughput = sum(summary["throughput_per_s"] for summary in present)
    p99s = [summary["p99_ms"] for summary in present if summary["p99_ms"] is not None]
    return throughput, max(p99s) if p99s else None


def workload_capacity(results: dict, scenario: str, kinds: tuple[str, ...], bound_ms: float, unit: str,
                      label: str) -> Capacity | None:
    steps = [step for step in targets.steps_of(results, scenario) if any(kind in step["by_kind"] for kind in kinds)]
    if not steps:
        return None
    figures = [(step, *_step_figures(step, kinds)) for step in steps]
    peak_step, peak, peak_p99 = max(figures, key=lambda figure: figure[1])
    within = [figure for figure in figures if figure[2] is not None and figure[2] <= bound_ms
              and not any(step_kind["errors"] for step_kind in figure[0]["by_kind"].values())]
    best = max(within, key=lambda figure: figure[1], default=None)
    groups = peak_step["resources"]["groups"]
    service = groups["service_http"]["cpu_cores"] + groups["service_sip2"]["cpu_cores"]
    per_request = (lambda cores: round(cores / peak * 1000, 2) if peak else 0.0)
    return Capacity(label, unit, bound_ms, peak, peak_step["level"][0], peak_p99,
                    best[1] if best else None, best[0]["level"][0] if best else None,
                    per_request(service), per_request(groups["postgresql"]["cpu_cores"]))


def capacities(results: dict) -> list[Capacity]:
    found = (workload_capacity(results, *workload) for workload in WORKLOADS)
    return [capacity for capacity in found if capacity is not None]


def memory_peaks(results: dict) -> dict[str, int]:
    peaks: dict[str, int] = {}
    for step in results.get("steps", []):
        for group, figures in step["resources"]["groups"].items():
            peaks[group] = max(peaks.get(group, 0), figures["memory_mb_peak"])
    return peaks


def _unit(row: Capacity, peak: bool = False) -> str:
    level = row.peak_level if peak else row.within_bound_level
    return row.unit[:-1] if level == 1 else row.unit


def capacity_lines(results: dict) -> list[str]:
    rows = capacities(results)
    lines = ["| workload | most answered/s (at load) | its p99 | most answered/s within p99 bound (at load) | "
             "CPU per answer: service / PostgreSQL |", "|---|---:|---:|---:|---:|"] if rows else []
    for row in rows:
        within = (f"{row.within_bound_per_s:,.0f}/s (at {row.within_bound_level} {_unit(row)})"
                  if row.within_bound_per_s is not None else "none")
        lines.append(f"| {row.label} | {row.peak_per_s:,.0f}/s (at {row.peak_level} {_unit(row, peak=True)}) | "
                     f"{'—' if row.peak_p99_ms is None else f'{row.peak_p99_ms:g} ms'} | "
                     f"{within} ≤ {row.bound_ms:g} ms | "
                     f"{row.service_ms_per_request:g} ms / {row.postgresql_ms_per_request:g} ms |")
    memory = memory_peaks(results)
    if memory:
        lines += ["", f"Peak memory: HTTP workers {memory.get('service_http', 0):,} MB, SIP2 process "
                      f"{memory.get('service_sip2', 0):,} MB, PostgreSQL {memory.get('postgresql', 0):,} MB (shared "
                      "buffers counted once), load generator "
                      f"{memory.get('generator', 0):,} MB."]
    opening = targets.find_step(results, "opening_day")
    if opening is not None:
        groups, machine = opening["resources"]["groups"], opening["resources"]["machine"]
        used = sum(groups[name]["cpu_cores"] for name in ("service_http", "service_sip2", "postgresql"))
        answered = sum(summary["throughput_per_s"] for summary in opening["by_kind"].values())
        users, desks, kiosks = opening["level"]
        lines += ["", f"Opening day ({users} OPAC users, {desks} desks, {kiosks} kiosks with think times): "
                      f"{answered:,.0f} answers/s using {used:.2f} of {machine['cores']} cores for the service and "
                      f"PostgreSQL (other processes {machine['other_cores']:.2f})."]
    return lines[1:] if lines[:1] == [""] else lines  # a run of the opening day alone has no table above


def readme_block(runs: list[tuple[dict, str]]) -> str:
    """The README's capacity figures: per tier measured, its table, with where and when it was measured."""
    lines = [README_START]
    for results, results_name in runs:
        machine = results["machine"]
        others = [step["resources"]["machine"]["other_cores"] for step in results["steps"]]
        contended = sum(others) / max(1, len(others))
        condition = ("a quiet machine" if contended < 0.15
                     else f"a contended machine: other processes used {contended:.2f} cores on average")
        lines += [f"**Tier {results['tier']}** — `make loadtest TIER={results['tier']}` on {results['date']} "
                  f"({machine['cores']} cores, {machine['memory_gib']} GiB, {condition}; commit "
                  f"`{results['git']['commit']}`; "
                  f"[`loadtests/results/{results_name}`](loadtests/results/{results_name})):",
                  "", *capacity_lines(results), ""]
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(readme: Path, runs: list[tuple[dict, str]]) -> bool:
    """Replace the block between the README's capacity markers; False when the README has no such block."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        return False
    readme.write_text(pattern.sub(lambda _: readme_block(runs), text, count=1))
    return True
