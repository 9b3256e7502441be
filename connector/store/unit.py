"""The org-scoped unit of work: one transaction, and repositories already bound to one org.

Every caller outside `connector/store/` (the sync, the web app, the CLI) reaches the store
through `OrgUnit(sessions, org_id)`:

    with OrgUnit(sessions, org_id) as unit:
        unit.periods.lock_period(period="2026-Q1", ...)
        unit.commit()

Nothing is kept unless `commit()` is called; leaving the block rolls back the rest. The
repositories (`unit.runs`, `unit.records`, `unit.results`, ...) are constructed with the
unit's session and org id, so none of their methods takes an org id and no query they run
can leave the org out. The run lease is the one exception to "nothing until commit": it
must be visible to other processes at once, so `OrgLease` commits each call on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from calc.adjustments import ADJUSTMENT, Adjustment
from calc.currency import DatedRate, Rates
from connector.store import adjustments as _adjustments
from connector.store import assignments as _assignments
from connector.store import bulk_jobs as _bulk_jobs
from connector.store import currency_rates as _currency_rates
from connector.store import deal_reads as _deal_reads
from connector.store import lease as _lease
from connector.store import mapping_versions as _mapping_versions
from connector.store import org_hosts as _org_hosts
from connector.store import pages as _pages
from connector.store import people as _people
from connector.store import periods as _periods
from connector.store import plan_activation as _plan_activation
from connector.store import plans as _plans
from connector.store import raw_samples as _raw_samples
from connector.store import repositories as _repositories
from connector.store import result_reads as _result_reads
from connector.store import results as _results
from connector.store import roles as _roles
from connector.store import run_queue as _run_queue
from connector.store import run_reads as _run_reads
from connector.store import team_reads as _team_reads
from connector.store import writeback_batches as _writeback_batches
from connector.store import writeback_fields as _writeback_fields
from connector.store.access_reads import AccessRepository
from connector.store.adjustments import StoredAdjustment
from connector.store.assignments import NewAssignment, RepAssignment, RepAssignmentEvent
from connector.store.currency_rates import CurrencyRateSync
from connector.store.mapping_versions import MappingVersion
from connector.store.models import RawRecord, RecordIssue, SyncRun
from connector.store.people import Person
from connector.store.periods import PeriodLock
from connector.store.plans import PlanVersion
from connector.store.rep_pages import RepPageRepository
from connector.store.repositories import (
    CanonicalTuple,
    PageWrite,
    RunUsage,
    StoredCanonical,
    StoredState,
    WatermarkState,
)
from connector.store.result_reads import CreditRow
from connector.store.results import CalcRun, CreditKey, PeriodResult
from connector.store.roles import Grant, Holder
from connector.store.run_reads import IssueFilter, IssueRecord, RunRecord
from connector.store.team_reads import ResultRow, StoredPeriod
from connector.store.workflow_repos import CloseRepository, DisputeRepository, TaskRepository
from connector.store.writeback_fields import ListedField, WritebackFieldEvent
from mappings.schema import MappingDocument
from mappings.writeback_rules import FieldKey

SessionFactory = sessionmaker[Session]


class OrgMismatch(LookupError):
    """A repository was handed a row of another org."""


class _Repository:
    """A set of store functions bound to one session and one org."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def _own(self, run: CalcRun) -> None:
        if run.org_id != self._org_id:
            raise OrgMismatch(f"calc run {run.id} belongs to another org")


class RunRepository(_Repository):
    """Sync runs: the queue, the run lifecycle and the ops views of runs."""

    def create_run(
        self, *, mode: str, now: datetime, requested_by: str | None = None, dry_run: bool = False
    ) -> int:
        """A queued SyncRun; returns its id."""
        return _repositories.create_run(
            self._session,
            org_id=self._org_id,
            mode=mode,
            now=now,
            requested_by=requested_by,
            dry_run=dry_run,
        )

    def start_run(self, *, run_id: int, now: datetime) -> None:
        """Mark a run running."""
        _repositories.start_run(self._session, org_id=self._org_id, run_id=run_id, now=now)

    def finish_run(
        self,
        *,
        run_id: int,
        status: str,
        now: datetime,
        counts: Mapping[str, Any],
        usage: RunUsage,
        error: str | None = None,
    ) -> None:
        """Finish a run with its status, counts, API usage, duration and error."""
        _repositories.finish_run(
            self._session,
            org_id=self._org_id,
            run_id=run_id,
            status=status,
            now=now,
            counts=counts,
            usage=usage,
            error=error,
        )

    def get_run(self, *, run_id: int) -> SyncRun | None:
        """One run of the org by id."""
        return _repositories.get_run(self._session, org_id=self._org_id, run_id=run_id)

    def list_runs(self, *, limit: int = 50) -> list[SyncRun]:
        """The org's most recent runs, newest first."""
        return _repositories.list_runs(self._session, org_id=self._org_id, limit=limit)

    def fail_interrupted_runs(self, *, now: datetime, keep: int | None = None) -> int:
        """Runs left `running` by a process that died become `failed` (call under the lease)."""
        return _repositories.fail_interrupted_runs(
            self._session, org_id=self._org_id, now=now, keep=keep
        )

    def enqueue(self, *, mode: str, requested_by: str | None, now: datetime) -> SyncRun:
        """Queue a run for the org, or join the one already waiting; the caller commits."""
        return _run_queue.enqueue(
            self._session, org_id=self._org_id, mode=mode, requested_by=requested_by, now=now
        )

    def claim_next(self, *, now: datetime) -> tuple[int, str] | None:
        """Mark the oldest queued run of the org running; its (id, mode), or None if none waits."""
        return _run_queue.claim_next(self._session, org_id=self._org_id, now=now)

    def queued_count(self) -> int:
        """How many requests wait for the org (0 or 1, since requests coalesce)."""
        return _run_queue.queued_count(self._session, org_id=self._org_id)

    def recent_runs(self, *, limit: int = 50) -> list[RunRecord]:
        """The org's latest runs, newest request first."""
        return _run_reads.recent_runs(self._session, org_id=self._org_id, limit=limit)

    def run_by_id(self, *, run_id: int) -> RunRecord | None:
        """One run of the org, or None."""
        return _run_reads.run_by_id(self._session, org_id=self._org_id, run_id=run_id)

    def active_runs(self) -> list[RunRecord]:
        """The org's running run and queued request, running first."""
        return _run_reads.active_runs(self._session, org_id=self._org_id)

    def queued_run_id(self) -> int | None:
        """The id of the request waiting for the clock, if any."""
        return _run_reads.queued_run_id(self._session, org_id=self._org_id)

    def record_progress(
        self, *, run_id: int | None, progress: Mapping[str, Any], now: datetime
    ) -> None:
        """Store a running run's progress in its counts (run None: the org's running run)."""
        _run_reads.record_progress(
            self._session, org_id=self._org_id, run_id=run_id, progress=progress, now=now
        )


