"""Login (93/94) and SC status (99/98): the terminal's side of the conversation.

98 reports on-line only while this process's engine keeps up and the database answers, so a kiosk's periodic
status check notices a Shoka that cannot lend. Before login, 99 gets an answer that lists only login and
status as supported and allows neither checkout nor checkin: the terminal learns it must log in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shoka.clock import utc_now
from shoka.sip2.requests import Request
from shoka.sip2.responses import Response, sip2_datetime, yes_no
from shoka.sip2.screen_messages import Language, say
from shoka.sip2.status_codes import BEFORE_LOGIN, supported_messages
from shoka.sip2.terminal import LoginRefused, log_in

if TYPE_CHECKING:
    from shoka.sip2.session import Session

logger = logging.getLogger(__name__)
PROTOCOL_VERSION = "2.00"
# How long the terminal should wait for an answer (tenths of a second), and how often it may retry.
TIMEOUT_PERIOD = "030"
RETRIES_ALLOWED = "003"


async def login_message(session: Session, request: Request) -> str:
    session.terminal = None  # a failed login on a logged-in connection logs it out
    try:
        session.terminal = await log_in(session.context, request, session.source_address)
    except LoginRefused as refusal:
        logger.warning("sip2 login refused", extra={"reason": str(refusal), "peer": session.source_address})
        return Response("94").fixed("0").text()
    logger.info("sip2 terminal logged in", extra={"terminal": session.terminal.username,
                                                  "branch": session.terminal.branch, "peer": session.source_address})
    return Response("94").fixed("1").text()


async def _online(session: Session) -> bool:
    if session.context.replica.health() != "ok":
        return False
    try:
        async with session.context.pools.staff.connection(timeout=2.0) as connection:
            await connection.execute("SELECT 1")
    except Exception:  # any failure to answer is what the status reports
        logger.exception("sip2 status: the database does not answer")
        return False
    return True


async def sc_status_message(session: Session, request: Request) -> str:
    points = await session.context.service_points()
    english = session.language is Language.ENGLISH
    date = sip2_datetime(utc_now())
    if session.terminal is None:
        return (Response("98").fixed("Y", "N", "N", "N", "N", "N", TIMEOUT_PERIOD, RETRIES_ALLOWED, date,
                                     PROTOCOL_VERSION)
                .field("AO", points.institution).field("AM", points.name(points.institution, english))
                .field("BX", supported_messages(BEFORE_LOGIN)).field("AF", say(session.language, "login_first"))
                .text())
    online = await _online(session)
    return (Response("98").fixed(yes_no(online), yes_no(online), yes_no(online), yes_no(online), "N", "N",
                                 TIMEOUT_PERIOD, RETRIES_ALLOWED, date, PROTOCOL_VERSION)
            .field("AO", points.institution).field("AM", points.name(points.institution, english))
            .field("BX", supported_messages()).field("AN", session.terminal.branch)
            .optional("AF", None if online else say(session.language, "system_error")).text())
