"""Merging the libraries' answers into one list: the same book from several libraries becomes one entry
that lists every library holding it.

Two records are the same book when they share an ISBN-13, or else, when at most one of them has an ISBN
(two different ISBNs are two editions), when their normalised title and first author agree. Normalising
folds what differs between catalogues but not between books: NFKC (full-width and half-width forms), case,
katakana to hiragana (NDL writes readings in katakana, others in hiragana), spaces, punctuation and
symbols, and the role word a catalogue may append to a name (宮沢賢治 著).

Entries keep the order the libraries ranked them, taking each library's first hit, then each one's second,
and so on, so no library's best matches are pushed below another's long tail.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from shoka.federation.results import LibraryRecord, MergedRecordOut, SourceOut

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# Role words that follow a name in Japanese statements of responsibility; longest first.
_ROLE_SUFFIXES = ("責任編集", "編著", "共著", "監修", "監訳", "原作", "著", "編", "訳", "作", "文", "絵", "画")


def normalised_text(text: str) -> str:
    """Text as a comparison key: NFKC, case-folded, hiragana for katakana, no spaces/punctuation/symbols."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)
    return "".join(character for character in folded if unicodedata.category(character)[0] not in "PSZC")


def normalised_name(name: str) -> str:
    key = normalised_text(name)
    for suffix in _ROLE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[:-len(suffix)]
    return key


def title_author_key(record: LibraryRecord) -> str | None:
    title = normalised_text(record.title)
    if not title:
        return None
    # Without an author the year keeps two different anthologies of one title apart.
    who = normalised_name(record.authors[0]) if record.authors else f"year:{record.year or ''}"
    return f"{title}\x1f{who}"


@dataclass
class _Group:
    first: LibraryRecord
    isbns: list[str] = field(default_factory=list)
    sources: list[SourceOut] = field(default_factory=list)

    def add(self, record: LibraryRecord) -> None:
        if not any(source.library == record.source.library and source.record_id == record.source.record_id
                   for source in self.sources):
            self.sources.append(record.source)
        self.isbns.extend(isbn for isbn in record.isbns if isbn not in self.isbns)

    def merged(self) -> MergedRecordOut:
        return MergedRecordOut(title=self.first.title, authors=self.first.authors, year=self.first.year,
                               isbn=self.isbns[0] if self.isbns else None, sources=self.sources)


def interleaved(answers: list[list[LibraryRecord]]) -> list[LibraryRecord]:
    """Each library's first record, then each one's second, …, in library order."""
    order = []
    for rank in range(max((len(records) for records in answers), default=0)):
        order.extend(records[rank] for records in answers if rank < len(records))
    return order


def merge_records(answers: list[list[LibraryRecord]]) -> list[MergedRecordOut]:
    """`answers` holds each library's records in its own ranking, the local library first."""
    groups: list[_Group] = []
    by_isbn: dict[str, _Group] = {}
    by_title_author: dict[str, _Group] = {}
    for record in interleaved(answers):
        group = next((by_isbn[isbn] for isbn in record.isbns if isbn in by_isbn), None)
        key = title_author_key(record)
        if group is None and key is not None and key in by_title_author:
            candidate = by_title_author[key]
            if not candidate.isbns or not record.isbns:
                group = candidate
        if group is None:
            group = _Group(first=record)
            groups.append(group)
        group.add(record)
        for isbn in record.isbns:
            by_isbn.setdefault(isbn, group)
        if key is not None:
            by_title_author.setdefault(key, group)
    return [group.merged() for group in groups]
