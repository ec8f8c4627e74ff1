"""Targets judged from results, the explanation of a miss, and RESULTS.md written from results files."""

import json
from pathlib import Path

import pytest

from loadtests import targets
from loadtests.report import latest_results, tier_section, write_report
from made_results import fast_run, results, step, summary


def test_targets_met_are_met_without_reasons():
    verdicts = {verdict.target: verdict for verdict in targets.evaluate(fast_run())}
    assert verdicts["search p99 ≤ 50 ms at 64 users"].met is True
    assert verdicts["checkout p99 ≤ 30 ms at 16 desks"].met is True
    assert verdicts["zero errors"].met is True
    assert all(not verdict.reasons for verdict in verdicts.values())


def test_a_missed_search_target_says_why_from_the_measurements():
    run = results(steps=[
        step("search", (1,), {"search": summary(200, 4, 12)}),
        step("search", (32,), {"search": summary(500, 55, 120)}, http=1.7, busy=1.95),
        step("search", (64,), {"search": summary(520, 110, 260)}, http=1.7, generator=0.35, other=0.3, busy=1.98),
        step("search_fts", (64,), {"search_fts": summary(40, 900, 3000)}, postgresql=1.9),
    ])
    verdict = next(verdict for verdict in targets.evaluate(run) if verdict.target.startswith("search"))
    assert verdict.met is False
    assert verdict.measured.startswith("p99 260 ms")
    text = " ".join(verdict.reasons)
    assert "one user alone sees p50 4 ms, p99 12 ms" in text
    assert "throughput stopped growing from 32 to 64 users (500/s → 520/s)" in text
    assert "the machine was saturated: 1.98 of 2 cores busy" in text
    assert "other processes on the machine took 0.30 cores" in text
    assert "the load generator itself used 0.35 cores" in text
    assert "PostgreSQL alone (search_fts) at the same 64 connections: 40/s, p99 3000 ms" in text
    # Little's law: p99/mean = 260/121 ≈ 2.1 → mean 23.3 ms → 64 / 0.0233 ≈ 2,750 requests/s
    assert "needs a mean of 23.3 ms, i.e. about 2,750 requests/s — 5.3× the 520/s measured" in text
    assert "more cores for the service" in text


def test_a_missed_checkout_target_compares_with_the_floor():
    run = results(steps=[
        step("checkout", (1,), {"checkout": summary(60, 12, 20), "checkin": summary(60, 10, 18)}),
        step("checkout", (16,), {"checkout": summary(150, 90, 180), "checkin": summary(150, 80, 170)}),
        step("checkout_floor", (1,), {"floor_checkout": summary(300, 3, 6)}),
        step("checkout_floor", (16,), {"floor_checkout": summary(600, 20, 45)}),
    ])
    verdict = next(verdict for verdict in targets.evaluate(run) if verdict.target.startswith("checkout"))
    assert verdict.met is False
    text = " ".join(verdict.reasons)
    assert "even bare PostgreSQL transactions with the same writes miss it (p99 45 ms at 16 connections, with " \
           "PostgreSQL at" in text and "PostgreSQL on cores of its own" in text
    assert "at one desk the API adds 9.0 ms (p50) to the bare transaction" in text


def test_errors_anywhere_fail_the_zero_errors_target_and_are_listed():
    run = fast_run()
    run["steps"].append(step("sru", (8,), {"sru": summary(100, 10, 20, errors=3,
                                                           error_kinds={"SRU diagnostic": 3})}))
    verdict = next(verdict for verdict in targets.evaluate(run) if verdict.target == "zero errors")
    assert verdict.met is False and verdict.measured.startswith("3 errors")
    assert "sru 8, sru: 3 × {'SRU diagnostic': 3}" in verdict.reasons[0]


def test_targets_not_measured_are_neither_met_nor_missed():
    verdicts = targets.evaluate(results(steps=[step("sru", (1,), {"sru": summary(100, 5, 9)})]))
    assert [verdict.met for verdict in verdicts] == [None, None, True]
    assert [verdict.met for verdict in targets.evaluate(results(tier="L"))] == [None]


def opening_day(p99_home):
    by_kind = {"opac_home": summary(30, p99_home / 2, p99_home), "opac_search": summary(40, 20, 90),
               "checkout": summary(8, 20, 60), "sip2_login": summary(0.4, 5, 5)}
    opening = step("opening_day", (200, 16, 4), by_kind)
    opening["timeline"] = {"opac_home": [{"t_s": 0.0, "answered": 300, "p95_ms": p99_home * 0.9},
                                         {"t_s": 10.0, "answered": 300, "p95_ms": p99_home}]}
    return results(tier="L", steps=[step("opac", (1,), {"opac_home": summary(4, p99_home / 2, p99_home)}), opening])


def test_opening_day_is_judged_per_request_type():
    verdicts = targets.evaluate(opening_day(p99_home=120))
    assert [verdict.met for verdict in verdicts] == [True, True, True]  # sip2_login (once per kiosk) is not judged
    missed = [verdict for verdict in targets.evaluate(opening_day(p99_home=4000)) if verdict.met is False]
    assert len(missed) == 1 and "opac_home" in missed[0].target
    text = " ".join(missed[0].reasons)
    assert "one user alone (opac 1) sees opac_home p50 2000.0 ms" in text and "not in queueing" in text
    assert "p95 per 10 s ranged 3600.0–4000 ms" in text


