"""The cataloguing screens (/staff/catalogue): searching the catalogue, and the record form — a new record, an
existing one, the raw MARC view kept in step with the form, and deleting a record after typing its id.

One POST carries both editors: the form fields and the MARC text the form was made from. ``intent`` says which
one the cataloguer worked in and whether to save or only to bring the other editor up to date ("sync"); the
page's script does the same sync through POST /staff/catalogue/record-preview when the tab changes.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
import pymarc
from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from shoka.auth.roles import CATALOGUE_ROLES
from shoka.catalogue.bib_editing import (EditableBib, create_bib, delete_bib, deletion_check, load_bib_for_editing,
                                         update_bib)
from shoka.catalogue.bib_form import LANGUAGE_CHOICES, BibForm, form_from_record, new_record, read_form_fields
from shoka.catalogue.bib_form_apply import apply_form
from shoka.catalogue.bib_rows import MATERIAL_TYPE_OF_MARC
from shoka.catalogue.form_problems import FormProblems, Problem
from shoka.catalogue.isbn import normalise_isbn
from shoka.catalogue.item_editing import ITEM_STATUSES, LOAN_POLICIES, items_of_bib
from shoka.catalogue.marc_fields import MaterialType
from shoka.catalogue.marc_text import MarcTextInvalid, record_from_text, record_to_text
from shoka.catalogue.search_models import SearchRequest, run_search
from shoka.clock import library_today, utc_now
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.catalogue_import import CATALOGUE_IMPORT_ROUTES
from shoka.staff.catalogue_items import CATALOGUE_ITEM_ROUTES
from shoka.staff.pages import bilingual, staff_context, staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

CATALOGUE_GUARD = [staff_area(CATALOGUE_ROLES)]
RESULTS_PER_PAGE = 20
RECENT_RECORDS = 10
INTENTS = ("save-form", "save-marc", "sync-form", "sync-marc")
# (MARC material type, its code in the library's vocabulary, Japanese, English) for the form's choice.
MATERIAL_TYPE_CHOICES = tuple((kind.value, *MATERIAL_TYPE_OF_MARC[kind]) for kind in MaterialType)


class Submission(msgspec.Struct, frozen=True):
    intent: str
    form: BibForm
    marc_text: str
    version: str


class Resolution(msgspec.Struct, frozen=True):
    """What a submission comes to: the record (None when it cannot be built), and both editors to show."""

    record: pymarc.Record | None
    form: BibForm
    marc_text: str
    problems: dict[str, Problem]


# --- search ---------------------------------------------------------------------------------------------------


@get("/staff/catalogue", guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION, include_in_schema=False)
async def catalogue_search(request: Request, staff: StaffSession,
                           q: Annotated[str, Parameter(max_length=500)] = "",
                           page: Annotated[int, Parameter(ge=1, le=500)] = 1) -> Template:
    text = q.strip()
    direct, results, recent = [], None, []
    async with request.app.state.pools.staff.connection() as connection:
        if text:
            direct = await _direct_matches(connection, text)
        else:
            recent = await (await connection.execute(
                "SELECT id, title, responsibility, publication_year FROM bib WHERE NOT is_withdrawn "
                "ORDER BY id DESC LIMIT %s", [RECENT_RECORDS])).fetchall()
    if text:
        isbn = normalise_isbn(text)
        search = SearchRequest(query="" if isbn else text, isbn=isbn, page=page, per_page=RESULTS_PER_PAGE,
                               with_facets=False)
        results = await anyio.to_thread.run_sync(run_search, request.app.state.engine.catalogue, search)
    tr = bilingual(request_language(request))
    flash = ""
    if request.query_params.get("deleted"):
        outcome = request.query_params.get("outcome")
        flash = tr("書誌 {id} を削除しました。", "Record {id} has been deleted.", id=request.query_params["deleted"])
        if outcome == "withdrawn":
            flash += tr("（貸出履歴などが残るため、統計用に非表示で保存しています）",
                        " (kept hidden for the statistics, because loan history refers to it)")
    return await staff_page(request, "staff/catalogue.html", staff, query=text, page=page, direct=direct,
                            results=results, recent=recent, per_page=RESULTS_PER_PAGE, flash=flash)


async def _direct_matches(connection, text: str) -> list[tuple[str, int, str]]:
    """A record id, an item barcode or an ISBN typed into the box: (kind, bib id, title) to open at once."""
    matches = []
    if text.isdigit() and len(text) < 18:
        row = await (await connection.execute("SELECT id, title FROM bib WHERE id = %s AND NOT is_withdrawn",
                                              [int(text)])).fetchone()
        if row:
            matches.append(("bib", row[0], row[1]))
    row = await (await connection.execute(
        "SELECT b.id, b.title FROM item i JOIN bib b ON b.id = i.bib_id WHERE i.barcode = %s", [text])).fetchone()
    if row:
        matches.append(("item", row[0], row[1]))
    return matches


# --- the record form ------------------------------------------------------------------------------------------


@get("/staff/catalogue/new", guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION, include_in_schema=False)
async def new_record_form(request: Request, staff: StaffSession) -> Template:
    record = new_record(library_today().strftime("%y%m%d"))
    return await _record_page(request, staff, bib=None, resolution=Resolution(
        record=record, form=form_from_record(record), marc_text=record_to_text(record), problems={}), version="")


@post("/staff/catalogue/bibs", status_code=200, guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def create_record(request: Request, staff: StaffSession) -> Template | Redirect:
    submission = await _submission(request)
    resolution = resolve(submission)
    if resolution.record is None or submission.intent.startswith("sync"):
        return await _record_page(request, staff, bib=None, resolution=resolution, version="",
                                  status_code=422 if resolution.problems else 200)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            bib_id = await create_bib(connection, resolution.record, actor=staff_actor(request, staff), now=utc_now())
    except FormProblems as refusal:
        return await _record_page(request, staff, bib=None, version="", status_code=422,
                                  resolution=msgspec.structs.replace(resolution, problems=refusal.problems))
    return Redirect(path=f"/staff/catalogue/bibs/{bib_id}?saved=created", status_code=303)


@get("/staff/catalogue/bibs/{bib_id:int}", guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION,
     include_in_schema=False)
async def edit_record_form(request: Request, staff: StaffSession, bib_id: int) -> Template:
    async with request.app.state.pools.staff.connection() as connection:
        bib = await load_bib_for_editing(connection, bib_id)
    tr = bilingual(request_language(request))
    flash = {"created": tr("書誌を登録しました。", "The record has been created."),
             "updated": tr("書誌を保存しました。", "The record has been saved."),
             "item": tr("資料を保存しました。", "The copy has been saved.")}.get(request.query_params.get("saved", ""), "")
    return await _record_page(request, staff, bib=bib, version=bib.version, flash=flash, resolution=Resolution(
        record=bib.record, form=form_from_record(bib.record), marc_text=record_to_text(bib.record), problems={}))


@post("/staff/catalogue/bibs/{bib_id:int}", status_code=200, guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def save_record(request: Request, staff: StaffSession, bib_id: int) -> Template | Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        bib = await load_bib_for_editing(connection, bib_id)
    submission = await _submission(request)
    resolution = resolve(submission)
    if resolution.record is None or submission.intent.startswith("sync"):
        return await _record_page(request, staff, bib=bib, resolution=resolution, version=submission.version,
                                  status_code=422 if resolution.problems else 200)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await update_bib(connection, bib_id, resolution.record, loaded=bib.record, version=submission.version,
                             actor=staff_actor(request, staff), now=utc_now())
    except FormProblems as refusal:
        return await _record_page(request, staff, bib=bib, version=submission.version, status_code=422,
                                  resolution=msgspec.structs.replace(resolution, problems=refusal.problems))
    return Redirect(path=f"/staff/catalogue/bibs/{bib_id}?saved=updated", status_code=303)


@post("/staff/catalogue/record-preview", status_code=200, guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def preview_record(request: Request, staff: StaffSession) -> Response[dict[str, Any]]:
    """The tab switch of the record page: the other editor brought up to date, as JSON for the page's script."""
    resolution = resolve(await _submission(request))
    language = request_language(request)
    fields_html = request.app.template_engine.get_template("staff/catalogue_record_fields.html").render(
        **staff_context(request, staff), **_form_context(resolution))
    return Response({"marc": resolution.marc_text, "fields_html": fields_html,
                     "problems": {name: problem.text(language) for name, problem in resolution.problems.items()}},
                    headers={"Cache-Control": "no-store"})


