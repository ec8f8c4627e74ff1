"""SIP2 circulation against the real server: the counter's rules and operation log, resends that must not
lend twice, renewal ok from the rules, checkins that alert a sorter, the hold item list, item information."""

from __future__ import annotations

import pytest

from tests.sip2.conftest import TERMINAL, fields_of, sip2_date


@pytest.fixture
def terminal(sip2_library):
    terminal = sip2_library.terminal()
    yield terminal
    terminal.close()


def open_loans(library, barcode: str) -> int:
    return library.query("SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id "
                         "WHERE i.barcode = %s AND l.returned_at IS NULL", barcode)[0][0]


def test_a_resent_checkout_gets_the_stored_answer_not_a_second_loan(terminal, sip2_library):
    card = sip2_library.free_patron()
    (barcode, _), = sip2_library.free_items(1)
    message = terminal.framed(f"11YN{sip2_date()}{' ' * 18}AOcentral|AA{card}|AB{barcode}|AC|")
    first = terminal.send_raw(message)
    again = terminal.send_raw(message)  # the kiosk lost the first answer and sends the same message
    assert first.startswith(b"121") and again.startswith(b"121")
    assert fields_of(first.decode(), 24)["AH"] == fields_of(again.decode(), 24)["AH"]
    assert open_loans(sip2_library, barcode) == 1
    logged = sip2_library.query("SELECT count(*) FROM operation_log WHERE action = 'circulation.checkout' "
                                "AND actor_kind = 'sip2' AND detail->>'item' = %s", barcode)[0][0]
    assert logged == 1
    # A new checkout of the same copy (another sequence number) is a new request, refused by the rules.
    refused = terminal.checkout(card, barcode)
    assert refused.startswith("120") and fields_of(refused, 24)["AF"][0]
    assert terminal.checkin(barcode).startswith("101")


def test_renewal_ok_follows_the_rules(terminal, sip2_library):
    card = sip2_library.free_patron()
    (barcode, _), = sip2_library.free_items(1)
    assert terminal.checkout(card, barcode)[3] == "Y"
    renewals = []
    for _ in range(20):
        answer = terminal.renew(card, barcode)
        renewals.append(answer)
        if answer.startswith("300"):
            break
    assert renewals[-1].startswith("300"), "the rules allow a limited number of renewals"
    assert fields_of(renewals[-1], 24)["AF"][0]
    assert all(answer.startswith("301") for answer in renewals[:-1])
    assert renewals[-2][3] == "N"  # the last renewal allowed says no further one is
    assert all(answer[3] == "Y" for answer in renewals[:-2])
    assert terminal.checkin(barcode).startswith("101")


def test_renew_of_another_patrons_loan_is_refused(terminal, sip2_library):
    lender = sip2_library.free_patron()
    other = sip2_library.free_patron(exclude={lender})
    (barcode, _), = sip2_library.free_items(1)
    assert terminal.checkout(lender, barcode).startswith("121")
    assert terminal.renew(other, barcode).startswith("300")
    assert terminal.checkin(barcode).startswith("101")


def place_hold(library, card: str, bib_id: int, pickup: str) -> None:
    response = library.post("/api/v1/holds", {"patron": card, "bib_id": bib_id, "pickup_branch": pickup})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("pickup", ["central", "gyotoku"])
def test_checkin_of_a_copy_someone_waits_for_alerts_the_sorter(terminal, sip2_library, pickup):
    borrower = sip2_library.free_patron()
    waiting = sip2_library.free_patron(exclude={borrower})
    (barcode, bib_id), = sip2_library.free_items(1)
    assert terminal.checkout(borrower, barcode).startswith("121")
    place_hold(sip2_library, waiting, bib_id, pickup)
    checkin = terminal.checkin(barcode)
    assert checkin.startswith("101") and checkin[5] == "Y"  # ok, alert
    fields = fields_of(checkin, 24)
    assert fields["AQ"] == ["central"]
    information = terminal.item_information(barcode)
    if pickup == "central":
        assert fields["CL"] == ["hold"] and "予約棚" in fields["AF"][0]
        assert information[2:4] == "08"  # waiting on the hold shelf
        patron = terminal.patron_information(waiting, summary="Y")
        assert patron[37:41] == "0001"  # one hold ready for pickup
        assert fields_of(patron, 61)["AS"] == [barcode]
    else:
        assert fields["CL"] == ["transit-gyotoku"] and "行徳" in fields["AF"][0]
        assert information[2:4] == "10"  # in transit
        patron = terminal.patron_information(waiting, summary="     Y")
        assert patron[37:41] == "0000" and patron[57:61] == "0001"  # one hold, not yet available
        assert len(fields_of(patron, 61)["CD"]) == 1


