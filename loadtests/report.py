"""loadtests/RESULTS.md and its plots, written from the latest results file of each tier — never by hand.

Every sentence with a number in it is made here from a results file: the targets' verdicts and their reasons
(targets.py), the generator's ceiling and its share of the machine, how contended the machine was, and the tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from loadtests import capacity, targets

RESULT_NAME = re.compile(r"^(demo|S|L)-(\d{4}-\d{2}-\d{2})\.json$")
TIER_ORDER = ("S", "L", "demo")
QUIET_OTHER_CORES = 0.15
SCENARIO_TITLES = {"opac": "OPAC page views (home, results page, record page)", "sru": "SRU searchRetrieve",
                   "federated": "Federated search (one peer: this server, over HTTP)"}


def latest_results(folder: Path) -> dict[str, Path]:
    """The newest results file of each tier, by the date in its name."""
    latest: dict[str, tuple[str, Path]] = {}
    for path in folder.glob("*.json"):
        match = RESULT_NAME.match(path.name)
        if match and (match[1] not in latest or match[2] > latest[match[1]][0]):
            latest[match[1]] = (match[2], path)
    return {tier: latest[tier][1] for tier in TIER_ORDER if tier in latest}


def _number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _ms(value) -> str:
    return "—" if value is None else f"{value:g}"


def _level(step: dict) -> str:
    return "/".join(str(level) for level in step["level"])


def beside_baseline(results: dict, scenario: str, baseline: str, title: str, text: str, unit: str) -> list[str]:
    """A scenario and its baseline in one table, by load; nothing when the run measured neither."""
    steps = targets.steps_of(results, scenario) + targets.steps_of(results, baseline)
    if not steps:
        return []
    return ["", f"### {title}", "", text, ""] + step_table(
        sorted(steps, key=lambda step: (step["level"], step["scenario"])), unit)


def step_table(steps: list[dict], unit: str, kinds: list[str] | None = None) -> list[str]:
    lines = [f"| {unit} | request | answered/s | p50 ms | p95 ms | p99 ms | max ms | refused | errors | "
             "service cores | PostgreSQL cores | generator cores | other cores |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for step in steps:
        groups, machine = step["resources"]["groups"], step["resources"]["machine"]
        service = groups["service_http"]["cpu_cores"] + groups["service_sip2"]["cpu_cores"]
        for kind, summary in step["by_kind"].items():
            if kinds is not None and kind not in kinds:
                continue
            lines.append(
                f"| {_level(step)} | {kind} | {_number(summary['throughput_per_s'], 1)} | {_ms(summary['p50_ms'])} | "
                f"{_ms(summary['p95_ms'])} | {_ms(summary['p99_ms'])} | {_ms(summary['max_ms'])} | "
                f"{summary['refused']} | {summary['errors']} | {service:.2f} | "
                f"{groups['postgresql']['cpu_cores']:.2f} | "
                f"{groups['generator']['cpu_cores']:.2f} | {machine['other_cores']:.2f} |")
    return lines


def contention_summary(results: dict) -> tuple[str, bool]:
    others = [step["resources"]["machine"]["other_cores"] for step in results["steps"] if step.get("resources")]
    before = results["contention"]["load_average_before"]
    if not others:
        return f"load average before the run {before[0]} / {before[1]} / {before[2]} (1 / 5 / 15 min)", False
    mean, peak = sum(others) / len(others), max(others)
    quiet = mean < QUIET_OTHER_CORES
    verdict = ("a quiet machine" if quiet else
               "a **contended** machine: other people's processes shared the two cores, so these figures are upper "
               "bounds of what a quiet machine gives")
    return (f"load average before the run {before[0]} / {before[1]} / {before[2]} (1 / 5 / 15 min); during the "
            f"measured windows other processes used {mean:.2f} cores on average (at most {peak:.2f}) — {verdict}",
            quiet)


def generator_section(results: dict) -> list[str]:
    generator = results["generator"]
    lines = [f"{generator['processes']} generator processes ({generator['client']}"
             f"{', uvloop' if generator.get('uvloop') else ''}), closed loop: each virtual user sends its next request "
             "when the previous one is answered (plus think time in the opening day)."]
    ceiling = max(targets.steps_of(results, "ceiling"), key=lambda step: step["level"][0], default=None)
    costs = []
    for step in results["steps"]:
        throughput = sum(summary["throughput_per_s"] for summary in step["by_kind"].values())
        cores = step["resources"]["groups"]["generator"]["cpu_cores"]
        if throughput > 0:
            costs.append((cores / throughput * 1000, cores, throughput, step))
    if ceiling is not None and "static" in ceiling["by_kind"]:
        summary = ceiling["by_kind"]["static"]
        cores = ceiling["resources"]["groups"]["generator"]["cpu_cores"]
        per_request = cores / summary["throughput_per_s"] * 1000 if summary["throughput_per_s"] else None
        capacity = generator["processes"] / (per_request / 1000) if per_request else None
        lines.append(
            f"On a static file (`GET /static/opac.css`) at {ceiling['level'][0]} users the generator drove "
            f"{_number(summary['throughput_per_s'])} requests/s (p50 {_ms(summary['p50_ms'])} ms, errors "
            f"{summary['errors']}) using {cores:.2f} cores, i.e. {_number(per_request, 3)} ms of generator CPU per "
            f"request; its {generator['processes']} processes could send about {_number(capacity)} requests/s with a "
            f"core each." + _who_set_the_rate(ceiling, generator["processes"]))
    if costs:
        busiest = max(costs, key=lambda cost: cost[2])
        hungriest = max(costs, key=lambda cost: cost[1])
        lines.append(
            f"The busiest step ({busiest[3]['scenario']} {_level(busiest[3])}) needed {_number(busiest[2])} "
            f"requests/s from it; the generator's largest share of any step was {hungriest[1]:.2f} cores "
            f"({hungriest[3]['scenario']} {_level(hungriest[3])}). Its CPU is counted in every table below, so "
            "what it took from the service is visible step by step.")
    return lines


def _who_set_the_rate(step: dict, processes: int) -> str:
    groups, machine = step["resources"]["groups"], step["resources"]["machine"]
    generator = groups["generator"]["cpu_cores"]
    if generator >= 0.8 * min(processes, machine["cores"]):
        return (f" The generator was busy nearly all the time ({generator:.2f} cores): that rate is its own limit on "
                "this machine.")
    return (f" The generator was far from busy ({generator:.2f} cores), so the service and the machine set that "
            f"rate (HTTP workers {groups['service_http']['cpu_cores']:.2f} cores, other processes "
            f"{machine['other_cores']:.2f}).")


def targets_section(results: dict) -> list[str]:
    verdicts = targets.evaluate(results)
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for verdict in verdicts:
        word = "not measured" if verdict.met is None else "**met**" if verdict.met else "**missed**"
        lines.append(f"| {verdict.target} | {verdict.measured} | {word} |")
    missed = [verdict for verdict in verdicts if verdict.met is False]
    if missed:
        lines += ["", "Why each miss happened and what would fix it (read off this run's measurements):", ""]
        for verdict in missed:
            lines.append(f"- **{verdict.target}** — " + ("; ".join(verdict.reasons) or "see below") + ".")
        context = targets.opening_day_context(results)
        if any(verdict.target.startswith("opening day") for verdict in missed) and context:
            lines.append("- **every request type of the opening day** — " + "; ".join(context) + ".")
    return lines


def resources_table(results: dict) -> list[str]:
    lines = ["| step | HTTP workers cores / MB | SIP2 cores / MB | PostgreSQL cores / MB | generator cores / MB | "
             "other cores | machine busy cores |", "|---|---:|---:|---:|---:|---:|---:|"]
    for step in results["steps"]:
        groups, machine = step["resources"]["groups"], step["resources"]["machine"]
        cells = [f"{groups[name]['cpu_cores']:.2f} / {_number(groups[name]['memory_mb_peak'])}"
                 for name in ("service_http", "service_sip2", "postgresql", "generator")]
        lines.append(f"| {step['scenario']} {_level(step)} | " + " | ".join(cells) +
                     f" | {machine['other_cores']:.2f} | {machine['busy_cores']:.2f} of {machine['cores']} |")
    return lines


def opening_day_section(results: dict, drawn: dict[str, Path], plot_prefix: str) -> list[str]:
    step = targets.find_step(results, "opening_day")
    if step is None:
        return []
    users, desks, kiosks = step["level"]
    think = results.get("think_times_s", {})
    lines = ["", "### Opening day", "",
             f"{users} OPAC users, {desks} counter desks and {kiosks} SIP2 kiosks at once for {step['seconds']:g} s "
             f"(after {step['warmup_seconds']:g} s of warm-up). Think times: OPAC users "
             f"{think.get('opac_user')} s between pages, desks {think.get('desk')} s between scans, kiosks "
             f"{think.get('kiosk')} s between messages.", ""]
    lines += step_table([step], "users/desks/kiosks")
    series = step.get("timeline", {})
    steady = [f"{kind} {min(b['p95_ms'] for b in buckets if b['p95_ms'] is not None):g}–"
              f"{max(b['p95_ms'] for b in buckets if b['p95_ms'] is not None):g} ms"
              for kind, buckets in series.items() if kind != "sip2_login" and any(b["p95_ms"] for b in buckets)]
    if steady:
        lines += ["", "p95 per 10-second interval, lowest–highest: " + ", ".join(steady) + "."]
    if "opening_day" in drawn:
        lines += ["", f"![opening day p95 over time]({plot_prefix}{drawn['opening_day'].name})"]
    return lines


def disk_lines(disk: dict | None) -> list[str]:
    """The disk's sync latency probed before the steps, which every commit (checkout, checkin) waits for."""
    if not disk:
        return []
    return [f"Disk under SHOKA_HOME, before the steps (`loadtests/disk_probe.py`: an 8 kB write and fdatasync every "
            f"2 ms for {disk['seconds']:g} s, as a commit flushes its WAL record): p50 {disk['p50_ms']} ms, p99 "
            f"{disk['p99_ms']} ms, max {disk['max_ms']} ms; {disk['over_50_ms']} of {disk['syncs']:,} syncs took "
            "over 50 ms. Every commit waits for one, so these set a floor under the desks' tails.", ""]


