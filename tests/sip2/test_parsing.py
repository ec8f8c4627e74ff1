"""Framing, checksums and request parsing without a server; the parser fuzzed with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoka.sip2.framing import checksum, seal, split_frame
from shoka.sip2.requests import MalformedMessage, UnsupportedMessage, decode_body, parse_request
from shoka.sip2.responses import Response, clean_value, encode_text

TEST_VECTOR = "11YN20170630    141135                  AOdp2Library|AAL905071|AB510105|AC|BON|BIN|"
VALID_MESSAGES = [
    TEST_VECTOR,
    "9300CNkiosk|COsecret|CPcentral|",
    "9900302.00",
    "23014" + "20240501    101010" + "AOcentral|AA1000000001|AC|AD1234|",
    "63001" + "20240501    101010" + "  Y       AOcentral|AA1000000001|BP1|BQ5|",
    "17" + "20240501    101010" + "AOcentral|AB201000000001|AC|",
    "09N" + "20240501    101010" * 2 + "APcentral|AOcentral|AB201000000001|AC|",
    "29NN" + "20240501    101010" + " " * 18 + "AOcentral|AA1000000001|AB201000000001|",
    "35" + "20240501    101010" + "AOcentral|AA1000000001|",
    "97",
]
CHARSETS = ["utf-8", "cp850", "cp932"]


def test_checksum_of_a_published_checkin():
    # A checkin from a public SIP2 client's documentation, whose checksum is given there as EB80.
    message = b"09N20160419    12200820160419    122008APReading Room 1|AO830|AB830$28170815|AC|AY2AZ"
    assert checksum(message) == "EB80"


def test_sealed_messages_add_up_to_zero():
    sealed = seal(b"98YYYYNN03000320240501    1010102.00AOcentral|", sequence="7", with_checksum=True)
    line = sealed.rstrip(b"\r")
    assert (sum(line[:-4]) + int(line[-4:], 16)) & 0xFFFF == 0
    assert line[-9:-4] == b"AY7AZ"


def test_split_frame_reads_the_trailer_in_any_case():
    body = b"9900302.00AY5AZ"
    frame = split_frame(body + checksum(body).lower().encode())
    assert (frame.body, frame.sequence, frame.has_checksum, frame.checksum_valid) == (b"9900302.00", "5", True, True)
    assert not split_frame(body + b"0000").checksum_valid
    assert split_frame(b"9900302.00").has_checksum is False
    assert split_frame(b"9900302.00AY1").sequence == "1"


def test_the_test_vector_parses():
    request = parse_request(TEST_VECTOR)
    assert request.code == "11"
    assert request.fixed["transaction_date"] == "20170630    141135"
    assert request.fixed["nb_due_date"] == " " * 18
    assert request.field("AA") == "L905071" and request.field("AB") == "510105" and request.field("AC") == ""


@pytest.mark.parametrize("text", ["", "1", "xx", "11YN", "93", "9300COpassword|", "11YN" + "2" * 36 + "AA|AB1|",
                                  "63014" + "2" * 18 + "Y|" + " " * 8 + "AA1|", "17" + "2" * 18 + "AO|ab1|"])
def test_malformed_requests_raise_the_parse_error(text):
    with pytest.raises(MalformedMessage):
        parse_request(text)


def test_unsupported_standard_messages_are_told_apart():
    with pytest.raises(UnsupportedMessage) as refused:
        parse_request("15+20240501    101010AOx|AA1|")
    assert refused.value.code == "15"


def test_response_values_cannot_break_the_framing():
    assert clean_value("a|b\rc\nd") == "a b c d"
    assert Response("18").field("AJ", "猫|犬").text() == "18AJ猫 犬|"
    assert encode_text("吾輩は猫である", "cp850") == b"???????"


def parse_raw(raw: bytes, charset: str) -> None:
    """The whole path a received line takes before a handler sees it."""
    frame = split_frame(raw)
    parse_request(decode_body(frame.body, charset))


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(raw=st.binary(max_size=300), charset=st.sampled_from(CHARSETS))
def test_random_bytes_only_ever_raise_the_parse_error(raw, charset):
    try:
        parse_raw(raw, charset)
    except MalformedMessage:
        pass


@st.composite
def mutated_messages(draw) -> bytes:
    message = bytearray(draw(st.sampled_from(VALID_MESSAGES)).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(message)))
        mutation = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        byte = draw(st.sampled_from([ord("|"), ord("A"), ord("Y"), ord("Z"), 0, 0xFF, 0x83, ord(" "), ord("1")]))
        if mutation == "insert":
            message.insert(position, byte)
        elif mutation == "delete" and position < len(message):
            del message[position]
        elif mutation == "replace" and position < len(message):
            message[position] = byte
        elif mutation == "truncate":
            del message[position:]
    return bytes(message)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(raw=mutated_messages(), charset=st.sampled_from(CHARSETS))
def test_mutated_valid_messages_only_ever_raise_the_parse_error(raw, charset):
    try:
        parse_raw(raw, charset)
    except MalformedMessage:
        pass


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)),
                    min_size=1, max_size=40),
       charset=st.sampled_from(CHARSETS))
def test_field_values_round_trip_through_each_charset(text, charset):
    try:
        encoded = text.encode(charset)
    except UnicodeEncodeError:
        return  # not representable in that character set
    body = b"17" + b"20240501    101010" + b"AOcentral|AB" + encoded + b"|"
    try:
        request = parse_request(decode_body(split_frame(body).body, charset))
    except MalformedMessage:
        assert not text.isprintable()  # control characters are refused in identifiers
        return
    # cp932 maps a few characters one way only (¢ comes back as the full-width ￠): compare with what the
    # terminal's bytes say.
    assert request.field("AB") == encoded.decode(charset)