def test_a_kiosk_checkout_of_another_copy_leaves_the_copy_set_aside_on_the_hold_shelf(terminal, sip2_library):
    """Nobody at a kiosk can take the set-aside copy off the hold shelf, so its hold is not fulfilled there
    (at a counter it would be, and the copy passed on)."""
    set_aside, other, (first,), (hold_id,) = sip2_library.copy_set_aside(patrons=1)
    assert terminal.checkout(first, other).startswith("121")
    assert sip2_library.query("SELECT status, trapped_item_id IS NOT NULL FROM hold WHERE id = %s",
                              hold_id) == [("ready", True)]
    assert terminal.item_information(set_aside)[2:4] == "08"  # still waiting on the hold shelf
    assert terminal.checkin(other).startswith("101")


def test_patron_information_lists_are_paged(terminal, sip2_library):
    card = sip2_library.free_patron()
    items = sip2_library.free_items(3)
    for barcode, _ in items:
        assert terminal.checkout(card, barcode).startswith("121")
    everything = fields_of(terminal.patron_information(card, summary="  Y"), 61)["AU"]
    assert {barcode for barcode, _ in items} <= set(everything)
    second_and_third = fields_of(terminal.patron_information(card, summary="  Y", extra="BP2|BQ3|"), 61)["AU"]
    assert second_and_third == everything[1:3]
    for barcode, _ in items:
        assert terminal.checkin(barcode).startswith("101")


def test_patron_reads_are_in_the_operation_log(terminal, sip2_library):
    card = sip2_library.free_patron()
    patron_id = sip2_library.query("SELECT id FROM patron WHERE card = %s", card)[0][0]
    before = sip2_library.query("SELECT count(*) FROM operation_log WHERE action = 'patron.read_summary' "
                                "AND actor_kind = 'sip2' AND entity_id = %s", str(patron_id))[0][0]
    assert terminal.patron_information(card).startswith("64")
    after = sip2_library.query("SELECT count(*), max(actor) FROM operation_log WHERE action = 'patron.read_summary' "
                               "AND actor_kind = 'sip2' AND entity_id = %s", str(patron_id))[0]
    assert after == (before + 1, TERMINAL)


def test_unknown_patrons_and_blocked_patrons(terminal, sip2_library):
    unknown = terminal.patron_information("no-such-card")
    assert unknown[2:6] == "YYYY" and fields_of(unknown, 61)["BL"] == ["N"]
    overdue = sip2_library.query(
        """SELECT p.card FROM patron p JOIN loan l ON l.patron_id = p.id AND l.returned_at IS NULL
           WHERE p.status = 'active' AND l.due_on < current_date - 30 LIMIT 1""")
    assert overdue, "the demo library has patrons with long-overdue loans"
    status = terminal.exchange(f"23014{sip2_date()}AOcentral|AA{overdue[0][0]}|AC|AD|")
    assert status[2] == "Y" and status[8] == "Y"  # charge denied, too many overdue
    assert fields_of(status, 37)["AF"][0]


def test_item_information(terminal, sip2_library):
    card = sip2_library.free_patron()
    (barcode, bib_id), = sip2_library.free_items(1)
    title = sip2_library.query("SELECT title FROM bib WHERE id = %s", bib_id)[0][0]
    available = terminal.item_information(barcode)
    assert available[2:4] == "03"
    fields = fields_of(available, 26)
    assert fields["AJ"] == [title] and fields["CF"] == ["0"] and fields["AQ"] == ["central"]
    assert "AH" not in fields
    checkout = terminal.checkout(card, barcode)
    charged = terminal.item_information(barcode)
    assert charged[2:4] == "04" and fields_of(charged, 26)["AH"] == fields_of(checkout, 24)["AH"]
    assert terminal.checkin(barcode).startswith("101")
    missing = terminal.item_information("no-such-item")
    assert missing[2:4] == "01" and fields_of(missing, 26)["AF"][0]


def test_end_patron_session(terminal, sip2_library):
    answer = terminal.exchange(f"35{sip2_date()}AOcentral|AA{sip2_library.free_patron()}|AC|AD|")
    assert answer.startswith("36Y") and fields_of(answer, 21)["AF"][0]
