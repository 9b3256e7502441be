"""The incremental (and full) pull: the imperative shell around `changes.plan_page`.

Per object: `queryAll` for `SystemModstamp >= watermark - lookback AND < run start`, ordered
by `SystemModstamp, Id`, following `nextRecordsUrl`. Each page is stored with its watermark
in the same transaction (several pages a transaction, connector/pull/sink.py), so a crashed
run resumes from the last committed page; the next page is fetched while one is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.deps import ActiveMapping, SyncDeps
from connector.errors import FatalError
from connector.pull.bulk_fetch import BulkFallback, read_bulk, wants_bulk
from connector.pull.changes import parse_modstamp
from connector.pull.describes import load_describes, mapping_context
from connector.pull.reconcile import reconcile_object
from connector.pull.result import ObjectCounts, PullResult
from connector.pull.sink import PageSink
from connector.pull.specs import ObjectSpec, select_fields, spec_for
from connector.salesforce.bulk_csv import column_types
from connector.salesforce.errors import QueryLocatorExpired
from connector.salesforce.soql import incremental_query
from connector.store.repositories import RunUsage, WatermarkState
from mappings.records import MappingContext

log = logging.getLogger(__name__)
MAX_LOCATOR_RESTARTS = 3
MODES = ("incremental", "full")


@dataclass
class _Run:
    deps: SyncDeps
    org_id: str
    run_id: int
    mode: str
    until: datetime
    active: ActiveMapping
    ctx: MappingContext
    calls_before: int
    changed: dict[str, set[str]] = field(default_factory=dict)

    def usage(self) -> RunUsage:
        gateway = self.deps.gateway
        used = gateway.usage
        return RunUsage(
            calls=gateway.calls - self.calls_before,
            used=used.used if used else None,
            limit=used.limit if used else None,
        )


def run_pull(
    deps: SyncDeps, *, org_id: str, mode: str = "incremental", run_id: int, now: datetime
) -> PullResult:
    """Pull every mapped object for `org_id` into the store; raises FatalError/RetriableError."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    started = time.monotonic()
    calls_before = deps.gateway.calls
    actual = deps.gateway.org_id()
    if actual != org_id:
        raise FatalError(f"the Salesforce credentials log in to org {actual}, not {org_id}")
    active = deps.mapping_source(org_id)
    # An invalid mapping fails the run here, before any data is pulled.
    describes = load_describes(deps.gateway, active.document)
    run = _Run(
        deps=deps,
        org_id=org_id,
        run_id=run_id,
        mode=mode,
        # SOQL datetimes have whole seconds; the watermark never passes the run's start.
        until=now.astimezone(UTC).replace(microsecond=0),
        active=active,
        ctx=mapping_context(deps.gateway, active.document),
        calls_before=calls_before,
    )
    objects, fields = _pull_all(run, describes)
    usage = run.usage()
    return PullResult(
        org_id=org_id,
        run_id=run_id,
        mode=mode,
        objects=objects,
        changed={kind: frozenset(ids) for kind, ids in run.changed.items()},
        api_calls=usage.calls,
        api_used=usage.used,
        api_limit=usage.limit,
        seconds=time.monotonic() - started,
        mapping_version_id=active.version_id,
        field_lists=fields,
    )


def _pull_all(
    run: _Run, describes: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, ObjectCounts], dict[str, tuple[str, ...]]]:
    """Pull each mapped object in turn (reps first); a full run then reconciles it."""
    with run.deps.unit(run.org_id) as unit:
        marks = unit.records.load_watermarks()
    objects: dict[str, ObjectCounts] = {}
    fields: dict[str, tuple[str, ...]] = {}
    for kind, mapping in run.active.document.targets().items():
        describe = describes[mapping.object]
        spec = spec_for(mapping.object, kind, describe)
        wanted = run.active.compiled.fields_to_pull(spec.name)
        fields[spec.name] = select_fields(wanted, describe, spec=spec)
        types = column_types(spec.name, fields[spec.name], describes)
        counts = _pull_object(run, spec, fields[spec.name], marks.get(spec.name), types)
        if run.mode == "full":
            vanished = reconcile_object(
                run.deps, org_id=run.org_id, spec=spec, run_id=run.run_id, until=run.until
            )
            counts = counts.plus(vanished=len(vanished), changed=len(vanished))
            run.changed.setdefault(kind, set()).update(vanished)
        objects[spec.name] = counts
    return objects, fields


def _pull_object(
    run: _Run,
    spec: ObjectSpec,
    fields: tuple[str, ...],
    mark: WatermarkState | None,
    types: Mapping[str, str],
) -> ObjectCounts:
    with run.deps.unit(run.org_id) as unit, ThreadPoolExecutor(1, "pull-fetch") as fetcher:
        sink = PageSink(
            unit,
            spec,
            run_id=run.run_id,
            mode=run.mode,
            active=run.active,
            ctx=run.ctx,
            usage=run.usage,
            clock=run.deps.clock,
            fields=fields,
        )
        try:
            counts = _read_object(run, spec, fields, mark, types, sink, fetcher)
        except Exception:
            sink.salvage()
            raise
        sink.complete(run.until)
    run.changed.setdefault(spec.kind, set()).update(sink.changed)
    return counts


def _read_object(
    run: _Run,
    spec: ObjectSpec,
    fields: tuple[str, ...],
    mark: WatermarkState | None,
    types: Mapping[str, str],
    sink: PageSink,
    fetcher: ThreadPoolExecutor,
) -> ObjectCounts:
    gateway = run.deps.gateway
    lookback = run.deps.options.lookback
    since = None if run.mode == "full" or mark is None else mark.modstamp - lookback
    counts = ObjectCounts()
    soql = incremental_query(spec.name, fields, since=since, until=run.until)
    page = gateway.query(soql, include_deleted=True)
    if wants_bulk(gateway, page):
        # Many rows to read: store this page, then read the rest through a Bulk API 2.0 query
        # job from its last stamp (connector/pull/bulk_fetch.py).
        counts = sink.store(page, counts)
        sink.flush()  # a job can take minutes: the page is not held uncommitted meanwhile
        after = parse_modstamp(page.records[-1][spec.replication_key])
        try:
            return read_bulk(
                gateway,
                spec,
                fields,
                types,
                since=after,
                until=run.until,
                counts=counts,
                store=sink.store,
            )
        except BulkFallback as exc:
            log.warning("%s: Bulk API query abandoned, reading on through REST: %s", spec.name, exc)
            counts = exc.counts
            since = exc.resume
            soql = incremental_query(spec.name, fields, since=since, until=run.until)
            page = gateway.query(soql, include_deleted=True)
    while True:
        # The next page is fetched while this one is stored; pages are still stored one
        # after the other, in order, each with its watermark.
        ahead = fetcher.submit(gateway.query_more, page.next_url) if page.next_url else None
        counts = sink.store(page, counts)
        if ahead is None:
            return counts
        try:
            page = ahead.result()
        except QueryLocatorExpired:
            # Query locators expire (idle 15 minutes, or too many open). Everything up to the
            # last page is committed, so re-run the query from the committed watermark.
            if counts.restarts >= MAX_LOCATOR_RESTARTS:
                raise
            counts = counts.plus(restarts=1)
            resume = sink.committed_watermark()
            since = resume.modstamp if resume else since
            soql = incremental_query(spec.name, fields, since=since, until=run.until)
            page = gateway.query(soql, include_deleted=True)
