"""The `shoka` command (CONTRACT.md, "CLI"). Exit status 0 on success; otherwise one line on stderr naming
what went wrong, and a non-zero status."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
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
    from shoka.demo import DemoLibraryExists, load_demo_library

    url = resolve_database_url(settings)
    started = time.monotonic()
    try:
        report = load_demo_library(url, settings.home, tier=arguments.tier, seed=arguments.seed,
                                   reference_date=arguments.reference_date or dt.date.today(),
                                   show_progress=sys.stderr.isatty() or arguments.progress)
    except DemoLibraryExists as error:
        if arguments.if_empty:
            print(f"demo library not loaded: {error}")
            return
        raise CommandFailed(str(error)) from None
    print(f"demo library ({arguments.tier}) loaded in {time.monotonic() - started:.1f} s: {report.summary()}; "
          f"credentials in {settings.home / 'demo-credentials.json'}")


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
