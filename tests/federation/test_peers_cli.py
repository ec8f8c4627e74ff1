"""`shoka peers add|remove|list`: validated input, one-line errors, the table, and operation-log entries."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def shoka(database_url: str, tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SHOKA_DATABASE_URL": database_url, "SHOKA_HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "shoka.cli", *arguments], env=environment, capture_output=True,
                          text=True, timeout=120)


def test_add_list_and_remove_with_operation_log(database_url, tmp_path, connection):
    empty = shoka(database_url, tmp_path, "peers", "list")
    assert empty.returncode == 0 and "no federated-search peers" in empty.stdout
    added = shoka(database_url, tmp_path, "peers", "add", "ndl", "https://ndlsearch.ndl.go.jp/api/sru",
                  "--protocol", "sru")
    assert added.returncode == 0, added.stderr
    assert "peer ndl added (sru, https://ndlsearch.ndl.go.jp/api/sru, timeout 2500 ms, enabled)" in added.stdout
    second = shoka(database_url, tmp_path, "peers", "add", "ichikawa-2", "http://10.0.0.2:8000/", "--protocol",
                   "SHOKA", "--timeout-ms", "1500", "--disabled")
    assert second.returncode == 0, second.stderr
    listing = shoka(database_url, tmp_path, "peers", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "PROTOCOL", "TIMEOUT", "ENABLED", "URL"]
    assert listing[1].split() == ["ichikawa-2", "shoka", "1500", "ms", "no", "http://10.0.0.2:8000"]
    assert listing[2].split() == ["ndl", "sru", "2500", "ms", "yes", "https://ndlsearch.ndl.go.jp/api/sru"]
    rows = connection.execute("SELECT name, protocol, timeout_ms, is_enabled FROM federation_peer ORDER BY name")
    assert rows.fetchall() == [("ichikawa-2", "shoka", 1500, False), ("ndl", "sru", 2500, True)]
    removed = shoka(database_url, tmp_path, "peers", "remove", "ndl")
    assert removed.returncode == 0 and "peer ndl removed" in removed.stdout
    log = connection.execute("SELECT action, entity, entity_id, actor_kind, detail->>'url' FROM operation_log "
                             "WHERE entity = 'federation_peer' ORDER BY id").fetchall()
    assert log == [("peer.add", "federation_peer", "ndl", "cli", "https://ndlsearch.ndl.go.jp/api/sru"),
                   ("peer.add", "federation_peer", "ichikawa-2", "cli", "http://10.0.0.2:8000"),
                   ("peer.remove", "federation_peer", "ndl", "cli", "https://ndlsearch.ndl.go.jp/api/sru")]


@pytest.mark.parametrize("arguments, reason", [
    (["peers", "add", "two words", "http://a.example", "--protocol", "sru"], "peer name 'two words'"),
    (["peers", "add", "a", "ftp://a.example", "--protocol", "sru"], "must start with http:// or https://"),
    (["peers", "add", "a", "http://", "--protocol", "sru"], "has no host name"),
    (["peers", "add", "a", "http://a.example:99999", "--protocol", "sru"], "not a valid URL"),
    (["peers", "add", "a", "http://user:secret@a.example", "--protocol", "sru"], "user name or password"),
    (["peers", "add", "a", "http://a.example/#top", "--protocol", "sru"], "fragment"),
    (["peers", "add", "a", "http://a.example", "--protocol", "z3950"], "unknown protocol 'z3950'"),
    (["peers", "add", "a", "http://a.example"], "--protocol sru or --protocol shoka"),
    (["peers", "add", "a", "http://a.example", "--protocol", "sru", "--timeout-ms", "5000"], "100–2900 ms"),
    (["peers", "remove", "nobody"], "no peer named 'nobody'"),
])
def test_bad_input_is_refused_in_one_line(database_url, tmp_path, connection, arguments, reason):
    result = shoka(database_url, tmp_path, *arguments)
    assert result.returncode != 0
    assert reason in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr
    assert connection.execute("SELECT count(*) FROM federation_peer").fetchone()[0] == 0


def test_names_are_unique(database_url, tmp_path):
    assert shoka(database_url, tmp_path, "peers", "add", "a", "http://a.example", "--protocol", "sru").returncode == 0
    again = shoka(database_url, tmp_path, "peers", "add", "a", "http://b.example", "--protocol", "shoka")
    assert again.returncode != 0 and "a peer named 'a' already exists" in again.stderr
    assert again.stderr.strip().count("\n") == 0
