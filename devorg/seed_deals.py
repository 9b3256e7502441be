"""Seed opportunities with their splits, team members and line items, generated in batches.

Speed matters (a million deals in seconds), so each deal is assembled from precomputed
tables: a pool of deal "shapes" (type, product, price, quantity, amount, ...), a close-date
table with the quarter-end bunching, stage tables and child profiles, each drawn with one
random() call. Every table is built from the seeded generator, so the output stays
deterministic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from statistics import NormalDist

from devorg.schema import STAGES, TEAM_ROLES, new_id
from devorg.seed_ids import id_range
from devorg.seed_people import Org

# (product number, family, list price, short name): the price book of the demo products.
PRODUCTS = (
    (1, "Platform", 1200.0, "Platform Seats"),
    (2, "Platform", 24000.0, "Platform Enterprise"),
    (3, "Analytics", 900.0, "Analytics Suite"),
    (4, "Analytics", 300.0, "Analytics Add-on"),
    (5, "Services", 1800.0, "Implementation"),
    (6, "Services", 2500.0, "Training"),
)
FAMILY_PICK = (0, 0, 0, 1, 1, 2, 2, 3, 4, 5)  # Platform 50%, Analytics 30%, Services 20%
TYPES = ("New Business",) * 5 + ("Renewal",) * 3 + ("Upsell",) * 2
LEAD_SOURCES = ("Web", "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
DISCOUNTS = (1.0, 1.0, 0.95, 0.9, 0.9, 0.85, 0.8, 0.75)
TERMS = (12.0, 12.0, 12.0, 24.0, 36.0, 36.0)
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
               "Negotiation/Review")  # fmt: skip
MIN_AMOUNT, MAX_AMOUNT = 5_000.0, 400_000.0
REVENUE_SHARE, OVERLAY_SHARE, TEAM_SHARE, LINE_ITEM_SHARE = 0.08, 0.05, 0.10, 0.25
DELETED_SHARE, CANCEL_SHARE, UNSIZED_SHARE, OWNER_IS_ACCOUNT_OWNER = 0.003, 0.03, 0.05, 0.85
TEAM_ROLE_PICK = (2, 1, 1, 1, 0, 0, 2, 3, 4, 1)  # Sales Engineer most often
TABLE = 1 << 14
Row = tuple[object, ...]
Shape = tuple[str, str, int, float, float, float, str, float, str, bool, int]


def _stage(name: str) -> tuple[str, float, int, int]:
    probability, closed, won = STAGES[name]
    return name, float(probability), int(closed), int(won)


# Past close dates: 55% won, 38% lost, 7% slipped but still open; future ones are open.
PAST_STAGES = tuple(
    [_stage("Closed Won")] * 55 + [_stage("Closed Lost")] * 38
    + [_stage("Negotiation/Review")] * 4 + [_stage("Proposal/Price Quote")] * 3
)  # fmt: skip
FUTURE_STAGES = tuple(_stage(name) for name in OPEN_STAGES)


def _shapes(rng: random.Random) -> list[Shape]:
    """Deal shapes: type, family, product, unit price, quantity, amount, source, term, ..."""
    rand = rng.random
    sizes = NormalDist(10.6, 0.85)  # log-normal amounts, median about 40k
    shapes = []
    for _ in range(TABLE):
        kind = TYPES[int(rand() * 10)]
        number, family, price, short = PRODUCTS[FAMILY_PICK[int(rand() * 10)]]
        size = 2.718281828459045 ** sizes.inv_cdf(min(max(rand(), 1e-9), 1 - 1e-9))
        size *= 0.6 if kind == "Renewal" else 1.0
        unit = round(price * DISCOUNTS[int(rand() * 8)], 2)
        qty = float(max(-(-MIN_AMOUNT // unit), min(MAX_AMOUNT // unit, round(size / unit))))
        term = 12.0 if family == "Services" else TERMS[int(rand() * 6)]
        suffix = "" if kind == "New Business" else f" {kind}"
        cancel_after = 20 + int(rand() * 100) if rand() < CANCEL_SHARE else 0
        shapes.append((kind, family, number, unit, qty, round(qty * unit, 2),
                       LEAD_SOURCES[int(rand() * 6)], term, f" - {short}{suffix}",
                       rand() < UNSIZED_SHARE, cancel_after))  # fmt: skip
    return shapes


def _values(params: str, **constants: str) -> dict[str, str]:
    """A VALUES template: the named columns take ?1, ?2, ... in order; `constants` are SQL."""
    values = {name: f"?{i}" for i, name in enumerate(params.split(), 1)}
    stamp, user = values.pop("stamp"), values.pop("user")
    # The audit fields repeat two parameters: binding each value once is what costs.
    audit = {"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp,
             "CreatedById": user, "LastModifiedById": user}  # fmt: skip
    return values | constants | audit


# How the compact rows below map onto each table's columns (unlisted columns are null).
INSERT_VALUES = {
    "Opportunity": _values(
        "Id IsDeleted Name AccountId OwnerId Amount CloseDate StageName Probability IsClosed "
        "IsWon Type LeadSource TotalOpportunityQuantity Product_Family__c Term_Months__c "
        "Cancel_Date__c stamp user",
        CurrencyIsoCode="'USD'",
        # Renewals have their own record type; every deal is priced from the standard book.
        RecordTypeId=f"CASE WHEN ?12 = 'Renewal' THEN '{new_id('RecordType', 2)}' "
        f"ELSE '{new_id('RecordType', 1)}' END",
        ForecastCategoryName="CASE WHEN ?10 = 0 THEN 'Pipeline' WHEN ?11 = 1 THEN 'Closed' "
        "ELSE 'Omitted' END",
        Pricebook2Id=f"'{new_id('Pricebook2', 1)}'",
        HasOpportunityLineItem="0",
    ),
    "OpportunitySplit": _values(
        "Id OpportunityId SplitOwnerId SplitPercentage SplitTypeId SplitAmount SplitNote "
        "stamp user",
        IsDeleted="0",
    ),
    "OpportunityTeamMember": _values(
        "Id OpportunityId UserId TeamMemberRole OpportunityAccessLevel stamp user", IsDeleted="0"
    ),
    "OpportunityLineItem": _values(
        "Id OpportunityId Product2Id Quantity UnitPrice TotalPrice stamp user", IsDeleted="0"
    ),
}


class DealMaker:
    """Generates deal rows for one org; `batches` yields compact rows per table (see
    INSERT_VALUES for their columns)."""

    def __init__(self, rng: random.Random, org: Org, *, today: dt.date, now_ms: int) -> None:
        self.rng = rng
        self.org = org
        start = dt.date(today.year - 1, 1, 1)
        span = (dt.date(today.year, 12, 31) - start).days + 1
        self.days = [(start + dt.timedelta(days=k)).isoformat() for k in range(span)]
        self.today_index = (today - start).days
        self.now_ms = now_ms
        self.shapes = _shapes(rng)
        self.day_table = self._day_table(start, span)
        rand = rng.random
        self.child_table = [
            (rand() < REVENUE_SHARE, rand() < OVERLAY_SHARE, rand() < TEAM_SHARE,
             rand() < LINE_ITEM_SHARE) for _ in range(TABLE)
        ]  # fmt: skip
        self.split_ids = id_range("OpportunitySplit", 1, 10**8)
        self.team_ids = id_range("OpportunityTeamMember", 1, 10**8)
        self.line_ids = id_range("OpportunityLineItem", 1, 10**8)
        self.revenue_type = new_id("OpportunitySplitType", 1)
        self.overlay_type = new_id("OpportunitySplitType", 2)
        self.product_ids = {p[0]: new_id("Product2", p[0]) for p in PRODUCTS}

    def _day_table(self, start: dt.date, span: int) -> list[int]:
        """Close-day indexes, uniform over both years but bunched before quarter ends."""
        rand = self.rng.random
        table = []
        for _ in range(TABLE):
            day = int(rand() * span)
            if rand() < 0.35:
                date = start + dt.timedelta(days=day)
                q_month = (date.month - 1) // 3 * 3 + 3
                q_end = dt.date(date.year + q_month // 12, q_month % 12 + 1, 1)
                day = min(span - 1, (q_end - start).days - 1 - int(rand() * 14))
            table.append(day)
        return table

    def batches(self, total: int, *, batch: int = 20_000) -> Iterator[dict[str, list[Row]]]:
        """Rows of Opportunity and its children, `batch` opportunities at a time."""
        ids = id_range("Opportunity", 1, total)
        for first in range(0, total, batch):  # one id iterator across batches: ids stay in order
            out: dict[str, list[Row]] = {
                "Opportunity": [], "OpportunitySplit": [], "OpportunityTeamMember": [],
                "OpportunityLineItem": [],
            }  # fmt: skip
            self.deals(ids, range(first, min(total, first + batch)), total, out)
            yield out

    def deals(self, ids: Iterator[str], span: range, total: int, out: dict[str, list[Row]]) -> None:
        """Append the opportunities numbered `span` (and their children) to `out`."""
        rand, org, days, today = self.rng.random, self.org, self.days, self.today_index
        shapes, day_table, child_table = self.shapes, self.day_table, self.child_table
        owners, windows, rep_ids = org.account_owner, org.rep_window, org.rep_ids
        account_ids, account_names = org.account_ids, org.account_names
        n_accounts, n_reps, base = len(account_ids), len(rep_ids), self.now_ms - total
        append = out["Opportunity"].append
        no_children = (False, False, False, False)
        for i, oid in zip(span, ids, strict=False):
            account = int(rand() * n_accounts)
            rep = owners[account] if rand() < OWNER_IS_ACCOUNT_OWNER else int(rand() * n_reps)
            lo, hi = windows[rep]
            day = day_table[int(rand() * TABLE)]
            if day < lo or day > hi:  # reps hired or gone this year close deals in their tenure
                day = lo + int(rand() * (hi - lo + 1))
            stage, probability, closed, won = (
                PAST_STAGES[int(rand() * 100)] if day <= today else FUTURE_STAGES[int(rand() * 5)]
            )
            shape: Shape = shapes[int(rand() * TABLE)]
            kind, family, _, _, qty, size, source, term, suffix, unsized, cancel_after = shape
            # Early deals are often not sized yet.
            amount = None if unsized and stage == "Prospecting" else size
            cancel = None
            if won and cancel_after and day + cancel_after <= today:
                cancel = days[day + cancel_after]
            owner, stamp = rep_ids[rep], base + i
            deleted = int(rand() < DELETED_SHARE)
            append((
                oid, deleted, account_names[account] + suffix, account_ids[account], owner,
                amount, days[day], stage, probability, closed, won, kind, source, qty, family,
                term, cancel, stamp, owner,
            ))  # fmt: skip
            flags = child_table[int(rand() * TABLE)]
            # A deleted deal's children are deleted with it, so it has none.
            if not deleted and flags != no_children:
                self.children(oid, rep, flags, amount, shape, (stamp, owner), out)

    def children(
        self,
        oid: str,
        rep: int,
        flags: tuple[bool, bool, bool, bool],
        amount: float | None,
        shape: Shape,
        audit: Row,
        out: dict[str, list[Row]],
    ) -> None:
        """Splits, team members and a line item for one deal, as `flags` say."""
        revenue, overlay, team, line = flags
        if revenue:
            for user, percent in self.revenue_split(rep):
                split_amount = None if amount is None else round(amount * percent / 100, 2)
                out["OpportunitySplit"].append((next(self.split_ids), oid, user, percent,
                    self.revenue_type, split_amount, None, *audit))  # fmt: skip
        if overlay:
            other = self.other_rep(rep, same_team=False)
            out["OpportunitySplit"].append((next(self.split_ids), oid, other, 100.0,
                self.overlay_type, amount, "Overlay credit", *audit))  # fmt: skip
        if team:
            out["OpportunityTeamMember"].extend(self.team(oid, rep, audit))
        if line and amount is not None:
            number, unit, qty = shape[2], shape[3], shape[4]
            out["OpportunityLineItem"].append((next(self.line_ids), oid,
                self.product_ids[number], qty, unit, amount, *audit))  # fmt: skip

    def team(self, oid: str, rep: int, audit: tuple[object, ...]) -> list[Row]:
        """One or two team members with roles (the manager as Executive Sponsor)."""
        rand, org = self.rng.random, self.org
        rows: list[Row] = []
        for _ in range(1 + int(rand() < 0.4)):
            role = TEAM_ROLES[TEAM_ROLE_PICK[int(rand() * 10)]]
            user = org.team_manager[org.rep_team[rep]]
            if role != "Executive Sponsor":
                user = self.other_rep(rep, same_team=role == "Account Manager")
            access = "Edit" if role in ("Sales Engineer", "Account Manager") else "Read"
            rows.append((next(self.team_ids), oid, user, role, access, *audit))
        return rows

    def other_rep(self, rep: int, *, same_team: bool) -> str:
        """Another rep: a teammate when asked (and there is one), else anyone else."""
        org = self.org
        team = org.team_reps[org.rep_team[rep]]
        pool = team if same_team and len(team) > 1 else range(len(org.rep_ids))
        pick = pool[int(self.rng.random() * len(pool))]
        if pick == rep and len(pool) > 1:
            pick = pool[(pool.index(pick) + 1) % len(pool)]
        return org.rep_ids[pick]

    def revenue_split(self, rep: int) -> list[tuple[str, float]]:
        """Two or three split owners whose whole-number percentages sum to exactly 100."""
        rand = self.rng.random
        owner = self.org.rep_ids[rep]
        first = self.other_rep(rep, same_team=True)
        if first == owner:
            return [(owner, 100.0)]
        mine = (50.0, 60.0, 70.0, 80.0)[int(rand() * 4)]
        second = self.other_rep(rep, same_team=False)
        if rand() < 0.7 or second in (owner, first):
            return [(owner, mine), (first, 100.0 - mine)]
        mine, theirs = (40.0, 50.0, 60.0)[int(rand() * 3)], (20.0, 25.0, 30.0)[int(rand() * 3)]
        return [(owner, mine), (first, theirs), (second, 100.0 - mine - theirs)]
