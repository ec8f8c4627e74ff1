"""The demo library as a sequence of tables, in the order they can be loaded (referenced tables first).

Each table's rows are a generator: consume a table's rows completely before asking for the next table, because
later tables are made from what earlier ones left behind (a loan needs its item, a hold its record's copies).
Everything comes from random.Random streams seeded from the seed and a table's name, and every date and time from
the reference date, so the same seed and reference date give the same rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from . import places
from .calendars import LibraryCalendar
from .catalogue import BIB_COLUMNS, Catalogue
from .circulation import HOLD_COLUMNS, LOAN_COLUMNS, Circulation
from .holdings import ITEM_COLUMNS, Holdings
from .people import PATRON_COLUMNS, PERSONAL_COLUMNS, People
from .rules import (RuleBook, circulation_rule_rows, circulation_rules, material_type_rows,
                    patron_category_rows)
from .tiers import Tier, tier_named


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Iterator[tuple]
    expected_rows: int | None  # for a progress bar; None for the small tables


class TableOrderError(RuntimeError):
    """A table was asked for before the rows of the previous one were all consumed."""


class DemoLibrary:
    def __init__(self, *, tier: str | Tier = "demo", seed: int = 2024, reference_date: datetime.date,
                 max_rows: int | None = None) -> None:
        """max_rows cuts every table short after that many rows (for quick checks of a large tier); later tables
        then only refer to the rows that were made."""
        self.tier = tier if isinstance(tier, Tier) else tier_named(tier)
        self.seed = seed
        self.reference_date = reference_date
        self.max_rows = max_rows
        self.points = places.service_points(self.tier.extra_branches)
        self.calendar = LibraryCalendar(self.points, reference_date)
        self.rules = circulation_rules(self.points)
        self.rule_book = RuleBook(self.rules)
        self.shelf_ids = places.shelf_ids(self.points)
        self.catalogue = Catalogue(self.tier, seed, reference_date, max_rows)
        self.holdings = Holdings(self.catalogue, self.points, self.shelf_ids, seed, reference_date, max_rows)
        self.people = People(self.tier, self.points, seed, reference_date, max_rows)
        self.circulation = Circulation(self.tier, seed, reference_date, max_rows, self.points, self.calendar,
                                       self.rule_book, self.catalogue, self.holdings, self.people)
        self._unfinished: str | None = None

    @property
    def showcase_patron_cards(self) -> list[str]:
        """Cards of the patrons meant to be logged in as in a demonstration (they get web passwords)."""
        return self.people.showcase_cards()

    def _limited(self, count: int) -> int:
        return count if self.max_rows is None else min(count, self.max_rows)

    def _guard(self, name: str, rows) -> Iterator[tuple]:
        self._unfinished = name
        yield from rows
        self._unfinished = None

    def _table(self, name: str, columns: tuple[str, ...], rows, expected_rows: int | None = None) -> Table:
        if self._unfinished is not None:
            raise TableOrderError(f"the rows of table {self._unfinished} were not all consumed before table {name}")
        return Table(name, columns, self._guard(name, rows), expected_rows)

    def tables(self) -> Iterator[Table]:
        points, calendar, tier = self.points, self.calendar, self.tier
        yield self._table("service_point", ("id", "code", "name_ja", "name_en", "kind", "address", "phone",
                                            "is_pickup_point", "is_active", "sort_order"),
                          places.service_point_rows(points))
        yield self._table("bookmobile_station", ("id", "service_point_id", "code", "name_ja", "address"),
                          places.bookmobile_station_rows())
        yield self._table("bookmobile_stop", ("id", "station_id", "iso_weekday", "week_of_month", "arrives_at",
                                              "departs_at"), places.bookmobile_stop_rows())
        yield self._table("shelf_location", ("id", "service_point_id", "code", "name_ja", "name_en", "is_open_shelf"),
                          places.shelf_location_rows(points))
        yield self._table("calendar_weekly_closure", ("service_point_id", "iso_weekday"),
                          calendar.weekly_closure_rows())
        yield self._table("calendar_annual_closure", ("id", "service_point_id", "from_month", "from_day", "to_month",
                                                      "to_day", "reason"), calendar.annual_closure_rows())
        yield self._table("calendar_closed_day", ("service_point_id", "closed_on", "kind", "reason"),
                          calendar.closed_day_rows())
        yield self._table("calendar_open_day", ("service_point_id", "opened_on", "reason"), calendar.open_day_rows())
        yield self._table("patron_category", ("code", "name_ja", "name_en", "is_group", "card_years"),
                          patron_category_rows())
        yield self._table("material_type", ("code", "name_ja", "name_en", "sort_order"), material_type_rows())
        yield self._table("circulation_rule", ("id", "service_point_id", "patron_category", "material_type",
                                               "loan_days", "max_items_of_type", "max_items_total", "max_renewals",
                                               "holds_allowed", "max_holds", "hold_pickup_days"),
                          circulation_rule_rows(self.rules))
        yield self._table("vendor", ("id", "code", "name", "order_format", "email"), places.vendor_rows())
        yield self._table("budget", ("fiscal_year", "service_point_id", "fund", "amount_yen"),
                          places.budget_rows(points, self.reference_date))
        yield self._table("bib", BIB_COLUMNS, self.catalogue.bib_rows(), self._limited(tier.bibs))
        yield self._table("item", ITEM_COLUMNS, self.holdings.item_rows(), self._limited(tier.items))
        yield self._table("patron", PATRON_COLUMNS, self.people.patron_rows(), self._limited(tier.patrons))
        yield self._table("patron_personal", PERSONAL_COLUMNS, self.people.personal_rows(),
                          self._limited(tier.patrons))
        yield self._table("loan", LOAN_COLUMNS, self.circulation.loan_rows(),
                          self._limited(tier.loan_history) + self._limited(tier.open_loans))
        yield self._table("hold", HOLD_COLUMNS, self.circulation.hold_rows(), self._limited(tier.active_holds))
