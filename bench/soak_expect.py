"""Expected write-back values from `quotaflow calc` output, and the CRM's values to compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from soak_check import (
    DEAL_COLS,
    Key,
    PlanFacts,
    Snapshot,
    _write_csv,
    by_rep,
    current_gross,
    deal_row,
    money,
    run_calc,
    spiff_status,
)

USER_TARGETS = ("Quota_Attainment__c", "Earnings_To_Date__c")
OPP_TARGETS = ("Estimated_Commission__c", "SPIFF_Status__c")


@dataclass
class Expected:
    """Per (object, id), the fields and values the rules give."""

    values: dict[Key, dict[str, Any]] = field(default_factory=dict)
    open_unchecked: int = 0  # open deals whose estimate was not recomputed


def user_values(
    snap: Snapshot, calc_out: dict[str, Any], facts: PlanFacts, *, as_of: date
) -> dict[Key, dict[str, Any]]:
    """Attainment and earnings to date of every user with a plan."""
    rows_by_rep = by_rep(calc_out)
    day = as_of.isoformat()
    out: dict[Key, dict[str, Any]] = {}
    for user in snap.users.values():
        plan_id = user["Comp_Plan__c"]
        if plan_id not in facts.plan_ids:
            continue
        rows = rows_by_rep.get(user["Id"], [])
        current = [r for r in rows if r["period_start"] <= day <= r["period_end"]]
        year = date(as_of.year, facts.fy_start_month[plan_id], 1)
        if year > as_of:
            year = date(as_of.year - 1, year.month, 1)
        ytd = sum(
            (Decimal(r["gross"]) for r in rows if year.isoformat() <= r["period_start"] <= day),
            Decimal(0),
        )
        attainment = Decimal(current[0]["attainment"]) * 100 if current else None
        out[("User", user["Id"])] = {
            "Quota_Attainment__c": money(attainment),
            "Earnings_To_Date__c": money(ytd),
        }
    return out


def deal_values(
    snap: Snapshot,
    calc_out: dict[str, Any],
    facts: PlanFacts,
    *,
    window: tuple[date, date],
    estimates: dict[str, Decimal],
) -> Expected:
    """Commission and SPIFF status of every live deal in the window (open: if estimated)."""
    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in calc_out["results"]:
        for line in row["lines"]:
            if line.get("deal_id"):
                lines.setdefault((row["rep_id"], line["deal_id"]), []).append(line)
    expected = Expected()
    start, end = (d.isoformat() for d in window)
    for opp in snap.opps.values():
        if not start <= opp["CloseDate"] <= end:
            continue
        owner = snap.users.get(opp["OwnerId"]) or {}
        spiffs = facts.spiffs.get(owner.get("Comp_Plan__c") or "", [])
        mine = lines.get((opp["OwnerId"], opp["Id"]), [])
        values: dict[str, Any] = {"SPIFF_Status__c": spiff_status(opp, spiffs, mine)}
        if opp["IsWon"]:
            values["Estimated_Commission__c"] = money(sum(Decimal(x["amount"]) for x in mine))
        elif opp["IsClosed"]:
            values["Estimated_Commission__c"] = money(0)
        elif opp["Id"] in estimates:
            values["Estimated_Commission__c"] = money(estimates[opp["Id"]])
        else:
            expected.open_unchecked += 1
        expected.values[("Opportunity", opp["Id"])] = values
    return expected


def _affects(snap: Snapshot, deal_id: str) -> set[str]:
    """Every user whose figures a deal can move: participants and their manager chains."""
    opp = snap.opps[deal_id]
    people = {opp["OwnerId"]}
    people |= {s["SplitOwnerId"] for s in snap.splits if s["OpportunityId"] == deal_id}
    people |= {t["UserId"] for t in snap.team if t["OpportunityId"] == deal_id}
    out = set(people)
    for person in people:
        manager = (snap.users.get(person) or {}).get("ManagerId")
        while manager and manager not in out:
            out.add(manager)
            manager = (snap.users.get(manager) or {}).get("ManagerId")
    return out


def batches(snap: Snapshot, deal_ids: list[str]) -> list[list[str]]:
    """Groups of open deals that can be won together without touching each other's owner."""
    groups: list[tuple[list[str], set[str], set[str]]] = []  # deals, owners, affected
    for deal_id in deal_ids:
        owner, hit = snap.opps[deal_id]["OwnerId"], _affects(snap, deal_id)
        for deals, owners, affected in groups:
            if owner not in affected and not (hit & owners):
                deals.append(deal_id)
                owners.add(owner)
                affected |= hit
                break
        else:
            groups.append(([deal_id], {owner}, hit))
    return [g[0] for g in groups]


def estimates(
    snap: Snapshot,
    calc_out: dict[str, Any],
    folder: Path,
    plan: Path,
    *,
    deal_ids: list[str],
    as_of: date,
    window: tuple[date, date],
) -> dict[str, Decimal]:
    """Open deals' estimates: owner's current gross with the deal won today minus without."""
    base = by_rep(calc_out)
    out: dict[str, Decimal] = {}
    for n, group in enumerate(batches(snap, deal_ids)):
        won = {d: {"IsWon": True, "IsClosed": True, "CloseDate": as_of.isoformat()} for d in group}
        rows = (deal_row(o, **won.get(o["Id"], {})) for o in snap.opps.values())
        name = f"deals_won_{n}.csv"
        _write_csv(folder / name, DEAL_COLS, rows)
        hypo = by_rep(run_calc(folder, plan, start=window[0], end=window[1], deals=name))
        for deal_id in group:
            owner = snap.opps[deal_id]["OwnerId"]
            with_deal = current_gross(hypo.get(owner, []), as_of)
            out[deal_id] = with_deal - current_gross(base.get(owner, []), as_of)
    return out


def crm_values(snap: Snapshot, keys: list[Key]) -> dict[Key, dict[str, Any]]:
    """The write-back fields as the CRM holds them, numbers at two decimals."""
    out: dict[Key, dict[str, Any]] = {}
    for obj, rid in keys:
        if obj == "User":
            user = snap.users[rid]
            out[(obj, rid)] = {f: money(user[f]) for f in USER_TARGETS}
        else:
            opp = snap.opps[rid]
            out[(obj, rid)] = {
                "Estimated_Commission__c": money(opp["Estimated_Commission__c"]),
                "SPIFF_Status__c": opp["SPIFF_Status__c"],
            }
    return out


def mismatches(
    expected: dict[Key, dict[str, Any]], actual: dict[Key, dict[str, Any]]
) -> list[tuple[Key, str, Any, Any]]:
    """(record, field, expected, actual) for every field that differs."""
    out = []
    for key, want in sorted(expected.items()):
        for name, value in want.items():
            if actual[key].get(name) != value:
                out.append((key, name, value, actual[key].get(name)))
    return out
