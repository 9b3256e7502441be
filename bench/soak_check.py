"""The independent check: the devorg's final data -> CSV -> `quotaflow calc` -> expected values.

Nothing here uses the sync's code path. The data comes over HTTPS with SOQL, the CSV files
follow the default mapping's rules (plan_id from Comp_Plan__c, is_won from IsWon, a null
Amount counts as 0, ...), `quotaflow calc` runs as a separate process, and the write-back
rules (docs/operations.md) are applied here from calc's JSON output:
- User.Quota_Attainment__c = attainment of the period holding the as-of date x 100 (null
  when the rep has no result for it); User.Earnings_To_Date__c = gross of the periods that
  start in the as-of year up to the as-of date. Only users whose Comp_Plan__c is a plan.
- Opportunity.Estimated_Commission__c = won: the owner's lines for the deal in every
  period; lost: 0; open: the owner's gross of the current period with the deal won today
  minus without it (a second calc run with the deal won). Deals closing in the calculated
  window (last year and this year) only.
- Opportunity.SPIFF_Status__c = Qualified (won, the owner has a positive SPIFF line for it),
  Eligible (open, meets a SPIFF's criteria with its close date inside the window), else
  Not Eligible (no locked periods in a soak, so never Paid).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from soak_org import OrgClient

CENT = Decimal("0.01")
USER_FIELDS = (
    "Id, Name, ManagerId, Comp_Plan__c, Hire_Date__c, End_Date__c, Quota__c, "
    "Target_Incentive__c, IsActive, Quota_Attainment__c, Earnings_To_Date__c"
)
OPP_FIELDS = (
    "Id, Name, OwnerId, Amount, CloseDate, IsWon, IsClosed, StageName, Type, "
    "Product_Family__c, TotalOpportunityQuantity, Term_Months__c, Cancel_Date__c, "
    "Estimated_Commission__c, SPIFF_Status__c"
)
REP_COLS = ["id", "name", "manager_id", "plan_id", "hire_date", "end_date", "quota"]
REP_COLS += ["target_incentive", "is_active"]
DEAL_COLS = ["id", "name", "owner_id", "amount", "close_date", "is_won", "is_closed", "stage"]
DEAL_COLS += ["type", "product_family", "quantity", "term_months", "cancel_date"]
Key = tuple[str, str]


@dataclass
class Snapshot:
    """The org's final data as read over the API."""

    users: dict[str, dict[str, Any]]
    opps: dict[str, dict[str, Any]]
    splits: list[dict[str, Any]]
    team: list[dict[str, Any]]
    all_ids: dict[str, dict[str, bool]]  # object -> {id: IsDeleted}, from queryAll
    # Users outside the default mapping's `include` rule (not UserType Standard): pulled, but
    # never reps.
    not_reps: frozenset[str] = frozenset()


def read_org(client: OrgClient) -> Snapshot:
    """Read users, live deals, splits, team members, and every id with queryAll."""
    every_user = client.query(f"SELECT {USER_FIELDS}, UserType FROM User")
    users = [u for u in every_user if u["UserType"] == "Standard"]
    not_reps = frozenset(u["Id"] for u in every_user if u["UserType"] != "Standard")
    opps = client.query(f"SELECT {OPP_FIELDS} FROM Opportunity")
    splits = client.query(
        "SELECT Id, OpportunityId, SplitOwnerId, SplitPercentage, SplitType.DeveloperName "
        "FROM OpportunitySplit"
    )
    team = client.query(
        "SELECT Id, OpportunityId, UserId, TeamMemberRole FROM OpportunityTeamMember"
    )
    all_ids: dict[str, dict[str, bool]] = {}
    for obj in ("User", "Opportunity", "OpportunitySplit", "OpportunityTeamMember"):
        # Users are never deleted (they are deactivated) and have no IsDeleted field.
        fields = "Id" if obj == "User" else "Id, IsDeleted"
        rows = client.query(f"SELECT {fields} FROM {obj}", all_rows=True)
        all_ids[obj] = {r["Id"]: bool(r.get("IsDeleted", False)) for r in rows}
    return Snapshot(
        {u["Id"]: u for u in users}, {o["Id"]: o for o in opps}, splits, team, all_ids, not_reps
    )


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for row in rows:
            out.writerow(["" if v is None else v for v in row])


