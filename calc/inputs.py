"""Parse `quotaflow calc` CSV inputs (text) into calc's model; errors name file, line, column."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from calc.assignments import assignment_problem, with_assignments
from calc.deal_rows import DealRows
from calc.errors import InputError
from calc.model import DEAL_FIELDS, Assignment, AttrValue, Deal, Rep, Split, TeamMember

T = TypeVar("T")
Row = dict[str, str]
# A CSV file's whole text, or its lines as a file opened with newline="" gives them (a
# million deals are read line by line, never held whole).
Text = str | Iterable[str]

REP_COLUMNS = ("id", "plan_id")
DEAL_COLUMNS = ("id", "owner_id", "amount", "close_date", "is_won")
SPLIT_COLUMNS = ("deal_id", "rep_id", "percent")
TEAM_COLUMNS = ("deal_id", "rep_id", "role")
DEAL_KNOWN = frozenset(DEAL_FIELDS)
# Amounts of 10^26 and more are refused: no real deal or quota is that large, and the
# arithmetic stays exact far beyond it (calc.money).
LIMIT = Decimal("1e26")
# A comma only as a thousands separator between groups of three digits ("1,250.50"): "1,5"
# or "2.500,75" (decimal commas) would otherwise read as 15 or 2.50.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
FIELD_LIMIT = 131072
ISO_CODE = re.compile(r"^[A-Z]{3}$")  # an ISO 4217 currency code
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class _Cursor:
    """The current file and line, so field parsers can raise precise errors."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.line = 1
        self.row: Row = {}

    def fail(self, column: str | None, reason: str) -> InputError:
        return InputError(self.source, self.line, column, reason)

    def text(self, column: str) -> str | None:
        value = (self.row.get(column) or "").strip()
        return value or None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise self.fail(column, "a value is required")
        return value

    def number(self, column: str) -> Decimal | None:
        value = self.text(column)
        if value is None:
            return None
        if "," in value and not _GROUPED.match(value):
            reason = "a decimal comma? use a point for decimals, commas only between thousands"
            raise self.fail(column, f"not a number: {value!r} ({reason})")
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise self.fail(column, f"not a number: {value!r}") from None
        if not number.is_finite():
            raise self.fail(column, f"not a number: {value!r}")
        if abs(number) >= LIMIT:
            raise self.fail(column, f"{value!r} is too large (at most 10^26)")
        return number

    def amount(self, column: str) -> Decimal | None:
        """A number that must not be negative (a quota, a target incentive)."""
        number = self.number(column)
        if number is not None and number < 0:
            raise self.fail(column, f"must not be negative: {self.text(column)!r}")
        return number

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            if len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"not a date (expected YYYY-MM-DD): {value!r}") from None

    def currency(self, column: str) -> str | None:
        """An ISO 4217 currency code (any case; three letters), upper-cased."""
        value = self.text(column)
        if value is None:
            return None
        if not ISO_CODE.match(value.upper()):
            reason = "not an ISO 4217 currency code (three letters)"
            raise self.fail(column, f"{reason}: {value[:40]!r}")
        return value.upper()

    def flag(self, column: str, *, default: bool) -> bool:
        value = self.text(column)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self.fail(column, f"not true or false: {value!r}")


def _rows(text: Text, source: str, required: tuple[str, ...]) -> Iterator[_Cursor]:
    header, records = _records(text, source, required)
    cursor = _Cursor(source)
    for line, values in records:
        cursor.line = line
        cursor.row = dict(zip(header, values, strict=True))
        yield cursor


