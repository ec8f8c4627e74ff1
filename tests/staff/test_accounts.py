"""Staff administration through the /staff/accounts screens: the list, creating accounts (the staff password
rules), changing role, branches and state (ending the account's sessions at once), the administrator's own
account protected, password reset, unlock, ending every session, and the operation log of each change.

Each test works on accounts it creates, so the demo accounts other tests log in with stay as they are.
"""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.e2e

GOOD_PASSWORD = "Shelf-mark-2024"
_numbers = itertools.count(1)


def new_username(prefix: str) -> str:
    """A fresh user name (the package's database is shared: prefixes keep this module's names apart)."""
    return f"acc-{prefix}-{next(_numbers)}"


def create_account(admin, username: str, *, role: str = "counter", branches=("central",), display_name="",
                   password: str = GOOD_PASSWORD, active: bool = True, charset: str = "utf-8"):
    form = {"username": username, "display_name": display_name, "role": role, "branches": list(branches),
            "sip2_charset": charset, "password": password, "password_again": password}
    if active:
        form["is_active"] = "on"
    return admin.post("/staff/accounts", form, token_from="/staff/accounts/new")


def account_id(staff_library, username: str) -> int:
    return staff_library.query("SELECT id FROM staff_account WHERE username = %s", username)[0][0]


def last_log(staff_library, staff_id: int, action: str) -> dict | None:
    rows = staff_library.query(
        """SELECT actor, detail, source_address FROM operation_log
           WHERE entity = 'staff_account' AND entity_id = %s AND action = %s ORDER BY id DESC LIMIT 1""",
        str(staff_id), action)
    return {"actor": rows[0][0], "detail": rows[0][1], "address": rows[0][2]} if rows else None


def logged_in(staff_library, username: str, password: str = GOOD_PASSWORD):
    client = staff_library.anonymous_client()
    response = client.login(username, password)
    assert response.status_code == 303, response.text
    return client


def still_logged_in(client) -> bool:
    return 'name="username"' not in client.get("/staff/").text


@pytest.fixture(scope="module")
def admin(staff_library):
    return staff_library.staff_client("admin")


def test_the_list_shows_every_account_with_role_branches_state_and_sessions(staff_library, admin):
    counter = staff_library.staff_client("counter", "counter")
    page = admin.get("/staff/accounts")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for username in ("admin", "librarian", "counter", "counter-gyotoku", "stats", "sip2-central-1"):
        assert f'data-username="{username}"' in page.text
    row = page.text.split('data-username="counter"', 1)[1].split("</tr>", 1)[0]
    assert "カウンター" in row and "中央図書館" in row and "市川駅南口図書館" in row and "有効" in row
    open_sessions = int(row.split('data-open-sessions="', 1)[1].split('"', 1)[0])
    assert open_sessions >= 1
    assert "なし" not in row  # the counter has logged in: the last login comes from the operation log
    librarian_row = page.text.split('data-username="librarian"', 1)[1].split("</tr>", 1)[0]
    assert "全館" in librarian_row
    counter.close()


def test_an_administrator_creates_a_counter_account_that_works_at_its_branch_only(staff_library, admin):
    username = new_username("desk")
    response = create_account(admin, username, branches=("gyotoku",), display_name="行徳カウンター")
    assert response.status_code == 303 and response.headers["location"].endswith("?done=created")
    staff_id = account_id(staff_library, username)
    page = admin.get(response.headers["location"])
    assert "職員アカウントを登録しました" in page.text and "行徳カウンター" in page.text
    client = logged_in(staff_library, username)
    home = client.get("/staff/").text
    assert 'data-branch="gyotoku"' in home or 'value="gyotoku" selected' in home
    logged = last_log(staff_library, staff_id, "staff.create")
    assert logged["actor"] == "admin" and logged["address"] == admin.address
    assert logged["detail"] == {"username": username, "role": "counter", "branches": ["gyotoku"], "active": True,
                                "sip2_charset": "utf-8"}


@pytest.mark.parametrize("password, again, rule", [
    ("Short-1", "Short-1", "10文字以上"),
    ("{username}-Extra9", "{username}-Extra9", "職員IDを含む"),
    ("onlylowercaseletters", "onlylowercaseletters", "2種類以上"),
    ("aaaaaaaaaaA", "aaaaaaaaaaA", "異なる文字"),
    (" Leading-space-1", " Leading-space-1", "空白"),
    ("Shelf-mark-2024", "Shelf-mark-2025", "password_again"),
])
def test_weak_or_mistyped_initial_passwords_are_refused_naming_the_rule(staff_library, admin, password, again, rule):
    username = new_username("weak")
    form = {"username": username, "display_name": "x", "role": "librarian", "sip2_charset": "utf-8",
            "password": password.format(username=username), "password_again": again.format(username=username),
            "is_active": "on"}
    response = admin.post("/staff/accounts", form, token_from="/staff/accounts/new")
    assert response.status_code in (400, 422)
    assert rule in response.text
    assert f'value="{username}"' in response.text  # the form comes back with what was typed ...
    assert password.format(username=username) not in response.text  # ... but never the password
    assert not staff_library.query("SELECT 1 FROM staff_account WHERE username = %s", username)


