"""The patron register: registering and editing patrons, reading one patron for staff, and what every change
of a patron shares (the vocabulary of categories and branches, who may edit which patron, the engine event).

Each change is one transaction: lock the patron, write patron and patron_personal, log the operation, then
append a 'patron' outbox event as the last statement. After COMMIT this process's circulation engine applies
the event at once and every other process follows it from the outbox, so a patron registered, edited,
blocked, renewed or merged here is known to every desk's next decision. Counter staff change only patrons
whose home branch is one of theirs; librarians and administrators change every patron.
"""

from __future__ import annotations

import datetime as dt

import anyio
import msgspec
from psycopg import AsyncConnection, AsyncCursor, errors

from shoka.audit import Actor, record_operation
from shoka.auth.passwords import hash_password
from shoka.circulation.desk import Changes
from shoka.circulation.engine_state import PATRON_SELECT, patron_state
from shoka.errors import Conflict, Forbidden, NotFound, Unprocessable
from shoka.patrons.my_account import japanese_password_rule_problem
from shoka.patrons.patron_fields import (FieldErrors, FieldProblem, MembershipDetails, PersonalDetails, age_band,
                                         check_card, default_expiry, normalise_card)


class Category(msgspec.Struct, frozen=True):
    code: str
    name_ja: str
    name_en: str
    card_years: int
    is_group: bool


class Branch(msgspec.Struct, frozen=True):
    code: str
    id: int
    name_ja: str
    name_en: str


class PatronVocabulary(msgspec.Struct, frozen=True):
    """The categories and service points a patron record may name, in the library's order."""

    categories: dict[str, Category]
    branches: dict[str, Branch]

    def branch_by_id(self, branch_id: int) -> Branch:
        return next(branch for branch in self.branches.values() if branch.id == branch_id)


async def load_vocabulary(connection: AsyncConnection) -> PatronVocabulary:
    categories = await (await connection.execute(
        "SELECT code, name_ja, name_en, card_years, is_group FROM patron_category ORDER BY is_group, code")).fetchall()
    branches = await (await connection.execute(
        "SELECT code, id, name_ja, name_en FROM service_point ORDER BY sort_order, id")).fetchall()
    return PatronVocabulary(categories={row[0]: Category(*row) for row in categories},
                            branches={row[0]: Branch(*row) for row in branches})


class Editor(msgspec.Struct, frozen=True):
    """Who changes patron records: the operation log's actor, and the home branches whose patrons they may
    change (None: every patron)."""

    actor: Actor
    home_branches: frozenset[str] | None = None

    def may_edit(self, home_branch: str) -> bool:
        return self.home_branches is None or home_branch in self.home_branches


class PatronFormRefused(Unprocessable):
    """Field-level problems: the form is shown again with what was typed and a message at each field."""

    code = "invalid_patron_fields"

    def __init__(self, problems: FieldErrors) -> None:
        names = ", ".join(problems)
        super().__init__(f"入力内容を確認してください（{names}）。/ Check the fields: {names}.")
        self.problems = problems


class LockedPatron(msgspec.Struct, frozen=True):
    id: int
    card: str
    category: str
    home_branch: str
    expires_on: dt.date
    status: str
    keeps_reading_record: bool


def not_yours(home_branch: Branch) -> Forbidden:
    return Forbidden(f"この利用者の登録館（{home_branch.name_ja}）は、このアカウントの担当館ではないため変更できません。"
                     f"/ This patron belongs to {home_branch.name_en}, which is not one of your branches; "
                     "ask a librarian.", code="patron_of_another_branch")


async def lock_patron_for_change(cursor: AsyncCursor, patron_id: int, editor: Editor,
                                 vocabulary: PatronVocabulary) -> LockedPatron:
    await cursor.execute(
        """SELECT p.id, p.card, p.category, sp.code, p.expires_on, p.status, p.keeps_reading_record
           FROM patron p JOIN service_point sp ON sp.id = p.home_service_point_id WHERE p.id = %s FOR UPDATE OF p""",
        [patron_id])
    row = await cursor.fetchone()
    if row is None:
        raise NotFound(f"利用者 {patron_id} は登録されていません。/ Patron {patron_id} does not exist.",
                       code="unknown_patron")
    patron = LockedPatron(*row)
    if not editor.may_edit(patron.home_branch):
        raise not_yours(vocabulary.branches[patron.home_branch])
    if patron.status == "merged":
        raise Conflict("この利用者は別の登録に統合済みのため変更できません。統合先の利用者を開いてください。"
                       "/ This record was merged into another patron; open that patron instead.",
                       code="patron_merged")
    return patron


