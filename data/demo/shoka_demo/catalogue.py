"""Bibliographic records (table bib), streamed, with the little each record leaves behind for its items.

Order of the records: famous real works (so that searches for 吾輩は猫である or ぐりとぐら find something),
magazines, Aozora Bunko e-texts, then records drafted by genres.py until the tier's count is reached.
What the items need of a record (genre, NDC, author mark, volume, price, date catalogued) is kept in compact
arrays, not in Python objects, so that tier L's three million records fit in memory.
"""

from __future__ import annotations

import datetime
import json
import random
import zlib
from array import array

from . import vocabulary
from .genres import (E_TEXT, FAMOUS_BOOK, FAMOUS_CHILDREN, FAMOUS_PICTURE, FAMOUS_REFERENCE, GENRE_INDEX,
                     MAGAZINE, Draft, Drafter, Genre)
from .identifiers import isbn13, isbn_title_capacity
from .kana import author_mark, romanise
from .tiers import Tier
from .timestamps import at_local_time, day_number
from .titles import CreatorPool, responsibility

BIB_COLUMNS = ("id", "source", "title", "title_reading", "title_romanised", "subtitle", "responsibility",
               "authors", "publisher", "publisher_reading", "publication_place", "publication_year", "edition",
               "extent", "series", "subjects", "ndc", "ndc_edition", "isbns", "language", "material_type", "notes",
               "aozora_work_id", "aozora_card_url", "created_at", "updated_at")

ISBN_MATERIALS = frozenset(("book", "children_book", "large_print", "kamishibai", "reference"))
ISBN_SINCE = 1981  # Japanese books carry ISBNs from 1981
MARKS = "".join(chr(code) for code in range(ord("ァ"), ord("ヶ") + 1)) + "ABCDEFGHIJKLMNOPQRSTUVWXYZー"
MARK_INDEX = {mark: index for index, mark in enumerate(MARKS)}
VOLUME_READINGS = {"上": "ジョウ", "中": "チュウ", "下": "ゲ"}


