"""Desks and kiosks: their own copies and patrons, and the shelf each keeps during a step."""

import math

import pytest

from loadtests.library_data import COPIES_PER_STATION, LENDING_CEILING_PER_DESK, LENDING_CEILING_PER_SECOND, \
    LENDING_ON_LOAN_BEFORE_LEAVING, PATRONS_PER_STATION, Station, allocate, lending_copies, lending_patrons, spread
from loadtests.scenarios import stations_needed
from loadtests.plan import parse_plan
from loadtests.workloads_circulation import StationStock


def copies(branch: str, count: int) -> list[str]:
    return [f"{branch}-{number}" for number in range(count)]


def test_desks_spread_over_the_branches_in_turn():
    assert spread(["central", "gyotoku"], 5) == ["central", "gyotoku", "central", "gyotoku", "central"]
    with pytest.raises(ValueError):
        spread([], 1)


def test_every_station_gets_copies_and_patrons_of_its_own():
    patrons = [f"P{number}" for number in range(PATRONS_PER_STATION * 3)]
    stations = allocate(["central", "central", "gyotoku"],
                        {"central": copies("central", COPIES_PER_STATION * 2),
                         "gyotoku": copies("gyotoku", COPIES_PER_STATION)}, patrons)
    assert [station.branch for station in stations] == ["central", "central", "gyotoku"]
    all_copies = [barcode for station in stations for barcode in station.copies]
    all_patrons = [card for station in stations for card in station.patrons]
    assert len(set(all_copies)) == len(all_copies) == 3 * COPIES_PER_STATION
    assert len(set(all_patrons)) == len(all_patrons) == 3 * PATRONS_PER_STATION
    assert all(barcode.startswith(station.branch) for station in stations for barcode in station.copies)


def test_running_short_of_copies_or_patrons_names_what_is_missing():
    with pytest.raises(ValueError, match="branch gyotoku"):
        allocate(["gyotoku"], {"gyotoku": copies("gyotoku", 3)}, ["P1"] * PATRONS_PER_STATION)
    with pytest.raises(ValueError, match="free patrons"):
        allocate(["central"], {"central": copies("central", COPIES_PER_STATION)}, ["P1"])


def test_stations_needed_by_a_plan():
    plans = parse_plan("checkout=1,4,16@5 checkout_floor=1,8@5 sip2=1,2@5 opening_day=200/12/4@60")
    assert stations_needed(plans) == {"desks": 16, "floor_desks": 8, "kiosks": 4}


def test_a_station_lends_from_its_shelf_and_shelves_what_comes_back():
    stock = StationStock(Station("central", ("P1", "P2"), ("C1", "C2", "C3")))
    assert stock.next_patron() == "P1" and stock.next_patron() == "P2" and stock.next_patron() == "P1"
    first = stock.take_from_shelf()
    stock.lent("P1", first)
    second = stock.take_from_shelf()
    stock.not_lent(second)  # refused: back on the shelf, at the back
    assert stock.take_from_shelf() == "C3"
    assert stock.take_from_shelf() == second
    assert stock.take_from_shelf() is None
    assert stock.still_out() == [("P1", "C1")]
    stock.returned("P1", "C1")
    assert stock.still_out() == [] and stock.take_from_shelf() == "C1"


def test_a_copy_whose_request_failed_is_not_used_again():
    stock = StationStock(Station("central", ("P1",), ("C1", "C2")))
    stock.lent("P1", stock.take_from_shelf())
    stock.written_off("P1", "C1")
    assert stock.still_out() == []
    assert stock.take_from_shelf() == "C2" and stock.take_from_shelf() is None


def test_lending_stock_covers_the_fastest_desk_for_the_whole_step():
    copies = lending_copies(desks=8, seconds=23)
    assert copies == math.ceil(LENDING_CEILING_PER_SECOND / 8 * 23)
    assert lending_patrons(copies) * LENDING_ON_LOAN_BEFORE_LEAVING >= copies  # every copy finds a borrower
    assert lending_copies(desks=1, seconds=23) == LENDING_CEILING_PER_DESK * 23  # bounded by one round trip


def test_a_lending_desk_takes_nothing_back_and_lets_full_patrons_leave():
    stock = StationStock(Station("central", ("P1", "P2"), tuple(f"C{n}" for n in range(20))), lend_only=True)
    assert stock.next_patron() == "P1"
    for _ in range(LENDING_ON_LOAN_BEFORE_LEAVING):
        stock.lent("P1", stock.take_from_shelf())
    assert stock.brought_back("P1") == []  # nothing is returned at a lending desk
    assert stock.next_patron() == "P2" and stock.next_patron() == "P2"  # P1 holds enough and has left
    for _ in range(LENDING_ON_LOAN_BEFORE_LEAVING):
        stock.lent("P2", stock.take_from_shelf())
    assert stock.next_patron() is None  # everyone has left: the desk stops
    assert stock.still_out() == []  # the runner returns the loans in SQL


def test_a_counter_desk_patron_brings_back_what_they_borrowed():
    stock = StationStock(Station("central", ("P1",), ("C1", "C2")))
    stock.lent("P1", stock.take_from_shelf())
    assert stock.brought_back("P1") == ["C1"] and stock.still_out() == [("P1", "C1")]


def test_a_lending_desk_stops_when_its_shelf_is_empty():
    stock = StationStock(Station("central", ("P1", "P2"), ("C1",)), lend_only=True)
    stock.lent(stock.next_patron(), stock.take_from_shelf())
    assert stock.next_patron() is None
