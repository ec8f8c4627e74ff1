"""The print-layout page (GET/POST /staff/print-layouts, administrators and librarians): pick a branch and a kind
of document, edit its settings, preview them on made-up sample data, save them or go back to the defaults.

A save is validated by the settings Structs (print_layouts.py) and refused with the field's name; saves and
resets are written to the operation log as "print_layout.update".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.audit import record_operation
from shoka.auth.roles import CATALOGUE_ROLES
from shoka.clock import LIBRARY_TIME_ZONE, library_today, utc_now
from shoka.errors import Forbidden, InvalidRequest, NotFound
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import bilingual, branch_choices, staff_page
from shoka.staff.print_documents import (Branch, HoldRow, LoanRow, TransitRow, build_hold_slip, build_receipt,
                                         build_stickers, build_transit_slip)
from shoka.staff.print_layouts import (KIND_NAMES, LayoutInvalid, LayoutKind, LayoutSettings, load_layout,
                                       save_layout, setting_fields, settings_from_form)
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import Language, request_language

LONGEST_FIELD = 2000
SAMPLE_CARD = "2100012345678"
# Made-up loans for the preview: a short title, a picture book, and one long enough to be trimmed.
SAMPLE_TITLES = (
    ("ぐりとぐら", "中川李枝子", "1000012345", "E/ナ"),
    ("はらぺこあおむし", "エリック・カール", "1000023456", "E/カ"),
    ("ハリー・ポッターと賢者の石 ハリー・ポッターシリーズ第一巻 携帯版", "J.K.ローリング", "1000034567", "933.7/ロ/1"),
)


async def _service_points(cursor) -> list[Branch]:
    await cursor.execute("SELECT id, code, name_ja, name_en, phone FROM service_point ORDER BY sort_order, id")
    return [Branch(*row) for row in await cursor.fetchall()]


def _sample_preview(kind: LayoutKind, settings: LayoutSettings, branch: Branch, elsewhere: Branch,
                    language: Language) -> dict[str, Any]:
    """The document of this kind made from sample data, in the shape the print templates take."""
    now = utc_now()
    today = library_today()
    loans = [LoanRow(loan_id=index, patron_id=1, card=SAMPLE_CARD, checked_out_at=now,
                     due_on=today + dt.timedelta(days=14), branch=branch, barcode=barcode, call_number=call_number,
                     title=title, author=author)
             for index, (title, author, barcode, call_number) in enumerate(SAMPLE_TITLES, start=1)]
    if kind is LayoutKind.RECEIPT:
        return {"document": build_receipt(settings, loans, language)}
    if kind is LayoutKind.READING_STICKER:
        return {"sheets": build_stickers(settings, loans, language, skip=0)}
    title, _author, barcode, call_number = SAMPLE_TITLES[0]
    if kind is LayoutKind.HOLD_SLIP:
        hold = HoldRow(hold_id=1, patron_id=1, status="ready", card=SAMPLE_CARD, family_name_reading="ヤマダ",
                       pickup_branch=branch, pickup_by=today + dt.timedelta(days=7), title=title, barcode=barcode,
                       call_number=call_number)
        return {"document": build_hold_slip(settings, hold, language)}
    transit = TransitRow(transit_id=1, reason="hold", from_branch=branch, to_branch=elsewhere,
                         sent_at=dt.datetime.now(LIBRARY_TIME_ZONE), pickup_by=None, title=title, barcode=barcode,
                         call_number=call_number)
    return {"document": build_transit_slip(settings, transit, language)}


def _kind(text: str | None) -> LayoutKind:
    try:
        return LayoutKind(text or LayoutKind.RECEIPT.value)
    except ValueError:
        choices = ", ".join(kind.value for kind in LayoutKind)
        raise InvalidRequest(f"kind: 次のいずれかを指定してください: {choices} / kind must be one of {choices}.",
                             code="invalid_kind") from None


async def _chosen_branch(request: Request, staff: StaffSession, code: str | None, points: list[Branch]) -> Branch:
    code = code or staff.working_branch
    branch = next((point for point in points if point.code == code), None)
    if branch is None:
        raise NotFound(f"館 {code} は登録されていません。/ No service point {code}.", code="unknown_branch")
    if code not in dict(await branch_choices(request, staff)):
        raise Forbidden(f"このアカウントは {code} の印刷設定を変更できません。/ "
                        f"This account may not change the print layouts of {code}.", code="branch_not_allowed")
    return branch


async def _layout_page(request: Request, staff: StaffSession, *, branch_code: str | None, kind_text: str | None,
                       entered: dict[str, str] | None = None, error: LayoutInvalid | None = None,
                       preview_settings: LayoutSettings | None = None, notice: str = "") -> Template:
    kind = _kind(kind_text)
    language = request_language(request)
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        points = await _service_points(cursor)
        branch = await _chosen_branch(request, staff, branch_code, points)
        saved = await load_layout(cursor, branch.id, kind)
        customised = bool(await (await cursor.execute(
            "SELECT 1 FROM print_layout WHERE service_point_id = %s AND kind = %s", [branch.id, kind.value])).fetchone())
    shown = preview_settings or saved
    elsewhere = next((point for point in points if point.id != branch.id), branch)
    preview = {} if error else _sample_preview(kind, shown, branch, elsewhere, language)
    return await staff_page(
        request, "staff/print_layouts.html", staff, status_code=422 if error else 200, kind=kind,
        kind_name=KIND_NAMES[kind],
        kinds=[(choice.value, KIND_NAMES[choice]) for choice in LayoutKind], branch=branch,
        layout_branches=await branch_choices(request, staff), customised=customised,
        fields=setting_fields(kind, shown, entered if error else None), error=error.message if error else "",
        error_field=error.field if error else "", notice=notice, preview=preview,
        preview_template="staff/print_stickers_body.html" if kind is LayoutKind.READING_STICKER
        else "staff/print_roll_body.html")


@get("/staff/print-layouts", guards=[staff_area(CATALOGUE_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def print_layouts_page(request: Request, staff: StaffSession) -> Template:
    tr = bilingual(request_language(request))
    notices = {"saved": tr("印刷設定を保存しました。", "The print layout has been saved."),
               "reset": tr("標準の設定に戻しました。", "The print layout is back to the defaults.")}
    return await _layout_page(request, staff, branch_code=request.query_params.get("branch"),
                              kind_text=request.query_params.get("kind"),
                              notice=notices.get(request.query_params.get("done") or "", ""))


@post("/staff/print-layouts", guards=[staff_area(CATALOGUE_ROLES)], dependencies=STAFF_SESSION,
      include_in_schema=False)
async def save_print_layout(request: Request, staff: StaffSession) -> Template | Redirect:
    form = await request.form()
    fields = {name: str(form.get(name) or "")[:LONGEST_FIELD] for name in form.keys()}
    kind = _kind(fields.get("kind"))
    action = fields.get("action", "save")
    if action not in ("save", "preview", "reset"):
        raise InvalidRequest("action: save, preview, reset のいずれかです。/ action must be save, preview or reset.",
                             code="invalid_action")
    tr = bilingual(request_language(request))
    if action == "reset":
        settings = None
    else:
        try:
            settings = settings_from_form(kind, fields)
        except LayoutInvalid as error:
            return await _layout_page(request, staff, branch_code=fields.get("branch"), kind_text=kind.value,
                                      entered=fields, error=error)
    if action == "preview":
        return await _layout_page(request, staff, branch_code=fields.get("branch"), kind_text=kind.value,
                                  preview_settings=settings,
                                  notice=tr("プレビューです（まだ保存していません）。", "Preview only: not saved yet."))
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        branch = await _chosen_branch(request, staff, fields.get("branch"), await _service_points(cursor))
        async with connection.transaction():
            if settings is None:
                await cursor.execute("DELETE FROM print_layout WHERE service_point_id = %s AND kind = %s",
                                     [branch.id, kind.value])
            else:
                await save_layout(cursor, branch.id, kind, settings)
            await record_operation(cursor, staff_actor(request, staff), "print_layout.update", "service_point",
                                   branch.id, {"kind": kind.value, "reset": settings is None})
    done = "reset" if settings is None else "saved"
    return Redirect(path=f"/staff/print-layouts?branch={branch.code}&kind={kind.value}&done={done}", status_code=303)


PRINT_LAYOUT_ROUTES = [print_layouts_page, save_print_layout]