class Catalogue:
    def __init__(self, tier: Tier, seed: int, reference_date: datetime.date, max_rows: int | None) -> None:
        self.tier = tier
        self.reference_date = reference_date
        self.count = tier.bibs if max_rows is None else min(tier.bibs, max_rows)
        self.rng = random.Random(f"{seed}:bib")
        self.drafter = Drafter(CreatorPool(tier.bibs // 4), reference_date)
        self.publishers = vocabulary.publishers()
        self._isbn_counters: dict[str, int] = {}
        # Per record, index = id - 1.
        self.genre = array("B")
        self.ndc = array("H")
        self.mark = array("B")
        self.volume = array("B")
        self.price_tens = array("H")
        self.catalogued = array("H")
        self.year = array("H")
        self.ndc_values: list[str] = []
        self._ndc_index: dict[str, int] = {}
        self.volume_values: list[str] = [""]
        self._volume_index: dict[str, int] = {"": 0}

    # Arrays ------------------------------------------------------------------------------------------------------
    def _intern(self, value: str, values: list[str], index: dict[str, int]) -> int:
        position = index.get(value)
        if position is None:
            position = index[value] = len(values)
            values.append(value)
        return position

    def ndc_of(self, bib_index: int) -> str:
        return self.ndc_values[self.ndc[bib_index]]

    def ndc_class_of(self, bib_index: int) -> str:
        """The three-digit NDC class that loan statistics keep (913.6 → 913)."""
        return self.ndc_values[self.ndc[bib_index]].partition(".")[0]

    # Pieces ------------------------------------------------------------------------------------------------------
    def _isbn(self, publisher: str | None, year: int | None, material_type: str) -> list[str]:
        entry = self.publishers.get(publisher or "")
        if entry is None or not entry.isbn_prefix or year is None or year < ISBN_SINCE:
            return []
        if material_type not in ISBN_MATERIALS:
            return []
        counter = self._isbn_counters.get(entry.name, 0)
        capacity = isbn_title_capacity(entry.isbn_prefix)
        if counter >= capacity:
            return []  # a small publisher's numbers are used up; older titles went without
        self._isbn_counters[entry.name] = counter + 1
        offset = zlib.crc32(entry.name.encode()) % capacity
        return [isbn13(entry.isbn_prefix, (offset + counter * 7919) % capacity)]

    def _catalogued_on(self, year: int | None) -> datetime.date:
        """When the library catalogued a record: after publication, never later than the day before the
        reference date (the demo's "today" may have only begun)."""
        yesterday = self.reference_date - datetime.timedelta(days=1)
        rng = self.rng
        if year is None:
            return yesterday - datetime.timedelta(days=rng.randrange(30, 3650))
        if year < 1986:
            start = datetime.date(1986, 4, 1)
            return start + datetime.timedelta(days=rng.randrange(max(1, (yesterday - start).days // 3)))
        month = rng.randint(1, yesterday.month if year >= yesterday.year else 12)
        published = datetime.date(min(year, yesterday.year), month, rng.randint(1, 28))
        if published > yesterday:
            published = yesterday - datetime.timedelta(days=rng.randrange(60))
        catalogued = published + datetime.timedelta(days=rng.randrange(5, 120))
        if catalogued > yesterday:
            catalogued = published + datetime.timedelta(days=rng.randrange((yesterday - published).days + 1))
        return catalogued

    def _responsibility(self, draft: Draft) -> str | None:
        if not draft.creators:
            return None
        if draft.language == "eng":
            authors = [creator for creator in draft.creators if creator.role != "translator"]
            translators = [creator for creator in draft.creators if creator.role == "translator"]

            def names(creators):
                return " and ".join(" ".join(reversed(creator.name.split(", "))) for creator in creators)
            statement = f"by {names(authors)}"
            return statement + (f" ; translated by {names(translators)}" if translators else "")
        return responsibility(draft.creators)

    def _mark(self, draft: Draft) -> str:
        if draft.creators:
            first = draft.creators[0]
            return author_mark(first.reading or first.name)
        return author_mark(draft.reading or draft.title)

    def _row(self, bib_id: int, genre: Genre, draft: Draft, *, source: str = "manual",
             aozora: tuple[int, str] | None = None) -> tuple:
        catalogued = self._catalogued_on(draft.year)
        publisher = self.publishers.get(draft.publisher or "")
        self.genre.append(GENRE_INDEX[genre.key])
        self.ndc.append(self._intern(draft.ndc, self.ndc_values, self._ndc_index))
        self.mark.append(MARK_INDEX.get(self._mark(draft), len(MARKS) - 1))
        self.volume.append(self._intern(draft.volume, self.volume_values, self._volume_index))
        self.price_tens.append(min(draft.price_yen // 10, 65535))
        self.catalogued.append(day_number(catalogued))
        self.year.append(draft.year or 0)
        timestamp = at_local_time(catalogued, 10 + bib_id % 7, bib_id % 60)
        authors = json.dumps([{"name": creator.name, "reading": creator.reading, "role": creator.role}
                              for creator in draft.creators], ensure_ascii=False)
        return (bib_id, source, draft.title, draft.reading, romanise(draft.reading) if draft.reading else None,
                draft.subtitle, self._responsibility(draft), authors, draft.publisher,
                publisher.reading or None if publisher else None,
                (publisher.place or None if publisher else "東京") if draft.publisher else None, draft.year,
                draft.edition,
                draft.extent, draft.series, draft.subjects, draft.ndc, "10",
                self._isbn(draft.publisher, draft.year, draft.material_type), draft.language, draft.material_type,
                draft.notes, aozora[0] if aozora else None, aozora[1] if aozora else None, timestamp, timestamp)

    # The records -------------------------------------------------------------------------------------------------
    def _famous(self):
        for work in vocabulary.famous_works():
            genre = {"reference": FAMOUS_REFERENCE, "book": FAMOUS_BOOK}.get(work.material_type) or (
                FAMOUS_PICTURE if work.ndc == "726.6" else FAMOUS_CHILDREN)
            volume = work.title.rpartition(" ")[2] if work.title[-1:].isdigit() or work.title[-1:] in "上中下" else ""
            size = 15 if work.series.endswith("文庫") else 27 if genre is not FAMOUS_BOOK else 20
            pages = self.rng.randrange(32, 48, 2) if genre is FAMOUS_PICTURE else self.rng.randrange(120, 600, 2)
            extent = f"{pages}p ; {size}cm"
            if work.language == "eng":
                extent = f"{self.rng.randrange(32, 400, 2)} p. ; 20 cm"
            draft = Draft(work.title, work.reading or None, list(work.creators), work.publisher, work.year, work.ndc,
                          work.material_type, subjects=list(work.subjects),
                          series=[f"{work.series} ; {self.rng.randint(1, 999)}"] if work.series else [],
                          extent=extent, language=work.language, volume=volume,
                          price_yen=int(round(self.rng.uniform(500, 1800), -1)))
            yield genre, draft

    def _magazines(self):
        for magazine in vocabulary.magazines():
            frequency = {52: "週刊", 24: "月2回刊", 12: "月刊", 6: "隔月刊"}.get(magazine.issues_per_year, "不定期刊")
            yield MAGAZINE, Draft(magazine.title, magazine.reading, [], magazine.publisher, None, magazine.ndc,
                                  "magazine", extent="冊 ; 26-30cm", notes=[f"刊行頻度: {frequency}"],
                                  price_yen=magazine.price_yen)

    def _aozora(self):
        for work in vocabulary.aozora_works():
            creator = vocabulary.Creator(work.author, work.author_reading, "著")
            draft = Draft(work.title, work.reading, [creator], "青空文庫", None, "913.6", "e_text",
                          extent="1オンライン資料", notes=["青空文庫の電子テキスト (無料で読めます)"])
            card_url = f"https://www.aozora.gr.jp/cards/{work.person_id:06d}/card{work.work_id}.html"
            yield E_TEXT, draft, (work.work_id, card_url)

    def bib_rows(self):
        bib_id = 0
        for genre, draft in self._famous():
            if bib_id >= self.count:
                return
            bib_id += 1
            yield self._row(bib_id, genre, draft)
        for genre, draft in self._magazines():
            if bib_id >= self.count:
                return
            bib_id += 1
            yield self._row(bib_id, genre, draft)
        for genre, draft, aozora in self._aozora():
            if bib_id >= self.count:
                return
            bib_id += 1
            yield self._row(bib_id, genre, draft, source="aozora", aozora=aozora)
        rng = self.rng
        while bib_id < self.count:
            genre, draft = self.drafter.draft(rng)
            if genre.key in ("fiction", "nonfiction") and rng.random() < 0.03 and bib_id + 2 <= self.count:
                for volume in ("上", "下"):
                    bib_id += 1
                    yield self._row(bib_id, genre, Draft(
                        f"{draft.title} {volume}", f"{draft.reading} {VOLUME_READINGS[volume]}", draft.creators,
                        draft.publisher, draft.year, draft.ndc, draft.material_type, subtitle=draft.subtitle,
                        subjects=draft.subjects, series=draft.series, extent=draft.extent, notes=draft.notes,
                        price_yen=draft.price_yen, volume=volume))
                continue
            if rng.random() < 0.04 and draft.language == "jpn" and draft.material_type == "book":
                draft.edition = rng.choice(("新装版", "第2版", "改訂新版", "増補版"))
            bib_id += 1
            yield self._row(bib_id, genre, draft)

    @property
    def fixed_record_count(self) -> int:
        return len(vocabulary.famous_works()) + len(vocabulary.magazines()) + len(vocabulary.aozora_works())

