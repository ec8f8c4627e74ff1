"""The staff client's tests: one real server (granian, two workers) over the demo library, shared by the
package, and a browser-like client that logs in through the staff login form.

The demo library has one staff account of every role (credentials in the home folder's
demo-credentials.json); `StaffLibrary.staff_client(role)` returns a client logged in as that role. The
server trusts X-Forwarded-For from 127.0.0.1 so each client can act from its own address.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

import httpx
import psycopg
import pytest

from shoka.clock import library_today
from shoka.demo import load_demo_library
from tests.conftest import RunningServer, create_database_from_template

_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')
_addresses = itertools.count(10)


class StaffClient:
    """An httpx client that behaves like a staff browser: keeps cookies, sends forms with the page's CSRF token,
    and calls the screens' JSON endpoints with the X-CSRF-Token header as the pages' scripts do."""

    def __init__(self, library: "StaffLibrary", *, address: str | None = None) -> None:
        number = next(_addresses)
        self.address = address or f"203.0.{113 + number // 250}.{number % 250 + 1}"
        self.client = httpx.Client(base_url=library.base_url, follow_redirects=False, timeout=30,
                                   headers={"X-Forwarded-For": self.address, "Accept": "text/html"})
        self.library = library

    def get(self, path: str, **parameters) -> httpx.Response:
        return self.client.get(path, params=parameters or None)

    def csrf_token(self, path: str = "/staff/login") -> str:
        text = self.get(path).text
        match = _CSRF_META.search(text) or _CSRF_INPUT.search(text)
        assert match and match.group(1), f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, *, token_from: str = "/staff/login",
             files: dict | None = None) -> httpx.Response:
        return self.client.post(path, data={**(data or {}), "_csrf_token": self.csrf_token(token_from)},
                                files=files)

    def post_json(self, path: str, body: dict, *, token_from: str = "/staff/") -> httpx.Response:
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf_token(token_from),
                                                          "Accept": "application/json"})

    def login(self, username: str, password: str, **extra: str) -> httpx.Response:
        return self.post("/staff/login", {"username": username, "password": password, **extra})

    def close(self) -> None:
        self.client.close()


class StaffLibrary:
    def __init__(self, server: RunningServer, credentials: dict) -> None:
        self.server = server
        self.base_url = server.base_url
        self.database_url = server.database_url
        self.credentials = credentials
        self._clients: list[StaffClient] = []

    def account(self, role: str, username: str | None = None) -> dict:
        return next(staff for staff in self.credentials["staff"]
                    if (staff["username"] == username if username else staff["role"] == role))

    def anonymous_client(self) -> StaffClient:
        client = StaffClient(self)
        self._clients.append(client)
        return client

    def staff_client(self, role: str, username: str | None = None) -> StaffClient:
        """A client logged in as the demo account of a role (or the named account)."""
        account = self.account(role, username)
        client = self.anonymous_client()
        response = client.login(account["username"], account["password"])
        assert response.status_code == 303, response.text
        return client

    def api_headers(self, role: str, username: str | None = None) -> dict[str, str]:
        account = self.account(role, username)
        response = httpx.post(f"{self.base_url}/api/v1/auth/token",
                              json={"username": account["username"], "password": account["password"]})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def query(self, sql: str, *parameters) -> list[tuple]:
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql, parameters).fetchall()

    def execute(self, sql: str, *parameters) -> None:
        with psycopg.connect(self.database_url) as connection:
            connection.execute(sql, parameters)

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture(scope="package")
def staff_library(postgres_maintenance_url, template_database_url, tmp_path_factory):
    database_url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_staff")
    home = tmp_path_factory.mktemp("staff-home")
    load_demo_library(database_url, home, tier="demo", seed=2024, reference_date=library_today(),
                      show_progress=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOKA_TRUSTED_PROXIES", "127.0.0.1")
        server = RunningServer(database_url, home)
    library = StaffLibrary(server, json.loads((home / "demo-credentials.json").read_text()))
    try:
        server.wait_until_healthy()
        yield library
    finally:
        library.close()
        server.stop()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium():
    """A headless Debian Chromium (Playwright) for one test module. Not for the whole package: Playwright's sync
    API keeps an event loop running in the main thread while it is open, and other modules call asyncio.run()."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def screenshot_folder(tmp_path_factory) -> Path:
    """$SHOKA_SCREENSHOT_DIR when set (docs/screenshots/ holds the committed ones), else a temporary folder."""
    folder = Path(os.environ.get("SHOKA_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
