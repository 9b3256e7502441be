"""A person edits records between a run's pull and its write-back, against the devorg.

Our write then lands after the edit: the record's `LastModifiedById` is the integration
user's and its `SystemModstamp` our write's, exactly as for the echo of a record nobody
touched. The next run must still see the edit (an input is mapped again; a write-back field
holds what the CRM holds), whichever way the pull recognises echoes
(connector/pull/changes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.store.models import RawRecord
from connector.store.results import WritebackValue
from connector.sync import run_sync
from devorg.credentials import ADMIN_USERNAME

from .conftest import Org, next_second, running_org  # type: ignore[import-not-found]


class EditBeforeWrite:
    """A progress display that, when the write stage begins, runs `edit` once (a person
    editing the CRM after the pull read it and before our write reaches it)."""

    def __init__(self, edit: Callable[[], None]) -> None:
        self._edit: Callable[[], None] | None = edit

    def stage(self, name: str, detail: str = "") -> None:
        """Edit when the write stage begins."""
        if name == "write" and self._edit is not None:
            edit, self._edit = self._edit, None
            edit()

    def advance(self, done: int, total: int) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with running_org(tmp_path_factory.mktemp("echo-edits")) as running:
        yield running


def _opps(org: Org, ids: list[str]) -> dict[str, dict[str, Any]]:
    quoted = ",".join(f"'{i}'" for i in ids)
    rows = org.client.query(
        "SELECT Id, Amount, Estimated_Commission__c, LastModifiedById, SystemModstamp "
        f"FROM Opportunity WHERE Id IN ({quoted})"
    )
    return {str(r["Id"]): r for r in rows}


def _stored(org: Org, ids: list[str]) -> dict[str, dict[str, Any]]:
    with org.deps.sessions() as session:
        rows = session.execute(
            select(RawRecord.record_id, RawRecord.payload).where(
                RawRecord.org_id == org.org_id,
                RawRecord.object_name == "Opportunity",
                RawRecord.record_id.in_(ids),
            )
        )
        return {rid: dict(payload) for rid, payload in rows}


def _desired(org: Org, ids: list[str]) -> dict[str, tuple[dict[str, Any], bool]]:
    with org.deps.sessions() as session:
        rows = session.execute(
            select(WritebackValue.record_id, WritebackValue.fields, WritebackValue.pending).where(
                WritebackValue.org_id == org.org_id,
                WritebackValue.object_name == "Opportunity",
                WritebackValue.record_id.in_(ids),
            )
        )
        return {rid: (dict(fields), bool(pending)) for rid, fields, pending in rows}


def _won_deals(org: Org) -> list[str]:
    year = datetime.now(UTC).year
    rows = org.client.query(
        "SELECT Id FROM Opportunity WHERE IsWon = true AND Amount > 0 "
        f"AND CloseDate >= {year}-01-01 ORDER BY Id LIMIT 40"
    )
    return [str(r["Id"]) for r in rows]


@pytest.mark.slow
def test_edits_made_during_a_large_write_back_are_seen_by_the_next_run(org: Org) -> None:
    deals = _won_deals(org)
    edited_input, edited_written, untouched = deals[0], deals[1], deals[2]
    ids = [edited_input, edited_written, untouched]
    before = _opps(org, ids)
    new_amount = float(before[edited_input]["Amount"]) + 250_000.0

    def edit() -> None:
        org.client.patch("Opportunity", edited_input, {"Amount": new_amount})
        org.client.patch("Opportunity", edited_written, {"Estimated_Commission__c": 12345.67})

    # The first full sync writes every deal: a large write-back, with the edits inside it.
    full = run_sync(org.deps, mode="full", progress=EditBeforeWrite(edit))
    assert full.status == "succeeded", full
    after = _opps(org, ids)
    admin = org.client.query(f"SELECT Id FROM User WHERE Username = '{ADMIN_USERNAME}'")[0]["Id"]
    ours = after[untouched]["LastModifiedById"]
    assert ours != admin
    # Our write landed after the person's edit: the stamps look like a plain echo.
    for rid in (edited_input, edited_written):
        assert after[rid]["LastModifiedById"] == ours
        assert after[rid]["SystemModstamp"] > before[rid]["SystemModstamp"]
    assert after[edited_input]["Amount"] == new_amount
    assert after[edited_written]["Estimated_Commission__c"] != 12345.67  # ours won
    with org.deps.unit(org.org_id) as unit:
        mapped = unit.records.load_canonical(kind="deal", ids=ids)
    assert mapped[edited_input].payload["amount"] != {"$decimal": str(Decimal(str(new_amount)))}

    next_second()
    echo = run_sync(org.deps, mode="incremental")
    assert echo.status == "succeeded", echo
    with org.deps.unit(org.org_id) as unit:
        mapped = unit.records.load_canonical(kind="deal", ids=ids)
    # The edited input is mapped again, in this run; the others are echoes, not changes.
    assert Decimal(mapped[edited_input].payload["amount"]["$decimal"]) == Decimal(str(new_amount))
    assert mapped[edited_input].changed_run_id == echo.run_id
    assert mapped[edited_written].changed_run_id == full.run_id
    assert mapped[untouched].changed_run_id == full.run_id
    # The echoes are stored as the CRM holds them (our values, not the person's 12345.67),
    # and the CRM holds what we want: the edited deal's new commission was written.
    crm = _opps(org, ids)
    stored = _stored(org, ids)
    desired = _desired(org, ids)
    assert (
        crm[edited_input]["Estimated_Commission__c"]
        != after[edited_input]["Estimated_Commission__c"]
    )
    for rid in (edited_written, untouched):
        for name in ("Amount", "Estimated_Commission__c", "SystemModstamp"):
            assert stored[rid][name] == crm[rid][name]
    for rid in ids:
        fields, pending = desired[rid]
        assert not pending
        assert Decimal(str(crm[rid]["Estimated_Commission__c"])) == Decimal(
            str(fields["Estimated_Commission__c"])
        )
    # Written fields edited between this run's pull and its write-back, on records this run
    # does not write: the next run stores the CRM's values (the write-back diff reads them).
    quiet_input, quiet_written = deals[3], deals[4]

    def edit_quiet() -> None:
        org.client.patch("Opportunity", quiet_input, {"Amount": new_amount})
        org.client.patch("Opportunity", quiet_written, {"Estimated_Commission__c": 999.99})

    next_second()
    run = run_sync(org.deps, mode="incremental", progress=EditBeforeWrite(edit_quiet))
    assert run.status == "succeeded", run
    next_second()
    last = run_sync(org.deps, mode="incremental")
    with org.deps.unit(org.org_id) as unit:
        mapped = unit.records.load_canonical(kind="deal", ids=[quiet_input, quiet_written])
    assert mapped[quiet_input].changed_run_id == last.run_id
    assert mapped[quiet_written].changed_run_id != last.run_id
    # The pull stored the person's value (what the CRM held when it read it).
    assert _stored(org, [quiet_written])[quiet_written]["Estimated_Commission__c"] == 999.99
