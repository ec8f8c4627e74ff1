"""`python -m loadtests run|report`: a whole load-test run, or the report rewritten from recorded results.

Every option has an environment variable so `make loadtest` can pass it through (the variable is read when the
option is not given):

| option | variable | default |
|---|---|---|
| --tier | TIER | S |
| --home | LOADTEST_HOME | var/loadtest-<tier> |
| --database-url | LOADTEST_DATABASE_URL | embedded PostgreSQL in <home>/pg |
| --credentials | LOADTEST_CREDENTIALS | <home>/demo-credentials.json |
| --scenarios | LOADTEST_SCENARIOS | the tier's plan (loadtests/plan.py) |
| --scale | LOADTEST_SCALE | 1 (0.1 for a quick trial: every step a tenth as long, at least 2 s) |
| --generator-processes | LOADTEST_GENERATOR_PROCESSES | 2 |
| --results-folder | LOADTEST_RESULTS_FOLDER | loadtests/results |
| --report | LOADTEST_REPORT | loadtests/RESULTS.md (plots in loadtests/plots/ beside it) |
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loadtests.plan import TIERS, PlanError, tier_plan

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS_FOLDER = REPOSITORY / "loadtests" / "results"
REPORT = REPOSITORY / "loadtests" / "RESULTS.md"
README = REPOSITORY / "README.md"


def _environment(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _readme_for(report: Path) -> Path | None:
    """The README's capacity figures follow the repository's own report only, never a scratch one."""
    return README if report.resolve() == REPORT else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the service, run the scenarios, write results and the report")
    run.add_argument("--tier", choices=TIERS, default=_environment("TIER", "S"))
    run.add_argument("--home", type=Path, default=_environment("LOADTEST_HOME"))
    run.add_argument("--database-url", default=_environment("LOADTEST_DATABASE_URL"))
    run.add_argument("--credentials", type=Path, default=_environment("LOADTEST_CREDENTIALS"))
    run.add_argument("--scenarios", default=_environment("LOADTEST_SCENARIOS", ""),
                     help="e.g. 'search=1,8,32,64@20 checkout opening_day=200/16/4@300'")
    run.add_argument("--scale", type=float, default=float(_environment("LOADTEST_SCALE", "1")))
    run.add_argument("--generator-processes", type=int,
                     default=int(_environment("LOADTEST_GENERATOR_PROCESSES", "2")))
    run.add_argument("--http-workers", type=int, default=2)
    run.add_argument("--paced-rate", type=float, default=float(_environment("LOADTEST_PACED_RATE", "500")),
                     help="checkouts a second the paced lending desks share (default: the target, 500)")
    run.add_argument("--results-folder", type=Path,
                     default=_environment("LOADTEST_RESULTS_FOLDER", str(RESULTS_FOLDER)))
    run.add_argument("--report", type=Path, default=_environment("LOADTEST_REPORT", str(REPORT)),
                     help="the report to rewrite ('-' for none)")
    run.add_argument("--drop-baseline", action="store_true", help="drop the full-text baseline table afterwards")
    report = commands.add_parser("report", help="rewrite the report and plots from the recorded results")
    report.add_argument("--results-folder", type=Path, default=RESULTS_FOLDER)
    report.add_argument("--report", type=Path, default=REPORT)
    arguments = parser.parse_args(argv)

    if arguments.command == "report":
        from loadtests.report import write_report  # imported late: matplotlib is slow to import

        written = write_report(arguments.results_folder, arguments.report, _readme_for(arguments.report))
        print(f"wrote {arguments.report} from {', '.join(path.name for path in written)}")
        return 0
    if arguments.paced_rate <= 0:
        print(f"loadtest: --paced-rate must be a positive number of checkouts a second, not {arguments.paced_rate:g}",
              file=sys.stderr)
        return 2
    try:
        plans = tier_plan(arguments.tier, arguments.scenarios, arguments.scale)
    except PlanError as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    from loadtests.runner import Run, RunOptions

    home = (arguments.home or REPOSITORY / "var" / f"loadtest-{arguments.tier}").resolve()
    options = RunOptions(tier=arguments.tier, home=home, database_url=arguments.database_url,
                         credentials=arguments.credentials, plans=plans, plan_text=arguments.scenarios,
                         scale=arguments.scale, generator_processes=arguments.generator_processes,
                         http_workers=arguments.http_workers, results_folder=arguments.results_folder,
                         keep_baseline=not arguments.drop_baseline, paced_checkouts_per_second=arguments.paced_rate)
    Run(options).execute()
    if str(arguments.report) != "-":
        from loadtests.report import write_report

        write_report(arguments.results_folder, arguments.report, _readme_for(arguments.report))
        print(f"wrote {arguments.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
