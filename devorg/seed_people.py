"""Seed data for setup objects, the sales organisation (users and hierarchy) and accounts."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from devorg.schema import new_id
from devorg.seed_ids import id_range


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "Olivia Liam Emma Noah Ava Elijah Sophia Lucas Mia Mateo Amelia Levi Harper Ethan Aisha "
    "Kenji Priya Arjun Chloe Diego Fatima Hugo Ingrid Jonas Keiko Lars Maya Nikolai Omar Paula "
    "Quentin Rosa Samir Tessa Umar Valentina Wei Ximena Yusuf Zoe Bianca Carlos Dana Emeka "
    "Freya Gabriel Hana Ivan Julia Kofi"
)
LAST = _words(
    "Smith Johnson Garcia Brown Nguyen Patel Kim Muller Rossi Dubois Silva Tanaka Kowalski "
    "Okafor Haddad Larsen Novak Cohen Murphy Schmidt Fischer Moreau Costa Sato Ivanova Ali "
    "Hansen Jensen Berg Lopez Martin Clark Lewis Walker Young Allen Wright Scott Green Baker "
    "Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner"
)
COMPANY = _words(
    "Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Cyberdyne Soylent Hooli Vandelay "
    "Massive Dynamic Aperture Gringotts Monarch Oscorp Pied Piper Prestige Sterling Cooper "
    "Wernham Dunder Bluth Nakatomi Virtucon Gekko Oceanic Blue Sun Ollivander Zorg Krusty "
    "Duff Spacely Cogswell Rekall Ingen Weyland Yoyodyne Abstergo Axiom Contoso Fabrikam "
    "Northwind Tailspin Litware Proseware Adatum Fourth Coffee Wingtip Alpine Trey Lucerne"
)
SUFFIX = "Corp Inc Group Holdings Industries Labs Systems Partners Logistics Health Bank Retail"
SUFFIXES = _words(SUFFIX)
# Region -> (share of sales teams, time zones, billing countries).
REGIONS = {
    "NA": (("America/Los_Angeles", "America/New_York"), ("United States", "Canada")),
    "EMEA": (("Europe/London", "Europe/Berlin"),
             ("United Kingdom", "Germany", "France", "Netherlands")),
    "APAC": (("Asia/Singapore",), ("Singapore", "Australia", "Japan", "India")),
}  # fmt: skip
TEAM_REGIONS = ("NA", "NA", "EMEA", "APAC", "NA", "EMEA")
PROFILES = (
    "System Administrator",
    "Integration User",
    "Sales Operations",
    "Sales Manager",
    "Sales Rep",
    "Chatter Free User",
    "Quotaflow Site Profile",
    "Partner Community User",
)
ACCOUNT_TYPES = ("Customer - Direct",) * 6 + ("Customer - Channel",) * 2 + ("Prospect", "Partner")
INDUSTRIES = ("Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Energy", "Media")
EPOCH = dt.date(1970, 1, 1)


def day_ms(day: dt.date) -> int:
    """Epoch milliseconds of midnight UTC."""
    return (day - EPOCH).days * 86_400_000


@dataclass
class Org:
    """The sales organisation the deal generator draws owners from."""

    admin_id: str
    rep_ids: list[str] = field(default_factory=list)
    rep_team: list[int] = field(default_factory=list)
    rep_window: list[tuple[int, int]] = field(default_factory=list)  # day indexes, inclusive
    team_reps: list[list[int]] = field(default_factory=list)
    team_manager: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    account_names: list[str] = field(default_factory=list)
    account_owner: list[int] = field(default_factory=list)  # rep index


@dataclass
class _UserRow:
    first: str
    last: str
    title: str
    plan: str | None
    profile: int
    manager: str | None
    region: str | None
    hire: dt.date | None
    end: dt.date | None = None
    quota: float | None = None
    target: float | None = None
    username: str = ""
    user_type: str = "Standard"


# Quotaflow's permission sets (force-app ships them) and the system user each is assigned to:
# (API name, label, description, user number in the seed).
PERMISSION_SETS = (
    ("Quotaflow_Admin", "Quotaflow Admin", "Maintain Quotaflow plans and mappings", 1),
    ("Quotaflow_Integration", "Quotaflow Integration", "Quotaflow's sync user", 2),
    ("Quotaflow_Ops", "Quotaflow Ops", "Trigger Quotaflow resyncs and watch runs", 3),
)


def _permission_rows(audit: tuple[object, ...]) -> dict[str, list[tuple[object, ...]]]:
    return {
        "PermissionSet": [
            (new_id("PermissionSet", i), name, label, text, 0, *audit)
            for i, (name, label, text, _) in enumerate(PERMISSION_SETS, 1)
        ],
        "PermissionSetAssignment": [
            (
                new_id("PermissionSetAssignment", i),
                new_id("User", user),
                new_id("PermissionSet", i),
                *audit,
            )
            for i, (_, _, _, user) in enumerate(PERMISSION_SETS, 1)
        ],
    }


# Dated exchange rates (units per one USD, the corporate currency) by currency and start. The
# first range of each currency starts long before any deal, as the org's rate did before
# advanced currency management was turned on.
DATED_RATES = (
    ("EUR", (("2000-01-01", 0.92), ("2026-01-01", 0.95), ("2026-04-01", 0.9),
             ("2026-07-01", 0.88), ("2026-10-01", 0.86))),
    ("GBP", (("2000-01-01", 0.79), ("2026-01-01", 0.8), ("2026-07-01", 0.78))),
)  # fmt: skip


def dated_rate_rows(audit: tuple[object, ...]) -> list[tuple[object, ...]]:
    """DatedConversionRate rows, each with the NextStartDate of its currency's next range."""
    rows: list[tuple[object, ...]] = []
    for iso, ranges in DATED_RATES:
        for i, (start, rate) in enumerate(ranges):
            following = ranges[i + 1][0] if i + 1 < len(ranges) else None
            rows.append(
                (new_id("DatedConversionRate", len(rows) + 1), iso, rate, start, following, *audit)
            )
    return rows


