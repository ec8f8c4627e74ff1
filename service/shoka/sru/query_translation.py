"""CQL to the catalogue engine: a parsed CQL tree becomes the one-box query the engine parses
(engine/src/catalogue/query_syntax.rs), or a list of record ids for `rec.id`.

| CQL                                  | engine query                                       |
|--------------------------------------|----------------------------------------------------|
| cql.anywhere / cql.serverChoice / bare term = 猫 犬 | any:"猫" AND any:"犬" (every word, any field) |
| dc.title = 銀河 鉄道  (also creator, subject, publisher) | title:"銀河 鉄道" (a phrase)          |
| dc.title adj 銀河 鉄道                | title:"銀河 鉄道"                                  |
| dc.title all 銀河 鉄道                | (title:"銀河" AND title:"鉄道")                    |
| dc.title any 猫 犬                    | (title:"猫" OR title:"犬")                         |
| dc.title == 銀河鉄道の夜  (exact)      | title:="銀河鉄道の夜" (the whole title or reading)  |
| dc.creator == 宮沢 賢治                | author:"宮沢 賢治" (a phrase: only titles keep exact keys) |
| dc.title = 銀河*                       | title:銀河* (truncation at the end of a word)     |
| dc.date = 1990 / < / <= / > / >=      | year:1990 / year:-1989 / year:-1990 / year:1991- / year:1990- |
| dc.date within "1990 1999"            | year:1990-1999                                     |
| dc.date <> 1990                       | NOT year:1990                                      |
| bath.isbn = 4-7949-7075-7             | isbn:"4-7949-7075-7" (ISBN-10 and -13 match alike) |
| rec.id = 42, rec.id any "1 2 3"       | the records with those ids (read from PostgreSQL)  |
| a and b, a or b, a not b, ( )        | (a) AND (b), (a) OR (b), (a) NOT (b), grouping     |
| sortBy dc.date/sort.descending        | sort year_newest (ascending: year_oldest)          |
| sortBy dc.title, sortBy dc.creator    | sort title, sort author (by reading)               |

Every term is written quoted, so nothing a user types can become one-box syntax. What the engine cannot
do is refused with the SRU diagnostic that names it (unsupported index 16, relation 19, masking 28, …).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from shoka.catalogue.search_models import SortOrder
from shoka.sru.cql import (BooleanClause, CqlNode, CqlQuery, Mask, Modifier, ScopedQuery, SearchClause, SortKey,
                           decode_term)
from shoka.sru.diagnostics import SruDiagnostic


class IndexKind(Enum):
    TEXT = "text"
    DATE = "date"
    ISBN = "isbn"
    RECORD_ID = "record_id"
    ALL_RECORDS = "all_records"


@dataclass(frozen=True)
class SupportedIndex:
    context_set: str
    name: str
    kind: IndexKind
    engine_field: str
    title_ja: str
    title_en: str
    relations: tuple[str, ...]


TEXT_RELATIONS = ("=", "==", "exact", "adj", "all", "any")
SUPPORTED_INDEXES: tuple[SupportedIndex, ...] = (
    SupportedIndex("cql", "anywhere", IndexKind.TEXT, "any", "すべての項目", "Anywhere", TEXT_RELATIONS),
    SupportedIndex("cql", "serverChoice", IndexKind.TEXT, "any", "すべての項目（既定）", "Server choice", TEXT_RELATIONS),
    SupportedIndex("cql", "allRecords", IndexKind.ALL_RECORDS, "", "全件", "All records", ("=",)),
    SupportedIndex("dc", "title", IndexKind.TEXT, "title", "書名（読みを含む）", "Title (with reading)", TEXT_RELATIONS),
    SupportedIndex("dc", "creator", IndexKind.TEXT, "author", "著者名（読みを含む）", "Creator (with reading)", TEXT_RELATIONS),
    SupportedIndex("dc", "subject", IndexKind.TEXT, "subject", "件名", "Subject", TEXT_RELATIONS),
    SupportedIndex("dc", "publisher", IndexKind.TEXT, "publisher", "出版者", "Publisher", TEXT_RELATIONS),
    SupportedIndex("dc", "date", IndexKind.DATE, "year", "出版年", "Year of publication",
                   ("=", "==", "exact", "<", "<=", ">", ">=", "<>", "within", "any")),
    SupportedIndex("bath", "isbn", IndexKind.ISBN, "isbn", "ISBN", "ISBN", ("=", "==", "exact", "adj", "any", "all")),
    SupportedIndex("rec", "id", IndexKind.RECORD_ID, "", "レコードID", "Record id", ("=", "==", "exact", "any")),
)

CONTEXT_SETS: dict[str, str] = {
    "cql": "info:srw/cql-context-set/1/cql-v1.2",
    "dc": "info:srw/cql-context-set/1/dc-v1.1",
    "bath": "http://zing.z3950.org/cql/bath/2.0/",
    "rec": "info:srw/cql-context-set/2/rec-1.1",
}
# Other identifiers clients use for the same sets.
_CONTEXT_SET_ALIASES = {"info:srw/cql-context-set/1/cql-v1.1": "cql", "info:srw/cql-context-set/1/dc-v1.0": "dc",
                        "info:srw/cql-context-set/2/rec-1.0": "rec"}
_SET_OF_URI = {uri: name for name, uri in CONTEXT_SETS.items()} | _CONTEXT_SET_ALIASES
# An index without a prefix is looked up in these sets in turn (unless the query assigned a default set).
_UNPREFIXED_LOOKUP_ORDER = ("cql", "dc", "bath", "rec")
_INDEX_BY_KEY = {(index.context_set, index.name.lower()): index for index in SUPPORTED_INDEXES}

# Relation modifiers that change nothing here: the engine always folds case and ranks by relevance.
_IGNORED_RELATION_MODIFIERS = frozenset({"relevant", "cql.relevant", "ignorecase", "cql.ignorecase", "string",
                                         "cql.string", "word", "cql.word"})
_RELATION_SYNONYMS = {"exact": "==", "scr": "="}
# The engine refuses a query of more words than this (query_syntax.rs, MOST_QUERY_TERMS).
MOST_ENGINE_WORDS = 64
_YEAR = re.compile(r"^\s*(\d{1,4})(?:-\d{1,2}(?:-\d{1,2})?)?\s*$")
_QUOTE_LIKE = re.compile('["\u201c\u201d\u201e]')


@dataclass(frozen=True)
class EngineSearch:
    """A search for the engine: the one-box query text and the sort order."""

    query: str
    sort: SortOrder = "relevance"


@dataclass(frozen=True)
class RecordIdSearch:
    """`rec.id` lookups: the records with these ids, in id order."""

    bib_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Fragment:
    text: str
    words: int


@dataclass(frozen=True)
class _Scope:
    prefixes: dict[str, str]
    default_set: str | None


def translate(query: CqlQuery, sort_keys: tuple[SortKey, ...] = ()) -> EngineSearch | RecordIdSearch:
    """The engine search for a CQL query; raises `SruDiagnostic` for what the catalogue cannot search."""
    scope = _Scope({}, None)
    root, scope = _unwrap_scopes(query.root, scope)
    if isinstance(root, SearchClause) and _resolve_index(root.index, scope).kind is IndexKind.ALL_RECORDS:
        return EngineSearch("", translate_sort(query.sort_keys or sort_keys))
    result = _translate_node(root, scope)
    if isinstance(result, frozenset):
        return RecordIdSearch(tuple(sorted(result)))
    if result.words > MOST_ENGINE_WORDS:
        raise SruDiagnostic(38, f"at most {MOST_ENGINE_WORDS} search words", "The query has too many search words")
    return EngineSearch(result.text, translate_sort(query.sort_keys or sort_keys))


def _unwrap_scopes(node: CqlNode, scope: _Scope) -> tuple[CqlNode, _Scope]:
    while isinstance(node, ScopedQuery):
        prefixes = dict(scope.prefixes)
        default_set = scope.default_set
        for assignment in node.assignments:
            set_name = _SET_OF_URI.get(assignment.uri)
            if set_name is None:
                raise SruDiagnostic(15, assignment.uri)
            if assignment.prefix is None:
                default_set = set_name
            else:
                prefixes[assignment.prefix.lower()] = set_name
        scope = _Scope(prefixes, default_set)
        node = node.query
    return node, scope


def _resolve_index(name: str, scope: _Scope) -> SupportedIndex:
    prefix, dot, base = name.rpartition(".")
    if dot:
        set_name = scope.prefixes.get(prefix.lower()) or (prefix.lower() if prefix.lower() in CONTEXT_SETS else None)
        if set_name is None:
            raise SruDiagnostic(15, prefix, f"Unsupported context set {prefix!r}; supported: "
                                            f"{', '.join(CONTEXT_SETS)}")
        candidates = (set_name,)
    else:
        candidates = (scope.default_set,) if scope.default_set else _UNPREFIXED_LOOKUP_ORDER
    for set_name in candidates:
        if (index := _INDEX_BY_KEY.get((set_name, base.lower()))) is not None:
            return index
    supported = ", ".join(f"{index.context_set}.{index.name}" for index in SUPPORTED_INDEXES)
    raise SruDiagnostic(16, name, f"Unsupported index {name!r}; supported: {supported}")


def _translate_node(node: CqlNode, scope: _Scope) -> _Fragment | frozenset[int]:
    node, scope = _unwrap_scopes(node, scope)
    if isinstance(node, SearchClause):
        return _translate_clause(node, scope)
    assert isinstance(node, BooleanClause)
    if node.operator == "prox":
        raise SruDiagnostic(37, "prox", "Proximity (prox) is not supported; use adj for a phrase")
    if node.modifiers:
        raise SruDiagnostic(46, node.modifiers[0].name)
    left = _translate_node(node.left, scope)
    right = _translate_node(node.right, scope)
    if isinstance(left, frozenset) and isinstance(right, frozenset):
        return {"and": left & right, "or": left | right, "not": left - right}[node.operator]
    if isinstance(left, frozenset) or isinstance(right, frozenset):
        raise SruDiagnostic(48, "rec.id",
                            "rec.id can be combined only with other rec.id clauses")
    engine_operator = {"and": "AND", "or": "OR", "not": "NOT"}[node.operator]
    return _Fragment(f"({left.text}) {engine_operator} ({right.text})", left.words + right.words)


def _translate_clause(clause: SearchClause, scope: _Scope) -> _Fragment | frozenset[int]:
    index = _resolve_index(clause.index, scope)
    relation = _RELATION_SYNONYMS.get(clause.relation.lower(), clause.relation.lower())
    allowed = {_RELATION_SYNONYMS.get(name, name) for name in index.relations}
    if relation not in allowed:
        raise SruDiagnostic(19, clause.relation, f"Unsupported relation {clause.relation!r} for {index.context_set}."
                                                 f"{index.name}; supported: {', '.join(index.relations)}")
    _check_relation_modifiers(clause.relation_modifiers)
    if index.kind is IndexKind.TEXT:
        return _text_clause(index, relation, clause.term)
    if index.kind is IndexKind.DATE:
        return _date_clause(relation, clause.term)
    if index.kind is IndexKind.ISBN:
        return _isbn_clause(relation, clause.term)
    if index.kind is IndexKind.RECORD_ID:
        return _record_id_clause(relation, clause.term)
    raise SruDiagnostic(48, f"{index.context_set}.{index.name}",
                        "cql.allRecords can only be the whole query")


def _check_relation_modifiers(modifiers: tuple[Modifier, ...]) -> None:
    for modifier in modifiers:
        if modifier.name.lower() not in _IGNORED_RELATION_MODIFIERS or modifier.comparison is not None:
            raise SruDiagnostic(20, modifier.name)


# --- terms -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    text: str
    truncated: bool


def _literal_text(raw: str, index_name: str) -> str:
    """The term's text when it may hold no masks (dates, ISBNs, ids, exact titles)."""
    parts = decode_term(raw)
    if any(isinstance(part, Mask) for part in parts):
        raise SruDiagnostic(28, raw, f"Masking characters (* ? ^) are not supported with {index_name}; "
                                     "escape them as \\* to search for them")
    return "".join(part for part in parts if isinstance(part, str)).strip()


