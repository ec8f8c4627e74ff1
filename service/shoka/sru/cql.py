"""CQL (Contextual Query Language, version 1.2): a recursive-descent parser into a small tree, and the
serialiser that writes a tree back as CQL.

The grammar (https://www.loc.gov/standards/sru/cql/spec.html), as this parser reads it:

    sortedQuery    ::= prefixAssign* scopedClause ("sortBy" sortSpec+)?
    cqlQuery       ::= prefixAssign* scopedClause
    prefixAssign   ::= ">" term "=" term | ">" term
    scopedClause   ::= searchClause (boolean modifier* searchClause)*      left-associative, one precedence
    boolean        ::= "and" | "or" | "not" | "prox"                      case-insensitive
    searchClause   ::= "(" cqlQuery ")" | index relation modifier* term | term
    relation       ::= "=" | "==" | "<>" | "<" | ">" | "<=" | ">=" | a named relation (any, all, adj, exact…)
    modifier       ::= "/" term (comparison term)?
    term           ::= a word (no whitespace and none of ( ) = < > " /) or a "quoted string" (\\ escapes)

A term is kept as written between its quotes (backslash escapes included), because `\\*` (a literal
asterisk) and `*` (truncation) mean different things; `decode_term` splits it into literal text and masks.
A bare term means `cql.serverChoice = term`. Every failure is a `CqlSyntaxError` naming what was expected
and where, which the SRU layer reports as diagnostic 10.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Union

BooleanOperator = Literal["and", "or", "not", "prox"]
BOOLEAN_OPERATORS: frozenset[str] = frozenset({"and", "or", "not", "prox"})
COMPARISON_SYMBOLS: tuple[str, ...] = ("==", "<>", "<=", ">=", "=", "<", ">")
SERVER_CHOICE_INDEX = "cql.serverChoice"
DEFAULT_RELATION = "="

# Guards against input built to exhaust the stack or the CPU; real queries are far smaller.
LONGEST_QUERY_CHARACTERS = 4000
DEEPEST_NESTING = 50
MOST_BOOLEAN_OPERATORS = 100


class CqlSyntaxError(ValueError):
    """The query is not CQL. `position` is the 0-based character offset where reading stopped."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


class CqlTooComplex(CqlSyntaxError):
    """Well-formed, but with more boolean operators or nesting than the server evaluates."""


@dataclass(frozen=True)
class Modifier:
    """`/name`, or `/name comparison value` (relation, boolean and sort modifiers)."""

    name: str
    comparison: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class SearchClause:
    index: str
    relation: str
    term: str
    relation_modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True)
class BooleanClause:
    operator: BooleanOperator
    left: "CqlNode"
    right: "CqlNode"
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True)
class PrefixAssignment:
    """`> dc = "info:srw/cql-context-set/1/dc-v1.1"`; `prefix` is None for a default context set."""

    prefix: str | None
    uri: str


@dataclass(frozen=True)
class ScopedQuery:
    """A query preceded by prefix assignments that apply inside it."""

    assignments: tuple[PrefixAssignment, ...]
    query: "CqlNode"


@dataclass(frozen=True)
class SortKey:
    index: str
    modifiers: tuple[Modifier, ...] = ()


CqlNode = Union[SearchClause, BooleanClause, ScopedQuery]


@dataclass(frozen=True)
class CqlQuery:
    root: CqlNode
    sort_keys: tuple[SortKey, ...] = field(default=())


# --- tokens --------------------------------------------------------------------------------------------------

