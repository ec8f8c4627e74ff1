"""Patrons (tables patron and patron_personal), streamed twice from the same random stream.

The two tables are loaded one after the other; rather than keeping every patron in memory between them, the
same stream is replayed for the second table. What circulation needs of a patron (category, age band, home,
whether the card is valid) is kept in compact arrays during the first pass.

The first three patrons are the showcase patrons that get web passwords: an adult at the central library who
keeps a reading record, a child at Gyotoku and a junior-high student at the Ichikawa Station South Library.
"""

from __future__ import annotations

import datetime
import random
from array import array
from dataclasses import dataclass

from . import vocabulary
from .identifiers import patron_card
from .kana import romanise
from .places import ServicePoint
from .rules import CARD_YEARS
from .tiers import Tier
from .timestamps import at_local_time, day_number
from .titles import WeightedChoice

PATRON_COLUMNS = ("id", "card", "category", "home_service_point_id", "expires_on", "status",
                  "keeps_reading_record", "age_band", "registered_at", "updated_at")
PERSONAL_COLUMNS = ("patron_id", "family_name", "given_name", "family_name_reading", "given_name_reading",
                    "birth_date", "postal_code", "address", "phone", "email", "staff_note")

CATEGORIES = ("adult", "child", "student", "group", "partner")
CATEGORY_INDEX = {code: index for index, code in enumerate(CATEGORIES)}
AGE_BANDS = ("0-6", "7-12", "13-15", "16-18", "19-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown")
AGE_BAND_INDEX = {band: index for index, band in enumerate(AGE_BANDS)}
SHOWCASE = (("adult", "central", 42), ("child", "gyotoku", 9), ("student", "ekiminami", 14))
BUILDINGS = ("コーポ", "ハイツ", "メゾン", "パークハウス", "レジデンス", "グランドール")
GROUP_KINDS = (("{town}小学校", "{reading} ショウガッコウ", "市川市立"), ("{town}幼稚園", "{reading} ヨウチエン", ""),
               ("{town}子ども会", "{reading} コドモカイ", ""), ("おはなしの会「{town}」", "オハナシ ノ カイ {reading}", ""),
               ("{town}保育園", "{reading} ホイクエン", "市川市立"))


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_band(age: int) -> str:
    if age <= 6:
        return "0-6"
    if age <= 12:
        return "7-12"
    if age <= 15:
        return "13-15"
    if age <= 18:
        return "16-18"
    if age >= 70:
        return "70+"
    decade = age // 10 * 10
    return "19-29" if decade < 30 else f"{decade}-{decade + 9}"


@dataclass(slots=True)
class PatronRecord:
    id: int
    card: str
    category: str
    home: ServicePoint
    expires_on: datetime.date
    status: str
    keeps_reading_record: bool
    age_band: str
    registered_on: datetime.date
    family_name: str
    given_name: str
    family_reading: str
    given_reading: str
    birth_date: datetime.date | None
    postal_code: str
    address: str
    phone: str
    email: str


