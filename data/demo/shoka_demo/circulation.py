"""Loans (open ones and the returned history) and holds, consistent with each other and with the rules.

Open loans are planned first: each is a visit of a patron with a valid card to a branch that borrows a few loanable
copies there, within the rules' limits, due on an open day; about one in seven is overdue. Holds come next:
waiting holds only on records whose every loanable copy is out (otherwise the library would already have set a
copy aside), and ready holds with a copy trapped on the hold shelf of the branch that owns it, no copy on loan.
The returned history is then streamed in date order, never overlapping another loan or a trap of the same copy.
Everything happens by the day before the reference date, so that nothing lies in the future when the demo is
loaded early on the reference day.
Loan history keeps the patron only for patrons who keep a reading record (読書記録); the statistics columns are
always filled.
"""

from __future__ import annotations

import datetime
import random
from array import array

from .calendars import LibraryCalendar
from .catalogue import Catalogue
from .holdings import LOANABLE, MATERIAL_CODES, UNAVAILABLE, Holdings
from .people import AGE_BANDS, CATEGORIES, People
from .places import ServicePoint
from .rules import RuleBook
from .tiers import Tier
from .timestamps import at_local_time, date_of, day_number

LOAN_COLUMNS = ("id", "item_id", "patron_id", "service_point_id", "checked_out_at", "due_on", "renewals",
                "returned_at", "return_service_point_id", "patron_category", "patron_age_band", "material_type",
                "ndc_class")
HOLD_COLUMNS = ("id", "patron_id", "bib_id", "item_id", "pickup_service_point_id", "placed_at", "placed_via",
                "status", "trapped_item_id", "ready_at", "pickup_by", "closed_at", "cancel_reason", "not_before")

NEVER = 0xFFFF
HISTORY_YEARS = 5
BASKET_SIZES = ((1, 20), (2, 25), (3, 20), (4, 12), (5, 10), (6, 6), (8, 5), (10, 2))


