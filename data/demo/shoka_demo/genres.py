"""What kinds of books the demo library holds, and how a record of each kind is made up.

Each genre drafts a record: title and reading from the title patterns, creators with their roles, a publisher
that publishes such books, an NDC number and subject headings (件名) that agree with the topic, an extent and a
price that fit the format. The draft is turned into a bib row by catalogue.py.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from . import vocabulary
from .titles import CreatorPool, TitleMaker, WeightedChoice
from .vocabulary import Creator, Topic


@dataclass(slots=True)
class Draft:
    title: str
    reading: str | None
    creators: list[Creator]
    publisher: str | None
    year: int | None
    ndc: str
    material_type: str
    subtitle: str | None = None
    subjects: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    edition: str | None = None
    extent: str | None = None
    notes: list[str] = field(default_factory=list)
    language: str = "jpn"
    price_yen: int = 0
    volume: str = ""


@dataclass(frozen=True, slots=True)
class Genre:
    key: str
    weight: float
    material_type: str
    shelf: str  # the shelf its items stand on
    call_prefix: str  # E picture books, J children's, K kamishibai, R reference, L local studies, LP large print
    copies_factor: float  # how many copies a library buys, relative to the average


GENRES = (
    Genre("fiction", 22, "book", "general", "", 1.5),
    Genre("translated_fiction", 4, "book", "general", "", 1.0),
    Genre("essay", 3, "book", "general", "", 1.0),
    Genre("nonfiction", 28, "book", "general", "", 0.9),
    Genre("place_history", 2.5, "book", "general", "", 0.7),
    Genre("place_travel", 2, "book", "general", "", 0.8),
    Genre("local", 1, "book", "local", "L", 1.2),
    Genre("children_fiction", 10, "children_book", "children", "J", 1.3),
    Genre("picture", 10, "children_book", "picture", "E", 1.4),
    Genre("translated_picture", 2, "children_book", "picture", "E", 1.2),
    Genre("children_nonfiction", 6, "children_book", "children", "J", 1.0),
    Genre("reference", 2, "reference", "reference", "R", 0.4),
    Genre("large_print", 1.2, "large_print", "largeprint", "LP", 0.5),
    Genre("kamishibai", 1, "kamishibai", "kamishibai", "K", 0.6),
    Genre("cd", 2, "av_cd", "av", "CD", 0.6),
    Genre("dvd", 2, "av_dvd", "av", "DVD", 0.6),
    Genre("english", 1.5, "book", "general", "", 0.4),
)
# Records that are not drafted from patterns hold their items by these profiles.
FAMOUS_BOOK = Genre("famous_book", 0, "book", "general", "", 2.5)
FAMOUS_CHILDREN = Genre("famous_children", 0, "children_book", "children", "J", 2.5)
FAMOUS_PICTURE = Genre("famous_picture", 0, "children_book", "picture", "E", 2.5)
FAMOUS_REFERENCE = Genre("famous_reference", 0, "reference", "reference", "R", 1.0)
MAGAZINE = Genre("magazine", 0, "magazine", "magazine", "", 0)
E_TEXT = Genre("e_text", 0, "e_text", "general", "", 0)
ALL_GENRES = GENRES + (FAMOUS_BOOK, FAMOUS_CHILDREN, FAMOUS_PICTURE, FAMOUS_REFERENCE, MAGAZINE, E_TEXT)
GENRE_INDEX = {genre.key: index for index, genre in enumerate(ALL_GENRES)}

BUNKO_SIZE, SHINSHO_SIZE = 15, 18


def _round_price(value: float) -> int:
    return int(round(value / 10.0)) * 10


class Drafter:
    """Drafts records of every genre from one random stream."""

    def __init__(self, creators: CreatorPool, reference_date: datetime.date) -> None:
        self.titles = TitleMaker()
        self.creators = creators
        self.reference_date = reference_date
        publishers = vocabulary.publishers()
        self.publishers_by_kind: dict[str, list[str]] = {}
        for publisher in publishers.values():
            for kind in publisher.kinds:
                self.publishers_by_kind.setdefault(kind, []).append(publisher.name)
        self.series_by_publisher_kind: dict[tuple[str, str], list[str]] = {}
        for entry in vocabulary.series():
            self.series_by_publisher_kind.setdefault((entry.publisher, entry.kind), []).append(entry.name)
        all_topics = vocabulary.topics()
        self.adult_topics = [topic for topic in all_topics if topic.audience in "ab" and topic.area != "local"]
        self.children_topics = [topic for topic in all_topics if topic.audience in "bc"]
        self.local_topics = [topic for topic in all_topics if topic.area == "local"]
        self.english = vocabulary.english_words()
        self.pick_genre = WeightedChoice(GENRES, [genre.weight for genre in GENRES])

    # Shared pieces -----------------------------------------------------------------------------------------------
    def year(self, rng: random.Random, *, mean_age: float = 8.0) -> int:
        span = self.reference_date.year - 1950
        age = int(rng.expovariate(1.0 / mean_age))
        if age > span:
            age = rng.randrange(span + 1)
        return self.reference_date.year - age

    def publisher(self, rng: random.Random, kind: str) -> str:
        names = self.publishers_by_kind[kind]
        return names[rng.randrange(len(names))]

    def series_of(self, rng: random.Random, publisher: str, kind: str, probability: float) -> list[str]:
        names = self.series_by_publisher_kind.get((publisher, kind))
        if not names or rng.random() >= probability:
            return []
        return [f"{names[rng.randrange(len(names))]} ; {rng.randint(1, 2999)}"]

    def person(self, rng: random.Random, role: str, *, hiragana: bool = False) -> Creator:
        return self.creators.japanese(self.creators.index(rng), role, hiragana=hiragana)

    def book_extent(self, rng: random.Random, size: int | None = None) -> str:
        size = size or rng.choice((19, 19, 20, 21, 21, 26))
        return f"{rng.randrange(120, 480, 2)}p ; {size}cm"

    def _english_phrase(self, rng: random.Random) -> str:
        adjectives, nouns = self.english["adj"], self.english["noun"]
        return f"{adjectives[rng.randrange(len(adjectives))]} {nouns[rng.randrange(len(nouns))]}"

    def draft(self, rng: random.Random) -> tuple[Genre, Draft]:
        genre = self.pick_genre.pick(rng)
        return genre, getattr(self, f"_{genre.key}")(rng)

    # Genres ------------------------------------------------------------------------------------------------------
    def _fiction(self, rng: random.Random) -> Draft:
        title = self.titles.make("fiction", rng)
        publisher = self.publisher(rng, "literature")
        year = self.year(rng, mean_age=7)
        series = self.series_of(rng, publisher, "bunko", 0.35)
        size = BUNKO_SIZE if series else 20
        draft = Draft(title.surface, title.reading, [self.person(rng, "著")], publisher, year, "913.6", "book",
                      series=series, extent=self.book_extent(rng, size),
                      price_yen=_round_price(rng.uniform(600, 1000) if series else rng.uniform(1400, 2200)))
        if rng.random() < 0.06:
            draft.subtitle = self.titles.make("fiction_subtitle", rng).surface
        return draft

    def _translated_fiction(self, rng: random.Random) -> Draft:
        title = self.titles.make("fiction", rng)
        author, language, native = self.creators.foreign(rng, "著")
        translator = self.person(rng, "訳")
        original = self._english_phrase(rng)
        publisher = self.publisher(rng, "literature")
        return Draft(title.surface, title.reading, [author, translator], publisher, self.year(rng),
                     CreatorPool.ORIGINAL_LANGUAGE_NDC[language], "book",
                     notes=[f"原タイトル: The {original}" if language == "eng" else f"原著者名: {native}"],
                     series=self.series_of(rng, publisher, "bunko", 0.3), extent=self.book_extent(rng),
                     price_yen=_round_price(rng.uniform(900, 2800)))

    def _essay(self, rng: random.Random) -> Draft:
        title = self.titles.make("fiction", rng)
        publisher = self.publisher(rng, "literature")
        return Draft(title.surface, title.reading, [self.person(rng, "著")], publisher, self.year(rng), "914.6",
                     "book", extent=self.book_extent(rng), price_yen=_round_price(rng.uniform(1200, 1900)))

    def _topic_creators(self, rng: random.Random, topic: Topic) -> list[Creator]:
        roll = rng.random()
        if roll < 0.12:
            return [Creator(f"{topic.surface}研究会", f"{topic.reading} ケンキュウカイ", "編")]
        if roll < 0.22:
            return [self.person(rng, "監修"), self.person(rng, "著")]
        if roll < 0.32:
            return [self.person(rng, "著"), self.person(rng, "著")]
        return [self.person(rng, "著")]

    def _nonfiction(self, rng: random.Random) -> Draft:
        topic = self.adult_topics[rng.randrange(len(self.adult_topics))]
        title = self.titles.make("nonfiction", rng, topic=topic)
        kind = {"computing": "tech", "technology": "tech"}.get(topic.area, "practical")
        if rng.random() < 0.3:
            kind = "academic"
        publisher = self.publisher(rng, kind)
        series = self.series_of(rng, publisher, "shinsho", 0.5)
        draft = Draft(title.surface, title.reading, self._topic_creators(rng, topic), publisher,
                      self.year(rng, mean_age=6), topic.ndc, "book", subjects=[topic.subject], series=series,
                      extent=self.book_extent(rng, SHINSHO_SIZE if series else None),
                      price_yen=_round_price(rng.uniform(800, 1100) if series else rng.uniform(1300, 3200)))
        if rng.random() < 0.3:
            subtitle = self.titles.make("subtitle", rng, topic=topic)
            if subtitle.surface != title.surface:
                draft.subtitle = subtitle.surface
        if rng.random() < 0.25:
            draft.notes = rng.choice((["文献あり"], ["索引あり"], ["文献あり", "索引あり"]))
        return draft

    def _place_history(self, rng: random.Random) -> Draft:
        place = vocabulary.words()["place"][rng.randrange(len(vocabulary.words()["place"]))]
        title = self.titles.make("place_history", rng, place=place)
        ndc = "213.5" if place.surface in ("市川", "行徳", "國府台", "真間", "八幡", "千葉", "房総", "下総",
                                           "佐倉", "成田", "銚子", "館山") else "210.1"
        return Draft(title.surface, title.reading, [self.person(rng, "著")], self.publisher(rng, "academic"),
                     self.year(rng, mean_age=12), ndc, "book", subjects=[f"{place.surface}--歴史"],
                     extent=self.book_extent(rng), price_yen=_round_price(rng.uniform(1500, 3500)))

    def _place_travel(self, rng: random.Random) -> Draft:
        title = self.titles.make("place_travel", rng)
        foreign = "{F}" in title.pattern.surface
        place = next((word for word in vocabulary.words()["fplace" if foreign else "place"]
                      if title.surface.startswith(word.surface)), None)
        subject = f"{place.surface}--紀行・案内記" if place else "紀行・案内記"
        publisher = self.publisher(rng, "practical")
        return Draft(title.surface, title.reading, [self.person(rng, "著")], publisher, self.year(rng, mean_age=5),
                     "293.09" if foreign else "291.09", "book", subjects=[subject], extent=self.book_extent(rng, 21),
                     price_yen=_round_price(rng.uniform(1200, 1800)))

    def _local(self, rng: random.Random) -> Draft:
        topic = self.local_topics[rng.randrange(len(self.local_topics))]
        title = self.titles.make("nonfiction", rng, topic=topic) if rng.random() < 0.85 else None
        surface, reading = (title.surface, title.reading) if title else (topic.surface, topic.reading)
        era = vocabulary.words()["era"][rng.randrange(len(vocabulary.words()["era"]))]
        publisher = self.publisher(rng, "local")
        return Draft(surface, reading, self._topic_creators(rng, topic), publisher, self.year(rng, mean_age=18),
                     topic.ndc, "book", subjects=[topic.subject], extent=self.book_extent(rng, 21),
                     subtitle=f"{era.surface}を中心に" if rng.random() < 0.4 else None,
                     price_yen=_round_price(rng.uniform(800, 3000)))

    def _children_fiction(self, rng: random.Random) -> Draft:
        title = self.titles.make("children", rng)
        publisher = self.publisher(rng, "children")
        draft = Draft(title.surface, title.reading, [self.person(rng, "作"), self.person(rng, "絵")], publisher,
                      self.year(rng, mean_age=10), "913.6", "children_book",
                      series=self.series_of(rng, publisher, "children", 0.3),
                      extent=f"{rng.randrange(64, 220, 2)}p ; {rng.choice((18, 21, 22))}cm",
                      price_yen=_round_price(rng.uniform(1100, 1700)))
        if rng.random() < 0.08:
            volume_count = rng.randint(2, 5)
            draft.volume = str(rng.randint(1, volume_count))
            draft.title = f"{draft.title} {draft.volume}"
            draft.reading = f"{draft.reading} {draft.volume}"
        return draft

    def _picture(self, rng: random.Random) -> Draft:
        title = self.titles.make("picture", rng)
        hiragana = rng.random() < 0.35
        if rng.random() < 0.4:
            creators = [self.person(rng, "作・絵", hiragana=hiragana)]
        else:
            creators = [self.person(rng, "さく" if hiragana else "作", hiragana=hiragana),
                        self.person(rng, "え" if hiragana else "絵", hiragana=hiragana)]
        publisher = self.publisher(rng, "picture")
        return Draft(title.surface, title.reading, creators, publisher, self.year(rng, mean_age=12), "726.6",
                     "children_book", series=self.series_of(rng, publisher, "picture", 0.3),
                     extent=f"{rng.randrange(24, 48, 4)}p ; {rng.choice((19, 21, 24, 26, 27, 31))}cm",
                     price_yen=_round_price(rng.uniform(990, 1760)))

    def _translated_picture(self, rng: random.Random) -> Draft:
        title = self.titles.make("picture", rng)
        author, _language, native = self.creators.foreign(rng, "作・絵")
        translator = self.person(rng, "訳")
        return Draft(title.surface, title.reading, [author, translator], self.publisher(rng, "picture"),
                     self.year(rng, mean_age=12), "726.6", "children_book", notes=[f"原著者名: {native}"],
                     extent=f"{rng.randrange(24, 48, 4)}p ; {rng.choice((21, 26, 28))}cm",
                     price_yen=_round_price(rng.uniform(1300, 1900)))

    def _children_nonfiction(self, rng: random.Random) -> Draft:
        topic = self.children_topics[rng.randrange(len(self.children_topics))]
        title = self.titles.make("children_nonfiction", rng, topic=topic)
        creators = [self.person(rng, "監修"), self.person(rng, "絵")] if rng.random() < 0.5 else [
            self.person(rng, "文"), self.person(rng, "絵")]
        publisher = self.publisher(rng, "children")
        return Draft(title.surface, title.reading, creators, publisher, self.year(rng, mean_age=8), topic.ndc,
                     "children_book", subjects=[topic.subject], series=self.series_of(rng, publisher, "children", 0.3),
                     extent=f"{rng.randrange(32, 160, 4)}p ; {rng.choice((22, 27, 29))}cm",
                     price_yen=_round_price(rng.uniform(1400, 3300)))

    def _reference(self, rng: random.Random) -> Draft:
        topic = self.adult_topics[rng.randrange(len(self.adult_topics))]
        title = self.titles.make("reference", rng, topic=topic)
        creators = [Creator(f"{topic.surface}事典編集委員会", f"{topic.reading} ジテン ヘンシュウ イインカイ", "編")]
        return Draft(title.surface, title.reading, creators, self.publisher(rng, "reference"),
                     self.year(rng, mean_age=12), topic.ndc, "reference", subjects=[f"{topic.subject}--辞典"],
                     extent=f"{rng.randrange(400, 1800, 2)}p ; 27cm", price_yen=_round_price(rng.uniform(4800, 22000)))

    def _large_print(self, rng: random.Random) -> Draft:
        draft = self._fiction(rng)
        volume = rng.choice(("上", "下", "1", "2", "3"))
        volume_reading = {"上": "ジョウ", "下": "ゲ"}.get(volume, volume)
        return Draft(f"{draft.title} {volume}", f"{draft.reading} {volume_reading}", draft.creators[:1], "埼玉福祉会",
                     max(draft.year or 2000, 1990), "913.6", "large_print", series=["大活字本シリーズ"],
                     notes=["底本: " + (draft.publisher or "")], extent=f"{rng.randrange(220, 400, 2)}p ; 22cm",
                     price_yen=_round_price(rng.uniform(2900, 3500)), volume=volume)

    def _kamishibai(self, rng: random.Random) -> Draft:
        title = self.titles.make("children" if rng.random() < 0.6 else "picture", rng)
        return Draft(title.surface, title.reading, [self.person(rng, "脚本"), self.person(rng, "画")],
                     self.publisher(rng, "kamishibai"), self.year(rng, mean_age=15), "913.6", "kamishibai",
                     extent=f"紙芝居1組 ({rng.choice((8, 12, 12, 16))}場面) ; 26.5×38.2cm",
                     price_yen=_round_price(rng.uniform(1980, 2800)))

    def _cd(self, rng: random.Random) -> Draft:
        band = vocabulary.words()["band"][rng.randrange(len(vocabulary.words()["band"]))]
        title = self.titles.make("fiction", rng)
        ndc = "764.3" if "管弦楽団" in band.surface or "アンサンブル" in band.surface else (
            "767.7" if "こども" in band.surface else "767.8")
        label = rng.choice(("ソニー・ミュージックレーベルズ", "ビクターエンタテインメント", "日本コロムビア",
                            "キングレコード", "ポニーキャニオン"))
        return Draft(title.surface, title.reading, [Creator(band.surface, band.reading, "演奏")], label,
                     self.year(rng, mean_age=9), ndc, "av_cd", extent=f"録音ディスク1枚 ({rng.randint(38, 74)}分) : "
                     "デジタル, ステレオ ; 12cm", price_yen=_round_price(rng.uniform(2500, 3300)))

    def _dvd(self, rng: random.Random) -> Draft:
        if rng.random() < 0.5:
            title = self.titles.make("fiction", rng)
            ndc, subjects = rng.choice((("778.21", []), ("778.77", ["アニメーション"])))
            creators = [self.person(rng, "監督")]
        else:
            topic = self.adult_topics[rng.randrange(len(self.adult_topics))]
            title = self.titles.make("nonfiction", rng, topic=topic)
            ndc, subjects = topic.ndc, [topic.subject]
            creators = [Creator("NHKエンタープライズ", "エヌエイチケイ エンタープライズ", "制作")]
        label = rng.choice(("東宝", "松竹", "KADOKAWA", "NHKエンタープライズ", "バンダイナムコフィルムワークス"))
        return Draft(title.surface, title.reading, creators, label, self.year(rng, mean_age=8), ndc, "av_dvd",
                     subjects=subjects, extent=f"ビデオディスク1枚 ({rng.randint(45, 140)}分) : DVD",
                     notes=["ライブラリー用 (館内視聴・貸出可)"], price_yen=_round_price(rng.uniform(9800, 19800)))

    def _english(self, rng: random.Random) -> Draft:
        english = self.english
        if rng.random() < 0.5:
            title = f"The {self._english_phrase(rng)}"
            ndc, subjects = "933.7", []
        else:
            topic = english["topic"][rng.randrange(len(english["topic"]))]
            opening = rng.choice(("An introduction to", "Essentials of", "Understanding", "A short history of"))
            title = f"{opening} {topic.lower()}"
            ndc, subjects = vocabulary.english_topic_ndc()[topic], []
        _author, _language, native = self.creators.foreign(rng, "author", "eng")
        creator = Creator(native, "", "author")
        return Draft(title, None, [creator], self.publisher(rng, "english"), self.year(rng), ndc, "book",
                     subjects=subjects, language="eng", extent=f"{rng.randrange(96, 420, 2)} p. ; 20 cm",
                     price_yen=_round_price(rng.uniform(1200, 4200)))
