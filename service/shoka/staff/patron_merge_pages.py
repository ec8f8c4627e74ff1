"""Merging a duplicate registration into the patron whose page this is (librarians and administrators).

POST /staff/patrons/{id}/merge with the duplicate's card shows both records side by side and what the merge
will do; the same POST with `confirm` and the duplicate's id (as shown) carries it out (patrons/merge.py)."""

from __future__ import annotations

from litestar import Request, post
from litestar.response import Redirect, Template

from shoka.clock import library_today, utc_now
from shoka.errors import Conflict, InvalidRequest, NotFound, ShokaError
from shoka.patrons.merge import find_duplicate, merge_patrons, merge_preview
from shoka.patrons.patron_fields import FieldProblem
from shoka.patrons.registry import load_vocabulary
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import staff_page
from shoka.staff.patron_pages import (PATRON_MANAGER_ROLES, STATUS_LABELS, editor_of, form_values, patron_page)
from shoka.staff.sessions import StaffSession


def _problem(error: ShokaError) -> FieldProblem:
    """The domain's "日本語 / English" message as a field problem."""
    japanese, _, english = error.message.partition(" / ")
    return FieldProblem(japanese, english or japanese)


@post("/staff/patrons/{patron_id:int}/merge", guards=[staff_area(PATRON_MANAGER_ROLES)], dependencies=STAFF_SESSION,
      include_in_schema=False)
async def patron_merge(request: Request, staff: StaffSession, patron_id: int) -> Template | Redirect:
    values = await form_values(request)
    today = library_today()
    async with request.app.state.pools.staff.connection() as connection:
        try:
            duplicate_id = await find_duplicate(connection, patron_id, values.get("duplicate", ""))
        except (InvalidRequest, NotFound, Conflict) as refusal:
            return await patron_page(request, staff, patron_id, status_code=int(refusal.status_code), form="merge",
                                     problems={"duplicate": _problem(refusal)}, values=values)
        if values.get("confirm") != "1":
            preview = await merge_preview(connection, survivor_id=patron_id, duplicate_id=duplicate_id,
                                          actor=staff_actor(request, staff), today=today)
            return await staff_page(request, "staff/patron_merge.html", staff, preview=preview,
                                    duplicate_card=preview.duplicate.card, status_labels=STATUS_LABELS,
                                    vocabulary=await load_vocabulary(connection))
        if values.get("duplicate_id") != str(duplicate_id):
            raise Conflict("確認画面の後にカードの持ち主が変わりました。もう一度確認してください。/ "
                           "The card changed hands since the confirmation; check again.", code="merge_target_changed")
        try:
            await merge_patrons(connection, request.app.state.engine, survivor_id=patron_id, duplicate_id=duplicate_id,
                                vocabulary=await load_vocabulary(connection), editor=editor_of(request, staff),
                                today=today, now=utc_now())
        except Conflict as refusal:
            return await patron_page(request, staff, patron_id, status_code=409, alert=refusal.message)
    return Redirect(path=f"/staff/patrons/{patron_id}?done=merged", status_code=303)


PATRON_MERGE_ROUTES = [patron_merge]
