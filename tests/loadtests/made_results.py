"""Results files made up for the harness's tests: the shape runner.py writes, with chosen figures."""


def summary(throughput, p50, p99, errors=0, refused=0, error_kinds=None):
    return {"requests": int(throughput * 10) + errors, "ok": int(throughput * 10) - refused, "refused": refused,
            "errors": errors, "throughput_per_s": throughput, "p50_ms": p50, "p95_ms": (p50 + p99) / 2,
            "p99_ms": p99, "max_ms": p99 * 1.2, "mean_ms": p50 * 1.1, "error_kinds": error_kinds or {},
            "refusal_codes": {}}


def resources(http=0.5, postgresql=0.2, generator=0.1, other=0.0, busy=None):
    groups = {"service_http": {"cpu_cores": http, "memory_mb_peak": 900, "memory_mb_mean": 800, "processes": 3},
              "service_sip2": {"cpu_cores": 0.01, "memory_mb_peak": 400, "memory_mb_mean": 400, "processes": 2},
              "postgresql": {"cpu_cores": postgresql, "memory_mb_peak": 300, "memory_mb_mean": 250,
                             "processes": 12},
              "generator": {"cpu_cores": generator, "memory_mb_peak": 120, "memory_mb_mean": 110, "processes": 3}}
    used = http + 0.01 + postgresql + generator + other
    return {"seconds": 10.0, "groups": groups,
            "machine": {"cores": 2, "busy_cores": busy if busy is not None else used, "other_cores": other,
                        "load_average_1m": 1.0}}


def step(scenario, level, by_kind, **resource_figures):
    return {"scenario": scenario, "level": list(level), "seconds": 10.0, "warmup_seconds": 3.0, "by_kind": by_kind,
            "resources": resources(**resource_figures), "harness_failures": []}


def results(tier="S", steps=()):
    return {"tier": tier, "date": "2026-11-21", "started_at": "2026-11-21T10:00:00", "plan": ["search=1,64@10"],
            "plan_text": "", "scale": 1.0, "duration_seconds": 600,
            "contention": {"load_average_before": [0.1, 0.2, 0.3]},
            "generator": {"processes": 2, "client": "asyncio, raw HTTP/1.1", "uvloop": True},
            "think_times_s": {"opac_user": [1.0, 3.0], "desk": [1.0, 2.0], "kiosk": [2.0, 4.0]},
            "setup": {"demo_load": {"reused_existing": False, "seconds": 98.0}, "server_ready_seconds": 20.5,
                      "fts_baseline": {"build_seconds": 40.0, "reused": False, "records": 300000}},
            "machine": {"host": "builder", "cores": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5, "os": "Linux",
                        "python": "3.11.7", "postgresql": "18.6"},
            "library": {"bibs": 300000, "items": 400000, "patrons": 60000, "open_loans": 20000,
                        "loans_all_time": 1000000, "active_holds": 2000, "service_points": 17},
            "git": {"commit": "abc123", "uncommitted_changes": False}, "steps": list(steps)}


def fast_run():
    return results(steps=[
        step("ceiling", (64,), {"static": summary(2500, 10, 30)}, http=1.2, generator=0.4),
        step("search", (1,), {"search": summary(300, 2, 6)}),
        step("search", (64,), {"search": summary(1500, 30, 45)}, http=1.5, busy=1.9),
        step("search_fts", (64,), {"search_fts": summary(60, 800, 2500)}, http=0.0, postgresql=1.9),
        step("checkout", (16,), {"checkout": summary(300, 10, 25), "checkin": summary(300, 9, 22)}),
        step("checkout_floor", (16,), {"floor_checkout": summary(900, 5, 12)}),
    ])