TokenKind = Literal["open", "close", "slash", "comparison", "word", "quoted", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    position: int

    def is_keyword(self, *keywords: str) -> bool:
        return self.kind == "word" and self.text.lower() in keywords


_WORD_STOPPERS = frozenset(' \t\r\n\f\v()=<>"/')
_COMPARISON_AT = re.compile(r"==|<>|<=|>=|=|<|>")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    length = len(text)
    while index < length:
        character = text[index]
        if character.isspace():
            index += 1
        elif character == "(":
            tokens.append(Token("open", "(", index))
            index += 1
        elif character == ")":
            tokens.append(Token("close", ")", index))
            index += 1
        elif character == "/":
            tokens.append(Token("slash", "/", index))
            index += 1
        elif character in "=<>":
            symbol = _COMPARISON_AT.match(text, index).group(0)  # type: ignore[union-attr] # always matches here
            tokens.append(Token("comparison", symbol, index))
            index += len(symbol)
        elif character == '"':
            index = _read_quoted(text, index, tokens)
        else:
            start = index
            while index < length and text[index] not in _WORD_STOPPERS and not text[index].isspace():
                if text[index] == "\\":
                    if index + 1 >= length:
                        raise CqlSyntaxError("a term ends with a lone backslash (write \\\\ for a backslash)", index)
                    index += 2
                else:
                    index += 1
            tokens.append(Token("word", text[start:index], start))
    tokens.append(Token("end", "", length))
    return tokens


def _read_quoted(text: str, start: int, tokens: list[Token]) -> int:
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            tokens.append(Token("quoted", text[start + 1:index], start))
            return index + 1
        index += 1
    raise CqlSyntaxError('a quoted term has no closing "', start)


# --- parser --------------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.boolean_operators = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.current
        if token.kind != "end":
            self.position += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> CqlSyntaxError:
        token = token or self.current
        found = "the end of the query" if token.kind == "end" else f"{token.text!r}"
        return CqlSyntaxError(f"expected {expected} but found {found}", token.position)

    def sorted_query(self) -> CqlQuery:
        root = self.cql_query()
        sort_keys: list[SortKey] = []
        if self.current.is_keyword("sortby"):
            self.advance()
            while self.current.kind in ("word", "quoted"):
                index = self.advance().text
                sort_keys.append(SortKey(index, self.modifiers()))
            if not sort_keys:
                raise self.fail("an index to sort by after sortBy")
        if self.current.kind != "end":
            raise self.fail("a boolean operator (and, or, not) or the end of the query")
        return CqlQuery(root, tuple(sort_keys))

    def cql_query(self) -> CqlNode:
        assignments: list[PrefixAssignment] = []
        while self.current.kind == "comparison" and self.current.text == ">":
            assignments.append(self.prefix_assignment())
        query = self.scoped_clause()
        return ScopedQuery(tuple(assignments), query) if assignments else query

    def prefix_assignment(self) -> PrefixAssignment:
        self.advance()  # ">"
        first = self.term("a context set prefix or URI after '>'")
        if self.current.kind == "comparison" and self.current.text == "=":
            self.advance()
            return PrefixAssignment(first, self.term("a context set URI after '='"))
        return PrefixAssignment(None, first)

    def scoped_clause(self) -> CqlNode:
        node = self.search_clause()
        while self.current.kind == "word" and self.current.text.lower() in BOOLEAN_OPERATORS:
            operator_token = self.advance()
            self.boolean_operators += 1
            if self.boolean_operators > MOST_BOOLEAN_OPERATORS:
                raise CqlTooComplex(f"the query has more than {MOST_BOOLEAN_OPERATORS} boolean operators",
                                    operator_token.position)
            operator: BooleanOperator = operator_token.text.lower()  # type: ignore[assignment]
            modifiers = self.modifiers()
            node = BooleanClause(operator, node, self.search_clause(), modifiers)
        return node

    def search_clause(self) -> CqlNode:
        token = self.current
        if token.kind == "open":
            self.advance()
            self.depth += 1
            if self.depth > DEEPEST_NESTING:
                raise CqlTooComplex(f"parentheses nest deeper than {DEEPEST_NESTING} levels", token.position)
            inner = self.cql_query()
            if self.current.kind != "close":
                raise self.fail("')' to close the '(' at character " + str(token.position + 1))
            self.advance()
            self.depth -= 1
            return inner
        first = self.term("a search term or '('")
        if self._relation_follows():
            relation = self.advance().text
            modifiers = self.modifiers()
            return SearchClause(first, relation, self.term(f"a search term after {relation!r}"), modifiers)
        return SearchClause(SERVER_CHOICE_INDEX, DEFAULT_RELATION, first)

    def _relation_follows(self) -> bool:
        """After a first term: a comparison symbol, or a named relation (a word that is neither a boolean
        operator nor sortBy) makes the first term an index."""
        token = self.current
        if token.kind == "comparison":
            return True
        if token.kind != "word" or token.text.lower() in BOOLEAN_OPERATORS or token.text.lower() == "sortby":
            return False
        return True

    def modifiers(self) -> tuple[Modifier, ...]:
        found: list[Modifier] = []
        while self.current.kind == "slash":
            self.advance()
            name = self.term("a modifier name after '/'")
            if self.current.kind == "comparison":
                comparison = self.advance().text
                found.append(Modifier(name, comparison, self.term(f"a modifier value after {comparison!r}")))
            else:
                found.append(Modifier(name))
        return tuple(found)

    def term(self, expected: str) -> str:
        token = self.current
        if token.kind in ("word", "quoted"):
            self.advance()
            return token.text
        raise self.fail(expected)


def parse_cql(text: str) -> CqlQuery:
    """Parses a CQL query; raises `CqlSyntaxError` (and nothing else) when it is not one."""
    if not isinstance(text, str):
        raise CqlSyntaxError("the query must be text", 0)
    if len(text) > LONGEST_QUERY_CHARACTERS:
        raise CqlSyntaxError(f"the query is longer than {LONGEST_QUERY_CHARACTERS} characters",
                             LONGEST_QUERY_CHARACTERS)
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        raise CqlSyntaxError("the query is empty", 0)
    return _Parser(tokens).sorted_query()


# --- terms ---------------------------------------------------------------------------------------------------

MaskKind = Literal["any_characters", "one_character", "anchor"]
_MASKS: dict[str, MaskKind] = {"*": "any_characters", "?": "one_character", "^": "anchor"}


@dataclass(frozen=True)
class Mask:
    kind: MaskKind


TermPart = Union[str, Mask]


def decode_term(raw: str) -> list[TermPart]:
    """The term as literal text runs and masks: unescaped `*`, `?`, `^` are masks; `\\x` is a literal x."""
    parts: list[TermPart] = []
    literal: list[str] = []
    index = 0
    while index < len(raw):
        character = raw[index]
        if character == "\\" and index + 1 < len(raw):
            literal.append(raw[index + 1])
            index += 2
            continue
        if character in _MASKS:
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Mask(_MASKS[character]))
        else:
            literal.append(character)
        index += 1
    if literal:
        parts.append("".join(literal))
    return parts


