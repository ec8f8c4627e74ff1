"""PNG plots of a run (matplotlib, drawn without a display): latency against load for search and checkout with
their PostgreSQL baselines and targets, latency of every stepped scenario, throughput against load, and the
opening day's p95 over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter  # noqa: E402

from loadtests import targets  # noqa: E402

PERCENTILES = (("p50_ms", "p50", ":"), ("p95_ms", "p95", "--"), ("p99_ms", "p99", "-"))
# The scenario, the kinds whose throughput adds up to its throughput, and its label.
THROUGHPUT_SERIES = (
    ("search", ("search",), "search (API)"),
    ("search_fts", ("search_fts",), "PostgreSQL full-text"),
    ("opac", ("opac_home", "opac_search", "opac_record"), "OPAC pages"),
    ("sru", ("sru",), "SRU"),
    ("federated", ("federated",), "federated"),
    ("checkout", ("checkout", "checkin"), "desk checkout + checkin"),
    ("checkout_floor", ("floor_checkout", "floor_checkin"), "bare PostgreSQL transactions"),
    ("lending", ("checkout",), "lending desk checkouts"),
    ("lending_floor", ("floor_checkout",), "bare PostgreSQL checkouts"),
    ("sip2", ("sip2_patron_info", "sip2_checkout", "sip2_checkin"), "SIP2 messages"),
)


def _series(results: dict, scenario: str, kind: str, field: str) -> tuple[list[int], list[float]]:
    points = [(step["level"][0], step["by_kind"][kind][field]) for step in targets.steps_of(results, scenario)
              if kind in step["by_kind"] and step["by_kind"][kind][field] is not None]
    return [level for level, _ in points], [value for _, value in points]


def _latency_axes(axes, results: dict, lines: list[tuple[str, str, str]], target_ms: float | None,
                  unit: str) -> bool:
    drawn, every_level = False, []
    for number, (scenario, kind, label) in enumerate(lines):
        colour = f"C{number}"
        for field, name, style in PERCENTILES:
            levels, values = _series(results, scenario, kind, field)
            if levels:
                axes.plot(levels, values, style, marker="o", markersize=3, color=colour, label=f"{label} {name}")
                drawn = True
                every_level += levels
    if target_ms is not None:
        axes.axhline(target_ms, color="red", linewidth=0.8, label=f"target p99 {target_ms:g} ms")
    _level_axis(axes, every_level, unit)
    axes.set_yscale("log")
    axes.set_ylabel("latency (ms)")
    axes.grid(True, which="both", alpha=0.3)
    return drawn


def _level_axis(axes, levels: list[int], unit: str) -> None:
    """A log-2 axis of concurrency labelled with the levels measured (1, 8, 32, 64), not powers of two."""
    axes.set_xscale("log", base=2)
    if levels:
        axes.xaxis.set_major_locator(FixedLocator(sorted(set(levels))))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_xlabel(unit)


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def latency_plot(results: dict, folder: Path, name: str, title: str, lines: list[tuple[str, str, str]],
                 target_ms: float | None, unit: str) -> Path | None:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    if not _latency_axes(axes, results, lines, target_ms, unit):
        plt.close(figure)
        return None
    axes.set_title(title)
    axes.legend(fontsize=7, ncol=2)
    return _save(figure, folder / f"{results['tier']}-{name}.png")


def all_latencies_plot(results: dict, folder: Path) -> Path | None:
    panels = [(scenario, kinds, label) for scenario, kinds, label in THROUGHPUT_SERIES
              if targets.steps_of(results, scenario)]
    if not panels:
        return None
    columns = 2
    rows = (len(panels) + 1) // columns
    figure, grid = plt.subplots(rows, columns, figsize=(10, 3.2 * rows), squeeze=False)
    for axes, (scenario, kinds, label) in zip(grid.flat, panels):
        unit = ("desks" if scenario.startswith(("checkout", "lending"))
                else "kiosks" if scenario == "sip2" else "users")
        _latency_axes(axes, results, [(scenario, kind, kind) for kind in kinds], None, unit)
        axes.set_title(label, fontsize=9)
        axes.legend(fontsize=6, ncol=len(kinds))
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    return _save(figure, folder / f"{results['tier']}-latency-all.png")


def throughput_plot(results: dict, folder: Path) -> Path | None:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    every_level = []
    for scenario, kinds, label in THROUGHPUT_SERIES:
        steps = targets.steps_of(results, scenario)
        if not steps:
            continue
        levels = [step["level"][0] for step in steps]
        values = [sum(step["by_kind"].get(kind, {}).get("throughput_per_s", 0) for kind in kinds) for step in steps]
        axes.plot(levels, values, marker="o", markersize=3, label=label)
        every_level += levels
    if not every_level:
        plt.close(figure)
        return None
    _level_axis(axes, every_level, "concurrent users, desks, kiosks or connections")
    axes.set_yscale("log")
    axes.set_ylabel("answered requests per second")
    axes.set_title(f"Tier {results['tier']}: throughput against load")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    return _save(figure, folder / f"{results['tier']}-throughput.png")


def opening_day_plot(results: dict, folder: Path) -> Path | None:
    step = targets.find_step(results, "opening_day")
    if step is None or not step.get("timeline"):
        return None
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for kind, series in step["timeline"].items():
        points = [(bucket["t_s"], bucket["p95_ms"]) for bucket in series if bucket["p95_ms"] is not None]
        if kind != "sip2_login" and points:
            axes.plot([t for t, _ in points], [value for _, value in points], marker=".", label=kind)
    axes.axhline(targets.OPENING_DAY_P99_MS, color="red", linewidth=0.8, label="target p99 300 ms")
    users, desks, kiosks = step["level"]
    axes.set_title(f"Tier {results['tier']} opening day: {users} OPAC users, {desks} desks, {kiosks} kiosks")
    axes.set_xlabel("seconds into the measured window")
    axes.set_ylabel("p95 per 10 s (ms)")
    axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    return _save(figure, folder / f"{results['tier']}-opening-day.png")


def draw_all(results: dict, folder: Path) -> dict[str, Path]:
    """Every plot this run has data for, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {
        "search": latency_plot(results, folder, "search-latency",
                               f"Tier {results['tier']}: search latency against load",
                               [("search", "search", "engine via /api/v1/search"),
                                ("search_fts", "search_fts", "PostgreSQL full-text")],
                               targets.SEARCH_P99_MS if results["tier"] != "L" else None, "concurrent users"),
        "checkout": latency_plot(results, folder, "checkout-latency",
                                 f"Tier {results['tier']}: checkout latency against desks",
                                 [("checkout", "checkout", "API checkout"), ("checkout", "checkin", "API checkin"),
                                  ("checkout_floor", "floor_checkout", "bare PostgreSQL checkout")],
                                 targets.CHECKOUT_P99_MS if results["tier"] != "L" else None, "desks"),
        "all": all_latencies_plot(results, folder),
        "throughput": throughput_plot(results, folder),
        "opening_day": opening_day_plot(results, folder),
    }
    return {name: path for name, path in drawn.items() if path is not None}
