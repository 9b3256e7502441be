"""A rep's compensation plan as a readable document: what they accept inside Salesforce.

Pure: built from the plan (calc's model), the rep's own quota and target incentive, and the
plan version. The text is canonical (same inputs, same bytes), so its SHA-256 identifies
exactly what the rep was shown and accepted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from calc.criteria import criterion_text
from calc.model import Rep
from calc.plan import Bonus, Commission, Plan, Spiff, TargetIncentive, Tiers

PERIOD_WORDS = {"month": "month", "quarter": "quarter", "year": "year"}


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """Sections of (heading, paragraphs), the plan version and the text's SHA-256."""

    title: str
    plan_id: str
    version: int
    sections: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def text(self) -> str:
        """The canonical plain text (what the checksum covers)."""
        parts = [self.title, f"Plan {self.plan_id}, version {self.version}", ""]
        for heading, paragraphs in self.sections:
            parts += [heading, *(f"- {p}" for p in paragraphs), ""]
        return "\n".join(parts)

    @property
    def sha256(self) -> str:
        """SHA-256 of the text, in hex."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def _money(value: Decimal, currency: str) -> str:
    return f"{currency} {value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _edge(tiers: Tiers, value: Decimal, currency: str) -> str:
    return _pct(value) + " of quota" if tiers.basis == "attainment" else _money(value, currency)


def _tiers(tiers: Tiers, currency: str) -> str:
    steps = []
    for i, tier in enumerate(tiers.table):
        upper = tiers.table[i + 1].start if i + 1 < len(tiers.table) else None
        span = f"from {_edge(tiers, tier.start, currency)}"
        if upper is not None:
            span += f" to {_edge(tiers, upper, currency)}"
        rate = _pct(tier.rate) if tier.rate is not None else f"{tier.base_rate_multiple}x base"
        steps.append(f"{span} at {rate}")
    return f"tiered ({tiers.mode}, per {tiers.scope}): " + ", ".join(steps)


def _component(comp: object, plan: Plan, currency: str) -> str:
    name = getattr(comp, "name", None) or getattr(comp, "id", "")
    if isinstance(comp, Commission):
        body = [f"{_pct(comp.rate)} of credited {plan.measure}"] if comp.rate is not None else []
        body += [_tiers(comp.tiers, currency)] if comp.tiers is not None else []
    elif isinstance(comp, TargetIncentive):
        target = comp.target if comp.target is not None else plan.target_incentive
        body = [f"target {_money(target, currency)}" if target is not None else "target: yours"]
        body += [f"from {_pct(b.start)} attainment: x{b.multiplier}" for b in comp.curve.table]
    elif isinstance(comp, Bonus):
        body = [f"{_money(comp.amount, currency)} at {_pct(comp.min_attainment)} attainment"]
    elif isinstance(comp, Spiff):
        pay = comp.payout
        if pay.per_deal is not None:
            how = f"{_money(pay.per_deal, currency)} per deal"
        elif pay.per_unit is not None:
            how = f"{_money(pay.per_unit, currency)} per {pay.unit_field}"
        else:
            how = f"{_pct(pay.rate or Decimal(0))} of {plan.measure}"
        body = [f"{how}, deals credited {comp.window.start} to {comp.window.end}"]
        body += [f"when {criterion_text(c)}" for c in comp.criteria]
        body += [f"at most {comp.max_payouts} payouts"] if comp.max_payouts else []
    else:
        body = []
    extras = []
    gate, cap = getattr(comp, "gate", None), getattr(comp, "cap", None)
    if gate is not None:
        extras.append(f"pays nothing below {_pct(gate.min_attainment)} attainment")
    if cap is not None:
        extras.append(f"capped at {_money(cap.amount, currency)} a period")
    return f"{name}: " + "; ".join(body + extras)


def plan_document(plan: Plan, rep: Rep, *, version: int) -> PlanDocument:
    """The document of `plan` for `rep` at plan version `version`."""
    cur = plan.currency
    per = PERIOD_WORDS[plan.period]
    quota = rep.quota if rep.quota is not None else (plan.quota.amount if plan.quota else None)
    quota_text = f"{_money(quota, cur)} per {per}" if quota is not None else "none"
    if rep.quota is None and plan.quota is not None and plan.quota.annual is not None:
        quota_text = f"{_money(plan.quota.annual, cur)} a year"
    basics = [
        f"for {rep.name or rep.id}, paid in {cur} every {per}",
        f"quota: {quota_text}",
        f"credit counts {plan.measure} on {plan.credit_date}, for: {', '.join(plan.credit_types)}",
    ]
    ti = rep.target_incentive if rep.target_incentive is not None else plan.target_incentive
    if ti is not None:
        basics.append(f"target incentive: {_money(ti, cur)} per {per}")
    components = tuple(
        _component(c, plan, cur) for c in plan.components if not isinstance(c, Spiff)
    )
    spiffs = tuple(_component(c, plan, cur) for c in plan.components if isinstance(c, Spiff))
    terms = []
    if plan.draw is not None:
        kind = "recoverable" if plan.draw.recoverable else "non-recoverable"
        terms.append(f"draw: {_money(plan.draw.amount, cur)} per {per}, {kind}")
    if plan.clawback is not None:
        cb = plan.clawback
        terms.append(
            f"clawback: a won deal cancelled within {cb.window_days} days takes back "
            f"{_pct(cb.percent)} of what it paid"
        )
    terms.append(
        f"pay below zero is {'carried' if plan.negative_balance == 'carry' else 'forgiven'}"
    )
    sections = [("Your plan", tuple(basics)), ("How you earn", components)]
    if spiffs:
        sections.append(("SPIFFs", spiffs))
    sections.append(("Draw and clawback", tuple(terms)))
    return PlanDocument(
        title=f"Compensation plan: {plan.name or plan.id}",
        plan_id=plan.id,
        version=version,
        sections=tuple(sections),
    )
