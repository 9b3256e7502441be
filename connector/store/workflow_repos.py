"""The workflow's repositories of the org-scoped unit: disputes (with reasons and settings),
the Salesforce Task outbox, and acceptance, approval and close. `OrgUnit` hands them out as
`unit.disputes`, `unit.tasks` and `unit.close`, bound to its session and org."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from connector.store import close as _close
from connector.store import disputes as _disputes
from connector.store import sf_tasks as _tasks
from connector.store.close import PeriodClose, PlanAcceptance, StatementApproval
from connector.store.disputes import Dispute, DisputeEvent, DisputeReason, WorkflowSettings
from connector.store.sf_tasks import SfTask


class _Bound:
    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def _own(self, row: Any) -> None:
        # A row handed in is stored in this org, whatever it said.
        row.org_id = self._org_id
        self._session.add(row)
        self._session.flush()


class DisputeRepository(_Bound):
    """Disputes, their audit events, the reason list and the workflow settings."""

    def settings(self) -> WorkflowSettings:
        """The org's workflow settings (defaults when none are stored)."""
        return _disputes.workflow_settings(self._session, org_id=self._org_id)

    def save_settings(self, *, by: str, now: datetime, **changes: Any) -> WorkflowSettings:
        """Store changed settings with who changed them."""
        return _disputes.save_workflow_settings(
            self._session, org_id=self._org_id, by=by, now=now, **changes
        )

    def reasons(self, *, active_only: bool = False) -> list[DisputeReason]:
        """The reason list in display order."""
        return _disputes.reasons(self._session, org_id=self._org_id, active_only=active_only)

    def save_reason(self, *, code: str, label: str, active: bool) -> DisputeReason:
        """Add or change one reason."""
        return _disputes.save_reason(
            self._session, org_id=self._org_id, code=code, label=label, active=active
        )

    def get(self, *, dispute_id: int) -> Dispute | None:
        """One dispute of the org."""
        return _disputes.get_dispute(self._session, org_id=self._org_id, dispute_id=dispute_id)

    def events(self, *, dispute_id: int) -> Sequence[DisputeEvent]:
        """A dispute's audit trail, oldest first."""
        return _disputes.dispute_events(self._session, org_id=self._org_id, dispute_id=dispute_id)

    def find(
        self,
        *,
        rep_ids: Collection[str] | None,
        states: Collection[str] | None = None,
        limit: int = 1000,
    ) -> Sequence[Dispute]:
        """Disputes of `rep_ids` (all when None) in `states`, newest first."""
        return _disputes.find_disputes(
            self._session, org_id=self._org_id, rep_ids=rep_ids, states=states, limit=limit
        )

    def add(self, row: Dispute | DisputeEvent) -> None:
        """Store a new dispute or event in this org (flushed)."""
        self._own(row)


class TaskRepository(_Bound):
    """The Salesforce Task outbox."""

    def add_task(self, **fields: Any) -> SfTask:
        """Owe a new open Task (see connector.store.sf_tasks.add_task)."""
        return _tasks.add_task(self._session, org_id=self._org_id, **fields)

    def complete(self, *, source: str, source_id: int, now: datetime) -> int:
        """Mark every open Task of a source record done."""
        return _tasks.complete_tasks(
            self._session, org_id=self._org_id, source=source, source_id=source_id, now=now
        )

    def pending(self, *, limit: int = 200) -> Sequence[SfTask]:
        """Rows whose state Salesforce does not hold yet."""
        return _tasks.pending_tasks(self._session, org_id=self._org_id, limit=limit)

    def get(self, *, row_id: int) -> SfTask | None:
        """One outbox row of the org."""
        return _tasks.get_task(self._session, org_id=self._org_id, row_id=row_id)

    def many(self, *, row_ids: Sequence[int]) -> list[SfTask]:
        """The org's outbox rows with these ids, oldest first."""
        return _tasks.tasks_by_ids(self._session, org_id=self._org_id, row_ids=row_ids)

    def of(self, *, source: str, source_id: int) -> Sequence[SfTask]:
        """Every Task row of one source record."""
        return _tasks.tasks_of(
            self._session, org_id=self._org_id, source=source, source_id=source_id
        )

    def for_person(self, *, source: str, assignee_id: str) -> Sequence[SfTask]:
        """Every Task row of one source kind for one person."""
        return _tasks.tasks_for(
            self._session, org_id=self._org_id, source=source, assignee_id=assignee_id
        )

    def by_person(self, *, source: str) -> dict[str, list[SfTask]]:
        """Every Task row of one source kind, by assignee (one query)."""
        return _tasks.tasks_by_person(self._session, org_id=self._org_id, source=source)

    def complete_for(self, *, source: str, assignee_id: str, now: datetime) -> int:
        """Mark one person's open Tasks of a source kind done."""
        return _tasks.complete_for(
            self._session, org_id=self._org_id, source=source, assignee_id=assignee_id, now=now
        )

    def failed(self, *, limit: int = 50) -> Sequence[SfTask]:
        """Rows Salesforce refused for good, newest first."""
        return _tasks.failed_tasks(self._session, org_id=self._org_id, limit=limit)


class CloseRepository(_Bound):
    """Plan acceptances, statement approvals and period closes."""

    def acceptances_of(self, *, rep_id: str) -> Sequence[PlanAcceptance]:
        """A rep's acceptances, newest version first."""
        return _close.acceptances_of(self._session, org_id=self._org_id, rep_id=rep_id)

    def latest_acceptances(self) -> dict[str, PlanAcceptance]:
        """Each rep's newest acceptance, by rep id."""
        return _close.latest_acceptances(self._session, org_id=self._org_id)

    def record_acceptance(self, **fields: Any) -> PlanAcceptance:
        """Store an acceptance (once per version)."""
        return _close.record_acceptance(self._session, org_id=self._org_id, **fields)

    def results_of_period(self, *, period: str) -> list[tuple[str, dict[str, Any]]]:
        """(rep id, stored result) of every rep with a result in `period`."""
        return _close.results_of_period(self._session, org_id=self._org_id, period=period)

    def result_periods(self) -> list[tuple[str, date]]:
        """Every period holding a stored result, with its last day."""
        return _close.result_periods(self._session, org_id=self._org_id)

    def approvals_of_period(self, *, period: str) -> dict[str, StatementApproval]:
        """The statement approvals of a period, by rep id."""
        return _close.approvals_of_period(self._session, org_id=self._org_id, period=period)

    def approval(self, *, period: str, rep_id: str) -> StatementApproval | None:
        """One statement approval."""
        return _close.get_approval(self._session, org_id=self._org_id, period=period, rep_id=rep_id)

    def open_issue_count(self) -> int:
        """Record issues still open."""
        return _close.open_issue_count(self._session, org_id=self._org_id)

    def period_close(self, *, period: str) -> PeriodClose | None:
        """The close of a period, if closed."""
        return _close.period_close(self._session, org_id=self._org_id, period=period)

    def add(self, row: StatementApproval | PeriodClose | _close.CloseEvent) -> None:
        """Store a new approval, close or event in this org (flushed)."""
        self._own(row)
