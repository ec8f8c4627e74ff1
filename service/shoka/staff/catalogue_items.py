"""The copies of a record on the cataloguing screen: adding a copy, changing one, withdrawing (除籍) and deleting.

Copies belong to branches: an account scoped to some branches adds and changes copies of those branches only.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from shoka.auth.roles import CATALOGUE_ROLES
from shoka.catalogue.bib_editing import load_bib_for_editing
from shoka.catalogue.bib_form import form_from_record
from shoka.catalogue.form_problems import FormProblems, Problem
from shoka.catalogue.item_editing import (ITEM_STATUSES, LOAN_POLICIES, ItemForm, ItemRow, create_item, delete_item,
                                          form_of_item, item_refusals, load_item, suggested_call_number, update_item,
                                          withdraw_item)
from shoka.catalogue.bib_rows import MATERIAL_TYPE_OF_MARC
from shoka.catalogue.marc_fields import MaterialType
from shoka.clock import library_today, utc_now
from shoka.staff.access import STAFF_SESSION, require_branch, staff_actor, staff_area
from shoka.staff.pages import staff_page
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

ITEM_GUARD = [staff_area(CATALOGUE_ROLES)]
LONGEST_ITEM_FIELD = 1000


@get("/staff/catalogue/bibs/{bib_id:int}/items/new", guards=ITEM_GUARD, dependencies=STAFF_SESSION,
     include_in_schema=False)
async def new_item_form(request: Request, staff: StaffSession, bib_id: int) -> Template:
    async with request.app.state.pools.staff.connection() as connection:
        bib = await load_bib_for_editing(connection, bib_id)
    record_form = form_from_record(bib.record)
    first_reading = next((author.reading for author in record_form.authors if author.reading), None)
    material = MATERIAL_TYPE_OF_MARC[MaterialType(record_form.material_type)][0]
    call_number = suggested_call_number(record_form.ndc or None, first_reading or record_form.title_reading)
    form = ItemForm(branch=staff.working_branch, material_type=material, acquired_on=library_today().isoformat(),
                    call_number=call_number)
    return await _item_page(request, staff, bib_id=bib_id, title=bib.title, item=None, form=form)


@post("/staff/catalogue/bibs/{bib_id:int}/items", status_code=200, guards=ITEM_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def add_item(request: Request, staff: StaffSession, bib_id: int) -> Template | Redirect:
    form = await _item_form(request)
    require_branch(staff, form.branch)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await create_item(connection, bib_id, form, actor=staff_actor(request, staff), now=utc_now())
    except FormProblems as refusal:
        async with request.app.state.pools.staff.connection() as connection:
            bib = await load_bib_for_editing(connection, bib_id)
        return await _item_page(request, staff, bib_id=bib_id, title=bib.title, item=None, form=form,
                                problems=refusal.problems, status_code=422)
    return Redirect(path=f"/staff/catalogue/bibs/{bib_id}?saved=item#items", status_code=303)


@get("/staff/catalogue/items/{item_id:int}", guards=ITEM_GUARD, dependencies=STAFF_SESSION, include_in_schema=False)
async def edit_item_form(request: Request, staff: StaffSession, item_id: int) -> Template:
    async with request.app.state.pools.staff.connection() as connection:
        item = await load_item(connection, item_id)
        bib = await load_bib_for_editing(connection, item.bib_id)
    return await _item_page(request, staff, bib_id=item.bib_id, title=bib.title, item=item, form=form_of_item(item))


@post("/staff/catalogue/items/{item_id:int}", status_code=200, guards=ITEM_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def save_item(request: Request, staff: StaffSession, item_id: int) -> Template | Redirect:
    form = await _item_form(request)
    version = str((await request.form()).get("version") or "")
    async with request.app.state.pools.staff.connection() as connection:
        item = await load_item(connection, item_id)
    require_branch(staff, item.branch)
    require_branch(staff, form.branch)
    try:
        async with request.app.state.pools.staff.connection() as connection:
            await update_item(connection, item_id, form, version=version, actor=staff_actor(request, staff),
                              now=utc_now())
    except FormProblems as refusal:
        async with request.app.state.pools.staff.connection() as connection:
            bib = await load_bib_for_editing(connection, item.bib_id)
        return await _item_page(request, staff, bib_id=item.bib_id, title=bib.title, item=item, form=form,
                                problems=refusal.problems, status_code=422, version=version)
    return Redirect(path=f"/staff/catalogue/bibs/{item.bib_id}?saved=item#items", status_code=303)


@post("/staff/catalogue/items/{item_id:int}/withdraw", status_code=200, guards=ITEM_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def withdraw(request: Request, staff: StaffSession, item_id: int) -> Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        item = await load_item(connection, item_id)
        require_branch(staff, item.branch)
        await withdraw_item(connection, item_id, actor=staff_actor(request, staff), now=utc_now())
    return Redirect(path=f"/staff/catalogue/bibs/{item.bib_id}?saved=item#items", status_code=303)


@post("/staff/catalogue/items/{item_id:int}/delete", status_code=200, guards=ITEM_GUARD, dependencies=STAFF_SESSION,
      include_in_schema=False)
async def remove_item(request: Request, staff: StaffSession, item_id: int) -> Redirect:
    async with request.app.state.pools.staff.connection() as connection:
        item = await load_item(connection, item_id)
        require_branch(staff, item.branch)
        await delete_item(connection, item_id, actor=staff_actor(request, staff))
    return Redirect(path=f"/staff/catalogue/bibs/{item.bib_id}?saved=item#items", status_code=303)


async def _item_form(request: Request) -> ItemForm:
    submitted = await request.form()
    return ItemForm(**{name: str(submitted.get(name) or "")[:LONGEST_ITEM_FIELD]
                       for name in ItemForm.__struct_fields__ if name in submitted})


async def _item_page(request: Request, staff: StaffSession, *, bib_id: int, title: str, item: ItemRow | None,
                     form: ItemForm, problems: dict[str, Problem] | None = None, status_code: int = 200,
                     version: str | None = None) -> Template:
    language = request_language(request)
    async with request.app.state.pools.staff.connection() as connection:
        shelves = await (await connection.execute(
            """SELECT sp.code, sl.code, CASE WHEN %s = 'en' THEN sl.name_en ELSE sl.name_ja END
               FROM shelf_location sl JOIN service_point sp ON sp.id = sl.service_point_id
               ORDER BY sp.sort_order, sl.id""", [language])).fetchall()
        materials = await (await connection.execute(
            "SELECT code, CASE WHEN %s = 'en' THEN name_en ELSE name_ja END FROM material_type "
            "ORDER BY sort_order, code", [language])).fetchall()
        refusals = []
        if item is not None:
            async with connection.cursor() as cursor:
                refusals = await item_refusals(cursor, item.item_id)
    shelves_by_branch: dict[str, list[tuple[str, str]]] = {}
    for branch, code, name in shelves:
        shelves_by_branch.setdefault(branch, []).append((code, name))
    context: dict[str, Any] = {
        "bib_id": bib_id, "title": title, "item": item, "form": form, "problems": problems or {},
        "shelves_by_branch": shelves_by_branch, "materials": materials, "item_statuses": ITEM_STATUSES,
        "loan_policies": LOAN_POLICIES, "refusals": refusals,
        "version": version if version is not None else (item.version if item else "")}
    return await staff_page(request, "staff/catalogue_item.html", staff, status_code=status_code, **context)


CATALOGUE_ITEM_ROUTES = [new_item_form, add_item, edit_item_form, save_item, withdraw, remove_item]
