"""Concurrency against the real server with two workers: one copy, many desks; and a burst of mixed
circulation after which every replica equals the database (`shoka check`)."""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

MIXED_SECONDS = float(os.environ.get("SHOKA_TEST_MIXED_SECONDS", "60"))


def test_forty_simultaneous_checkouts_of_one_copy_give_one_loan(library):
    patrons = []
    while len(patrons) < 40:
        patrons.append(library.free_patron(exclude=set(patrons)))
    (barcode, _), = library.free_items(1)
    headers = library.token("librarian")
    barrier = threading.Barrier(40)

    def desk(card: str) -> int:
        with httpx.Client(base_url=library.server.base_url, headers=headers, timeout=30) as client:
            barrier.wait()
            return client.post("/api/v1/circulation/checkout", json={"patron": card, "item": barcode}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(desk, patrons))
    assert statuses.count(201) == 1 and statuses.count(409) == 39, statuses
    open_loans = library.query("SELECT count(*) FROM loan l JOIN item i ON i.id = l.item_id "
                               "WHERE i.barcode = %s AND l.returned_at IS NULL", barcode)[0][0]
    assert open_loans == 1


def test_mixed_circulation_leaves_every_replica_equal_to_the_database(library):
    rng = random.Random(11)
    items = [barcode for barcode, _ in library.free_items(120, branch="central")]
    patrons = []
    while len(patrons) < 30:
        patrons.append(library.free_patron(exclude=set(patrons)))
    bibs = [row[0] for row in library.query("SELECT bib_id FROM item WHERE barcode = ANY(%s)", items)]
    headers = library.token("librarian")
    deadline = time.monotonic() + MIXED_SECONDS
    outcomes: dict[int, int] = {}
    lock = threading.Lock()

    def desk(seed: int) -> None:
        local = random.Random(seed)
        with httpx.Client(base_url=library.server.base_url, headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                action = local.random()
                item = local.choice(items)
                if action < 0.45:
                    response = client.post("/api/v1/circulation/checkout",
                                           json={"patron": local.choice(patrons), "item": item,
                                                 "branch": local.choice(["central", "gyotoku"])})
                elif action < 0.85:
                    response = client.post("/api/v1/circulation/checkin",
                                           json={"item": item, "branch": local.choice(["central", "gyotoku"])})
                elif action < 0.93:
                    response = client.post("/api/v1/circulation/renew", json={"item": item})
                else:
                    response = client.post("/api/v1/holds", json={"patron": local.choice(patrons),
                                                                   "bib_id": local.choice(bibs),
                                                                   "pickup_branch": "central"})
                with lock:
                    outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(desk, [rng.randrange(1 << 30) for _ in range(8)]))
    assert outcomes.get(500, 0) == 0, outcomes
    assert sum(count for status, count in outcomes.items() if status in (200, 201)) > 50, outcomes
    result = library.server.run_cli("check", "--timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": clean") == 2, result.stdout
    print(f"mixed circulation outcomes over {MIXED_SECONDS:.0f} s: {dict(sorted(outcomes.items()))}")


def test_a_ready_hold_past_its_pickup_date_passes_to_the_next_in_line(library):
    first = library.free_patron()
    second = library.free_patron(exclude={first})
    borrower = library.free_patron(exclude={first, second})
    (barcode, bib_id), = library.free_items(1, branch="central")
    for (other,) in library.query("SELECT barcode FROM item WHERE bib_id = %s AND barcode <> %s", bib_id, barcode):
        library.post("/api/v1/circulation/checkout", {"patron": borrower, "item": other, "override": True})
    assert library.post("/api/v1/circulation/checkout", {"patron": borrower, "item": barcode}).status_code == 201
    hold_one = library.post("/api/v1/holds", {"patron": first, "bib_id": bib_id, "pickup_branch": "central"}).json()
    hold_two = library.post("/api/v1/holds", {"patron": second, "bib_id": bib_id, "pickup_branch": "central"}).json()
    trapped = library.post("/api/v1/circulation/checkin", {"item": barcode, "branch": "central"}).json()
    assert trapped["status"] == "hold_ready" and trapped["hold"]["hold_id"] == hold_one["hold_id"]
    # The first patron never came: their pickup date passes (as if days went by).
    with __import__("psycopg").connect(library.url) as connection:
        connection.execute("UPDATE hold SET pickup_by = current_date - 1 WHERE id = %s", [hold_one["hold_id"]])
        connection.execute("INSERT INTO outbox_event (topic, entity_id) VALUES ('hold', %s)", [hold_one["hold_id"]])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        statuses = dict(library.query("SELECT id, status FROM hold WHERE id = ANY(%s)",
                                      [hold_one["hold_id"], hold_two["hold_id"]]))
        if statuses[hold_one["hold_id"]] == "expired" and statuses[hold_two["hold_id"]] == "ready":
            break
        time.sleep(0.2)
    assert statuses == {hold_one["hold_id"]: "expired", hold_two["hold_id"]: "ready"}
    assert library.query("SELECT trapped_item_id = (SELECT id FROM item WHERE barcode = %s) FROM hold WHERE id = %s",
                         barcode, hold_two["hold_id"])[0][0]
