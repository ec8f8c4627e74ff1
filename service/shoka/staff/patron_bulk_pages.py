"""Bulk update of patrons from CSV (/staff/patrons/bulk), librarians and administrators only.

Upload → dry run: every line that would change (old → new), every rejected line with its number and reason.
The preview page carries the uploaded file back (base64, in the apply form) with the digest of the previewed
plan; POST /staff/patrons/bulk/apply writes only that exact plan, all or nothing (patrons/bulk_update.py).
"""

from __future__ import annotations

import base64
import binascii
import re

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from shoka.clock import library_today, utc_now
from shoka.errors import Conflict, InvalidRequest, Unprocessable
from shoka.patrons.bulk_update import (BULK_COLUMNS, LARGEST_UPLOAD, MOST_LINES, BulkFileRefused, BulkPlan,
                                       apply_bulk_update, preview_bulk_update)
from shoka.patrons.registry import load_vocabulary
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import staff_page
from shoka.staff.patron_pages import PATRON_MANAGER_ROLES, editor_of
from shoka.staff.sessions import StaffSession

_GUARD = {"guards": [staff_area(PATRON_MANAGER_ROLES)], "dependencies": STAFF_SESSION, "include_in_schema": False}
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


async def _bulk_page(request: Request, staff: StaffSession, *, status_code: int = 200, plan: BulkPlan | None = None,
                     upload: bytes = b"", error: str = "", applied: bool = False) -> Template:
    return await staff_page(request, "staff/patron_bulk.html", staff, status_code=status_code, plan=plan,
                            upload_base64=base64.b64encode(upload).decode() if plan and not applied else "",
                            error=error, applied=applied, columns=BULK_COLUMNS,
                            largest_megabytes=LARGEST_UPLOAD // 1024 // 1024, most_lines=MOST_LINES)


@get("/staff/patrons/bulk", **_GUARD)
async def patron_bulk_form(request: Request, staff: StaffSession) -> Template:
    return await _bulk_page(request, staff)


@post("/staff/patrons/bulk", **_GUARD)
async def patron_bulk_preview(request: Request, staff: StaffSession) -> Template:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await _bulk_page(request, staff, status_code=400, error="CSVファイルを選んでください。/ Choose a CSV file.")
    data = await upload.read(LARGEST_UPLOAD + 1)
    async with request.app.state.pools.staff.connection() as connection:
        try:
            plan = await preview_bulk_update(connection, data, await load_vocabulary(connection),
                                             actor=staff_actor(request, staff), today=library_today())
        except BulkFileRefused as refusal:
            return await _bulk_page(request, staff, status_code=422, error=refusal.message)
    return await _bulk_page(request, staff, plan=plan, upload=data)


@post("/staff/patrons/bulk/apply", **_GUARD)
async def patron_bulk_apply(request: Request, staff: StaffSession) -> Template:
    form = await request.form()
    digest = str(form.get("plan_digest") or "")
    if not _DIGEST.match(digest):
        raise InvalidRequest("plan_digest がありません。先にドライランを実行してください。/ "
                             "plan_digest is missing; run the dry run first.", code="missing_plan_digest")
    try:
        data = base64.b64decode(str(form.get("upload") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("upload が base64 ではありません。/ upload is not base64.", code="invalid_upload") from None
    async with request.app.state.pools.staff.connection() as connection:
        try:
            plan = await apply_bulk_update(connection, request.app.state.engine, data, previewed_plan_digest=digest,
                                           vocabulary=await load_vocabulary(connection),
                                           editor=editor_of(request, staff), today=library_today(), now=utc_now())
        except (Conflict, Unprocessable) as refusal:  # nothing was written
            return await _bulk_page(request, staff, status_code=int(refusal.status_code), error=refusal.message)
    return await _bulk_page(request, staff, plan=plan, applied=True)


PATRON_BULK_ROUTES = [patron_bulk_form, patron_bulk_preview, patron_bulk_apply]