def test_the_form_shows_the_password_rules(admin):
    page = admin.get("/staff/accounts/new").text
    assert "パスワードの決まり" in page and "10文字以上" in page and "職員IDを含まない" in page


@pytest.mark.parametrize("change, status, text", [
    ({"username": "admin"}, 409, "既に使われています"),
    ({"username": "Bad Name!"}, 400, "username"),
    ({"branches": []}, 400, "業務館を1つ以上"),
    ({"branches": ["nowhere"]}, 400, "nowhere"),
    ({"role": "superuser"}, 400, "superuser"),
    ({"sip2_charset": "latin-1"}, 400, "sip2_charset"),
])
def test_bad_account_fields_get_a_clear_error_naming_the_field(staff_library, admin, change, status, text):
    form = {"username": new_username("bad"), "display_name": "", "role": "counter", "branches": ["central"],
            "sip2_charset": "utf-8", "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD, "is_active": "on",
            **change}
    response = admin.post("/staff/accounts", form, token_from="/staff/accounts/new")
    assert response.status_code == status, response.text
    assert text in response.text


def test_a_sip2_terminal_is_created_with_its_character_set(staff_library, admin):
    username = new_username("sip")
    assert create_account(admin, username, role="sip2", branches=("ekiminami",), charset="cp932").status_code == 303
    assert staff_library.query("SELECT role, sip2_charset FROM staff_account WHERE username = %s",
                               username) == [("sip2", "cp932")]
    assert staff_library.anonymous_client().login(username, GOOD_PASSWORD).status_code == 401  # no web login
    row = admin.get("/staff/accounts").text.split(f'data-username="{username}"', 1)[1].split("</tr>", 1)[0]
    assert "自動貸出機" in row and "cp932" in row


def _settings_form(role="counter", branches=("central",), display_name="", active=True, charset="utf-8") -> dict:
    form = {"display_name": display_name, "role": role, "branches": list(branches), "sip2_charset": charset}
    if active:
        form["is_active"] = "on"
    return form


def test_a_role_change_ends_the_accounts_sessions_at_once_and_is_logged(staff_library, admin):
    username = new_username("role")
    create_account(admin, username)
    staff_id = account_id(staff_library, username)
    desk = logged_in(staff_library, username)
    assert still_logged_in(desk)
    response = admin.post(f"/staff/accounts/{staff_id}", _settings_form(role="librarian", branches=()),
                          token_from=f"/staff/accounts/{staff_id}")
    assert response.status_code == 303 and response.headers["location"].endswith("?done=saved_and_logged_out")
    page = desk.get("/staff/")
    assert 'name="username"' in page.text and "アカウントが変更されたため" in page.text
    logged = last_log(staff_library, staff_id, "staff.update")
    assert logged["detail"]["changes"] == {"role": ["counter", "librarian"], "branches": [["central"], []]}
    assert logged["detail"]["sessions_ended"] == 1
    librarian = logged_in(staff_library, username)
    assert 'href="/staff/catalogue"' in librarian.get("/staff/").text


def test_a_display_name_change_keeps_the_sessions(staff_library, admin):
    username = new_username("name")
    create_account(admin, username, display_name="旧名")
    staff_id = account_id(staff_library, username)
    desk = logged_in(staff_library, username)
    response = admin.post(f"/staff/accounts/{staff_id}", _settings_form(display_name="新名"),
                          token_from=f"/staff/accounts/{staff_id}")
    assert response.headers["location"].endswith("?done=saved")
    assert still_logged_in(desk) and "新名" in desk.get("/staff/").text
    unchanged = admin.post(f"/staff/accounts/{staff_id}", _settings_form(display_name="新名"),
                           token_from=f"/staff/accounts/{staff_id}")
    assert unchanged.headers["location"].endswith("?done=unchanged")


def test_a_disabled_account_is_logged_out_and_cannot_log_in(staff_library, admin):
    username = new_username("off")
    create_account(admin, username)
    staff_id = account_id(staff_library, username)
    desk = logged_in(staff_library, username)
    admin.post(f"/staff/accounts/{staff_id}", _settings_form(active=False), token_from=f"/staff/accounts/{staff_id}")
    assert not still_logged_in(desk)
    assert staff_library.anonymous_client().login(username, GOOD_PASSWORD).status_code == 401
    assert 'data-state="disabled"' in admin.get(f"/staff/accounts/{staff_id}").text
    assert last_log(staff_library, staff_id, "staff.update")["detail"]["changes"] == {"is_active": [True, False]}


