"""Patron categories, material types and the circulation rules matrix of the demo library.

Typical Japanese rules: 15 days, 10 items, one renewal, no fines; AV 5 items of a kind; reference works in the
library only; group lending (団体貸出) 30 days and 50 items; patrons of a partner library (相互利用) 14 days and
5 items. Library rooms lend for 14 days, the bookmobile until its visit four weeks later.

A rule row is whole: the most specific matching row gives every value. So that a branch that only changes the
loan period still keeps the AV and reference limits, the branch's rows repeat every general row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .places import ServicePoint

PATRON_CATEGORIES = (
    # code, name_ja, name_en, is_group, card_years
    ("adult", "一般", "Adult", False, 3),
    ("child", "小学生以下", "Child (primary school and younger)", False, 3),
    ("student", "中高生", "Student (junior and senior high school)", False, 3),
    ("group", "団体", "Group (schools, reading circles)", True, 1),
    ("partner", "相互利用", "Partner library user", False, 1),
)
CARD_YEARS = {code: years for code, _ja, _en, _group, years in PATRON_CATEGORIES}

MATERIAL_TYPES = (
    ("book", "図書", "Book"),
    ("children_book", "児童書", "Children's book"),
    ("magazine", "雑誌", "Magazine"),
    ("av_cd", "CD", "Audio CD"),
    ("av_dvd", "DVD", "DVD"),
    ("large_print", "大活字本", "Large print"),
    ("kamishibai", "紙芝居", "Picture-story cards (kamishibai)"),
    ("reference", "参考図書", "Reference"),
    ("e_text", "電子テキスト", "E-text (Aozora Bunko)"),
)


@dataclass(frozen=True, slots=True)
class Rule:
    service_point_id: int | None
    patron_category: str | None
    material_type: str | None
    loan_days: int
    max_items_of_type: int
    max_items_total: int
    max_renewals: int
    holds_allowed: bool
    max_holds: int
    hold_pickup_days: int

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        return (self.service_point_id is not None, self.patron_category is not None, self.material_type is not None)

    def matches(self, service_point_id: int, patron_category: str, material_type: str) -> bool:
        return (self.service_point_id in (None, service_point_id)
                and self.patron_category in (None, patron_category)
                and self.material_type in (None, material_type))


def _general_rules() -> list[Rule]:
    default = Rule(None, None, None, 15, 10, 10, 1, True, 10, 7)
    group = Rule(None, "group", None, 30, 50, 50, 0, True, 20, 14)
    partner = Rule(None, "partner", None, 14, 5, 5, 1, True, 5, 7)
    child = replace(default, patron_category="child", max_holds=5)
    rules = [default, group, partner, child]
    for category_rule in (default, child, partner):
        rules += [
            replace(category_rule, material_type="av_cd", max_items_of_type=5),
            replace(category_rule, material_type="av_dvd", max_items_of_type=5),
            replace(category_rule, material_type="magazine", max_items_of_type=5),
            replace(category_rule, material_type="kamishibai", max_items_of_type=5),
        ]
    # Groups borrow books, children's books and picture-story cards, not AV.
    rules += [replace(group, material_type="av_cd", max_items_of_type=0, holds_allowed=False, max_holds=0),
              replace(group, material_type="av_dvd", max_items_of_type=0, holds_allowed=False, max_holds=0)]
    for category_rule in (default, group, partner, child):
        for material_type in ("reference", "e_text"):
            rules.append(replace(category_rule, material_type=material_type, loan_days=0, max_items_of_type=0,
                                 max_renewals=0, holds_allowed=False, max_holds=0))
    return rules


def circulation_rules(points: list[ServicePoint]) -> list[Rule]:
    general = _general_rules()
    rules = list(general)
    for point in points:
        if point.kind == "room" and point.collection_share > 0:
            loan_days = 14
        elif point.kind == "bookmobile":
            loan_days = 28
        else:
            continue
        for rule in general:
            days = rule.loan_days if rule.loan_days in (0, 30) else loan_days
            rules.append(replace(rule, service_point_id=point.id, loan_days=days))
    return rules


class RuleBook:
    """Resolves the rule for a checkout the way the matrix says: the most specific row (branch, then category,
    then material type) wins."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._cache: dict[tuple[int, str, str], Rule] = {}

    def rule_for(self, service_point_id: int, patron_category: str, material_type: str) -> Rule:
        key = (service_point_id, patron_category, material_type)
        rule = self._cache.get(key)
        if rule is None:
            candidates = [rule for rule in self.rules if rule.matches(*key)]
            rule = max(candidates, key=lambda candidate: candidate.specificity)
            self._cache[key] = rule
        return rule

    def max_total(self, patron_category: str) -> int:
        return self.rule_for(1, patron_category, "book").max_items_total


def patron_category_rows():
    yield from PATRON_CATEGORIES


def material_type_rows():
    for sort_order, (code, name_ja, name_en) in enumerate(MATERIAL_TYPES, start=1):
        yield (code, name_ja, name_en, sort_order)


def circulation_rule_rows(rules: list[Rule]):
    for rule_id, rule in enumerate(rules, start=1):
        yield (rule_id, rule.service_point_id, rule.patron_category, rule.material_type, rule.loan_days,
               rule.max_items_of_type, rule.max_items_total, rule.max_renewals, rule.holds_allowed, rule.max_holds,
               rule.hold_pickup_days)