async def publish_patron(cursor: AsyncCursor, changes: Changes, patron_id: int) -> None:
    """The patron's engine event, read back as it now is (call after the last change of the patron)."""
    await publish_patrons(cursor, changes, [patron_id])


async def publish_patrons(cursor: AsyncCursor, changes: Changes, patron_ids: list[int]) -> None:
    if not patron_ids:
        return
    await cursor.execute(PATRON_SELECT + " WHERE p.id = ANY(%s) ORDER BY p.id", [patron_ids])
    for row in await cursor.fetchall():
        changes.add("patron", row[0], {}, {"kind": "patron_upserted", **patron_state(row)})


async def card_owner(cursor: AsyncCursor, card: str) -> tuple[str, int] | None:
    """('current', patron id) when a patron holds the card now, ('old', patron id) when it was replaced."""
    await cursor.execute("SELECT id FROM patron WHERE card = %s", [card])
    if row := await cursor.fetchone():
        return "current", row[0]
    await cursor.execute("SELECT patron_id FROM patron_card_history WHERE card = %s", [card])
    if row := await cursor.fetchone():
        return "old", row[0]
    return None


async def check_new_card(cursor: AsyncCursor, text: str) -> tuple[str, FieldProblem | None]:
    """A card number for a new or replacement card: the card pattern, and used by no patron, now or before."""
    card = normalise_card(text)
    if problem := check_card(card):
        return card, problem
    if await card_owner(cursor, card) is not None:
        return card, FieldProblem(f"カード番号 {card} はすでに使われています（旧カードを含む）。",
                                  f"Card {card} is already in use (old cards included).")
    return card, None


async def web_password_hash(password: str) -> tuple[str | None, FieldProblem | None]:
    """An optional web password, checked against the password rules and hashed (argon2id) off the event loop."""
    if not password:
        return None, None
    if problem := japanese_password_rule_problem(password):
        return None, FieldProblem(problem, "A web password needs at least 8 characters and no spaces at either end.")
    return await anyio.to_thread.run_sync(hash_password, password), None


def _branch_problem(editor: Editor, membership: MembershipDetails) -> FieldProblem | None:
    if membership.home_branch and not editor.may_edit(membership.home_branch):
        return FieldProblem("このアカウントでは、担当館以外を登録館にできません。",
                            "You can only choose one of your own branches as home branch.")
    return None


