"""A real User pull returns Salesforce's own users (Automated Process, integration users, site
guests, Chatter Free, partner users): the mapping's `include` rule keeps them from becoming
reps, also under a mapping stored before the rule existed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.canonical import CanonicalRep
from connector.store.mapping_versions import MappingVersion, checksum
from connector.sync import run_sync
from mappings.defaults import default_mapping_text

from .conftest import running_org  # type: ignore[import-not-found]


def _old_default_text() -> str:
    """The shipped default mapping as stored before it had the `include` rule."""
    lines = default_mapping_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("  include:")]
    assert len(kept) == len(lines) - 1
    return "".join(kept)


@pytest.mark.slow
def test_a_sync_makes_reps_of_standard_users_only(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        document = _old_default_text()
        with org.deps.sessions() as session, session.begin():
            session.add(
                MappingVersion(
                    org_id=org.org_id, version=1, name="standard-org", document=document,
                    checksum=checksum(document), created_at=datetime.now(UTC),
                    created_by="before-the-include-rule", is_active=True,
                )
            )  # fmt: skip
        assert run_sync(org.deps, mode="full").status == "succeeded"
        users = org.client.query("SELECT Id, UserType FROM User")
        standard = {u["Id"] for u in users if u["UserType"] == "Standard"}
        others = {u["Id"]: u["UserType"] for u in users if u["UserType"] != "Standard"}
        assert set(others.values()) >= {
            "AutomatedProcess", "CloudIntegrationUser", "Guest", "CsnOnly", "PowerPartner",
        }  # fmt: skip
        with org.deps.sessions() as session:
            rows = session.execute(
                select(CanonicalRep.id, CanonicalRep.deleted).where(
                    CanonicalRep.org_id == org.org_id
                )
            ).all()
        reps = {rep_id for rep_id, deleted in rows if not deleted}
        assert not reps & set(others), {others[i] for i in reps & set(others)}
        assert reps == standard