# --- serialising ---------------------------------------------------------------------------------------------


def quote_term(raw: str) -> str:
    """A raw term (escapes kept) as CQL: bare when it reads back as the same word, quoted otherwise."""
    needs_quotes = (not raw or any(character in _WORD_STOPPERS or character.isspace() for character in raw)
                    or raw.lower() in BOOLEAN_OPERATORS or raw.lower() == "sortby")
    return f'"{raw}"' if needs_quotes else raw


def escape_literal(text: str) -> str:
    """Literal text as a raw term: quotes, backslashes and mask characters escaped."""
    return re.sub(r'(["\\*?^])', r"\\\1", text)


def _modifiers_to_cql(modifiers: tuple[Modifier, ...]) -> str:
    written = []
    for modifier in modifiers:
        if modifier.comparison is None:
            written.append(f"/{quote_term(modifier.name)}")
        else:
            written.append(f"/{quote_term(modifier.name)}{modifier.comparison}{quote_term(modifier.value or '')}")
    return "".join(written)


def node_to_cql(node: CqlNode) -> str:
    if isinstance(node, SearchClause):
        # A named relation needs spaces around it; a symbol does not, but spaces keep it readable.
        relation = f"{node.relation}{_modifiers_to_cql(node.relation_modifiers)}"
        return f"{quote_term(node.index)} {relation} {quote_term(node.term)}"
    if isinstance(node, BooleanClause):
        return (f"({node_to_cql(node.left)}) {node.operator}{_modifiers_to_cql(node.modifiers)} "
                f"({node_to_cql(node.right)})")
    assignments = " ".join(f"> {quote_term(item.prefix)} = {quote_term(item.uri)}" if item.prefix is not None
                           else f"> {quote_term(item.uri)}" for item in node.assignments)
    return f"{assignments} ({node_to_cql(node.query)})"


def query_to_cql(query: CqlQuery) -> str:
    """CQL text that parses back to the same tree."""
    text = node_to_cql(query.root)
    if query.sort_keys:
        keys = " ".join(f"{quote_term(key.index)}{_modifiers_to_cql(key.modifiers)}" for key in query.sort_keys)
        text = f"{text} sortBy {keys}"
    return text
