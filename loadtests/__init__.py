"""Shoka's load tests: scenarios that drive a real `shoka serve` over HTTP and SIP2 on 127.0.0.1, with the
PostgreSQL baselines measured in the same run, and the report (RESULTS.md, plots) made from what was measured.

    make loadtest TIER=S                  # or: .venv/bin/python -m loadtests run --tier S
    .venv/bin/python -m loadtests report  # rewrite RESULTS.md and the plots from loadtests/results/*.json

The modules: `plan` (which scenarios, at which loads, for how long), `runner` (one whole run), `server` (the
service under test), `scenarios` (a plan's step as groups of virtual users), `generator` (the load-generating
processes), `virtual_user`, `workloads_web` and `workloads_circulation` (what one virtual user does),
`http_client` and `sip2_client` (the wire), `query_mix` (the Japanese query mix the search benchmark uses too),
`fts_baseline` and the floor in `workloads_circulation` (the PostgreSQL baselines), `library_data` (free copies
and patrons for desks and kiosks), `resources` (CPU and memory of the server, PostgreSQL and the generator),
`stats`, `targets` (verdicts and their reasons), `capacity`, `report` and `plots`. The component benchmarks
(`search_benchmark`, `protocols_benchmark`) write BENCHMARKS.md's figures.
"""
