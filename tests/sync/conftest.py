"""Sync tests against a real devorg over HTTPS: an org client, an exporter to `quotaflow calc`
CSV files, and the expected write-back values computed independently from calc's output."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from calc.model import DEAL_FIELDS
from connector.deps import SyncDeps, build_sync_deps
from connector.settings import Settings, load_settings
from connector.store.migrate import upgrade
from connector.sync.plans import demo_plan_text, ensure_demo_plan
from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg

API = "/services/data/v62.0"
USER_FIELDS = (
    "Id, Name, ManagerId, Comp_Plan__c, Hire_Date__c, End_Date__c, Quota__c, "
    "Target_Incentive__c, IsActive, Quota_Attainment__c, Earnings_To_Date__c"
)
OPP_FIELDS = (
    "Id, Name, OwnerId, Amount, CloseDate, IsWon, IsClosed, StageName, Type, Product_Family__c, "
    "TotalOpportunityQuantity, Term_Months__c, Cancel_Date__c, Estimated_Commission__c, "
    "SPIFF_Status__c"
)


class OrgClient:
    """A plain REST client of the devorg (independent of the connector under test)."""

    def __init__(self, info: DevorgInfo) -> None:
        self.info = info
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        self.http.verify = info.ca_cert
        token = self.http.post(
            f"{info.login_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": info.client_id,
                "client_secret": info.client_secret,
                # A person editing the CRM: the integration user may not (field security).
                "username": ADMIN_USERNAME,
                "password": info.password + (info.security_token or ""),
            },
        ).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a query (following nextRecordsUrl)."""
        body = self.http.get(f"{self.info.instance_url}{API}/query/", params={"q": soql}).json()
        records = list(body["records"])
        while not body["done"]:
            body = self.http.get(self.info.instance_url + body["nextRecordsUrl"]).json()
            records += body["records"]
        return records

    def patch(self, obj: str, record_id: str, fields: dict[str, Any]) -> None:
        """Update one record as a user would."""
        url = f"{self.info.instance_url}{API}/sobjects/{obj}/{record_id}"
        response = self.http.patch(url, json=fields)
        assert response.status_code == 204, response.text

    def stats(self) -> dict[str, Any]:
        """The devorg's API call counts."""
        return dict(self.http.get(f"{self.info.instance_url}/__devorg/stats").json())

    def write_calls(self) -> int:
        """sObject Collections update calls so far."""
        return int(self.stats()["by_kind"].get("composite_update", 0))

    def faults(self, doc: dict[str, Any]) -> None:
        """Inject faults."""
        response = self.http.post(f"{self.info.instance_url}/__devorg/faults", json=doc)
        assert response.status_code < 300, response.text


def settings_for(info: DevorgInfo, database_url: str) -> Settings:
    """Connector settings for a devorg (password flow, its CA)."""
    env = info.quotaflow_env(database_url=database_url, auth="password")
    return load_settings(env).with_overrides(secret_key="test-0123456789abcdef0123456789abcdef")


def env_for(info: DevorgInfo, database_url: str) -> dict[str, str]:
    """The same settings as environment variables, for child processes."""
    return info.quotaflow_env(database_url=database_url, auth="password")


def next_second() -> None:
    """Wait past the next whole second: a pull reads changes made before its start second."""
    time.sleep(1.05 - (time.time() % 1.0) + 0.05)


@dataclass
class Org:
    """A running devorg with a migrated database and the demo plan active."""

    info: DevorgInfo
    client: OrgClient
    deps: SyncDeps
    settings: Settings
    org_id: str
    tmp: Path


@contextmanager
def running_org(tmp: Path, *, database_url: str | None = None, **devorg: Any) -> Iterator[Org]:
    """A devorg (demo seed unless told otherwise), a migrated database and the demo plan."""
    tmp.mkdir(parents=True, exist_ok=True)
    with start_devorg(tmp / "devorg", timeout=120, **devorg) as info:
        settings = settings_for(info, database_url or f"sqlite:///{tmp / 'qf.db'}")
        deps = build_sync_deps(settings)
        upgrade(deps.engine)
        org_id = deps.gateway.org_id()
        ensure_demo_plan(deps.sessions, org_id=org_id, now=datetime.now(UTC))
        next_second()  # the seed's last-second records are readable from here on
        try:
            yield Org(info, OrgClient(info), deps, settings, org_id, tmp)
        finally:
            deps.engine.dispose()


