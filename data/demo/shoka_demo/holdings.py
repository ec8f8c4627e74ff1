"""Items (table item): the copies of each record on the shelves of the service points, streamed.

One to three copies a record, more of popular kinds, the first often at the central library; magazines keep their
recent issues, the latest one for reading in the library only. The number of copies adapts as the stream goes so
that the tier's item count is met exactly. What circulation needs of an item is kept in compact arrays.
"""

from __future__ import annotations

import datetime
import random
from array import array

from . import vocabulary
from .catalogue import MARKS, Catalogue
from .genres import ALL_GENRES, Genre
from .identifiers import item_barcode
from .places import ServicePoint
from .rules import MATERIAL_TYPES
from .timestamps import at_local_time, date_of, day_number
from .titles import WeightedChoice

ITEM_COLUMNS = ("id", "barcode", "bib_id", "service_point_id", "shelf_location_id", "call_number", "volume",
                "material_type", "status", "loan_policy", "price_yen", "acquired_on", "note", "created_at",
                "updated_at")

MATERIAL_CODES = tuple(code for code, _ja, _en in MATERIAL_TYPES)
MATERIAL_INDEX = {code: index for index, code in enumerate(MATERIAL_CODES)}
NOT_CIRCULATING = frozenset(("reference", "e_text"))

# Item states as circulation sees them.
LOANABLE, IN_LIBRARY_ONLY, IN_PROCESS, UNAVAILABLE = 0, 1, 2, 3
SHELF_FALLBACK = {"picture": "children", "kamishibai": "children", "teen": "children", "largeprint": "general",
                  "local": "general", "reference": "general", "magazine": "general", "stacks": "general"}


