"""The word lists the demo library is made from, read once from the TSV files in vocabulary/.

Every reading is written the way NDL writes readings: katakana, words separated by spaces, particles as
pronounced (は ワ, へ エ, を オ). Lines starting with # are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

VOCABULARY_FOLDER = Path(__file__).resolve().parent / "vocabulary"


@dataclass(frozen=True, slots=True)
class Word:
    surface: str
    reading: str


@dataclass(frozen=True, slots=True)
class Topic:
    area: str
    surface: str
    reading: str
    ndc: str
    subject: str
    audience: str  # a adult, c children, b both


@dataclass(frozen=True, slots=True)
class TitlePattern:
    kind: str
    surface: str
    reading: str
    weight: int


@dataclass(frozen=True, slots=True)
class Name:
    surface: str
    reading: str
    weight: int = 1
    sex: str = ""
    generation: str = ""


@dataclass(frozen=True, slots=True)
class Publisher:
    name: str
    reading: str
    isbn_prefix: str  # after 978; empty for a publisher without ISBNs
    place: str
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Series:
    publisher: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Creator:
    name: str
    reading: str
    role: str


@dataclass(frozen=True, slots=True)
class FamousWork:
    title: str
    reading: str
    creators: tuple[Creator, ...]
    publisher: str
    year: int
    ndc: str
    material_type: str
    subjects: tuple[str, ...]
    series: str
    language: str


@dataclass(frozen=True, slots=True)
class AozoraWork:
    work_id: int
    person_id: int
    title: str
    reading: str
    author: str
    author_reading: str


@dataclass(frozen=True, slots=True)
class ForeignAuthor:
    name: str
    reading: str
    native: str
    language: str


@dataclass(frozen=True, slots=True)
class Magazine:
    title: str
    reading: str
    publisher: str
    publisher_reading: str
    ndc: str
    issues_per_year: int
    price_yen: int
    for_children: bool


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    reading: str
    postal_code: str
    service_point_code: str


def _rows(file_name: str) -> list[list[str]]:
    rows = []
    for line in (VOCABULARY_FOLDER / file_name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@cache
def words() -> dict[str, tuple[Word, ...]]:
    grouped: dict[str, list[Word]] = {}
    for category, surface, reading in _rows("words.tsv"):
        grouped.setdefault(category, []).append(Word(surface, reading))
    return {category: tuple(entries) for category, entries in grouped.items()}


@cache
def topics() -> tuple[Topic, ...]:
    return tuple(Topic(*row) for row in _rows("topics.tsv"))


@cache
def title_patterns() -> dict[str, tuple[TitlePattern, ...]]:
    grouped: dict[str, list[TitlePattern]] = {}
    for kind, surface, reading, weight in _rows("title_patterns.tsv"):
        grouped.setdefault(kind, []).append(TitlePattern(kind, surface, reading, int(weight)))
    return {kind: tuple(entries) for kind, entries in grouped.items()}


@cache
def family_names() -> tuple[Name, ...]:
    return tuple(Name(surface, reading, int(weight)) for surface, reading, weight in _rows("family_names.tsv"))


@cache
def given_names() -> tuple[Name, ...]:
    return tuple(Name(surface, reading, 1, sex, generation)
                 for sex, surface, reading, generation in _rows("given_names.tsv"))


@cache
def publishers() -> dict[str, Publisher]:
    return {row[0]: Publisher(row[0], row[1], row[2], row[3], tuple(row[4].split(",")))
            for row in _rows("publishers.tsv")}


@cache
def series() -> tuple[Series, ...]:
    return tuple(Series(*row) for row in _rows("series.tsv"))


def _creators(text: str) -> tuple[Creator, ...]:
    creators = []
    for entry in text.split(";"):
        name, reading, role = entry.split("|")
        creators.append(Creator(name, reading, role))
    return tuple(creators)


@cache
def famous_works() -> tuple[FamousWork, ...]:
    works = []
    for title, reading, creators, publisher, year, ndc, material_type, subjects, series_name, language in _rows(
            "famous_works.tsv"):
        works.append(FamousWork(title, reading, _creators(creators), publisher, int(year), ndc, material_type,
                                tuple(subject for subject in subjects.split(";") if subject), series_name, language))
    return tuple(works)


@cache
def aozora_works() -> tuple[AozoraWork, ...]:
    return tuple(AozoraWork(int(work_id), int(person_id), title, reading, author, author_reading)
                 for work_id, person_id, title, reading, author, author_reading in _rows("aozora_works.tsv"))


@cache
def foreign_authors() -> tuple[ForeignAuthor, ...]:
    return tuple(ForeignAuthor(*row) for row in _rows("foreign_authors.tsv"))


@cache
def english_words() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for category, word, *_ndc in _rows("english_words.tsv"):
        grouped.setdefault(category, []).append(word)
    return {category: tuple(entries) for category, entries in grouped.items()}


@cache
def english_topic_ndc() -> dict[str, str]:
    return {word: ndc[0] for category, word, *ndc in _rows("english_words.tsv") if category == "topic"}


@cache
def magazines() -> tuple[Magazine, ...]:
    return tuple(Magazine(title, reading, publisher, publisher_reading, ndc, int(issues), int(price), children == "y")
                 for title, reading, publisher, publisher_reading, ndc, issues, price, children
                 in _rows("magazines.tsv"))


@cache
def towns() -> tuple[Town, ...]:
    return tuple(Town(*row) for row in _rows("towns.tsv"))
