"""How big each demo library is: the demo tier, and the S and L tiers of REQUIREMENTS.md ("Scale tiers")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    bibs: int
    items: int
    patrons: int
    open_loans: int
    loan_history: int
    active_holds: int
    extra_branches: int  # generated consortium members beyond Ichikawa's 16 service points and the bookmobile

    def __post_init__(self) -> None:
        if self.items < self.bibs // 2 or self.open_loans > self.items // 4:
            raise ValueError(f"tier {self.name}: counts do not fit together")


TIERS: dict[str, Tier] = {
    "demo": Tier("demo", bibs=20_000, items=32_000, patrons=2_000, open_loans=600, loan_history=20_000,
                 active_holds=200, extra_branches=0),
    "S": Tier("S", bibs=300_000, items=400_000, patrons=60_000, open_loans=20_000, loan_history=1_000_000,
              active_holds=2_000, extra_branches=0),
    "L": Tier("L", bibs=3_000_000, items=5_000_000, patrons=600_000, open_loans=200_000, loan_history=10_000_000,
              active_holds=20_000, extra_branches=24),
}


class UnknownTier(ValueError):
    """The tier name is not one of TIERS; the message lists the known ones."""


def tier_named(name: str) -> Tier:
    try:
        return TIERS[name]
    except KeyError:
        raise UnknownTier(f"unknown demo tier {name!r}: choose one of {', '.join(TIERS)}") from None