class Holdings:
    def __init__(self, catalogue: Catalogue, points: list[ServicePoint], shelf_ids: dict[tuple[int, str], int],
                 seed: int, reference_date: datetime.date, max_rows: int | None) -> None:
        self.catalogue = catalogue
        self.points = points
        self.shelf_ids = shelf_ids
        self.reference_date = reference_date
        self.rng = random.Random(f"{seed}:item")
        target = catalogue.tier.items if max_rows is None else min(catalogue.tier.items, max_rows)
        self.target = target
        self.central_id = next(point.id for point in points if point.kind == "central")
        self._eligible: dict[str, WeightedChoice] = {}
        for shelf in {genre.shelf for genre in ALL_GENRES}:
            holding_points = [point for point in points if shelf in point.shelves and point.collection_share > 0]
            self._eligible[shelf] = WeightedChoice(holding_points, [point.collection_share for point in holding_points])
        # Per item, index = id - 1.
        self.bib = array("I")
        self.service_point = array("B")
        self.material = array("B")
        self.state = array("B")
        self.acquired = array("H")
        # Per record.
        self.first_item = array("I")
        self.copies = array("B")
        # Loanable items of each service point, for circulation to draw from.
        self.loanable_at: dict[int, array] = {point.id: array("I") for point in points}

    # Pieces ------------------------------------------------------------------------------------------------------
    def _call_number(self, genre: Genre, bib_index: int) -> str:
        if genre.key == "magazine":
            return ""
        catalogue = self.catalogue
        ndc = catalogue.ndc_of(bib_index)
        mark = MARKS[catalogue.mark[bib_index]]
        volume = catalogue.volume_values[catalogue.volume[bib_index]]
        prefix = genre.call_prefix
        if prefix in ("E", "K"):
            parts = [prefix, mark]
        elif prefix == "J":
            parts = [prefix, ndc.partition(".")[0], mark]
        elif prefix:
            parts = [prefix, ndc, mark]
        else:
            parts = [ndc, mark]
        if volume:
            parts.append(volume)
        return "/".join(parts)

    def _shelf(self, point: ServicePoint, genre: Genre, year: int) -> int | None:
        shelf = genre.shelf
        if shelf == "general" and 0 < year <= 1995 and "stacks" in point.shelves and self.rng.random() < 0.35:
            shelf = "stacks"
        while shelf not in point.shelves:
            if shelf not in SHELF_FALLBACK:
                return None
            shelf = SHELF_FALLBACK[shelf]
        return self.shelf_ids[(point.id, shelf)]

    def _places_for(self, genre: Genre, copies: int) -> list[ServicePoint]:
        choice = self._eligible[genre.shelf]
        if not choice.population:
            choice = self._eligible["general"]
        chosen: list[ServicePoint] = []
        central = next((point for point in choice.population if point.id == self.central_id), None)
        if central is not None and self.rng.random() < 0.4:
            chosen.append(central)
        attempts = 0
        while len(chosen) < copies:
            point = choice.pick(self.rng)
            attempts += 1
            if point not in chosen or attempts > 8:
                chosen.append(point)
        return chosen

    def _extra_copies(self, genre: Genre, remaining_items: int, remaining_records: int) -> int:
        average_extra = max(0.0, (remaining_items - remaining_records) / max(remaining_records, 1))
        wanted = min(1.3, average_extra * genre.copies_factor)
        roll = self.rng.random()
        extra = 2 if roll < wanted * 0.25 else 1 if roll < wanted * 0.75 else 0
        most = remaining_items - remaining_records
        least = most - 2 * (remaining_records - 1)
        return max(least, min(extra, most, 2))

    def _status(self, acquired: datetime.date, material_type: str) -> tuple[str, str, int, str]:
        """status, loan policy, circulation state and note of one copy."""
        rng = self.rng
        if (self.reference_date - acquired).days <= 7 and rng.random() < 0.25:
            return "in_process", "normal", IN_PROCESS, "装備中"
        if material_type in NOT_CIRCULATING:
            return "available", "in_library_only", IN_LIBRARY_ONLY, ""
        roll = rng.random()
        if (self.reference_date - acquired).days > 365:
            if roll < 0.004:
                return "lost", "normal", UNAVAILABLE, "利用者紛失届あり"
            if roll < 0.006:
                return "missing", "normal", UNAVAILABLE, "蔵書点検で所在不明"
            if roll < 0.007:
                return "damaged", "normal", UNAVAILABLE, "汚損のため修理中"
        return "available", "normal", LOANABLE, ""

    def _append(self, item_id: int, bib_index: int, point: ServicePoint, material_type: str, state: int,
                acquired: datetime.date) -> None:
        self.bib.append(bib_index + 1)
        self.service_point.append(point.id)
        self.material.append(MATERIAL_INDEX[material_type])
        self.state.append(state)
        self.acquired.append(day_number(acquired))
        if state == LOANABLE:
            self.loanable_at[point.id].append(item_id)

    # Magazines ---------------------------------------------------------------------------------------------------
    def _issues(self, issues_per_year: int, count: int) -> list[tuple[datetime.date, str]]:
        reference = self.reference_date
        issues = []
        if issues_per_year >= 52:
            day = reference - datetime.timedelta(days=(reference.isoweekday() - 2) % 7)
            for _ in range(count):
                issues.append((day, f"{day.year}年{day.month}月{day.day}日号"))
                day -= datetime.timedelta(days=7)
            return issues
        months = 12 // min(issues_per_year, 12)
        year, month = reference.year, reference.month
        while len(issues) < count:
            if (month - 1) % months == 0:
                label = f"{year}年{month}月号" if months == 1 else f"{year}年{month}-{month + months - 1}月号"
                issues.append((datetime.date(year, month, 1) - datetime.timedelta(days=8), label))
            month -= 1
            if month == 0:
                year, month = year - 1, 12
        return issues

    def _magazine_items(self, item_id: int, bib_index: int, genre: Genre, magazine: vocabulary.Magazine):
        subscribers = [point for point in self.points if "magazine" in point.shelves and (
            point.kind == "central" or self.rng.random() < (0.5 if magazine.for_children else 0.35))]
        for point in subscribers:
            keep = 12 if point.kind == "central" else 6
            for number, (acquired, label) in enumerate(self._issues(magazine.issues_per_year, keep)):
                if item_id >= self.target:
                    return
                acquired = min(acquired, self.reference_date)
                item_id += 1
                latest = number == 0
                self._append(item_id, bib_index, point, "magazine", IN_LIBRARY_ONLY if latest else LOANABLE, acquired)
                stamp = at_local_time(acquired, 10, item_id % 60)
                yield (item_id, item_barcode(point.id, item_id), bib_index + 1, point.id,
                       self.shelf_ids[(point.id, "magazine")], "", label, "magazine", "available",
                       "in_library_only" if latest else "normal", magazine.price_yen, acquired,
                       "最新号 (館内閲覧のみ)" if latest else "", stamp, stamp)

    # The items ---------------------------------------------------------------------------------------------------
    def item_rows(self):
        catalogue = self.catalogue
        magazines = iter(vocabulary.magazines())
        record_count = len(catalogue.genre)
        item_id = 0
        for bib_index in range(record_count):
            self.first_item.append(item_id + 1)
            genre = ALL_GENRES[catalogue.genre[bib_index]]
            if genre.key == "e_text" or item_id >= self.target:
                self.copies.append(0)
                if genre.key == "magazine":
                    next(magazines)
                continue
            if genre.key == "magazine":
                before = item_id
                for row in self._magazine_items(item_id, bib_index, genre, next(magazines)):
                    item_id = row[0]
                    yield row
                self.copies.append(min(item_id - before, 255))
                continue
            remaining_records = record_count - bib_index
            if genre.copies_factor >= 2.5:
                copies = min(self.rng.randint(2, 4), max(1, self.target - item_id - remaining_records + 1))
            else:
                copies = 1 + self._extra_copies(genre, self.target - item_id, remaining_records)
            copies = max(1, min(copies, self.target - item_id))
            self.copies.append(copies)
            material_type = MATERIAL_CODES[MATERIAL_INDEX[genre.material_type]]
            catalogued = date_of(catalogue.catalogued[bib_index])
            year = catalogue.year[bib_index]
            call_number = self._call_number(genre, bib_index)
            volume = catalogue.volume_values[catalogue.volume[bib_index]]
            price = catalogue.price_tens[bib_index] * 10
            for copy_number, point in enumerate(self._places_for(genre, copies)):
                item_id += 1
                acquired = catalogued
                if copy_number and self.rng.random() < 0.15:  # a replacement or an added copy, bought later
                    later = (self.reference_date - catalogued).days - 1
                    acquired = catalogued + datetime.timedelta(days=self.rng.randrange(max(later, 0) + 1))
                status, policy, state, note = self._status(acquired, material_type)
                if (genre.key in ("local",) and point.id == self.central_id and copy_number == 0
                        and state == LOANABLE):
                    policy, state, note = "in_library_only", IN_LIBRARY_ONLY, "郷土資料 保存用"
                elif state == LOANABLE and year and year <= 1970 and self.rng.random() < 0.05:
                    policy, state, note = "not_loanable", IN_LIBRARY_ONLY, "貴重書"
                self._append(item_id, bib_index, point, material_type, state, acquired)
                stamp = at_local_time(acquired, 10 + copy_number, item_id % 60)
                yield (item_id, item_barcode(point.id, item_id), bib_index + 1, point.id,
                       self._shelf(point, genre, year), call_number, volume, material_type, status, policy, price,
                       acquired, note, stamp, stamp)