def _records(
    text: Text, source: str, required: tuple[str, ...]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and each non-blank record with the line it starts on (checked length)."""
    if isinstance(text, str):
        if not text.strip():
            raise InputError(source, 1, None, "empty file (expected a header row)")
        lines: Iterable[str] = io.StringIO(text.lstrip("\ufeff"), newline="")
    else:
        lines = _started(iter(text), source)
    reader = csv.reader(lines, strict=True)
    header = [h.strip() for h in _next(reader, source, 1) or []]
    for i, column in enumerate(header):
        if column in header[:i]:
            raise InputError(source, 1, column, "duplicate column")
    for column in required:
        if column not in header:
            raise InputError(source, 1, column, "missing column")
    return header, _checked(reader, source, header)


def _started(lines: Iterator[str], source: str) -> Iterator[str]:
    """Lines read one by one (a file), as `_records` reads a whole text: an error if there is
    nothing but white space, a byte order mark dropped from the start."""
    skipped: list[str] = []
    for line in lines:
        skipped.append(line)
        if line.strip():
            break
    else:
        raise InputError(source, 1, None, "empty file (expected a header row)")
    skipped[0] = skipped[0].lstrip("\ufeff")
    return itertools.chain(skipped, lines)


def _checked(reader: Any, source: str, header: list[str]) -> Iterator[tuple[int, list[str]]]:
    width = len(header)
    first: int = reader.line_num + 1  # the line the next record starts on
    try:
        for values in reader:
            if len(values) != width or not values[0].strip():
                if not any(v.strip() for v in values):
                    first = reader.line_num + 1
                    continue
                if len(values) > width:
                    raise InputError(source, first, None, "more values than header columns")
                if len(values) < width:
                    reason = f"{len(values)} values for {width} header columns"
                    raise InputError(source, first, header[len(values)], f"row too short: {reason}")
            yield first, values
            first = reader.line_num + 1
    except csv.Error as exc:
        raise _csv_error(exc, source, first) from None


def _next(reader: Iterator[list[str]], source: str, line: int) -> list[str] | None:
    """The next CSV record, or None at the end; a broken record is an InputError."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise _csv_error(exc, source, line) from None


def _csv_error(exc: csv.Error, source: str, line: int) -> InputError:
    """A broken record as an InputError naming the line it starts on."""
    text = str(exc)
    if "field larger than field limit" in text:
        reason = f"a value longer than {FIELD_LIMIT:,} characters"
    elif "unexpected end of data" in text:
        reason = "unclosed quote: the value starting on this line never ends"
    else:
        reason = f"not valid CSV: {text}"
    return InputError(source, line, None, reason)


def _parse(
    text: Text, source: str, required: tuple[str, ...], build: Callable[[_Cursor], T]
) -> list[T]:
    return [build(cursor) for cursor in _rows(text, source, required)]


def _unique(cursor: _Cursor, seen: set[str], value: str, column: str) -> None:
    if value in seen:
        raise cursor.fail(column, f"duplicate id {value!r}")
    seen.add(value)


def parse_reps(
    text: Text, *, source: str = "reps.csv", plan_ids: Collection[str] | None = None
) -> list[Rep]:
    """Reps from CSV text; with `plan_ids`, a rep naming another plan is an error.

    With `effective_from`/`effective_to` columns a rep may have several rows, one per
    assignment (plan, manager, quota, target incentive, territory); they must not overlap
    or leave gaps (calc.assignments).
    """
    seen: set[str] = set()
    dated = False
    rows: dict[str, list[tuple[int, Rep, Assignment]]] = {}

    def build(c: _Cursor) -> Rep:
        nonlocal dated
        rep_id = c.required("id")
        dated = "effective_from" in c.row or "effective_to" in c.row
        if not dated:
            _unique(c, seen, rep_id, "id")
        plan_id = c.text("plan_id")
        if plan_ids is not None and plan_id is not None and plan_id not in plan_ids:
            raise c.fail("plan_id", f"unknown plan {plan_id!r}")
        hire, end = c.day("hire_date"), c.day("end_date")
        if hire is not None and end is not None and end < hire:
            raise c.fail("end_date", f"{end.isoformat()} is before hire_date {hire.isoformat()}")
        rep = Rep(
            id=rep_id,
            name=c.text("name") or "",
            email=c.text("email"),
            manager_id=c.text("manager_id"),
            is_active=c.flag("is_active", default=True),
            hire_date=hire,
            end_date=end,
            plan_id=plan_id,
            quota=c.amount("quota"),
            target_incentive=c.amount("target_incentive"),
            currency=c.text("currency"),
            territory=c.text("territory"),
        )
        if dated:
            row = Assignment(
                c.day("effective_from"),
                c.day("effective_to"),
                plan_id,
                rep.manager_id,
                rep.quota,
                rep.target_incentive,
                rep.territory,
            )
            rows.setdefault(rep_id, []).append((c.line, rep, row))
        return rep

    reps = _parse(text, source, REP_COLUMNS, build)
    if not dated:
        return reps
    return [_dated_rep(source, found) for found in rows.values()]


def _dated_rep(source: str, found: list[tuple[int, Rep, Assignment]]) -> Rep:
    """One rep from its assignment rows (any order); an InputError names the bad row."""
    found = sorted(found, key=lambda f: (f[2].effective_from or date.min, f[0]))
    first_line, rep, _row = found[0]
    for line, other, _r in found[1:]:
        for column in ("hire_date", "end_date"):
            if getattr(other, column) != getattr(rep, column):
                reason = f"differs from line {first_line} for the same rep"
                raise InputError(source, line, column, reason)
    rows = [row for _l, _r, row in found]
    if len(rows) == 1 and rows[0].effective_from is None and rows[0].effective_to is None:
        return found[0][1]  # one row, no dates: the original form
    problem = assignment_problem(rows)
    if problem is not None:
        index, column, reason = problem
        raise InputError(source, found[index][0], column, reason)
    return with_assignments(found[-1][1], rows)


def deal_builder(seen: set[str]) -> Callable[[_Cursor], Deal]:
    """The careful per-field reading of a deal row (ids in `seen` are duplicates)."""

    def build(c: _Cursor) -> Deal:
        deal_id = c.required("id")
        _unique(c, seen, deal_id, "id")
        extra: dict[str, AttrValue] = {k: c.text(k) for k in c.row if k not in DEAL_KNOWN}
        return Deal(
            id=deal_id,
            name=c.text("name") or "",
            owner_id=c.text("owner_id"),
            amount=c.number("amount"),
            close_date=c.day("close_date"),
            is_won=c.flag("is_won", default=False),
            is_closed=c.flag("is_closed", default=c.flag("is_won", default=False)),
            stage=c.text("stage"),
            type=c.text("type"),
            product_family=c.text("product_family"),
            quantity=c.number("quantity"),
            acv=c.number("acv"),
            tcv=c.number("tcv"),
            term_months=c.number("term_months"),
            cancel_date=c.day("cancel_date"),
            currency=c.currency("currency"),
            attributes=extra,
        )

    return build


def parse_deals(text: Text, *, source: str = "deals.csv", careful: bool = False) -> list[Deal]:
    """Deals from CSV text; columns beyond the contract become `attributes` for criteria.

    Rows of plain values take the fast path (calc.deal_rows); `careful` reads every row
    field by field (the same deals: the tests compare both).
    """
    seen: set[str] = set()
    build = deal_builder(seen)
    if careful:
        return _parse(text, source, DEAL_COLUMNS, build)
    header, records = _records(text, source, DEAL_COLUMNS)
    fast = DealRows(header)
    cursor = _Cursor(source)
    out: list[Deal] = []
    for line, values in records:
        deal = fast.read(values)
        if deal is None or deal.id in seen:
            # Anything but plain values, and duplicates: the careful path reads the row or
            # names what is wrong with it.
            cursor.line = line
            cursor.row = dict(zip(header, values, strict=True))
            deal = build(cursor)
        else:
            seen.add(deal.id)
        out.append(deal)
    return out


def parse_splits(
    text: Text, *, source: str = "splits.csv", deal_ids: Collection[str] | None = None
) -> list[Split]:
    """Splits from CSV text; with `deal_ids`, a split for an unknown deal is an error."""

    def build(c: _Cursor) -> Split:
        deal_id = c.required("deal_id")
        if deal_ids is not None and deal_id not in deal_ids:
            raise c.fail("deal_id", f"unknown deal {deal_id!r}")
        percent = c.number("percent")
        if percent is None:
            raise c.fail("percent", "a value is required")
        kind = (c.text("split_type") or "revenue").lower()
        if kind not in ("revenue", "overlay"):
            raise c.fail("split_type", f"must be revenue or overlay, not {kind!r}")
        if not 0 <= percent <= 100:
            # A share of a deal: an overlay of 250% or a split of -50% is a typo, not a plan.
            raise c.fail("percent", f"must be between 0 and 100, not {c.text('percent')}")
        return Split(
            deal_id, c.required("rep_id"), percent, "revenue" if kind == "revenue" else "overlay"
        )

    return _parse(text, source, SPLIT_COLUMNS, build)


def parse_team(
    text: Text, *, source: str = "team.csv", deal_ids: Collection[str] | None = None
) -> list[TeamMember]:
    """Opportunity team members from CSV text."""

    def build(c: _Cursor) -> TeamMember:
        deal_id = c.required("deal_id")
        if deal_ids is not None and deal_id not in deal_ids:
            raise c.fail("deal_id", f"unknown deal {deal_id!r}")
        return TeamMember(deal_id, c.required("rep_id"), c.required("role"))

    return _parse(text, source, TEAM_COLUMNS, build)


def deal_columns(text: str) -> list[str]:
    """The header of a deals CSV (for checking plan criteria fields)."""
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return [h.strip() for h in next(csv.reader([first]), [])]
