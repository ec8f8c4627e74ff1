"""Writing one subfield of a MARC field the way cataloguers write it: in its place among the others, with the
ISBD mark that ends the subfield before it (``$a本の話 /$c萩野正昭 著``).

Only the changed subfield and its neighbour are re-punctuated, so the rest of a field keeps the punctuation it
was catalogued with.
"""

from __future__ import annotations

import re

import msgspec
from pymarc import Subfield

_TRAILING_MARK = re.compile(r"\s*[:/;,=]\s*$")


class Punctuation(msgspec.Struct, frozen=True):
    """How a field is written: the order its subfields go in, and the mark that ends a subfield followed by a
    given code (a code not listed keeps whatever mark the cataloguer wrote)."""

    order: str
    before_next: dict[str, str] = {}


TITLE = Punctuation(order="6ahnpbc", before_next={"b": " :", "c": " /", "n": ".", "p": "."})
NAME = Punctuation(order="6abcqde", before_next={"d": ",", "e": ",", "q": ""})
PUBLICATION = Punctuation(order="6abc", before_next={"a": " ;", "b": " :", "c": ","})
PLAIN = Punctuation(order="6abcdefghijklmnopqrstuvwxyz0123456789")


def write_subfield(subfields: list[Subfield], code: str, value: str | None, style: Punctuation) -> list[Subfield]:
    """``subfields`` with the first ``code`` set to ``value`` (removed when None): in place if it is there, otherwise
    after the last subfield whose code comes earlier in the style's order."""
    result = list(subfields)
    position = next((index for index, subfield in enumerate(result) if subfield.code == code), None)
    if position is not None and value is None:
        del result[position]
        return _marked(result, [position - 1], style)
    if position is not None:
        result[position] = Subfield(code, value)
        return _marked(result, [position - 1, position], style)
    if value is None:
        return result
    earlier = style.order[: style.order.index(code)] if code in style.order else style.order
    position = 0
    for index, subfield in enumerate(result):
        if subfield.code in earlier:
            position = index + 1
    result.insert(position, Subfield(code, value))
    return _marked(result, [position - 1, position], style)


def _marked(subfields: list[Subfield], positions: list[int], style: Punctuation) -> list[Subfield]:
    for position in positions:
        if not 0 <= position < len(subfields) or subfields[position].code == "6":
            continue
        following = subfields[position + 1].code if position + 1 < len(subfields) else None
        if following is not None and following not in style.before_next:
            continue
        subfield = subfields[position]
        mark = style.before_next.get(following, "") if following is not None else ""
        value = _TRAILING_MARK.sub("", subfield.value)
        if mark.strip() and value.endswith(mark.strip()):
            mark = ""  # "第1巻." before $p keeps its one period
        subfields[position] = Subfield(subfield.code, value + mark)
    return subfields
