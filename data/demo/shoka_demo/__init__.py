"""Shoka's demo library: a deterministic generator of a Japanese public library's data.

Ichikawa's 16 service points and a bookmobile, their calendars and circulation rules, a catalogue of Japanese
records with NDL-style readings, copies, patrons, loans and holds. Tiers: "demo" (about 20,000 records), "S" and
"L" (REQUIREMENTS.md, "Scale tiers"). The same seed and reference date always give the same rows.

    library = DemoLibrary(tier="demo", seed=2024, reference_date=datetime.date.today())
    for table in library.tables():
        for row in table.rows:  # tuples in the order of table.columns
            ...
"""

from __future__ import annotations

from .generator import DemoLibrary, Table, TableOrderError
from .identifiers import is_valid_isbn13
from .tiers import TIERS, Tier, UnknownTier, tier_named

__all__ = ["TIERS", "DemoLibrary", "Table", "TableOrderError", "Tier", "UnknownTier", "is_valid_isbn13",
           "tier_named"]
