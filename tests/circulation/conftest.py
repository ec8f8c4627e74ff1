"""A real server over the demo library, and helpers to talk to its counter API as staff."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import psycopg
import pytest

from shoka.demo import load_demo_library


@pytest.fixture(scope="module")
def library(module_database_url, tmp_path_factory, request):
    home = tmp_path_factory.mktemp("demo-home")
    load_demo_library(module_database_url, home, tier="demo", seed=2024, reference_date=dt.date.today(),
                      show_progress=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOKA_HOLD_EXPIRY_SECONDS", "1")  # the server below expires holds every second
        server = request.getfixturevalue("server")
    credentials = json.loads((home / "demo-credentials.json").read_text())
    return Library(server, credentials)


class Library:
    def __init__(self, server, credentials: dict) -> None:
        self.server = server
        self.url = server.database_url
        self.credentials = credentials
        self._tokens: dict[str, str] = {}

    def token(self, role: str, username: str | None = None) -> dict[str, str]:
        account = next(staff for staff in self.credentials["staff"]
                       if (staff["username"] == username if username else staff["role"] == role))
        if account["username"] not in self._tokens:
            response = httpx.post(f"{self.server.base_url}/api/v1/auth/token",
                                  json={"username": account["username"], "password": account["password"]})
            assert response.status_code == 200, response.text
            self._tokens[account["username"]] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[account['username']]}"}

    def post(self, path: str, body: dict, role: str = "librarian", username: str | None = None) -> httpx.Response:
        return httpx.post(f"{self.server.base_url}{path}", json=body, headers=self.token(role, username), timeout=30)

    def get(self, path: str, role: str | None = "librarian", **params) -> httpx.Response:
        headers = self.token(role) if role else {}
        return httpx.get(f"{self.server.base_url}{path}", params=params, headers=headers, timeout=30)

    def query(self, sql: str, *parameters):
        with psycopg.connect(self.url) as connection:
            return connection.execute(sql, parameters).fetchall()

    def free_patron(self, exclude: set[str] = frozenset(), category: str = "adult") -> str:
        """An active adult with a valid card, no overdue loan and few loans."""
        rows = self.query(
            """SELECT p.card FROM patron p
               WHERE p.status = 'active' AND p.category = %s AND p.expires_on > current_date + 30
                 AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL
                                 AND l.due_on < current_date)
                 AND (SELECT count(*) FROM loan l WHERE l.patron_id = p.id AND l.returned_at IS NULL) < 3
                 AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.patron_id = p.id AND h.status IN ('waiting','ready','in_transit'))
               ORDER BY p.id LIMIT 200""", category)
        return next(card for (card,) in rows if card not in exclude)

    def free_items(self, count: int, branch: str = "central") -> list[tuple[str, int]]:
        """On-shelf, loanable copies at a branch whose titles nobody waits for: (barcode, bib id)."""
        return self.query(
            """SELECT i.barcode, i.bib_id FROM item i JOIN service_point sp ON sp.id = i.service_point_id
               WHERE sp.code = %s AND i.status = 'available' AND i.loan_policy = 'normal' AND i.material_type = 'book'
                 AND NOT EXISTS (SELECT 1 FROM loan l WHERE l.item_id = i.id AND l.returned_at IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM hold h WHERE h.bib_id = i.bib_id AND h.status IN ('waiting','ready','in_transit'))
                 AND NOT EXISTS (SELECT 1 FROM transit t WHERE t.item_id = i.id AND t.received_at IS NULL)
               ORDER BY i.id LIMIT %s""", branch, count)

    def copy_set_aside(self, patrons: int = 2) -> tuple[str, str, list[str], list[int]]:
        """A title with two free copies at central: the first lent, held by `patrons` patrons in turn
        (pickup central), and returned there, so that it waits on the hold shelf for the first; the second
        still on the open shelf. Returns (set-aside barcode, other barcode, cards, hold ids)."""
        free = dict(self.free_items(400))
        set_aside, other = next(pair for pair in self.query(
            "SELECT a.barcode, b.barcode FROM item a JOIN item b ON b.bib_id = a.bib_id AND b.id > a.id "
            "WHERE a.barcode = ANY(%s) AND b.barcode = ANY(%s)", list(free), list(free)))
        cards: list[str] = []
        for _ in range(patrons + 1):
            cards.append(self.free_patron(exclude=set(cards)))
        borrower, cards = cards[0], cards[1:]
        assert self.post("/api/v1/circulation/checkout", {"patron": borrower, "item": set_aside}).status_code == 201
        holds = [self.post("/api/v1/holds", {"patron": card, "bib_id": free[set_aside], "pickup_branch": "central"})
                 for card in cards]
        assert all(hold.status_code == 201 for hold in holds), [hold.text for hold in holds]
        hold_ids = [hold.json()["hold_id"] for hold in holds]
        returned = self.post("/api/v1/circulation/checkin", {"item": set_aside, "branch": "central"}).json()
        assert returned["status"] == "hold_ready" and returned["hold"]["hold_id"] == hold_ids[0]
        return set_aside, other, cards, hold_ids
