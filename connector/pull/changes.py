"""The pure core of the pull: what one page of records changes in the store.

No I/O: given the page, what is already stored about its records, and the compiled mapping,
decide which raw and canonical rows to write, which records failed to map, and how far the
watermark may move.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from connector.pull.codec import encode, key_value
from connector.pull.specs import ObjectSpec
from connector.store.repositories import (
    CanonicalRow,
    IssueRow,
    PageWrite,
    RawRow,
    StoredState,
    WatermarkState,
)
from mappings.records import RecordIssue

KEYS: Mapping[str, tuple[str, ...]] = {
    "rep": ("manager_id",),
    "deal": ("owner_id", "close_date"),
    "split": ("deal_id", "rep_id"),
    "team_member": ("deal_id", "rep_id"),
}


@dataclass(frozen=True, slots=True)
class PagePlan:
    """The page's writes and what it counted."""

    write: PageWrite
    fetched: int
    duplicates: int  # already stored at this SystemModstamp (lookback overlap, resumed run)
    unchanged: int  # newer SystemModstamp but same mapped inputs (e.g. our own write-back)
    changed: tuple[str, ...]  # canonical records created, updated or deleted
    deleted: int


def parse_modstamp(value: object) -> datetime:
    """Salesforce datetimes: `2026-01-31T17:04:05.000+0000` (or `Z`) to an aware datetime."""
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _payload(record: Mapping[str, Any]) -> dict[str, Any]:
    payload = dict(record)  # a copy keeps the key order; only `attributes` goes
    payload.pop("attributes", None)
    return payload


