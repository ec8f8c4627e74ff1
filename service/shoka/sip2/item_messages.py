"""Item information (17/18): one copy's circulation status, hold queue, due date and locations, from the
engine's item view (the same facts the counter and the OPAC show)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from shoka.clock import utc_now
from shoka.errors import ShokaError
from shoka.sip2.requests import Request
from shoka.sip2.responses import Response, sip2_datetime, sip2_due_date
from shoka.sip2.screen_messages import refusal_text, say
from shoka.sip2.status_codes import OTHER, circulation_status

if TYPE_CHECKING:
    from shoka.sip2.session import Session

SECURITY_MARKER_OTHER = "00"
FEE_TYPE_OTHER = "01"


async def item_information_message(session: Session, request: Request) -> str:
    context, language = session.context, session.language
    barcode = request.field("AB").strip()
    points = await context.service_points()
    date = sip2_datetime(utc_now())
    try:
        item = await context.engine_view("item_view", {"barcode": barcode})
    except ShokaError as refusal:
        return (Response("18").fixed(OTHER, SECURITY_MARKER_OTHER, FEE_TYPE_OTHER, date).field("AB", barcode)
                .field("AJ", "").field("AF", refusal_text(refusal, language)).text())
    async with context.pools.staff.connection() as connection:
        row = await (await connection.execute("SELECT title FROM bib WHERE id = %s", [item["bib_id"]])).fetchone()
    circulation = item.get("circulation") or {}
    state = circulation.get("state")
    current_location = circulation.get("pickup_branch") if state == "on_hold_shelf" else item["branch"]
    notice = {"on_hold_shelf": "item_on_hold_shelf", "in_transit": "item_in_transit"}.get(state)
    return (Response("18").fixed(circulation_status(item), SECURITY_MARKER_OTHER, FEE_TYPE_OTHER, date)
            .field("AB", barcode).field("AJ", row[0] if row else "")
            .field("CF", str(item.get("hold_queue_length", 0)))
            .optional("AH", sip2_due_date(dt.date.fromisoformat(item["due_on"])) if item.get("due_on") else None)
            .field("BG", points.institution).field("AQ", item["branch"])
            .optional("AP", current_location if state != "in_transit" else None)
            .optional("AF", say(language, notice) if notice else None).text())
