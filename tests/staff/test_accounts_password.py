"""/staff/password: every staff member changes their own password; the other sessions end, this one goes on."""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.e2e

FIRST_PASSWORD = "Reading-room-31"
_numbers = itertools.count(1)


@pytest.fixture
def own_account(staff_library):
    """A fresh counter account and two desks logged in as it."""
    admin = staff_library.staff_client("admin")
    username = f"own-{next(_numbers)}"
    response = admin.post("/staff/accounts", {
        "username": username, "display_name": "", "role": "counter", "branches": ["central"], "sip2_charset": "utf-8",
        "password": FIRST_PASSWORD, "password_again": FIRST_PASSWORD, "is_active": "on"},
        token_from="/staff/accounts/new")
    assert response.status_code == 303, response.text
    desks = []
    for _ in range(2):
        desk = staff_library.anonymous_client()
        assert desk.login(username, FIRST_PASSWORD).status_code == 303
        desks.append(desk)
    staff_id = staff_library.query("SELECT id FROM staff_account WHERE username = %s", username)[0][0]
    return username, staff_id, desks


def change(desk, current: str, new: str, again: str | None = None):
    return desk.post("/staff/password", {"current_password": current, "new_password": new,
                                         "new_password_again": new if again is None else again},
                     token_from="/staff/password")


def test_every_web_role_may_open_the_password_page(staff_library):
    for role in ("admin", "librarian", "counter", "stats"):
        page = staff_library.staff_client(role).get("/staff/password")
        assert page.status_code == 200 and "パスワードの決まり" in page.text, role


def test_a_change_keeps_this_session_ends_the_others_and_is_logged(staff_library, own_account):
    username, staff_id, (here, elsewhere) = own_account
    new_password = "Quiet-stacks-42"
    response = change(here, FIRST_PASSWORD, new_password)
    assert response.status_code == 303 and response.headers["location"] == "/staff/password?done=changed"
    assert "パスワードを変更しました" in here.get("/staff/password", done="changed").text
    assert 'name="username"' in elsewhere.get("/staff/").text  # the other desk is logged out
    assert staff_library.anonymous_client().login(username, FIRST_PASSWORD).status_code == 401
    assert staff_library.anonymous_client().login(username, new_password).status_code == 303
    logged = staff_library.query(
        """SELECT actor, detail, source_address FROM operation_log
           WHERE action = 'staff.password_change' AND entity_id = %s""", str(staff_id))
    assert logged == [(username, {"other_sessions_ended": 1}, here.address)]


def test_a_wrong_current_password_is_refused_and_logged(staff_library, own_account):
    username, staff_id, (here, elsewhere) = own_account
    response = change(here, "not-my-password", "Quiet-stacks-42")
    assert response.status_code == 403 and "現在のパスワードが違います" in response.text
    assert staff_library.query("SELECT count(*) FROM operation_log WHERE action = 'staff.password_change_refused' "
                               "AND entity_id = %s", str(staff_id)) == [(1,)]
    assert 'name="username"' not in elsewhere.get("/staff/").text  # nothing changed


@pytest.mark.parametrize("new, again, status, text", [
    ("Quiet-stacks-42", "Quiet-stacks-43", 400, "2回とも同じ"),
    ("Short-1", None, 422, "10文字以上"),
    ("{username}-Extra9", None, 422, "職員IDを含む"),
    (FIRST_PASSWORD, None, 400, "現在と違う"),
])
def test_the_new_password_must_be_typed_twice_and_follow_the_rules(staff_library, own_account, new, again, status,
                                                                    text):
    username, _staff_id, (here, _elsewhere) = own_account
    response = change(here, FIRST_PASSWORD, new.format(username=username), again)
    assert response.status_code == status and text in response.text
    assert staff_library.anonymous_client().login(username, FIRST_PASSWORD).status_code == 303


def test_anonymous_visitors_are_sent_to_the_login(staff_library):
    response = staff_library.anonymous_client().get("/staff/password")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login?next=")
