"""Where the puller stores pages: several pages a transaction, each page's watermark in the
same transaction as its rows.

A page is planned against what is stored (read in the open transaction, so it sees the
pages not yet committed) and written at once; the transaction commits when it holds
`COMMIT_ROWS` rows, before the query is re-run from the committed watermark, and when the
object is read to the end. The watermark advances only with the rows it covers: a run killed
mid-transaction loses those pages and their watermark together and re-reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.deps import ActiveMapping
from connector.pull.changes import echo_fields_of, input_hasher, plan_page
from connector.pull.result import ObjectCounts
from connector.pull.specs import ObjectSpec
from connector.salesforce.gateway import QueryPage
from connector.store.repositories import RunUsage, WatermarkState
from connector.store.unit import OrgUnit
from mappings.records import MappingContext

COMMIT_ROWS = 10_000  # rows a transaction holds before it commits
COMMIT_SECONDS = 1.0  # or the age at which it commits


class PageSink:
    """Stores one object's pages in an open unit; `flush()` commits what it holds."""

    def __init__(
        self,
        unit: OrgUnit,
        spec: ObjectSpec,
        *,
        run_id: int,
        mode: str,
        active: ActiveMapping,
        ctx: MappingContext,
        usage: Callable[[], RunUsage],
        clock: Callable[[], datetime],
        fields: Sequence[str] = (),
    ) -> None:
        self._unit = unit
        self._spec = spec
        self._run_id = run_id
        self._mode = mode
        self._active = active
        self._ctx = ctx
        self._usage = usage
        self._clock = clock
        self._mapper = active.compiled.mapper_for(spec.name)
        self._input_hash = input_hasher(self._mapper.input_pairs)
        writeback = [
            w.field
            for w in active.compiled.writeback_targets
            if w.object_name.casefold() == spec.name.casefold()
        ]
        # What the echo of our own write-back may change (connector/pull/changes.py).
        self._echo_fields = echo_fields_of(
            fields, writeback=writeback, inputs=self._mapper.input_paths
        )
        self._pending = 0
        self._opened = time.monotonic()
        self._half_written = False  # a store() failed mid-page: what is held is not whole
        self.changed: set[str] = set()

    def store(self, page: QueryPage, counts: ObjectCounts) -> ObjectCounts:
        """Plan and write one page with its watermark; commit when enough rows are held."""
        spec, mapper = self._spec, self._mapper
        records: Sequence[Mapping[str, Any]] = page.records
        ids = [str(r[spec.primary_key]) for r in records]
        self._half_written = True
        stored = self._unit.records.stored_states(object_name=spec.name, ids=ids)
        ctx = self._ctx
        plan = plan_page(
            spec,
            records,
            stored,
            map_record=lambda raw: mapper.map(raw, ctx),
            input_hash=self._input_hash,
            include=mapper.includes,
            mark_seen=self._mode == "full",
            echo_fields=self._echo_fields,
        )
        self._unit.records.commit_page(
            page=plan.write,
            run_id=self._run_id,
            mapping_version_id=self._active.version_id,
            usage=self._usage(),
            now=self._clock(),
        )
        self._half_written = False
        self.changed.update(plan.changed)
        self._pending += len(records)
        if self._pending >= COMMIT_ROWS or time.monotonic() - self._opened >= COMMIT_SECONDS:
            self.flush()
        return counts.plus(
            fetched=plan.fetched,
            pages=1,
            stored=len(plan.write.raw),
            duplicates=plan.duplicates,
            unchanged=plan.unchanged,
            changed=len(plan.changed),
            deleted=plan.deleted,
            issues=len(plan.write.issues),
        )

    def flush(self) -> None:
        """Commit the pages held (rows, issues and watermark together)."""
        self._half_written = True  # a failed commit leaves nothing to salvage
        self._unit.commit()
        self._half_written = False
        self._pending = 0
        self._opened = time.monotonic()

    def salvage(self) -> None:
        """The read failed between pages: commit the whole pages held, so a retry resumes
        after them (nothing when a page's own store failed: the unit rolls it all back)."""
        if not self._half_written:
            self.flush()

    def committed_watermark(self) -> WatermarkState | None:
        """The object's watermark as committed (what a re-run query starts from)."""
        self.flush()
        return self._unit.records.load_watermarks().get(self._spec.name)

    def complete(self, until: datetime) -> None:
        """The object is read to the end: its watermark moves to `until`, all is committed."""
        self._unit.records.complete_object(
            object_name=self._spec.name, until=until, run_id=self._run_id, now=self._clock()
        )
        self.flush()
