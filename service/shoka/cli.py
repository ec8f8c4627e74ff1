"""The `shoka` command (CONTRACT.md, "CLI"). Exit status 0 on success; otherwise one line on stderr naming
what went wrong, and a non-zero status."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json
import os
import sys
import time
from collections.abc import Callable

import psycopg

from shoka.audit import Actor
from shoka.auth.passwords import WeakPassword
from shoka.auth.roles import StaffRole
from shoka.config import ConfigurationError, Settings, load_settings
from shoka.db.migrate import MigrationError, upgrade
from shoka.db.server import DatabaseUnavailable, describe_url, resolve_database_url
from shoka.errors import ShokaError
from shoka.federation.cli_commands import add_peer_commands

EXPECTED_FAILURES = (ShokaError, ConfigurationError, DatabaseUnavailable, MigrationError, WeakPassword,
                     psycopg.OperationalError)


class CommandFailed(Exception):
    """A command could not do what was asked; the message is the one line the operator sees."""


def cli_actor() -> Actor:
    return Actor(kind="cli", name=os.environ.get("SUDO_USER") or os.environ.get("USER") or "cli")


def command_db_upgrade(settings: Settings, _arguments: argparse.Namespace) -> None:
    url = resolve_database_url(settings)
    report = upgrade(url)
    applied = ", ".join(report.applied) if report.applied else "nothing to apply"
    print(f"schema version {report.current_version} ({applied}) on {describe_url(url)}")


def command_serve(settings: Settings, _arguments: argparse.Namespace) -> None:
    from shoka.serve import serve

    serve(settings)


def command_demo_load(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.demo import (DatabaseNotEmpty, DatabaseNotMigrated, DemoAccountConflict, DemoDataMissing,
                            load_demo_library)

    url = resolve_database_url(settings)
    started = time.monotonic()
    try:
        report = load_demo_library(url, settings.home, tier=arguments.tier, seed=arguments.seed,
                                   reference_date=arguments.reference_date or dt.date.today(),
                                   show_progress=sys.stderr.isatty() or arguments.progress)
    except DatabaseNotEmpty as error:
        if arguments.if_empty:
            print(f"demo library not loaded: {error}")
            return
        raise CommandFailed(str(error)) from None
    except (DatabaseNotMigrated, DemoAccountConflict, DemoDataMissing) as error:
        raise CommandFailed(str(error)) from None
    counts = ", ".join(f"{table} {count:,}" for table, count in report.counts.items()
                       if table in ("service_point", "bib", "item", "patron", "loan", "hold", "staff_account"))
    print(f"demo library ({arguments.tier}) loaded in {time.monotonic() - started:.1f} s: {counts}; "
          f"credentials in {report.credentials_file}")


def read_new_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise CommandFailed("the two passwords differ")
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CommandFailed("no password on standard input")
    return line


def command_staff_add(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.auth.staff_accounts import create_staff_account

    url = resolve_database_url(settings)
    password = read_new_password()

    async def create() -> int:
        async with await psycopg.AsyncConnection.connect(url) as connection:
            return await create_staff_account(
                connection, username=arguments.username.lower(), role=StaffRole(arguments.role), password=password,
                branch_codes=arguments.branch or [], display_name=arguments.name or "", actor=cli_actor())

    staff_id = asyncio.run(create())
    scope = ", ".join(arguments.branch) if arguments.branch else "all branches"
    print(f"staff account {arguments.username.lower()} ({arguments.role}, {scope}) created with id {staff_id}")


def command_staff_unlock(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.auth.staff_accounts import unlock_staff_account

    url = resolve_database_url(settings)

    async def unlock() -> None:
        async with await psycopg.AsyncConnection.connect(url) as connection:
            await unlock_staff_account(connection, arguments.username.lower(), cli_actor())

    asyncio.run(unlock())
    print(f"staff account {arguments.username.lower()} unlocked")


def command_audit_verify(settings: Settings, _arguments: argparse.Namespace) -> None:
    from shoka.audit import record_operation
    from shoka.audit_chain import verify_operation_log_chain

    url = resolve_database_url(settings)

    async def verify():
        async with await psycopg.AsyncConnection.connect(url) as connection:
            report = await verify_operation_log_chain(connection)
            async with connection.transaction(), connection.cursor() as cursor:
                await record_operation(cursor, cli_actor(), "audit.verify", "operation_log", None, report.as_detail())
            return report

    report = asyncio.run(verify())
    if not report.intact:
        raise CommandFailed(report.describe())
    print(report.describe())


def command_import_marc(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.catalogue.imports import import_marc_files
    from shoka.clock import utc_now

    missing = [path for path in arguments.files if not os.path.isfile(path)]
    if missing:
        raise CommandFailed(f"no such file: {missing[0]}")
    report = import_marc_files(resolve_database_url(settings), arguments.files, dry_run=arguments.dry_run,
                               skip_rejects=arguments.skip_rejects, actor=cli_actor(), now=utc_now())
    for summary in report.files:
        print(f"{summary.file_name} ({summary.file_format}): {summary.records} records read, "
              f"{len(summary.rejects)} rejected")
        for reject in summary.rejects:
            print(f"  rejected: {reject.describe()}")
    verb = "would add" if report.dry_run else "added"
    if report.refused:
        raise CommandFailed(f"{report.rejected} records rejected: nothing imported (all-or-nothing); fix the "
                            "records or re-run with --skip-rejects to import the others")
    print(f"{verb} {report.added}, {'would update' if report.dry_run else 'updated'} {report.updated}, "
          f"rejected {report.rejected}{' (dry run: nothing written)' if report.dry_run else ''}")


def command_import_aozora(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.catalogue.imports import import_aozora_list
    from shoka.clock import utc_now

    if not os.path.isfile(arguments.file):
        raise CommandFailed(f"no such file: {arguments.file}")
    report = import_aozora_list(resolve_database_url(settings), arguments.file, dry_run=arguments.dry_run,
                                actor=cli_actor(), now=utc_now())
    for reject in report.rejects:
        print(f"  rejected: {reject.describe()}")
    prefix = "dry run, nothing written: " if arguments.dry_run else ""
    print(f"{prefix}{report.works} works ({report.list_format} list, {report.encoding}): added {report.added}, "
          f"changed {report.changed}, withdrawn {report.withdrawn}, unchanged {report.unchanged}, "
          f"rejected rows {len(report.rejects)}")


def command_reindex(settings: Settings, _arguments: argparse.Namespace) -> None:
    from shoka.catalogue.reindex import reindex

    report = reindex(resolve_database_url(settings), settings.index_folder, show_progress=sys.stderr.isatty())
    print(f"indexed {report.records} records in {report.seconds:.1f} s ({report.records_per_second:,.0f}/s) "
          f"into {report.generation.name}; search switched to it")


def command_check(settings: Settings, arguments: argparse.Namespace) -> None:
    from shoka.circulation.consistency import run_check

    report = run_check(resolve_database_url(settings), timeout_seconds=arguments.timeout)
    if not report["live_replicas"]:
        raise CommandFailed("no running engine replica answered: is `shoka serve` running on this database?")
    drifted = {replica: answer for replica, answer in report["answers"].items() if answer[1]}
    for replica, (applied_seq, differences) in sorted(report["answers"].items()):
        state = "clean" if not differences else f"{len(differences)} differences"
        print(f"{replica}: applied up to outbox event {applied_seq}: {state}")
        for difference in differences[:50]:
            print(f"  {json.dumps(difference, ensure_ascii=False)}")
    if report["silent"]:
        raise CommandFailed(f"no answer from {', '.join(report['silent'])} within {arguments.timeout:.0f} s")
    if drifted:
        raise CommandFailed(f"{len(drifted)} of {len(report['answers'])} replicas differ from the database")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-04-01") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shoka", description="Shoka (書架) library system")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve HTTP (OPAC, staff, API, SRU) and SIP2")
    serve.set_defaults(handler=command_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the schema (idempotent)").set_defaults(handler=command_db_upgrade)

    demo = commands.add_parser("demo", help="demo library").add_subparsers(dest="demo_command", required=True)
    demo_load = demo.add_parser("load", help="load the demo library (or a benchmark tier)")
    demo_load.add_argument("--tier", choices=["demo", "S", "L"], default="demo",
                           help="demo (about 20,000 titles) or the scale tiers S and L of REQUIREMENTS.md")
    demo_load.add_argument("--seed", type=int, default=2024, help="generator seed (default 2024)")
    demo_load.add_argument("--reference-date", type=parse_date, default=None,
                           help="the date the demo's loans and holds are relative to (default today)")
    demo_load.add_argument("--if-empty", action="store_true", help="do nothing if the database already has records")
    demo_load.add_argument("--progress", action="store_true", help="show progress bars even without a terminal")
    demo_load.set_defaults(handler=command_demo_load)

    imports = commands.add_parser("import", help="import records").add_subparsers(dest="import_command", required=True)
    import_marc = imports.add_parser("marc", help="MARC21 ISO 2709 (UTF-8 or MARC-8) or MARCXML, detected")
    import_marc.add_argument("files", nargs="+", metavar="FILE")
    import_marc.add_argument("--dry-run", action="store_true", help="read and report; write nothing")
    import_marc.add_argument("--skip-rejects", action="store_true",
                             help="import the good records and report the rejected ones (default: all or nothing)")
    import_marc.set_defaults(handler=command_import_marc)
    import_aozora = imports.add_parser("aozora", help="Aozora Bunko works list (zip or csv, any encoding)")
    import_aozora.add_argument("file", metavar="FILE")
    import_aozora.add_argument("--dry-run", action="store_true", help="report added/changed/withdrawn; write nothing")
    import_aozora.set_defaults(handler=command_import_aozora)

    commands.add_parser("reindex", help="rebuild the search index from PostgreSQL and swap it in") \
        .set_defaults(handler=command_reindex)
    check = commands.add_parser("check", help="compare every running engine replica's loan state with the database")
    check.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the replicas (default 30)")
    check.set_defaults(handler=command_check)

    add_peer_commands(commands)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    staff_add = staff.add_parser("add", help="create a staff account; the password is read from the prompt or stdin")
    staff_add.add_argument("username")
    staff_add.add_argument("--role", required=True, choices=[role.value for role in StaffRole])
    staff_add.add_argument("--branch", action="append", metavar="CODE",
                           help="limit the account to this branch (repeat for several; default all)")
    staff_add.add_argument("--name", help="display name")
    staff_add.set_defaults(handler=command_staff_add)
    staff_unlock = staff.add_parser("unlock", help="unlock an account locked after failed logins")
    staff_unlock.add_argument("username")
    staff_unlock.set_defaults(handler=command_staff_unlock)

    audit = commands.add_parser("audit", help="the operation log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="walk the operation log's hash chain; non-zero exit status when it is broken") \
        .set_defaults(handler=command_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    handler: Callable[[Settings, argparse.Namespace], None] = arguments.handler
    try:
        handler(load_settings(), arguments)
    except CommandFailed as error:
        print(f"shoka: {error}", file=sys.stderr)
        return 1
    except EXPECTED_FAILURES as error:
        message = getattr(error, "message", None) or str(error).strip().splitlines()[0]
        print(f"shoka: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