async def register_patron(connection: AsyncConnection, replica, *, card: str, personal: PersonalDetails,
                          membership: MembershipDetails, password: str, vocabulary: PatronVocabulary,
                          editor: Editor, problems: FieldErrors, today: dt.date, now: dt.datetime) -> int:
    """Registers a patron; raises PatronFormRefused with every field problem (including `problems` the caller
    found). The card works at every desk as soon as this returns."""
    problems = dict(problems)
    if problem := _branch_problem(editor, membership):
        problems.setdefault("home_branch", problem)
    password_hash, problem = await web_password_hash(password)
    if problem:
        problems["password"] = problem
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        card, problem = await check_new_card(cursor, card)
        if problem:
            problems = {"card": problem, **problems}  # in the form's order: the card comes first
        if problems:
            raise PatronFormRefused(problems)
        category = vocabulary.categories[membership.category]
        expires_on = membership.expires_on or default_expiry(today, category.card_years)
        try:
            await cursor.execute(
                """INSERT INTO patron (card, category, home_service_point_id, expires_on, keeps_reading_record,
                                       age_band, registered_at, updated_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                [card, category.code, vocabulary.branches[membership.home_branch].id, expires_on,
                 membership.keeps_reading_record, age_band(personal.birth_date, today), now, now])
        except errors.UniqueViolation:  # registered at another desk a moment ago
            raise PatronFormRefused({"card": FieldProblem(f"カード番号 {card} はすでに使われています。",
                                                          f"Card {card} is already in use.")}) from None
        patron_id = (await cursor.fetchone())[0]
        await _write_personal(cursor, patron_id, personal, insert=True)
        if password_hash is not None:
            await cursor.execute("INSERT INTO patron_credential (patron_id, password_hash, changed_at) "
                                 "VALUES (%s, %s, %s)", [patron_id, password_hash, now])
        await record_operation(cursor, editor.actor, "patron.register", "patron", patron_id,
                               {"category": category.code, "home_branch": membership.home_branch,
                                "web_password": password_hash is not None})
        await publish_patron(cursor, changes, patron_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return patron_id


_PERSONAL_COLUMNS = ("family_name", "given_name", "family_name_reading", "given_name_reading", "birth_date",
                     "postal_code", "address", "phone", "email", "staff_note")


async def _write_personal(cursor: AsyncCursor, patron_id: int, personal: PersonalDetails, *, insert: bool) -> None:
    values = [getattr(personal, column) for column in _PERSONAL_COLUMNS]
    if insert:
        await cursor.execute(f"INSERT INTO patron_personal (patron_id, {', '.join(_PERSONAL_COLUMNS)}) "
                             f"VALUES (%s, {', '.join(['%s'] * len(values))})", [patron_id, *values])
    else:
        assignments = ", ".join(f"{column} = %s" for column in _PERSONAL_COLUMNS)
        await cursor.execute(f"UPDATE patron_personal SET {assignments} WHERE patron_id = %s", [*values, patron_id])


async def read_personal(cursor: AsyncCursor, patron_id: int) -> PersonalDetails:
    await cursor.execute(f"SELECT {', '.join(_PERSONAL_COLUMNS)} FROM patron_personal WHERE patron_id = %s",
                         [patron_id])
    row = await cursor.fetchone()
    if row is None:  # a record migrated without its personal part
        return PersonalDetails("", "", "", "", None, "", "", "", "", "")
    return PersonalDetails(*row)


async def update_patron(connection: AsyncConnection, replica, *, patron_id: int, personal: PersonalDetails,
                        membership: MembershipDetails, vocabulary: PatronVocabulary, editor: Editor,
                        problems: FieldErrors, today: dt.date, now: dt.datetime) -> list[str]:
    """Saves the edit form; returns the names of the fields that changed (what the operation log records).
    Turning the reading record off cuts the patron from past loans, as on the OPAC."""
    problems = dict(problems)
    if problem := _branch_problem(editor, membership):
        problems.setdefault("home_branch", problem)
    changes = Changes()
    async with connection.transaction(), connection.cursor() as cursor:
        patron = await lock_patron_for_change(cursor, patron_id, editor, vocabulary)
        if problems:
            raise PatronFormRefused(problems)
        before = await read_personal(cursor, patron_id)
        changed = [column for column in _PERSONAL_COLUMNS if getattr(before, column) != getattr(personal, column)]
        expires_on = membership.expires_on or patron.expires_on
        for name, old, new in (("category", patron.category, membership.category),
                               ("home_branch", patron.home_branch, membership.home_branch),
                               ("expires_on", patron.expires_on, expires_on),
                               ("keeps_reading_record", patron.keeps_reading_record, membership.keeps_reading_record)):
            if old != new:
                changed.append(name)
        if not changed:
            return []
        await cursor.execute(
            """UPDATE patron SET category = %s, home_service_point_id = %s, expires_on = %s, keeps_reading_record = %s,
                      age_band = %s, updated_at = %s WHERE id = %s""",
            [membership.category, vocabulary.branches[membership.home_branch].id, expires_on,
             membership.keeps_reading_record, age_band(personal.birth_date, today), now, patron_id])
        await _write_personal(cursor, patron_id, personal, insert=False)
        history_removed = 0
        if patron.keeps_reading_record and not membership.keeps_reading_record:
            await cursor.execute("UPDATE loan SET patron_id = NULL WHERE patron_id = %s AND returned_at IS NOT NULL",
                                 [patron_id])
            history_removed = cursor.rowcount
        await record_operation(cursor, editor.actor, "patron.edit", "patron", patron_id,
                               {"changed": changed, "history_removed": history_removed})
        await publish_patron(cursor, changes, patron_id)
        await changes.append_to_outbox(cursor)
    await changes.apply_here(replica)
    return changed
