"""One load-test run, end to end: database, schema and demo library; the server on free 127.0.0.1 ports; the
data the scenarios need; every step of the plan with the resources it used; clean-up; the results file.

Nothing here leaves the machine: the service, the SIP2 server and the federated peer (the service itself) all
listen on 127.0.0.1, every step is bounded in time, and the run stops the server it started.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import psutil
import psycopg

from loadtests import disk_probe, fts_baseline, library_data, scenarios, stats
from loadtests.generator import Generator
from loadtests.plan import LENDING_SCENARIOS, ScenarioPlan, planned_seconds, warmup_seconds
from loadtests.query_mix import draw_queries
from loadtests.resources import ResourceSampler, is_sip2, tree
from loadtests.server import LOOPBACK, ServiceUnderTest, database_url_for, postmaster_pid, run_shoka, \
    shoka_environment
from loadtests.virtual_user import Endpoint

PEER_NAME = "loadtest-self"
QUERY_COUNT = 2000
QUERY_SEED = 7  # the search benchmark's seed: the same queries
# Scenarios whose requests commit: the disk's sync latency is probed before them (loadtests/disk_probe.py).
COMMITTING_SCENARIOS = {"checkout", "checkout_floor", "sip2", "opening_day", *LENDING_SCENARIOS}
READY_TIMEOUT_SECONDS = {"demo": 300, "S": 600, "L": 3600}  # the first start builds the index (L: 3M records)
TIMELINE_BUCKET_SECONDS = 10.0


@dataclass(frozen=True)
class RunOptions:
    tier: str
    home: Path
    database_url: str | None
    credentials: Path | None
    plans: list[ScenarioPlan]
    plan_text: str
    scale: float
    generator_processes: int
    http_workers: int
    results_folder: Path
    keep_baseline: bool = True
    paced_checkouts_per_second: float = scenarios.PACED_CHECKOUTS_PER_SECOND


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def git_state(folder: Path) -> dict:
    def git(*arguments: str) -> str:
        try:
            return subprocess.run(["git", *arguments], cwd=folder, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
            "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine_facts(connection: psycopg.Connection) -> dict:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    return {"host": platform.node(), "cores": os.cpu_count(), "cpu_model": model,
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1), "os": platform.platform(terse=True),
            "python": platform.python_version(),
            "postgresql": connection.execute("SHOW server_version").fetchone()[0]}


def staff_token(base_url: str, credentials: dict) -> str:
    """A token of the demo librarian (circulation at every branch), or of the administrator."""
    staff = credentials["staff"]
    account = next((member for member in staff if member["role"] == "librarian"), None) \
        or next(member for member in staff if member["role"] == "admin")
    answer = httpx.post(f"{base_url}/api/v1/auth/token", timeout=30,
                        json={"username": account["username"], "password": account["password"]})
    answer.raise_for_status()
    return answer.json()["access_token"]


def kiosk_branch(connection: psycopg.Connection, user_name: str, fallback: str) -> str:
    row = connection.execute(
        """SELECT sp.code FROM staff_account a JOIN staff_branch_scope s ON s.staff_id = a.id
           JOIN service_point sp ON sp.id = s.service_point_id WHERE a.username = %s ORDER BY sp.sort_order LIMIT 1""",
        [user_name]).fetchone()
    return row[0] if row else fallback


def prepare(connection: psycopg.Connection, plans: list[ScenarioPlan], credentials: dict, token: str,
            paced_checkouts_per_second: float = scenarios.PACED_CHECKOUTS_PER_SECOND) -> scenarios.Prepared:
    needed = scenarios.stations_needed(plans)
    branches = library_data.lending_branches(connection)
    sip2 = next(member for member in credentials["staff"] if member["role"] == "sip2")
    kiosk_at = kiosk_branch(connection, sip2["username"], branches[0])
    desk_branches = library_data.spread(branches, needed["desks"])
    floor_branches = library_data.spread(branches, needed["floor_desks"])
    stations = library_data.stations_for(connection, desk_branches + floor_branches + [kiosk_at] * needed["kiosks"])
    desks, rest = stations[:needed["desks"]], stations[needed["desks"]:]
    floor_desks, kiosks = rest[:needed["floor_desks"]], rest[needed["floor_desks"]:]
    return scenarios.Prepared(
        queries=tuple(draw_queries(connection, QUERY_COUNT, QUERY_SEED)),
        record_ids=tuple(library_data.record_ids(connection, 2000)), staff_token=token, desks=tuple(desks),
        floor_desks=tuple(floor_desks), kiosks=tuple(kiosks), sip2_user=sip2["username"],
        sip2_password=sip2["password"], paced_checkouts_per_second=paced_checkouts_per_second)


def draw_lenders(database_url: str, prepared: scenarios.Prepared, plan: ScenarioPlan,
                 level: tuple[int, ...]) -> scenarios.Prepared:
    """Fresh stock for the lending desks of one step, at the largest branch."""
    seconds = warmup_seconds(plan.seconds) + plan.seconds
    with psycopg.connect(database_url) as connection:
        branch = library_data.lending_branches(connection)[0]
        lenders = library_data.lending_stations(connection, branch, level[0], seconds)
    log(f"  {level[0]} lending desks at {branch}, each with {len(lenders[0].copies):,} copies and "
        f"{len(lenders[0].patrons):,} patrons")
    if len(lenders[0].copies) < library_data.lending_copies(level[0], seconds):
        log("  (fewer copies than the fastest desk could lend: a desk whose shelf runs out stops early, and the "
            "step's throughput counts only what was lent)")
    return replace(prepared, lenders=tuple(lenders))


def return_lent(database_url: str, lenders: tuple[library_data.Station, ...]) -> None:
    """After a lending step: everything its desks lent goes back on the shelf (in SQL, not measured)."""
    with psycopg.connect(database_url) as connection:
        returned = library_data.return_everything(
            connection, [barcode for station in lenders for barcode in station.copies])
    log(f"  returned the {returned:,} copies the lending desks lent")


def step_line(name: str, level: tuple[int, ...], by_kind: dict, resources: dict) -> str:
    groups = resources["groups"]
    figures = "; ".join(f"{kind} {summary['throughput_per_s']}/s p50 {summary['p50_ms']} p95 {summary['p95_ms']} "
                        f"p99 {summary['p99_ms']} ms, refused {summary['refused']}, errors {summary['errors']}"
                        for kind, summary in by_kind.items())
    cpu = ", ".join(f"{group} {figures_['cpu_cores']}" for group, figures_ in groups.items())
    return (f"{name} {'/'.join(map(str, level))}: {figures or 'no requests'} | cores: {cpu}, "
            f"other {resources['machine']['other_cores']}")


class Run:
    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.results: dict = {"tier": options.tier, "date": dt.date.today().isoformat(),
                              "started_at": dt.datetime.now().isoformat(timespec="seconds"),
                              "plan": [plan.describe() for plan in options.plans], "plan_text": options.plan_text,
                              "scale": options.scale, "steps": [],
                              "paced_checkouts_per_second": options.paced_checkouts_per_second,
                              "contention": {"load_average_before": [round(value, 2) for value in os.getloadavg()]},
                              "generator": {"processes": options.generator_processes,
                                            "client": "asyncio, raw HTTP/1.1 keep-alive and SIP2 sockets",
                                            "uvloop": True},
                              "think_times_s": scenarios.think_times(), "setup": {}}

    def execute(self) -> Path:
        options, started = self.options, time.monotonic()
        options.home.mkdir(parents=True, exist_ok=True)
        log(f"tier {options.tier}, SHOKA_HOME {options.home}; scenarios about "
            f"{planned_seconds(options.plans) / 60:.1f} min; load average {os.getloadavg()[0]:.2f}")
        database_url = database_url_for(options.home, options.database_url)
        environment = shoka_environment(options.home, database_url)
        run_shoka(environment, "db", "upgrade")
        with psycopg.connect(database_url) as connection:
            self.results["machine"] = machine_facts(connection)
            empty = connection.execute("SELECT NOT EXISTS (SELECT 1 FROM bib)").fetchone()[0]
        if empty:
            log(f"loading the tier-{options.tier} demo library (S: about 2 minutes; L: about 40 minutes on 2 cores)")
        else:
            log("the database already holds a library: reusing it (shoka demo load --if-empty does nothing)")
        load_started = time.monotonic()
        run_shoka(environment, "demo", "load", "--tier", options.tier, "--if-empty")
        self.results["setup"]["demo_load"] = {"reused_existing": not empty,
                                             "seconds": round(time.monotonic() - load_started, 1)}
        with psycopg.connect(database_url) as connection:
            self.results["library"] = library_data.library_size(connection)
            postmaster = postmaster_pid(connection)
        self.results["git"] = git_state(Path(__file__).resolve().parents[1])
        credentials = json.loads((options.credentials or options.home / "demo-credentials.json").read_text())

        service = ServiceUnderTest(options.home, database_url, options.http_workers)
        self._set_peer(environment, service.base_url)
        service.start()
        generator = sampler = None
        lent: list[str] = []
        try:
            log(f"shoka serve on {service.base_url} and SIP2 {LOOPBACK}:{service.sip2_port}; waiting for /healthz")
            self.results["setup"]["server_ready_seconds"] = round(
                service.wait_until_ready(READY_TIMEOUT_SECONDS[options.tier]), 1)
            with psycopg.connect(database_url, autocommit=True) as connection:
                seconds = self.results["setup"]["tidy_up_seconds"] = round(library_data.tidy_up(connection), 1)
            log(f"vacuumed and analysed the circulation tables in {seconds} s (see library_data.tidy_up)")
            if any(plan.name in COMMITTING_SCENARIOS for plan in options.plans):
                disk = self.results["setup"]["disk_sync"] = disk_probe.probe(options.home)
                log(f"the disk under {options.home}: 8 kB write + fdatasync p50 {disk['p50_ms']} ms, p99 "
                    f"{disk['p99_ms']} ms, max {disk['max_ms']} ms ({disk['over_50_ms']} of {disk['syncs']:,} "
                    "over 50 ms; see loadtests/disk_probe.py)")
            with psycopg.connect(database_url) as connection:
                prepared = prepare(connection, options.plans, credentials, staff_token(service.base_url, credentials),
                                   options.paced_checkouts_per_second)
                lent = [barcode for station in prepared.desks + prepared.floor_desks + prepared.kiosks
                        for barcode in station.copies]
                if any(plan.name == "search_fts" for plan in options.plans):
                    log("the PostgreSQL full-text baseline: building it, or reusing the one an earlier run built "
                        "from the same catalogue")
                    built = self.results["setup"]["fts_baseline"] = fts_baseline.build(connection)
                    log("  reused" if built["reused"] else f"  built in {built['build_seconds']} s")
            endpoint = Endpoint(LOOPBACK, service.http_port, service.sip2_port, database_url)
            generator = Generator(options.generator_processes)
            generator_pids = generator.pids
            sampler = ResourceSampler({
                "service_http": lambda: [process for process in tree(service.pid) if not is_sip2(process)],
                "service_sip2": lambda: [process for process in tree(service.pid) if is_sip2(process)],
                "postgresql": lambda: tree(postmaster) if postmaster else [],
                "generator": lambda: tree(os.getpid())[:1] + [process for pid in generator_pids
                                                              for process in tree(pid)]})
            for plan in options.plans:
                # staff tokens last 30 minutes: renewed before each scenario that uses one
                if plan.name in ("checkout", "lending", "lending_paced", "opening_day"):
                    prepared = replace(prepared, staff_token=staff_token(service.base_url, credentials))
                for level in plan.steps:
                    if plan.name in LENDING_SCENARIOS:
                        prepared = draw_lenders(database_url, prepared, plan, level)
                        lent += [barcode for station in prepared.lenders for barcode in station.copies]
                    self._step(generator, sampler, endpoint, prepared, plan, level)
                    if plan.name in LENDING_SCENARIOS:
                        return_lent(database_url, prepared.lenders)
        finally:
            if generator is not None:
                generator.close()
            if sampler is not None:
                sampler.close()
            with psycopg.connect(database_url) as connection:
                closed = library_data.return_everything(connection, lent) if lent else 0
                if closed:
                    log(f"returned {closed} copies still on loan after failed requests")
                if not options.keep_baseline:
                    fts_baseline.drop(connection)
            self._remove_peer(environment)
            service.stop()
            self.results["server_errors"] = service.logged_errors()
            for logged in self.results["server_errors"]:
                log(f"  the server logged {logged['count']} × {logged['error']} ({logged['where']})")
        self.results["finished_at"] = dt.datetime.now().isoformat(timespec="seconds")
        self.results["duration_seconds"] = round(time.monotonic() - started)
        return self._write()

    def _step(self, generator: Generator, sampler: ResourceSampler, endpoint: Endpoint,
              prepared: scenarios.Prepared, plan: ScenarioPlan, level: tuple[int, ...]) -> None:
        resources: dict = {}

        def through_window(start: float, end: float) -> None:
            time.sleep(max(0.0, start - time.monotonic()))
            sampler.begin()
            time.sleep(max(0.0, end - time.monotonic()))
            resources.update(sampler.end())

        warmup = warmup_seconds(plan.seconds)
        outcome = generator.run_step(endpoint, scenarios.step_groups(plan.name, level, prepared), warmup,
                                     plan.seconds, seed=len(self.results["steps"]), on_window=through_window)
        every_sample = [stats.Sample(kind, sent_at, seconds, stats.Outcome(result), detail)
                        for kind, sent_at, seconds, result, detail in outcome.samples]
        samples = stats.in_window(every_sample, *outcome.window)
        by_kind = stats.summarise_by_kind(samples, plan.seconds)
        step = {"scenario": plan.name, "level": list(level), "seconds": plan.seconds, "warmup_seconds": warmup,
                "by_kind": by_kind, "resources": resources, "harness_failures": outcome.failures,
                "warmup_errors": stats.error_counts(stats.in_window(every_sample, float("-inf"), outcome.window[0]))}
        if plan.name == "opening_day":
            step["timeline"] = stats.timeline(samples, outcome.window[0], TIMELINE_BUCKET_SECONDS)
        self.results["steps"].append(step)
        log(step_line(plan.name, level, by_kind, resources))
        for failure in outcome.failures:
            log(f"  harness failure: {failure}")
        if step["warmup_errors"]:
            log(f"  errors during the warm-up: {step['warmup_errors']}")

    def _set_peer(self, environment: dict, base_url: str) -> None:
        self._remove_peer(environment)
        run_shoka(environment, "peers", "add", PEER_NAME, base_url, "--protocol", "shoka")

    def _remove_peer(self, environment: dict) -> None:
        subprocess.run([sys.executable, "-m", "shoka.cli", "peers", "remove", PEER_NAME], env=environment,
                       capture_output=True)

    def _write(self) -> Path:
        folder = self.options.results_folder
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.options.tier}-{self.results['date']}.json"
        path.write_text(json.dumps(self.results, ensure_ascii=False, indent=1) + "\n")
        log(f"results: {path}")
        return path

