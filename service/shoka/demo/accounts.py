"""The demo library's accounts: one staff account of every role, web passwords for the showcase patrons, and the
credentials file that tells the operator their generated passwords (CONTRACT.md, "Demo library").

No password is fixed anywhere: each is generated with secrets and stored only as an argon2id hash; the file that
shows them is created readable by its owner only (0600).
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg

from shoka.auth.passwords import hash_password

CREDENTIALS_FILE_NAME = "demo-credentials.json"
CREDENTIALS_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    role: str
    display_name: str
    branch_codes: tuple[str, ...]  # empty: works at every branch


DEMO_STAFF = (
    DemoStaff("admin", "admin", "システム管理者", ()),
    DemoStaff("librarian", "librarian", "司書 (中央図書館)", ()),
    DemoStaff("counter", "counter", "カウンター (中央図書館・市川駅南口図書館)", ("central", "ekiminami")),
    DemoStaff("counter-gyotoku", "counter", "カウンター (行徳図書館・南行徳図書館)", ("gyotoku", "minamigyotoku")),
    DemoStaff("stats", "stats", "統計担当", ()),
    DemoStaff("sip2-central-1", "sip2", "自動貸出機1 (中央図書館)", ("central",)),
)


@dataclass(frozen=True, slots=True)
class Credential:
    name: str  # a staff username or a patron card
    password: str
    password_hash: str
    role: str = ""


class DemoAccountConflict(Exception):
    """A demo account's user name is already taken; the message names it."""


def new_password() -> str:
    return secrets.token_urlsafe(12)


def make_credentials(staff: tuple[DemoStaff, ...],
                     patron_cards: list[str]) -> tuple[list[Credential], list[Credential]]:
    """Generate and hash the passwords (argon2 is deliberately slow: do it before the load's transaction)."""
    staff_credentials = []
    for member in staff:
        password = new_password()
        staff_credentials.append(Credential(member.username, password, hash_password(password), member.role))
    patron_credentials = []
    for card in patron_cards:
        password = new_password()
        patron_credentials.append(Credential(card, password, hash_password(password)))
    return staff_credentials, patron_credentials


def insert_accounts(connection: psycopg.Connection, staff_credentials: list[Credential],
                    patron_credentials: list[Credential], created_at: datetime.datetime) -> None:
    details = {member.username: member for member in DEMO_STAFF}
    taken = connection.execute("SELECT username FROM staff_account WHERE username = ANY(%s)",
                               [[credential.name for credential in staff_credentials]]).fetchall()
    if taken:
        raise DemoAccountConflict(
            f"staff account {taken[0][0]!r} already exists: the demo library creates it; load the demo into a "
            "fresh database or rename that account first")
    for credential in staff_credentials:
        member = details[credential.name]
        staff_id = connection.execute(
            """INSERT INTO staff_account (username, display_name, role, password_hash, created_at, password_changed_at)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
            [member.username, member.display_name, member.role, credential.password_hash, created_at,
             created_at]).fetchone()[0]
        for code in member.branch_codes:
            connection.execute(
                """INSERT INTO staff_branch_scope (staff_id, service_point_id)
                   SELECT %s, id FROM service_point WHERE code = %s""", [staff_id, code])
    for credential in patron_credentials:
        connection.execute(
            """INSERT INTO patron_credential (patron_id, password_hash, hash_scheme, changed_at)
               SELECT id, %s, 'argon2id', %s FROM patron WHERE card = %s""",
            [credential.password_hash, created_at, credential.name])


def credentials_document(staff_credentials: list[Credential], patron_credentials: list[Credential]) -> dict:
    return {
        "staff": [{"username": credential.name, "password": credential.password, "role": credential.role}
                  for credential in staff_credentials],
        "patrons": [{"card": credential.name, "password": credential.password} for credential in patron_credentials],
    }


def write_private_file(path: Path, text: str) -> None:
    """Write a file that only its owner can read, whatever the umask, and whether or not it existed before.

    The text goes to a new file beside the target (created 0600) that then replaces the target, so a reader never
    sees a half-written file or, even briefly, one with wider permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, CREDENTIALS_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), CREDENTIALS_FILE_MODE)  # the umask may have taken bits away; never adds any
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if path.stat().st_mode & 0o777 != CREDENTIALS_FILE_MODE:
        os.chmod(path, CREDENTIALS_FILE_MODE)
        if path.stat().st_mode & 0o777 != CREDENTIALS_FILE_MODE:
            raise PermissionError(f"{path} could not be made readable by its owner only (mode 0600)")


def credentials_text(staff_credentials: list[Credential], patron_credentials: list[Credential]) -> str:
    return json.dumps(credentials_document(staff_credentials, patron_credentials), ensure_ascii=False, indent=2) + "\n"
