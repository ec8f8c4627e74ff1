"""Saving the record form into its MARC21 record: each changed value checked, then written where MARC keeps it.

Only the subfields whose form value changed are written: everything the form does not show — other tags, ``$0``
authority links, romanisations, the form's own fields a cataloguer left alone — survives byte for byte. Readings
are written the way NDL records them: katakana in an 880 linked by ``$6`` (``880 $6 245-01/$1``), typed
hiragana and half-width kana converted.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable

import pymarc
from pymarc import Field, Indicators, Subfield

from shoka.catalogue.bib_form import (HAN, TAG_ENDING_OF_KIND, AuthorEntry, BibForm, author_entries, changed,
                                      clean_reading, clean_text, form_from_record, isbn_entries, isbn_key, isbn_text,
                                      note_entries, subject_entries)
from shoka.catalogue.form_problems import ProblemCollector
from shoka.catalogue.isbn import normalise_isbn
from shoka.catalogue.marc_fields import MaterialType
from shoka.catalogue.marc_linkage import (linked_880s, remove_field, remove_with_links, retag, set_reading,
                                          vernacular_880)
from shoka.catalogue.marc_subfields import NAME, PLAIN, PUBLICATION, TITLE, write_subfield

# Leader/06-07 written for each material type (the extraction reads it back through marc_fields).
LEADER_TYPE = {MaterialType.BOOK: "am", MaterialType.SERIAL: "as", MaterialType.AUDIO: "jm",
               MaterialType.SCORE: "cm", MaterialType.VIDEO: "gm", MaterialType.MAP: "em",
               MaterialType.ELECTRONIC: "mm", MaterialType.OTHER: "pm"}
LONGEST_VALUE = 1000
LONGEST_NOTE = 4000
_NDC = re.compile(r"^[0-9]{3}(\.[0-9]+)?$")
_LANGUAGE = re.compile(r"^[a-z]{3}$")
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2}|2100)(?!\d)")


def apply_form(base: pymarc.Record, form: BibForm) -> pymarc.Record:
    """A copy of ``base`` with the form's changed values written in; raises FormProblems naming each field that
    cannot be saved as typed (every problem at once)."""
    record = copy.deepcopy(base)
    old = form_from_record(base)
    problems = ProblemCollector()
    _check(form, old, problems)
    problems.raise_if_any()
    _write_title(record, form, old, problems)
    _write_authors(record, form, old, problems)
    _write_edition_and_extent(record, form, old)
    _write_publication(record, form, old, problems)
    _write_isbns(record, form)
    _write_classification_and_subjects(record, form, old)
    _write_language_type_and_notes(record, form, old)
    problems.raise_if_any()
    return record


def _check(form: BibForm, old: BibForm, problems: ProblemCollector) -> None:
    if not form.title.strip():
        problems.add("title", "タイトルを入力してください。", "Enter the title.")
    for name in ("title", "subtitle", "responsibility", "edition", "place", "publisher", "publication_date",
                 "extent", "ndc", "title_reading", "subtitle_reading", "publisher_reading"):
        if len(getattr(form, name)) > LONGEST_VALUE:
            problems.add(name, f"{LONGEST_VALUE}文字以内で入力してください。", f"Use at most {LONGEST_VALUE} characters.")
    for name in ("title_reading", "subtitle_reading", "publisher_reading"):
        if changed(getattr(form, name), getattr(old, name), reading=True) and HAN.search(getattr(form, name)):
            problems.add(name, "読みはカタカナで入力してください（漢字は使えません）。",
                         "Write the reading in katakana (no kanji).")
    for reading, text, ja, en in (("subtitle_reading", "subtitle", "副題", "subtitle"),
                                  ("publisher_reading", "publisher", "出版者", "publisher")):
        edited = changed(getattr(form, reading), getattr(old, reading), reading=True) or changed(
            getattr(form, text), getattr(old, text))
        if edited and getattr(form, reading).strip() and not getattr(form, text).strip():
            problems.add(reading, f"読みだけでは登録できません。{ja}も入力してください。",
                         f"A reading needs its {en}: enter the {en} too.")
    old_isbns = {isbn_key(value) for value in old.isbns}
    for value in form.isbns:
        if isbn_key(value) not in old_isbns and normalise_isbn(isbn_text(value)) is None:
            problems.add("isbns", f"ISBN「{value}」は正しくありません（桁数かチェックディジットを確認してください）。",
                         f"ISBN {value!r} is not valid (check the number of digits and the check digit).")
    if changed(form.ndc, old.ndc) and form.ndc and not _NDC.match(unicodedata.normalize("NFKC", form.ndc)):
        problems.add("ndc", "NDCは3桁の数字で入力してください（例: 913.6）。", "Enter the NDC as three digits (e.g. 913.6).")
    if changed(form.publication_date, old.publication_date) and form.publication_date and not _YEAR.search(
            unicodedata.normalize("NFKC", form.publication_date)):
        problems.add("publication_date", "出版年は西暦4桁を含めて入力してください（例: 2019.2、1980（昭和55））。",
                     "Include the four-digit Western year (e.g. 2019.2).")
    if changed(form.language, old.language) and form.language and not _LANGUAGE.match(form.language):
        problems.add("language", "言語はMARCの3文字コードで選んでください（例: jpn）。",
                     "Choose the language as a three-letter MARC code (e.g. jpn).")
    if form.material_type not in MaterialType.__members__.values():
        problems.add("material_type", "資料種別を選んでください。", "Choose a material type.")
    for index, author in enumerate(form.authors):
        if not author.name and (author.reading or author.dates or author.role) and not author.key:
            problems.add(f"authors.{index}.name", "著者名を入力してください（読みだけの著者は登録できません）。",
                         "Enter the author's name (a reading alone cannot be saved).")
        if author.reading and HAN.search(author.reading):
            problems.add(f"authors.{index}.reading", "読みはカタカナで入力してください（漢字は使えません）。",
                         "Write the reading in katakana (no kanji).")
    for name in ("subjects", "notes"):
        if any(len(value) > LONGEST_NOTE for value in getattr(form, name)):
            problems.add(name, f"1行{LONGEST_NOTE}文字以内で入力してください。", f"Use at most {LONGEST_NOTE} characters a line.")


def _write_title(record: pymarc.Record, form: BibForm, old: BibForm, problems: ProblemCollector) -> None:
    title_field = record.get("245")
    if title_field is None:
        title_field = Field(tag="245", indicators=Indicators("0", "0"), subfields=[])
        record.add_ordered_field(title_field)
    for code, name in (("a", "title"), ("b", "subtitle"), ("c", "responsibility")):
        if changed(getattr(form, name), getattr(old, name)):
            target = vernacular_880(record, title_field, code) or title_field
            target.subfields = write_subfield(target.subfields, code, clean_text(getattr(form, name)), TITLE)
    for code, name in (("a", "title_reading"), ("b", "subtitle_reading")):
        if changed(getattr(form, name), getattr(old, name), reading=True):
            if vernacular_880(record, title_field, code) is not None:
                problems.add(name, "この書誌は880にタイトルの漢字形を持つ形式のため、読みはMARC画面で編集してください。",
                             "This record keeps the kanji title in 880; edit its reading in the MARC view.")
                continue
            set_reading(record, title_field, code, clean_reading(getattr(form, name)), TITLE)


def _write_authors(record: pymarc.Record, form: BibForm, old: BibForm, problems: ProblemCollector) -> None:
    entries = author_entries(record)
    kept_keys = set()
    for index, row in enumerate(form.authors):
        if not row.key:
            if row.name:
                _add_author(record, row)
            continue
        if not row.key.isdigit() or int(row.key) >= len(entries):
            problems.add(f"authors.{index}.name", "著者の行が記録と合いません。画面を開き直してください。",
                         "This author row no longer matches the record; reload the page.")
            continue
        kept_keys.add(int(row.key))
        field, before = entries[int(row.key)]
        if not row.name:
            remove_with_links(record, field)
            continue
        _update_author(record, field, before, row, problems, index)
    for position, (field, _entry) in enumerate(entries):
        if position not in kept_keys:
            remove_with_links(record, field)


def _add_author(record: pymarc.Record, row: AuthorEntry) -> None:
    subfields: list[Subfield] = []
    for code, value in (("a", row.name), ("d", row.dates), ("e", row.role)):
        subfields = write_subfield(subfields, code, clean_text(value), NAME)
    # Japanese cataloguing (NCR, as NDL records) has no main entry: authors are added entries (7XX).
    field = Field(tag="7" + TAG_ENDING_OF_KIND[row.kind], subfields=subfields,
                  indicators=Indicators("1" if row.kind == "person" else "2", " "))
    record.add_ordered_field(field)
    if row.reading:
        set_reading(record, field, "a", clean_reading(row.reading), NAME)


def _update_author(record: pymarc.Record, field: Field, before: AuthorEntry, row: AuthorEntry,
                   problems: ProblemCollector, index: int) -> None:
    if row.kind != before.kind:
        retag(record, field, field.tag[0] + TAG_ENDING_OF_KIND[row.kind])
        field.indicators = Indicators("1" if row.kind == "person" else "2", field.indicator2)
    if changed(row.name, before.name):
        target = vernacular_880(record, field, "a") or field
        subfields = [subfield for subfield in target.subfields if not (subfield.code == "b" and field.tag[1:] == "10")]
        target.subfields = write_subfield(subfields, "a", clean_text(row.name), NAME)
    if changed(row.dates, before.dates):
        for target in (field, *(alternate for alternate in linked_880s(record, field).values() if alternate.get("d"))):
            target.subfields = write_subfield(target.subfields, "d", clean_text(row.dates), NAME)
    if changed(row.role, before.role):
        without_codes = [subfield for subfield in field.subfields if subfield.code not in "4j"]
        field.subfields = write_subfield(without_codes, "e", clean_text(row.role), NAME)
    if changed(row.reading, before.reading, reading=True):
        if vernacular_880(record, field, "a") is not None:
            problems.add(f"authors.{index}.reading", "この著者は880に漢字形を持つ形式のため、読みはMARC画面で編集してください。",
                         "This author keeps the kanji name in 880; edit the reading in the MARC view.")
            return
        set_reading(record, field, "a", clean_reading(row.reading), NAME)


def _write_edition_and_extent(record: pymarc.Record, form: BibForm, old: BibForm) -> None:
    for tag, name, separators in (("250", "edition", {"/": "b", "=": "b"}),
                                  ("300", "extent", {":": "b", ";": "c", "+": "e"})):
        value = clean_text(getattr(form, name))
        if not changed(getattr(form, name), getattr(old, name)):
            continue
        field = record.get(tag)
        if value is None:
            if field is not None:
                remove_with_links(record, field)
            continue
        if field is None:
            field = Field(tag=tag, indicators=Indicators(" ", " "), subfields=[])
            record.add_ordered_field(field)
        # The form shows the statement as the extraction joins it ("301p ; 19cm"); split it back at the ISBD marks.
        kept = [subfield for subfield in field.subfields if subfield.code not in "abcdefg3"]
        field.subfields = [*kept, *isbd_subfields(value, separators)]


def _write_publication(record: pymarc.Record, form: BibForm, old: BibForm, problems: ProblemCollector) -> None:
    fields = record.get_fields("260") or [field for field in record.get_fields("264") if field.indicator2 == "1"]
    field = fields[0] if fields else None
    changes = [(code, getattr(form, name))
               for code, name in (("a", "place"), ("b", "publisher"), ("c", "publication_date"))
               if changed(getattr(form, name), getattr(old, name))]
    if changes and field is None:
        field = Field(tag="264", indicators=Indicators(" ", "1"), subfields=[])
        record.add_ordered_field(field)
    for code, value in changes:
        target = vernacular_880(record, field, code) or field
        target.subfields = write_subfield(target.subfields, code, clean_text(value), PUBLICATION)
    if changed(form.publisher_reading, old.publisher_reading, reading=True):
        if field is None or not field.get("b"):
            problems.add("publisher_reading", "出版者の読みは出版者名と一緒に入力してください。",
                         "Enter the publisher's name with its reading.")
        else:
            set_reading(record, field, "b", clean_reading(form.publisher_reading), PUBLICATION)
    if field is not None and not [subfield for subfield in field.subfields if subfield.code != "6"]:
        remove_with_links(record, field)
    if changed(form.publication_date, old.publication_date):
        year = _YEAR.search(unicodedata.normalize("NFKC", form.publication_date))
        _set_fixed(record, 7, year.group() if year else "    ")


def _write_isbns(record: pymarc.Record, form: BibForm) -> None:
    wanted = [isbn_key(value) for value in form.isbns]
    kept: set[str] = set()
    for field, values in isbn_entries(record):
        keys = {isbn_key(value) for value in values}
        if keys & set(wanted):
            kept |= keys
        else:
            remove_field(record, field)
    for value in form.isbns:
        if isbn_key(value) not in kept:
            kept.add(isbn_key(value))
            record.add_ordered_field(Field(tag="020", indicators=Indicators(" ", " "),
                                           subfields=[Subfield("a", unicodedata.normalize("NFKC", value))]))


def _write_classification_and_subjects(record: pymarc.Record, form: BibForm, old: BibForm) -> None:
    if changed(form.ndc, old.ndc):
        ndc = clean_text(unicodedata.normalize("NFKC", form.ndc))
        ndc_fields = [field for field in record.get_fields("084") if re.match(r"(?i)(njb|ndc)", field.get("2") or "")]
        for field in ndc_fields[1:] if ndc else ndc_fields:
            remove_field(record, field)
        if ndc and ndc_fields:
            # A number given today is an NDC10 number, whatever edition the record had.
            subfields = write_subfield(ndc_fields[0].subfields, "a", ndc, PLAIN)
            ndc_fields[0].subfields = write_subfield(subfields, "2", "njb/10", PLAIN)
        elif ndc:
            record.add_ordered_field(Field(tag="084", indicators=Indicators(" ", " "),
                                           subfields=[Subfield("a", ndc), Subfield("2", "njb/10")]))
    _write_lines(record, subject_entries(record), form.subjects, _subject_field)


def _write_language_type_and_notes(record: pymarc.Record, form: BibForm, old: BibForm) -> None:
    if changed(form.language, old.language):
        _set_fixed(record, 35, form.language or "   ")
    if form.material_type != old.material_type:
        leader = str(record.leader)
        record.leader = pymarc.Leader(leader[:6] + LEADER_TYPE[MaterialType(form.material_type)] + leader[8:])
    _write_lines(record, note_entries(record), form.notes,
                 lambda note: Field(tag="500", indicators=Indicators(" ", " "), subfields=[Subfield("a", note)]))


def _write_lines(record: pymarc.Record, entries: list[tuple[Field, str]], values: list[str],
                 make_field: Callable[[str], Field]) -> None:
    """One field per line: fields whose line is still there stay untouched, others go, new lines are added."""
    remaining = [clean_text(value) for value in values]
    for field, value in entries:
        if value in remaining:
            remaining.remove(value)
        else:
            remove_with_links(record, field)
    for value in remaining:
        if value:
            record.add_ordered_field(make_field(value))


def _subject_field(heading: str) -> Field:
    # "電子書籍--日本": the first part is the topic, the rest subdivisions; ind2 4 = thesaurus not named.
    main, *subdivisions = [part.strip() for part in heading.split("--") if part.strip()]
    return Field(tag="650", indicators=Indicators(" ", "4"),
                 subfields=[Subfield("a", main), *(Subfield("x", part) for part in subdivisions)])


def _set_fixed(record: pymarc.Record, position: int, value: str) -> None:
    """Writes positions of 008 (07-10 the year, 35-37 the language), making a 40-character 008 if needed."""
    field = record.get("008")
    if field is None:
        field = Field(tag="008", data=" " * 40)
        record.add_ordered_field(field)
    data = (field.data or "").ljust(40)
    field.data = data[:position] + value + data[position + len(value):]


# --- statements the extraction joins -----------------------------------------------------------------------


def isbd_subfields(text: str, separators: dict[str, str]) -> list[Subfield]:
    """"301p : ill ; 19cm" → $a301p :$bill ;$c19cm: each ISBD mark starts the subfield it introduces."""
    pattern = "|".join(re.escape(mark) for mark in separators)
    parts = re.split(rf"\s+({pattern})\s+", text)
    subfields = [["a", parts[0]]]
    for mark, value in zip(parts[1::2], parts[2::2], strict=True):
        subfields[-1][1] += f" {mark}"
        subfields.append([separators[mark], value])
    return [Subfield(code, value) for code, value in subfields]
