"""Reading SRU requests: parameter decoding from raw bytes, version and operation negotiation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shoka.sru.parameters import negotiate, read_parameters, repair_latin1_mojibake


def test_parameters_are_decoded_from_raw_bytes():
    assert read_parameters(b"query=dc.title%3D%E7%8C%AB&x=a+b") == {"query": "dc.title=猫", "x": "a b"}
    assert read_parameters("query=dc.title=猫".encode()) == {"query": "dc.title=猫"}  # unencoded UTF-8
    assert read_parameters("query=猫".encode("cp932")) == {"query": "猫"}  # Shift_JIS from older tools
    assert isinstance(read_parameters(b"query=%FF%FE%81")["query"], str)  # neither UTF-8 nor cp932: no failure
    assert read_parameters(b"a=1&a=2&&b", b"c=3") == {"a": "1", "b": "", "c": "3"}


def test_latin1_mojibake_is_repaired():
    assert repair_latin1_mojibake("猫".encode().decode("latin-1")) == "猫"
    assert repair_latin1_mojibake("café") == "café"
    assert repair_latin1_mojibake("猫") == "猫"


@given(st.text())
def test_repair_never_fails(text):
    repair_latin1_mojibake(text)


@given(st.binary(max_size=200))
def test_any_bytes_give_parameters(raw):
    assert isinstance(read_parameters(raw), dict)


def test_version_and_operation_negotiation():
    assert negotiate({}) == negotiate({"version": "2.0"})
    assert (negotiate({}).version, negotiate({}).operation) == ("2.0", "explain")
    assert negotiate({"query": "猫"}).operation == "searchRetrieve"
    assert negotiate({"operation": "explain"}).version == "1.2"
    assert negotiate({"version": "1.2", "operation": "searchRetrieve"}).problem is None
    assert negotiate({"version": "1.2"}).problem.number == 7
    assert negotiate({"version": "1.1", "operation": "explain"}).problem.number == 5
    assert negotiate({"version": "1.1", "operation": "explain"}).version == "1.2"
    assert negotiate({"version": "9"}).version == "2.0"
    assert negotiate({"version": "2.0", "scanClause": "x"}).problem.number == 4
    assert negotiate({"version": "2.0", "operation": "delete"}).problem.number == 4
