"""Asking the engine for a decision, and turning a refusal into the one error the service maps to HTTP."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec

from shoka.errors import ShokaError

_encoder = msgspec.json.Encoder()

# Another patron's loan or hold is "not found" for the asker: its existence is none of their business.
NOT_FOUND_CODES = frozenset({"unknown_patron", "unknown_item", "unknown_hold", "not_your_loan", "not_your_hold"})
CONFLICT_CODES = frozenset({"already_on_loan", "already_on_loan_to_patron", "on_hold_for_another",
                            "reserved_for_others", "not_on_loan", "renewal_blocked_by_hold", "hold_exists",
                            "already_borrowed", "hold_not_waiting"})


class CirculationRefused(ShokaError):
    """The engine refused: 404 for an unknown card/copy/hold, 409 for the state of a copy or hold, 422 for a
    block on the patron or a rule. The message is the Japanese sentence the counter shows."""

    def __init__(self, refusal: dict[str, Any]) -> None:
        super().__init__(refusal["message_ja"], code=refusal["code"])
        self.refusal = refusal
        self.message_en = refusal.get("message_en", "")
        if self.code in NOT_FOUND_CODES:
            self.status_code = HTTPStatus.NOT_FOUND
        elif self.code in CONFLICT_CODES:
            self.status_code = HTTPStatus.CONFLICT
        else:
            self.status_code = HTTPStatus.UNPROCESSABLE_ENTITY


def _answer(raw: bytes) -> dict[str, Any]:
    answer = msgspec.json.decode(raw)
    if not answer["ok"]:
        raise CirculationRefused(answer["refusal"])
    return answer["decision"]


async def decide(engine, method: str, request: dict[str, Any]) -> dict[str, Any]:
    """One engine decision; raises CirculationRefused. Called on the event loop: a decision takes microseconds,
    less than handing it to a worker thread would cost."""
    return _answer(getattr(engine, method)(_encoder.encode(request)))
