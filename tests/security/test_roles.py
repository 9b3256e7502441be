"""Issue 13 item 1: role grants match only who they name, never a look-alike.

Replays the attacks as filed: a grant to user 0055g000000000DAAQ gave ops to user
0055g000000000dAAA (15-character ids are case-sensitive); a profile named
`System Administrator (Read Only)` inherited System Administrator's grants; a permission set
`Quotaflow_Admin_ReadOnly` inherited Quotaflow_Admin's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
import sqlalchemy as sa

from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway, QueryPage
from connector.salesforce.ids import InvalidId, normalize_id, same_id
from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.roles import (
    DEFAULT_GRANTS,
    Grant,
    GrantError,
    Holder,
    add_grant,
    granted_roles,
    grants,
    resolve_roles,
)
from connector.sync.grant_ids import pin_grant_names

ORG = "00D5g000000AbCdEAK"
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
GRANTEE = "0055g000000000DAAQ"
LOOK_ALIKE = "0055g000000000dAAA"  # the same letters in another case: another user
ADMIN_PROFILE = "00e5g000000AbcdAAC"


def _defaults() -> list[Grant]:
    return [Grant(None, r, k, "name", v, v, None) for r, k, v in DEFAULT_GRANTS]


def _by_id(role: str, kind: str, principal: str) -> Grant:
    return Grant(1, role, kind, "id", normalize_id(principal), None, "admin")


# --- Salesforce ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        # Checksums from Salesforce's documented rule (bit i of each 5-character block set
        # when character i is an uppercase letter; value picked from A..Z0..5).
        ("0055g000000000D", "0055g000000000DAAQ"),
        ("0055g000000000d", "0055g000000000dAAA"),
        ("a0BA0000000L2ZC", "a0BA0000000L2ZCMA0"),
        ("AaaAABbbBBCccCC", "AaaAABbbBBCccCCZZZ"),
        ("ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNO555"),
        ("AAaAAbbBBBCcCCC", "AAaAAbbBBBCcCCC123"),
    ],
)
def test_the_18_character_form_carries_the_case_checksum(id15: str, id18: str) -> None:
    assert normalize_id(id15) == id18
    assert normalize_id(id18) == id18
    assert same_id(id15, id18) and same_id(id18, id15)
    # The suffix restores the case a case-insensitive system lost.
    assert normalize_id(id18.upper()) == id18
    assert normalize_id(id18.lower()[:15] + id18[15:]) == id18


def test_15_character_ids_are_case_sensitive() -> None:
    assert not same_id("0055g000000000D", "0055g000000000d")
    assert not same_id(GRANTEE, LOOK_ALIKE)
    assert not same_id("0055g000000000D", LOOK_ALIKE)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0055g000000000",  # 14
        "0055g000000000DA",  # 16
        "0055g000000000DAAQX",  # 19
        "0055g00000000-D",  # not alphanumeric
        "0055g000000000DAA!",
        "0055g000000000DAA9",  # 9 is not a checksum character
        "0055g000000000DAA5",  # marks digits of the last block as uppercase
        "0055g00000000０D",  # a full-width digit
    ],
)
def test_malformed_ids_are_refused_and_never_equal(bad: str) -> None:
    with pytest.raises(InvalidId):
        normalize_id(bad)
    assert not same_id(bad, GRANTEE)
    assert not same_id(GRANTEE, bad)


def test_an_id_of_another_kind_is_refused() -> None:
    with pytest.raises(InvalidId, match="starting with 00e"):
        normalize_id(GRANTEE, prefix="00e")


# --- matching grants ------------------------------------------------------------------------


def test_a_user_grant_does_not_reach_a_case_look_alike() -> None:
    grant = [_by_id("ops", "user", GRANTEE)]
    assert granted_roles(grant, Holder(user_id=LOOK_ALIKE)) == set()
    assert granted_roles(grant, Holder(user_id=GRANTEE)) == {"ops"}
    # The 15- and 18-character forms of the same id are the same user, either way round.
    assert granted_roles(grant, Holder(user_id=GRANTEE[:15])) == {"ops"}
    grant15 = [Grant(1, "ops", "user", "id", GRANTEE[:15], None, None)]
    assert granted_roles(grant15, Holder(user_id=GRANTEE)) == {"ops"}
    assert granted_roles(grant15, Holder(user_id=LOOK_ALIKE)) == set()
    # Sharing the first 15 characters in another case is not enough, nor is a bad suffix.
    assert granted_roles(grant, Holder(user_id="0055g000000000DAAX")) == set()


def test_a_look_alike_profile_name_does_not_inherit_the_defaults() -> None:
    for name in (
        "System Administrator (Read Only)",
        "system administrator",
        "SYSTEM ADMINISTRATOR",
        "System Administrator ",
        "System Administrators",
    ):
        holder = Holder(user_id=GRANTEE, profile_id=ADMIN_PROFILE, profile_name=name)
        assert granted_roles(_defaults(), holder) == set(), name
    exact = Holder(user_id=GRANTEE, profile_name="System Administrator")
    assert granted_roles(_defaults(), exact) == {"admin", "ops"}


def test_a_look_alike_permission_set_does_not_inherit_quotaflow_admin() -> None:
    ps_id = "0PS5g000000000ZGAQ"
    for name in ("Quotaflow_Admin_ReadOnly", "quotaflow_admin", "Quotaflow_Admin2"):
        holder = Holder(user_id=GRANTEE, permission_sets=((ps_id, name),))
        assert granted_roles(_defaults(), holder) == set(), name
    holder = Holder(user_id=GRANTEE, permission_sets=((ps_id, "Quotaflow_Admin"),))
    assert granted_roles(_defaults(), holder) == {"admin"}


def test_profile_and_permission_set_grants_match_by_id_only() -> None:
    profile = [_by_id("admin", "profile", ADMIN_PROFILE)]
    assert granted_roles(profile, Holder(user_id=GRANTEE, profile_id=ADMIN_PROFILE[:15])) == {
        "admin"
    }
    # An id grant never matches a name, even one spelled like the id.
    named = Holder(user_id=GRANTEE, profile_id="00e5g000000abcd", profile_name=ADMIN_PROFILE)
    assert granted_roles(profile, named) == set()
    ps = [_by_id("ops", "permission_set", "0PS5g000000000Z")]
    other_case = Holder(user_id=GRANTEE, permission_sets=(("0PS5g000000000zAAA", "x"),))
    assert granted_roles(ps, other_case) == set()
    same = Holder(user_id=GRANTEE, permission_sets=(("0PS5g000000000ZGAQ", "x"),))
    assert granted_roles(ps, same) == {"ops"}


# --- storing grants -------------------------------------------------------------------------


def _sessions(settings: Settings) -> sa.orm.sessionmaker[sa.orm.Session]:
    engine = make_engine(settings)
    upgrade(engine)
    return make_session_factory(engine)


def test_grants_are_stored_by_id_and_names_are_refused(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    with sessions() as session:
        for principal in ("Sales_Ops", "0055g000000000", GRANTEE + " x", ADMIN_PROFILE):
            with pytest.raises(GrantError, match=r"^principal: "):
                add_grant(
                    session,
                    org_id=ORG,
                    role="ops",
                    principal_kind="user",
                    principal=principal,
                    created_by="t",
                    now=NOW,
                )
        grant = add_grant(
            session,
            org_id=ORG,
            role="ops",
            principal_kind="user",
            principal=GRANTEE[:15],
            label="Dana Grantee",
            created_by="t",
            now=NOW,
        )
        assert (grant.match, grant.principal, grant.label) == ("id", GRANTEE, "Dana Grantee")
        # The other form of the same id is the same grant.
        again = add_grant(
            session,
            org_id=ORG,
            role="ops",
            principal_kind="user",
            principal=GRANTEE,
            created_by="t",
            now=NOW,
        )
        assert again.id == grant.id
        session.commit()
        roles = resolve_roles(session, org_id=ORG, holder=Holder(user_id=LOOK_ALIKE))[1]
        assert roles == set()
        assert resolve_roles(session, org_id=ORG, holder=Holder(user_id=GRANTEE))[1] == {"ops"}


def test_migration_0006_rewrites_old_grants_to_what_they_meant(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine, "0005")
    old = [
        ("ops", "user", GRANTEE[:15]),
        ("ops", "user", GRANTEE),  # the same user twice: merged
        ("admin", "profile", "system administrator"),  # a default name in another case
        ("ops", "permission_set", "Sales_Ops"),  # a name: stays an exact-name grant
        ("admin", "permission_set", "0PS5g000000000Z"),
        ("ops", "user", "ops@acme.example"),
    ]
    with engine.begin() as conn:
        for role, kind, principal in old:
            conn.execute(
                sa.text(
                    "INSERT INTO role_grants (org_id, role, principal_kind, principal, "
                    "created_by, created_at) VALUES (:o, :r, :k, :p, 'x', :t)"
                ),
                {"o": ORG, "r": role, "k": kind, "p": principal, "t": NOW},
            )
    upgrade(engine)
    with make_session_factory(engine)() as session:
        found = {
            (g.role, g.principal_kind, g.match, g.principal) for g in grants(session, org_id=ORG)
        }
    engine.dispose()
    assert found == {
        ("ops", "user", "id", GRANTEE),
        ("admin", "profile", "name", "System Administrator"),
        ("ops", "permission_set", "name", "Sales_Ops"),
        ("admin", "permission_set", "id", "0PS5g000000000ZGAQ"),
        ("ops", "user", "name", "ops@acme.example"),
    }


# --- pinning name grants to the org's ids ---------------------------------------------------


class _Org:
    """The org's answers to the name look-ups, as the integration user would get them."""

    def __init__(self, records: dict[str, list[dict[str, str]]]) -> None:
        self.records = records
        self.queries: list[str] = []

    def query(self, soql: str, *, include_deleted: bool = True) -> QueryPage:
        self.queries.append(soql)
        obj = soql.split(" FROM ", 1)[1].split(" ", 1)[0]
        rows = self.records.get(obj, [])
        return QueryPage(records=rows, next_url=None, total_size=len(rows))


