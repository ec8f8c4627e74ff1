"""The patrons screens (/staff/patrons): search, registration, and one patron's page with its edit form.

Roles: admin, librarian and counter (PATRON_DATA_ROLES) see patrons; the statistics role never does. Counter
staff change only patrons whose home branch is one of theirs; the page says so instead of offering the forms.
Every page that shows personal data logs it (patron.search, patron.view). A refused form comes back with
what was typed and a message at each field (422).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from shoka.auth.roles import PATRON_DATA_ROLES, StaffRole
from shoka.clock import LIBRARY_TIME_ZONE, library_today, utc_now
from shoka.errors import InvalidRequest
from shoka.patrons.patron_fields import (FieldErrors, check_membership, check_personal, default_expiry,
                                         renewed_expiry)
from shoka.patrons.patron_record import PatronRecord, read_patron
from shoka.patrons.registry import (Editor, PatronFormRefused, PatronVocabulary, load_vocabulary, register_patron,
                                    update_patron)
from shoka.patrons.search import PAGE_SIZES, SearchKind, search_patrons
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import staff_page
from shoka.staff.sessions import StaffSession

# Merging and bulk updates change many records at once: librarians and administrators only.
PATRON_MANAGER_ROLES = frozenset({StaffRole.ADMIN, StaffRole.LIBRARIAN})
LONGEST_FIELD = 2000

STATUS_LABELS = {"active": ("有効", "Active"), "suspended": ("貸出停止", "Suspended"),
                 "card_lost": ("カード紛失", "Card lost"), "merged": ("統合済み", "Merged")}
REASON_LABELS = {"lost": ("紛失", "Lost"), "damaged": ("破損", "Damaged"), "merged": ("統合", "Merged"),
                 "other": ("その他", "Other")}
KIND_LABELS = {"auto": ("自動判定", "Automatic"), "card": ("カード番号", "Card number"),
               "reading": ("フリガナ", "Reading (furigana)"), "phone": ("電話番号", "Phone"), "name": ("氏名", "Name")}
DONE_MESSAGES = {
    "registered": ("利用者を登録しました。すぐに貸出できます。", "The patron is registered and may borrow at once."),
    "edited": ("登録内容を保存しました。", "The changes have been saved."),
    "unchanged": ("変更はありませんでした。", "Nothing was changed."),
    "card_replaced": ("カードを再発行しました。旧カードは今後どの窓口でも使えません。",
                      "The new card is issued; the old card is refused at every desk from now on."),
    "renewed": ("有効期限を更新しました。", "The card has been renewed."),
    "suspended": ("貸出停止にしました。", "The patron is suspended from borrowing."),
    "card_lost": ("カード紛失として登録しました。再発行するまでこのカードは使えません。",
                  "The card is recorded as lost and refused until it is replaced."),
    "active": ("利用できる状態に戻しました。", "The patron may borrow again."),
    "password": ("Webパスワードを設定しました。", "The web password has been set."),
    "merged": ("重複登録を統合しました。", "The duplicate registration has been merged into this patron."),
}


def editor_of(request: Request, staff: StaffSession) -> Editor:
    """Counter staff with a branch scope change only the patrons of their branches; the others, every patron."""
    branches = staff.principal.branch_codes
    scoped = staff.role is StaffRole.COUNTER and bool(branches)
    return Editor(actor=staff_actor(request, staff), home_branches=frozenset(branches) if scoped else None)


async def form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name) or "")[:LONGEST_FIELD] for name in form.keys()
            if isinstance(form.get(name), str)}


def editable_branches(vocabulary: PatronVocabulary, editor: Editor) -> list[Any]:
    return [branch for branch in vocabulary.branches.values() if editor.may_edit(branch.code)]


def record_values(record: PatronRecord) -> dict[str, str]:
    """The edit form's initial values: what the record holds now."""
    personal = record.personal
    return {"family_name": personal.family_name, "given_name": personal.given_name,
            "family_name_reading": personal.family_name_reading, "given_name_reading": personal.given_name_reading,
            "birth_date": personal.birth_date.isoformat() if personal.birth_date else "",
            "postal_code": personal.postal_code, "address": personal.address, "phone": personal.phone,
            "email": personal.email, "staff_note": personal.staff_note, "category": record.category,
            "home_branch": record.home_branch, "expires_on": record.expires_on.isoformat(),
            "keeps_reading_record": "1" if record.keeps_reading_record else ""}


async def patron_page(request: Request, staff: StaffSession, patron_id: int, *, status_code: int = 200,
                      form: str = "", problems: FieldErrors | None = None, values: dict[str, str] | None = None,
                      alert: str = "") -> Template:
    """One patron's page; after a refused form, that form (`form`) shows what was typed and its problems."""
    today = library_today()
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        record = await read_patron(connection, patron_id, actor=staff_actor(request, staff), today=today)
    editor = editor_of(request, staff)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    category = vocabulary.categories.get(record.category)
    return await staff_page(
        request, "staff/patron_detail.html", staff, status_code=status_code, patron=record, vocabulary=vocabulary,
        may_edit=editor.may_edit(record.home_branch) and record.status != "merged",
        may_manage=staff.role in PATRON_MANAGER_ROLES, editable_branches=editable_branches(vocabulary, editor),
        form=form, problems=problems or {}, values=values if form == "edit" and values else record_values(record),
        action_values=values if form != "edit" and values else {}, alert=alert, done=done, today=today,
        status_labels=STATUS_LABELS, reason_labels=REASON_LABELS, library_time_zone=LIBRARY_TIME_ZONE,
        renewal_preview=renewed_expiry(record.expires_on, today, category.card_years) if category else None)