# --- the independent reference: export to CSV, run `quotaflow calc`, apply the rules ---------


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def _flag(value: object) -> str:
    return "true" if value else "false"


def export_org(client: OrgClient, folder: Path) -> dict[str, Any]:
    """Users, deals, splits and team of the org as calc CSV files; also the raw records."""
    folder.mkdir(parents=True, exist_ok=True)
    users = client.query(f"SELECT {USER_FIELDS} FROM User")
    opps = client.query(f"SELECT {OPP_FIELDS} FROM Opportunity")
    splits = client.query(
        "SELECT OpportunityId, SplitOwnerId, SplitPercentage, SplitType.DeveloperName "
        "FROM OpportunitySplit"
    )
    team = client.query("SELECT OpportunityId, UserId, TeamMemberRole FROM OpportunityTeamMember")
    _csv(
        folder / "reps.csv",
        [
            "id",
            "name",
            "manager_id",
            "plan_id",
            "hire_date",
            "end_date",
            "quota",
            "target_incentive",
            "is_active",
        ],
        [
            [
                u["Id"],
                u["Name"],
                u["ManagerId"],
                u["Comp_Plan__c"],
                u["Hire_Date__c"],
                u["End_Date__c"],
                u["Quota__c"],
                u["Target_Incentive__c"],
                _flag(u["IsActive"]),
            ]
            for u in users
        ],
    )
    deals = [
        {
            "id": o["Id"],
            "name": o["Name"],
            "owner_id": o["OwnerId"],
            "amount": o["Amount"] if o["Amount"] is not None or o["IsWon"] else 0,
            "close_date": o["CloseDate"],
            "is_won": _flag(o["IsWon"]),
            "is_closed": _flag(o["IsClosed"]),
            "stage": o["StageName"],
            "type": o["Type"],
            "product_family": o["Product_Family__c"],
            "quantity": o["TotalOpportunityQuantity"],
            "term_months": o["Term_Months__c"],
            "cancel_date": o["Cancel_Date__c"],
        }
        for o in opps
    ]
    # The columns are calc's deal fields (calc.model.DEAL_FIELDS) this export fills.
    columns = [name for name in DEAL_FIELDS if any(name in d for d in deals)]
    assert {k for d in deals for k in d} <= set(columns)
    _csv(folder / "deals.csv", columns, [[d.get(c) for c in columns] for d in deals])
    kinds = {"Revenue": "revenue", "Overlay": "overlay"}
    _csv(
        folder / "splits.csv",
        ["deal_id", "rep_id", "percent", "split_type"],
        [
            [
                s["OpportunityId"],
                s["SplitOwnerId"],
                s["SplitPercentage"],
                kinds[s["SplitType"]["DeveloperName"]],
            ]
            for s in splits
        ],
    )
    _csv(
        folder / "team.csv",
        ["deal_id", "rep_id", "role"],
        [[t["OpportunityId"], t["UserId"], t["TeamMemberRole"]] for t in team],
    )
    (folder / "plan.yaml").write_text(demo_plan_text())
    return {"users": {u["Id"]: u for u in users}, "opps": {o["Id"]: o for o in opps}}


def run_calc(folder: Path, *, start: str, end: str) -> dict[str, Any]:
    """`quotaflow calc` on the exported files, in a separate process."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "webapp.cli",
            "calc",
            "--plan",
            str(folder / "plan.yaml"),
            "--reps",
            str(folder / "reps.csv"),
            "--deals",
            str(folder / "deals.csv"),
            "--splits",
            str(folder / "splits.csv"),
            "--team",
            str(folder / "team.csv"),
            "--from",
            start,
            "--to",
            end,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def money(value: object) -> Decimal | None:
    """A CRM or calc number at two decimals (None stays None)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _spiff_status(opp: dict[str, Any], plan: Any, owner_lines: list[dict[str, Any]]) -> str:
    from datetime import date

    from calc.criteria import compile_all
    from calc.model import Deal

    spiffs = [c for c in (plan.components if plan else []) if c.type == "spiff"]
    if not spiffs:
        return "Not Eligible"
    ids = {c.id for c in spiffs}
    if opp["IsWon"]:
        paid = [ln for ln in owner_lines if ln["component"] in ids and Decimal(ln["amount"]) > 0]
        return "Qualified" if paid else "Not Eligible"
    if opp["IsClosed"]:
        return "Not Eligible"
    deal = Deal(
        id=opp["Id"],
        product_family=opp["Product_Family__c"],
        close_date=date.fromisoformat(opp["CloseDate"]),
        type=opp["Type"],
    )
    for spiff in spiffs:
        inside = spiff.window.start.isoformat() <= opp["CloseDate"] <= spiff.window.end.isoformat()
        if inside and compile_all(spiff.criteria)(deal):
            return "Eligible"
    return "Not Eligible"