# Fields every save moves, whatever changed: left out of the payload hash, so a record
# touched only outside the mapped fields hashes as before.
STAMP_FIELDS = frozenset({"SystemModstamp", "LastModifiedDate", "LastModifiedById"})


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of a raw payload without its modification stamps (key order ignored)."""
    kept = dict(payload)
    for name in STAMP_FIELDS:
        kept.pop(name, None)
    data = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(data).hexdigest()


# Values orjson writes byte for byte as the stdlib encoder of the input hash
# (`mappings.record_mapper`) does: strings (it escapes the same characters), 64-bit integers,
# booleans, null, and finite floats Python writes without an exponent (Python switches to
# `1e-05` below 1e-4, orjson writes `0.00001`).
_SAME_AS_JSON = frozenset({str, int, bool, type(None)})
_HASH_JSON = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def hash_json(pairs: list[list[object]]) -> bytes:
    """The UTF-8 JSON of a record's `[path, value]` input pairs, byte for byte as the mapping's
    stdlib encoder writes it (stored input hashes stay valid), through orjson when it can."""
    for _path, value in pairs:
        kind = type(value)
        if kind in _SAME_AS_JSON:
            continue
        if kind is float and (value == 0 or 1e-4 <= abs(value) < 1e16):  # type: ignore[arg-type]
            continue
        return _HASH_JSON.encode(pairs).encode()
    try:
        return orjson.dumps(pairs)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a lone surrogate
        return _HASH_JSON.encode(pairs).encode()


def input_hasher(
    input_pairs: Callable[[Mapping[str, Any]], list[list[object]]],
) -> Callable[[Mapping[str, Any]], str]:
    """The mapping's input hash (`RecordMapper.input_hash`) of a raw record, the same digest
    computed through `hash_json`."""

    def input_hash(raw: Mapping[str, Any]) -> str:
        return hashlib.sha256(hash_json(input_pairs(raw))).hexdigest()

    return input_hash


def plan_page(
    spec: ObjectSpec,
    records: Sequence[Mapping[str, Any]],
    stored: Mapping[str, StoredState],
    *,
    map_record: Callable[[Mapping[str, Any]], object],
    input_hash: Callable[[Mapping[str, Any]], str],
    include: Callable[[Mapping[str, Any]], bool] | None = None,
    mark_seen: bool = True,
    echo_fields: frozenset[str] | None = None,
) -> PagePlan:
    """Plan the writes of one page (records ordered by SystemModstamp, Id).

    `mark_seen`: stamp records already stored at this SystemModstamp with the run, which only
    the full reconcile reads (what a full pull did not see has vanished); an incremental
    run leaves its lookback re-reads untouched. `echo_fields`: the pulled fields our own
    write-back changes and the mapping does not read (`echo_fields_of`); a record whose other
    fields equal its stored payload (read with `StoredState.payload`) is an echo without
    hashing its inputs. None: every record is hashed."""
    raw: list[RawRow] = []
    canonical: list[CanonicalRow] = []
    issues: list[IssueRow] = []
    mapped_ok: list[str] = []
    unchanged_ids: list[str] = []
    restamped: list[tuple[str, datetime]] = []
    changed: list[str] = []
    duplicates = unchanged = deleted = 0
    for record in records:
        record_id = str(record[spec.primary_key])
        modstamp = parse_modstamp(record[spec.replication_key])
        # Users have no IsDeleted: they are deactivated, and IsActive is mapped like any field.
        is_deleted = bool(record.get("IsDeleted")) if spec.has_is_deleted else False
        before = stored.get(record_id)
        # Equal SystemModstamps are common, so the query uses >= with a lookback and we drop
        # what is already stored at this (Id, SystemModstamp): nothing arrives twice. Any
        # other stamp is processed: a query returns the record's current state, even when a
        # late commit gave it a stamp older than the one we hold.
        if before is not None and modstamp == before.modstamp:
            duplicates += 1
            if mark_seen:
                unchanged_ids.append(record_id)
            continue
        payload = _payload(record)
        if echo_fields is not None and before is not None:
            echo = _echo(payload, before, is_deleted, echo_fields)
            if echo is not None:
                unchanged += 1
                if echo:  # a write-back value moved: the write-back diff reads the payload
                    # No payload hash: the next echo is compared with this payload itself.
                    digest = before.input_hash
                    raw.append(RawRow(record_id, modstamp, payload, is_deleted, digest, True))
                else:
                    restamped.append((record_id, modstamp))
                continue
        digest = input_hash(record)
        whole = payload_hash(payload)
        if before is not None and before.input_hash == digest and before.is_deleted == is_deleted:
            unchanged += 1  # the echo of our own write-back: SystemModstamp moved, inputs did not
            if before.payload_hash == whole:
                restamped.append((record_id, modstamp))  # nothing pulled changed: stamp only
            else:
                # A write-back field changed (our own write): the write-back diff reads it.
                raw.append(RawRow(record_id, modstamp, payload, is_deleted, digest, True, whole))
            continue
        raw.append(
            RawRow(record_id, modstamp, payload, is_deleted, digest, before is not None, whole)
        )
        if is_deleted:
            deleted += 1
            changed.append(record_id)
            canonical.append(CanonicalRow(record_id, None, True, digest))
            continue
        if include is not None and not include(record):
            # Outside the mapping's `include` rule (a User that is not a Standard user, by
            # default): never a rep, and no longer one if it was.
            changed.append(record_id)
            canonical.append(CanonicalRow(record_id, None, True, digest))
            continue
        result = map_record(record)
        if isinstance(result, RecordIssue):
            issues.append(IssueRow(record_id, result.field, result.code, result.reason))
            continue
        mapped_ok.append(record_id)
        changed.append(record_id)
        keys = {name: key_value(result, name) for name in KEYS.get(spec.kind, ())}  # type: ignore[arg-type]
        canonical.append(CanonicalRow(record_id, encode(result), False, digest, keys))  # type: ignore[arg-type]
    mark = _watermark(records, spec)
    write = PageWrite(
        object_name=spec.name,
        kind=spec.kind,
        raw=raw,
        canonical=canonical,
        issues=issues,
        mapped_ok=mapped_ok,
        unchanged_ids=unchanged_ids,
        watermark=mark,
        restamped=restamped,
    )
    return PagePlan(write, len(records), duplicates, unchanged, tuple(changed), deleted)


def echo_fields_of(
    fields: Sequence[str], *, writeback: Collection[str], inputs: Collection[str]
) -> frozenset[str]:
    """Of the pulled `fields`, those an echo of our write-back may change: the write-back
    targets (`writeback`) and the modification stamps, less any field the mapping reads
    (`inputs`, paths such as `Owner.Name` counting as their first name). Names match as
    Salesforce matches them, case-insensitively; the result keeps the pulled spelling."""
    read = {path.split(".", 1)[0].casefold() for path in inputs}
    moved = {name.casefold() for name in writeback} | {n.casefold() for n in STAMP_FIELDS}
    return frozenset(f for f in fields if f.casefold() in moved and f.casefold() not in read)


def _echo(
    payload: Mapping[str, Any], before: StoredState, is_deleted: bool, echo_fields: frozenset[str]
) -> bool | None:
    """None unless every pulled field outside `echo_fields` holds exactly what is stored: the
    payload with the stored values of its echo fields is, as JSON, the stored text (same
    fields in the same order, same values of the same JSON type: 1 and 1.0, or true and 1,
    differ as they do in the input hash, which then still holds). Otherwise whether a
    write-back value moved (True: the payload is written) or only the stamps did (False)."""
    if before.input_hash is None or before.is_deleted != is_deleted or before.payload is None:
        return None
    text = before.payload
    stored = orjson.loads(text)
    probe = dict(payload)
    written = []
    for name in echo_fields:
        if name in probe:
            if name not in stored:
                return None
            probe[name] = stored[name]
            if name not in STAMP_FIELDS:
                written.append(name)
    try:
        same = orjson.dumps(probe, option=orjson.OPT_NON_STR_KEYS)
        if same != (text.encode() if isinstance(text, str) else text):
            return None
        return orjson.dumps([payload[n] for n in written]) != orjson.dumps(
            [stored[n] for n in written]
        )
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the general path decides
        return None


def _watermark(records: Sequence[Mapping[str, Any]], spec: ObjectSpec) -> WatermarkState | None:
    if not records:
        return None
    last = records[-1]  # ordered by SystemModstamp, Id: the last is the greatest
    return WatermarkState(parse_modstamp(last[spec.replication_key]), str(last[spec.primary_key]))
