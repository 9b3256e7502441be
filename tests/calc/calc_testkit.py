"""Small builders for calc tests: a plan dict in, a CalcResult out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from calc.engine import calculate
from calc.model import Deal, Rep, Split, TeamMember
from calc.plan import parse_plan_doc
from calc.results import CalcResult, PeriodResult

D = Decimal
JAN1, DEC31 = date(2026, 1, 1), date(2026, 12, 31)


def deal(deal_id: str, owner: str, amount: str | int, day: str, **kw: Any) -> Deal:
    """A won deal (unless told otherwise)."""
    kw.setdefault("is_won", True)
    if "cancel_date" in kw:
        kw["cancel_date"] = date.fromisoformat(kw["cancel_date"])
    if "quantity" in kw:
        kw["quantity"] = D(str(kw["quantity"]))
    return Deal(
        id=deal_id, owner_id=owner, amount=D(str(amount)), close_date=date.fromisoformat(day), **kw
    )


def plan(**kw: Any) -> dict[str, Any]:
    """A quarterly plan dict with id `p` and the given keys."""
    return {"id": "p", "period": "quarter", **kw}


def run(
    plans: dict[str, Any] | list[dict[str, Any]],
    deals: Iterable[Deal],
    *,
    reps: Iterable[Rep] | None = None,
    splits: Iterable[Split] = (),
    team: Iterable[TeamMember] = (),
    crediting: dict[str, Any] | None = None,
    start: date = JAN1,
    end: date = DEC31,
) -> CalcResult:
    """Calculate with rep R1 on plan `p` by default."""
    doc: dict[str, Any] = {"plans": plans if isinstance(plans, list) else [plans]}
    if crediting:
        doc["crediting"] = crediting
    rep_list = list(reps) if reps is not None else [Rep(id="R1", plan_id="p")]
    return calculate(parse_plan_doc(doc), rep_list, list(deals), splits, team, start=start, end=end)


def res(result: CalcResult, rep_id: str, period: str) -> PeriodResult:
    """One period result, which must exist."""
    found = result.result(rep_id, period)
    assert found is not None, f"no result for {rep_id} {period}"
    return found


def comp(result: PeriodResult, name: str) -> Decimal:
    """A component amount."""
    return dict(result.components)[name]


def by_deal(result: PeriodResult, component: str) -> dict[str, Decimal]:
    """Line amounts per deal for one component."""
    out: dict[str, Decimal] = {}
    for line in result.lines:
        if line.component == component and line.deal_id is not None:
            out[line.deal_id] = out.get(line.deal_id, D(0)) + line.amount
    return out
