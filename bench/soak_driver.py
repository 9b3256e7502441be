"""The soak's driver: random, realistic changes a sales team makes through the REST API.

Every change is what a user does in Salesforce (create, edit, close, reassign, split,
delete and undelete a deal; move a rep to another manager), at a bounded rate, from a
seeded random generator. A change that must move a write-back value gets a watch (see
soak_watch): the record and field, and what "reflected" means. While a watch is open its
records and people are busy, and no other change touches them, so the value that
resolves a watch can only come from that change.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from soak_org import OrgClient, OrgError
from soak_watch import Watch

OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
FAMILIES = ("Platform", "Analytics", "Services")
TYPES = ("New Business", "Renewal", "Upsell")
OPP_FIELDS = "Id, OwnerId, Amount, CloseDate, IsWon, IsClosed, StageName, Cancel_Date__c"


@dataclass
class Mirror:
    """The driver's picture of the org's inputs (it is their only writer besides the sync)."""

    users: dict[str, dict[str, Any]]
    opps: dict[str, dict[str, Any]]
    split_deals: set[str]
    deleted: list[dict[str, Any]] = field(default_factory=list)  # rows the driver deleted
    revenue_type: str = ""

    @classmethod
    def read(cls, client: OrgClient) -> Mirror:
        """The org as it is now."""
        users = client.query("SELECT Id, ManagerId, Comp_Plan__c, IsActive, End_Date__c FROM User")
        opps = client.query(f"SELECT {OPP_FIELDS} FROM Opportunity")
        splits = client.query("SELECT OpportunityId FROM OpportunitySplit")
        team = client.query("SELECT OpportunityId FROM OpportunityTeamMember")
        kinds = client.query("SELECT Id, DeveloperName FROM OpportunitySplitType")
        revenue = next(k["Id"] for k in kinds if k["DeveloperName"] == "Revenue")
        shared = {s["OpportunityId"] for s in splits} | {t["OpportunityId"] for t in team}
        return cls({u["Id"]: u for u in users}, {o["Id"]: o for o in opps}, shared, [], revenue)

    def aes(self) -> list[str]:
        """Active account executives."""
        return sorted(
            u["Id"]
            for u in self.users.values()
            if u["Comp_Plan__c"] == "ae" and u["IsActive"] and not u["End_Date__c"]
        )

    def managers(self) -> list[str]:
        """First-line managers."""
        return sorted(u["Id"] for u in self.users.values() if u["Comp_Plan__c"] == "manager")


@dataclass
class Change:
    """One change made: its kind, when, what it touched and the watches it set."""

    kind: str
    at: float
    touched: set[str]
    watches: list[Watch]
    late: bool = False
    failed: str | None = None


def kinds_made(changes: list[Change]) -> dict[str, int]:
    """Changes made, by kind (refused ones apart)."""
    made = Counter(c.kind for c in changes if c.failed is None)
    made["late_commits"] = sum(1 for c in changes if c.late)
    made["failed"] = sum(1 for c in changes if c.failed is not None)
    return dict(made)


class Driver:
    """Makes one random change at a time; `busy` ids are off limits while watched."""

    def __init__(self, client: OrgClient, mirror: Mirror, *, rng: random.Random, today: date):
        self.client = client
        self.m = mirror
        self.rng = rng
        self.today = today
        self.busy: set[str] = set()
        self.late_share = 0.15

    # --- picking --------------------------------------------------------------------------
    def _free(self, ids: set[str]) -> bool:
        return not (ids & self.busy)

    def _deal(self, *, want: str) -> dict[str, Any] | None:
        """A live deal of an active AE this year, free, without splits or team, in a state."""
        aes = set(self.m.aes())
        year = f"{self.today.year}-01-01"
        pool = [
            o
            for o in self.m.opps.values()
            if o["OwnerId"] in aes
            and o["CloseDate"] >= year
            and not o["Cancel_Date__c"]
            and o["Id"] not in self.m.split_deals
            and {"open": not o["IsClosed"], "won": o["IsWon"], "any": True}[want]
        ]
        self.rng.shuffle(pool)
        return next((o for o in pool[:50] if self._free(self._touch(o))), None)

    def _touch(self, opp: dict[str, Any]) -> set[str]:
        return {opp["Id"], opp["OwnerId"]}

    def _amount(self) -> float:
        return round(min(400_000.0, max(5_000.0, self.rng.lognormvariate(10.6, 0.8))), 2)

    def _close_day(self) -> str:
        end = date(self.today.year, 12, 31)
        return (
            self.today + timedelta(days=self.rng.randint(0, (end - self.today).days))
        ).isoformat()

    # --- writing --------------------------------------------------------------------------
    def _patch(self, obj: str, record_id: str, fields: dict[str, Any], *, late_ok: bool) -> bool:
        """PATCH as a user, or now and then as a late-committing transaction; True if late."""
        if late_ok and self.rng.random() < self.late_share:
            age = self.rng.randint(5, 120)  # inside the pull's 5-minute lookback
            body = {"object": obj, "id": record_id, "fields": fields, "age_seconds": age}
            self.client.control("POST", "late-commit", body)
            return True
        self.client.update(obj, record_id, fields)
        return False

    def step(self, kind: str, now: float) -> Change | None:
        """Make one change of this kind (None when no candidate is free)."""
        try:
            return getattr(self, f"_{kind}")(now)  # type: ignore[no-any-return]
        except OrgError as exc:
            return Change(kind, now, set(), [], failed=str(exc))

    def _new_deal(self, now: float) -> Change | None:
        owner = self.rng.choice(self.m.aes())
        if not self._free({owner}):
            return None
        won = self.rng.random() < 0.3
        fields = {
            "Name": f"Soak deal {self.rng.randint(1000, 999_999)}",
            "OwnerId": owner,
            "Amount": self._amount(),
            "CloseDate": self.today.isoformat() if won else self._close_day(),
            "StageName": "Closed Won" if won else self.rng.choice(OPEN_STAGES),
            "Type": self.rng.choice(TYPES),
            "Product_Family__c": self.rng.choice(FAMILIES),
            "TotalOpportunityQuantity": self.rng.randint(1, 40),
            "Term_Months__c": self.rng.choice((12, 24, 36)),
        }
        new_id = self.client.create("Opportunity", fields)
        row = {"Id": new_id, "IsWon": won, "IsClosed": won, "Cancel_Date__c": None, **fields}
        self.m.opps[new_id] = row
        watches = [Watch.set_("Opportunity", new_id, "Estimated_Commission__c")]
        if won:
            watches.append(Watch.differs("User", owner, "Earnings_To_Date__c"))
        return Change("new_deal", now, {new_id, owner}, watches)

    def _stage_move(self, now: float) -> Change | None:
        opp = self._deal(want="open")
        if opp is None:
            return None
        to = self.rng.choice(("Closed Won", "Closed Won", "Closed Lost", *OPEN_STAGES))
        fields: dict[str, Any] = {"StageName": to}
        watches: list[Watch] = []
        if to == "Closed Won":
            fields["CloseDate"] = self.today.isoformat()
            fields["Amount"] = opp["Amount"] or self._amount()
            watches.append(Watch.differs("User", opp["OwnerId"], "Earnings_To_Date__c"))
        elif to == "Closed Lost":
            watches.append(Watch.equals("Opportunity", opp["Id"], "Estimated_Commission__c", 0))
        late = self._patch("Opportunity", opp["Id"], fields, late_ok=True)
        opp.update(fields, IsWon=to == "Closed Won", IsClosed=to.startswith("Closed"))
        return Change("stage_move", now, self._touch(opp), watches, late=late)

    def _amount_edit(self, now: float) -> Change | None:
        opp = self._deal(want=self.rng.choice(("open", "won")))
        if opp is None or not opp["Amount"]:
            return None
        amount = round(float(opp["Amount"]) * self.rng.uniform(0.5, 1.8), 2)
        late = self._patch("Opportunity", opp["Id"], {"Amount": amount}, late_ok=True)
        opp["Amount"] = amount
        watch = Watch.differs("Opportunity", opp["Id"], "Estimated_Commission__c")
        return Change("amount_edit", now, self._touch(opp), [watch], late=late)

    def _owner_change(self, now: float) -> Change | None:
        opp = self._deal(want="won")
        new_owner = self.rng.choice(self.m.aes())
        if opp is None or new_owner == opp["OwnerId"] or not self._free({new_owner}):
            return None
        old = opp["OwnerId"]
        late = self._patch("Opportunity", opp["Id"], {"OwnerId": new_owner}, late_ok=False)
        opp["OwnerId"] = new_owner
        watch = Watch.differs("User", old, "Earnings_To_Date__c")
        return Change("owner_change", now, {opp["Id"], old, new_owner}, [watch], late=late)

    def _split_change(self, now: float) -> Change | None:
        opp = self._deal(want="any")
        mate = self.rng.choice(self.m.aes())
        if opp is None or mate == opp["OwnerId"] or not self._free({mate}):
            return None
        share = self.rng.choice((50, 60, 70, 80))
        base = {"attributes": {"type": "OpportunitySplit"}, "OpportunityId": opp["Id"]}
        base["SplitTypeId"] = self.m.revenue_type
        records = [
            {**base, "SplitOwnerId": opp["OwnerId"], "SplitPercentage": share},
            {**base, "SplitOwnerId": mate, "SplitPercentage": 100 - share},
        ]
        self.client.composite("POST", records)  # both rows in one save, as the split editor does
        self.m.split_deals.add(opp["Id"])
        watch = Watch.differs("Opportunity", opp["Id"], "Estimated_Commission__c")
        return Change("split_change", now, {opp["Id"], opp["OwnerId"], mate}, [watch])

    def _delete(self, now: float) -> Change | None:
        opp = self._deal(want="won")
        if opp is None:
            return None
        self.client.delete("Opportunity", opp["Id"])
        self.m.deleted.append(self.m.opps.pop(opp["Id"]))
        watch = Watch.differs("User", opp["OwnerId"], "Earnings_To_Date__c")
        return Change("delete", now, self._touch(opp), [watch], late=False)

    def _undelete(self, now: float) -> Change | None:
        if not self.m.deleted:
            return None
        row = self.m.deleted[0]
        deal_id = row["Id"]
        if not self._free(self._touch(row)):
            return None
        self.m.deleted.pop(0)
        result = self.client.control("POST", "undelete", {"ids": [deal_id]})
        if not result[0]["success"]:
            return Change("undelete", now, set(), [], failed=str(result[0]["errors"]))
        self.m.opps[deal_id] = row
        watch = Watch.differs("User", row["OwnerId"], "Earnings_To_Date__c")
        return Change("undelete", now, self._touch(row), [watch])

    def _manager_change(self, now: float) -> Change | None:
        rep = self.rng.choice(self.m.aes())
        old = self.m.users[rep]["ManagerId"]
        new = self.rng.choice(self.m.managers())
        if new == old or not self._free({rep, old, new}):
            return None
        self.client.update("User", rep, {"ManagerId": new})
        self.m.users[rep]["ManagerId"] = new
        watch = Watch.differs("User", new, "Earnings_To_Date__c")
        return Change("manager_change", now, {rep, old, new}, [watch])
