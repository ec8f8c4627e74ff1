"""The counter's patron panel (POST /staff/circulation/patron): what the screen shows once a card is scanned.

The circulation engine gives the facts that decide a checkout (status, expiry, the blocks at the desk's branch
including the loan limit, loans with due dates and renewability, holds with their queue places); PostgreSQL adds
what the engine does not hold: the name and its reading, the staff note, titles, and the names of categories and
branches. The card travels in a POST body so that it stays out of URLs and access logs. Showing the name and the
note is a read of personal data, so each lookup is logged as `patron.view` in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Request, post
from psycopg import AsyncCursor

from shoka.audit import record_operation
from shoka.auth.roles import CIRCULATION_ROLES
from shoka.circulation.decisions import CirculationRefused, decide
from shoka.clock import library_today
from shoka.errors import NotFound
from shoka.staff.access import STAFF_SESSION, require_branch, staff_actor, staff_area
from shoka.staff.counter_protocol import COUNTER_ERRORS, PatronScan, scanned_card
from shoka.staff.sessions import StaffSession
from shoka.web.i18n import request_language

_STATUS_LABELS = {"active": ("有効", "Active"), "card_lost": ("カード紛失", "Card lost"),
                  "suspended": ("貸出停止", "Suspended"), "merged": ("統合済み", "Merged")}


class CounterBlock(msgspec.Struct, frozen=True):
    code: str
    message: str
    message_en: str


class CounterLoan(msgspec.Struct, frozen=True):
    loan_id: int
    item: str
    title: str
    due_date: dt.date
    overdue: bool
    days_overdue: int
    renewals: int
    renewable: bool


class CounterHold(msgspec.Struct, frozen=True):
    hold_id: int
    title: str
    status: str  # waiting | in_transit | ready
    pickup_branch: str
    pickup_branch_name: str
    pickup_by: dt.date | None
    queue_position: int | None


class PatronPanel(msgspec.Struct, frozen=True):
    patron_id: int
    card: str
    name: str
    name_reading: str
    category: str
    category_name: str
    home_branch_name: str
    status: str
    status_label: str
    expires_on: dt.date
    expired: bool
    keeps_reading_record: bool
    staff_note: str
    blocks: list[CounterBlock]
    loans: list[CounterLoan]
    holds: list[CounterHold]


_PERSONAL = """
SELECT pp.family_name, pp.given_name, pp.family_name_reading, pp.given_name_reading, pp.staff_note,
       p.keeps_reading_record, pc.name_ja, pc.name_en, sp.name_ja, sp.name_en
FROM patron p
JOIN patron_category pc ON pc.code = p.category
JOIN service_point sp ON sp.id = p.home_service_point_id
LEFT JOIN patron_personal pp ON pp.patron_id = p.id
WHERE p.id = %s
"""


async def _engine_summary(request: Request, cursor: AsyncCursor, card: str, branch: str, today: dt.date) -> dict:
    """The engine's summary as of every change committed so far: another worker may have lent a copy to this
    patron a moment ago."""
    replica = request.app.state.engine
    await replica.catch_up_with(cursor)
    try:
        return await decide(replica.circulation, "patron_summary",
                            {"card": card, "today": today.isoformat(), "branch": branch})
    except CirculationRefused as refusal:
        if refusal.code != "unknown_patron":
            raise
        await cursor.execute("SELECT 1 FROM patron_card_history WHERE card = %s", [card])
        if await cursor.fetchone():
            raise CirculationRefused({"code": "card_replaced", "message_ja":
                                      "この利用カードは再発行により無効です。新しいカードをお使いください。",
                                      "message_en": "This card was replaced; use the new card."}) from None
        raise


@post("/staff/circulation/patron", guards=[staff_area(CIRCULATION_ROLES)], dependencies=STAFF_SESSION,
      exception_handlers=COUNTER_ERRORS, include_in_schema=False, status_code=200)
async def counter_patron(request: Request, data: PatronScan, staff: StaffSession) -> PatronPanel:
    require_branch(staff, staff.working_branch)
    card = scanned_card(data.card)
    english = request_language(request) == "en"
    today = library_today()
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            summary = await _engine_summary(request, cursor, card, staff.working_branch, today)
            patron_id = summary["patron_id"]
            bib_ids = sorted({loan["bib_id"] for loan in summary["loans"] if loan.get("bib_id")}
                             | {hold["bib_id"] for hold in summary["holds"]})
            await cursor.execute(_PERSONAL, [patron_id])
            personal = await cursor.fetchone()
            if personal is None:
                raise NotFound(f"利用者番号 {card} の利用者は登録されていません。/ No patron has the card {card}.",
                               code="unknown_patron")
            await cursor.execute("SELECT id, title FROM bib WHERE id = ANY(%s)", [bib_ids])
            titles = dict(await cursor.fetchall())
            await cursor.execute("SELECT code, name_ja, name_en FROM service_point")
            branch_names = {code: name_en if english else name_ja for code, name_ja, name_en in await cursor.fetchall()}
            await record_operation(cursor, staff_actor(request, staff), "patron.view", "patron", patron_id,
                                   {"via": "counter", "branch": staff.working_branch})
    (family, given, family_reading, given_reading, staff_note, keeps_reading_record, category_ja, category_en,
     home_ja, home_en) = personal
    status_ja, status_en = _STATUS_LABELS.get(summary["status"], (summary["status"], summary["status"]))
    expires_on = dt.date.fromisoformat(summary["expires_on"])
    return PatronPanel(
        patron_id=patron_id, card=summary["card"],
        name=" ".join(part for part in (family, given) if part),
        name_reading=" ".join(part for part in (family_reading, given_reading) if part),
        category=summary["category"], category_name=category_en if english else category_ja,
        home_branch_name=home_en if english else home_ja, status=summary["status"],
        status_label=status_en if english else status_ja, expires_on=expires_on, expired=expires_on < today,
        keeps_reading_record=keeps_reading_record, staff_note=staff_note or "",
        blocks=[CounterBlock(code=block["code"], message=block["message_ja"], message_en=block["message_en"])
                for block in summary["blocks"]],
        loans=[CounterLoan(loan_id=loan["loan_id"], item=loan["barcode"], title=titles.get(loan.get("bib_id"), ""),
                           due_date=dt.date.fromisoformat(loan["due_on"]), overdue=loan["overdue"],
                           days_overdue=loan["days_overdue"], renewals=loan["renewals"], renewable=loan["renewable"])
               for loan in sorted(summary["loans"], key=lambda loan: (loan["due_on"], loan["loan_id"]))],
        holds=[CounterHold(hold_id=hold["hold_id"], title=titles.get(hold["bib_id"], ""), status=hold["status"],
                           pickup_branch=hold["pickup_branch"],
                           pickup_branch_name=branch_names.get(hold["pickup_branch"], hold["pickup_branch"]),
                           pickup_by=dt.date.fromisoformat(hold["pickup_by"]) if hold.get("pickup_by") else None,
                           queue_position=hold.get("queue_position"))
               for hold in summary["holds"]])
