"""Change-to-CRM latency: watch a write-back field until it shows the change.

A watch is one record field and what "reflected" means: `set` (a new record gets a
value), `equals` (a known value, e.g. 0 on a lost deal) or `differs` (no longer the value
it had right after the change; used only where the change must move it, and the records
are kept busy so nothing else can). The old value is read right after the change's
response: no sync run can have reflected a change that quickly (it reads only changes
older than its own start, and writes after it has calculated).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from soak_org import OrgFile

Value = Decimal | str | None


def _norm(value: Any) -> Value:
    if value is None or isinstance(value, str):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass(eq=False)  # identity: watches are tracked one by one
class Watch:
    """One field of one record that must show a change."""

    obj: str
    record_id: str
    field: str
    mode: str  # set | equals | differs
    want: Value = None
    old: Value = None
    started: float = 0.0
    seen: float | None = None
    kind: str = ""

    @classmethod
    def set_(cls, obj: str, record_id: str, field: str) -> Watch:
        """A new record's field gets any value."""
        return cls(obj, record_id, field, "set")

    @classmethod
    def equals(cls, obj: str, record_id: str, field: str, want: Any) -> Watch:
        """The field shows this value."""
        return cls(obj, record_id, field, "equals", _norm(want))

    @classmethod
    def differs(cls, obj: str, record_id: str, field: str) -> Watch:
        """The field moves off the value it had right after the change."""
        return cls(obj, record_id, field, "differs")

    def arm(self, old: Any, *, at: float, kind: str) -> bool:
        """Record the old value; False if this watch cannot show anything."""
        self.old, self.started, self.kind = _norm(old), at, kind
        if self.mode == "differs" and self.old is None:
            self.mode = "set"
        return not (self.mode == "equals" and self.old == self.want)

    def satisfied(self, value: Any) -> bool:
        """Whether this current value shows the change."""
        now = _norm(value)
        if self.mode == "set":
            return now is not None
        if self.mode == "equals":
            return now == self.want
        return now != self.old


class Watcher:
    """Open watches, polled together from the devorg's file."""

    def __init__(self, org_file: OrgFile) -> None:
        self.file = org_file
        self.open: list[Watch] = []
        self.done: list[Watch] = []

    def current(self, watches: list[Watch]) -> dict[tuple[str, str, str], Any]:
        """The current value of each watched field."""
        out: dict[tuple[str, str, str], Any] = {}
        by_obj: dict[str, set[str]] = {}
        fields: dict[str, set[str]] = {}
        for w in watches:
            by_obj.setdefault(w.obj, set()).add(w.record_id)
            fields.setdefault(w.obj, set()).add(w.field)
        for obj, ids in by_obj.items():
            names = sorted(fields[obj])
            for rid, row in self.file.values(obj, ids, names).items():
                for name in names:
                    out[(obj, rid, name)] = row[name]
        return out

    def add(self, watches: list[Watch], *, at: float, kind: str) -> list[Watch]:
        """Arm watches with the values the fields have now; the ones that can show a change."""
        values = self.current(watches)
        armed = [
            w for w in watches if w.arm(values.get((w.obj, w.record_id, w.field)), at=at, kind=kind)
        ]
        self.open += armed
        return armed

    def poll(self, now: float) -> list[Watch]:
        """Resolve the watches whose field shows the change; the newly resolved ones."""
        if not self.open:
            return []
        values = self.current(self.open)
        resolved = [w for w in self.open if w.satisfied(values.get((w.obj, w.record_id, w.field)))]
        for w in resolved:
            w.seen = now
        self.open = [w for w in self.open if w.seen is None]
        self.done += resolved
        return resolved


def latency_figures(watches: list[Watch]) -> dict[str, Any]:
    """Count, max, p95 and median of the resolved watches' latencies (seconds)."""
    values = sorted(w.seen - w.started for w in watches if w.seen is not None)
    if not values:
        return {"count": 0, "max_s": None, "p95_s": None, "median_s": None}
    p95 = values[max(0, math.ceil(0.95 * len(values)) - 1)]  # nearest rank
    return {
        "count": len(values),
        "max_s": round(values[-1], 2),
        "p95_s": round(p95, 2),
        "median_s": round(statistics.median(values), 2),
    }
