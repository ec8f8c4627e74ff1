"""One terminal connection's state machine: framing, error detection, login state, dispatch and resend.

For every line received the session answers exactly one line, except for blank lines (ignored):
- a checksum that does not add up gets `96` (send it again);
- `97` gets the last answer again, byte for byte;
- text that is no message at all gets `96`; a message that cannot be parsed, one sent before login (other
  than 93 and 99), an unsupported one, or one whose handling failed inside Shoka gets a refusal in its own
  response type with a screen message. The connection stays open in every case.
Requests are decoded and answers encoded in the terminal account's character set (UTF-8 until login);
answers carry the request's sequence number and a checksum when the request carried them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from shoka.clock import library_today, utc_now
from shoka.sip2.circulation_messages import checkin_message, checkout_message, renew_message
from shoka.sip2.context import Sip2Context
from shoka.sip2.framing import seal, split_frame
from shoka.sip2.item_messages import item_information_message
from shoka.sip2.patron_messages import (end_patron_session_message, patron_information_message,
                                        patron_status_message)
from shoka.sip2.refusals import REQUEST_SC_RESEND, refusal
from shoka.sip2.requests import (MalformedMessage, MessageCode, Request, UnsupportedMessage, decode_body, message_code,
                                 parse_request)
from shoka.sip2.responses import encode_text, sip2_datetime
from shoka.sip2.screen_messages import Language, say
from shoka.sip2.status_codes import BEFORE_LOGIN
from shoka.sip2.terminal import DEFAULT_CHARSET, Terminal, account_charset, account_still_active
from shoka.sip2.terminal_messages import login_message, sc_status_message

logger = logging.getLogger(__name__)
# A logged-in terminal's account is checked again this often: a deactivated kiosk stops within a minute.
ACCOUNT_RECHECK_SECONDS = 60.0

Handler = Callable[["Session", Request], Awaitable[str]]
HANDLERS: dict[str, Handler] = {
    MessageCode.LOGIN: login_message,
    MessageCode.SC_STATUS: sc_status_message,
    MessageCode.PATRON_STATUS: patron_status_message,
    MessageCode.PATRON_INFORMATION: patron_information_message,
    MessageCode.ITEM_INFORMATION: item_information_message,
    MessageCode.CHECKOUT: checkout_message,
    MessageCode.CHECKIN: checkin_message,
    MessageCode.RENEW: renew_message,
    MessageCode.END_PATRON_SESSION: end_patron_session_message,
}


class Session:
    def __init__(self, context: Sip2Context, source_address: str) -> None:
        self.context = context
        self.source_address = source_address
        self.terminal: Terminal | None = None
        self.language = Language.JAPANESE
        self.last_answer: bytes | None = None
        self._sequence: str | None = None  # of the message being answered
        self._account_checked_at = 0.0

    @property
    def charset(self) -> str:
        return self.terminal.charset if self.terminal is not None else DEFAULT_CHARSET

    def request_id(self, request: Request) -> str | None:
        """The idempotency key of a circulation request: the same message resent the same day, same key.

        Two different requests would share a key only if one terminal sent the same text (transaction time
        included) with the same sequence digit twice in a day, which takes ten messages within one second: in
        practice only a resend does. A terminal that sends neither a sequence number nor a transaction date
        gives nothing to tell a resend from a new request, so its requests get no key: a resend may then be
        refused as "already lent to you", which is better than a new checkout answered from an old one.
        """
        assert self.terminal is not None
        if self._sequence is None and not request.fixed.get("transaction_date", "").strip():
            return None
        key = "\x1f".join((self.terminal.username, self._sequence or "", library_today().isoformat(), request.text))
        return "sip2-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]

    async def answer(self, line: bytes) -> bytes | None:
        """The answer to one received line (without its CR); None for a blank line."""
        frame = split_frame(line)
        if not frame.body and frame.sequence is None and not frame.has_checksum:
            return None
        if not frame.checksum_valid:
            return self._remember(seal(REQUEST_SC_RESEND.encode(), sequence=None, with_checksum=True))
        if frame.body[:2] == MessageCode.RESEND.encode():
            return self.last_answer or seal(REQUEST_SC_RESEND.encode(), sequence=None, with_checksum=frame.has_checksum)
        self._sequence = frame.sequence
        charset = await self._charset_of(frame.body)
        text = await self._answer_body(frame.body, charset)
        # 96 never carries a sequence number (it answers no message in particular).
        sequence = None if text == REQUEST_SC_RESEND else frame.sequence
        return self._remember(seal(encode_text(text, charset), sequence=sequence, with_checksum=frame.has_checksum))

    def oversized(self) -> bytes:
        """The answer to a line longer than the server accepts (it was discarded unread)."""
        return self._remember(seal(REQUEST_SC_RESEND.encode(), sequence=None, with_checksum=False))

    def _remember(self, answer: bytes) -> bytes:
        self.last_answer = answer
        return answer

    async def _charset_of(self, body: bytes) -> str:
        """The terminal's character set; for a login, the one of the account logging in (its password may
        not be ASCII), found from the user name, which is ASCII."""
        if body[:2] != MessageCode.LOGIN.encode():
            return self.charset
        for piece in body[4:].split(b"|"):
            if piece.startswith(b"CN"):
                username = piece[2:].decode("ascii", "replace").strip()
                try:
                    return await account_charset(self.context, username) if username else DEFAULT_CHARSET
                except Exception:  # the database is down: the login itself will be refused and logged
                    return DEFAULT_CHARSET
        return DEFAULT_CHARSET

    async def _answer_body(self, body: bytes, charset: str) -> str:
        request: Request | None = None
        code = message_code(body[:2].decode("ascii", "replace"))
        try:
            request = parse_request(decode_body(body, charset))
            if request.code not in BEFORE_LOGIN and not await self._logged_in():
                return await self._refuse(request.code, "login_first", request)
            return await HANDLERS[request.code](self, request)
        except MalformedMessage as malformed:
            logger.info("sip2 message refused", extra={"code": malformed.code, "reason": malformed.reason,
                                                       "peer": self.source_address})
            reason = "unsupported" if isinstance(malformed, UnsupportedMessage) else "malformed"
            return await self._refuse(malformed.code or code, reason, request)
        except Exception:
            # A bug or an outage must not end the terminal's connection: refuse this one message.
            logger.exception("sip2 message failed", extra={"code": code, "peer": self.source_address})
            return await self._refuse(code, "system_error", request)

    async def _logged_in(self) -> bool:
        if self.terminal is None:
            return False
        if time.monotonic() - self._account_checked_at > ACCOUNT_RECHECK_SECONDS:
            if not await account_still_active(self.context, self.terminal):
                logger.warning("sip2 terminal account deactivated; logged out",
                               extra={"terminal": self.terminal.username, "peer": self.source_address})
                self.terminal = None
                return False
            self._account_checked_at = time.monotonic()
        return True

    async def _refuse(self, code: str | None, reason: str, request: Request | None) -> str:
        if code is None:
            return REQUEST_SC_RESEND
        try:
            institution = (await self.context.service_points()).institution
        except Exception:  # the database is down: the refusal must still go out
            institution = ""
        return refusal(code, institution=institution, language=self.language.value, date=sip2_datetime(utc_now()),
                       message=say(self.language, reason), request=request)