def _words(raw: str) -> list[_Word]:
    """The term's words; a `*` is allowed only at the end of a word (prefix search)."""
    words: list[_Word] = []
    current: list[str] = []
    truncated = False
    for part in decode_term(raw):
        if isinstance(part, Mask):
            if part.kind == "anchor":
                raise SruDiagnostic(31, raw)
            if part.kind == "one_character" or not current or truncated:
                raise SruDiagnostic(28, raw, "Only truncation at the end of a word (word*) is supported")
            truncated = True
            continue
        for character in part:
            if character.isspace():
                if current:
                    words.append(_Word("".join(current), truncated))
                current, truncated = [], False
            elif truncated:
                raise SruDiagnostic(28, raw, "Only truncation at the end of a word (word*) is supported")
            else:
                current.append(character)
    if current:
        words.append(_Word("".join(current), truncated))
    return words


def _clean(text: str) -> str:
    """Text safe inside the engine's quotes: NFKC first (the engine folds the same way), then no quote marks."""
    return " ".join(_QUOTE_LIKE.sub(" ", unicodedata.normalize("NFKC", text)).split())


def _engine_word(field: str, word: _Word, raw: str) -> str:
    if not word.truncated:
        return f'{field}:"{_clean(word.text)}"'
    stem = unicodedata.normalize("NFKC", word.text)
    if _QUOTE_LIKE.search(stem) or any(character in "()" or character.isspace() for character in stem) \
            or stem.startswith("="):
        raise SruDiagnostic(28, raw, "Truncation (*) needs a plain word without brackets or quotes before it")
    return f"{field}:{stem}*"