class Circulation:
    def __init__(self, tier: Tier, seed: int, reference_date: datetime.date, max_rows: int | None,
                 points: list[ServicePoint], calendar: LibraryCalendar, rules: RuleBook, catalogue: Catalogue,
                 holdings: Holdings, people: People) -> None:
        self.reference_date = reference_date
        self.today = day_number(reference_date)
        self.points = {point.id: point for point in points}
        self.central_id = next(point.id for point in points if point.kind == "central")
        self.calendar = calendar
        self.rules = rules
        self.catalogue = catalogue
        self.holdings = holdings
        self.people = people
        self.seed = seed
        limit = (lambda count: count) if max_rows is None else (lambda count: min(count, max_rows))
        self.open_target = limit(tier.open_loans)
        self.hold_target = limit(tier.active_holds)
        self.history_target = limit(tier.loan_history)
        self.open_loans: list[tuple] = []
        self.holds: list[tuple] = []
        self._planned = False

    # Shared state ------------------------------------------------------------------------------------------------
    def _prepare(self) -> None:
        item_count = len(self.holdings.bib)
        patron_count = len(self.people.category)
        self.loan_patron = array("I", bytes(4 * item_count))
        self.busy_from = array("H", [NEVER]) * item_count
        self.patron_loans = array("H", bytes(2 * patron_count))
        self.patron_holds = array("B", bytes(patron_count))
        self.type_loans: dict[tuple[int, int], int] = {}
        self.held_bibs: dict[int, set[int]] = {}
        rng = random.Random(f"{self.seed}:lost")
        for index, state in enumerate(self.holdings.state):
            if state == UNAVAILABLE:  # lost or missing since some day in the last two years
                self.busy_from[index] = self.today - rng.randrange(30, 700)

    def _rule(self, service_point_id: int, patron_index: int, material: int):
        return self.rules.rule_for(service_point_id, CATEGORIES[self.people.category[patron_index]],
                                   MATERIAL_CODES[material])

    def _random_valid_patron(self, rng: random.Random) -> int:
        people = self.people
        for _ in range(200):
            index = rng.randrange(len(people.category))
            if people.valid[index]:
                return index
        raise ValueError("no patron with a valid card to lend to")

    def _stat_columns(self, patron_index: int, item_index: int) -> tuple[str, str, str, str]:
        catalogue = self.catalogue
        return (CATEGORIES[self.people.category[patron_index]], AGE_BANDS[self.people.band[patron_index]],
                MATERIAL_CODES[self.holdings.material[item_index]],
                catalogue.ndc_class_of(self.holdings.bib[item_index] - 1))

    # Open loans --------------------------------------------------------------------------------------------------
    def _visit_branch(self, rng: random.Random, patron_index: int) -> int:
        home = self.people.home[patron_index]
        if rng.random() < 0.85 and len(self.holdings.loanable_at.get(home, ())) > 0:
            return home
        candidates = [point_id for point_id, items in self.holdings.loanable_at.items() if len(items) > 0]
        return candidates[rng.randrange(len(candidates))] if rng.random() < 0.5 else self.central_id

    def _basket(self, rng: random.Random, patron_index: int, *, overdue: bool | None = None,
                size: int | None = None) -> None:
        people, holdings, calendar = self.people, self.holdings, self.calendar
        branch = self._visit_branch(rng, patron_index)
        category = CATEGORIES[people.category[patron_index]]
        loan_days = self.rules.rule_for(branch, category, "book").loan_days
        if overdue is None:
            overdue = rng.random() < 0.15
        if overdue:
            day = self.reference_date - datetime.timedelta(days=loan_days + rng.randint(1, 120))
        else:
            day = self.reference_date - datetime.timedelta(days=1 + rng.randrange(max(loan_days - 1, 1)))
        day = calendar.previous_open(branch, day)
        if day_number(day) <= people.registered[patron_index]:
            return
        if size is None:
            size = rng.randint(10, 40) if category == "group" else rng.choices(
                [size for size, _ in BASKET_SIZES], [weight for _, weight in BASKET_SIZES])[0]
        size = min(size, self.rules.max_total(category) - self.patron_loans[patron_index],
                   self.open_target - len(self.open_loans))
        shelf = holdings.loanable_at[branch]
        checked_out_at = at_local_time(day, rng.randint(10, 18), rng.randrange(60))
        day_index = day_number(day)
        borrowed = 0
        for _ in range(size * 8):
            if borrowed >= size:
                break
            item_index = shelf[rng.randrange(len(shelf))] - 1
            if self.loan_patron[item_index] or self.busy_from[item_index] != NEVER:
                continue
            acquired = holdings.acquired[item_index]
            if acquired >= day_index:
                continue
            age = day_index - acquired
            if rng.random() > (1.0 if age < 730 else 0.5 if age < 1825 else 0.25):
                continue
            material = holdings.material[item_index]
            rule = self._rule(branch, patron_index, material)
            type_key = (patron_index, material)
            if rule.loan_days == 0 or self.type_loans.get(type_key, 0) >= rule.max_items_of_type:
                continue
            renewals = 0
            due = calendar.next_open(branch, day + datetime.timedelta(days=rule.loan_days))
            if rule.max_renewals and rng.random() < 0.15 and not overdue:
                renewed_on = day + datetime.timedelta(days=rng.randint(1, rule.loan_days))
                if renewed_on <= self.reference_date:
                    renewals = 1
                    due = calendar.next_open(branch, renewed_on + datetime.timedelta(days=rule.loan_days))
            self.loan_patron[item_index] = patron_index + 1
            self.busy_from[item_index] = day_index
            self.patron_loans[patron_index] += 1
            self.type_loans[type_key] = self.type_loans.get(type_key, 0) + 1
            borrowed += 1
            self.open_loans.append((item_index + 1, patron_index + 1, branch, checked_out_at, due, renewals, None,
                                    None, *self._stat_columns(patron_index, item_index)))

    def _plan_open_loans(self, rng: random.Random) -> None:
        people = self.people
        showcase = [(0, True, 1), (0, False, 3), (1, False, 2)]
        for patron_index, overdue, size in showcase:
            if patron_index < len(people.category) and people.valid[patron_index]:
                self._basket(rng, patron_index, overdue=overdue, size=size)
        attempts = 0
        while len(self.open_loans) < self.open_target and attempts < self.open_target * 20:
            attempts += 1
            patron_index = self._random_valid_patron(rng)
            if people.category[patron_index] == CATEGORIES.index("partner") and rng.random() < 0.5:
                continue
            self._basket(rng, patron_index)

    # Holds -------------------------------------------------------------------------------------------------------
    def _can_hold(self, patron_index: int, bib_id: int, pickup: int, material: int) -> bool:
        people = self.people
        if not people.valid[patron_index] or bib_id in self.held_bibs.get(patron_index, ()):
            return False
        rule = self._rule(pickup, patron_index, material)
        if not rule.holds_allowed or self.patron_holds[patron_index] >= rule.max_holds:
            return False
        holdings = self.holdings
        first = holdings.first_item[bib_id - 1]
        for item_id in range(first, first + holdings.copies[bib_id - 1]):
            if self.loan_patron[item_id - 1] == patron_index + 1:
                return False
        return True

    def _pickup_for(self, patron_index: int) -> int:
        home = self.points[self.people.home[patron_index]]
        return home.id if home.is_pickup_point else self.central_id

    def _add_hold(self, patron_index: int, bib_id: int, pickup: int, placed_at: datetime.datetime, via: str,
                  status: str, trapped: int | None, ready_at, pickup_by, not_before) -> None:
        self.patron_holds[patron_index] += 1
        self.held_bibs.setdefault(patron_index, set()).add(bib_id)
        self.holds.append((patron_index + 1, bib_id, None, pickup, placed_at, via, status, trapped, ready_at,
                           pickup_by, None, None, not_before))

    def _placed_at(self, rng: random.Random, day: datetime.date) -> tuple[datetime.datetime, str]:
        if rng.random() < 0.65:
            return at_local_time(day, rng.randrange(24), rng.randrange(60), rng.randrange(60)), "opac"
        return at_local_time(day, rng.randint(10, 18), rng.randrange(60), rng.randrange(60)), "desk"

    def _plan_ready_holds(self, rng: random.Random, target: int) -> None:
        holdings, calendar = self.holdings, self.calendar
        pickup_points = [point_id for point_id, items in holdings.loanable_at.items()
                         if len(items) > 0 and self.points[point_id].is_pickup_point]
        made, attempts = 0, 0
        showcase = len(self.people.valid) > 0 and self.people.valid[0] and self._pickup_for(0) in pickup_points
        while made < target and attempts < target * 50 and pickup_points:
            attempts += 1
            if showcase and made == 0:
                pickup, patron_index = self._pickup_for(0), 0
            else:
                pickup = pickup_points[rng.randrange(len(pickup_points))]
                neighbours = self.people.valid_by_home[pickup]
                patron_index = (neighbours[rng.randrange(len(neighbours))] if neighbours and rng.random() < 0.7
                                else self._random_valid_patron(rng))
            shelf = holdings.loanable_at[pickup]
            item_index = shelf[rng.randrange(len(shelf))] - 1
            bib_id = holdings.bib[item_index]
            ready_day = calendar.previous_open(
                pickup, self.reference_date - datetime.timedelta(days=1 + rng.randrange(6)))
            if (self.loan_patron[item_index] or self.busy_from[item_index] != NEVER or bib_id in self._bibs_with_holds
                    or holdings.acquired[item_index] >= day_number(ready_day) - 3):
                continue
            material = holdings.material[item_index]
            if not self._can_hold(patron_index, bib_id, pickup, material):
                continue
            rule = self._rule(pickup, patron_index, material)
            placed_at, via = self._placed_at(rng, ready_day - datetime.timedelta(days=rng.randrange(3)))
            ready_at = at_local_time(ready_day, 9, 30 + rng.randrange(30))
            placed_at = min(placed_at, ready_at - datetime.timedelta(minutes=5))
            pickup_by = calendar.next_open(pickup, ready_day + datetime.timedelta(days=rule.hold_pickup_days))
            self.busy_from[item_index] = day_number(ready_day)
            self._bibs_with_holds.add(bib_id)
            self._add_hold(patron_index, bib_id, pickup, placed_at, via, "ready", item_index + 1, ready_at,
                           pickup_by, None)
            made += 1

    def _plan_waiting_holds(self, rng: random.Random, target: int) -> None:
        holdings = self.holdings
        order = list(range(len(self.open_loans)))
        rng.shuffle(order)
        made = 0
        showcase_pending = bool(len(self.people.valid)) and bool(self.people.valid[0])
        for loan_index in order:
            if made >= target:
                return
            item_id = self.open_loans[loan_index][0]
            bib_id = holdings.bib[item_id - 1]
            if bib_id in self._bibs_with_holds:
                continue
            first = holdings.first_item[bib_id - 1]
            copies = range(first, first + holdings.copies[bib_id - 1])
            if any(holdings.state[copy - 1] == LOANABLE and not self.loan_patron[copy - 1] for copy in copies):
                continue
            latest_checkout = max(self.busy_from[copy - 1] for copy in copies if self.loan_patron[copy - 1])
            self._bibs_with_holds.add(bib_id)
            queue = min(1 + int(rng.expovariate(1 / 1.5)), 8, target - made)
            placed = []
            for position in range(queue * 4):
                if len(placed) >= queue:
                    break
                patron_index = 0 if showcase_pending and position == 0 else self._random_valid_patron(rng)
                pickup = self._pickup_for(patron_index)
                if not self._can_hold(patron_index, bib_id, pickup, holdings.material[item_id - 1]):
                    continue
                day = date_of(latest_checkout + rng.randrange(max(self.today - latest_checkout, 1)))
                placed_at, via = self._placed_at(rng, day)
                if day_number(day) == latest_checkout:  # after the last copy went out that day: in the evening
                    placed_at, via = at_local_time(day, 20 + rng.randrange(4), rng.randrange(60)), "opac"
                not_before = (self.reference_date + datetime.timedelta(days=rng.randint(3, 20))
                              if rng.random() < 0.02 else None)
                self._add_hold(patron_index, bib_id, pickup, placed_at, via, "waiting", None, None, None, not_before)
                placed.append(patron_index)
                showcase_pending = showcase_pending and patron_index != 0
            made += len(placed)

    def _plan(self) -> None:
        if self._planned:
            return
        self._planned = True
        self._prepare()
        rng = random.Random(f"{self.seed}:circulation")
        self._plan_open_loans(rng)
        self._bibs_with_holds: set[int] = set()
        ready_target = max(1, self.hold_target * 3 // 20) if self.hold_target else 0
        self._plan_ready_holds(rng, ready_target)
        self._plan_waiting_holds(rng, self.hold_target - len(self.holds))
        self.holds.sort(key=lambda hold: (hold[4], hold[0]))  # ids in the order the holds were placed

    # History -----------------------------------------------------------------------------------------------------
    def _history(self):
        rng = random.Random(f"{self.seed}:history")
        if not len(self.holdings.bib) or not len(self.people.category):
            return
        last_return = array("H", bytes(2 * len(self.holdings.bib)))
        start = self.today - HISTORY_YEARS * 365
        span = self.today - 10 - start  # the last checkouts of the history were returned by today
        for slot in range(self.history_target):
            day_index = start + slot * span // max(self.history_target, 1)
            row = None
            while row is None and day_index < self.today:
                row = self._history_row(rng, day_index, last_return)
                day_index += 7  # nothing fitted on this day: try a week later
            if row is None:
                return
            yield row

    def _history_row(self, rng: random.Random, day_index: int, last_return: array) -> tuple | None:
        holdings, people, calendar = self.holdings, self.people, self.calendar
        item_count, patron_count = len(holdings.bib), len(people.category)
        for _ in range(100):
            item_index = rng.randrange(item_count)
            state = holdings.state[item_index]
            if state != LOANABLE and state != UNAVAILABLE:
                continue
            acquired = holdings.acquired[item_index]
            if acquired >= day_index or last_return[item_index] > day_index:
                continue
            age = day_index - acquired
            if rng.random() > (1.0 if age < 730 else 0.45 if age < 1825 else 0.2):
                continue
            branch = holdings.service_point[item_index]
            day = calendar.previous_open(branch, date_of(day_index))
            if day_number(day) <= acquired or day_number(day) <= last_return[item_index]:
                continue
            patron_index = rng.randrange(patron_count)
            material = holdings.material[item_index]
            rule = self._rule(branch, patron_index, material)
            if rule.loan_days == 0 or rule.max_items_of_type == 0:
                continue
            due = calendar.next_open(branch, day + datetime.timedelta(days=rule.loan_days))
            renewals = 0
            if rule.max_renewals and rng.random() < 0.1:
                renewals = 1
                due = calendar.next_open(branch, due + datetime.timedelta(days=rule.loan_days - 3))
            kept = (due - day).days
            returned_after = rng.randint(1, kept) if rng.random() < 0.9 else kept + rng.randint(1, 40)
            return_branch = branch if rng.random() < 0.8 else people.home[patron_index]
            if not holdings.loanable_at.get(return_branch) and self.points[return_branch].kind != "room":
                return_branch = branch
            returned = calendar.next_open(return_branch, day + datetime.timedelta(days=returned_after))
            returned_index = day_number(returned)
            if returned_index >= self.today or returned_index >= self.busy_from[item_index]:
                continue
            last_return[item_index] = returned_index
            linked = people.keeps_record[patron_index] and people.registered[patron_index] < day_number(day)
            checked_out_at = at_local_time(day, rng.randint(10, 18), rng.randrange(60), rng.randrange(60))
            returned_at = at_local_time(returned, rng.randint(9, 19), rng.randrange(60), rng.randrange(60))
            return (item_index + 1, patron_index + 1 if linked else None, branch, checked_out_at, due, renewals,
                    returned_at, return_branch, *self._stat_columns(patron_index, item_index))
        return None

    # Rows --------------------------------------------------------------------------------------------------------
    def loan_rows(self):
        """The returned history first, in date order, then the open loans; ids follow that order."""
        self._plan()
        loan_id = 0
        for row in self._history():
            loan_id += 1
            yield (loan_id, *row)
        for row in self.open_loans:
            loan_id += 1
            yield (loan_id, *row)

    def hold_rows(self):
        self._plan()
        for hold_id, row in enumerate(self.holds, start=1):
            yield (hold_id, *row)