def resolve(submission: Submission) -> Resolution:
    """The record a submission describes. Both editors are then shown from that record, so they agree; when it
    cannot be built, both are shown as typed, with the problems."""
    as_typed = Resolution(record=None, form=submission.form, marc_text=submission.marc_text, problems={})
    try:
        base = record_from_text(submission.marc_text)
    except MarcTextInvalid as invalid:
        return msgspec.structs.replace(as_typed, problems={"marc": Problem(
            "\n".join(problem.describe("ja") for problem in invalid.problems),
            "\n".join(problem.describe("en") for problem in invalid.problems))})
    record = base
    if submission.intent.endswith("form"):
        try:
            record = apply_form(base, submission.form)
        except FormProblems as refusal:
            return msgspec.structs.replace(as_typed, problems=refusal.problems)
    return Resolution(record=record, form=form_from_record(record), marc_text=record_to_text(record), problems={})


async def _submission(request: Request) -> Submission:
    submitted = await request.form()
    values = {name: [str(value) for value in submitted.getall(name)] for name in submitted.keys()}
    intent = (values.get("intent") or ["save-form"])[0]
    return Submission(intent=intent if intent in INTENTS else "save-form", form=read_form_fields(values),
                      marc_text=(values.get("marc") or [""])[0], version=(values.get("version") or [""])[0])


