"""Period locking: a paid period is frozen; later changes become adjustment lines.

Business rules:
- A locked period's stored result is what was paid; a recompute never replaces it. (A
  period locked before any result was stored for a rep takes its first computed result.)
- When inputs of a locked period change (a deal edited, cancelled, re-owned), the difference
  between the fresh computation and the frozen result, per deal, credit type and component,
  is paid (or taken back) through `adjustment` lines in the rep's current open period: the
  period holding the as-of date, or else the first unlocked period after the locked ones.
- Adjustments already carried by a locked later period count as paid: only the remainder is
  adjusted again, so an adjustment is never paid twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from calc.money import ZERO, money_str

ADJUSTMENT = "adjustment"
Key = tuple[str, str | None, str | None, str]  # (locked period, deal id, credit type, component)


def _amounts(result: Mapping[str, Any], period: str) -> dict[Key, Decimal]:
    out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for line in result.get("lines", ()):
        if line.get("adjusts"):
            continue  # paid for an earlier locked period; an entered adjustment is its own
        key = (period, line.get("deal_id"), line.get("credit_type"), line["component"])
        out[key] += Decimal(line["amount"])
    return out


def _already_adjusted(frozen: Mapping[str, Mapping[str, Any]]) -> dict[Key, Decimal]:
    out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for result in frozen.values():
        for line in result.get("lines", ()):
            target = line.get("adjusts")
            if line["component"] == ADJUSTMENT and target:
                key = (
                    target["period"],
                    line.get("deal_id"),
                    line.get("credit_type"),
                    target["component"],
                )
                out[key] += Decimal(line["amount"])
    return out


def _open_index(
    results: Sequence[Mapping[str, Any]], frozen: Mapping[str, Any], as_of: date
) -> int | None:
    for i, r in enumerate(results):
        if r["period"] not in frozen and r["period_start"] <= as_of.isoformat() <= r["period_end"]:
            return i
    last_locked = max((r["period_end"] for r in results if r["period"] in frozen), default="")
    return next(
        (
            i
            for i, r in enumerate(results)
            if r["period"] not in frozen and r["period_start"] > last_locked
        ),
        None,
    )


def adjustment_lines(
    fresh: Mapping[str, Mapping[str, Any]], frozen: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Adjustment lines that bring what was paid for locked periods up to the fresh figures."""
    paid = _already_adjusted(frozen)
    lines: list[dict[str, Any]] = []
    for period, old in sorted(frozen.items()):
        new = fresh.get(period)
        now_amounts = _amounts(new, period) if new is not None else {}
        then_amounts = _amounts(old, period)
        for key in sorted(set(now_amounts) | set(then_amounts), key=str):
            delta = now_amounts.get(key, ZERO) - then_amounts.get(key, ZERO) - paid.get(key, ZERO)
            if delta == ZERO:
                continue
            _period, deal_id, credit_type, component = key
            lines.append(
                {
                    "component": ADJUSTMENT,
                    "deal_id": deal_id,
                    "credit_type": credit_type,
                    "base": money_str(delta),
                    "rate": "1.00",
                    "amount": money_str(delta),
                    "explain": f"adjustment for locked period {period}: {component} "
                    f"{'up' if delta > 0 else 'down'} {money_str(abs(delta))}",
                    "adjusts": {"period": period, "component": component},
                }
            )
    return lines


def apply_locks(
    results: Sequence[Mapping[str, Any]],
    frozen: Mapping[str, Mapping[str, Any]],
    *,
    as_of: date,
) -> list[dict[str, Any]]:
    """One rep's fresh results with locked periods frozen and adjustments added (pure)."""
    if not frozen:
        return [dict(r) for r in results]
    fresh = {r["period"]: r for r in results}
    out = [dict(frozen[r["period"]]) if r["period"] in frozen else dict(r) for r in results]
    lines = adjustment_lines(fresh, frozen)
    target = _open_index(out, frozen, as_of)
    if not lines or target is None:
        return out
    result = dict(out[target])
    total = sum((Decimal(line["amount"]) for line in lines), ZERO)
    components = dict(result.get("components", {}))
    components[ADJUSTMENT] = money_str(Decimal(components.get(ADJUSTMENT, "0")) + total)
    result.update(
        components=components,
        lines=[*result.get("lines", []), *lines],
        gross=money_str(Decimal(result["gross"]) + total),
        net=money_str(Decimal(result["net"]) + total),
    )
    out[target] = result
    return out