def tier_section(results: dict, path: Path, drawn: dict[str, Path], plot_prefix: str) -> list[str]:
    machine, library, setup = results["machine"], results["library"], results["setup"]
    contention, _quiet = contention_summary(results)
    load = setup.get("demo_load", {})
    load_text = ("reused the library already in the database" if load.get("reused_existing")
                 else f"loaded by `shoka demo load --tier {results['tier']}` in {_number(load.get('seconds'))} s")
    fts = setup.get("fts_baseline")
    fts_text = "" if not fts else (" The full-text baseline table was reused from an earlier run." if fts["reused"]
                                   else f" The full-text baseline table was built in {fts['build_seconds']:g} s.")
    git = results["git"]
    lines = [f"## Tier {results['tier']} — {results['date']}", "",
             f"Raw figures: [`results/{path.name}`](results/{path.name}). Commit `{git['commit']}`"
             f"{' with uncommitted changes' if git.get('uncommitted_changes') else ''}; run started "
             f"{results['started_at']} and took {_number(results.get('duration_seconds', 0) / 60, 1)} min.", "",
             f"Machine: {machine['cores']} cores ({machine['cpu_model'] or 'unknown CPU'}), "
             f"{machine['memory_gib']} GiB, "
             f"{machine['os']}, Python {machine['python']}, PostgreSQL {machine['postgresql']}; {contention}.", "",
             *disk_lines(setup.get("disk_sync")),
             f"Library: {_number(library['bibs'])} records, {_number(library['items'])} copies, "
             f"{_number(library['patrons'])} patrons, {_number(library['open_loans'])} open loans, "
             f"{_number(library['loans_all_time'])} loans all time, {_number(library['active_holds'])} active holds, "
             f"{library['service_points']} service points — {load_text}. The server (2 granian workers and the SIP2 "
             f"process, each with its own engine replica) answered /healthz {setup.get('server_ready_seconds')} s "
             f"after it was started.{fts_text}", "",
             f"Plan: `{' '.join(results['plan'])}` (levels@seconds per step, each step after a warm-up that is not "
             "counted)" + (f", **shortened** by scale {results['scale']:g}: indicative figures only"
                           if results.get("scale", 1) != 1 else "") + ".", "",
             "### Targets", ""]
    lines += targets_section(results)
    capacity_figures = capacity.capacity_lines(results)
    if capacity_figures:
        lines += ["", "### How far this machine went", "",
                  "Per workload: the most it answered at any load, the most it answered while every request type "
                  "of the step stayed within its p99 bound (search 50 ms, desks 30 ms, everything else 300 ms) and "
                  "without errors, and the CPU one answer cost at the peak — the figure that sizes more machines.",
                  ""] + capacity_figures
    lines += ["", "### The load generator's own ceiling", ""]
    lines += generator_section(results)
    lines += beside_baseline(
        results, "search", "search_fts", "Search: the engine through the API against PostgreSQL full-text search",
        "The same 2,000 queries (loadtests/query_mix.py: title fragments, authors, hiragana readings, ISBNs, "
        "two-word queries, branch and availability filters, facets, pages 1–3). The API answers with 20 hits, their "
        "per-branch availability and six facets; PostgreSQL answers a count and the ranked page only, one "
        "connection per user.", "users")
    if "search" in drawn:
        lines += ["", f"![search latency]({plot_prefix}{drawn['search'].name})"]
    for scenario in ("opac", "sru", "federated"):
        steps = targets.steps_of(results, scenario)
        if steps:
            lines += ["", f"### {SCENARIO_TITLES[scenario]}", ""] + step_table(steps, "users")
    lines += beside_baseline(
        results, "checkout", "checkout_floor", "Counter desks against bare PostgreSQL transactions",
        "Each desk serves its own patrons with its own copies at its branch: returns (checkin) then one to three "
        "loans (checkout) per patron, no pause between scans. The floor runs the same writes (locks in the "
        "service's order, loan, operation log, outbox) as bare transactions of the service's prepared statements, "
        "in the same two messages, on one connection per desk. Refusals (409/422) would be counted apart from "
        "errors.", "desks")
    if "checkout" in drawn:
        lines += ["", f"![checkout latency]({plot_prefix}{drawn['checkout'].name})"]
    lines += beside_baseline(
        results, "lending", "lending_floor", "Lending desks against bare PostgreSQL checkouts",
        "The checkout rate: each desk serves a queue of its own patrons at the largest branch, each borrowing one "
        "to three copies a visit, nothing returned during the step (what was lent is returned in SQL after it); no "
        "pause between scans. The floor runs the same checkouts as bare transactions.", "desks")
    rate = f"{results.get('paced_checkouts_per_second', 500):g}"
    lines += beside_baseline(
        results, "lending_paced", "lending_floor_paced", f"Lending desks at {rate} checkouts/s",
        f"The same desks, paced: together they are due to lend {rate} copies a second, each desk on its own Poisson "
        "schedule, and each checkout is timed from when it was due, so a slow answer counts in every scan it held "
        "up. The latency at that rate rather than at saturation; the floor paced alike.", "desks")
    kiosk_steps = targets.steps_of(results, "sip2")
    if kiosk_steps:
        lines += ["", "### SIP2 self-check kiosks", "",
                  "Each kiosk logs in once (93), then per patron: 63 patron information, 09 for each copy returned, "
                  "11 for each copy borrowed — no pause between messages.", ""]
        lines += step_table(kiosk_steps, "kiosks", ["sip2_patron_info", "sip2_checkin", "sip2_checkout"])
    lines += opening_day_section(results, drawn, plot_prefix)
    overview = [f"![{alt}]({plot_prefix}{drawn[name].name})" for name, alt in
                (("throughput", "throughput against load"), ("all", "latency of every stepped scenario"))
                if name in drawn]
    if overview:  # a run of the opening day alone has no stepped scenario to draw
        lines += ["", "### Throughput and latency of every step", "", *overview]
    lines += ["", "### CPU and memory per step", "",
              "Cores are CPU time over the measured window (1.00 = one core busy throughout). Memory is the peak "
              "resident memory of the group with shared pages counted once (PostgreSQL's shared buffers, the "
              "workers' common libraries).", ""]
    lines += resources_table(results)
    return lines


