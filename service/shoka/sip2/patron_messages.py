"""Patron status (23/24), patron information (63/64) and end patron session (35/36).

Both patron messages answer from the engine's summary at the terminal's branch: the 14 status flags from
its blocks, the counts, and for 63 the item lists the summary field asks for (AS hold items ready for pickup,
AT overdue, AU charged, CD holds still waiting), paged by BP/BQ. When a patron password (AD) is given and
wrong, the answer says CQ N and leaves out the name and the lists: a stranger typing someone's card number
learns nothing from a kiosk that asks for passwords.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoka.clock import library_today, utc_now
from shoka.sip2.patron_access import patron_password_valid, patron_summary, read_patron_name
from shoka.sip2.requests import MalformedMessage, Request
from shoka.sip2.responses import Response, sip2_datetime, yes_no
from shoka.sip2.screen_messages import Language, say
from shoka.sip2.status_codes import UNKNOWN_PATRON_STATUS, patron_status

if TYPE_CHECKING:
    from shoka.sip2.session import Session

NO_FINES, NO_RECALLS = 0, 0
# Positions in the 10-character summary field of 63 and the field each list goes out in.
HOLD_ITEMS, OVERDUE_ITEMS, CHARGED_ITEMS, FINE_ITEMS, RECALL_ITEMS, UNAVAILABLE_HOLDS = range(6)
DEFAULT_PAGE_END = 9999


class PatronAnswer:
    """What both patron messages need: who, whether the password was right, and what may be shown."""

    def __init__(self, card: str, summary: dict[str, Any] | None, password_given: bool, password_valid: bool):
        self.card = card
        self.summary = summary
        self.password_given = password_given
        self.password_valid = password_valid

    @property
    def may_show_details(self) -> bool:
        return self.summary is not None and (self.password_valid or not self.password_given)

    def status_flags(self) -> str:
        return patron_status(self.summary) if self.summary is not None else UNKNOWN_PATRON_STATUS

    def block_message(self, language: Language) -> str:
        if self.summary is None:
            return say(language, "unknown_patron")
        if self.password_given and not self.password_valid:
            return say(language, "wrong_password")
        key = "message_en" if language is Language.ENGLISH else "message_ja"
        return " ".join(block.get(key) or block.get("message_ja", "") for block in self.summary.get("blocks", []))


async def _look_up(session: Session, request: Request) -> PatronAnswer:
    card = (request.field("AA") or "").strip()
    password = request.non_empty("AD")
    summary = await patron_summary(session.context, card, library_today(), session.terminal.branch)
    valid = False
    if password is not None and summary is not None:
        valid = await patron_password_valid(session.context, card, password, session.terminal.actor)
    return PatronAnswer(card, summary, password is not None, valid)


async def _name(session: Session, answer: PatronAnswer, message_code: str) -> str:
    if not answer.may_show_details:
        return ""
    return await read_patron_name(session.context, answer.summary["patron_id"], session.terminal.actor, message_code)


async def patron_status_message(session: Session, request: Request) -> str:
    session.language = Language.from_request(request.fixed["language"], session.language)
    answer = await _look_up(session, request)
    points = await session.context.service_points()
    return (Response("24").fixed(answer.status_flags(), session.language.value, sip2_datetime(utc_now()))
            .field("AO", points.institution).field("AA", answer.card)
            .field("AE", await _name(session, answer, request.code))
            .field("BL", yes_no(answer.summary is not None)).field("CQ", yes_no(answer.password_valid))
            .optional("AF", answer.block_message(session.language)).text())


async def patron_information_message(session: Session, request: Request) -> str:
    session.language = Language.from_request(request.fixed["language"], session.language)
    first, last = _page(request)
    answer = await _look_up(session, request)
    points = await session.context.service_points()
    summary = answer.summary if answer.may_show_details else None
    loans = sorted((summary or {}).get("loans", []), key=lambda loan: (loan["due_on"], loan["barcode"]))
    holds = (summary or {}).get("holds", [])
    ready = [hold for hold in holds if hold["status"] == "ready"]
    unavailable = [hold for hold in holds if hold["status"] != "ready"]
    overdue = [loan for loan in loans if loan["overdue"]]
    counts = [len(ready), len(overdue), len(loans), NO_FINES, NO_RECALLS, len(unavailable)]
    response = (Response("64").fixed(answer.status_flags(), session.language.value, sip2_datetime(utc_now()),
                                     *(f"{min(count, 9999):04d}" for count in counts))
                .field("AO", points.institution).field("AA", answer.card)
                .field("AE", await _name(session, answer, request.code))
                .field("BL", yes_no(answer.summary is not None)).field("CQ", yes_no(answer.password_valid)))
    wanted = request.fixed["summary"].upper()
    if summary is not None:
        if wanted[HOLD_ITEMS] == "Y":
            response.repeated("AS", await _barcodes_of_trapped(session, ready[first:last]))
        if wanted[OVERDUE_ITEMS] == "Y":
            response.repeated("AT", [loan["barcode"] for loan in overdue[first:last]])
        if wanted[CHARGED_ITEMS] == "Y":
            response.repeated("AU", [loan["barcode"] for loan in loans[first:last]])
        if wanted[UNAVAILABLE_HOLDS] == "Y":
            response.repeated("CD", await _titles_of(session, unavailable[first:last]))
    return response.optional("AF", answer.block_message(session.language)).text()


def _page(request: Request) -> tuple[int, int]:
    """BP/BQ (1-based, inclusive) as a slice; absent means from the first or to the last."""
    try:
        start = int(request.non_empty("BP") or 1)
        end = int(request.non_empty("BQ") or DEFAULT_PAGE_END)
    except ValueError:
        raise MalformedMessage("BP and BQ are item numbers", request.code) from None
    if start < 1 or end < start:
        raise MalformedMessage("BP must be at least 1 and BQ at least BP", request.code)
    return start - 1, end


async def _barcodes_of_trapped(session: Session, holds: list[dict[str, Any]]) -> list[str]:
    item_ids = [hold["trapped_item_id"] for hold in holds if hold.get("trapped_item_id") is not None]
    if not item_ids:
        return []
    async with session.context.pools.staff.connection() as connection:
        rows = await (await connection.execute("SELECT id, barcode FROM item WHERE id = ANY(%s)",
                                               [item_ids])).fetchall()
    barcodes = dict(rows)
    return [barcodes[item_id] for item_id in item_ids if item_id in barcodes]


async def _titles_of(session: Session, holds: list[dict[str, Any]]) -> list[str]:
    bib_ids = [hold["bib_id"] for hold in holds]
    if not bib_ids:
        return []
    async with session.context.pools.staff.connection() as connection:
        rows = await (await connection.execute("SELECT id, title FROM bib WHERE id = ANY(%s)", [bib_ids])).fetchall()
    titles = dict(rows)
    return [titles.get(bib_id, "") for bib_id in bib_ids]


async def end_patron_session_message(session: Session, request: Request) -> str:
    points = await session.context.service_points()
    return (Response("36").fixed("Y", sip2_datetime(utc_now())).field("AO", points.institution)
            .field("AA", (request.field("AA") or "").strip())
            .field("AF", say(session.language, "session_ended")).text())