def _text_clause(index: SupportedIndex, relation: str, raw: str) -> _Fragment:
    words = [word for word in _words(raw) if _clean(word.text) or word.truncated]
    if not words:
        raise SruDiagnostic(27, raw, "The search term is empty")
    field = index.engine_field
    if relation == "==" and index.name == "title":
        if any(word.truncated for word in words):
            raise SruDiagnostic(28, raw, "Truncation cannot be combined with an exact match")
        return _Fragment(f'{field}:="{_clean(" ".join(word.text for word in words))}"', len(words))
    # "=" is the server's choice (CQL 1.2): every word anywhere, like the OPAC box; a phrase within one field.
    as_phrase = relation in ("adj", "==") or (relation == "=" and field != "any")
    if as_phrase and len(words) > 1:
        if any(word.truncated for word in words):
            raise SruDiagnostic(28, raw, "Truncation is supported for single words, not inside a phrase")
        return _Fragment(f'{field}:"{_clean(" ".join(word.text for word in words))}"', len(words))
    joined = [_engine_word(field, word, raw) for word in words]
    if len(joined) == 1:
        return _Fragment(joined[0], 1)
    operator = " OR " if relation == "any" else " AND "
    return _Fragment("(" + operator.join(joined) + ")", len(joined))


def _year(text: str, raw: str) -> int:
    match = _YEAR.match(text)
    year = int(match.group(1)) if match else -1
    if not 0 <= year <= 2999:
        raise SruDiagnostic(36, raw, "dc.date takes a year such as 1990 (or 1990-04-01; the year is used)")
    return year


