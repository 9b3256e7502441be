"""SOQL subset: parse, compile to SQLite and check results against a small hand-made org."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devorg import schema, values
from devorg.soql import SoqlError, compile_query
from devorg.soql_where import relative_date_range

NOW = values.parse_datetime_literal("2026-11-23T12:00:00Z")
PREFIX = "/services/data/v62.0"


def _id(obj: str, n: int) -> str:
    return schema.new_id(obj, n)


VP, MGR, ALICE, BOB = (_id("User", n) for n in (1, 2, 3, 4))
ACME, GLOBEX = _id("Account", 1), _id("Account", 2)
O1, O2, O3, O4, O5 = (_id("Opportunity", n) for n in range(1, 6))

USERS = [
    dict(Id=VP, FirstName="Vera", LastName="Vp", ManagerId=None),
    dict(Id=MGR, FirstName="Max", LastName="Manager", ManagerId=VP),
    dict(Id=ALICE, FirstName="Alice", LastName="Rep", ManagerId=MGR),
    dict(Id=BOB, FirstName="bob", LastName="rep", ManagerId=MGR),
]
ACCOUNTS = [dict(Id=ACME, Name="Acme Corp"), dict(Id=GLOBEX, Name="Globex")]
# (Id, Name, AccountId, OwnerId, Amount, CloseDate, StageName, SystemModstamp, IsDeleted)
T = "T00:00:00Z"
OPPS = [
    (O1, "Acme - Platform", ACME, ALICE, 1e3, "2026-01-15", "Closed Won", "2025-12-31T23:30Z", 0),
    (O2, "Acme 100% deal", ACME, BOB, 5e4, "2026-03-31", "Prospecting", "2026-01-01" + T, 0),
    (O3, "Globex_Upsell", GLOBEX, ALICE, None, "2025-06-30", "Closed Lost", "2026-01-01T00:30Z", 0),
    (O4, "Orphan deal", None, BOB, 2.5e5, "2026-12-01", "Negotiation/Review", "2026-02-01" + T, 0),
    (O5, "Deleted deal", GLOBEX, ALICE, 10, "2026-05-05", "Closed Won", "2026-03-01" + T, 1),
]  # fmt: skip
NAMES = {row[0]: row[1] for row in OPPS}


def _insert(conn: sqlite3.Connection, obj_name: str, record: dict[str, Any]) -> None:
    """Insert a JSON-style record through values.to_storage (as the REST layer would)."""
    obj = schema.OBJECTS[obj_name]
    stored: dict[str, Any] = {"CreatedDate": NOW, "LastModifiedDate": NOW, "SystemModstamp": NOW}
    for name, value in record.items():
        spec = obj.field(name)
        assert spec is not None, name
        stored[spec.name] = (
            value if spec.type in ("id", "datetime") else values.to_storage(spec, value)
        )
    stored.update(values.derived_values(obj_name, stored))
    cols = ", ".join(f'"{c}"' for c in stored)
    conn.execute(
        f'INSERT INTO "{obj_name}" ({cols}) VALUES ({", ".join("?" * len(stored))})',
        tuple(stored.values()),
    )


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    schema.create_tables(conn)
    for user in USERS:
        _insert(conn, "User", user | {"Username": f"{user['Id']}@x.test", "Email": "a@x.test"})
    for account in ACCOUNTS:
        _insert(conn, "Account", account | {"OwnerId": VP, "IsDeleted": False})
    for oid, name, acc, owner, amount, close, stage, modstamp, deleted in OPPS:
        record = dict(Id=oid, Name=name, AccountId=acc, OwnerId=owner, Amount=amount)
        record |= dict(CloseDate=close, StageName=stage, IsDeleted=bool(deleted))
        record["SystemModstamp"] = values.parse_datetime_literal(modstamp)
        _insert(conn, "Opportunity", record)
    yield conn
    conn.close()


def run(
    conn: sqlite3.Connection, soql: str, *, include_deleted: bool = False
) -> list[dict[str, Any]]:
    compiled = compile_query(soql, include_deleted=include_deleted, now_ms=NOW)
    rows = conn.execute(compiled.sql, compiled.params).fetchall()
    return [compiled.shape(row, base_url_prefix=PREFIX) for row in rows]


def names(conn: sqlite3.Connection, where: str, *, order: str = "Name", **kw: Any) -> list[str]:
    records = run(conn, f"SELECT Name FROM Opportunity WHERE {where} ORDER BY {order}", **kw)
    return [r["Name"] for r in records]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Amount > 5000", [O2, O4]),
        ("Amount != 1000", [O2, O3, O4]),  # != keeps null amounts, like Salesforce
        ("NOT Amount > 5000", [O1, O3]),  # NOT of a comparison on null is true
        ("NOT (Amount > 5000 OR StageName = 'Closed Won')", [O3]),
        ("Amount = null", [O3]),
        ("Amount != null AND Amount <= 1000", [O1]),
        ("StageName IN ('Closed Won', 'Closed Lost')", [O1, O3]),
        ("StageName NOT IN ('Closed Won', 'Closed Lost')", [O2, O4]),
        ("AccountId IN (null)", [O4]),
        ("AccountId NOT IN (null)", [O1, O2, O3]),
        ("Account.Name IN ('Globex', null)", [O3, O4]),
        ("Name LIKE 'acme%'", [O1, O2]),  # LIKE ignores case
        ("Name LIKE '%\\_%'", [O3]),  # an escaped underscore is literal
        ("Name LIKE '%_%'", [O1, O2, O3, O4]),
        ("Name LIKE '%100\\%%'", [O2]),
        ("stagename = 'closed won'", [O1]),  # = on text ignores case
        ("Name = 'Acme 100% deal'", [O2]),
        ("Owner.Name = 'Alice Rep'", [O1, O3]),
        ("Owner.Manager.Manager.Name = 'Vera Vp'", [O1, O2, O3, O4]),
        ("Account.Name = null", [O4]),
        ("Account.Name != 'Acme Corp'", [O3, O4]),
        ("(StageName = 'Closed Won' OR (StageName = 'Prospecting' AND Amount >= 50000))", [O1, O2]),
        ("((Amount > 0) AND ((NOT (Owner.Name LIKE 'bob%'))))", [O1]),
        ("CloseDate < 2026-01-01", [O3]),
        ("CloseDate >= 2026-03-31 AND CloseDate <= 2026-12-01", [O2, O4]),
        ("SystemModstamp >= 2026-01-01T00:00:00Z", [O2, O3, O4]),
        ("SystemModstamp >= 2026-01-01T00:00:00.000+0000", [O2, O3, O4]),
        # tap-salesforce sends six fractional digits on every incremental run.
        ("SystemModstamp >= 2026-01-01T00:30:00.000000Z", [O3, O4]),
        ("SystemModstamp > 2026-01-01T00:29:59.999999Z", [O3, O4]),
        ("SystemModstamp >= 2026-01-01T01:00:00+01:00", [O2, O3, O4]),
        ("SystemModstamp > 2026-01-01T00:00:00-01:00", [O4]),
        ("SystemModstamp < 2026-01-01T00:00:00.000+0000", [O1]),
        ("CloseDate = THIS_YEAR", [O1, O2, O4]),
        ("CloseDate = LAST_YEAR", [O3]),
        ("CloseDate = THIS_FISCAL_YEAR", [O1, O2, O4]),
        ("CloseDate = THIS_QUARTER", [O4]),
        ("CloseDate = LAST_N_QUARTERS:4", [O1, O2]),
        ("CloseDate < N_DAYS_AGO:300", [O1, O3]),
        ("CloseDate = LAST_90_DAYS", []),
        ("CloseDate = NEXT_N_DAYS:10", [O4]),
        ("CloseDate < LAST_N_DAYS:300", [O1, O3]),
        ("SystemModstamp = THIS_YEAR", [O2, O3, O4]),
        ("IsWon = true", [O1]),
        # Semi- and anti-joins (sub-selects of one id or reference field, live rows only).
        ("AccountId IN (SELECT Id FROM Account WHERE Name LIKE 'glob%')", [O3]),
        ("OwnerId IN (SELECT Id FROM User WHERE Manager.Name = 'Max Manager')", [O1, O2, O3, O4]),
        ("AccountId NOT IN (SELECT Id FROM Account WHERE Name = 'Globex')", [O1, O2, O4]),
        ("Id IN (SELECT Id FROM Opportunity WHERE Amount > 5000) AND Amount < 100000", [O2]),
        ("IsClosed = false AND IsWon != true", [O2, O4]),
        ("Id = '" + O2[:15] + "'", [O2]),  # 15-character ids match their 18-character form
        ("OwnerId IN ('" + ALICE + "')", [O1, O3]),
    ],
)
def test_where(db: sqlite3.Connection, where: str, expected: list[str]) -> None:
    assert names(db, where) == sorted(NAMES[i] for i in expected)


def test_datetime_literal_forms_select_the_same_rows(db: sqlite3.Connection) -> None:
    forms = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000+0000", "2026-01-01T02:00:00+02:00"]
    results = {tuple(names(db, f"SystemModstamp >= {form}")) for form in forms}
    assert len(results) == 1
    assert names(db, "SystemModstamp >= 2026-01-01T00:00:00+01:00") == sorted(
        NAMES[i] for i in (O1, O2, O3, O4)
    )


def test_parent_fields_shape_and_null_parent(db: sqlite3.Connection) -> None:
    records = run(
        db,
        "SELECT Name, Account.Name, Owner.Name, Owner.Manager.Name, Id FROM Opportunity "
        "WHERE Name IN ('Orphan deal', 'Globex_Upsell') ORDER BY Name",
    )
    assert list(records[0]) == ["attributes", "Name", "Account", "Owner", "Id"]
    assert records[0]["attributes"] == {
        "type": "Opportunity",
        "url": f"{PREFIX}/sobjects/Opportunity/{O3}",
    }
    assert records[0]["Account"] == {
        "attributes": {"type": "Account", "url": f"{PREFIX}/sobjects/Account/{GLOBEX}"},
        "Name": "Globex",
    }
    assert records[0]["Owner"]["Name"] == "Alice Rep"
    assert records[0]["Owner"]["Manager"]["Name"] == "Max Manager"
    assert list(records[0]["Owner"]) == ["attributes", "Name", "Manager"]
    assert records[1]["Account"] is None
    assert records[1]["Id"] == O4


def test_null_grandparent_is_null(db: sqlite3.Connection) -> None:
    records = run(db, "SELECT Name, Manager.Name, Manager.Manager.Name FROM User ORDER BY Name")
    by_name = {r["Name"]: r for r in records}
    assert by_name["Vera Vp"]["Manager"] is None
    assert by_name["Max Manager"]["Manager"] == {
        "attributes": {"type": "User", "url": f"{PREFIX}/sobjects/User/{VP}"},
        "Name": "Vera Vp",
        "Manager": None,
    }


def test_case_insensitive_keywords_and_names_with_exact_output_keys(db: sqlite3.Connection) -> None:
    records = run(
        db, "select NAME, owner.NAME, amount, isWON, closedate from OPPORTUNITY "
        "where STAGENAME = 'closed won' order by NAME limit 5",
    )  # fmt: skip
    assert records == [
        {
            "attributes": {"type": "Opportunity", "url": f"{PREFIX}/sobjects/Opportunity/{O1}"},
            "Name": "Acme - Platform",
            "Owner": {
                "attributes": {"type": "User", "url": f"{PREFIX}/sobjects/User/{ALICE}"},
                "Name": "Alice Rep",
            },
            "Amount": 1000.0,
            "IsWon": True,
            "CloseDate": "2026-01-15",
        }
    ]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Amount", [O3, O1, O2, O4]),  # ASC puts nulls first
        ("Amount DESC", [O4, O2, O1, O3]),  # DESC puts nulls last
        ("Amount NULLS LAST", [O1, O2, O4, O3]),
        ("Amount DESC NULLS FIRST", [O3, O4, O2, O1]),
        ("Account.Name DESC NULLS LAST, Amount DESC", [O3, O2, O1, O4]),
        ("Account.Name ASC, Amount ASC NULLS LAST", [O4, O1, O2, O3]),
        ("Owner.Name, CloseDate DESC", [O1, O3, O4, O2]),  # names sort ignoring case
        ("SystemModstamp, Id", [O1, O2, O3, O4]),
    ],
)
def test_order_by(db: sqlite3.Connection, order: str, expected: list[str]) -> None:
    records = run(db, f"SELECT Id FROM Opportunity ORDER BY {order}")
    assert [r["Id"] for r in records] == expected


def test_limit_and_offset(db: sqlite3.Connection) -> None:
    ids = [r["Id"] for r in run(db, "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2")]
    assert ids == [O1, O2]
    ids = [r["Id"] for r in run(db, "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2 OFFSET 3")]
    assert ids == [O4]
    assert run(db, "SELECT Id FROM Opportunity LIMIT 0") == []


@pytest.mark.parametrize(
    ("soql", "include_deleted", "count"),
    [
        ("SELECT COUNT() FROM Opportunity", False, 4),
        ("SELECT COUNT() FROM Opportunity", True, 5),
        ("SELECT count() FROM Opportunity WHERE IsDeleted = true", True, 1),
        ("SELECT COUNT() FROM Opportunity WHERE IsDeleted = true", False, 0),
        ("SELECT COUNT() FROM Opportunity WHERE Amount > 100 LIMIT 2", False, 2),
        ("SELECT COUNT() FROM User", False, 4),
        ("SELECT COUNT() FROM User", True, 4),  # Users have no IsDeleted
    ],
)
def test_count(db: sqlite3.Connection, soql: str, include_deleted: bool, count: int) -> None:
    compiled = compile_query(soql, include_deleted=include_deleted)
    assert compiled.count_only
    assert db.execute(compiled.sql, compiled.params).fetchone()[0] == count


def test_deleted_rows_only_through_query_all(db: sqlite3.Connection) -> None:
    soql = "SELECT Id, IsDeleted FROM Opportunity WHERE Name = 'Deleted deal'"
    assert run(db, soql) == []
    [record] = run(db, soql, include_deleted=True)
    assert record["Id"] == O5 and record["IsDeleted"] is True


W = "SELECT Id FROM Opportunity WHERE "


@pytest.mark.parametrize(
    ("soql", "code", "needle"),
    [
        ("SELECT Foo FROM Opportunity", "INVALID_FIELD", "column 'Foo' on entity 'Opportunity'"),
        ("SELECT Owner.Foo FROM Opportunity", "INVALID_FIELD", "column 'Foo' on entity 'User'"),
        ("SELECT Bogus.Name FROM Opportunity", "INVALID_FIELD", "relationship 'Bogus'"),
        (W + "Nope = 1", "INVALID_FIELD", "'Nope'"),
        ("SELECT Id FROM Opportunity ORDER BY Nope", "INVALID_FIELD", "'Nope'"),
        ("SELECT IsDeleted FROM User", "INVALID_FIELD", "column 'IsDeleted' on entity 'User'"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported"),
        (W + "Name = 5", "INVALID_FIELD", "must be of type string"),
        (W + "Amount = '5'", "INVALID_FIELD", "must be of type number"),
        (W + "CloseDate > 2026-01-01T00:00:00Z", "INVALID_FIELD", "type date"),
        (W + "SystemModstamp > 2026-01-01", "INVALID_FIELD", "type dateTime"),
        (W + "CloseDate = '2026-01-01'", "INVALID_FIELD", "type date"),
        (W + "Description = 'x'", "INVALID_FIELD", "can not be filtered"),
        (W + "Amount LIKE '5%'", "INVALID_QUERY_FILTER_OPERATOR", "LIKE"),
        (W + "IsWon > true", "INVALID_QUERY_FILTER_OPERATOR", ">"),
        (W + "OwnerId = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID"),
        (W + "A = 1 AND B = 2 OR C = 3", "MALFORMED_QUERY", "'OR'"),
        ("SELECT FROM Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id, FROM Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "<EOF>"),
        (W + "(Amount > 1", "MALFORMED_QUERY", "<EOF>"),
        (W + "Amount > 1)", "MALFORMED_QUERY", "')'"),
        (W + "Name = 'open", "MALFORMED_QUERY", "unexpected token"),
        (W + "Name = 'a\\qb'", "MALFORMED_QUERY", "Illegal escape"),
        ("SELECT Id FROM Opportunity LIMIT -1", "MALFORMED_QUERY", "unexpected token"),
        (W + "CloseDate = 2026-02-30", "MALFORMED_QUERY", "invalid date"),
        (W + "CloseDate = LAST_N_FORTNIGHTS:2", "MALFORMED_QUERY", "LAST_N_FORTNIGHTS"),
        ("SELECT Id, id FROM Opportunity", "MALFORMED_QUERY", "duplicate field selected"),
        ("SELECT Id FROM Opportunity GROUP BY Name", "MALFORMED_QUERY", "must be grouped"),
        ("DELETE FROM Opportunity", "MALFORMED_QUERY", "'DELETE'"),
        ("", "MALFORMED_QUERY", "<EOF>"),
    ],
)  # fmt: skip
def test_errors(soql: str, code: str, needle: str) -> None:
    with pytest.raises(SoqlError) as caught:
        compile_query(soql, include_deleted=False)
    assert caught.value.error_code == code
    assert needle in caught.value.message


def test_error_message_points_at_the_column() -> None:
    with pytest.raises(SoqlError) as caught:
        compile_query("SELECT Id, Foo FROM Account", include_deleted=False)
    assert caught.value.message.startswith(
        "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\n"
    )


def test_modstamp_order_uses_the_index(db: sqlite3.Connection) -> None:
    compiled = compile_query(
        "SELECT Id, Name FROM Opportunity WHERE SystemModstamp >= 2026-01-01T00:00:00Z "
        "ORDER BY SystemModstamp, Id",
        include_deleted=False,
    )
    plan = " ".join(
        row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + compiled.sql, compiled.params)
    )
    assert "ix_Opportunity_modstamp" in plan
    assert "TEMP B-TREE" not in plan


# SOQL vocabulary, so generated text reaches deep into the parser and compiler.
_WORDS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT()", "null", "true", "false", "TODAY",
    "LAST_N_DAYS:3", "Id", "Name", "Amount", "CloseDate", "SystemModstamp", "Owner.Name",
    "Owner.Manager.Name", "Account.Name", "IsDeleted", "IsWon", "Opportunity", "User", "Account",
    "=", "!=", "<>", "<", "<=", ">", ">=", "(", ")", ",", "'x%'", "'a\\'b'", "5", "-1.5",
    "2026-01-01", "2026-01-01T00:00:00Z", "2026-13-01T00:00:00+01:00", "9999999999999999999999",
]  # fmt: skip


def _assert_only_soql_error(db: sqlite3.Connection, text: str) -> None:
    for include_deleted in (False, True):
        try:
            compiled = compile_query(text, include_deleted=include_deleted, now_ms=NOW)
        except SoqlError as exc:
            assert exc.error_code in {
                "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR"
            }  # fmt: skip
            continue
        rows = db.execute(compiled.sql, compiled.params).fetchall()
        if not compiled.count_only:
            for row in rows:
                compiled.shape(row, base_url_prefix=PREFIX)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text())
def test_random_text_only_raises_soql_error(db: sqlite3.Connection, text: str) -> None:
    _assert_only_soql_error(db, text)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(_WORDS), max_size=25))
def test_random_token_soup_only_raises_soql_error(db: sqlite3.Connection, words: list[str]) -> None:
    _assert_only_soql_error(db, W + " ".join(words))
    _assert_only_soql_error(db, " ".join(words))


@pytest.mark.parametrize("depth", [70, 5000])
def test_deep_nesting_is_malformed_not_a_crash(depth: int) -> None:
    for where in ("(" * depth + "Amount > 1" + ")" * depth, "NOT " * depth + "Amount > 1"):
        with pytest.raises(SoqlError) as caught:
            compile_query(W + where, include_deleted=False)
        assert caught.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("literal", "start", "end"),
    [
        ("TODAY", "2026-11-23", "2026-11-24"),
        ("YESTERDAY", "2026-11-22", "2026-11-23"),
        ("TOMORROW", "2026-11-24", "2026-11-25"),
        ("THIS_WEEK", "2026-11-22", "2026-11-29"),  # weeks start on Sunday
        ("LAST_WEEK", "2026-11-15", "2026-11-22"),
        ("NEXT_WEEK", "2026-11-29", "2026-12-06"),
        ("THIS_MONTH", "2026-11-01", "2026-12-01"),
        ("LAST_MONTH", "2026-10-01", "2026-11-01"),
        ("NEXT_MONTH", "2026-12-01", "2027-01-01"),
        ("THIS_YEAR", "2026-01-01", "2027-01-01"),
        ("LAST_YEAR", "2025-01-01", "2026-01-01"),
        ("NEXT_YEAR", "2027-01-01", "2028-01-01"),
        ("LAST_N_DAYS:7", "2026-11-16", "2026-11-24"),
        # NEXT_N_DAYS starts tomorrow (SOQL date literals); LAST_N_DAYS includes today.
        ("NEXT_N_DAYS:7", "2026-11-24", "2026-12-01"),
        ("LAST_90_DAYS", "2026-08-25", "2026-11-24"),
        ("NEXT_90_DAYS", "2026-11-24", "2027-02-22"),
        ("N_DAYS_AGO:3", "2026-11-20", "2026-11-21"),
        ("LAST_N_WEEKS:2", "2026-11-08", "2026-11-22"),
        ("N_WEEKS_AGO:1", "2026-11-15", "2026-11-22"),
        ("LAST_N_MONTHS:2", "2026-09-01", "2026-11-01"),
        ("NEXT_N_MONTHS:1", "2026-12-01", "2027-01-01"),
        ("THIS_QUARTER", "2026-10-01", "2027-01-01"),
        ("LAST_QUARTER", "2026-07-01", "2026-10-01"),
        ("NEXT_QUARTER", "2027-01-01", "2027-04-01"),
        ("LAST_N_QUARTERS:2", "2026-04-01", "2026-10-01"),
        ("NEXT_N_QUARTERS:2", "2027-01-01", "2027-07-01"),
        ("N_QUARTERS_AGO:4", "2025-10-01", "2026-01-01"),
        ("N_YEARS_AGO:1", "2025-01-01", "2026-01-01"),
        ("LAST_N_YEARS:2", "2024-01-01", "2026-01-01"),
        ("THIS_FISCAL_YEAR", "2026-01-01", "2027-01-01"),  # the standard fiscal year
        ("LAST_FISCAL_QUARTER", "2026-07-01", "2026-10-01"),
        ("NEXT_N_FISCAL_YEARS:2", "2027-01-01", "2029-01-01"),
        ("N_FISCAL_QUARTERS_AGO:1", "2026-07-01", "2026-10-01"),
        ("last_n_days:0", "2026-11-23", "2026-11-24"),
    ],
)
def test_relative_date_literal_ranges(literal: str, start: str, end: str) -> None:
    today = dt.date(2026, 11, 23)
    assert relative_date_range(literal, today) == (
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
    )


def test_fiscal_literals_follow_the_fiscal_start_month() -> None:
    today = dt.date(2026, 1, 5)
    assert relative_date_range("THIS_FISCAL_YEAR", today, fiscal_start_month=2) == (
        dt.date(2025, 2, 1),
        dt.date(2026, 2, 1),
    )
    assert relative_date_range("THIS_FISCAL_QUARTER", today, fiscal_start_month=2) == (
        dt.date(2025, 11, 1),
        dt.date(2026, 2, 1),
    )


@pytest.mark.parametrize(
    "literal",
    ["LAST_N_DAYS", "TODAY:3", "LAST_N_DAYS:-1", "THIS_DAY", "N_DAYS:2", "LAST_N_DAY:2",
     "N_QUARTERS_AGO", "LAST_FORTNIGHT"],
)  # fmt: skip
def test_bad_relative_date_literals(literal: str) -> None:
    with pytest.raises(ValueError):
        relative_date_range(literal, dt.date(2026, 11, 23))


def test_count_of_a_field_is_an_aggregate_result(db: sqlite3.Connection) -> None:
    assert run(db, "SELECT COUNT(Id) FROM Opportunity") == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 4}
    ]
    assert run(db, "SELECT COUNT(Amount) n, COUNT() FROM Opportunity WHERE OwnerId != null") == [
        {"attributes": {"type": "AggregateResult"}, "n": 3, "expr0": 4}
    ]


def test_group_by_with_aggregates(db: sqlite3.Connection) -> None:
    rows = run(
        db,
        "SELECT Owner.Name, COUNT(Id), SUM(Amount) total, MAX(CloseDate), AVG(Amount) "
        "FROM Opportunity GROUP BY Owner.Name ORDER BY Owner.Name",
    )
    assert rows == [
        {"attributes": {"type": "AggregateResult"}, "Name": "Alice Rep", "expr0": 2,
         "total": 1000.0, "expr1": "2026-01-15", "expr2": 1000.0},
        {"attributes": {"type": "AggregateResult"}, "Name": "bob rep", "expr0": 2,
         "total": 300000.0, "expr1": "2026-12-01", "expr2": 150000.0},
    ]  # fmt: skip
    stages = run(
        db, "SELECT StageName, COUNT_DISTINCT(OwnerId) FROM Opportunity GROUP BY StageName"
    )
    assert {r["StageName"]: r["expr0"] for r in stages} == {
        "Closed Won": 1, "Prospecting": 1, "Closed Lost": 1, "Negotiation/Review": 1
    }  # fmt: skip
    with_deleted = run(db, "SELECT COUNT(Id) FROM Opportunity", include_deleted=True)
    assert with_deleted[0]["expr0"] == 5


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        ("SELECT Name, COUNT(Id) FROM Opportunity GROUP BY StageName", "MALFORMED_QUERY",
         "Field must be grouped or aggregated: Name"),
        ("SELECT SUM(Name) FROM Opportunity", "INVALID_FIELD", "does not support aggregate"),
        ("SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY Name",
         "INVALID_FIELD", "Ordered field must be grouped"),
        ("SELECT FIELDS(ALL) FROM Opportunity", "MALFORMED_QUERY", "LIMIT of at most 200"),
        ("SELECT FIELDS(CUSTOM) FROM Opportunity LIMIT 201", "MALFORMED_QUERY", "at most 200"),
        ("SELECT FIELDS(SOME) FROM Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT MEDIAN(Amount) FROM Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Opportunity WHERE Name IN (SELECT Id FROM Account)", "INVALID_FIELD",
         "semi/anti join"),
        ("SELECT Id FROM Opportunity WHERE AccountId IN (SELECT Id, Name FROM Account)",
         "MALFORMED_QUERY", "exactly one field"),
        ("SELECT Id FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account LIMIT 5)",
         "MALFORMED_QUERY", "LIMIT"),
        ("SELECT Id FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account WHERE OwnerId "
         "IN (SELECT Id FROM User))", "MALFORMED_QUERY", "Nesting of semi join"),
    ],
)  # fmt: skip
def test_aggregate_and_fields_errors(soql: str, code: str, text: str) -> None:
    with pytest.raises(SoqlError) as caught:
        compile_query(soql, include_deleted=False, now_ms=NOW)
    assert caught.value.error_code == code and text in str(caught.value)


def test_fields_standard_selects_every_standard_field(db: sqlite3.Connection) -> None:
    standard = [f.name for f in schema.OBJECTS["Opportunity"].fields if not f.custom]
    record = run(db, f"SELECT FIELDS(STANDARD) FROM Opportunity WHERE Id = '{O1}'")[0]
    assert list(record)[1:] == standard
    custom = run(db, f"SELECT Id, FIELDS(CUSTOM) FROM Opportunity WHERE Id = '{O1}' LIMIT 1")[0]
    names = [f.name for f in schema.OBJECTS["Opportunity"].fields if f.custom]
    assert list(custom)[1:] == ["Id", *names]


def test_parent_to_child_subquery(db: sqlite3.Connection) -> None:
    rows = run(
        db,
        "SELECT Name, (SELECT Name, Owner.Name FROM Opportunities WHERE Amount != null "
        "ORDER BY Name DESC LIMIT 5) FROM Account ORDER BY Name",
    )
    acme, globex = rows
    opps = acme["Opportunities"]
    assert (opps["totalSize"], opps["done"]) == (2, True)
    assert [r["Name"] for r in opps["records"]] == ["Acme 100% deal", "Acme - Platform"]
    assert opps["records"][1]["Owner"]["Name"] == "Alice Rep"
    assert opps["records"][0]["attributes"] == {
        "type": "Opportunity", "url": f"{PREFIX}/sobjects/Opportunity/{O2}"
    }  # fmt: skip
    assert globex["Opportunities"] is None  # its live deal has no amount; null, not []
    deleted_too = run(
        db, "SELECT (SELECT Id FROM Opportunities) FROM Account WHERE Name = 'Globex'",
        include_deleted=True,
    )  # fmt: skip
    assert deleted_too[0]["Opportunities"]["totalSize"] == 2


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id, (SELECT Id FROM Deals) FROM Account", "INVALID_TYPE"),
        ("SELECT Id, (SELECT COUNT(Id) FROM Opportunities) FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id, (SELECT Id FROM Opportunities) FROM User", "INVALID_TYPE"),
    ],
)
def test_bad_child_subqueries(soql: str, code: str) -> None:
    with pytest.raises(SoqlError) as caught:
        compile_query(soql, include_deleted=False, now_ms=NOW)
    assert caught.value.error_code == code