def _flag(value: object) -> str:
    return "true" if value else "false"


def deal_row(opp: dict[str, Any], **override: Any) -> list[Any]:
    """One deals.csv row by the default mapping (a null Amount is 0)."""
    o = {**opp, **override}
    amount = o["Amount"] if o["Amount"] is not None else 0
    return [
        o["Id"], o["Name"], o["OwnerId"], amount, o["CloseDate"], _flag(o["IsWon"]),
        _flag(o["IsClosed"]), o["StageName"], o["Type"], o["Product_Family__c"],
        o["TotalOpportunityQuantity"], o["Term_Months__c"], o["Cancel_Date__c"],
    ]  # fmt: skip


# A rep's assignment as the sync saw it: effective_from (None: since ever), plan, manager,
# quota, target incentive.
Seen = tuple[date | None, str | None, str | None, str | None, str | None]


def _rep_rows(u: dict[str, Any], seen: list[Seen], plan_ids: set[str]) -> list[list[Any]]:
    """One reps.csv row, or one per assignment when the sync saw the rep change.

    Salesforce keeps only today's values; the days the sync saw a change (the history in
    Quotaflow's store, docs/plan-effective-dating.md) are an input of the check, like the
    org's data. The latest assignment must hold today's values (`history_differs`).
    """
    person = [u["Id"], u["Name"]]
    dates = [u["Hire_Date__c"], u["End_Date__c"]]
    flag = _flag(u["IsActive"])
    if len(seen) < 2:
        return [
            [*person, u["ManagerId"], u["Comp_Plan__c"], *dates, u["Quota__c"],
             u["Target_Incentive__c"], flag, "", ""]
        ]  # fmt: skip
    rows = []
    for i, (start, plan, manager, quota, target) in enumerate(seen):
        nxt = seen[i + 1][0] if i + 1 < len(seen) else None
        until = "" if nxt is None else (nxt - timedelta(days=1)).isoformat()
        plan = plan if plan in plan_ids else ""  # dates on an unknown plan are not paid
        rows.append(
            [*person, manager, plan, *dates, quota, target, flag,
             "" if start is None else start.isoformat(), until]
        )  # fmt: skip
    return rows


def history_differs(snap: Snapshot, history: dict[str, list[Seen]]) -> list[str]:
    """Reps whose latest stored assignment is not their values in the org now."""
    out = []
    for rep_id, seen in sorted(history.items()):
        u = snap.users.get(rep_id)
        if u is None or len(seen) < 2:
            continue
        _start, plan, manager, quota, target = seen[-1]
        now = (
            u["Comp_Plan__c"],
            u["ManagerId"],
            money(u["Quota__c"]),
            money(u["Target_Incentive__c"]),
        )
        if (plan, manager, money(quota), money(target)) != now:
            out.append(rep_id)
    return out


def write_inputs(
    snap: Snapshot, folder: Path, plan_ids: set[str], history: dict[str, list[Seen]] | None = None
) -> None:
    """reps.csv, deals.csv, splits.csv and team.csv in the `quotaflow calc` format."""
    folder.mkdir(parents=True, exist_ok=True)
    reps = [u for u in snap.users.values() if u["Comp_Plan__c"] in plan_ids]
    known = history or {}
    _write_csv(
        folder / "reps.csv",
        [*REP_COLS, "effective_from", "effective_to"],
        (row for u in reps for row in _rep_rows(u, known.get(u["Id"], []), plan_ids)),
    )
    _write_csv(folder / "deals.csv", DEAL_COLS, (deal_row(o) for o in snap.opps.values()))
    kinds = {"Revenue": "revenue", "Overlay": "overlay"}
    _write_csv(
        folder / "splits.csv",
        ["deal_id", "rep_id", "percent", "split_type"],
        (
            [s["OpportunityId"], s["SplitOwnerId"], s["SplitPercentage"],
             kinds[s["SplitType"]["DeveloperName"]]]
            for s in snap.splits
        ),
    )  # fmt: skip
    _write_csv(
        folder / "team.csv",
        ["deal_id", "rep_id", "role"],
        ([t["OpportunityId"], t["UserId"], t["TeamMemberRole"]] for t in snap.team),
    )