class People:
    def __init__(self, tier: Tier, points: list[ServicePoint], seed: int, reference_date: datetime.date,
                 max_rows: int | None) -> None:
        self.seed = seed
        self.points = points
        self.reference_date = reference_date
        self.count = tier.patrons if max_rows is None else min(tier.patrons, max_rows)
        self.by_code = {point.code: point for point in points}
        homes = [point for point in points if point.patron_share > 0]
        self.homes = WeightedChoice(homes, [point.patron_share for point in homes])
        self.partner_home = next((point for point in points if point.kind == "partner"), points[0])
        self.category_choice = WeightedChoice(CATEGORIES, (67, 18, 12, 1, 2))
        families = vocabulary.family_names()
        self.families = WeightedChoice(families, [family.weight for family in families])
        self.given = {(sex, generation): [name for name in vocabulary.given_names()
                                          if name.sex == sex and name.generation == generation]
                      for sex in "mf" for generation in "omy"}
        self.towns = vocabulary.towns()
        self.towns_by_point: dict[str, list[vocabulary.Town]] = {}
        for town in self.towns:
            self.towns_by_point.setdefault(town.service_point_code, []).append(town)
        # Per patron, index = id - 1 (filled during the first pass).
        self.category = array("B")
        self.band = array("B")
        self.home = array("B")
        self.valid = array("B")  # 1: active card not expired, may borrow and place holds
        self.keeps_record = array("B")
        self.registered = array("H")
        self.valid_by_home: dict[int, array] = {point.id: array("I") for point in points}

    def _records(self):
        rng = random.Random(f"{self.seed}:patron")
        reference = self.reference_date
        for patron_id in range(1, self.count + 1):
            if patron_id <= len(SHOWCASE):
                category, home_code, age = SHOWCASE[patron_id - 1]
                home = self.by_code.get(home_code, self.points[0])
            else:
                category = self.category_choice.pick(rng)
                home = self.partner_home if category == "partner" else self.homes.pick(rng)
                age = {"adult": lambda: int(rng.triangular(19, 90, 45)), "child": lambda: rng.randint(0, 12),
                       "student": lambda: rng.randint(13, 18), "group": lambda: -1,
                       "partner": lambda: rng.choice((19, 20, 21, 22, 23, 35, 48))}[category]()
            if age >= 0:
                birth_date = reference - datetime.timedelta(days=age * 365 + rng.randrange(365) + age // 4)
                while age_on(birth_date, reference) != age:
                    birth_date += datetime.timedelta(days=1 if age_on(birth_date, reference) > age else -1)
                band = age_band(age)
            else:
                birth_date, band = None, "unknown"
            years_registered = min(rng.expovariate(1 / 5), 15.0, max(age, 1) if age >= 0 else 15.0)
            registered_on = reference - datetime.timedelta(days=int(years_registered * 365) + 1)
            card_days = CARD_YEARS[category] * 365
            expires_on = reference + datetime.timedelta(days=rng.randrange(-card_days // 10, card_days))
            expires_on = max(expires_on, registered_on + datetime.timedelta(days=365))
            if patron_id <= len(SHOWCASE):
                expires_on = reference + datetime.timedelta(days=700)
            status = "active"
            roll = rng.random()
            if patron_id > len(SHOWCASE) and roll < 0.006:
                status = "card_lost"
            elif patron_id > len(SHOWCASE) and roll < 0.008:
                status = "suspended"
            keeps_record = patron_id == 1 or (category in ("adult", "child", "student") and rng.random() < 0.06)
            towns = self.towns_by_point.get(home.code) or self.towns
            town = towns[rng.randrange(len(towns))]
            if home.address.startswith("千葉県"):  # a member of tier L's consortium: the patron lives in that city
                town = vocabulary.Town("本町", "ホンチョウ", f"2{rng.randint(60, 99)}-{rng.randrange(10000):04d}", home.code)
            if category == "group":
                template, reading_template, prefix = GROUP_KINDS[rng.randrange(len(GROUP_KINDS))]
                family_name = prefix + template.format(town=town.name)
                family_reading = ("イチカワ シリツ " if prefix else "") + reading_template.format(reading=town.reading)
                given_name = given_reading = ""
            else:
                family = self.families.pick(rng)
                generation = "y" if age < 30 else "m" if age < 60 else "o"
                given_choices = self.given[(rng.choice("mf"), generation)]
                given = given_choices[rng.randrange(len(given_choices))]
                family_name, family_reading = family.surface, family.reading
                given_name, given_reading = given.surface, given.reading
            city = home.address.removeprefix("千葉県") if home.address.startswith("千葉県") else "市川市"
            address = f"{city}{town.name}{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
            if rng.random() < 0.4:
                building = BUILDINGS[rng.randrange(len(BUILDINGS))]
                address += f" {building}{town.name}{rng.randint(1, 12)}0{rng.randint(1, 9)}"
            if rng.random() < 0.55:
                phone = f"{rng.choice(('090', '080', '070'))}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
            else:
                phone = f"047-3{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"
            email = ""
            if rng.random() < 0.5 and category != "child":
                local = romanise(given_reading or family_reading).lower().replace(" ", "")
                local += "." + romanise(family_reading).lower().replace(" ", "") if given_reading else ""
                email = f"{local}{rng.randint(1, 99)}@{rng.choice(('example.jp', 'example.com', 'example.net'))}"
            yield PatronRecord(patron_id, patron_card(patron_id), category, home, expires_on, status, keeps_record,
                               band, registered_on, family_name, given_name, family_reading, given_reading,
                               birth_date, town.postal_code, address, phone, email)

    def patron_rows(self):
        for record in self._records():
            self.category.append(CATEGORY_INDEX[record.category])
            self.band.append(AGE_BAND_INDEX[record.age_band])
            self.home.append(record.home.id)
            self.valid.append(record.status == "active" and record.expires_on >= self.reference_date)
            self.keeps_record.append(record.keeps_reading_record)
            self.registered.append(day_number(record.registered_on))
            if self.valid[-1]:
                self.valid_by_home[record.home.id].append(record.id - 1)
            registered_at = at_local_time(record.registered_on, 9 + record.id % 9, record.id % 60)
            yield (record.id, record.card, record.category, record.home.id, record.expires_on, record.status,
                   record.keeps_reading_record, record.age_band, registered_at, registered_at)

    def personal_rows(self):
        for record in self._records():
            yield (record.id, record.family_name, record.given_name, record.family_reading, record.given_reading,
                   record.birth_date, record.postal_code, record.address, record.phone, record.email, "")

    def showcase_cards(self) -> list[str]:
        return [patron_card(patron_id) for patron_id in range(1, min(len(SHOWCASE), self.count) + 1)]