def _form_context(resolution: Resolution) -> dict[str, Any]:
    return {"form": resolution.form, "problems": resolution.problems, "language_choices": LANGUAGE_CHOICES,
            "material_type_choices": MATERIAL_TYPE_CHOICES}


async def _record_page(request: Request, staff: StaffSession, *, bib: EditableBib | None, resolution: Resolution,
                       version: str, status_code: int = 200, flash: str = "") -> Template:
    items = []
    if bib is not None:
        async with request.app.state.pools.staff.connection() as connection:
            items = await items_of_bib(connection, bib.bib_id)
    return await staff_page(
        request, "staff/catalogue_record.html", staff, status_code=status_code, bib=bib, version=version,
        marc_text=resolution.marc_text, flash=flash, items=items, item_statuses=ITEM_STATUSES,
        loan_policies=LOAN_POLICIES, active_editor="marc" if "marc" in resolution.problems else "form",
        **_form_context(resolution))


# --- deleting a record ----------------------------------------------------------------------------------------


@get("/staff/catalogue/bibs/{bib_id:int}/delete", guards=CATALOGUE_GUARD, dependencies=STAFF_SESSION,
     include_in_schema=False)
async def delete_record_form(request: Request, staff: StaffSession, bib_id: int) -> Template:
    return await _deletion_page(request, staff, bib_id)


@post("/staff/catalogue/bibs/{bib_id:int}/delete", status_code=200, guards=CATALOGUE_GUARD,
      dependencies=STAFF_SESSION, include_in_schema=False)
async def delete_record(request: Request, staff: StaffSession, bib_id: int) -> Template | Redirect:
    typed_id = str((await request.form()).get("confirm_id") or "")
    try:
        async with request.app.state.pools.staff.connection() as connection:
            outcome = await delete_bib(connection, bib_id, typed_id=typed_id, actor=staff_actor(request, staff),
                                       now=utc_now())
    except FormProblems as refusal:
        return await _deletion_page(request, staff, bib_id, problems=refusal.problems, typed_id=typed_id)
    return Redirect(path=f"/staff/catalogue?deleted={bib_id}&outcome={outcome}", status_code=303)


async def _deletion_page(request: Request, staff: StaffSession, bib_id: int, *,
                         problems: dict[str, Problem] | None = None, typed_id: str = "") -> Template:
    async with request.app.state.pools.staff.connection() as connection, connection.cursor() as cursor:
        check = await deletion_check(cursor, bib_id)
    return await staff_page(request, "staff/catalogue_delete.html", staff, status_code=422 if problems else 200,
                            bib_id=bib_id, check=check, problems=problems or {}, typed_id=typed_id)


CATALOGUE_ROUTES = [catalogue_search, new_record_form, create_record, edit_record_form, save_record, preview_record,
                    delete_record_form, delete_record, *CATALOGUE_ITEM_ROUTES, *CATALOGUE_IMPORT_ROUTES]