def run_calc(
    folder: Path, plan: Path, *, start: date, end: date, deals: str = "deals.csv"
) -> dict[str, Any]:
    """`quotaflow calc` on the files, as a separate process; its JSON."""
    argv = [sys.executable, "-m", "webapp.cli", "calc", "--plan", str(plan)]
    argv += ["--reps", str(folder / "reps.csv"), "--deals", str(folder / deals)]
    argv += ["--splits", str(folder / "splits.csv"), "--team", str(folder / "team.csv")]
    argv += ["--from", start.isoformat(), "--to", end.isoformat(), "--format", "json"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"quotaflow calc failed: {out.stderr.strip()}")
    data: dict[str, Any] = json.loads(out.stdout)
    return data


@dataclass(frozen=True)
class PlanFacts:
    """What the write-back rules need of the plan document (read from its YAML)."""

    plan_ids: set[str]
    spiffs: dict[str, list[dict[str, Any]]]  # plan id -> its spiff components
    fy_start_month: dict[str, int]


def plan_facts(plan_path: Path) -> PlanFacts:
    """Plan ids, SPIFF components and fiscal year starts of a plan document."""
    data = yaml.safe_load(plan_path.read_text())
    plans = data.get("plans", [data])
    return PlanFacts(
        {p["id"] for p in plans},
        {p["id"]: [c for c in p.get("components", []) if c["type"] == "spiff"] for p in plans},
        {p["id"]: int(p.get("fiscal_year_start_month", 1)) for p in plans},
    )


def money(value: object) -> Decimal | None:
    """A number at the field scale of two decimals (None stays None)."""
    return None if value is None else Decimal(str(value)).quantize(CENT)


def _criterion(value: Any, op: str, want: Any) -> bool:
    if op == "eq":
        return bool(value == want)
    if op == "ne":
        return bool(value != want)
    if op == "in":
        return value in (want if isinstance(want, list) else [want])
    raise ValueError(f"criteria op {op!r} is not handled by the soak's check")


def _matches(opp: dict[str, Any], criteria: list[dict[str, Any]]) -> bool:
    fields = {"product_family": opp["Product_Family__c"], "type": opp["Type"]}
    fields |= {"stage": opp["StageName"], "amount": opp["Amount"]}
    return all(_criterion(fields.get(c["field"]), c["op"], c["value"]) for c in criteria)


def spiff_status(opp: dict[str, Any], spiffs: list[dict[str, Any]], lines: list[Any]) -> str:
    """The SPIFF status rule (no locked periods in a soak)."""
    if not spiffs:
        return "Not Eligible"
    if opp["IsWon"]:
        ids = {s["id"] for s in spiffs}
        paid = any(ln["component"] in ids and Decimal(ln["amount"]) > 0 for ln in lines)
        return "Qualified" if paid else "Not Eligible"
    if opp["IsClosed"]:
        return "Not Eligible"
    day = date.fromisoformat(opp["CloseDate"])
    for s in spiffs:
        window = s["window"]
        start, end = (d if isinstance(d, date) else date.fromisoformat(d) for d in window.values())
        if start <= day <= end and _matches(opp, s.get("criteria", [])):
            return "Eligible"
    return "Not Eligible"


def by_rep(calc_out: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """calc results grouped by rep."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in calc_out["results"]:
        out.setdefault(row["rep_id"], []).append(row)
    return out


def current_gross(rows: list[dict[str, Any]], as_of: date) -> Decimal:
    """Gross of the period holding the as-of date (0 without a result)."""
    day = as_of.isoformat()
    return sum(
        (Decimal(r["gross"]) for r in rows if r["period_start"] <= day <= r["period_end"]),
        Decimal(0),
    )


def today() -> date:
    """The UTC date: the as-of date of the final runs (a soak must not straddle midnight UTC)."""
    return datetime.now(UTC).date()
