"""The `shoka` command's contract: exit 0 on success, otherwise one line on stderr and a non-zero status."""

from __future__ import annotations

import os
import subprocess
import sys


def run_shoka(database_url: str, tmp_path, *arguments: str, input_text: str = "") -> subprocess.CompletedProcess:
    environment = {**os.environ, "SHOKA_DATABASE_URL": database_url, "SHOKA_HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "shoka.cli", *arguments], env=environment, input=input_text,
                          capture_output=True, text=True, timeout=120)


def test_db_upgrade_twice_succeeds(database_url, tmp_path):
    first = run_shoka(database_url, tmp_path, "db", "upgrade")
    second = run_shoka(database_url, tmp_path, "db", "upgrade")
    assert first.returncode == 0 and second.returncode == 0
    assert "nothing to apply" in second.stdout


def test_staff_add_reads_the_password_from_stdin(database_url, tmp_path, connection):
    result = run_shoka(database_url, tmp_path, "staff", "add", "Hanako", "--role", "counter",
                       input_text="a-long-password\n")
    assert result.returncode == 0, result.stderr
    row = connection.execute("SELECT role, password_hash FROM staff_account WHERE username = 'hanako'").fetchone()
    assert row[0] == "counter" and row[1].startswith("$argon2id$")
    created = connection.execute("SELECT action FROM operation_log WHERE action = 'staff.create'").fetchall()
    assert len(created) == 1


def test_failures_are_one_line_on_stderr(database_url, tmp_path):
    weak = run_shoka(database_url, tmp_path, "staff", "add", "taro", "--role", "counter", input_text="short\n")
    assert weak.returncode != 0 and weak.stderr.strip().count("\n") == 0 and "8 characters" in weak.stderr
    unknown_branch = run_shoka(database_url, tmp_path, "staff", "add", "taro", "--role", "counter", "--branch",
                               "nowhere", input_text="a-long-password\n")
    assert unknown_branch.returncode != 0 and "nowhere" in unknown_branch.stderr
    run_shoka(database_url, tmp_path, "staff", "add", "jiro", "--role", "counter", input_text="a-long-password\n")
    duplicate = run_shoka(database_url, tmp_path, "staff", "add", "jiro", "--role", "counter",
                          input_text="a-long-password\n")
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr


def test_a_malformed_setting_names_the_variable(tmp_path):
    environment = {**os.environ, "SHOKA_HOME": str(tmp_path), "SHOKA_HTTP": "localhost"}
    result = subprocess.run([sys.executable, "-m", "shoka.cli", "db", "upgrade"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SHOKA_HTTP" in result.stderr and "HOST:PORT" in result.stderr
