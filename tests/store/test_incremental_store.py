"""The incremental store's shortcuts held equal to the general paths on random inputs, on
SQLite and PostgreSQL:

- period results compared by the digest stored beside each row decide (and store) exactly
  what comparing the documents themselves decides;
- write-back values already found in the CRM's current pulled payload, left settled by an
  incremental store, make the write stage send exactly what marking every touched record
  pending again sends (person edits, echoes pulled late, refusals, a field allowed later).

Each check fails when its shortcut is broken on purpose (the last tests)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from calc.writeback import FieldTarget
from connector.pull.changes import payload_hash
from connector.salesforce.auth import Authenticator
from connector.salesforce.gateway import Gateway
from connector.salesforce.retry import RetryPolicy
from connector.salesforce.write_batches import WriteOptions
from connector.settings import Settings
from connector.store import results as results_module
from connector.store.models import RawRecord
from connector.store.repositories import SessionFactory
from connector.store.results import PeriodResult, WritebackValue
from connector.store.unit import OrgUnit
from connector.sync import writeback_stage
from connector.sync.progress import QuietProgress
from connector.sync.writeback_stage import plan_writes, run_writeback

FAST, GENERAL = "FAST", "GENL"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
REPS = [f"005{i:015d}" for i in range(6)]
PERIODS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
DEALS = [f"006{i:015d}" for i in range(14)]
EXTRA = ("Opportunity", "Deal_Score__c")  # not on the allow-list until an admin adds it
NO_SLEEP = RetryPolicy(sleep=lambda _s: None)


def _org(kind: str, seed: int) -> str:
    """An org id of its own for each path and seed."""
    return f"00D{kind}{seed:011d}"


# --- period results -------------------------------------------------------------------


def _result(rep: str, period: str, gross: int) -> dict[str, Any]:
    quarter = PERIODS.index(period)
    start = date(2026, 3 * quarter + 1, 1)
    end = (date(2026, 3 * quarter + 4, 1) if quarter < 3 else date(2027, 1, 1)) - timedelta(1)
    return {
        "rep_id": rep, "plan_id": "ae", "period": period,
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "attainment": f"{gross / 1000:.4f}", "gross": f"{gross}.00", "net": f"{gross}.00",
        "lines": [{"component": "commission", "deal_id": DEALS[gross % len(DEALS)],
                   "amount": f"{gross}.00"}],
    }  # fmt: skip


def _store_round(
    sessions: SessionFactory,
    org_id: str,
    *,
    rows: list[dict[str, Any]],
    rep_ids: list[str],
    same: set[tuple[str, str]],
    kept: frozenset[tuple[str, str]],
    use_digests: bool,
) -> list[tuple[str, str]]:
    with OrgUnit(sessions, org_id) as unit:
        run = unit.results.begin_calc_run(
            sync_run_id=None, mode="incremental", as_of=NOW.date(), range_start=date(2026, 1, 1),
            range_end=date(2026, 12, 31), created_at=NOW,
        )  # fmt: skip
        found = unit.results.store_results(
            run=run, rep_ids=rep_ids, results=rows, kept=kept, now=NOW, same=same,
            use_digests=use_digests,
        )  # fmt: skip
        unit.commit()
    return found


def _stored_results(session: Session, org_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = session.execute(
        select(PeriodResult.rep_id, PeriodResult.period, PeriodResult.result,
               PeriodResult.gross)
        .where(PeriodResult.org_id == org_id)
    )  # fmt: skip
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def check_result_digests(sessions: SessionFactory, seed: int, rounds: int = 12) -> int:
    """Random rounds stored in two orgs, one through the digests and one reading every
    document: the same rows differ and the same rows end up stored. Returns how many rows
    the digests decided."""
    rng = random.Random(seed)
    decided = 0
    fast_org, general_org = _org(FAST, seed), _org(GENERAL, seed)
    for _round in range(rounds):
        with sessions() as session:
            before = _stored_results(session, general_org)
            # Rows stored before digests have none.
            legacy = [k for k in sorted(before) if rng.random() < 0.2]
            for rep, period in legacy:
                session.execute(
                    update(PeriodResult)
                    .where(PeriodResult.org_id == fast_org, PeriodResult.rep_id == rep,
                           PeriodResult.period == period)
                    .values(result_hash=None)
                )  # fmt: skip
            # Reading every document (a full run) repairs a wrong digest as well.
            session.execute(
                update(PeriodResult)
                .where(PeriodResult.org_id == general_org,
                       PeriodResult.period == rng.choice(PERIODS))
                .values(result_hash=rng.choice([None, "0" * 32]))
            )  # fmt: skip
            session.commit()
        rep_ids = rng.sample(REPS, rng.randint(1, len(REPS)))
        rows = [
            _result(rep, period, rng.choice([100, 200, 300]))
            for rep in sorted(rep_ids)
            for period in PERIODS
            if rng.random() < 0.85
        ]
        # Rows the calculation knows are as stored: only ever truly equal ones.
        same = {(r["rep_id"], r["period"]) for r in rows
                if before.get((r["rep_id"], r["period"]), (None,))[0] == r
                and rng.random() < 0.5}  # fmt: skip
        stored_keys = sorted(k for k in before if k[0] in rep_ids)
        kept = frozenset(k for k in stored_keys if rng.random() < 0.1)
        fast = _store_round(sessions, fast_org, rows=rows, rep_ids=rep_ids, same=same, kept=kept,
                            use_digests=True)  # fmt: skip
        general = _store_round(sessions, general_org, rows=rows, rep_ids=rep_ids, same=same,
                               kept=kept, use_digests=False)  # fmt: skip
        assert fast == general, f"the paths differ: seed {seed} round {_round}"
        with sessions() as session:
            stored = _stored_results(session, fast_org)
            assert stored == _stored_results(session, general_org), f"the paths differ: {seed}"
            digests = session.execute(
                select(PeriodResult.result, PeriodResult.result_hash).where(
                    PeriodResult.org_id == fast_org
                )
            ).all()
            repaired = session.execute(
                select(PeriodResult.rep_id, PeriodResult.period, PeriodResult.result,
                       PeriodResult.result_hash)
                .where(PeriodResult.org_id == general_org, PeriodResult.rep_id.in_(rep_ids))
            ).all()  # fmt: skip
        for document, digest in digests:
            assert digest in (None, results_module.result_digest(document)), (seed, _round)
        for rep, period, document, digest in repaired:
            if (rep, period) not in kept and (rep, period) not in same:
                assert digest == results_module.result_digest(document), (seed, rep, period)
        decided += len(rows) - len(same)
    return decided


def test_result_digests_decide_as_the_documents_do(sessions: SessionFactory) -> None:
    decided = sum(check_result_digests(sessions, seed) for seed in range(4))
    assert decided > 200


# --- write-back values -----------------------------------------------------------------

_DESCRIBE = {
    "name": "Opportunity",
    "fields": [
        {"name": "Estimated_Commission__c", "type": "currency", "scale": 2},
        {"name": "SPIFF_Status__c", "type": "picklist", "scale": 0},
        {"name": "Deal_Score__c", "type": "double", "scale": 1},
    ],
}


class Crm:
    """What Salesforce holds, answering write calls; some records refuse for a while."""

    def __init__(self) -> None:
        blank = {"Estimated_Commission__c": None, "SPIFF_Status__c": None,
                 "Deal_Score__c": None, "Amount": 1000.0}  # fmt: skip
        self.records = {rid: dict(blank) for rid in DEALS}
        self.refusing: set[str] = set()
        self.sent: list[list[tuple[str, str]]] = []

    def composite(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        out = []
        for record in body["records"]:
            rid = record["id"]
            values = {k: v for k, v in record.items() if k not in {"attributes", "id"}}
            self.sent[-1].append((rid, json.dumps(values, sort_keys=True)))
            if rid in self.refusing:
                error = {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                         "message": "Closed deals cannot change", "fields": []}  # fmt: skip
                out.append({"id": rid, "success": False, "errors": [error]})
            else:
                self.records[rid].update(values)
                out.append({"id": rid, "success": True, "errors": []})
        return 200, {"Sforce-Limit-Info": "api-usage=10/15000"}, json.dumps(out)


def _gateway(wire: responses.RequestsMock, crm: Crm, host: str) -> Gateway:
    login, instance = f"https://login.{host}.test", f"https://{host}.test"
    wire.post(f"{login}/services/oauth2/token", json={
        "access_token": "tok", "instance_url": instance, "token_type": "Bearer",
        "id": f"{login}/id/00D000000000001AAA/005000000000001AAA", "issued_at": "1",
        "signature": "x"})  # fmt: skip
    api = f"{instance}/services/data/v62.0"
    wire.get(f"{api}/sobjects/Opportunity/describe", json=_DESCRIBE)
    wire.add_callback(responses.PATCH, f"{api}/composite/sobjects", callback=crm.composite)
    settings = Settings(
        sf_login_url=login, sf_auth="password", sf_client_id="cid", sf_client_secret="secret",
        sf_username="u@example.test", sf_password="pw",
    )  # fmt: skip
    session = requests.Session()
    auth = Authenticator(settings, session=session, retry=NO_SLEEP)
    return Gateway(auth, session=session, api_version="62.0", retry=NO_SLEEP)


def _pull(session: Session, org_id: str, rid: str, payload: dict[str, Any], now: datetime) -> None:
    """Store a record as the pull would: its payload and the hash of it."""
    row = session.get(RawRecord, (org_id, "Opportunity", rid))
    values = {"payload": dict(payload), "payload_hash": payload_hash(payload),
              "system_modstamp": now, "updated_at": now}  # fmt: skip
    if row is None:
        session.add(RawRecord(org_id=org_id, object_name="Opportunity", record_id=rid,
                              is_deleted=False, **values))  # fmt: skip
    else:
        for name, value in values.items():
            setattr(row, name, value)


def _desired(rng: random.Random, extra: bool) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "Estimated_Commission__c": rng.choice(["10.00", "10.004", "25.50", None]),
        "SPIFF_Status__c": rng.choice(["Eligible", "Not Eligible"]),
    }
    if extra:
        values[EXTRA[1]] = rng.choice(["1.0", "2.5"])
    return values


def _writeback_scenario(sessions: SessionFactory, org_id: str, seed: int, *, fast: bool) -> Any:
    """Random rounds of store and write-back for one org; what was sent in each round."""
    rng = random.Random(seed)
    crm = Crm()
    pulled: dict[str, dict[str, Any]] = {}
    desired: dict[str, dict[str, str | None]] = {}
    extra = rng.random() < 0.5
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        gateway = _gateway(wire, crm, org_id.lower())
        for turn in range(10):
            now = NOW + timedelta(minutes=turn)
            # A person edits some records; the pull reads some of what changed (late echoes).
            for rid in rng.sample(DEALS, 2):
                crm.records[rid]["Estimated_Commission__c"] = rng.choice([10.0, 99.0, None])
            if rng.random() < 0.3:
                crm.records[rng.choice(DEALS)]["Amount"] = rng.choice([1000.0, 2000.0])
            with sessions() as session:
                for rid in DEALS:
                    if pulled.get(rid) != crm.records[rid] and (turn == 0 or rng.random() < 0.7):
                        pulled[rid] = dict(crm.records[rid])
                        _pull(session, org_id, rid, pulled[rid], now)
                session.commit()
            crm.refusing = {rid for rid in DEALS if rng.random() < 0.1}
            if extra and turn == 5:
                with OrgUnit(sessions, org_id) as unit:
                    unit.writeback_fields.add_field(key=EXTRA, read=(), by="admin", now=now)
                    unit.commit()
            full = turn in (0, 7)  # a full recompute touches every record
            touched = list(DEALS) if full else rng.sample(DEALS, rng.randint(3, len(DEALS)))
            for rid in touched:
                if rid not in desired or rng.random() < 0.3:
                    desired[rid] = _desired(rng, extra)
            with OrgUnit(sessions, org_id) as unit:
                run_id = unit.runs.create_run(mode="incremental", now=now)
                run = unit.results.begin_calc_run(
                    sync_run_id=run_id, mode="incremental", as_of=now.date(),
                    range_start=date(2026, 1, 1), range_end=date(2026, 12, 31), created_at=now,
                )  # fmt: skip
                values = {("Opportunity", rid): desired[rid] for rid in touched}
                unit.results.save_writeback(
                    run=run, values=values, now=now, recheck_all=full or not fast
                )
                unit.commit()
            crm.sent.append([])
            run_writeback(
                gateway, sessions, org_id=org_id, run_id=run_id, overrides=None, dry_run=False,
                options=WriteOptions(lock_attempts=1, retry=NO_SLEEP), progress=QuietProgress(),
                now=now,
            )  # fmt: skip
    with sessions() as session:
        pending = session.execute(
            select(WritebackValue.record_id, WritebackValue.fields, WritebackValue.pending)
            .where(WritebackValue.org_id == org_id)
            .order_by(WritebackValue.record_id)
        ).all()  # fmt: skip
    return [sorted(call) for call in crm.sent], [tuple(row) for row in pending], crm.records


def check_writeback_rechecks(sessions: SessionFactory, seed: int) -> int:
    """The same random scenario with and without the shortcut: the same values are sent,
    the same records stay pending, the CRM ends the same. Returns how many values were sent."""
    fast = _writeback_scenario(sessions, _org(FAST, seed), seed, fast=True)
    general = _writeback_scenario(sessions, _org(GENERAL, seed), seed, fast=False)
    assert fast[0] == general[0], f"the paths differ: seed {seed}"
    assert fast == general, f"the paths differ: seed {seed}"
    return sum(len(call) for call in fast[0])


def test_settled_values_left_settled_send_what_rechecking_them_sends(
    sessions: SessionFactory,
) -> None:
    sent = sum(check_writeback_rechecks(sessions, seed) for seed in range(6))
    assert sent > 100


def test_a_recheck_is_skipped_only_while_the_pulled_payload_holds_the_values(
    sessions: SessionFactory,
) -> None:
    org_id = _org(FAST, 99)
    _writeback_scenario(sessions, org_id, 99, fast=True)
    targets = {
        ("Opportunity", f["name"]): FieldTarget("Opportunity", f["name"], f["type"], f["scale"])
        for f in _DESCRIBE["fields"]
    }
    with sessions() as session:
        rows = session.execute(
            select(WritebackValue.record_id, WritebackValue.fields, WritebackValue.crm_hash,
                   RawRecord.payload, RawRecord.payload_hash)
            .join(RawRecord, (RawRecord.org_id == WritebackValue.org_id)
                  & (RawRecord.record_id == WritebackValue.record_id))
            .where(WritebackValue.org_id == org_id)
        ).all()  # fmt: skip
    skipped = [row for row in rows if row.crm_hash is not None and row.crm_hash == row.payload_hash]
    assert skipped, "the diff settled no record as already holding its values"
    for row in skipped:
        key = ("Opportunity", row.record_id)
        assert plan_writes({key: row.fields}, {key: row.payload}, targets) == [], row


# --- the checks fail when a shortcut is broken on purpose ------------------------------


def test_a_digest_that_ignores_the_figures_fails_the_check(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results_module, "result_digest", lambda _result: "0" * 32)
    with pytest.raises(AssertionError, match="the paths differ"):
        for seed in range(4):
            check_result_digests(sessions, seed)


def test_skipping_a_recheck_on_a_changed_payload_fails_the_check(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        results_module._StoredValue, "settled_on_current", lambda self: self.crm_hash is not None
    )
    with pytest.raises(AssertionError, match="the paths differ"):
        for seed in range(6):
            check_writeback_rechecks(sessions, seed)


def test_settling_a_value_the_diff_skipped_fails_the_check(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        writeback_stage, "whole_checks", lambda keys, _pending, _targets, pulled: {
            k: pulled[k] for k in keys if k in pulled}
    )  # fmt: skip
    with pytest.raises(AssertionError, match="the paths differ"):
        for seed in range(12):
            check_writeback_rechecks(sessions, seed)


def test_current_crm_records_scans_only_when_much_of_the_object_is_asked_for(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sessions.kw["bind"]
    org_id, now = "00D000000000001AAA", datetime(2026, 12, 3, tzinfo=UTC)
    ids = [f"006{n:012d}AAA" for n in range(200)]
    with sessions() as session:
        for n, rid in enumerate(ids):
            _pull(session, org_id, rid, {"Id": rid, "Amount": n}, now)
        session.get(RawRecord, (org_id, "Opportunity", ids[7])).is_deleted = True  # type: ignore[union-attr]
        session.commit()
    monkeypatch.setattr(results_module, "_SCAN_AT", 10)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    for wanted in (ids[:20], ids[:60], [*ids[::3], "006999999999999AAA"]):
        statements.clear()
        with sessions() as session:
            found = results_module.current_crm_records(
                session, org_id=org_id, object_name="Opportunity", record_ids=wanted
            )
        live = [rid for rid in wanted if rid in ids and rid != ids[7]]
        assert sorted(found) == sorted(live)
        assert all(found[rid][0]["Id"] == rid for rid in live)
        assert all(
            found[rid][1] == payload_hash({"Id": rid, "Amount": ids.index(rid)}) for rid in live
        )
        scanned = not any(" IN " in s.upper() for s in statements)
        # 20 of 200 are looked up by id; 60 (and 68) of 200 are over a quarter: one scan.
        assert scanned == (len(wanted) * 4 >= len(ids)), (len(wanted), statements)
    event.remove(engine, "before_cursor_execute", record)
