"""Patron login and logout through the real server: the signed session cookie, lockout, rate limiting per
client address, legacy hash upgrade, CSRF, idle expiry, and the operation log."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import jwt
import psycopg

from shoka.patrons.authentication import LOCKOUT_THRESHOLD, RATE_LIMIT_FAILURES
from tests.opac.conftest import SECRET_EMAIL, SECRET_NAME, SECRET_PHONE, Browser, Patron, parse_html


def log_entries(library, action: str, card: str) -> list[tuple]:
    with psycopg.connect(library.database_url) as connection:
        return connection.execute(
            "SELECT actor_kind, actor, entity_id, source_address, detail FROM operation_log "
            "WHERE action = %s AND actor = %s ORDER BY id", [action, card]).fetchall()


def session_cookie(response: httpx.Response) -> str:
    return next(header for header in response.headers.get_list("set-cookie") if header.startswith("shoka_session="))


def test_login_sets_a_signed_httponly_cookie_and_the_header_shows_logout(library):
    browser = Browser(library)
    alice = library.patrons["alice"]
    form = parse_html(browser.get("/login").text).find("form", cls="login-form")
    assert form.find("input", name="card").get("autocomplete") == "username"
    assert form.find("input", name="password").get("type") == "password"
    response = browser.login(alice)
    assert response.status_code == 303 and response.headers["location"] == "/my"
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Path=/" in cookie
    assert "Max-Age=1200" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert SECRET_NAME not in token and alice.password not in token
    home = parse_html(browser.get("/").text)
    logout = home.find("form", id="logout-form")
    assert logout.get("method") == "post" and logout.find("button").text() == "ログアウト"
    assert home.find("a", cls="my-page-link").text() == "マイページ" and home.find("a", cls="login-link") is None
    entries = log_entries(library, "patron.login", alice.card)
    assert entries and entries[-1][0] == "patron" and entries[-1][2] == str(alice.patron_id)
    assert entries[-1][3] == browser.address
    browser.close()


def test_cookies_are_secure_behind_a_tls_proxy(library):
    browser = Browser(library)
    browser.client.headers["X-Forwarded-Proto"] = "https"
    response = browser.login(library.patrons["bob"])
    assert "Secure" in session_cookie(response)
    browser.close()


def test_wrong_password_and_unknown_card_get_the_same_answer(library):
    browser = Browser(library)
    wrong = browser.login(Patron(library.patrons["bob"].card, "not-the-password"))
    unknown = browser.login(Patron("9999999999", "not-the-password"))
    for response in (wrong, unknown):
        assert response.status_code == 401
        page = parse_html(response.text)
        assert page.find("div", cls="error-summary").text().strip() == "利用者カード番号またはパスワードが違います。"
        assert page.find("input", name="card").get("value") in (library.patrons["bob"].card, "9999999999")
        assert "shoka_session" not in response.headers.get("set-cookie", "")
    assert log_entries(library, "patron.login_failed", "9999999999")[-1][4] == {"reason": "unknown_card"}
    browser.close()


def test_empty_fields_are_named_next_to_the_field(library):
    browser = Browser(library)
    response = browser.post("/login", {"card": "", "password": ""})
    assert response.status_code == 400
    page = parse_html(response.text)
    card = page.find("input", name="card")
    assert card.get("aria-invalid") == "true" and "card-error" in card.get("aria-describedby")
    assert page.find(id="card-error").text() == "利用者カード番号を入力してください。"
    assert page.find(id="password-error") is not None
    browser.close()


def test_repeated_failures_lock_the_card_even_for_the_right_password(library):
    browser = Browser(library)
    erin = library.patrons["erin"]
    for _ in range(LOCKOUT_THRESHOLD):
        assert browser.login(Patron(erin.card, "wrong-password")).status_code == 401
    locked = browser.login(erin)
    assert locked.status_code == 423 and "ログインできません" in locked.text
    with psycopg.connect(library.database_url) as connection:
        locked_until = connection.execute("SELECT locked_until FROM patron_credential WHERE patron_id = %s",
                                          [erin.patron_id]).fetchone()[0]
    assert locked_until > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    assert log_entries(library, "patron.login_refused", erin.card)[-1][4] == {"reason": "locked"}
    english = Browser(library)
    response = english.client.post("/login?lang=en", data={
        "card": erin.card, "password": erin.password, "_csrf_token": english.csrf_token("/login?lang=en")})
    assert response.status_code == 423 and "blocked" in response.text
    browser.close()
    english.close()


def test_too_many_failures_from_one_address_are_refused_before_any_password_check(library):
    attacker = Browser(library)
    for number in range(RATE_LIMIT_FAILURES):
        assert attacker.login(Patron(f"55500{number:05d}", "guess")).status_code == 401
    refused = attacker.login(library.patrons["leo"])
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "しばらく" in refused.text or "分ほど" in refused.text
    assert all(entry[3] != attacker.address for entry in log_entries(library, "patron.login", library.patrons["leo"].card))
    elsewhere = Browser(library)
    assert elsewhere.login(library.patrons["leo"]).status_code == 303
    attacker.close()
    elsewhere.close()


def test_login_and_logout_need_the_csrf_token_but_the_json_api_does_not(library):
    browser = Browser(library)
    browser.get("/login")
    response = browser.client.post("/login", data={"card": library.patrons["bob"].card,
                                                   "password": library.patrons["bob"].password})
    assert response.status_code == 403 and "フォーム" in response.text
    api = httpx.post(f"{library.base_url}/api/v1/auth/token", json={"username": "nobody", "password": "x" * 10})
    assert api.status_code == 401 and api.json()["code"] == "invalid_credentials"
    assert "shoka_csrf" not in api.headers.get("set-cookie", "")
    assert "shoka_csrf" not in httpx.get(f"{library.base_url}/api/v1/search", params={"q": "猫"}).headers.get(
        "set-cookie", "")
    browser.close()


def test_legacy_hashes_are_verified_once_and_upgraded(library):
    for name, scheme in (("carol", "legacy_md5"), ("dave", "legacy_sha256")):
        patron = library.patrons[name]
        browser = Browser(library)
        assert browser.login(Patron(patron.card, "wrong-password")).status_code == 401
        assert browser.login(patron).status_code == 303
        with psycopg.connect(library.database_url) as connection:
            stored, stored_scheme = connection.execute(
                "SELECT password_hash, hash_scheme FROM patron_credential WHERE patron_id = %s",
                [patron.patron_id]).fetchone()
        assert stored_scheme == "argon2id" and stored.startswith("$argon2id$")
        assert log_entries(library, "patron.login", patron.card)[-1][4] == {"via": "opac", "hash_upgraded_from": scheme}
        again = Browser(library)
        assert again.login(patron).status_code == 303
        browser.close()
        again.close()


def test_a_lost_card_is_refused_only_after_the_right_password(library):
    frank = library.patrons["frank"]
    browser = Browser(library)
    assert browser.login(Patron(frank.card, "wrong-password")).status_code == 401
    refused = browser.login(frank)
    assert refused.status_code == 403 and "ご利用いただけません" in refused.text
    assert "shoka_session" not in refused.headers.get("set-cookie", "")
    browser.close()


def test_full_width_card_numbers_are_accepted(library):
    leo = library.patrons["leo"]
    browser = Browser(library)
    full_width = leo.card.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert browser.login(Patron(f" {full_width} ", leo.password)).status_code == 303
    browser.close()


def test_next_only_leads_back_into_this_site(library):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        browser = Browser(library)
        response = browser.login(library.patrons["bob"], next_path=target)
        assert response.headers["location"] == "/my", target
        browser.close()
    browser = Browser(library)
    page = parse_html(browser.get("/login", next="//evil.example").text)
    assert page.find("input", name="next").get("value") == "/my"
    browser.close()


def test_logout_ends_the_session_and_is_logged(library):
    browser = Browser(library)
    bob = library.patrons["bob"]
    browser.login(bob)
    assert browser.get("/my").status_code == 200
    assert parse_html(browser.get("/logout").text).find("main").find("button").text() == "ログアウト"
    response = browser.post("/logout", {}, token_from="/")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert 'shoka_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert "ログアウトしました" in browser.get("/").text
    assert browser.get("/my").status_code == 303
    assert log_entries(library, "patron.logout", bob.card)[-1][4] == {"reason": "patron"}
    browser.close()


def _signing_key(library) -> bytes:
    with psycopg.connect(library.database_url) as connection:
        return bytes(connection.execute(
            "SELECT value FROM service_secret WHERE name = 'patron_session_key'").fetchone()[0])


def _forged_session(library, browser: Browser, patron: Patron, *, idle_seconds: int, kiosk: bool = False) -> None:
    """The cookie the server would have set `idle_seconds` ago (signed with the key from the database)."""
    response = Browser(library).login(patron)
    claims = jwt.decode(session_cookie(response).split(";")[0].split("=", 1)[1], _signing_key(library),
                        algorithms=["HS256"], audience="shoka-opac")
    claims["last"] = int(time.time()) - idle_seconds
    claims["kiosk"] = kiosk
    browser.client.cookies.set("shoka_session", jwt.encode(claims, _signing_key(library), algorithm="HS256"))


def test_sessions_expire_after_the_idle_time(library):
    patron = library.patrons["bob"]
    fresh = Browser(library)
    _forged_session(library, fresh, patron, idle_seconds=60)
    assert fresh.get("/my").status_code == 200
    idle = Browser(library)
    _forged_session(library, idle, patron, idle_seconds=21 * 60)
    response = idle.get("/my")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fmy"
    home = idle.get("/")
    assert "一定時間操作がなかったため" in home.text
    assert re.search(r'shoka_session=(""|;).*Max-Age=0', home.headers.get("set-cookie", ""))
    kiosk_idle = Browser(library)
    _forged_session(library, kiosk_idle, patron, idle_seconds=4 * 60, kiosk=True)
    assert kiosk_idle.get("/my").status_code == 303
    kiosk_active = Browser(library)
    _forged_session(library, kiosk_active, patron, idle_seconds=60, kiosk=True)
    assert kiosk_active.get("/my").status_code == 200
    for client in (fresh, idle, kiosk_idle, kiosk_active):
        client.close()


def test_a_tampered_cookie_is_nobody(library):
    browser = Browser(library)
    response = browser.login(library.patrons["bob"])
    token = session_cookie(response).split(";")[0].split("=", 1)[1]
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = str(library.patrons["alice"].patron_id)
    forged_payload = jwt.encode(claims, "a-guessed-signing-key-of-32-bytes!", algorithm="HS256").split(".")[1]
    browser.client.cookies.set("shoka_session", f"{header}.{forged_payload}.{signature}")
    assert browser.get("/my").status_code == 303
    browser.close()


def test_each_page_renews_the_idle_time(library):
    browser = Browser(library)
    browser.login(library.patrons["bob"])
    response = browser.get("/search", q="電子書籍")
    assert "shoka_session=" in response.headers["set-cookie"]
    assert response.headers["cache-control"] == "private, no-cache"
    keepalive = browser.get("/session/keepalive")
    assert keepalive.status_code == 204 and "shoka_session=" in keepalive.headers["set-cookie"]
    browser.close()


def test_login_pages_never_show_personal_data(library):
    browser = Browser(library)
    browser.login(library.patrons["alice"])
    for path in ("/", "/login", "/logout", "/advanced", f"/bibs/{library.bibs['no_wo_tsukuru']}"):
        text = browser.get(path).text
        for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, library.patrons["alice"].card):
            assert secret not in text, (path, secret)
    assert re.search(r"1000000\d{3}", browser.get("/search", q="電子書籍").text) is None
    browser.close()