def setup_rows(now_ms: int) -> dict[str, list[tuple[object, ...]]]:
    """Profiles, currencies, split types, products and Quotaflow's permission sets (field
    order as in the schema)."""
    admin = new_id("User", 1)
    audit = (now_ms, admin, now_ms, admin, now_ms)
    products = [
        ("Platform Seat", "PLT-SEAT", "Platform"),
        ("Platform Enterprise Edition", "PLT-ENT", "Platform"),
        ("Analytics Suite", "ANL-SUITE", "Analytics"),
        ("Analytics Add-on", "ANL-ADD", "Analytics"),
        ("Implementation Services", "SVC-IMPL", "Services"),
        ("Training Day", "SVC-TRAIN", "Services"),
    ]
    return {
        "Profile": [(new_id("Profile", i), name, *audit) for i, name in enumerate(PROFILES, 1)],
        "CurrencyType": [
            (new_id("CurrencyType", i), iso, rate, int(iso == "USD"), 1, *audit)
            for i, (iso, rate) in enumerate((("USD", 1.0), ("EUR", 0.92), ("GBP", 0.79)), 1)
        ],
        "DatedConversionRate": dated_rate_rows(audit),
        "OpportunitySplitType": [
            (new_id("OpportunitySplitType", 1), "Revenue", "Revenue", 1, 1, *audit),
            (new_id("OpportunitySplitType", 2), "Overlay", "Overlay", 0, 1, *audit),
        ],
        "RecordType": [
            (
                new_id("RecordType", 1),
                "New Business",
                "New_Business",
                None,
                "New logos and upsells",
                "Opportunity",
                1,
                *audit,
            ),
            (
                new_id("RecordType", 2),
                "Renewal",
                "Renewal",
                None,
                "Contract renewals",
                "Opportunity",
                1,
                *audit,
            ),
        ],
        "Pricebook2": [
            (new_id("Pricebook2", 1), 0, "Standard Price Book", None, 1, 1, *audit),
        ],
        "Product2": [
            (new_id("Product2", i), 0, name, code, family, 1, *audit)
            for i, (name, code, family) in enumerate(products, 1)
        ],
        **_permission_rows(audit),
    }


