"""The access facts read in one statement decide exactly what the step-by-step reads decide:
the rep asked for and whether they are below the viewer (walked up from the rep in SQL, the
hierarchy walked down from the manager in `team_below`), whether the viewer manages anyone,
and the roles their grants and rep row give them. On SQLite and PostgreSQL, over a
hierarchy with a cycle, a self-managed rep, a deleted manager, a deactivated manager and a
chain deeper than MAX_DEPTH."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from calc.model import Rep
from connector.pull.codec import encode
from connector.settings import Settings
from connector.store.access_reads import access_facts, roles_of
from connector.store.canonical import CanonicalRep
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.people import MAX_DEPTH, manages_anyone, person, team_below
from connector.store.roles import Holder, RoleGrant, add_grant, granted_roles, grants

ORG = "00D5g000000AcCeEAK"
OTHER_ORG = "00D5g000000ZzZzEAK"
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
CHAIN = [f"L{i:02d}" for i in range(MAX_DEPTH + 3)]  # L00 at the top, each under the last


def _hierarchy() -> list[tuple[str, str | None, bool, bool]]:
    """(id, manager, deleted, active) of every rep."""
    reps = [
        ("TOP", None, False, True),
        ("A", "TOP", False, True),
        ("B", "A", False, True),
        ("C", "B", False, True),
        ("X", "Y", False, True),  # a cycle in the org's data
        ("Y", "X", False, True),
        ("Z", "X", False, True),
        ("S", "S", False, True),  # their own manager
        ("D", "TOP", True, True),  # deleted: the chain through them is broken
        ("E", "D", False, True),
        ("I", "TOP", False, False),  # deactivated: still in the chain
        ("J", "I", False, True),
        ("K", "GONE", False, True),  # a manager never synced
    ]
    reps += [(rep, CHAIN[i - 1] if i else "TOP", False, True) for i, rep in enumerate(CHAIN)]
    return reps


def _store(session: Session) -> None:
    for rep_id, manager, deleted, active in _hierarchy():
        payload = encode(Rep(id=rep_id, name=f"Rep {rep_id}", plan_id="ae", is_active=active))
        for org in (ORG, OTHER_ORG):
            session.add(
                CanonicalRep(
                    org_id=org, id=rep_id, payload=payload, deleted=deleted, manager_id=manager,
                    updated_at=NOW,
                )
            )  # fmt: skip
    # Another org where everyone reports to B: its rows must not count here.
    session.add(
        CanonicalRep(
            org_id=OTHER_ORG, id="W", payload=encode(Rep(id="W", name="W", plan_id="ae")),
            deleted=False, manager_id="C", updated_at=NOW,
        )
    )  # fmt: skip
    session.commit()


def test_the_facts_match_the_step_by_step_reads(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    ids = [r[0] for r in _hierarchy()] + ["W", "NOBODY"]
    # Every rep as seen by every viewer off the long chain, and by a few along it.
    viewers = [i for i in ids if i not in CHAIN] + [CHAIN[0], CHAIN[1], CHAIN[-2], CHAIN[-1]]
    try:
        with sessions() as session:
            _store(session)
            for viewer in viewers:
                team = team_below(session, org_id=ORG, manager_id=viewer)
                manages = manages_anyone(session, org_id=ORG, rep_id=viewer)
                me = person(session, org_id=ORG, rep_id=viewer)
                for rep in ids:
                    facts = access_facts(
                        session, org_id=ORG, holder_id=viewer, viewer_id=viewer, rep_id=rep
                    )
                    assert facts.below == (rep in team), (viewer, rep)
                    assert facts.target == person(session, org_id=ORG, rep_id=rep), rep
                    assert facts.manages == manages, viewer
                    assert facts.me == me, viewer
            # The chain reaches past the bound: the walk stops where team_below stops.
            top = team_below(session, org_id=ORG, manager_id="TOP")
            assert CHAIN[MAX_DEPTH - 1] in top and CHAIN[MAX_DEPTH] not in top
    finally:
        engine.dispose()


def test_the_roles_follow_the_grants_and_the_rep_row(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    holder = Holder(user_id="0055g000000000EAAQ", profile_name="System Administrator")
    boss = Holder(user_id="A")
    try:
        with sessions() as session:
            _store(session)

            def roles(who: Holder) -> tuple[str, set[str]]:
                facts = access_facts(
                    session, org_id=ORG, holder_id=who.user_id, viewer_id=who.user_id,
                    rep_id=None,
                )  # fmt: skip
                expected = granted_roles(grants(session, org_id=ORG), who)
                assert set(facts.grants) == set(grants(session, org_id=ORG))
                assert granted_roles(list(facts.grants), who) == expected
                return roles_of(facts, who)

            # No grant stored: the defaults (System Administrator by name) hold.
            assert roles(holder) == (holder.user_id, {"admin", "ops"})
            assert roles(boss) == ("A", {"rep", "manager"})
            add_grant(
                session, org_id=ORG, role="ops", principal_kind="user",
                principal=holder.user_id, created_by="test", now=NOW,
            )  # fmt: skip
            session.commit()
            # Stored grants replace the defaults (materialized, then the new one).
            assert roles(holder) == (holder.user_id, {"admin", "ops"})
            session.execute(delete(RoleGrant).where(RoleGrant.role == "admin"))
            session.commit()
            assert roles(holder) == (holder.user_id, {"ops"})
            assert roles(Holder(user_id="I")) == ("I", set())  # deactivated: nothing
            assert roles(Holder(user_id="C")) == ("C", {"rep"})
    finally:
        engine.dispose()