class RecordRepository(_Repository):
    """Raw and canonical records, watermarks and pulled pages."""

    def load_watermarks(self) -> dict[str, WatermarkState]:
        """Every object's watermark for the org."""
        return _repositories.load_watermarks(self._session, org_id=self._org_id)

    def stored_states(self, *, object_name: str, ids: Sequence[str]) -> dict[str, StoredState]:
        """The stored modstamp, input hash and deleted flag of these raw records."""
        return _repositories.stored_states(
            self._session, org_id=self._org_id, object_name=object_name, ids=ids
        )

    def load_canonical(
        self, *, kind: str, ids: Sequence[str] | None = None, include_deleted: bool = False
    ) -> dict[str, StoredCanonical]:
        """Canonical records of one kind (rep, deal, split, team_member), by id."""
        return _repositories.load_canonical(
            self._session, org_id=self._org_id, kind=kind, ids=ids, include_deleted=include_deleted
        )

    def commit_page(
        self,
        *,
        page: PageWrite,
        run_id: int,
        mapping_version_id: int | None,
        usage: RunUsage,
        now: datetime,
    ) -> None:
        """Store a page and advance its object's watermark (the unit commits it all or nothing)."""
        _pages.commit_page(
            self._session,
            org_id=self._org_id,
            page=page,
            run_id=run_id,
            mapping_version_id=mapping_version_id,
            usage=usage,
            now=now,
        )

    def vanished_candidates(self, *, object_name: str, run_id: int, before: datetime) -> list[str]:
        """Live raw records a full pull of this run did not see (modified before `before`)."""
        return _pages.vanished_candidates(
            self._session,
            org_id=self._org_id,
            object_name=object_name,
            run_id=run_id,
            before=before,
        )

    def mark_vanished(
        self, *, object_name: str, kind: str, ids: Sequence[str], run_id: int, now: datetime
    ) -> None:
        """Records gone from Salesforce altogether (hard delete, emptied recycle bin): deleted."""
        _pages.mark_vanished(
            self._session,
            org_id=self._org_id,
            object_name=object_name,
            kind=kind,
            ids=ids,
            run_id=run_id,
            now=now,
        )

    def sample_raw_records(self, *, object_name: str, limit: int = 5) -> Sequence[RawRecord]:
        """The `limit` most recently changed live records of one object (case-insensitive name)."""
        return _raw_samples.sample_raw_records(
            self._session, org_id=self._org_id, object_name=object_name, limit=limit
        )

    def deal_payload(self, *, deal_id: str) -> dict[str, Any] | None:
        """A live deal's canonical payload, or None."""
        return _deal_reads.deal_payload(self._session, org_id=self._org_id, deal_id=deal_id)

    def deal_people(self, *, deal_id: str) -> set[str]:
        """The deal's owner, split and team members, and every rep it credits (rollup included)."""
        return _deal_reads.deal_people(self._session, org_id=self._org_id, deal_id=deal_id)

    def sample_deals(self, *, owner_ids: list[str]) -> dict[str, str]:
        """One live deal per owner among `owner_ids` (the demo chooser links to it)."""
        return _deal_reads.sample_deals(self._session, org_id=self._org_id, owner_ids=owner_ids)

    def deals_by_id(self, *, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Live canonical deal payloads by id."""
        return _result_reads.deals_by_id(self._session, org_id=self._org_id, ids=ids)

    def reps_by_id(self, *, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Live canonical rep payloads by id."""
        return _result_reads.reps_by_id(self._session, org_id=self._org_id, ids=ids)

    def open_deals_of(self, *, owner_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Live deals owned by a rep that are not closed, by close date (the first `limit`)."""
        return _result_reads.open_deals_of(
            self._session, org_id=self._org_id, owner_id=owner_id, limit=limit
        )

    def count_open_deals(self, *, owner_id: str) -> int:
        """How many live open deals a rep owns."""
        return _result_reads.count_open_deals(self._session, org_id=self._org_id, owner_id=owner_id)

    def canonical_rows(
        self, *, kind: str, changed_in: Collection[int] | None = None
    ) -> list[CanonicalTuple]:
        """(id, payload, deleted, changed run) of one kind's canonical records, in id order;
        only those changed in one of the runs `changed_in` when given (indexed)."""
        return _repositories.canonical_rows(
            self._session, org_id=self._org_id, kind=kind, changed_in=changed_in
        )

    def complete_object(
        self, *, object_name: str, until: datetime, run_id: int, now: datetime
    ) -> None:
        """A pull read the object to the end: its watermark moves to `until` (the run start)."""
        _pages.complete_object(
            self._session,
            org_id=self._org_id,
            object_name=object_name,
            until=until,
            run_id=run_id,
            now=now,
        )

    def deal_relations(
        self, *, deal_ids: Iterable[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The live split and team member payloads of these deals."""
        return _result_reads.deal_relations(self._session, org_id=self._org_id, deal_ids=deal_ids)

    def record_values(
        self, *, object_name: str, record_id: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the values Quotaflow wants on a record, the record as last pulled); each may be None."""
        return _result_reads.record_values(
            self._session, org_id=self._org_id, object_name=object_name, record_id=record_id
        )


class IssueRepository(_Repository):
    """Record issues (map, calc and write-back stages)."""

    def open_issues(self, *, stage: str | None = None) -> list[RecordIssue]:
        """Open record issues of the org, oldest first."""
        return _repositories.open_issues(self._session, org_id=self._org_id, stage=stage)

    def add_issues(
        self,
        *,
        run_id: int,
        stage: str,
        issues: Iterable[tuple[str, str, str | None, str | None, str]],
        now: datetime,
    ) -> int:
        """Record (object, record id, field, error code, reason) issues as open RecordIssues."""
        return _results.add_issues(
            self._session, org_id=self._org_id, run_id=run_id, stage=stage, issues=issues, now=now
        )

    def reconcile_issues(
        self,
        *,
        run_id: int,
        stage: str,
        found: Iterable[tuple[str, str, str]],
        examined: Collection[tuple[str, str]] | None,
        now: datetime,
    ) -> int:
        """Make the open issues of `stage` match what this run found in the records it examined."""
        return _results.reconcile_issues(
            self._session,
            org_id=self._org_id,
            run_id=run_id,
            stage=stage,
            found=found,
            examined=examined,
            now=now,
        )

    def resolve_issues(self, *, stage: str, keys: Iterable[tuple[str, str]], now: datetime) -> None:
        """Close the open issues of these records at this stage (they were written since)."""
        _results.resolve_issues(self._session, org_id=self._org_id, stage=stage, keys=keys, now=now)

    def issue_page(
        self, *, filters: IssueFilter, offset: int, limit: int
    ) -> tuple[list[IssueRecord], int]:
        """One page of matching issues (newest first) and how many match in all."""
        return _run_reads.issue_page(
            self._session, org_id=self._org_id, filters=filters, offset=offset, limit=limit
        )

    def issue_objects(self) -> list[str]:
        """The object names that have issues, for the filter."""
        return _run_reads.issue_objects(self._session, org_id=self._org_id)

    def open_writeback_count(self) -> int:
        """How many write-back failures are open."""
        return _run_reads.open_writeback_count(self._session, org_id=self._org_id)

    def repend_writeback(self, *, issue_ids: Sequence[int] | None) -> int:
        """Mark the desired values of these open write-back failures pending again (None: all)."""
        return _run_reads.repend_writeback(self._session, org_id=self._org_id, issue_ids=issue_ids)


class ResultRepository(_Repository):
    """Calculation runs, results, credits and the write-back values they want."""

    def begin_calc_run(self, **values: Any) -> CalcRun:
        """Record a calculation (status running); committed together with its results."""
        return _results.begin_calc_run(self._session, org_id=self._org_id, **values)

    def last_committed_calc(self) -> CalcRun | None:
        """The newest committed calculation of the org."""
        return _results.last_committed_calc(self._session, org_id=self._org_id)

    def runs_started_after(self, *, run_id: int) -> set[int]:
        """Ids of the org's sync runs started after `run_id` started."""
        return _results.runs_started_after(self._session, org_id=self._org_id, run_id=run_id)

    def replace_results(
        self,
        *,
        run: CalcRun,
        rep_ids: Sequence[str],
        results: Sequence[Mapping[str, Any]],
        credits: Sequence[Mapping[str, Any]],
        locked: frozenset[str],
        kept: frozenset[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Replace the stored results and credits of `rep_ids`."""
        self._own(run)
        _results.replace_results(
            self._session,
            run=run,
            rep_ids=rep_ids,
            results=results,
            credits=credits,
            locked=locked,
            kept=kept,
            now=now,
        )

    def stored_results(self, *, rep_ids: Sequence[str] | None = None) -> list[PeriodResult]:
        """Stored period results of some reps (all when None), by rep and period start."""
        return _results.stored_results(self._session, org_id=self._org_id, rep_ids=rep_ids)

    def credited_reps(self, *, deal_ids: Sequence[str]) -> set[str]:
        """Reps that the stored credits of these deals went to (before this run's changes)."""
        return _results.credited_reps(self._session, org_id=self._org_id, deal_ids=deal_ids)

    def save_writeback(
        self,
        *,
        run: CalcRun,
        values: Mapping[tuple[str, str], Mapping[str, str | None]],
        now: datetime,
        recheck_all: bool = True,
    ) -> list[tuple[str, str]]:
        """Store the desired values of these records and mark them pending (unless, with
        `recheck_all` False, settled as already held by the CRM record still pulled)."""
        self._own(run)
        return _results.save_writeback(
            self._session, run=run, values=values, now=now, recheck_all=recheck_all
        )

    def pending_writeback(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Desired values not yet confirmed written, by (object, record id)."""
        return _results.pending_writeback(self._session, org_id=self._org_id)

    def settle_writeback(
        self,
        *,
        keys: Iterable[tuple[str, str]],
        checked: Mapping[tuple[str, str], str | None] | None = None,
    ) -> None:
        """Mark records no longer pending (written, equal already, or reported as an issue);
        `checked`: the pulled payload hash a record was found already holding its values in."""
        _results.settle_writeback(self._session, org_id=self._org_id, keys=keys, checked=checked)

    def current_crm_records(
        self, *, object_name: str, record_ids: Sequence[str]
    ) -> dict[str, tuple[dict[str, Any], str | None]]:
        """The last pulled payload of these records and its hash; deleted ones left out."""
        return _results.current_crm_records(
            self._session, org_id=self._org_id, object_name=object_name, record_ids=record_ids
        )

    def locked_results(
        self, *, rep_ids: Sequence[str], locked: frozenset[str]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(rep, period, result) of the stored results of locked periods for these reps."""
        return _results.locked_results(
            self._session, org_id=self._org_id, rep_ids=rep_ids, locked=locked
        )

    def commit_calc_run(self, run: CalcRun, *, reps: int, now: datetime) -> None:
        """Mark the calc run committed (its results are then the baseline of the next run)."""
        self._own(run)
        _results.commit_calc_run(self._session, run, reps=reps, now=now)

    def any_changed(self, *, run_ids: set[int]) -> bool:
        """Whether any canonical record changed in one of these runs (indexed lookups)."""
        return _results.any_changed(self._session, org_id=self._org_id, run_ids=run_ids)

    def store_results(
        self,
        *,
        run: CalcRun,
        rep_ids: Collection[str],
        results: Sequence[Mapping[str, Any]],
        kept: frozenset[tuple[str, str]],
        now: datetime,
        same: Collection[tuple[str, str]] = frozenset(),
        use_digests: bool = True,
    ) -> list[tuple[str, str]]:
        """Upsert the period results of `rep_ids` where they differ; the pairs that differed
        (`same`: rows known to be as stored, left unread; `use_digests`: the others compared
        by their stored digest instead of their document)."""
        self._own(run)
        return _results.store_results(
            self._session, run=run, rep_ids=rep_ids, results=results, kept=kept, now=now,
            same=same, use_digests=use_digests,
        )  # fmt: skip

    def store_credits(
        self,
        *,
        run: CalcRun,
        rep_ids: Collection[str],
        deal_ids: Collection[str] | None,
        credits: Sequence[Mapping[str, Any]],
        kept: frozenset[tuple[str, str]],
    ) -> list[CreditKey]:
        """Upsert the credits of `rep_ids` from `deal_ids` (None: all) where they differ."""
        self._own(run)
        return _results.store_credits(
            self._session, run=run, rep_ids=rep_ids, deal_ids=deal_ids, credits=credits, kept=kept
        )

    def credited_deals(self, *, rep_ids: Sequence[str]) -> set[str]:
        """Deals whose stored credits went to these reps (rollup credit included)."""
        return _results.credited_deals(self._session, org_id=self._org_id, rep_ids=rep_ids)

    def page_version(self) -> tuple[int | None, str | None]:
        """(the last committed calc run id, the active plan's checksum), in one query."""
        return _result_reads.page_version(self._session, org_id=self._org_id)

    def rep_results(
        self, *, rep_id: str, periods: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """A rep's stored period results (all, or of `periods`), by period start."""
        return _result_reads.rep_results(
            self._session, org_id=self._org_id, rep_id=rep_id, periods=periods
        )

    def rep_figures(self, *, rep_id: str, periods: Collection[str]) -> list[dict[str, Any]]:
        """A rep's period, start, gross and components of these periods, without the lines."""
        return _result_reads.rep_figures(
            self._session, org_id=self._org_id, rep_id=rep_id, periods=periods
        )

    def rep_periods(self, *, rep_id: str) -> list[tuple[str, str, str]]:
        """(period, start, end) of every stored result of a rep, in order (no result bodies)."""
        return _result_reads.rep_periods(self._session, org_id=self._org_id, rep_id=rep_id)

    def rep_credits(
        self, *, rep_id: str, periods: Collection[str], credit_types: Collection[str] | None = None
    ) -> list[CreditRow]:
        """A rep's stored credits in these periods (optionally of some credit types only)."""
        return _result_reads.rep_credits(
            self._session,
            org_id=self._org_id,
            rep_id=rep_id,
            periods=periods,
            credit_types=credit_types,
        )

    def deal_credits(self, *, deal_id: str) -> list[CreditRow]:
        """Every stored credit of one deal (all reps and periods)."""
        return _result_reads.deal_credits(self._session, org_id=self._org_id, deal_id=deal_id)

    def stored_writeback_values(
        self, *, object_name: str, record_ids: Sequence[str], as_of: date
    ) -> dict[str, dict[str, Any]]:
        """The wanted CRM values of these records, as a calculation as of `as_of` produced them."""
        return _result_reads.stored_writeback_values(
            self._session,
            org_id=self._org_id,
            object_name=object_name,
            record_ids=record_ids,
            as_of=as_of,
        )

    def period_rows(self, *, rep_ids: Iterable[str], period: str) -> list[ResultRow]:
        """The results of these reps in one period (reps without one are left out)."""
        return _team_reads.period_rows(
            self._session, org_id=self._org_id, rep_ids=rep_ids, period=period
        )

    def year_rows(self, *, rep_ids: Iterable[str], start: date, through: date) -> list[ResultRow]:
        """The results of these reps whose period starts between `start` and `through`."""
        return _team_reads.year_rows(
            self._session, org_id=self._org_id, rep_ids=rep_ids, start=start, through=through
        )

    def deals_won(self, *, rep_ids: Iterable[str], period: str) -> dict[str, int]:
        """Per rep, how many deals credited to them as owner or split in the period."""
        return _team_reads.deals_won(
            self._session, org_id=self._org_id, rep_ids=rep_ids, period=period
        )

    def stored_periods(self) -> list[StoredPeriod]:
        """Every period the org has stored results for, oldest first."""
        return _team_reads.stored_periods(self._session, org_id=self._org_id)

    def manager_ids(self) -> set[str]:
        """Ids of the live reps someone live reports to."""
        return _team_reads.manager_ids(self._session, org_id=self._org_id)


class PlanRepository(_Repository):
    """Compensation plan versions."""

    def active_plan(self) -> PlanVersion | None:
        """The org's active plan version, if any."""
        return _plans.active_plan(self._session, org_id=self._org_id)

    def plan_versions(self) -> Sequence[PlanVersion]:
        """Every version of the org's plans, newest first."""
        return _plans.plan_versions(self._session, org_id=self._org_id)

    def add_plan_version(
        self, *, document: dict[str, Any], source_text: str, created_by: str | None, now: datetime
    ) -> tuple[PlanVersion, bool]:
        """Store and activate an (already validated) document; (version, created)."""
        return _plans.add_plan_version(
            self._session,
            org_id=self._org_id,
            document=document,
            source_text=source_text,
            created_by=created_by,
            now=now,
        )

    def activate_plan_version(self, *, version: int, now: datetime) -> PlanVersion:
        """Make a stored version the only active one; KeyError if the org has no such version."""
        return _plan_activation.activate_plan_version(
            self._session, org_id=self._org_id, version=version, now=now
        )

    def plan_checksum(self) -> str | None:
        """The checksum of the org's active plan version (cheap: no document), if any."""
        return _result_reads.plan_checksum(self._session, org_id=self._org_id)

    def plan_document(self) -> tuple[str, dict[str, Any]] | None:
        """(checksum, document) of the org's active plan version, if any."""
        return _result_reads.plan_document(self._session, org_id=self._org_id)

    def active_plan_document(self) -> dict[str, Any] | None:
        """The org's active plan document, if any."""
        return _team_reads.active_plan_document(self._session, org_id=self._org_id)


class RoleRepository(_Repository):
    """Role grants and who holds which role."""

    def grants(self) -> list[Grant]:
        """The org's grants: the stored ones, or the defaults while none are stored."""
        return _roles.grants(self._session, org_id=self._org_id)

    def materialize_defaults(self, *, now: datetime) -> None:
        """Store the built-in defaults while none are stored, so each can be removed by id."""
        _roles.materialize_defaults(self._session, org_id=self._org_id, now=now)

    def add_grant(
        self,
        *,
        role: str,
        principal_kind: str,
        principal: str,
        label: str = "",
        created_by: str | None,
        now: datetime,
    ) -> Grant:
        """Grant `role` to the holder of an id (idempotent); GrantError names a bad field."""
        return _roles.add_grant(
            self._session,
            org_id=self._org_id,
            role=role,
            principal_kind=principal_kind,
            principal=principal,
            label=label,
            created_by=created_by,
            now=now,
        )

    def remove_grant(self, *, grant_id: int, now: datetime) -> None:
        """Remove a stored grant; the last admin grant cannot go (nobody could edit them again)."""
        _roles.remove_grant(self._session, org_id=self._org_id, grant_id=grant_id, now=now)

    def bind_names(self, *, ids: Mapping[tuple[str, str], str], now: datetime) -> int:
        """Turn name grants into id grants where `ids` names the holder: (kind, exact name) to"""
        return _roles.bind_names(self._session, org_id=self._org_id, ids=ids, now=now)

    def resolve_roles(self, *, holder: Holder) -> tuple[str, set[str]]:
        """The user's id as stored and roles: granted (admin, ops) and from data (rep, manager)."""
        return _roles.resolve_roles(self._session, org_id=self._org_id, holder=holder)


class PeopleRepository(_Repository):
    """Reps and their managers, from the canonical rep records."""

    def people(self, *, ids: Iterable[str]) -> dict[str, Person]:
        """The live reps among `ids`, by id."""
        return _people.people(self._session, org_id=self._org_id, ids=ids)

    def person(self, *, rep_id: str) -> Person | None:
        """One live rep, or None."""
        return _people.person(self._session, org_id=self._org_id, rep_id=rep_id)

    def direct_reports(self, *, manager_ids: Iterable[str]) -> list[Person]:
        """The live reps whose manager is one of `manager_ids`."""
        return _people.direct_reports(self._session, org_id=self._org_id, manager_ids=manager_ids)

    def team_below(self, *, manager_id: str) -> dict[str, Person]:
        """Everyone below `manager_id` in the hierarchy, at any depth (not the manager)."""
        return _people.team_below(self._session, org_id=self._org_id, manager_id=manager_id)

    def manages_anyone(self, *, rep_id: str) -> bool:
        """Whether anyone live reports to `rep_id`."""
        return _people.manages_anyone(self._session, org_id=self._org_id, rep_id=rep_id)

    def all_people(self) -> list[Person]:
        """Every live rep of the org, by name."""
        return _people.all_people(self._session, org_id=self._org_id)


class PeriodRepository(_Repository):
    """Period locks."""

    def lock_period(
        self, *, period: str, start: date, end: date, locked_by: str | None, now: datetime
    ) -> PeriodLock:
        """Lock a period (idempotent: locking a locked period keeps the first lock)."""
        return _periods.lock_period(
            self._session,
            org_id=self._org_id,
            period=period,
            start=start,
            end=end,
            locked_by=locked_by,
            now=now,
        )

    def locked_periods(self) -> Sequence[PeriodLock]:
        """Every locked period of the org, oldest first."""
        return _periods.locked_periods(self._session, org_id=self._org_id)

    def unlock_period(self, *, period: str) -> bool:
        """Unlock a period (its results are recomputed from the next run on); False if unlocked."""
        return _periods.unlock_period(self._session, org_id=self._org_id, period=period)


class WritebackFieldRepository(_Repository):
    """The write-back allow-list and its audit trail."""

    def allowed_fields(self) -> frozenset[FieldKey]:
        """The org's allow-list: force-app's write-back fields and the ones an admin added."""
        return _writeback_fields.allowed_fields(self._session, org_id=self._org_id)

    def listed_fields(self) -> list[ListedField]:
        """The allow-list for display: shipped fields first, then the added ones."""
        return _writeback_fields.listed_fields(self._session, org_id=self._org_id)

    def field_events(self, *, limit: int = 20) -> list[WritebackFieldEvent]:
        """The latest allow-list changes, newest first."""
        return _writeback_fields.field_events(self._session, org_id=self._org_id, limit=limit)

    def add_field(
        self, *, key: FieldKey, read: Collection[FieldKey], by: str, now: datetime
    ) -> bool:
        """Add (object, field) to the allow-list (False if already there); AllowListError when"""
        return _writeback_fields.add_field(
            self._session, org_id=self._org_id, key=key, read=read, by=by, now=now
        )

    def remove_field(self, *, key: FieldKey, by: str, now: datetime) -> None:
        """Remove an added field; AllowListError for a shipped or unlisted one."""
        _writeback_fields.remove_field(self._session, org_id=self._org_id, key=key, by=by, now=now)

    def reconcile_refusals(
        self, *, run_id: int, refused: Collection[FieldKey], now: datetime
    ) -> int:
        """One open write-back issue per field the sync refused to write (not on the allow-list):"""
        return _writeback_fields.reconcile_refusals(
            self._session, org_id=self._org_id, run_id=run_id, refused=refused, now=now
        )


class BulkJobRepository(_Repository):
    """The write-back's Bulk API 2.0 ingest jobs not yet settled (connector/store/bulk_jobs.py)."""

    def record_job(
        self, *, job_id: str, object_name: str, run_id: int | None, now: datetime
    ) -> None:
        """Remember a job just created."""
        _bulk_jobs.record_job(
            self._session,
            org_id=self._org_id,
            job_id=job_id,
            object_name=object_name,
            run_id=run_id,
            now=now,
        )

    def settle_job(self, *, job_id: str, now: datetime) -> None:
        """The job's results were applied."""
        _bulk_jobs.settle_job(self._session, org_id=self._org_id, job_id=job_id, now=now)

    def unsettled_jobs(self) -> list[tuple[str, str]]:
        """(job id, object) of the jobs not settled, oldest first."""
        return _bulk_jobs.unsettled_jobs(self._session, org_id=self._org_id)


class WritebackBatchRepository(_Repository):
    """The journal of REST write-back calls (connector/store/writeback_batches.py)."""

    def record_batch(
        self,
        *,
        run_id: int | None,
        object_name: str,
        records: Mapping[str, Mapping[str, Any]],
        now: datetime,
    ) -> int:
        """Journal a batch about to be sent; its id (commit before sending)."""
        return _writeback_batches.record_batch(
            self._session,
            org_id=self._org_id,
            run_id=run_id,
            object_name=object_name,
            records=records,
            now=now,
        )

    def settle_batches(
        self, *, ids: Sequence[int], counted_run_id: int | None, made: bool, now: datetime
    ) -> None:
        """The batches' outcomes were applied (`made`: count their calls for the run)."""
        _writeback_batches.settle_batches(
            self._session,
            org_id=self._org_id,
            ids=ids,
            counted_run_id=counted_run_id,
            made=made,
            now=now,
        )

    def keep_written(self, *, batch_id: int, written: Sequence[str]) -> None:
        """Keep in the batch's values only the records Salesforce accepted."""
        _writeback_batches.keep_written(
            self._session, org_id=self._org_id, batch_id=batch_id, written=written
        )

    def written_by_run(self, *, run_id: int) -> list[tuple[str, dict[str, Any]]]:
        """(object, {record id: values}) the run's settled calls wrote, oldest first."""
        return _writeback_batches.written_by_run(self._session, org_id=self._org_id, run_id=run_id)

    def unsettled_batches(self) -> list[tuple[int, str, dict[str, dict[str, Any]]]]:
        """(id, object, {record id: values sent}) of the batches not settled, oldest first."""
        return _writeback_batches.unsettled_batches(self._session, org_id=self._org_id)

    def prune_settled(self, *, before: datetime) -> None:
        """Forget batches settled before `before`."""
        _writeback_batches.prune_settled(self._session, org_id=self._org_id, before=before)

    def calls_made(self, *, run_id: int) -> int:
        """Write calls made and counted for `run_id` (earlier attempts included)."""
        return _writeback_batches.calls_made(self._session, org_id=self._org_id, run_id=run_id)


class MappingRepository(_Repository):
    """Mapping versions."""

    def list_versions(self) -> list[MappingVersion]:
        """Every version of the org's mapping, oldest first."""
        return _mapping_versions.list_versions(self._session, self._org_id)

    def get_version(self, version: int) -> MappingVersion | None:
        """One version by its number."""
        return _mapping_versions.get_version(self._session, self._org_id, version)

    def active_version(self) -> MappingVersion | None:
        """The version in use, if any."""
        return _mapping_versions.active_version(self._session, self._org_id)

    def add_version(
        self, doc: MappingDocument, *, created_by: str, now: datetime
    ) -> MappingVersion:
        """Store `doc` as the next version number (not active yet)."""
        return _mapping_versions.add_version(
            self._session, self._org_id, doc, created_by=created_by, now=now
        )

    def activate_version(self, version: int, *, activated_by: str, now: datetime) -> MappingVersion:
        """Make `version` the only active one, recording who and when; KeyError if unknown."""
        return _mapping_versions.activate_version(
            self._session, self._org_id, version, activated_by=activated_by, now=now
        )

    def import_version(
        self, doc: MappingDocument, *, by: str, now: datetime
    ) -> tuple[MappingVersion, bool]:
        """Store and activate `doc`; if it equals the active version, keep that one (False)."""
        return _mapping_versions.import_version(self._session, self._org_id, doc, by=by, now=now)

    def ensure_active(self, *, now: datetime) -> MappingVersion:
        """The active version, seeding the shipped default mapping as version 1 for a new org."""
        return _mapping_versions.ensure_active(self._session, self._org_id, now=now)

    def load_active_mapping(self, *, now: datetime) -> tuple[int, MappingDocument]:
        """The org's active mapping version id and document (the default seeds version 1)."""
        return _repositories.load_active_mapping(self._session, org_id=self._org_id, now=now)


class HostRepository(_Repository):
    """The org's own HTTPS hosts."""

    def remember_host(self, *, url: str, now: datetime) -> None:
        """Record the org's instance URL from an integration login, replacing the one learned"""
        _org_hosts.remember_host(self._session, org_id=self._org_id, url=url, now=now)

    def org_hosts(self) -> set[str]:
        """The origins learned for the org (15- and 18-character forms of its id alike)."""
        return _org_hosts.org_hosts(self._session, org_id=self._org_id)


class AdjustmentRepository(_Repository):
    """Entered adjustments (a file, a dispute, an admin), with who entered each and when."""

    def add(
        self,
        *,
        rep_id: str,
        period: str,
        amount: Decimal,
        reason: str,
        entered_by: str,
        now: datetime,
        component: str = ADJUSTMENT,
        reference: str | None = None,
        source: str = "admin",
    ) -> StoredAdjustment:
        """Store one adjustment (not committed); AdjustmentError if it is refused."""
        return _adjustments.add_adjustment(
            self._session,
            self._org_id,
            rep_id=rep_id,
            period=period,
            amount=amount,
            reason=reason,
            entered_by=entered_by,
            now=now,
            component=component,
            reference=reference,
            source=source,
        )

    def add_all(
        self, adjustments: Sequence[Adjustment], *, entered_by: str, now: datetime, source: str
    ) -> list[StoredAdjustment]:
        """Store several, all or none: AdjustmentError (naming the row) before any."""
        return _adjustments.add_adjustments(
            self._session, self._org_id, adjustments, entered_by=entered_by, now=now, source=source
        )

    def listed(
        self, *, rep_ids: Iterable[str] | None = None, period: str | None = None
    ) -> list[StoredAdjustment]:
        """The org's adjustments (optionally of some reps or one period), in entry order."""
        return _adjustments.list_adjustments(
            self._session, self._org_id, rep_ids=rep_ids, period=period
        )

    def for_calc(self) -> list[Adjustment]:
        """Every adjustment as calc pays it."""
        return _adjustments.calc_adjustments(self._session, self._org_id)

    def last_entered_at(self) -> datetime | None:
        """When the newest adjustment was entered."""
        return _adjustments.last_entered_at(self._session, self._org_id)


class RateRepository(_Repository):
    """The org's exchange rates as last read from Salesforce."""

    def save(self, *, source: str, rows: Sequence[DatedRate], now: datetime) -> bool:
        """Keep what was read (not committed); True when the rates changed."""
        return _currency_rates.save_rates(
            self._session, self._org_id, source=source, rows=rows, now=now
        )

    def sync_state(self) -> CurrencyRateSync | None:
        """When the rates were last read and changed (None: never read)."""
        return _currency_rates.rate_sync(self._session, self._org_id)

    def for_calc(self) -> Rates | None:
        """The rates for calc (None when the org has none)."""
        return _currency_rates.stored_rates(self._session, self._org_id)


class AssignmentRepository(_Repository):
    """Reps' plan, manager and quota history, and the corrections of its effective dates."""

    def history(self) -> dict[str, list[RepAssignment]]:
        """Every rep's rows, oldest first (the open start first)."""
        return _assignments.history(self._session, org_id=self._org_id)

    def record(
        self,
        *,
        rows: Iterable[NewAssignment],
        replace: Sequence[tuple[RepAssignment, NewAssignment]] = (),
        seen_on: date,
        run_id: int | None,
        now: datetime,
    ) -> None:
        """Store new rows, and overwrite the values of rows seen again the same day."""
        for old, _new in replace:
            if old.org_id != self._org_id:
                raise OrgMismatch(f"assignment {old.id} belongs to another org")
        _assignments.record(
            self._session,
            org_id=self._org_id,
            rows=rows,
            replace=replace,
            seen_on=seen_on,
            run_id=run_id,
            now=now,
        )

    def changes(self, *, limit: int = 200) -> list[RepAssignment]:
        """Rows that start on a date (a change seen by a sync), newest first."""
        return _assignments.changes(self._session, org_id=self._org_id, limit=limit)

    def correction_events(self, *, limit: int = 20) -> list[RepAssignmentEvent]:
        """The latest effective-date corrections, newest first."""
        return _assignments.correction_events(self._session, org_id=self._org_id, limit=limit)

    def last_correction(self) -> datetime | None:
        """When an effective date was last corrected (a full recompute follows it)."""
        return _assignments.last_correction(self._session, org_id=self._org_id)

    def correct_effective_from(
        self, *, assignment_id: int, new_from: date, by: str, now: datetime
    ) -> RepAssignment:
        """Move one change's start (audited); KeyError if the org has no such row,
        BadEffectiveDate if the date would put the rep's history out of order."""
        return _assignments.correct_effective_from(
            self._session,
            org_id=self._org_id,
            assignment_id=assignment_id,
            new_from=new_from,
            by=by,
            now=now,
        )


class OrgUnit:
    """`with OrgUnit(sessions, org_id) as unit: ...; unit.commit()`: one org, one transaction."""

    def __init__(self, sessions: SessionFactory, org_id: str) -> None:
        if not org_id:
            raise ValueError("an org-scoped unit needs an org id")
        self._sessions = sessions
        self._org_id = org_id
        self._session: Session | None = None

    @property
    def org_id(self) -> str:
        """The org every repository of this unit is bound to."""
        return self._org_id

    def __enter__(self) -> OrgUnit:
        if self._session is not None:
            raise RuntimeError("an OrgUnit is not re-entrant")
        session = self._sessions()
        self._session = session
        org = self._org_id
        self.runs = RunRepository(session, org)
        self.records = RecordRepository(session, org)
        self.issues = IssueRepository(session, org)
        self.results = ResultRepository(session, org)
        self.plans = PlanRepository(session, org)
        self.roles = RoleRepository(session, org)
        self.people = PeopleRepository(session, org)
        self.periods = PeriodRepository(session, org)
        self.writeback_fields = WritebackFieldRepository(session, org)
        self.bulk_jobs = BulkJobRepository(session, org)
        self.writeback_batches = WritebackBatchRepository(session, org)
        self.mappings = MappingRepository(session, org)
        self.hosts = HostRepository(session, org)
        self.assignments = AssignmentRepository(session, org)
        self.adjustments = AdjustmentRepository(session, org)
        self.rates = RateRepository(session, org)
        self.disputes = DisputeRepository(session, org)
        self.tasks = TaskRepository(session, org)
        self.close = CloseRepository(session, org)
        self.rep_pages = RepPageRepository(session, org)
        self.access = AccessRepository(session, org)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it leaves the
        # objects already loaded readable after the block.
        session = self._open()
        self._session = None
        session.close()

    def _open(self) -> Session:
        if self._session is None:
            raise RuntimeError("OrgUnit used outside its `with` block")
        return self._session

    def commit(self) -> None:
        """Make everything done in this unit permanent."""
        self._open().commit()

    def rollback(self) -> None:
        """Undo everything since the last commit."""
        self._open().rollback()


class OrgLease:
    """The org's run lease (at most one sync per org across processes); each call commits."""

    def __init__(self, sessions: SessionFactory, org_id: str) -> None:
        self._sessions = sessions
        self._org_id = org_id

    def try_acquire(self, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take the lease if it is free, expired or already ours; True when we hold it."""
        with self._sessions() as session:
            return _lease.try_acquire(session, org_id=self._org_id, holder=holder, now=now, ttl=ttl)

    def renew(self, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Extend our lease; False means we lost it."""
        with self._sessions() as session:
            return _lease.renew(session, org_id=self._org_id, holder=holder, now=now, ttl=ttl)

    def release(self, *, holder: str) -> None:
        """Give the lease up (only if we still hold it)."""
        with self._sessions() as session:
            _lease.release(session, org_id=self._org_id, holder=holder)


class OrgDirectory:
    """Which orgs the store holds data for: the only reads that span orgs (sign-in, demo)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def with_mapping(self) -> list[str]:
        """Orgs with a stored mapping version."""
        with self._sessions() as session:
            return _mapping_versions.known_org_ids(session)

    def with_plan(self) -> list[str]:
        """Orgs with a stored plan version."""
        with self._sessions() as session:
            return _plans.plan_org_ids(session)