def _date_clause(relation: str, raw: str) -> _Fragment:
    text = _literal_text(raw, "dc.date")
    if relation == "within":
        bounds = text.split()
        if len(bounds) != 2:
            raise SruDiagnostic(36, raw, 'dc.date within takes two years: "1990 1999"')
        low, high = sorted((_year(bounds[0], raw), _year(bounds[1], raw)))
        return _Fragment(f"year:{low}-{high}", 1)
    if relation == "any":
        years = [_year(part, raw) for part in text.split()]
        if not years:
            raise SruDiagnostic(27, raw, "The search term is empty")
        return _Fragment("(" + " OR ".join(f"year:{year}" for year in years) + ")", len(years))
    year = _year(text, raw)
    if relation == "<" and year == 0 or relation == ">" and year == 2999:
        raise SruDiagnostic(36, raw, "no year of publication lies outside 0–2999")
    ranges = {"=": f"{year}", "==": f"{year}", "<": f"-{year - 1}", "<=": f"-{year}", ">": f"{year + 1}-",
              ">=": f"{year}-"}
    if relation == "<>":
        return _Fragment(f"NOT year:{year}", 1)
    return _Fragment(f"year:{ranges[relation]}", 1)


def _isbn_clause(relation: str, raw: str) -> _Fragment:
    text = _clean(_literal_text(raw, "bath.isbn"))
    if not text:
        raise SruDiagnostic(27, raw, "The search term is empty")
    if relation in ("any", "all"):
        parts = [f'isbn:"{part}"' for part in text.split()]
        operator = " OR " if relation == "any" else " AND "
        return _Fragment("(" + operator.join(parts) + ")", len(parts))
    return _Fragment(f'isbn:"{"".join(text.split())}"', 1)


