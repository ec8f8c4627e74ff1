"""The raw MARC view of the record editor: a MARC21 record as lines of text a cataloguer can edit, and back.

One field per line, in record order::

    LDR 00000cam_a2200000_i_4500
    001 029455884
    008 190212s2019____ja_||||g_||||_||||||jpn__
    020 __ $a978-4-7949-7075-6 :$c1700円
    245 00 $6880-01$aこれからの本の話をしよう /$c萩野正昭 著.
    880 00 $6245-01/$1$aコレカラ ノ ホン ノ ハナシ オ シヨウ.

- ``LDR`` is the leader (24 characters). A control field (tags 001–009) is its tag, a space and its data.
- A data field is its tag, its two indicators, a space, then its subfields, each ``$`` + code + value.
- A blank is written ``_`` in the leader, in indicators and in the fixed-length fields 006, 007 and 008, where
  every position counts and a trailing blank must survive copying and pasting (``#`` is read as a blank too).
- A ``$`` inside a value is written ``{dollar}``, except in the script id that ends an 880 linkage, which is
  written as catalogues print it: ``$6245-01/$1``. Empty lines are ignored. The lengths and the base address in
  the leader are recomputed when the record is saved, so they need not be right here.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec
import pymarc
from pymarc import Field, Indicators, Subfield

from shoka.errors import Unprocessable

LEADER_TAG = "LDR"
LEADER_LENGTH = 24
POSITIONAL_CONTROL_TAGS = frozenset({"006", "007", "008"})
DOLLAR_ESCAPE = "{dollar}"
CJK_SCRIPT = "$1"  # the script id of a linkage ($6 245-01/$1) is written as is
MOST_PROBLEMS_SHOWN = 20
_TAG = re.compile(r"^[0-9A-Za-z]{3}$")
_INDICATOR = re.compile(r"^[0-9a-z _#]$")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class MarcTextProblem(msgspec.Struct, frozen=True):
    """One line that cannot be read, in both languages; ``line`` is 1-based (0: the text as a whole)."""

    line: int
    ja: str
    en: str

    def describe(self, language: str) -> str:
        if language == "en":
            return f"line {self.line}: {self.en}" if self.line else self.en
        return f"{self.line}行目: {self.ja}" if self.line else self.ja


class MarcTextInvalid(Unprocessable):
    """The MARC text has lines that are not fields; ``problems`` names each line and why."""

    code = "invalid_marc_text"

    def __init__(self, problems: list[MarcTextProblem]) -> None:
        self.problems = problems[:MOST_PROBLEMS_SHOWN]
        super().__init__("; ".join(f"{problem.describe('ja')} / {problem.describe('en')}" for problem in self.problems))


def is_control_tag(tag: str) -> bool:
    return tag.isdigit() and tag < "010"


def record_to_text(record: pymarc.Record) -> str:
    lines = [f"{LEADER_TAG} {str(record.leader).replace(' ', '_')}"]
    for field in record.fields:
        if field.control_field:
            data = field.data or ""
            if field.tag in POSITIONAL_CONTROL_TAGS:
                data = data.replace(" ", "_")
            lines.append(f"{field.tag} {data}")
            continue
        indicators = "".join(_blank_as_underscore(indicator) for indicator in field.indicators)
        subfields = "".join(f"${subfield.code}{_escaped(subfield)}" for subfield in field.subfields)
        lines.append(f"{field.tag} {indicators} {subfields}")
    return "\n".join(lines) + "\n"


def record_from_text(text: str) -> pymarc.Record:
    """The record the lines describe; raises MarcTextInvalid naming every line that is not a field."""
    problems: list[MarcTextProblem] = []
    leader: str | None = None
    fields: list[Field] = []
    for number, raw_line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = unicodedata.normalize("NFC", raw_line.rstrip("\n"))
        if not line.strip():
            continue
        if _CONTROL_CHARACTER.search(line):
            problems.append(MarcTextProblem(number, "制御文字が含まれています（ISO 2709 の区切りと衝突します）。",
                                            "the line holds a control character (it would break the ISO 2709 framing)"))
            continue
        tag, _, rest = line.partition(" ")
        if tag == LEADER_TAG:
            if leader is not None:
                problems.append(MarcTextProblem(number, "リーダー（LDR）が2つあります。", "the leader (LDR) appears twice"))
                continue
            leader = _positional(rest)
            if len(leader) != LEADER_LENGTH or not leader.isascii():
                problems.append(MarcTextProblem(
                    number, f"リーダーは半角24文字です（{len(leader)}文字あります）。",
                    f"the leader must be 24 ASCII characters (it has {len(leader)})"))
            continue
        if not _TAG.match(tag):
            problems.append(MarcTextProblem(number, f"「{tag[:10]}」はタグ（数字3桁）ではありません。",
                                            f"{tag[:10]!r} is not a tag (three digits)"))
            continue
        try:
            fields.append(_control_field(tag, rest) if is_control_tag(tag) else _data_field(tag, rest))
        except _LineProblem as problem:
            problems.append(MarcTextProblem(number, problem.ja, problem.en))
    if leader is None:
        problems.insert(0, MarcTextProblem(0, "リーダー（LDR の行）がありません。", "there is no leader (LDR line)"))
    if not fields:
        problems.append(MarcTextProblem(0, "フィールドが1つもありません。", "the record has no fields"))
    if problems:
        raise MarcTextInvalid(problems)
    record = pymarc.Record(leader=leader)
    record.force_utf8 = True  # saved as UTF-8 (leader/09 "a"); set after the leader so the text shows it as typed
    record.fields = fields
    return record


class _LineProblem(Exception):
    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja, self.en = ja, en


def _control_field(tag: str, data: str) -> Field:
    if not data:
        raise _LineProblem(f"{tag} にデータがありません。", f"field {tag} has no data")
    return Field(tag=tag, data=_positional(data) if tag in POSITIONAL_CONTROL_TAGS else data)


def _data_field(tag: str, rest: str) -> Field:
    indicators, _, body = rest.partition(" ")
    if len(indicators) != 2 or not all(_INDICATOR.match(indicator) for indicator in indicators):
        raise _LineProblem(f"{tag} のインジケータは2文字（数字・英小文字、空白は _）で書きます。",
                           f"field {tag} needs two indicators (digits or lower-case letters, _ for blank)")
    if not body.startswith("$"):
        raise _LineProblem(f"{tag} のサブフィールドは $ と識別記号で始めます（例: $a）。",
                           f"the subfields of field {tag} start with $ and a code (e.g. $a)")
    subfields: list[Subfield] = []
    for chunk in body.split("$")[1:]:
        if chunk == CJK_SCRIPT[1:] and subfields and subfields[-1].code == "6" and subfields[-1].value.endswith("/"):
            subfields[-1] = Subfield("6", subfields[-1].value + CJK_SCRIPT)
            continue
        if not chunk or not ("!" <= chunk[0] <= "~"):
            raise _LineProblem(f"{tag} に識別記号のない $ があります（値の中の $ は {DOLLAR_ESCAPE} と書きます）。",
                               f"field {tag} has a $ without a subfield code (write a $ in a value as {DOLLAR_ESCAPE})")
        subfields.append(Subfield(chunk[0], chunk[1:].replace(DOLLAR_ESCAPE, "$")))
    return Field(tag=tag, indicators=Indicators(*(_underscore_as_blank(indicator) for indicator in indicators)),
                 subfields=subfields)


def _escaped(subfield: Subfield) -> str:
    # A linkage ends in its script id, and NDL's readings are "$6 245-01/$1": written as is, as catalogues print it.
    if subfield.code == "6" and subfield.value.endswith("/" + CJK_SCRIPT):
        return subfield.value[: -len(CJK_SCRIPT)].replace("$", DOLLAR_ESCAPE) + CJK_SCRIPT
    return subfield.value.replace("$", DOLLAR_ESCAPE)


def _positional(text: str) -> str:
    return text.replace("_", " ").replace("#", " ")


def _blank_as_underscore(indicator: str) -> str:
    return "_" if indicator in (" ", "", "\\") else indicator


def _underscore_as_blank(indicator: str) -> str:
    return " " if indicator in ("_", "#") else indicator
