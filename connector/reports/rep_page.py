"""The rep page (earnings, deals, SPIFFs, first open deals) as one stored value per rep.

`build_page` computes it from the stored results the way the page always did (`rep_summary`
and `open_deal_estimates`); `current_page` serves the current period's page from its stored
copy (`connector/store/rep_pages.py`) while the committed calculation, the active plan and
the as-of day it was computed from are still current, and computes and stores it otherwise.
The stored copy is the same value, field for field: `encode`/`decode` round-trip every
Decimal and date exactly.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

import orjson

from connector.reports.earnings import ComponentRow, DealLines, rep_summary
from connector.reports.open_deals import open_deal_estimates
from connector.reports.spiffs import SpiffProgress
from connector.store.rep_pages import PageVersion
from connector.store.unit import OrgUnit

OPEN_ON_PAGE = 5  # open deals shown on the rep page; the estimator lists them all
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DrawFacts:
    """The plan's draw as the page states it."""

    amount: Decimal
    recoverable: bool


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the page says about the rep's plan."""

    id: str
    name: str | None
    draw: DrawFacts | None
    negative_balance: str


@dataclass(frozen=True, slots=True)
class OpenDealRow:
    """An open deal of the rep and what it would pay them if won on the as-of date."""

    id: str
    name: str
    stage: str | None
    close_date: date | None
    amount: Decimal | None
    pays: Decimal
    spiff: bool


@dataclass(frozen=True, slots=True)
class Page:
    """Everything the rep page shows, and the deals it depends on."""

    rep_id: str
    name: str
    plan: PlanFacts | None
    currency: str
    as_of: date
    period: str | None
    is_current: bool
    periods: tuple[str, ...]
    result: dict[str, Any] | None
    components: tuple[ComponentRow, ...]
    gross_ytd: Decimal
    deals: tuple[DealLines, ...]
    more_deals: int
    other_lines: tuple[dict[str, Any], ...]
    spiffs: tuple[SpiffProgress, ...]
    open_deals: tuple[OpenDealRow, ...]
    open_count: int
    # Every deal the page shows a line of or the rep owns open (`carry_forward` reads it).
    deal_ids: tuple[str, ...]


def build_page(unit: OrgUnit, *, rep_id: str, as_of: date, period: str | None = None) -> Page:
    """The rep page computed from the stored results (the current period by default)."""
    s = rep_summary(unit, rep_id=rep_id, as_of=as_of, period=period)
    e = open_deal_estimates(unit, rep_id=rep_id, as_of=as_of, limit=OPEN_ON_PAGE, use_stored=True)
    plan = None
    if s.plan is not None:
        draw = s.plan.draw
        plan = PlanFacts(
            s.plan.id,
            s.plan.name,
            None if draw is None else DrawFacts(draw.amount, draw.recoverable),
            s.plan.negative_balance,
        )
    opened = tuple(
        OpenDealRow(o.deal.id, o.deal.name, o.deal.stage, o.deal.close_date, o.deal.amount,
                    o.amount, o.spiff)
        for o in e.deals
    )  # fmt: skip
    lines = s.result["lines"] if s.result else []
    shown = {str(ln["deal_id"]) for ln in lines if ln.get("deal_id")}
    shown.update(unit.rep_pages.open_deal_ids(owner_id=rep_id))
    return Page(
        s.rep_id, s.name, plan, s.currency, s.as_of, s.period, s.is_current, s.periods,
        s.result, s.components, s.gross_ytd, s.deals, s.more_deals, s.other_lines, s.spiffs,
        opened, e.count, tuple(sorted(shown)),
    )  # fmt: skip


def current_page(
    unit: OrgUnit, *, rep_id: str, as_of: date, now: datetime
) -> tuple[Page, PageVersion]:
    """The rep's current-period page and the version it is current for: the stored copy while
    current, else computed and stored (committed with the unit)."""
    body, version = unit.rep_pages.stored_page(rep_id=rep_id, as_of=as_of)
    if body is not None:
        return stored(body), version
    page = build_page(unit, rep_id=rep_id, as_of=as_of)
    unit.rep_pages.save_page(
        rep_id=rep_id, version=version, as_of=as_of, body=orjson.dumps(encode(page)).decode(),
        deal_ids=page.deal_ids, now=now,
    )  # fmt: skip
    return page, version


def stored(body: str) -> Page:
    """The page a stored body holds (`rep_pages.stored_page`)."""
    return decode(Page, orjson.loads(body))


def encode(value: Any) -> Any:
    """A page value as JSON data: dataclasses as objects, Decimals and dates as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(kind: type[T], data: Any) -> T:
    """JSON data back as the typed page value `encode` made it from."""
    decoded: T = _decoder(cast(Hashable, kind))(data)
    return decoded


@cache
def _decoder(kind: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(kind)
    if kind is Any or origin is dict or kind is dict:
        return lambda v: v  # stored results and lines are JSON as the sync stored them
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in typing.get_args(kind) if a is not type(None)]
        each = _decoder(inner)
        return lambda v: None if v is None else each(v)
    if origin is tuple:
        each = _decoder(typing.get_args(kind)[0])
        return lambda v: tuple(each(x) for x in v)
    if kind is Decimal:
        return Decimal
    if kind is date:
        return date.fromisoformat
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(kind)]
        build = cast(Callable[..., Any], kind)
        return lambda v: build(*(dec(v[name]) for name, dec in fields))
    if kind in (str, int, bool):
        return lambda v: v
    raise TypeError(f"rep page: no decoder for {kind!r}")
