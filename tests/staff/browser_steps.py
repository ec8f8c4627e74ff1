"""What the staff browser tests share: logging in through the /staff/ form and the axe-core check (no serious or
critical problem). The browser itself and the screenshot folder are fixtures in conftest.py."""

from __future__ import annotations

import pytest

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


def log_in(page, library, role: str, username: str | None = None) -> None:
    account = library.account(role, username)
    page.goto(f"{library.base_url}/staff/")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("nav.staff-menu")


def check_accessibility(page, name: str) -> None:
    violations = axe_module.Axe().run(page).response["violations"]
    serious = [f"{violation['id']} ({violation['impact']}): {violation['help']} — "
               f"{[node['target'] for node in violation['nodes']][:3]}"
               for violation in violations if violation["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: " + "; ".join(serious)
