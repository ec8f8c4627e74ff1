"""A refusal in the response type of any request: what a terminal gets for a malformed message, a message
sent before login, a message Shoka does not support, or a failure on Shoka's side.

A refusal says "no" in the terms of the message it answers (ok 0, valid patron N, circulation status other)
and explains in the screen message, so the kiosk shows it to its user and the connection stays usable. Only
text that is not a message at all (no two-digit code) gets `96`, the request to send it again.
"""

from __future__ import annotations

from shoka.sip2.requests import Request
from shoka.sip2.responses import Response
from shoka.sip2.status_codes import UNKNOWN_PATRON_STATUS, supported_messages

REQUEST_SC_RESEND = "96"
NO_COUNTS = "0000" * 6


def refusal(code: str, *, institution: str, language: str, date: str, message: str,
            request: Request | None = None) -> str:
    """The refusal of a request with message code `code` (the request itself when it could be parsed)."""

    def echo(field_id: str) -> str:
        return (request.field(field_id) or "") if request is not None else ""

    if code == "93":
        return Response("94").fixed("0").text()
    if code == "99":
        return (Response("98").fixed("N" * 6, "000", "003", date, "2.00").field("AO", institution)
                .field("BX", supported_messages(frozenset())).field("AF", message).text())
    if code in ("23", "01"):
        return (Response("24").fixed(UNKNOWN_PATRON_STATUS, language, date).field("AO", institution)
                .field("AA", echo("AA")).field("AE", "").field("BL", "N").field("CQ", "N").field("AF", message)
                .text())
    if code == "63":
        return (Response("64").fixed(UNKNOWN_PATRON_STATUS, language, date, NO_COUNTS).field("AO", institution)
                .field("AA", echo("AA")).field("AE", "").field("BL", "N").field("CQ", "N").field("AF", message)
                .text())
    if code == "17":
        return (Response("18").fixed("01", "00", "01", date).field("AB", echo("AB")).field("AJ", "")
                .field("AF", message).text())
    if code in ("11", "29"):
        return (Response("12" if code == "11" else "30").fixed("0", "N", "U", "N", date).field("AO", institution)
                .field("AA", echo("AA")).field("AB", echo("AB")).field("AJ", "").field("AH", "")
                .field("AF", message).text())
    if code == "09":
        return (Response("10").fixed("0", "N", "U", "N", date).field("AO", institution).field("AB", echo("AB"))
                .field("AQ", "").field("AF", message).text())
    if code == "35":
        return (Response("36").fixed("N", date).field("AO", institution).field("AA", echo("AA"))
                .field("AF", message).text())
    if code == "15":
        return (Response("16").fixed("0", "N", date).field("AO", institution).field("AA", echo("AA"))
                .field("AF", message).text())
    if code == "19":
        return Response("20").fixed("0", date).field("AB", echo("AB")).field("AF", message).text()
    if code == "25":
        return (Response("26").fixed(UNKNOWN_PATRON_STATUS, language, date).field("AO", institution)
                .field("AA", echo("AA")).field("AE", "").field("BL", "N").field("CQ", "N").field("AF", message)
                .text())
    if code == "37":
        return (Response("38").fixed("N", date).field("AO", institution).field("AA", echo("AA"))
                .field("AF", message).text())
    if code == "65":
        return Response("66").fixed("0", "0000", "0000", date).field("AO", institution).field("AF", message).text()
    return REQUEST_SC_RESEND