def test_the_first_sync_pins_default_names_to_exactly_one_id(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)
    org = _Org(
        {
            # SOQL's IN ignores case: the look-alike comes back too, and is not taken.
            "Profile": [
                {"Id": "00e5g000000AbcdAAC", "Name": "System Administrator"},
                {"Id": "00e5g000000Abce", "Name": "system administrator"},
            ],
            # Two permission sets of one name (two namespaces): that name stays a name.
            "PermissionSet": [
                {"Id": "0PS5g000000000ZGAQ", "Name": "Quotaflow_Admin"},
                {"Id": "0PS5g0000000010GAA", "Name": "Quotaflow_Ops"},
                {"Id": "0PS5g0000000011GAA", "Name": "Quotaflow_Ops"},
            ],
        }
    )
    changed = pin_grant_names(cast(Gateway, org), sessions, org_id=ORG, now=NOW)
    assert changed == 3
    with sessions() as session:
        found = {
            (g.role, g.principal_kind, g.match, g.principal, g.label)
            for g in grants(session, org_id=ORG)
        }
    assert found == {
        ("admin", "profile", "id", ADMIN_PROFILE, "System Administrator"),
        ("ops", "profile", "id", ADMIN_PROFILE, "System Administrator"),
        ("admin", "permission_set", "id", "0PS5g000000000ZGAQ", "Quotaflow_Admin"),
        ("ops", "permission_set", "name", "Quotaflow_Ops", "Quotaflow_Ops"),
    }
    holder = Holder(
        user_id=GRANTEE, profile_id="00e5g000000Abce", profile_name="System Administrator"
    )
    with sessions() as session:
        assert resolve_roles(session, org_id=ORG, holder=holder)[1] == set()
    # Nothing left to pin but the ambiguous name: one query, no change.
    org.queries.clear()
    assert pin_grant_names(cast(Gateway, org), sessions, org_id=ORG, now=NOW) == 0
    assert len(org.queries) == 1 and "FROM PermissionSet" in org.queries[0]


def test_an_org_that_cannot_answer_leaves_the_names(store_settings: Settings) -> None:
    sessions = _sessions(store_settings)

    class Down:
        def query(self, soql: str, *, include_deleted: bool = True) -> QueryPage:
            raise SalesforceApiError("INSUFFICIENT_ACCESS")

    assert pin_grant_names(cast(Gateway, Down()), sessions, org_id=ORG, now=NOW) == 0
    with sessions() as session:
        assert {g.match for g in grants(session, org_id=ORG)} == {"name"}
