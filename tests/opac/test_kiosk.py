"""Kiosk mode for in-library terminals: by configured address (SHOKA_KIOSK_ADDRESSES) or switched on by staff at
/kiosk. Kiosk pages are never stored, logins are browser-session cookies with a 3-minute idle end, and the
browser script logs out by itself."""

from __future__ import annotations

import psycopg

from tests.opac.conftest import STAFF_PASSWORD, STAFF_USER, Browser, parse_html


def test_a_configured_terminal_address_is_always_a_kiosk(library):
    terminal = Browser(library, address="192.0.2.15")
    home = terminal.get("/")
    assert home.headers["cache-control"] == "no-store"
    body = parse_html(home.text).find("body")
    assert "kiosk" in body.classes and int(body.get("data-idle-seconds")) <= 180
    assert int(body.get("data-idle-warning-seconds")) >= 20, "WCAG 2.2.1: at least 20 s to extend"
    assert parse_html(home.text).find(id="idle-warning").get("role") == "alertdialog"
    assert terminal.get("/search", q="電子書籍").headers["cache-control"] == "no-store"
    form = parse_html(terminal.get("/login").text).find("form", cls="login-form")
    assert form.get("autocomplete") == "off" and form.find("input", name="password").get("autocomplete") == "off"
    response = terminal.login(library.patrons["kate"])
    cookie = next(header for header in response.headers.get_list("set-cookie") if header.startswith("shoka_session="))
    assert "Max-Age" not in cookie and "expires" not in cookie.lower(), "a browser-session cookie only"
    assert terminal.get("/my").headers["cache-control"] == "no-store"
    assert "/kiosk" not in terminal.get("/").text.split("<footer")[1], "no setup link on a terminal"
    terminal.close()


def test_ordinary_browsers_are_not_kiosks(library):
    browser = Browser(library)
    body = parse_html(browser.get("/").text).find("body")
    assert body.get("data-idle-seconds") is None and "kiosk" not in body.classes
    response = browser.login(library.patrons["kate"])
    assert "Max-Age=1200" in response.headers["set-cookie"]
    browser.close()


def test_staff_switch_a_browser_into_kiosk_mode_and_back(library):
    browser = Browser(library)
    page = parse_html(browser.get("/kiosk").text)
    assert page.find("input", name="username") is not None and page.find("input", name="mode").get("value") == "on"
    refused = browser.post("/kiosk", {"username": STAFF_USER, "password": "wrong-password", "mode": "on"},
                           token_from="/kiosk")
    assert refused.status_code == 401 and "shoka_kiosk" not in refused.headers.get("set-cookie", "")
    patron = browser.post("/kiosk", {"username": library.patrons["kate"].card, "password": "x" * 10, "mode": "on"},
                          token_from="/kiosk")
    assert patron.status_code == 401
    switched = browser.post("/kiosk", {"username": STAFF_USER, "password": STAFF_PASSWORD, "mode": "on"},
                            token_from="/kiosk")
    assert switched.status_code == 303 and "shoka_kiosk=1" in switched.headers["set-cookie"]
    home = browser.get("/")
    assert "館内利用端末モードにしました" in home.text and home.headers["cache-control"] == "no-store"
    assert parse_html(home.text).find("body").get("data-idle-seconds") is not None
    assert parse_html(browser.get("/kiosk").text).find("input", name="mode").get("value") == "off"
    with psycopg.connect(library.database_url) as connection:
        actor = connection.execute("SELECT actor_kind, actor FROM operation_log WHERE action = 'opac.kiosk_on' "
                                   "ORDER BY id DESC LIMIT 1").fetchone()
    assert actor == ("staff", STAFF_USER)
    back = browser.post("/kiosk", {"username": STAFF_USER, "password": STAFF_PASSWORD, "mode": "off"},
                        token_from="/kiosk")
    assert back.status_code == 303
    assert parse_html(browser.get("/").text).find("body").get("data-idle-seconds") is None
    browser.close()


def test_the_kiosk_logout_form_says_why(library):
    terminal = Browser(library, address="192.0.2.16")
    terminal.login(library.patrons["kate"])
    response = terminal.post("/logout", {"reason": "idle"}, token_from="/")
    assert response.status_code == 303
    assert "自動的にログアウトしました" in terminal.get("/").text
    with psycopg.connect(library.database_url) as connection:
        detail = connection.execute("SELECT detail FROM operation_log WHERE action = 'patron.logout' AND actor = %s "
                                    "ORDER BY id DESC LIMIT 1", [library.patrons["kate"].card]).fetchone()[0]
    assert detail == {"reason": "idle"}
    terminal.close()