def test_the_report_section_states_verdicts_contention_and_the_generator_ceiling(tmp_path):
    lines = "\n".join(tier_section(fast_run(), tmp_path / "S-2026-11-21.json", {}, "plots/"))
    assert "| search p99 ≤ 50 ms at 64 users | p99 45 ms (1500/s, p50 30 ms) | **met** |" in lines
    assert "a quiet machine" in lines
    assert "the generator drove 2,500 requests/s" in lines and "0.160 ms of generator CPU per request" in lines
    assert "| 64 | search_fts | 60.0 | 800 |" in lines
    assert "loaded by `shoka demo load --tier S` in 98 s" in lines


def test_the_disk_s_sync_latency_is_stated_when_it_was_probed(tmp_path):
    run = fast_run()
    assert "fdatasync" not in "\n".join(tier_section(run, tmp_path / "S-2026-11-21.json", {}, "plots/"))
    run["setup"]["disk_sync"] = {"seconds": 10.0, "syncs": 3000, "p50_ms": 0.3, "p99_ms": 6.2, "max_ms": 211.4,
                                 "over_50_ms": 9}
    lines = "\n".join(tier_section(run, tmp_path / "S-2026-11-21.json", {}, "plots/"))
    assert "p50 0.3 ms, p99 6.2 ms, max 211.4 ms; 9 of 3,000 syncs took over 50 ms" in lines


def test_a_contended_run_says_so():
    run = fast_run()
    for each in run["steps"]:
        each["resources"]["machine"]["other_cores"] = 0.8
    assert "a **contended** machine" in "\n".join(tier_section(run, Path("S-2026-11-21.json"), {}, "plots/"))


def test_the_newest_results_of_each_tier_are_chosen(tmp_path):
    for name in ("S-2026-11-20.json", "S-2026-11-21.json", "L-2026-11-19.json", "checkout-S.json"):
        (tmp_path / name).write_text("{}")
    assert {tier: path.name for tier, path in latest_results(tmp_path).items()} == {
        "S": "S-2026-11-21.json", "L": "L-2026-11-19.json"}


def test_write_report_makes_the_markdown_and_its_plots(tmp_path):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "S-2026-11-21.json").write_text(json.dumps(fast_run()))
    (folder / "L-2026-11-22.json").write_text(json.dumps(opening_day(p99_home=4000)))
    report = tmp_path / "RESULTS.md"
    write_report(folder, report)
    text = report.read_text()
    assert text.index("## Tier S") < text.index("## Tier L")
    assert "](results/S-2026-11-21.json)" in text
    assert "![search latency](plots/S-search-latency.png)" in text
    assert "![opening day p95 over time](plots/L-opening-day.png)" in text
    assert "**missed**" in text
    for name in ("S-search-latency.png", "S-checkout-latency.png", "S-throughput.png", "L-opening-day.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 1000


def test_errors_in_the_warm_up_count_against_zero_errors():
    run = fast_run()
    run["steps"][1]["warmup_errors"] = {"search": {"HTTP 500": 2}}
    verdict = next(verdict for verdict in targets.evaluate(run) if verdict.target == "zero errors")
    assert verdict.met is False and verdict.measured.endswith("2 more during warm-ups")
    assert "search 1 warm-up, search: {'HTTP 500': 2}" in verdict.reasons


def test_the_server_s_logged_errors_explain_the_errors():
    from loadtests.server import errors_in_log

    log = "\n".join([
        "[INFO] Started worker-1",
        '{"time": "t", "level": "info", "message": "serving"}',
        '{"time": "t", "level": "error", "message": "unhandled error", "path_template": "/", '
        '"traceback": "Traceback (most recent call last):\\n  ...\\n'
        'psycopg_pool.PoolTimeout: no connection after 5 s"}',
        '{"time": "t", "level": "error", "message": "unhandled error", "path_template": "/", '
        '"traceback": "Traceback:\\npsycopg_pool.PoolTimeout: no connection after 5 s"}',
        '{"time": "t", "level": "error", "logger": "shoka.sip2.server", "message": "terminal dropped"}',
    ])
    logged = errors_in_log(log)
    assert logged == [{"where": "/", "error": "psycopg_pool.PoolTimeout: no connection after 5 s", "count": 2},
                      {"where": "shoka.sip2.server", "error": "terminal dropped", "count": 1}]
    run = fast_run()
    run["server_errors"] = logged
    run["steps"][1]["by_kind"]["search"]["errors"] = 2
    verdict = next(verdict for verdict in targets.evaluate(run) if verdict.target == "zero errors")
    assert "2 × `psycopg_pool.PoolTimeout: no connection after 5 s` at /" in " ".join(verdict.reasons)


def test_pool_time_outs_point_at_the_slowest_request_type():
    run = opening_day(p99_home=4000)
    run["server_errors"] = [{"where": "/bibs/{bib_ref}", "count": 9,
                             "error": "psycopg_pool.PoolTimeout: couldn't get a connection after 5.00 sec"}]
    text = " ".join(targets.opening_day_context(run))
    assert "9 × `psycopg_pool.PoolTimeout" in text
    assert "the slowest request type with one user was opac_home (p50 2000.0 ms)" in text


def test_a_run_of_the_opening_day_alone_has_no_empty_overview_of_steps():
    run = opening_day(p99_home=120)
    run["steps"] = [each for each in run["steps"] if each["scenario"] == "opening_day"]
    lines = "\n".join(tier_section(run, Path("L-2026-11-21.json"), {}, "plots/"))
    assert "### Opening day" in lines and "### Throughput and latency of every step" not in lines
    with_steps = "\n".join(tier_section(fast_run(), Path("S-2026-11-21.json"), {"throughput": Path("S-throughput.png")},
                                         "plots/"))
    assert "### Throughput and latency of every step\n\n![throughput against load](plots/S-throughput.png)" in with_steps
