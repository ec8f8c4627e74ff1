"""A real SRU client against the real server: YAZ's yaz-client in SRU GET mode, versions 1.2 and 2.0.

yaz-client is driven through its command language on standard input (open, sru get VERSION, querytype cql,
find, show, schema, explain), as a librarian would type it.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pymarc
import pytest

pytestmark = pytest.mark.skipif(shutil.which("yaz-client") is None,
                                reason="yaz-client is not installed (Debian package yaz; .ci/run installs it)")

BOOK = "これからの本の話をしよう"
BOOK_ISBN = "9784794970756"


def yaz_client(server, version: str, *commands: str) -> str:
    script = "\n".join([f"open {server.base_url}/sru", f"sru get {version}", "querytype cql", *commands, "quit", ""])
    completed = subprocess.run(["yaz-client"], input=script, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def shown_records(output: str) -> dict[int, tuple[str, str]]:
    """Position → (schema, record text) of what `show` printed."""
    found = {}
    for match in re.finditer(r"pos=(\d+) schema=(\S+)\n(.*?)(?=\npos=\d+ schema=|\nElapsed)", output, re.DOTALL):
        found[int(match.group(1))] = (match.group(2), match.group(3).strip())
    return found


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_find_and_show_marcxml(library_server, version):
    output = yaz_client(library_server, version, f"find bath.isbn={BOOK_ISBN}", "show 1")
    assert "Number of hits: 1" in output
    schema, text = shown_records(output)[1]
    assert schema == "info:srw/schema/1/marcxml-v1.1"
    record = pymarc.parse_xml_to_array(io.BytesIO(text.encode("utf-8")))[0]
    assert record["245"]["a"].startswith(BOOK) and record["020"]["a"].replace("-", "").startswith("978")


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_japanese_search_and_paging_in_dublin_core(library_server, version):
    output = yaz_client(library_server, version, "find dc.title=猫", "schema dc", "show 3+2")
    hits = int(re.search(r"Number of hits: (\d+)", output).group(1))
    assert hits > 10
    records = shown_records(output)
    assert set(records) == {3, 4}
    assert all(schema == "info:srw/schema/1/dc-v1.1" and "猫" in text for schema, text in records.values())


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_booleans_and_relations(library_server, version):
    output = yaz_client(library_server, version, 'find dc.creator="宮沢 賢治" and dc.title==銀河鉄道の夜',
                        "schema dc", "show 1")
    # Aozora Bunko holds the work in several editions (新字新仮名, 旧字旧仮名 …), all by 宮沢 賢治.
    assert int(re.search(r"Number of hits: (\d+)", output).group(1)) >= 1
    assert "<dc:title>銀河鉄道の夜</dc:title>" in shown_records(output)[1][1]


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_diagnostics_reach_the_client(library_server, version):
    output = yaz_client(library_server, version, "find dc.identifier=猫", 'find dc.title="猫')
    assert "SRW diagnostic info:srw/diagnostic/1/16" in output
    assert "SRW diagnostic info:srw/diagnostic/1/10" in output


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_explain(library_server, version):
    output = yaz_client(library_server, version, "explain")
    assert "schema=http://explain.z3950.org/dtd/2.0/" in output
    assert 'id="dc.title"' in output and 'name="marcxml"' in output
