"""Rendering staff pages: the layout's context (who is logged in, where the desk works, the menu the role may
use) and the caching rule (staff pages carry personal data: never stored).

Staff templates keep both languages side by side: `{{ tr("貸出", "Checkout") }}` shows the Japanese unless the
page is in English (`?lang=en`, remembered in a cookie, as on the OPAC).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.response import Template

from shoka.auth.roles import ADMIN_ONLY, CATALOGUE_ROLES, CIRCULATION_ROLES, PATRON_DATA_ROLES, StaffRole
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import LANGUAGE_COOKIE, Language, request_language
from shoka.web.pages import language_switch_url


class MenuEntry(msgspec.Struct, frozen=True):
    path: str
    ja: str
    en: str
    roles: frozenset[StaffRole]


# The staff menu, in the order of a day at the desk. The administrator sees every entry.
STAFF_MENU = (
    MenuEntry("/staff/circulation", "カウンター", "Counter", CIRCULATION_ROLES),
    MenuEntry("/staff/patrons", "利用者", "Patrons", PATRON_DATA_ROLES),
    MenuEntry("/staff/catalogue", "目録", "Catalogue", CATALOGUE_ROLES),
    MenuEntry("/staff/print-layouts", "印刷設定", "Print layouts", CATALOGUE_ROLES),
    MenuEntry("/staff/accounts", "職員管理", "Staff accounts", ADMIN_ONLY),
    MenuEntry("/staff/audit", "操作ログ", "Operation log", ADMIN_ONLY),
)


def menu_for(role: StaffRole) -> list[MenuEntry]:
    return [entry for entry in STAFF_MENU if role is StaffRole.ADMIN or role in entry.roles]


def bilingual(language: Language):
    def tr(japanese: str, english: str, **values: object) -> str:
        text = english if language == "en" else japanese
        return text.format(**values) if values else text

    return tr


async def branch_choices(request: Request, staff: StaffSession | None) -> list[tuple[str, str]]:
    """(code, name) of the service points this account may work at, in the library's order."""
    language = request_language(request)
    async with request.app.state.pools.staff.connection() as connection:
        rows = await (await connection.execute(
            "SELECT code, name_ja, name_en FROM service_point ORDER BY sort_order, id")).fetchall()
    allowed = [(code, name_en if language == "en" else name_ja) for code, name_ja, name_en in rows]
    if staff is not None and staff.principal.branch_codes:
        allowed = [(code, name) for code, name in allowed if code in staff.principal.branch_codes]
    return allowed


def staff_context(request: Request, staff: StaffSession | None) -> dict[str, Any]:
    language = request_language(request)
    return {"lang": language, "tr": bilingual(language), "staff": staff, "request_path": request.url.path,
            "menu": menu_for(staff.role) if staff else [],
            "language_switch_url": language_switch_url(request, language)}


async def staff_page(request: Request, template_name: str, staff: StaffSession | None, *, status_code: int = 200,
                     **context: Any) -> Template:
    branches = await branch_choices(request, staff) if staff else []
    response = Template(template_name=template_name, status_code=status_code, context={
        **staff_context(request, staff), "branches": branches,
        "working_branch_name": dict(branches).get(staff.working_branch, "") if staff else "", **context})
    response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(LANGUAGE_COOKIE, request_language(request), max_age=365 * 24 * 3600, httponly=True,
                            samesite="lax")
    return response