def _record_id_clause(relation: str, raw: str) -> frozenset[int]:
    parts = _literal_text(raw, "rec.id").split()
    if not parts or (relation != "any" and len(parts) != 1):
        raise SruDiagnostic(36, raw, "rec.id takes a record number (rec.id any takes several)")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in parts):
        raise SruDiagnostic(36, raw, "rec.id takes record numbers such as 42")
    return frozenset(int(part) for part in parts)


# --- sorting -------------------------------------------------------------------------------------------------

_SORTS: dict[tuple[str, str], SortOrder] = {("date", "ascending"): "year_oldest", ("date", "descending"): "year_newest",
                                            ("title", "ascending"): "title", ("creator", "ascending"): "author"}


def translate_sort(keys: tuple[SortKey, ...]) -> SortOrder:
    if not keys:
        return "relevance"
    if len(keys) > 1:
        raise SruDiagnostic(84, " ".join(key.index for key in keys), "Only one sort key is supported")
    key = keys[0]
    names = {modifier.name.lower() for modifier in key.modifiers}
    direction = "descending" if names & {"sort.descending", "descending"} else "ascending"
    try:
        index: SupportedIndex | None = _resolve_index(key.index, _Scope({}, None))
    except SruDiagnostic:
        index = None
    if index is None or index.context_set != "dc" or (index.name, "ascending") not in _SORTS:
        raise SruDiagnostic(88, key.index, "Sorting is supported by dc.date, dc.title and dc.creator")
    if (index.name, direction) not in _SORTS:
        raise SruDiagnostic(90, direction, f"{index.context_set}.{index.name} sorts ascending only")
    return _SORTS[(index.name, direction)]


def parse_sort_keys_parameter(text: str) -> tuple[SortKey, ...]:
    """The SRU 1.1 / 2.0 `sortKeys` parameter: space-separated `path,schema,ascending,caseSensitive,missing`."""
    keys = []
    for item in text.split():
        fields = item.split(",")
        ascending = fields[2] if len(fields) > 2 and fields[2] else "1"
        if ascending not in ("0", "1"):
            raise SruDiagnostic(90, ascending, "sortKeys takes 1 (ascending) or 0 (descending)")
        keys.append(SortKey(fields[0], (Modifier("sort.descending"),) if ascending == "0" else ()))
    return tuple(keys)
