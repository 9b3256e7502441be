"""A recursive-descent parser for the devorg's SOQL subset, producing a small syntax tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from devorg.soql_lex import SoqlError, Token, error_at, tokenize

# Deeper nesting than this is surely not a real query; it also keeps recursion bounded.
MAX_DEPTH = 64
_MAX_INT = 2**62
_COMPARISON_OPS = frozenset(("=", "!=", "<>", "<", "<=", ">", ">="))


@dataclass(frozen=True)
class Path:
    """A field reference as written (`Owner.Name`) and where it starts."""

    text: str
    pos: int


@dataclass(frozen=True)
class Value:
    """A literal: kind is string, number, null, boolean, date, datetime or dateliteral."""

    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Comparison:
    """`field op value`, `field [NOT] IN (...)` or `field LIKE 'pattern'`."""

    path: Path
    op: str  # = != < <= > >= in notin like
    values: tuple[Value, ...]
    subquery: Query | None = None  # a semi-join: `Id IN (SELECT AccountId FROM ...)`


@dataclass(frozen=True)
class BoolOp:
    """AND / OR of two or more conditions."""

    op: str
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """NOT of a condition."""

    item: Condition


Condition: TypeAlias = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderKey:
    """One ORDER BY key."""

    path: Path
    descending: bool
    nulls_first: bool | None


@dataclass(frozen=True)
class Aggregate:
    """`COUNT(Id)`, `SUM(Amount) total`, ...: an aggregate function in the SELECT list."""

    func: str  # count count_distinct sum avg min max
    path: Path | None  # None for COUNT() among other items
    alias: str | None
    pos: int


@dataclass(frozen=True)
class FieldsMacro:
    """`FIELDS(ALL | STANDARD | CUSTOM)` in the SELECT list."""

    kind: str
    pos: int


@dataclass(frozen=True)
class ChildQuery:
    """`(SELECT Name FROM Opportunities)`: a parent-to-child sub-query in the SELECT list."""

    query: Query
    pos: int


SelectItem: TypeAlias = Path | Aggregate | FieldsMacro | ChildQuery
AGGREGATE_FUNCTIONS = frozenset(("count", "count_distinct", "sum", "avg", "min", "max"))


@dataclass(frozen=True)
class Query:
    """A parsed SELECT."""

    fields: tuple[Path, ...]  # the plain fields; empty for COUNT()
    count_only: bool
    object_name: str
    object_pos: int
    where: Condition | None
    order_by: tuple[OrderKey, ...]
    limit: int | None
    offset: int | None
    select: tuple[SelectItem, ...] = ()  # every item, in order
    group_by: tuple[Path, ...] = ()

    @property
    def aggregates(self) -> tuple[Aggregate, ...]:
        """The aggregate functions selected."""
        return tuple(i for i in self.select if isinstance(i, Aggregate))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        return error_at("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", self.text, tok.pos)

    def take(self) -> Token:
        tok = self.tok
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at(self, *words: str) -> bool:
        return self.tok.word in words

    def expect(self, word: str) -> Token:
        if self.tok.word != word and self.tok.kind != word:
            raise self.fail()
        return self.take()

    def path(self) -> Path:
        tok = self.tok
        if tok.kind != "ident":
            raise self.fail()
        self.take()
        return Path(tok.text, tok.pos)

    def integer(self) -> int:
        tok = self.take()
        if tok.kind != "number" or not tok.text.isdigit() or int(tok.text) >= _MAX_INT:
            raise self.fail(tok)
        return int(tok.text)

    def query(self) -> Query:
        query = self.statement()
        if self.tok.kind != "eof":
            raise self.fail()
        return query

    def statement(self) -> Query:
        self.expect("select")
        count_only, select = self.select_list()
        self.expect("from")
        obj = self.tok
        if obj.kind != "ident" or "." in obj.text:
            raise self.fail()
        self.take()
        where = None
        if self.at("where"):
            self.take()
            where = self.condition()
        group: tuple[Path, ...] = ()
        if self.at("group"):
            self.take()
            self.expect("by")
            keys = [self.path()]
            while self.tok.kind == ",":
                self.take()
                keys.append(self.path())
            group = tuple(keys)
        order = self.order_by() if self.at("order") else ()
        limit = offset = None
        if self.at("limit"):
            self.take()
            limit = self.integer()
        if self.at("offset"):
            self.take()
            offset = self.integer()
        fields = tuple(i for i in select if isinstance(i, Path))
        return Query(
            fields, count_only, obj.text, obj.pos, where, order, limit, offset, select, group
        )

    def select_list(self) -> tuple[bool, tuple[SelectItem, ...]]:
        ahead = self.tokens[self.i + 1 : self.i + 4]
        if (
            self.at("count")
            and [t.kind for t in ahead[:2]] == ["(", ")"]
            and ahead[2].word == "from"
        ):
            self.take()
            self.take()
            self.expect(")")
            return True, ()
        items = [self.select_item()]
        while self.tok.kind == ",":
            self.take()
            items.append(self.select_item())
        return False, tuple(items)

    def select_item(self) -> SelectItem:
        tok = self.tok
        if tok.kind == "(" and self.tokens[self.i + 1].word == "select":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail()
            sub = self.statement()
            self.depth -= 1
            self.expect(")")
            return ChildQuery(sub, tok.pos)
        if tok.kind != "ident" or self.tokens[self.i + 1].kind != "(":
            return self.path()
        self.take()
        self.take()
        if tok.word == "fields":
            kind = self.take()
            if kind.word not in ("all", "standard", "custom"):
                raise self.fail(kind)
            self.expect(")")
            return FieldsMacro(kind.word.upper(), tok.pos)
        if tok.word not in AGGREGATE_FUNCTIONS:
            raise self.fail(tok)
        path = None
        if tok.word != "count" or self.tok.kind != ")":
            path = self.path()
        self.expect(")")
        alias = None
        if self.tok.kind == "ident" and self.tok.word not in ("from",) and "." not in self.tok.text:
            alias = self.take().text
        return Aggregate(tok.word, path, alias, tok.pos)

    def condition(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail()
        first = self.unary()
        items, op = [first], ""
        while self.at("and", "or"):
            word = self.tok.word
            # SOQL refuses to mix AND and OR without parentheses.
            if op and word != op:
                raise self.fail()
            op = word
            self.take()
            items.append(self.unary())
        self.depth -= 1
        return BoolOp(op, tuple(items)) if op else first

    def unary(self) -> Condition:
        if self.at("not"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail()
            item = self.unary()
            self.depth -= 1
            return Not(item)
        if self.tok.kind == "(":
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.path()
        tok = self.take()
        if tok.kind == "op":
            return Comparison(path, "!=" if tok.text == "<>" else tok.text, (self.value(),))
        if tok.word == "like":
            value = self.value()
            if value.kind != "string":
                raise self.fail(self.tokens[self.i - 1])
            return Comparison(path, "like", (value,))
        negated = tok.word == "not"
        if negated:
            tok = self.take()
        if tok.word != "in":
            raise self.fail(tok)
        self.expect("(")
        if self.at("select"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail()
            sub = self.statement()
            self.depth -= 1
            self.expect(")")
            return Comparison(path, "notin" if negated else "in", (), sub)
        values = [self.value()]
        while self.tok.kind == ",":
            self.take()
            values.append(self.value())
        self.expect(")")
        return Comparison(path, "notin" if negated else "in", tuple(values))

    def value(self) -> Value:
        tok = self.take()
        if tok.kind in ("string", "number", "date", "datetime", "dateliteral"):
            return Value(tok.kind, tok.text, tok.pos)
        if tok.word == "null":
            return Value("null", tok.text, tok.pos)
        if tok.word in ("true", "false"):
            return Value("boolean", tok.word, tok.pos)
        if tok.kind == "ident" and tok.text.upper() in RANGE_LITERALS:
            return Value("dateliteral", tok.text.upper(), tok.pos)
        raise self.fail(tok)

    def order_by(self) -> tuple[OrderKey, ...]:
        self.take()
        self.expect("by")
        keys = [self.order_key()]
        while self.tok.kind == ",":
            self.take()
            keys.append(self.order_key())
        return tuple(keys)

    def order_key(self) -> OrderKey:
        path = self.path()
        descending = False
        if self.at("asc", "desc"):
            descending = self.take().word == "desc"
        nulls_first = None
        if self.at("nulls"):
            self.take()
            if not self.at("first", "last"):
                raise self.fail()
            nulls_first = self.take().word == "first"
        return OrderKey(path, descending, nulls_first)


# Date literals without a number (the `:n` forms are lexed as one token).
RANGE_LITERALS = frozenset(
    [
        "YESTERDAY", "TODAY", "TOMORROW", "LAST_90_DAYS", "NEXT_90_DAYS",
        *(f"{w}_{u}" for w in ("LAST", "THIS", "NEXT")
          for u in ("WEEK", "MONTH", "QUARTER", "YEAR", "FISCAL_QUARTER", "FISCAL_YEAR")),
    ]
)  # fmt: skip


def parse(text: str) -> Query:
    """Parse a SOQL query; SoqlError(MALFORMED_QUERY) on a syntax error."""
    return _Parser(text).query()