@pytest.mark.parametrize("change", [{"role": "librarian", "branches": ()}, {"active": False}])
def test_an_administrator_cannot_disable_or_demote_their_own_account(staff_library, change):
    username = new_username("boss")
    admin = staff_library.staff_client("admin")
    create_account(admin, username, role="admin", branches=())
    staff_id = account_id(staff_library, username)
    boss = logged_in(staff_library, username)
    response = boss.post(f"/staff/accounts/{staff_id}", _settings_form(**{"role": "admin", "branches": (), **change}),
                         token_from=f"/staff/accounts/{staff_id}")
    assert response.status_code == 409
    assert "自分のアカウント" in response.text and "You cannot disable your own account" in response.text
    assert staff_library.query("SELECT role, is_active FROM staff_account WHERE id = %s", staff_id) == [("admin", True)]
    assert still_logged_in(boss)


def test_a_password_reset_logs_the_account_out_lifts_the_lockout_and_is_logged(staff_library, admin):
    username = new_username("reset")
    create_account(admin, username)
    staff_id = account_id(staff_library, username)
    desk = logged_in(staff_library, username)
    for _ in range(5):
        staff_library.anonymous_client().login(username, "wrong-password-1")
    assert staff_library.anonymous_client().login(username, GOOD_PASSWORD).status_code == 423
    assert 'data-state="locked"' in admin.get(f"/staff/accounts/{staff_id}").text
    weak = admin.post(f"/staff/accounts/{staff_id}/password", {"password": "short", "password_again": "short"},
                      token_from=f"/staff/accounts/{staff_id}")
    assert weak.status_code == 422 and "10文字以上" in weak.text
    new_password = "Another-Shelf-77"
    response = admin.post(f"/staff/accounts/{staff_id}/password",
                          {"password": new_password, "password_again": new_password},
                          token_from=f"/staff/accounts/{staff_id}")
    assert response.headers["location"].endswith("?done=password_reset")
    assert not still_logged_in(desk)
    assert staff_library.anonymous_client().login(username, GOOD_PASSWORD).status_code == 401
    assert staff_library.anonymous_client().login(username, new_password).status_code == 303
    assert last_log(staff_library, staff_id, "staff.password_reset")["detail"] == {"sessions_ended": 1}
    assert not staff_library.query(
        "SELECT 1 FROM operation_log WHERE entity_id = %s AND detail::text LIKE %s", str(staff_id), f"%{new_password}%")


def test_unlock_lets_a_locked_account_log_in_again(staff_library, admin):
    username = new_username("lock")
    create_account(admin, username)
    staff_id = account_id(staff_library, username)
    for _ in range(5):
        staff_library.anonymous_client().login(username, "wrong-password-1")
    page = admin.get(f"/staff/accounts/{staff_id}").text
    assert "ロックを解除" in page
    assert admin.post(f"/staff/accounts/{staff_id}/unlock", token_from=f"/staff/accounts/{staff_id}") \
        .headers["location"].endswith("?done=unlocked")
    assert staff_library.anonymous_client().login(username, GOOD_PASSWORD).status_code == 303
    assert last_log(staff_library, staff_id, "staff.unlock")["actor"] == "admin"


def test_ending_all_sessions_logs_the_account_out_everywhere(staff_library, admin):
    username = new_username("end")
    create_account(admin, username, branches=("central", "ekiminami"))
    staff_id = account_id(staff_library, username)
    desks = [logged_in(staff_library, username), logged_in(staff_library, username)]
    assert 'data-open-sessions="2"' in admin.get(f"/staff/accounts/{staff_id}").text
    response = admin.post(f"/staff/accounts/{staff_id}/sessions/end", token_from=f"/staff/accounts/{staff_id}")
    assert response.headers["location"].endswith("?done=sessions_ended")
    assert not any(still_logged_in(desk) for desk in desks)
    assert "管理者によりログアウトされました" in desks[0].get("/staff/").text
    assert last_log(staff_library, staff_id, "staff.sessions_ended")["detail"] == {"sessions_ended": 2}
    assert 'data-open-sessions="0"' in admin.get(f"/staff/accounts/{staff_id}").text


def test_only_administrators_change_accounts(staff_library):
    librarian = staff_library.staff_client("librarian")
    username = new_username("nope")
    response = librarian.post("/staff/accounts", {"username": username, "role": "admin", "password": GOOD_PASSWORD,
                                                  "password_again": GOOD_PASSWORD}, token_from="/staff/")
    assert response.status_code == 403
    assert not staff_library.query("SELECT 1 FROM staff_account WHERE username = %s", username)
    admin_id = account_id(staff_library, "admin")
    refused = librarian.post(f"/staff/accounts/{admin_id}/password",
                             {"password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD}, token_from="/staff/")
    assert refused.status_code == 403


def test_an_unknown_account_is_404(admin):
    assert admin.get("/staff/accounts/999999").status_code == 404


def test_the_account_screens_in_english(admin):
    page = admin.get("/staff/accounts", lang="en").text
    assert "Staff accounts" in page and "Last login" in page and "All branches" in page
    admin.get("/staff/accounts", lang="ja")


def test_the_screens_never_show_password_hashes(staff_library, admin):
    assert "$argon2" not in admin.get("/staff/accounts").text
    assert "$argon2" not in admin.get(f"/staff/accounts/{account_id(staff_library, 'counter')}").text
