"""Reading scenario plans: `name=LEVELS@SECONDS`, tier defaults, scaling."""

import dataclasses

import pytest

from loadtests.plan import (SCENARIOS, PlanError, default_plan, parse_entry, parse_plan, planned_seconds, tier_plan,
                            warmup_seconds)


def test_an_entry_with_levels_and_seconds():
    plan = parse_entry("search=1,8,32,64@20")
    assert (plan.name, plan.levels, plan.seconds) == ("search", (1, 8, 32, 64), 20.0)
    assert plan.steps == ((1,), (8,), (32,), (64,))
    assert plan.describe() == "search=1,8,32,64@20"


def test_names_with_digits_and_a_seconds_suffix():
    assert parse_entry("sip2=1,2,4@12s").seconds == 12.0


def test_the_opening_day_is_one_step_of_users_desks_and_kiosks():
    plan = parse_entry("opening_day=200/16/4@300")
    assert plan.levels == (200, 16, 4)
    assert plan.steps == ((200, 16, 4),)
    assert plan.describe() == "opening_day=200/16/4@300"


def test_a_bare_name_takes_the_tier_default():
    defaults = {plan.name: plan for plan in default_plan("S")}
    assert parse_entry("checkout", defaults) == defaults["checkout"]
    assert parse_entry("checkout@5", defaults).levels == defaults["checkout"].levels


@pytest.mark.parametrize("entry, problem", [
    ("searches=1@5", "unknown scenario"),
    ("search=1;2@5", "expected NAME"),
    ("search=0,8@5", "at least one user"),
    ("opening_day=200/16@300", "OPAC users/desks/kiosks"),
    ("opening_day=200,16,4@300", "OPAC users/desks/kiosks"),
    ("search=1,8", "no default"),
    ("search@0", "no default"),
])
def test_bad_entries_name_the_problem(entry, problem):
    with pytest.raises(PlanError, match=problem):
        parse_entry(entry)


def test_a_plan_runs_in_the_canonical_order_and_the_last_entry_wins():
    plans = parse_plan("checkout=1@5; search=1@5\nsearch=8@5  ceiling=4@2")
    assert [plan.name for plan in plans] == ["ceiling", "search", "checkout"]
    assert plans[1].levels == (8,)


def test_an_empty_plan_is_refused():
    with pytest.raises(PlanError):
        parse_plan("  ")


def test_every_tier_plans_every_scenario():
    for tier in ("S", "L"):
        assert [plan.name for plan in default_plan(tier)] == list(SCENARIOS)
    with pytest.raises(PlanError):
        default_plan("XL")


def test_the_issue_s_loads_are_in_the_defaults():
    s = {plan.name: plan for plan in default_plan("S")}
    assert 64 in s["search"].levels and 16 in s["checkout"].levels
    assert {plan.name: plan for plan in default_plan("L")}["opening_day"] == parse_entry("opening_day=200/16/4@300")


def test_tier_s_scenarios_leave_room_for_the_load_within_twenty_minutes():
    # `make loadtest TIER=S` must end within 20 minutes including the load (2 minutes quiet, 5 contended), the
    # server's first start (index build) and the full-text baseline's build, each a minute or two.
    assert planned_seconds(default_plan("S")) < 10 * 60


def test_scale_shortens_every_step_but_not_below_two_seconds():
    plans = tier_plan("S", "search ceiling", scale=0.1)
    assert [plan.name for plan in plans] == ["ceiling", "search"]
    assert plans[1].seconds == 2.0  # 20 s × 0.1
    assert tier_plan("S", "", scale=0.5)[1].seconds == 10.0
    with pytest.raises(PlanError):
        tier_plan("S", "", scale=0)


def test_warm_up_is_shorter_for_short_trial_steps():
    assert warmup_seconds(20) == 3.0
    assert warmup_seconds(2) == 1.0


def test_the_paced_desks_share_the_rate_a_run_asks_for():
    """`--paced-rate`: the paced lending desks (API and floor) share that many checkouts a second, 500 unless
    asked, so that latency can be read at several loads below saturation."""
    from loadtests import scenarios

    prepared = scenarios.Prepared(queries=(), record_ids=(), staff_token="", desks=(), floor_desks=(), kiosks=(),
                                  sip2_user="", sip2_password="")
    slower = dataclasses.replace(prepared, paced_checkouts_per_second=100.0)
    for name in ("lending_paced", "lending_floor_paced"):
        (default,) = scenarios.step_groups(name, (8,), prepared)
        (group,) = scenarios.step_groups(name, (8,), slower)
        assert (default.users, group.users) == (8, 8)
        assert (default.workload.requests_per_second, group.workload.requests_per_second) == (500 / 8, 100 / 8)


def test_a_paced_rate_that_is_not_positive_is_refused(capsys):
    from loadtests.__main__ import main

    assert main(["run", "--paced-rate", "0", "--scenarios", "lending_paced=8@1"]) == 2
    assert "--paced-rate" in capsys.readouterr().err
