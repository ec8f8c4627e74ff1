"""Who may open what: every GET route of the staff client, discovered from the running code (shoka.staff
.STAFF_ROUTES, so routes added later are covered when this runs), asked for as anonymous, stats, counter,
librarian and admin, with sample ids of the demo library; and the same rules on the JSON API.

- anonymous: sent to the login page, never a page with data (only /staff and /staff/login answer);
- stats: 403 everywhere but the home figures and its own password page, and never a demo patron's name,
  phone or e-mail in any answer;
- counter: the counter, patron lookup and the counter's printouts; 403 on catalogue, print layouts, bulk
  patron changes, accounts and the operation log; only its own branches on the API;
- librarian: everything but accounts and the operation log;
- every page that shows a patron's personal data leaves an entry in the operation log.

EXPECTED_ROLES states the rule per path prefix (the longest prefix wins). A route under no prefix fails the
test: whoever adds it must say here who may open it.
"""

from __future__ import annotations

import re

import httpx
import pytest

from shoka.staff import STAFF_ROUTES

pytestmark = pytest.mark.e2e

ADMIN = frozenset({"admin"})
LIBRARY = frozenset({"admin", "librarian"})
DESK = frozenset({"admin", "librarian", "counter"})
EVERY_WEB_ROLE = frozenset({"admin", "librarian", "counter", "stats"})
PUBLIC_PATHS = frozenset({"/staff", "/staff/login"})  # the login form, and the home figures once logged in
EXPECTED_ROLES = {
    "/staff/password": EVERY_WEB_ROLE,
    "/staff/circulation": DESK,
    "/staff/patrons": DESK,
    "/staff/patrons/bulk": LIBRARY,  # changes to many patrons at once
    "/staff/print": DESK,  # receipts, reading records, hold and transit slips at the counter
    "/staff/print-layouts": LIBRARY,
    "/staff/catalogue": LIBRARY,
    "/staff/accounts": ADMIN,
    "/staff/audit": ADMIN,
}
ROLES = ("stats", "counter", "librarian", "admin")
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def staff_get_paths() -> list[str]:
    paths = {path for handler in STAFF_ROUTES if "GET" in handler.http_methods for path in handler.paths}
    return sorted(paths)


def expected_roles(path: str) -> frozenset[str]:
    matches = [prefix for prefix in EXPECTED_ROLES
               if path == prefix or path.startswith((prefix + "/", prefix + "."))]
    assert matches, f"{path}: no rule says who may open it; add its prefix to EXPECTED_ROLES in this test"
    return EXPECTED_ROLES[max(matches, key=len)]


class Samples:
    """Ids of the demo library to put into paths and queries, and the personal data of one patron."""

    def __init__(self, staff_library) -> None:
        (self.patron_id, self.card, family, given, self.phone, self.email, self.loan_id, self.item_id,
         self.barcode, self.bib_id) = staff_library.query(
            """SELECT p.id, p.card, pp.family_name, pp.given_name, pp.phone, pp.email, l.id, i.id, i.barcode, i.bib_id
               FROM patron p JOIN patron_personal pp ON pp.patron_id = p.id
               JOIN loan l ON l.patron_id = p.id AND l.returned_at IS NULL
               JOIN item i ON i.id = l.item_id
               JOIN service_point sp ON sp.id = l.service_point_id AND sp.code = 'central'
               WHERE pp.phone <> '' AND pp.given_name <> '' ORDER BY p.id LIMIT 1""")[0]
        self.family_name = family
        self.full_name = f"{family} {given}"
        self.hold_id = staff_library.query("SELECT id FROM hold ORDER BY id LIMIT 1")[0][0]
        self.staff_id = staff_library.query("SELECT id FROM staff_account WHERE username = 'counter'")[0][0]
        self.all_names = {f"{family} {given}" for family, given in staff_library.query(
            "SELECT family_name, given_name FROM patron_personal WHERE given_name <> ''")}
        self.all_phones = {phone for (phone,) in staff_library.query(
            "SELECT phone FROM patron_personal WHERE length(phone) >= 10")}

    def path(self, template: str) -> str:
        values = {"patron_id": self.patron_id, "card": self.card, "loan_id": self.loan_id, "item_id": self.item_id,
                  "barcode": self.barcode, "bib_id": self.bib_id, "hold_id": self.hold_id, "staff_id": self.staff_id,
                  "code": "central", "branch": "central"}
        return _PARAMETER.sub(lambda match: str(values.get(match.group(1), 1)), template)

    def query(self) -> dict[str, str]:
        """Query parameters the staff pages take, so that a page shows a record rather than a blank form."""
        return {"q": self.family_name, "card": self.card, "loans": str(self.loan_id), "hold": str(self.hold_id),
                "item": self.barcode}

    def personal_data_in(self, text: str) -> list[str]:
        return [value for value in (self.full_name, self.phone, self.email) if value and value in text]

    def anyones_personal_data_in(self, text: str) -> list[str]:
        return ([name for name in self.all_names if name in text] +
                [phone for phone in self.all_phones if phone in text])