def expected_values(
    calc_out: dict[str, Any],
    exported: dict[str, Any],
    *,
    as_of: str,
    window: tuple[str, str],
    estimates: dict[str, Decimal],
) -> dict[tuple[str, str], dict[str, Any]]:
    """The write-back values the business rules give from an independent `quotaflow calc` run.

    Open deals not in `estimates` are left out (the estimator is checked on a sample).
    """
    import yaml

    from calc.plan import parse_plan_doc

    doc = parse_plan_doc(yaml.safe_load(demo_plan_text()))
    by_rep: dict[str, list[dict[str, Any]]] = {}
    for row in calc_out["results"]:
        by_rep.setdefault(row["rep_id"], []).append(row)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for user in exported["users"].values():
        if doc.plan(user["Comp_Plan__c"] or "") is None:
            continue
        rows = by_rep.get(user["Id"], [])
        current = [r for r in rows if r["period_start"] <= as_of <= r["period_end"]]
        year = as_of[:4] + "-01-01"
        ytd = sum(
            (Decimal(r["gross"]) for r in rows if year <= r["period_start"] <= as_of), Decimal(0)
        )
        out[("User", user["Id"])] = {
            "Quota_Attainment__c": money(Decimal(current[0]["attainment"]) * 100)
            if current
            else None,
            "Earnings_To_Date__c": money(ytd),
        }
    for opp in exported["opps"].values():
        if not window[0] <= opp["CloseDate"] <= window[1]:
            continue
        owner = exported["users"].get(opp["OwnerId"]) or {}
        plan = doc.plan(owner.get("Comp_Plan__c") or "")
        lines = [
            ln
            for r in by_rep.get(opp["OwnerId"], [])
            for ln in r["lines"]
            if ln["deal_id"] == opp["Id"]
        ]
        values: dict[str, Any] = {"SPIFF_Status__c": _spiff_status(opp, plan, lines)}
        if opp["IsWon"]:
            values["Estimated_Commission__c"] = money(
                sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
            )
        elif opp["IsClosed"]:
            values["Estimated_Commission__c"] = money(0)
        elif opp["Id"] in estimates:
            values["Estimated_Commission__c"] = money(estimates[opp["Id"]])
        out[("Opportunity", opp["Id"])] = values
    return out


def calc_estimates(folder: Path, deal_ids: list[str], *, as_of: str) -> dict[str, Decimal]:
    """calc's own estimator (`calc.estimate`) on the exported files, for these open deals."""
    from datetime import date

    import yaml

    from calc.book import Book
    from calc.estimate import estimate_in_book
    from calc.inputs import parse_deals, parse_reps, parse_splits, parse_team
    from calc.plan import parse_plan_doc

    doc = parse_plan_doc(yaml.safe_load((folder / "plan.yaml").read_text()))
    book = Book(
        doc,
        parse_reps((folder / "reps.csv").read_text()),
        parse_deals((folder / "deals.csv").read_text()),
        parse_splits((folder / "splits.csv").read_text()),
        parse_team((folder / "team.csv").read_text()),
    )
    day = date.fromisoformat(as_of)
    return {d: estimate_in_book(book, d, as_of=day).owner_amount() for d in deal_ids}


def crm_values(exported: dict[str, Any], keys: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The write-back fields as the CRM holds them, numbers at two decimals."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for obj, rid in keys:
        record = exported["users" if obj == "User" else "opps"][rid]
        if obj == "User":
            out[(obj, rid)] = {
                "Quota_Attainment__c": money(record["Quota_Attainment__c"]),
                "Earnings_To_Date__c": money(record["Earnings_To_Date__c"]),
            }
        else:
            out[(obj, rid)] = {
                "Estimated_Commission__c": money(record["Estimated_Commission__c"]),
                "SPIFF_Status__c": record["SPIFF_Status__c"],
            }
    return out