async def registration_page(request: Request, staff: StaffSession, *, values: dict[str, str],
                            problems: FieldErrors, status_code: int = 200) -> Template:
    today = library_today()
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
    editor = editor_of(request, staff)
    default_expiries = {code: default_expiry(today, category.card_years)
                        for code, category in vocabulary.categories.items()}
    return await staff_page(request, "staff/patron_new.html", staff, status_code=status_code, values=values,
                            problems=problems, vocabulary=vocabulary, default_expiries=default_expiries,
                            editable_branches=editable_branches(vocabulary, editor), today=today)


@get("/staff/patrons", guards=[staff_area(PATRON_DATA_ROLES)], dependencies=STAFF_SESSION, include_in_schema=False)
async def patron_search_page(request: Request, staff: StaffSession,
                             q: Annotated[str, Parameter(max_length=200)] = "",
                             kind: Annotated[str, Parameter(max_length=16)] = "auto",
                             page: Annotated[int, Parameter(ge=1, le=10_000)] = 1,
                             per_page: Annotated[int, Parameter(ge=1, le=100)] = 20) -> Template | Redirect:
    context: dict[str, Any] = {"q": q, "kind": kind, "per_page": per_page, "kind_labels": KIND_LABELS,
                               "page_sizes": PAGE_SIZES, "status_labels": STATUS_LABELS, "results": None,
                               "error": "", "may_manage": staff.role in PATRON_MANAGER_ROLES}
    if not q.strip():
        return await staff_page(request, "staff/patron_search.html", staff, **context)
    try:
        search_kind = SearchKind(kind)
    except ValueError:
        raise InvalidRequest(f"kind は {', '.join(KIND_LABELS)} のいずれかです。/ kind must be one of "
                             f"{', '.join(KIND_LABELS)}.", code="invalid_kind") from None
    try:
        async with request.app.state.pools.staff.connection() as connection:
            vocabulary = await load_vocabulary(connection)
            results = await search_patrons(connection, text=q, kind=search_kind, page=page, per_page=per_page,
                                           actor=staff_actor(request, staff))
    except InvalidRequest as problem:
        return await staff_page(request, "staff/patron_search.html", staff, status_code=400,
                                **{**context, "error": problem.message})
    if results.kind is SearchKind.CARD and results.total == 1 and results.hits[0].matched_old_card is None:
        return Redirect(path=f"/staff/patrons/{results.hits[0].id}", status_code=303)
    return await staff_page(request, "staff/patron_search.html", staff,
                            **{**context, "results": results, "vocabulary": vocabulary})


@get("/staff/patrons/new", guards=[staff_area(PATRON_DATA_ROLES)], dependencies=STAFF_SESSION, include_in_schema=False)
async def patron_registration_form(request: Request, staff: StaffSession) -> Template:
    branch = staff.working_branch if editor_of(request, staff).may_edit(staff.working_branch) else ""
    return await registration_page(request, staff, values={"category": "adult", "home_branch": branch}, problems={})


@post("/staff/patrons/new", guards=[staff_area(PATRON_DATA_ROLES)], dependencies=STAFF_SESSION,
      include_in_schema=False)
async def patron_register(request: Request, staff: StaffSession) -> Template | Redirect:
    values = await form_values(request)
    values.pop("_csrf_token", None)
    today, now = library_today(), utc_now()
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        personal, problems = check_personal(values, today)
        membership, membership_problems = check_membership(values, categories=vocabulary.categories,
                                                           branches=vocabulary.branches, today=today,
                                                           allow_past_expiry=False)
        try:
            patron_id = await register_patron(
                connection, request.app.state.engine, card=values.get("card", ""), personal=personal,
                membership=membership, password=values.get("password", ""), vocabulary=vocabulary,
                editor=editor_of(request, staff), problems={**problems, **membership_problems}, today=today, now=now)
        except PatronFormRefused as refusal:
            values.pop("password", None)  # never sent back to the browser
            return await registration_page(request, staff, values=values, problems=refusal.problems, status_code=422)
    return Redirect(path=f"/staff/patrons/{patron_id}?done=registered", status_code=303)


@get("/staff/patrons/{patron_id:int}", guards=[staff_area(PATRON_DATA_ROLES)], dependencies=STAFF_SESSION,
     include_in_schema=False)
async def patron_detail(request: Request, staff: StaffSession, patron_id: int) -> Template:
    return await patron_page(request, staff, patron_id)


@post("/staff/patrons/{patron_id:int}", guards=[staff_area(PATRON_DATA_ROLES)], dependencies=STAFF_SESSION,
      include_in_schema=False)
async def patron_edit(request: Request, staff: StaffSession, patron_id: int) -> Template | Redirect:
    values = await form_values(request)
    values.pop("_csrf_token", None)
    today, now = library_today(), utc_now()
    async with request.app.state.pools.staff.connection() as connection:
        vocabulary = await load_vocabulary(connection)
        personal, problems = check_personal(values, today)
        membership, membership_problems = check_membership(values, categories=vocabulary.categories,
                                                           branches=vocabulary.branches, today=today,
                                                           allow_past_expiry=True)
        try:
            changed = await update_patron(connection, request.app.state.engine, patron_id=patron_id,
                                          personal=personal, membership=membership, vocabulary=vocabulary,
                                          editor=editor_of(request, staff),
                                          problems={**problems, **membership_problems}, today=today, now=now)
        except PatronFormRefused as refusal:
            return await patron_page(request, staff, patron_id, status_code=422, form="edit",
                                     problems=refusal.problems, values=values)
    return Redirect(path=f"/staff/patrons/{patron_id}?done={'edited' if changed else 'unchanged'}", status_code=303)


PATRON_PAGE_ROUTES = [patron_search_page, patron_registration_form, patron_register, patron_detail, patron_edit]
