"""SIP2 over a raw socket against the real server: the test vector, error detection, resend, the rules before
login, malformed input, and the character set of a Shift_JIS terminal."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoka.sip2.framing import checksum, split_frame
from tests.sip2.conftest import SJIS_TERMINAL, TERMINAL, TERMINAL_BRANCH, RawTerminal, fields_of, sip2_date, \
    verify_trailer
from tests.sip2.test_parsing import mutated_messages

# SIP2.md's test vector: a real self-check's checkout, nb due date blank, no error detection.
TEST_VECTOR = "11YN20170630    141135                  AOdp2Library|AAL905071|AB510105|AC|BON|BIN|"


@pytest.fixture
def terminal(sip2_library):
    terminal = sip2_library.terminal()
    yield terminal
    terminal.close()


def test_the_sip2_md_test_vector_gets_a_checkout_answer(terminal):
    answer = terminal.send_raw(TEST_VECTOR.encode() + b"\r").decode()
    assert answer.startswith("120")  # parsed as a checkout and refused: no such patron or item
    assert "AY" not in answer and "AZ" not in answer  # no error detection asked, none given
    fields = fields_of(answer.rstrip("\r"), 24)
    assert fields["AA"] == ["L905071"] and fields["AB"] == ["510105"]
    assert fields["AF"][0]
    assert terminal.exchange("9900302.00").startswith("98Y")  # and the connection goes on


def test_sequence_numbers_are_echoed_and_answers_carry_checksums(terminal):
    for sequence in range(10):
        raw = terminal.send_raw(terminal.framed("9900302.00", sequence=sequence))
        assert raw.rstrip(b"\r")[-9:-6] == f"AY{sequence}".encode()
        verify_trailer(raw)


def test_a_lower_case_checksum_is_accepted(terminal):
    body = b"9900302.00AY3AZ"
    answer = terminal.send_raw(body + checksum(body).lower().encode() + b"\r")
    assert answer.startswith(b"98Y") and b"AY3AZ" in answer


def test_a_bad_checksum_asks_for_a_resend_and_the_connection_stays_usable(terminal):
    body = b"9900302.00AY4AZ"
    wrong = f"{(int(checksum(body), 16) + 1) & 0xFFFF:04X}".encode()
    answer = terminal.send_raw(body + wrong + b"\r")
    assert answer.startswith(b"96")
    verify_trailer(answer)
    assert terminal.exchange("9900302.00").startswith("98Y")


def test_resend_repeats_the_last_answer_byte_for_byte(terminal, sip2_library):
    card = sip2_library.free_patron()
    last = terminal.send_raw(terminal.framed(f"63014{sip2_date()}          AO{TERMINAL_BRANCH}|AA{card}|"))
    assert terminal.send_raw(b"97\r") == last
    body = b"97AZ"
    assert terminal.send_raw(body + checksum(body).encode() + b"\r") == last  # 97 with a checksum too


def test_messages_before_login_are_refused_in_their_own_terms(sip2_library):
    terminal = RawTerminal(sip2_library.server.sip2_address)
    try:
        status = terminal.exchange("9900302.00")
        assert status.startswith("98YNNNNN")  # on line, but nothing may be done yet
        assert fields_of(status, 36)["BX"] == ["NNNNYNYNNNNNNNNN"]  # only 99 and 93
        assert terminal.exchange(f"23014{sip2_date()}AO|AA1000000001|AC|AD|").startswith("24YYYY")
        assert terminal.exchange(f"17{sip2_date()}AO|AB201000000001|").startswith("1801")
        checkout = terminal.checkout("1000000001", "201000000001")
        assert checkout.startswith("120") and fields_of(checkout, 24)["AF"][0]
        assert terminal.login(TERMINAL, sip2_library.terminal_passwords[TERMINAL]).startswith("941")
        assert terminal.exchange("9900302.00").startswith("98YYYY")
    finally:
        terminal.close()


def test_failed_logins_answer_zero(sip2_library):
    librarian = next(staff for staff in sip2_library.credentials["staff"] if staff["role"] == "librarian")
    password = sip2_library.terminal_passwords[TERMINAL]
    terminal = RawTerminal(sip2_library.server.sip2_address)
    try:
        assert terminal.login(librarian["username"], librarian["password"]).startswith("940")  # not a sip2 account
        assert terminal.login(TERMINAL, password, location="gyotoku").startswith("940")  # not its branch
        assert terminal.login(TERMINAL, password, location="no-such-branch").startswith("940")
        assert terminal.exchange("9300CN|CO|").startswith("940")  # malformed: empty user
        assert terminal.login(TERMINAL, password).startswith("941")
        assert terminal.login(TERMINAL, "wrong").startswith("940")
        assert terminal.checkout("1000000001", "201000000001").startswith("120")  # logged out again
    finally:
        terminal.close()


@pytest.mark.parametrize("message", [
    b"hello",  # no message code
    b"11",  # a checkout without its fixed fields
    b"11YN" + sip2_date().encode() + b" " * 18 + b"AOx|ABonly-an-item|",  # no patron
    b"63014" + sip2_date().encode() + b"          AOx|AA1|BPfirst|",  # BP is no number
    b"11YN" + sip2_date().encode() + b" " * 18 + b"AO\xff\xfe|AA1|AB2|",  # not UTF-8
    b"15+" + sip2_date().encode() + b"AOx|AA1|",  # a hold: not supported
    b"01N" + sip2_date().encode() + b"AOx|ALblocked|AA1|",  # block patron: not supported
    b"99 |broken",
    b"\x00\x01\x02",
    b"|||||",
])
def test_malformed_input_gets_an_error_reply_and_the_connection_stays_usable(terminal, message):
    answer = terminal.send_raw(message + b"\r")
    assert answer.endswith(b"\r") and len(answer) > 2
    code = message[:2]
    expected = {b"11": b"12", b"63": b"64", b"15": b"16", b"01": b"24", b"99": b"98"}.get(code, b"96")
    assert answer.startswith(expected), answer
    assert terminal.exchange("9900302.00").startswith("98Y")


def test_an_over_long_line_is_discarded_with_96(terminal):
    answer = terminal.send_raw(b"11" + b"x" * 200_000 + b"\r")
    assert answer.startswith(b"96")
    assert terminal.exchange("9900302.00").startswith("98Y")


def test_crlf_line_ends_are_accepted(terminal):
    assert terminal.send_raw(b"9900302.00\r\n").startswith(b"98Y")
    assert terminal.send_raw(b"9900302.00\r\n").startswith(b"98Y")


def test_a_shift_jis_terminal_is_answered_in_shift_jis(sip2_library):
    card = sip2_library.free_patron()
    (barcode, bib_id), = sip2_library.free_items(1)
    title = sip2_library.query("SELECT title FROM bib WHERE id = %s", bib_id)[0][0]
    terminal = sip2_library.terminal(SJIS_TERMINAL, charset="cp932")
    try:
        # The institution is sent in Japanese: only a cp932 decoding reads this message.
        raw = terminal.send_raw(terminal.framed(
            f"11YN{sip2_date()}{' ' * 18}AO市川市立中央図書館|AA{card}|AB{barcode}|AC|"))
        verify_trailer(raw)  # the checksum is over the Shift_JIS bytes
        answer = raw.decode("cp932")
        assert answer.startswith("121"), answer
        fields = fields_of(answer.rstrip("\r"), 24)
        assert fields["AJ"] == [title]
        assert fields["AF"][0].startswith("貸出しました")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert terminal.checkin(barcode).startswith("101")
    finally:
        terminal.close()


def test_english_screen_messages_after_an_english_request(terminal, sip2_library):
    card = sip2_library.free_patron()
    (barcode, _), = sip2_library.free_items(1)
    information = terminal.patron_information(card, language="001")
    assert information[2:16].strip() == "" and information[16:19] == "001"
    checkout = terminal.checkout(card, barcode)
    assert fields_of(checkout, 24)["AF"][0].startswith("Checked out")
    assert terminal.checkin(barcode).startswith("101")


def test_a_deactivated_terminal_account_is_logged_out(sip2_library):
    from tests.sip2.conftest import make_terminal_account

    username = "kiosk-deactivated-test"
    password = make_terminal_account(sip2_library.server, username, TERMINAL_BRANCH)
    terminal = RawTerminal(sip2_library.server.sip2_address)
    try:
        assert terminal.login(username, password).startswith("941")
        sip2_library.query("UPDATE staff_account SET is_active = false WHERE username = %s RETURNING id", username)
        refused = terminal.item_information("201000000001")
        assert refused.startswith("1801") and "ログイン" in fields_of(refused, 26)["AF"][0]
        assert terminal.login(username, password).startswith("940")
    finally:
        terminal.close()


def test_the_demo_librarys_terminal_account_logs_in(sip2_library):
    demo = next(staff for staff in sip2_library.credentials["staff"] if staff["role"] == "sip2")
    terminal = RawTerminal(sip2_library.server.sip2_address)
    try:
        assert terminal.login(demo["username"], demo["password"], location=None).startswith("941")
        assert fields_of(terminal.exchange("9900302.00"), 36)["AN"] == ["central"]  # its one branch
    finally:
        terminal.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(mutated_messages(), st.binary(max_size=200)))
def test_any_line_gets_one_answer_and_the_connection_stays_usable(terminal, raw):
    raw = raw.replace(b"\r", b"")
    frame = split_frame(raw)
    if not frame.body and frame.sequence is None and not frame.has_checksum:
        return  # a blank line is ignored, not answered
    answer = terminal.send_raw(raw + b"\r")
    assert answer.endswith(b"\r") and answer[:2].isdigit()
    assert terminal.exchange("9900302.00").startswith("98Y")