@pytest.fixture(scope="module")
def samples(staff_library) -> Samples:
    return Samples(staff_library)


@pytest.fixture(scope="module")
def clients(staff_library):
    return {role: staff_library.staff_client(role) for role in ROLES}


def test_every_staff_route_has_a_rule():
    paths = staff_get_paths()
    assert "/staff/accounts" in paths and "/staff/audit" in paths
    for path in paths:
        if path not in PUBLIC_PATHS:
            expected_roles(path)


@pytest.mark.parametrize("path", staff_get_paths())
def test_anonymous_visitors_are_sent_to_the_login_page(staff_library, samples, path):
    response = staff_library.anonymous_client().get(samples.path(path), **samples.query())
    if path in PUBLIC_PATHS:
        assert response.status_code == 200 and 'name="password"' in response.text
    else:
        assert response.status_code == 303, f"{path}: {response.status_code}"
        assert response.headers["location"].startswith("/staff/login?next=")
    assert samples.anyones_personal_data_in(response.text) == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", sorted(set(staff_get_paths()) - PUBLIC_PATHS))
def test_each_role_opens_only_what_it_may(staff_library, samples, clients, role, path):
    url = samples.path(path)
    before = staff_library.query("SELECT coalesce(max(id), 0) FROM operation_log")[0][0]
    response = clients[role].get(url, **samples.query())
    if role in expected_roles(path):
        assert response.status_code not in (401, 403), f"{role} {url}: {response.status_code}"
        assert not response.headers.get("location", "").startswith("/staff/login"), f"{role} {url}"
    else:
        assert response.status_code == 403, f"{role} {url}: {response.status_code}"
    if role == "stats":
        assert samples.anyones_personal_data_in(response.text) == [], f"stats saw personal data on {url}"
    if response.status_code == 200 and samples.personal_data_in(response.text):
        username = staff_library.account(role)["username"]
        reads = staff_library.query(
            "SELECT action FROM operation_log WHERE id > %s AND actor = %s AND entity = 'patron'", before, username)
        assert reads, f"{url} showed {role} a patron's personal data without an operation log entry"


def test_stats_sees_the_home_figures_and_its_password_page_only(clients, samples):
    stats = clients["stats"]
    home = stats.get("/staff/")
    assert home.status_code == 200 and 'data-figure="loans_today"' in home.text
    assert samples.anyones_personal_data_in(home.text) == []
    assert stats.get("/staff/password").status_code == 200


def api(staff_library, role: str | None, path: str, *, username: str | None = None, **parameters) -> httpx.Response:
    headers = staff_library.api_headers(role, username) if role else {}
    return httpx.get(f"{staff_library.base_url}{path}", headers=headers, params=parameters or None, timeout=30)


@pytest.mark.parametrize("endpoint, action", [("loans", "patron.read_loans"), ("summary", "patron.read_summary")])
def test_the_api_gives_patron_data_to_desk_roles_only_and_logs_each_read(staff_library, samples, endpoint, action):
    path = f"/api/v1/patrons/{samples.card}/{endpoint}"
    assert api(staff_library, None, path).status_code == 401
    assert api(staff_library, "stats", path).status_code == 403
    for role in ("counter", "librarian"):
        before = staff_library.query("SELECT coalesce(max(id), 0) FROM operation_log")[0][0]
        assert api(staff_library, role, path).status_code == 200
        logged = staff_library.query("SELECT actor, entity_id FROM operation_log WHERE id > %s AND action = %s",
                                     before, action)
        assert logged == [(staff_library.account(role)["username"], str(samples.patron_id))]


def test_the_api_keeps_counter_staff_to_their_own_branches(staff_library):
    assert api(staff_library, "counter", "/api/v1/branches/central/pick-list").status_code == 200
    assert api(staff_library, "counter", "/api/v1/branches/gyotoku/pick-list").status_code == 403
    assert api(staff_library, "counter", "/api/v1/overdue", branch="gyotoku").status_code == 403
    assert api(staff_library, "counter", "/api/v1/overdue", username="counter-gyotoku",
               branch="gyotoku").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/overdue", "/api/v1/purchase-requests", "/api/v1/audit",
                                  "/api/v1/branches/central/pick-list"])
def test_the_stats_role_gets_no_personal_data_from_the_api(staff_library, path):
    assert api(staff_library, "stats", path).status_code == 403


def test_only_librarians_and_administrators_list_purchase_requests(staff_library):
    assert api(staff_library, "counter", "/api/v1/purchase-requests").status_code == 403
    assert api(staff_library, "librarian", "/api/v1/purchase-requests").status_code == 200


def test_the_overdue_list_through_the_api_is_logged(staff_library):
    headers = staff_library.api_headers("librarian")
    before = staff_library.query("SELECT coalesce(max(id), 0) FROM operation_log")[0][0]
    response = httpx.get(f"{staff_library.base_url}/api/v1/overdue", headers=headers, timeout=30)
    assert response.status_code == 200 and response.json(), "the demo library has overdue loans"
    assert staff_library.query("SELECT action FROM operation_log WHERE id > %s AND actor = 'librarian'", before)
