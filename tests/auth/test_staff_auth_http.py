"""Staff login, lockout and role checks through the real server (granian, two workers, real HTTP)."""

from __future__ import annotations

import httpx
import pytest

from shoka.auth.staff_accounts import LOCKOUT_THRESHOLD

PASSWORDS = {"admin1": "admin-password-1", "counter1": "counter-password-1", "stats1": "stats-password-1",
             "librarian1": "librarian-password-1", "kiosk1": "kiosk-password-1"}
ROLES = {"admin1": "admin", "counter1": "counter", "stats1": "stats", "librarian1": "librarian", "kiosk1": "sip2"}


@pytest.fixture(scope="module")
def staff_server(server):
    for username, role in ROLES.items():
        result = server.run_cli("staff", "add", username, "--role", role, input_text=PASSWORDS[username] + "\n")
        assert result.returncode == 0, result.stderr
    return server


def login(server, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{server.base_url}/api/v1/auth/token", json={"username": username, "password": password})


def bearer(server, username: str) -> dict[str, str]:
    response = login(server, username, PASSWORDS[username])
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_login_returns_a_bearer_token_naming_the_role(staff_server):
    response = login(staff_server, "counter1", PASSWORDS["counter1"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "counter" and body["access_token"]
    me = httpx.get(f"{staff_server.base_url}/api/v1/staff/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "counter1", "role": "counter", "branches": []}


@pytest.mark.parametrize("username,password", [("counter1", "wrong-password"), ("nobody", "whatever-password")])
def test_wrong_password_and_unknown_user_get_the_same_answer(staff_server, username, password):
    response = login(staff_server, username, password)
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_credentials", "message": "user name or password is wrong"}


def test_malformed_login_is_a_400_naming_the_field(staff_server):
    response = httpx.post(f"{staff_server.base_url}/api/v1/auth/token", json={"username": "admin1"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request" and "password" in response.json()["message"]
    garbage = httpx.post(f"{staff_server.base_url}/api/v1/auth/token", content=b"\xff\xfe{{",
                         headers={"content-type": "application/json"})
    assert garbage.status_code == 400


def test_sip2_terminal_accounts_cannot_log_in_to_the_web_api(staff_server):
    assert login(staff_server, "kiosk1", PASSWORDS["kiosk1"]).status_code == 401


def test_lockout_after_repeated_failures_even_with_the_right_password(staff_server):
    result = staff_server.run_cli("staff", "add", "victim", "--role", "librarian", input_text="victim-password-1\n")
    assert result.returncode == 0, result.stderr
    for _ in range(LOCKOUT_THRESHOLD):
        assert login(staff_server, "victim", "not-the-password").status_code == 401
    locked = login(staff_server, "victim", "victim-password-1")
    assert locked.status_code == 423
    assert locked.json()["code"] == "account_locked"
    unlocked = staff_server.run_cli("staff", "unlock", "victim")
    assert unlocked.returncode == 0, unlocked.stderr
    assert login(staff_server, "victim", "victim-password-1").status_code == 200


def test_a_success_resets_the_failure_count(staff_server):
    for _ in range(LOCKOUT_THRESHOLD - 1):
        login(staff_server, "librarian1", "not-the-password")
    assert login(staff_server, "librarian1", PASSWORDS["librarian1"]).status_code == 200
    for _ in range(LOCKOUT_THRESHOLD - 1):
        login(staff_server, "librarian1", "not-the-password")
    assert login(staff_server, "librarian1", PASSWORDS["librarian1"]).status_code == 200


@pytest.mark.parametrize("username,expected_status", [
    ("admin1", 200), ("librarian1", 403), ("counter1", 403), ("stats1", 403)])
def test_only_administrators_read_the_operation_log(staff_server, username, expected_status):
    response = httpx.get(f"{staff_server.base_url}/api/v1/audit", headers=bearer(staff_server, username))
    assert response.status_code == expected_status
    if expected_status == 403:
        assert response.json()["code"] == "role_not_allowed"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}])
def test_anonymous_and_forged_requests_are_refused(staff_server, headers):
    response = httpx.get(f"{staff_server.base_url}/api/v1/audit", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_token"}


def test_a_token_signed_with_another_key_is_refused(staff_server):
    import jwt

    forged = jwt.encode({"iss": "shoka", "sub": "admin1", "sid": 1, "role": "admin", "iat": 0, "exp": 4102444800},
                        b"another-key-another-key-another-key", algorithm="HS256")
    response = httpx.get(f"{staff_server.base_url}/api/v1/audit", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_logins_and_their_failures_are_in_the_operation_log(staff_server):
    login(staff_server, "stats1", "bad-password-here")
    login(staff_server, "stats1", PASSWORDS["stats1"])
    response = httpx.get(f"{staff_server.base_url}/api/v1/audit", params={"actor": "stats1", "action": "staff."},
                         headers=bearer(staff_server, "admin1"))
    actions = [entry["action"] for entry in response.json()["entries"]]
    assert "staff.login_failed" in actions and "staff.login" in actions
    assert all(entry["actor"] == "stats1" for entry in response.json()["entries"])
    logged = str(response.json())
    assert "bad-password-here" not in logged and PASSWORDS["stats1"] not in logged


def test_audit_filters_reject_bad_parameters_with_a_400(staff_server):
    response = httpx.get(f"{staff_server.base_url}/api/v1/audit", params={"since": "yesterday"},
                         headers=bearer(staff_server, "admin1"))
    assert response.status_code == 400
    assert "since" in response.json()["message"]


def test_health_and_the_opac_top_page_are_served(staff_server):
    health = httpx.get(f"{staff_server.base_url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    home = httpx.get(f"{staff_server.base_url}/")
    assert home.status_code == 200 and 'name="q"' in home.text and 'lang="ja"' in home.text
    english = httpx.get(f"{staff_server.base_url}/?lang=en")
    assert 'lang="en"' in english.text and "New arrivals" in english.text
    assert home.headers["x-frame-options"] == "DENY"


def test_unknown_paths_are_404_in_json_for_the_api_and_html_for_pages(staff_server):
    api = httpx.get(f"{staff_server.base_url}/api/v1/nothing-here")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    page = httpx.get(f"{staff_server.base_url}/nothing-here", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text


def test_openapi_schema_lists_the_token_endpoint(staff_server):
    schema = httpx.get(f"{staff_server.base_url}/schema/openapi.json").json()
    assert "/api/v1/auth/token" in schema["paths"]
