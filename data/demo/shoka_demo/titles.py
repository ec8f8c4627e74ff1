"""Titles and creators: patterns from the vocabulary filled with words, readings kept beside them.

A title pattern such as {N}の{N2} comes with its reading {N} ノ {N2}; filling it with 猫/ネコ and 夜/ヨル gives
猫の夜 read ネコ ノ ヨル, so every generated title has the reading a cataloguer would write.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from dataclasses import dataclass

from . import vocabulary
from .kana import katakana_to_hiragana
from .vocabulary import Creator, TitlePattern, Topic, Word

_SLOT = re.compile(r"\{([A-Z])(\d?)\}")
_SLOT_CATEGORIES = {"N": "noun", "A": "adj", "S": "season", "P": "place", "F": "fplace", "E": "era",
                    "X": "animal", "Y": "thing", "Q": "pbadj"}


@dataclass(frozen=True, slots=True)
class Title:
    surface: str
    reading: str
    pattern: TitlePattern


class WeightedChoice:
    """rng.choices for a fixed population, without rebuilding the cumulative weights on every call."""

    def __init__(self, population, weights) -> None:
        self.population = tuple(population)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.population[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


class TitleMaker:
    def __init__(self) -> None:
        self.words = vocabulary.words()
        self.patterns = {kind: WeightedChoice(patterns, [pattern.weight for pattern in patterns])
                         for kind, patterns in vocabulary.title_patterns().items()}

    def pattern(self, kind: str, rng: random.Random) -> TitlePattern:
        return self.patterns[kind].pick(rng)

    def fill(self, pattern: TitlePattern, rng: random.Random, *, topic: Topic | None = None,
             place: Word | None = None) -> Title:
        chosen: dict[str, Word] = {}
        used: set[str] = set()
        for letter, number in _SLOT.findall(pattern.surface):
            slot = letter + number
            if slot in chosen:
                continue
            if letter == "T":
                if topic is None:
                    raise ValueError(f"title pattern {pattern.surface} needs a topic")
                chosen[slot] = Word(topic.surface, topic.reading)
                continue
            if letter == "P" and place is not None:
                chosen[slot] = place
                continue
            candidates = self.words[_SLOT_CATEGORIES[letter]]
            word = candidates[rng.randrange(len(candidates))]
            while word.surface in used:
                word = candidates[rng.randrange(len(candidates))]
            used.add(word.surface)
            chosen[slot] = word

        def surface_of(match: re.Match) -> str:
            return chosen[match[1] + match[2]].surface

        def reading_of(match: re.Match) -> str:
            return chosen[match[1] + match[2]].reading

        return Title(_SLOT.sub(surface_of, pattern.surface), _SLOT.sub(reading_of, pattern.reading), pattern)

    def make(self, kind: str, rng: random.Random, **slots) -> Title:
        return self.fill(self.pattern(kind, rng), rng, **slots)


class CreatorPool:
    """Authors, illustrators and translators. A pool index always names the same person, so prolific authors
    have many books and an author search finds a body of work."""

    ORIGINAL_LANGUAGE_NDC = {"eng": "933.7", "fre": "953.7", "ger": "943.7", "ita": "973", "rus": "983",
                             "swe": "949.83", "chi": "923.7", "kor": "929.13"}

    def __init__(self, size: int) -> None:
        self.size = max(size, 300)
        families = vocabulary.family_names()
        self.family_slots = [family for family in families for _ in range(family.weight)]
        self.given = vocabulary.given_names()
        foreign_by_language: dict[str, list[vocabulary.ForeignAuthor]] = {}
        for author in vocabulary.foreign_authors():
            foreign_by_language.setdefault(author.language, []).append(author)
        self.foreign_by_language = foreign_by_language
        self.foreign_languages = WeightedChoice(
            list(foreign_by_language), [{"eng": 12, "fre": 3, "ger": 2}.get(language, 1)
                                        for language in foreign_by_language])

    def index(self, rng: random.Random) -> int:
        return int(self.size * rng.random() ** 1.7)

    def japanese(self, index: int, role: str, *, hiragana: bool = False) -> Creator:
        family = self.family_slots[(index * 2654435761) % len(self.family_slots)]
        given = self.given[(index * 40503 + index // len(self.family_slots)) % len(self.given)]
        if hiragana:
            name = f"{katakana_to_hiragana(family.reading)}, {katakana_to_hiragana(given.reading)}"
        else:
            name = f"{family.surface}, {given.surface}"
        return Creator(name, f"{family.reading}, {given.reading}", role)

    def foreign(self, rng: random.Random, role: str, language: str | None = None) -> tuple[Creator, str, str]:
        """A foreign author: the creator, the language of the original and the name in its own script."""
        language = language or self.foreign_languages.pick(rng)
        authors = self.foreign_by_language[language]
        family_part = authors[rng.randrange(len(authors))]
        given_part = authors[rng.randrange(len(authors))]
        family, _, _ = family_part.name.partition(", ")
        _, _, given = given_part.name.partition(", ")
        native_family, _, _ = family_part.native.partition(", ")
        _, _, native_given = given_part.native.partition(", ")
        name = f"{family}, {given}" if given else family
        native = f"{native_family}, {native_given}" if native_given else native_family
        return Creator(name, name, role), language, native

    def corporate(self, name: str, reading: str, role: str = "編") -> Creator:
        return Creator(name, reading, role)


def display_name(creator: Creator) -> str:
    """How a statement of responsibility writes a name: 夏目漱石, エリック・カール, Beatrix Potter."""
    family, separator, given = creator.name.partition(", ")
    if not separator:
        return creator.name
    if family.isascii():
        return f"{given} {family}"
    if any("ァ" <= character <= "ヶ" for character in family) and not any(
            "一" <= character <= "龥" for character in family):
        return f"{given}・{family}"
    return family + given


def responsibility(creators: tuple[Creator, ...] | list[Creator]) -> str:
    """NDL's statement of responsibility: names of one role joined by commas, roles joined by ' ; '."""
    parts: list[str] = []
    names: list[str] = []
    role = None
    for creator in creators:
        if role is not None and creator.role != role:
            parts.append(f"{', '.join(names)} {role}")
            names = []
        role = creator.role
        names.append(display_name(creator))
    if names:
        parts.append(f"{', '.join(names)} {role}")
    return " ; ".join(parts)