def _veteran(rng: random.Random) -> dt.date:
    return dt.date(2016, 1, 4) + dt.timedelta(days=int(rng.random() * 365 * 8))


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def _plan_users(rng: random.Random, reps: int, today: dt.date) -> list[_UserRow]:
    """VP, second-line directors, front-line managers and reps, managers before their teams."""
    managers = max(1, math.ceil(reps / 10))
    directors = managers // 3
    users = [
        _UserRow("Ada", "Admin", "Salesforce Administrator", None, 1, None, None, None),
        # The Salesforce Integration license's users are of type CloudIntegrationUser.
        _UserRow(
            "Quotaflow",
            "Integration",
            "Integration User",
            None,
            2,
            None,
            None,
            None,
            user_type="CloudIntegrationUser",
        ),
        _UserRow("Otto", "Ops", "Sales Operations Analyst", None, 3, None, None, None),
        _UserRow(*_name(rng), "VP of Sales", "vp", 4, None, "NA", _veteran(rng)),
    ]
    vp = new_id("User", 4)
    first_director = len(users) + 1
    for d in range(directors):
        region = TEAM_REGIONS[d % len(TEAM_REGIONS)]
        users.append(_UserRow(*_name(rng), "Regional Sales Director", "manager", 4, vp, region,
                              _veteran(rng)))  # fmt: skip
    first_manager = len(users) + 1
    # Two thirds of the teams have a second-line manager; the rest report to the VP.
    under_directors = managers - managers // 3 if directors else 0
    for m in range(managers):
        boss = new_id("User", first_director + m % directors) if m < under_directors else vp
        region = TEAM_REGIONS[m % len(TEAM_REGIONS)]
        users.append(
            _UserRow(*_name(rng), "Sales Manager", "manager", 4, boss, region, _veteran(rng))
        )
    users.extend(_rep(rng, r % managers, first_manager, today) for r in range(reps))
    _roll_up_quotas(users)
    users.extend(_system_users())
    return users


def _system_users() -> list[_UserRow]:
    """Users every real org's User query returns besides its people (never reps): the
    Automated Process user flows run as, a site's guest user, a Chatter Free colleague and a
    partner community user. They come last so the people's ids do not depend on them."""
    rows = [
        ("", "Automated Process", "", 1, "autoproc", "AutomatedProcess"),
        ("Quotaflow Site", "Guest User", "", 7, "guest", "Guest"),
        ("Mira", "Okonkwo", "Finance Analyst", 6, "mira.okonkwo", "CsnOnly"),
        ("Pat", "Reseller", "Channel Partner", 8, "pat.reseller", "PowerPartner"),
    ]
    return [
        _UserRow(first, last, title, None, profile, None, None, None,
                 username=f"{handle}@quotaflow.devorg", user_type=kind)
        for first, last, title, profile, handle, kind in rows
    ]  # fmt: skip


def _rep(rng: random.Random, team: int, first_manager: int, today: dt.date) -> _UserRow:
    """One account executive; some hired this year (ramps, proration), a few left this year."""
    year, rand = today.year, rng.random
    hire, end = _veteran(rng), None
    roll = rand()
    if roll < 0.12:
        hire = min(today, dt.date(year, 1, 15) + dt.timedelta(days=int(rand() * 230)))
    elif roll < 0.15:
        end = min(today, dt.date(year, 3, 1) + dt.timedelta(days=int(rand() * 240)))
    title = "Senior Account Executive" if hire.year < year - 3 else "Account Executive"
    row = _UserRow(*_name(rng), title, "ae", 5, new_id("User", first_manager + team),
                   TEAM_REGIONS[team % len(TEAM_REGIONS)], hire, end)  # fmt: skip
    # Quota__c and Target_Incentive__c are per pay period (Quotaflow reads them as the rep's
    # override of the plan's per-period figures); the demo plans pay quarterly.
    row.quota = float(rng.choice((150, 175, 200, 225, 250, 300)) * 1000)
    row.target = float(15_000 + 1_250 * int(rand() * 9))
    return row


