"""Staff login, sessions and the menu each role gets (/staff/, /staff/login, /staff/logout, /staff/branch)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_staff_home_shows_the_login_form_with_the_contract_fields(staff_library):
    client = staff_library.anonymous_client()
    page = client.get("/staff/")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_login_opens_a_session_and_logout_ends_it(staff_library):
    account = staff_library.account("librarian")
    client = staff_library.anonymous_client()
    response = client.login(account["username"], account["password"], next="/staff/")
    assert response.status_code == 303 and response.headers["location"] == "/staff/"
    cookie = response.cookies.get("shoka_staff")
    assert cookie and "httponly" in response.headers["set-cookie"].lower()
    home = client.get("/staff/")
    assert "業務メニュー" in home.text and 'data-figure="loans_today"' in home.text
    assert client.post("/staff/logout", token_from="/staff/").status_code == 303
    # The old cookie no longer opens anything, even if a copy of it is replayed.
    replay = staff_library.anonymous_client()
    replay.client.cookies.set("shoka_staff", cookie, path="/staff")
    assert 'name="username"' in replay.get("/staff/").text
    actions = [row[0] for row in staff_library.query(
        "SELECT action FROM operation_log WHERE actor = %s ORDER BY id DESC LIMIT 2", account["username"])]
    assert actions == ["staff.logout", "staff.login"]


def test_wrong_password_is_refused_in_plain_words(staff_library):
    client = staff_library.anonymous_client()
    response = client.login(staff_library.account("counter")["username"], "not-the-password")
    assert response.status_code == 401
    assert "職員IDまたはパスワードが違います" in response.text
    assert "shoka_staff" not in response.cookies


def test_sip2_terminal_accounts_cannot_log_in_to_the_staff_client(staff_library):
    account = staff_library.account("sip2")
    response = staff_library.anonymous_client().login(account["username"], account["password"])
    assert response.status_code == 401


def test_login_returns_to_the_page_asked_for_and_never_off_site(staff_library):
    account = staff_library.account("librarian")
    client = staff_library.anonymous_client()
    form = client.get("/staff/login", next="/staff/circulation?x=1").text
    assert 'name="next" value="/staff/circulation?x=1"' in form
    back = client.login(account["username"], account["password"], next="/staff/circulation?x=1")
    assert back.headers["location"] == "/staff/circulation?x=1"
    for hostile in ("https://evil.example/", "//evil.example/staff", "/staff\\..", "/opac"):
        other = staff_library.anonymous_client()
        assert other.login(account["username"], account["password"], next=hostile).headers["location"] == "/staff/"


def test_a_post_without_session_or_csrf_token_changes_nothing(staff_library):
    client = staff_library.anonymous_client()
    assert client.client.post("/staff/branch", data={"branch": "central"}).status_code == 403  # no CSRF token
    with_token = client.post("/staff/branch", {"branch": "central"})
    assert with_token.status_code == 303 and with_token.headers["location"].startswith("/staff/login?next=")


def test_idle_sessions_end_and_the_login_page_says_why(staff_library):
    client = staff_library.staff_client("librarian")
    staff_library.execute("UPDATE staff_session SET last_seen_at = now() - interval '2 hours' "
                          "WHERE ended_at IS NULL AND staff_id = (SELECT id FROM staff_account WHERE username = %s)",
                          staff_library.account("librarian")["username"])
    page = client.get("/staff/")
    assert 'name="username"' in page.text
    assert "一定時間操作がなかったため" in page.text
    assert staff_library.query("SELECT count(*) FROM staff_session WHERE end_reason = 'idle'")[0][0] >= 1


def test_a_disabled_account_loses_its_session_at_once(staff_library):
    client = staff_library.staff_client("stats")
    username = staff_library.account("stats")["username"]
    staff_library.execute("UPDATE staff_account SET is_active = false WHERE username = %s", username)
    try:
        assert 'name="username"' in client.get("/staff/").text
    finally:
        staff_library.execute("UPDATE staff_account SET is_active = true WHERE username = %s", username)


@pytest.mark.parametrize("role, visible, hidden", [
    ("admin", ["/staff/circulation", "/staff/patrons", "/staff/catalogue", "/staff/accounts", "/staff/audit"], []),
    ("librarian", ["/staff/circulation", "/staff/patrons", "/staff/catalogue"], ["/staff/accounts", "/staff/audit"]),
    ("counter", ["/staff/circulation", "/staff/patrons"], ["/staff/catalogue", "/staff/accounts", "/staff/audit"]),
    ("stats", [], ["/staff/circulation", "/staff/patrons", "/staff/catalogue", "/staff/accounts", "/staff/audit"]),
])
def test_each_role_gets_the_menu_it_may_use(staff_library, role, visible, hidden):
    page = staff_library.staff_client(role).get("/staff/").text
    for path in visible:
        assert f'href="{path}"' in page, path
    for path in hidden:
        assert f'href="{path}"' not in page, path


def test_counter_staff_switch_only_among_their_own_branches(staff_library):
    client = staff_library.staff_client("counter", "counter")
    home = client.get("/staff/").text
    assert 'value="central"' in home and 'value="ekiminami"' in home and 'value="gyotoku"' not in home
    assert client.post("/staff/branch", {"branch": "ekiminami", "next": "/staff/"}, token_from="/staff/").status_code == 303
    assert 'value="ekiminami" selected' in client.get("/staff/").text
    refused = client.post("/staff/branch", {"branch": "gyotoku"}, token_from="/staff/")
    assert refused.status_code == 403 and "gyotoku" in refused.text


def test_english_staff_pages(staff_library):
    client = staff_library.staff_client("librarian")
    page = client.get("/staff/", lang="en").text
    assert "Staff home" in page and "Log out" in page
