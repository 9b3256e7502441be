"""One sObject Collections update (`PATCH composite/sobjects`, up to 200 records) and its
per-record save results.

Write-back is split three ways: calc.writeback decides what to write (the diff); this module
makes one call through `Gateway.composite_update` (re-authentication, 5xx/429 retries and
call accounting apply) and reads Salesforce's answer; connector.salesforce.write_batches cuts
records into calls and retries locked rows. The sync stage is connector.sync.writeback_stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.salesforce.gateway import MAX_COLLECTION, Gateway

__all__ = ["MAX_COLLECTION", "SaveError", "SaveResult", "create_collection", "update_collection"]


@dataclass(frozen=True, slots=True)
class SaveError:
    """One error of a record's save result (`statusCode` in the Collections response)."""

    code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SaveResult:
    """A record's outcome, in request order."""

    record_id: str
    success: bool
    errors: tuple[SaveError, ...] = ()


def _errors(raw: object) -> tuple[SaveError, ...]:
    out: list[SaveError] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping):
            code = item.get("statusCode") or item.get("errorCode") or "UNKNOWN_ERROR"
            fields = item.get("fields") or []
            out.append(
                SaveError(str(code), str(item.get("message") or ""), tuple(map(str, fields)))
            )
    return tuple(out)


def update_collection(
    gateway: Gateway,
    records: Sequence[tuple[str, str, Mapping[str, Any]]],
    *,
    all_or_none: bool = False,
) -> list[SaveResult]:
    """Update (object, id, fields) records in one call; per-record results in order."""
    if not records:
        return []
    if len(records) > MAX_COLLECTION:
        raise ValueError(f"at most {MAX_COLLECTION} records per call, got {len(records)}")
    types = sorted({obj for obj, _rid, _fields in records})
    if len(types) > 1:
        # Salesforce refuses Setup objects (User) mixed with other types in one call.
        raise ValueError(f"one object type per call, got {', '.join(types)}")
    results = gateway.composite_update(
        [{"attributes": {"type": obj}, "id": rid, **dict(fields)} for obj, rid, fields in records],
        all_or_none=all_or_none,
    )
    out: list[SaveResult] = []
    for (_obj, rid, _fields), raw in zip(records, results, strict=False):
        item = raw if isinstance(raw, Mapping) else {}
        out.append(
            SaveResult(
                str(item.get("id") or rid), bool(item.get("success")), _errors(item.get("errors"))
            )
        )
    if len(out) < len(records):
        # A response shorter than the request would silently drop writes: report them.
        missing = SaveError("NO_RESULT", "Salesforce returned no result for this record")
        out += [SaveResult(rid, False, (missing,)) for _o, rid, _f in records[len(out) :]]
    return out


def create_collection(
    gateway: Gateway, object_name: str, records: Sequence[Mapping[str, Any]]
) -> list[SaveResult]:
    """Create records of one object in one call (`allOrNone=false`); per-record results in
    request order, the new id in `record_id` ("" where the record was refused)."""
    if not records:
        return []
    if len(records) > MAX_COLLECTION:
        raise ValueError(f"at most {MAX_COLLECTION} records per call, got {len(records)}")
    results = gateway.composite_create(
        [{"attributes": {"type": object_name}, **dict(fields)} for fields in records]
    )
    out: list[SaveResult] = []
    for raw in results[: len(records)]:
        item = raw if isinstance(raw, Mapping) else {}
        ok = bool(item.get("success")) and isinstance(item.get("id"), str)
        out.append(
            SaveResult(str(item.get("id") or "") if ok else "", ok, _errors(item.get("errors")))
        )
    if len(out) < len(records):
        # Salesforce may or may not have made these: the caller looks them up before retrying.
        missing = SaveError("NO_RESULT", "Salesforce returned no result for this record")
        out += [SaveResult("", False, (missing,)) for _ in records[len(out) :]]
    return out
