"""The demo and scaled seeds: determinism, shape of the org and realistic deal data."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from devorg import schema, seed, values
from devorg.seed_ids import id_range
from devorg.soql import compile_query

NOW = values.parse_datetime_literal("2026-11-23T09:30:00Z")
AUDIT = {"CreatedDate", "LastModifiedDate", "SystemModstamp"}


def _org(*, seed_number: int = 7, now_ms: int = NOW) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    seed.seed_demo(conn, seed=seed_number, now_ms=now_ms)
    return conn


@pytest.fixture(scope="module")
def demo() -> Iterator[sqlite3.Connection]:
    conn = _org()
    yield conn
    conn.close()


def _rows(conn: sqlite3.Connection, name: str) -> list[tuple[object, ...]]:
    cols = [f'"{f.name}"' for f in schema.OBJECTS[name].fields if f.name not in AUDIT]
    return conn.execute(f'SELECT {", ".join(cols)} FROM "{name}" ORDER BY Id').fetchall()


def _one(conn: sqlite3.Connection, sql: str, *params: object) -> object:
    return conn.execute(sql, params).fetchone()[0]


def test_same_seed_gives_identical_rows_apart_from_audit_timestamps(
    demo: sqlite3.Connection,
) -> None:
    later = _org(now_ms=NOW + 3 * 3_600_000)  # the same day, three hours later
    for name in schema.OBJECTS:
        assert _rows(later, name) == _rows(demo, name), name
    stamps = "SELECT SystemModstamp FROM Opportunity ORDER BY Id LIMIT 1"
    assert _one(later, stamps) != _one(demo, stamps)


def test_different_seed_gives_different_rows(demo: sqlite3.Connection) -> None:
    other = _org(seed_number=8)
    for name in ("User", "Account", "Opportunity", "OpportunitySplit"):
        assert _rows(other, name) != _rows(demo, name), name
    # ... but the same shape of org.
    assert _one(other, "SELECT count(*) FROM Opportunity") == 3000


def test_counts(demo: sqlite3.Connection) -> None:
    by_plan = dict(demo.execute('SELECT Comp_Plan__c, count(*) FROM "User" GROUP BY 1').fetchall())
    # Admin, integration, ops, plus the Automated Process, guest, Chatter Free, partner users.
    assert by_plan == {None: 7, "vp": 1, "manager": 8, "ae": 60}
    assert _one(demo, "SELECT count(*) FROM User WHERE Title = 'Sales Manager'") == 6
    assert _one(demo, "SELECT count(*) FROM Account") == 300
    assert _one(demo, "SELECT count(*) FROM Opportunity") == 3000
    deleted = _one(demo, "SELECT count(*) FROM Opportunity WHERE IsDeleted = 1")
    assert 1 <= deleted <= 30  # type: ignore[operator]
    revenue = "SELECT count(DISTINCT OpportunityId) FROM OpportunitySplit s JOIN " \
        "OpportunitySplitType t ON t.Id = s.SplitTypeId WHERE t.DeveloperName = ?"  # fmt: skip
    assert 150 <= _one(demo, revenue, "Revenue") <= 330  # type: ignore[operator]  # ~8%
    assert 80 <= _one(demo, revenue, "Overlay") <= 220  # type: ignore[operator]  # ~5%
    teams = _one(demo, "SELECT count(DISTINCT OpportunityId) FROM OpportunityTeamMember")
    assert 200 <= teams <= 400  # type: ignore[operator]  # ~10%
    assert _one(demo, "SELECT count(*) FROM Product2") == 6


def test_setup_records(demo: sqlite3.Connection) -> None:
    profiles = {r[0] for r in demo.execute("SELECT Name FROM Profile")}
    assert {"System Administrator", "Sales Rep", "Sales Manager", "Sales Operations",
            "Integration User", "Chatter Free User", "Quotaflow Site Profile",
            "Partner Community User"} == profiles  # fmt: skip
    users = dict(demo.execute(
        "SELECT u.Username, p.Name FROM User u JOIN Profile p ON p.Id = u.ProfileId"
    ).fetchall())  # fmt: skip
    assert users["integration@quotaflow.devorg"] == "Integration User"
    assert users["admin@quotaflow.devorg"] == "System Administrator"
    assert users["ops@quotaflow.devorg"] == "Sales Operations"
    assert len(users) == 76  # usernames are unique
    currencies = demo.execute("SELECT IsoCode, ConversionRate, IsCorporate FROM CurrencyType")
    assert ("USD", 1.0, 1) in currencies.fetchall()
    split_types = demo.execute("SELECT DeveloperName, IsTotalValidated FROM OpportunitySplitType")
    assert sorted(split_types.fetchall()) == [("Overlay", 0), ("Revenue", 1)]


def test_hierarchy_has_no_cycles_and_ends_at_the_vp(demo: sqlite3.Connection) -> None:
    manager = dict(demo.execute("SELECT Id, ManagerId FROM User").fetchall())
    plans = dict(demo.execute("SELECT Id, Comp_Plan__c FROM User").fetchall())
    [vp] = [uid for uid, plan in plans.items() if plan == "vp"]
    second_line = 0
    for uid, plan in plans.items():
        if plan is None:
            continue
        chain, cur = [uid], manager[uid]
        while cur is not None:
            assert cur not in chain, f"cycle through {cur}"
            chain.append(cur)
            cur = manager[cur]
        assert chain[-1] == vp
        second_line += plan == "ae" and len(chain) == 4  # rep -> manager -> director -> VP
    assert second_line > 0  # some teams have a second-line manager
    reps_per_manager = demo.execute(
        "SELECT count(*) FROM User r WHERE Comp_Plan__c = 'ae' GROUP BY ManagerId"
    ).fetchall()  # fmt: skip
    assert [n for (n,) in reps_per_manager] == [10] * 6


def test_manager_quotas_roll_up(demo: sqlite3.Connection) -> None:
    rows = demo.execute(
        "SELECT m.Quota__c, sum(r.Quota__c) FROM User m JOIN User r ON r.ManagerId = m.Id "
        "WHERE m.Comp_Plan__c IN ('manager', 'vp') GROUP BY m.Id"
    ).fetchall()  # fmt: skip
    assert rows and all(quota == total for quota, total in rows)


def test_revenue_splits_sum_to_exactly_100(demo: sqlite3.Connection) -> None:
    rows = demo.execute(
        "SELECT s.OpportunityId, sum(s.SplitPercentage), count(*), count(DISTINCT SplitOwnerId), "
        "min(o.OwnerId = s.SplitOwnerId OR 0) + max(o.OwnerId = s.SplitOwnerId) "
        "FROM OpportunitySplit s JOIN OpportunitySplitType t ON t.Id = s.SplitTypeId "
        "JOIN Opportunity o ON o.Id = s.OpportunityId "
        "WHERE t.DeveloperName = 'Revenue' GROUP BY s.OpportunityId"
    ).fetchall()  # fmt: skip
    assert rows
    for deal, total, count, owners, has_owner in rows:
        assert total == 100.0, deal
        assert 2 <= count <= 3 and owners == count, deal
        assert has_owner >= 1, deal  # the deal owner is one of the split owners
    three_way = sum(1 for row in rows if row[2] == 3)
    assert 0 < three_way < len(rows)


def test_split_amounts_follow_the_deal_amount(demo: sqlite3.Connection) -> None:
    bad = demo.execute(
        "SELECT count(*) FROM OpportunitySplit s JOIN Opportunity o ON o.Id = s.OpportunityId "
        "WHERE abs(s.SplitAmount - round(o.Amount * s.SplitPercentage / 100, 2)) > 0.005"
    ).fetchone()[0]  # fmt: skip
    assert bad == 0


def test_deals_are_realistic(demo: sqlite3.Connection) -> None:
    assert _one(demo, "SELECT min(CloseDate) FROM Opportunity") >= "2025-01-01"  # type: ignore[operator]
    assert _one(demo, "SELECT max(CloseDate) FROM Opportunity") <= "2026-12-31"  # type: ignore[operator]
    assert (
        _one(demo, "SELECT count(*) FROM Opportunity WHERE Amount < 5000 OR Amount > 400000") == 0
    )
    stages = dict(demo.execute("SELECT StageName, count(*) FROM Opportunity GROUP BY 1").fetchall())
    assert set(stages) == set(schema.STAGES)
    assert 0.40 < stages["Closed Won"] / 3000 < 0.65
    # Past close dates are mostly closed; future ones are all open.
    assert _one(demo, "SELECT count(*) FROM Opportunity WHERE CloseDate > '2026-11-23' "
                      "AND IsClosed = 1") == 0  # fmt: skip
    past_open = _one(
        demo, "SELECT avg(IsClosed = 0) FROM Opportunity WHERE CloseDate <= '2026-11-23'"
    )
    assert past_open < 0.1  # type: ignore[operator]
    for column, allowed in [
        ("Type", {"New Business", "Renewal", "Upsell"}),
        ("Product_Family__c", {"Platform", "Analytics", "Services"}),
        ("Term_Months__c", {12.0, 24.0, 36.0}),
    ]:
        found = {r[0] for r in demo.execute(f"SELECT DISTINCT {column} FROM Opportunity")}
        assert found == allowed, column
    median = demo.execute(
        "SELECT Amount FROM Opportunity WHERE Amount IS NOT NULL ORDER BY Amount "
        "LIMIT 1 OFFSET 1450"
    ).fetchone()[0]  # fmt: skip
    assert 20_000 < median < 60_000


def test_derived_and_write_back_fields(demo: sqlite3.Connection) -> None:
    for stage, (probability, closed, won) in schema.STAGES.items():
        rows = demo.execute(
            "SELECT DISTINCT Probability, IsClosed, IsWon FROM Opportunity WHERE StageName = ?",
            (stage,),
        ).fetchall()
        assert rows == [(float(probability), int(closed), int(won))], stage
    write_back = [("User", ("Quota_Attainment__c", "Earnings_To_Date__c")),
                  ("Opportunity", ("Estimated_Commission__c", "SPIFF_Status__c"))]  # fmt: skip
    for obj, fields in write_back:
        for name in fields:
            assert _one(demo, f'SELECT count(*) FROM "{obj}" WHERE {name} IS NOT NULL') == 0
    names = demo.execute(
        "SELECT Name, ltrim(coalesce(FirstName, '') || ' ' || LastName) FROM User"
    ).fetchall()
    assert all(a == b for a, b in names)


def test_cancellations_and_tenure(demo: sqlite3.Connection) -> None:
    cancels = demo.execute(
        "SELECT IsWon, CloseDate < Cancel_Date__c, Cancel_Date__c <= '2026-11-23' "
        "FROM Opportunity WHERE Cancel_Date__c IS NOT NULL"
    ).fetchall()  # fmt: skip
    assert 5 <= len(cancels) <= 100
    assert set(cancels) == {(1, 1, 1)}
    outside = demo.execute(
        "SELECT count(*) FROM Opportunity o JOIN User u ON u.Id = o.OwnerId "
        "WHERE u.Comp_Plan__c IS NOT 'ae' OR o.CloseDate < substr(u.Hire_Date__c, 1, 10) "
        "   OR (u.End_Date__c IS NOT NULL AND o.CloseDate > u.End_Date__c)"
    ).fetchone()[0]  # fmt: skip
    assert outside == 0
    ramping = _one(demo, "SELECT count(*) FROM User WHERE Hire_Date__c >= '2026-01-01'")
    assert 2 <= ramping <= 15  # type: ignore[operator]
    leavers = demo.execute("SELECT DISTINCT IsActive FROM User WHERE End_Date__c IS NOT NULL")
    assert leavers.fetchall() in ([(0,)], [])
    assert _one(demo, "SELECT count(*) FROM User WHERE IsActive = 0 AND End_Date__c IS NULL") == 0


def test_deleted_deals_have_no_children(demo: sqlite3.Connection) -> None:
    for child in ("OpportunitySplit", "OpportunityTeamMember", "OpportunityLineItem"):
        orphans = demo.execute(
            f'SELECT count(*) FROM "{child}" c LEFT JOIN Opportunity o ON o.Id = c.OpportunityId '
            "WHERE o.Id IS NULL OR o.IsDeleted = 1"
        ).fetchone()[0]  # fmt: skip
        assert orphans == 0, child


def test_team_members_have_roles(demo: sqlite3.Connection) -> None:
    roles = dict(demo.execute(
        "SELECT TeamMemberRole, count(*) FROM OpportunityTeamMember GROUP BY 1"
    ).fetchall())  # fmt: skip
    assert set(roles) == set(schema.TEAM_ROLES)
    assert max(roles, key=roles.__getitem__) == "Sales Engineer"
    sponsor_is_manager = demo.execute(
        "SELECT min(u.ManagerId = t.UserId) FROM OpportunityTeamMember t "
        "JOIN Opportunity o ON o.Id = t.OpportunityId JOIN User u ON u.Id = o.OwnerId "
        "WHERE t.TeamMemberRole = 'Executive Sponsor'"
    ).fetchone()[0]  # fmt: skip
    assert sponsor_is_manager == 1


def test_ids_are_dense_for_the_record_counter(demo: sqlite3.Connection) -> None:
    # The REST layer numbers new records from count(*) + 1, so seeded ids are 1..count.
    for name in schema.OBJECTS:
        count = _one(demo, f'SELECT count(*) FROM "{name}"')
        if count:
            assert _one(demo, f'SELECT max(Id) FROM "{name}"') == schema.new_id(name, count)  # type: ignore[arg-type]


def test_soql_over_the_demo_org(demo: sqlite3.Connection) -> None:
    compiled = compile_query(
        "SELECT Id, Name, Amount, Owner.Name, Owner.Manager.Name, Account.Name FROM Opportunity "
        "WHERE StageName = 'Closed Won' AND CloseDate >= 2026-01-01 ORDER BY SystemModstamp, Id "
        "LIMIT 5",
        include_deleted=False,
    )
    rows = demo.execute(compiled.sql, compiled.params).fetchall()
    records = [compiled.shape(row, base_url_prefix="/services/data/v62.0") for row in rows]
    assert len(records) == 5
    assert all(r["Owner"]["Manager"]["Name"] and r["Account"]["Name"] for r in records)
    count = compile_query("SELECT COUNT() FROM Opportunity", include_deleted=False)
    live = _one(demo, "SELECT count(*) FROM Opportunity WHERE IsDeleted = 0")
    assert demo.execute(count.sql, count.params).fetchone()[0] == live


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_scaled_seed_counts() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    before = _indexes(conn)
    summary = seed.seed_scaled(conn, reps=200, deals=20_000, now_ms=NOW)
    assert summary.counts["Opportunity"] == 20_000
    # system, VP, directors, managers, reps, the non-Standard users
    assert summary.counts["User"] == 3 + 1 + 6 + 20 + 200 + 4
    assert summary.counts["Account"] == 2_000
    for name, count in summary.counts.items():
        assert _one(conn, f'SELECT count(*) FROM "{name}"') == count
    assert 0.06 < summary.counts["OpportunityTeamMember"] / 20_000 < 0.2
    # The bulk load drops and rebuilds the secondary indexes: they must all be back.
    assert _indexes(conn) == before
    assert "ix_Opportunity_modstamp" in before
    assert not conn.in_transaction


def test_seed_rolls_back_on_failure() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    with pytest.raises(ValueError):
        seed.seed_scaled(conn, reps=0, deals=10, now_ms=NOW)
    seed.seed_demo(conn, now_ms=NOW)
    with pytest.raises(sqlite3.IntegrityError):  # seeding twice collides on ids
        seed.seed_demo(conn, now_ms=NOW)
    assert _one(conn, "SELECT count(*) FROM Opportunity") == 3000
    assert not conn.in_transaction


@pytest.mark.slow
def test_full_scale_seed() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    summary = seed.seed_scaled(conn, reps=10_000, deals=1_000_000, now_ms=NOW)
    assert summary.counts["Opportunity"] == 1_000_000
    assert summary.counts["User"] >= 10_000
    assert _one(conn, "SELECT count(*) FROM Opportunity") == 1_000_000


def test_failure_mid_load_rolls_back_everything() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create_tables(conn)
    clash = schema.new_id("Opportunity", 2_500)
    conn.execute("INSERT INTO Opportunity (Id, IsDeleted) VALUES (?, 0)", (clash,))
    with pytest.raises(sqlite3.IntegrityError):
        seed.seed_demo(conn, now_ms=NOW)
    assert not conn.in_transaction
    for name in schema.OBJECTS:
        expected = 1 if name == "Opportunity" else 0
        assert _one(conn, f'SELECT count(*) FROM "{name}"') == expected, name
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_Opportunity_modstamp" in indexes


def test_file_database_keeps_its_journal_settings(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "devorg.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    schema.create_tables(conn)
    seed.seed_scaled(conn, reps=20, deals=500, now_ms=NOW)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    conn.close()
    reopened = sqlite3.connect(tmp_path / "devorg.db")
    assert _one(reopened, "SELECT count(*) FROM Opportunity") == 500
    assert reopened.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_every_row_has_its_audit_fields(demo: sqlite3.Connection) -> None:
    for name, obj in schema.OBJECTS.items():
        checks = [f'"{f.name}" IS NULL' for f in obj.fields if not f.nillable]
        bad = _one(demo, f'SELECT count(*) FROM "{name}" WHERE {" OR ".join(checks)}')
        assert bad == 0, name
        stamps = f'SELECT count(*) FROM "{name}" WHERE CreatedDate != SystemModstamp ' \
            "OR LastModifiedDate != SystemModstamp OR SystemModstamp > ?"  # fmt: skip
        assert _one(demo, stamps, NOW) == 0, name
    odd = "SELECT count(*) FROM Opportunity WHERE CurrencyIsoCode IS NOT 'USD' " \
        "OR CreatedById IS NOT OwnerId OR LastModifiedById IS NOT OwnerId"  # fmt: skip
    assert _one(demo, odd) == 0
    for child in ("OpportunitySplit", "OpportunityTeamMember", "OpportunityLineItem"):
        assert _one(demo, f'SELECT count(*) FROM "{child}" WHERE IsDeleted != 0') == 0


@pytest.mark.parametrize(
    ("name", "start", "count"),
    [("Opportunity", 1, 10), ("User", 3_840, 10), ("OpportunitySplit", 62**5 - 2, 4),
     ("Account", 7, 0), ("OpportunityLineItem", 14_776_000, 400)],
)  # fmt: skip
def test_fast_id_runs_match_new_id(name: str, start: int, count: int) -> None:
    expected = [schema.new_id(name, n) for n in range(start, start + count)]
    assert list(id_range(name, start, count)) == expected


def test_fast_id_runs_over_many_blocks() -> None:
    ids = list(id_range("Opportunity", 1, 20_000))
    assert ids[::997] == [schema.new_id("Opportunity", n) for n in range(1, 20_001, 997)]
    assert ids == sorted(ids) and len(set(ids)) == 20_000


def test_user_types_mix_people_and_system_users(demo: sqlite3.Connection) -> None:
    rows = demo.execute("SELECT Username, UserType, Comp_Plan__c FROM User").fetchall()
    kinds = {name: kind for name, kind, _ in rows}
    assert kinds["autoproc@quotaflow.devorg"] == "AutomatedProcess"
    assert kinds["integration@quotaflow.devorg"] == "CloudIntegrationUser"
    assert kinds["guest@quotaflow.devorg"] == "Guest"
    assert kinds["mira.okonkwo@quotaflow.devorg"] == "CsnOnly"
    assert kinds["pat.reseller@quotaflow.devorg"] == "PowerPartner"
    # Every person with a compensation plan is a Standard user; no system user owns a deal.
    assert {kind for _, kind, plan in rows if plan} == {"Standard"}
    owners = "SELECT count(*) FROM Opportunity o JOIN User u ON u.Id = o.OwnerId " \
        "WHERE u.UserType != 'Standard'"  # fmt: skip
    assert _one(demo, owners) == 0


def test_opportunity_record_types_forecast_and_line_item_flags(demo: sqlite3.Connection) -> None:
    types = dict(demo.execute("SELECT DeveloperName, Id FROM RecordType").fetchall())
    assert set(types) == {"New_Business", "Renewal"}
    mismatched = "SELECT count(*) FROM Opportunity WHERE RecordTypeId != " \
        "CASE WHEN Type = 'Renewal' THEN ? ELSE ? END"  # fmt: skip
    assert _one(demo, mismatched, types["Renewal"], types["New_Business"]) == 0
    for stage, category in (("Closed Won", "Closed"), ("Closed Lost", "Omitted"),
                            ("Prospecting", "Pipeline")):  # fmt: skip
        found = demo.execute(
            "SELECT DISTINCT ForecastCategoryName FROM Opportunity WHERE StageName = ?", (stage,)
        ).fetchall()
        assert found == [(category,)], stage
    book = _one(demo, "SELECT Id FROM Pricebook2 WHERE IsStandard = 1")
    assert _one(demo, "SELECT count(*) FROM Opportunity WHERE Pricebook2Id IS NOT ?", book) == 0
    flagged = "SELECT count(*) FROM Opportunity o WHERE HasOpportunityLineItem != EXISTS " \
        "(SELECT 1 FROM OpportunityLineItem li WHERE li.OpportunityId = o.Id)"  # fmt: skip
    assert _one(demo, flagged) == 0
    assert _one(demo, "SELECT count(*) FROM Opportunity WHERE HasOpportunityLineItem = 1") > 0
