"""The shapes of a federated answer: one record as a library gave it, each library's outcome, and the
merged list (GET /api/v1/federated returns `FederatedAnswer` as JSON)."""

from __future__ import annotations

from typing import Literal

import msgspec

LibraryStatus = Literal["ok", "timeout", "error"]
LibraryProtocol = Literal["local", "sru", "shoka"]
# The engine's availability codes, plus "unknown" for peers that do not say (most SRU servers).
AvailabilityCode = Literal["available", "in_library_only", "on_loan", "reserved", "in_transit", "in_preparation",
                           "missing", "no_holding", "unknown"]

AVAILABILITY_LABELS: dict[str, dict[str, str]] = {
    "available": {"ja": "貸出可", "en": "Available"},
    "in_library_only": {"ja": "館内のみ", "en": "Library use only"},
    "on_loan": {"ja": "貸出中", "en": "On loan"},
    "reserved": {"ja": "予約中", "en": "Reserved"},
    "in_transit": {"ja": "回送中", "en": "In transit"},
    "in_preparation": {"ja": "準備中", "en": "Being prepared"},
    "missing": {"ja": "所在不明", "en": "Missing"},
    "no_holding": {"ja": "蔵書なし", "en": "Not held"},
    "unknown": {"ja": "所蔵状況不明", "en": "Availability unknown"},
}
# Best first: a record's summary is the best state among its branches.
_AVAILABILITY_ORDER = ["available", "in_library_only", "reserved", "on_loan", "in_transit", "in_preparation",
                       "missing", "no_holding"]


class BranchAvailabilityOut(msgspec.Struct, frozen=True):
    branch: str
    status: str
    label: str
    copies: int = 0
    available_copies: int = 0


class SourceOut(msgspec.Struct, frozen=True):
    """Where one library holds a merged record."""

    library: str
    protocol: LibraryProtocol
    record_id: str
    bib_id: int | None
    url: str | None
    availability: AvailabilityCode
    availability_label: str
    branches: list[BranchAvailabilityOut] = []


class LibraryRecord(msgspec.Struct, frozen=True):
    """One record as one library answered it, before merging."""

    title: str
    authors: list[str]
    year: int | None
    isbns: list[str]  # ISBN-13, normalised
    source: SourceOut


class MergedRecordOut(msgspec.Struct, frozen=True):
    title: str
    authors: list[str]
    year: int | None
    isbn: str | None
    sources: list[SourceOut]


class LibraryOutcome(msgspec.Struct, frozen=True):
    name: str
    protocol: LibraryProtocol
    status: LibraryStatus
    message: str
    hits: int
    total: int | None
    elapsed_ms: int
    time_limit_ms: int


class FederatedAnswer(msgspec.Struct, frozen=True):
    query: str
    libraries: list[LibraryOutcome]
    merged: list[MergedRecordOut]
    elapsed_ms: int

    @property
    def failed_libraries(self) -> list[LibraryOutcome]:
        return [library for library in self.libraries if library.status != "ok"]


def summarise_availability(statuses: list[str]) -> AvailabilityCode:
    """The best state among a record's branches; no branches means the library holds no copy."""
    known = [status for status in statuses if status in _AVAILABILITY_ORDER]
    if not known:
        return "no_holding"
    return min(known, key=_AVAILABILITY_ORDER.index)  # type: ignore[return-value]


def availability_label(code: str, language: str = "ja") -> str:
    labels = AVAILABILITY_LABELS.get(code, AVAILABILITY_LABELS["unknown"])
    return labels["en" if language == "en" else "ja"]