def _roll_up_quotas(users: list[_UserRow]) -> None:
    """Managers carry the sum of their teams' quotas; each level up sums the level below."""
    index = {new_id("User", i): row for i, row in enumerate(users, 1)}
    for row in reversed(users):
        boss = index.get(row.manager or "")
        if boss is not None and row.quota:
            boss.quota = (boss.quota or 0.0) + row.quota
    for row in users:
        if row.plan in ("manager", "vp"):
            row.target = 90_000.0 if row.title == "Sales Manager" else 120_000.0
            row.target = 200_000.0 if row.plan == "vp" else row.target


def user_rows(
    rng: random.Random, reps: int, *, today: dt.date, now_ms: int, org: Org
) -> Iterator[tuple[object, ...]]:
    """User rows in schema order; fills `org` with the reps, teams and their date windows."""
    users = _plan_users(rng, reps, today)
    start = dt.date(today.year - 1, 1, 1)
    last = (dt.date(today.year, 12, 31) - start).days
    seen: set[str] = set()
    team_of: dict[str, int] = {}
    for n, (row, uid) in enumerate(zip(users, id_range("User", 1, len(users)), strict=True), 1):
        handle = f"{row.first}.{row.last}".lower()
        username = f"{handle}@quotaflow.devorg"
        if n <= 3:
            username = ("admin", "integration", "ops")[n - 1] + "@quotaflow.devorg"
        elif row.username:
            username = row.username
        elif username in seen:
            username = f"{handle}{n}@quotaflow.devorg"
        seen.add(username)
        if row.title == "Sales Manager":
            team_of[uid] = len(org.team_manager)
            org.team_manager.append(uid)
            org.team_reps.append([])
        if row.plan == "ae":
            assert row.hire is not None and row.manager is not None
            team = team_of[row.manager]
            org.team_reps[team].append(len(org.rep_ids))
            org.rep_ids.append(uid)
            org.rep_team.append(team)
            lo = max(0, (row.hire - start).days)
            hi = last if row.end is None else (row.end - start).days
            org.rep_window.append((min(lo, last), max(min(lo, last), hi)))
        zone = REGIONS[row.region][0][n % len(REGIONS[row.region][0])] if row.region else "GMT"
        stamp = now_ms - len(users) + n
        yield (
            uid, username, row.first or None, row.last, f"{row.first} {row.last}".strip(),
            username, row.title or None,
            "Sales" if row.plan else "Operations", int(row.end is None), row.manager,
            new_id("Profile", row.profile), "USD", zone, row.plan,
            row.hire.isoformat() if row.hire else None, row.end.isoformat() if row.end else None,
            row.quota, row.target, row.region, None, None, row.user_type,
            stamp, org.admin_id, stamp, org.admin_id, stamp,
        )  # fmt: skip


def account_rows(
    rng: random.Random, count: int, *, now_ms: int, org: Org
) -> Iterator[tuple[object, ...]]:
    """Account rows in schema order, each owned by a rep; fills `org` with them."""
    rand = rng.random
    combos = [f"{c} {s}" for c in COMPANY for s in SUFFIXES]
    rng.shuffle(combos)
    for n, aid in enumerate(id_range("Account", 1, count), 1):
        name = combos[(n - 1) % len(combos)]
        if n > len(combos):
            name += f" {n // len(combos) + 1}"
        owner = int(rand() * len(org.rep_ids))
        region = TEAM_REGIONS[org.rep_team[owner] % len(TEAM_REGIONS)]
        countries = REGIONS[region][1]
        org.account_ids.append(aid)
        org.account_names.append(name)
        org.account_owner.append(owner)
        stamp = now_ms - count + n
        yield (
            aid, 0, name, ACCOUNT_TYPES[int(rand() * len(ACCOUNT_TYPES))],
            INDUSTRIES[int(rand() * len(INDUSTRIES))], countries[int(rand() * len(countries))],
            org.rep_ids[owner], "USD", stamp, org.admin_id, stamp, org.admin_id, stamp,
        )  # fmt: skip
