"""The SIP2 codes Shoka answers with: supported messages (BX), the 14 patron status flags, item circulation
status, and the magnetic-media flag, each derived from the engine's views rather than fixed."""

from __future__ import annotations

from typing import Any

# The order of the 16 BX flags (SIP2.md) and which of those messages Shoka serves.
BX_ORDER = ("23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65")
SUPPORTED = frozenset({"23", "11", "09", "99", "97", "93", "63", "35", "17", "29"})
# Before login a terminal may only log in, or ask the status (which then says so).
BEFORE_LOGIN = frozenset({"93", "99"})


def supported_messages(supported: frozenset[str] = SUPPORTED) -> str:
    return "".join("Y" if code in supported else "N" for code in BX_ORDER)


# Positions of the patron status flags (SIP2.md), `Y` = denied.
CHARGE, RENEW, RECALL, HOLD, CARD_LOST, TOO_MANY_CHARGED, TOO_MANY_OVERDUE = range(7)
PATRON_STATUS_LENGTH = 14
# Blocks that stop a patron from borrowing, renewing and reserving alike (the card itself is not usable).
CARD_BLOCKS = frozenset({"card_lost", "patron_suspended", "patron_merged", "card_expired", "card_replaced"})
UNKNOWN_PATRON_STATUS = "YYYY" + " " * 10


def patron_status(summary: dict[str, Any]) -> str:
    """The 14 flags from the engine's patron summary: its blocks say what a checkout would refuse now."""
    flags = [" "] * PATRON_STATUS_LENGTH
    for block in summary.get("blocks", []):
        code = block.get("code", "")
        flags[CHARGE] = "Y"
        if code in CARD_BLOCKS:
            flags[RENEW] = flags[HOLD] = "Y"
        if code == "card_lost":
            flags[CARD_LOST] = "Y"
        elif code == "overdue_block":
            flags[TOO_MANY_OVERDUE] = "Y"
        elif code in ("limit_reached", "type_limit_reached"):
            flags[TOO_MANY_CHARGED] = "Y"
    return "".join(flags)


# Item circulation status (18): 01 other, 03 available, 04 charged, 08 waiting on hold shelf,
# 10 in transit, 12 lost, 13 missing.
OTHER, AVAILABLE, CHARGED, ON_HOLD_SHELF, IN_TRANSIT, LOST, MISSING = "01", "03", "04", "08", "10", "12", "13"


def circulation_status(item: dict[str, Any]) -> str:
    state = (item.get("circulation") or {}).get("state")
    if state == "on_loan":
        return CHARGED
    if state == "on_hold_shelf":
        return ON_HOLD_SHELF
    if state == "in_transit":
        return IN_TRANSIT
    status = item.get("status")
    if status == "lost":
        return LOST
    if status == "missing":
        return MISSING
    if status == "available":
        return AVAILABLE
    return OTHER  # being processed, damaged, withdrawn


def magnetic_media(material_type: str | None) -> str:
    """Y for audio-visual material (the SC must not use a magnetic desensitiser on it), U when unknown."""
    if material_type is None:
        return "U"
    return "Y" if material_type.startswith("av_") else "N"
