"""How far the machine went, per workload, and the README block made from it."""

from loadtests import capacity
from made_results import fast_run, results, step, summary


def test_peak_and_the_most_within_the_bound_per_workload():
    run = results(steps=[
        step("search", (1,), {"search": summary(200, 4, 12)}, http=0.5),
        step("search", (32,), {"search": summary(600, 30, 48)}, http=1.5),
        step("search", (64,), {"search": summary(650, 60, 140)}, http=1.6, postgresql=0.02),
        step("checkout", (1,), {"checkout": summary(40, 10, 20), "checkin": summary(40, 9, 18)}),
    ])
    rows = {row.label.split()[0]: row for row in capacity.capacities(run)}
    search = rows["search"]
    assert (search.peak_per_s, search.peak_level, search.peak_p99_ms) == (650, 64, 140)
    assert (search.within_bound_per_s, search.within_bound_level) == (600, 32)
    assert search.service_ms_per_request == round(1.61 / 650 * 1000, 2)
    assert search.postgresql_ms_per_request == round(0.02 / 650 * 1000, 2)
    desks = rows["counter"]
    assert desks.peak_per_s == 80 and desks.peak_p99_ms == 20  # checkouts and checkins together; the worse p99


def test_a_step_with_errors_is_not_within_the_bound():
    run = results(steps=[step("sru", (8,), {"sru": summary(100, 5, 9, errors=1)})])
    (row,) = capacity.capacities(run)
    assert row.within_bound_per_s is None
    assert "| none ≤ 300 ms |" in "\n".join(capacity.capacity_lines(run))


def test_the_table_names_loads_with_their_unit():
    text = "\n".join(capacity.capacity_lines(fast_run()))
    assert "| 1,500/s (at 64 users) | 45 ms | 1,500/s (at 64 users) ≤ 50 ms |" in text
    assert "(at 16 desks)" in text
    assert "Peak memory: HTTP workers 900 MB, SIP2 process 400 MB, PostgreSQL 300 MB" in text


def test_the_readme_block_between_its_markers_is_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Shoka\n\n## Capacity\n\n{capacity.README_START}\nold figures\n{capacity.README_END}\n\n"
                      "## Next\n")
    assert capacity.update_readme(readme, [(fast_run(), "S-2026-11-21.json")])
    text = readme.read_text()
    assert "old figures" not in text and text.endswith("## Next\n")
    assert "**Tier S** — `make loadtest TIER=S` on 2026-11-21 (2 cores, 23.5 GiB, a quiet machine" in text
    assert "[`loadtests/results/S-2026-11-21.json`](loadtests/results/S-2026-11-21.json)" in text
    assert text.count(capacity.README_START) == 1 and text.count(capacity.README_END) == 1
    plain = tmp_path / "OTHER.md"
    plain.write_text("no markers\n")
    assert not capacity.update_readme(plain, [(fast_run(), "S-2026-11-21.json")])
    assert plain.read_text() == "no markers\n"


def test_a_run_of_the_opening_day_alone_still_reports_memory_and_the_opening_day():
    lines = capacity.capacity_lines(results(tier="L", steps=[
        step("opening_day", (200, 16, 4), {"opac_search": summary(50, 9, 45), "checkout": summary(5, 7, 40)})]))
    assert lines[0].startswith("Peak memory: HTTP workers") and not any(line.startswith("| workload") for line in lines)
    assert lines[-1].startswith("Opening day (200 OPAC users, 16 desks, 4 kiosks with think times): 55 answers/s")