def write_report(results_folder: Path, report_path: Path, readme: Path | None = None) -> list[Path]:
    """Rewrite the report (and its plots, in plots/ beside it) from the newest results of each tier, and the
    capacity figures in `readme` (between its markers) when given."""
    chosen = latest_results(results_folder)
    if not chosen:
        raise FileNotFoundError(f"no results in {results_folder} (files named <tier>-<YYYY-MM-DD>.json)")
    plot_folder = report_path.parent / "plots"
    try:
        results_link = results_folder.resolve().relative_to(report_path.parent.resolve())
    except ValueError:
        results_link = results_folder.resolve()
    lines = ["# Load-test results", "",
             "Written by `python -m loadtests report` (also at the end of every `make loadtest TIER=…`) from the "
             "newest `loadtests/results/<tier>-<date>.json` of each tier: do not edit by hand. The single-process "
             "benchmarks of components (engine search against PostgreSQL full-text search, index build, one SIP2 "
             "terminal) are in [BENCHMARKS.md](BENCHMARKS.md).", "",
             "How to read the figures: every scenario is a closed loop — N virtual users, each sending its next "
             "request when the previous one is answered — stepped through increasing N, so latency at high N "
             "includes queueing for the two cores (N users with no think time are far more load than N people: a "
             "person at the OPAC sends one request every few seconds); the paced lending steps alone are an open "
             "loop at a fixed rate, each request timed from when it was due. *Answered/s* counts answers; a *refusal* "
             "(a checkout the rules decline) is an answer with a business reason, apart from *errors* (5xx, "
             "time-outs, broken connections, SRU diagnostics, federated peers that failed). Everything runs on the "
             "one machine: the service, PostgreSQL and the load generator share its cores, and the tables say how "
             "much each took.", ""]
    from loadtests import plots  # matplotlib: installed with the `loadtest` extra, slow to import

    runs = []
    for tier, path in chosen.items():
        results = json.loads(path.read_text())
        runs.append((results, path.name))
        drawn = plots.draw_all(results, plot_folder)
        section = tier_section(results, path, drawn, "plots/")
        lines += [line.replace("](results/", f"]({results_link}/") for line in section] + [""]
    report_path.write_text("\n".join(lines).rstrip() + "\n")
    if readme is not None:
        capacity.update_readme(readme, [run for run in runs if run[0]["tier"] in ("S", "L")])
    return list(chosen.values())
