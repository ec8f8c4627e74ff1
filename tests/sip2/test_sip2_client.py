"""The PyPI `sip2` client (Sip2.sip2.Sip2) against the real server: what a third-party self-check speaks."""

from __future__ import annotations

import pytest

from tests.sip2.conftest import TERMINAL, TERMINAL_BRANCH

Sip2 = pytest.importorskip("Sip2.sip2").Sip2


@pytest.fixture
def client(sip2_library, tmp_path):
    client = Sip2()
    client.hostName, client.hostPort = sip2_library.server.sip2_address
    client.tlsEnable = False
    client.socketTimeout = 30
    client.logfile_path = str(tmp_path)  # the client writes sip2.log; keep it out of the checkout
    client.loglevel = "WARNING"
    client.institutionId = TERMINAL_BRANCH
    client.scLocation = TERMINAL_BRANCH
    client.connect()
    login = client.sip_login_response(client.get_response(
        client.sip_login_request(TERMINAL, sip2_library.terminal_passwords[TERMINAL])))
    assert login["fixed"]["Ok"] == "1"
    yield client
    client.disconnect()


def test_login_and_sc_status(client):
    status = client.sip_sc_status_response(client.get_response(client.sip_sc_status_request()))
    fixed, fields = status["fixed"], status["variable"]
    assert (fixed["OnlineStatus"], fixed["CheckinOk"], fixed["CheckoutOk"], fixed["AcsRenewalPolicy"]) == ("Y",) * 4
    assert fixed["ProtocolVersion"] == "2.00"
    assert fields["AO"] == ["central"]
    # 23 11 09 01 99 97 93 63 35 37 17 19 25 15 29 65
    assert fields["BX"] == ["YYYNYYYYYNYNNNYN"]


def test_wrong_terminal_password_is_refused(sip2_library, tmp_path):
    client = Sip2()
    client.hostName, client.hostPort = sip2_library.server.sip2_address
    client.tlsEnable, client.logfile_path, client.loglevel = False, str(tmp_path), "WARNING"
    client.connect()
    try:
        login = client.sip_login_response(client.get_response(client.sip_login_request(TERMINAL, "not-the-password")))
        assert login["fixed"]["Ok"] == "0"
    finally:
        client.disconnect()


def test_checkout_patron_information_renew_and_checkin(sip2_library, client):
    card = sip2_library.free_patron()
    (barcode, bib_id), = sip2_library.free_items(1)
    title = sip2_library.query("SELECT title FROM bib WHERE id = %s", bib_id)[0][0]
    log_before = sip2_library.query("SELECT max(id) FROM operation_log")[0][0]
    client.patron = card

    checkout = client.sip_checkout_response(client.get_response(client.sip_checkout_request(barcode)))
    assert checkout["fixed"]["Ok"] == "1"
    assert checkout["fixed"]["RenewalOk"] == "Y"  # a fresh loan under the demo rules can be renewed
    assert checkout["fixed"]["Desensitize"] == "Y"
    due = checkout["variable"]["AH"][0]
    loan_due = sip2_library.query(
        "SELECT l.due_on FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = %s AND l.returned_at IS NULL",
        barcode)[0][0]
    assert due == loan_due.strftime("%Y%m%d") + "    235959"
    assert checkout["variable"]["AJ"] == [title]
    assert "貸出しました" in checkout["variable"]["AF"][0]

    information = client.sip_patron_information_response(client.get_response(
        client.sip_patron_information_request("charged", "1", "50")))
    assert information["fixed"]["PatronStatus"].strip() == ""
    assert barcode in information["variable"]["AU"]
    assert information["variable"]["BL"] == ["Y"]
    assert int(information["fixed"]["ChargedItemsCount"]) == len(information["variable"]["AU"])

    renewal = client.sip_renew_response(client.get_response(client.sip_renew_request(barcode)))
    assert renewal["fixed"]["Ok"] == "1", renewal

    checkin = client.sip_checkin_response(client.get_response(client.sip_checkin_request(barcode)))
    assert checkin["fixed"]["Ok"] == "1"
    assert checkin["variable"]["AQ"] == ["central"]
    assert not sip2_library.query(
        "SELECT 1 FROM loan l JOIN item i ON i.id = l.item_id WHERE i.barcode = %s AND l.returned_at IS NULL", barcode)
    actions = sip2_library.query(
        "SELECT action FROM operation_log WHERE actor_kind = 'sip2' AND actor = %s AND detail->>'item' = %s "
        "AND id > %s ORDER BY id", TERMINAL, barcode, log_before)
    assert [action for (action,) in actions] == ["circulation.checkout", "circulation.renew", "circulation.checkin"]


def test_patron_password_checked(sip2_library, client):
    card, password = sip2_library.patron_with_password()
    client.patron, client.patronpwd = card, password
    good = client.sip_patron_status_response(client.get_response(client.sip_patron_status_request()))
    assert good["variable"]["BL"] == ["Y"] and good["variable"]["CQ"] == ["Y"]
    assert good["variable"]["AE"][0] != ""
    client.patronpwd = "wrong-" + password
    bad = client.sip_patron_status_response(client.get_response(client.sip_patron_status_request()))
    assert bad["variable"]["BL"] == ["Y"] and bad["variable"]["CQ"] == ["N"]
    assert bad["variable"]["AE"] == [""]  # nothing personal for a wrong password
    client.patronpwd = password  # the right one again resets the failure count
    assert client.sip_patron_status_response(client.get_response(
        client.sip_patron_status_request()))["variable"]["CQ"] == ["Y"]
