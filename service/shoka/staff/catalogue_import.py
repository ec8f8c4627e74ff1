"""MARC import on the cataloguing screen (/staff/catalogue/import): upload an ISO 2709 or MARCXML file, see a dry
run of the import (counts, the first titles, every rejected record with its number and reason), then confirm —
all or nothing, or skipping the rejected records, as `shoka import marc` offers. Nothing is written before the
confirmation, and the confirmation imports the very file that was previewed (see catalogue.marc_uploads).
"""

from __future__ import annotations

import anyio
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from shoka.auth.roles import CATALOGUE_ROLES
from shoka.catalogue.marc_uploads import (MARC_UPLOAD_LIMIT_BYTES, discard_upload, import_upload, pending_upload,
                                          preview_upload, store_upload)
from shoka.clock import utc_now
from shoka.errors import InvalidRequest
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import bilingual, staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

IMPORT_GUARD = [staff_area(CATALOGUE_ROLES)]
# Room for the multipart framing and the other fields around a file of the largest accepted size.
UPLOAD_REQUEST_LIMIT = MARC_UPLOAD_LIMIT_BYTES + 64 * 1024
REJECTS_SHOWN = 200


@get("/staff/catalogue/import", guards=IMPORT_GUARD, dependencies=STAFF_SESSION, include_in_schema=False)
async def import_form(request: Request, staff: StaffSession) -> Template:
    tr = bilingual(request_language(request))
    flash = tr("取込を取り消しました。ファイルは削除しました。", "The import was cancelled and the file removed.") if (
        request.query_params.get("cancelled")) else ""
    return await staff_page(request, "staff/catalogue_import.html", staff, flash=flash,
                            limit_megabytes=MARC_UPLOAD_LIMIT_BYTES // 1024 // 1024)


@post("/staff/catalogue/import", status_code=200, guards=IMPORT_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False, request_max_body_size=UPLOAD_REQUEST_LIMIT)
async def upload_for_preview(request: Request, staff: StaffSession) -> Template:
    upload_field = (await request.form()).get("file")
    if not isinstance(upload_field, UploadFile) or not upload_field.filename:
        raise InvalidRequest("取り込むMARCファイルを選んでください。/ Choose the MARC file to import.", code="file_missing")
    data = await upload_field.read()
    home = request.app.state.settings.home
    upload = await anyio.to_thread.run_sync(lambda: store_upload(home, data, upload_field.filename))
    actor = staff_actor(request, staff)
    preview = await anyio.to_thread.run_sync(
        lambda: preview_upload(upload, request.app.state.pools.staff.conninfo, actor=actor))
    return await staff_page(request, "staff/catalogue_import_preview.html", staff, preview=preview,
                            rejects_shown=REJECTS_SHOWN)


@post("/staff/catalogue/import/confirm", status_code=200, guards=IMPORT_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def confirm_import(request: Request, staff: StaffSession) -> Template:
    submitted = await request.form()
    sha256 = str(submitted.get("sha256") or "")
    skip_rejects = submitted.get("mode") == "skip_rejects"
    home = request.app.state.settings.home
    upload = await anyio.to_thread.run_sync(lambda: pending_upload(home, sha256))
    actor = staff_actor(request, staff)
    report = await anyio.to_thread.run_sync(lambda: import_upload(
        home, upload, request.app.state.pools.staff.conninfo, skip_rejects=skip_rejects, actor=actor, now=utc_now()))
    return await staff_page(request, "staff/catalogue_import_result.html", staff, report=report, upload=upload,
                            skip_rejects=skip_rejects, status_code=200 if report.written else 409)


@post("/staff/catalogue/import/cancel", status_code=200, guards=IMPORT_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def cancel_import(request: Request, staff: StaffSession) -> Redirect:
    sha256 = str((await request.form()).get("sha256") or "")
    await anyio.to_thread.run_sync(lambda: discard_upload(request.app.state.settings.home, sha256))
    return Redirect(path="/staff/catalogue/import?cancelled=1", status_code=303)


CATALOGUE_IMPORT_ROUTES = [import_form, upload_for_preview, confirm_import, cancel_import]
