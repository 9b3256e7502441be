"""Checks of Quotaflow's own database after the soak: each record once, nothing stuck,
stored results equal to the independent calculation, every record issue accounted for."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from soak_check import Snapshot
from soak_procs import Store

RAW_OBJECTS = ("User", "Opportunity", "OpportunitySplit", "OpportunityTeamMember")
CANONICAL = {
    "User": "canonical_reps",
    "Opportunity": "canonical_deals",
    "OpportunitySplit": "canonical_splits",
    "OpportunityTeamMember": "canonical_team_members",
}


def _dupes(store: Store, table: str, keys: str) -> int:
    sql = f"SELECT COUNT(*) FROM (SELECT {keys} FROM {table} GROUP BY {keys} HAVING COUNT(*) > 1) d"
    return int(store.rows(sql)[0][0])


def records_once(store: Store, snap: Snapshot) -> dict[str, Any]:
    """Raw and canonical rows: no duplicates, exactly the org's records, deletes mirrored."""
    out: dict[str, Any] = {"duplicates": 0, "missing": 0, "extra": 0, "deleted_flag_wrong": 0}
    out["duplicates"] += _dupes(store, "raw_records", "org_id, object_name, record_id")
    for obj in RAW_OBJECTS:
        org = snap.all_ids[obj]
        raw = dict(
            store.rows(
                "SELECT record_id, is_deleted FROM raw_records WHERE object_name = :o", o=obj
            )
        )
        out["missing"] += len(org.keys() - raw.keys())
        out["extra"] += len(raw.keys() - org.keys())
        out["deleted_flag_wrong"] += sum(1 for i in org if i in raw and bool(raw[i]) != org[i])
        table = CANONICAL[obj]
        out["duplicates"] += _dupes(store, table, "org_id, id")
        canon = dict(store.rows(f"SELECT id, deleted FROM {table}"))
        live = {i for i, deleted in org.items() if not deleted}
        if obj == "User":
            live -= snap.not_reps
        stored_live = {i for i, deleted in canon.items() if not deleted}
        out["missing"] += len(live - stored_live)
        out["extra"] += len(stored_live - live)
    return out


def results_match(store: Store, calc_out: dict[str, Any]) -> dict[str, Any]:
    """Stored period results and credits against the independent calc (each once, same sums)."""
    want = {
        (r["rep_id"], r["period"]): (Decimal(r["gross"]), Decimal(r["attainment"]))
        for r in calc_out["results"]
    }
    stored = {
        (rep, period): (Decimal(gross), Decimal(att))
        for rep, period, gross, att in store.rows(
            "SELECT rep_id, period, gross, attainment FROM period_results"
        )
    }
    wrong = [k for k in want if k in stored and stored[k] != want[k]]
    credits_want = {
        (c["rep_id"], c["period"], c["deal_id"], c["credit_type"]): Decimal(c["amount"])
        for c in calc_out["credits"]
    }
    credits = {
        (rep, period, deal, kind): Decimal(amount)
        for rep, period, deal, kind, amount in store.rows(
            "SELECT rep_id, period, deal_id, credit_type, amount FROM calc_credits"
        )
    }
    return {
        "results_missing": len(want.keys() - stored.keys()),
        "results_extra": len(stored.keys() - want.keys()),
        "results_wrong": len(wrong),
        "results_wrong_sample": [(k, str(stored[k]), str(want[k])) for k in wrong[:3]],
        "credits_missing": len(credits_want.keys() - credits.keys()),
        "credits_extra": len(credits.keys() - credits_want.keys()),
        "credits_wrong": sum(
            1 for k, v in credits_want.items() if k in credits and credits[k] != v
        ),
    }


def stuck_and_issues(store: Store, snap: Snapshot) -> dict[str, Any]:
    """Runs or calculations left running or queued; record issues resolved or explained."""
    stuck = store.rows("SELECT id, status FROM sync_runs WHERE status IN ('running', 'queued')")
    calc_running = store.rows("SELECT id FROM calc_runs WHERE status = 'running'")
    pending = store.rows(
        "SELECT object_name, record_id FROM writeback_values WHERE pending = :p", p=True
    )
    issues = store.rows(
        "SELECT stage, object_name, record_id, error_code, reason, status FROM record_issues"
    )
    live = {i for obj in snap.all_ids.values() for i, deleted in obj.items() if not deleted}
    explained, unexplained = [], []
    for stage, obj, rid, code, reason, status in issues:
        if status == "resolved":
            continue
        if stage == "writeback" and rid not in live:
            explained.append((stage, obj, rid, code, "record deleted after its value was computed"))
        else:
            unexplained.append((stage, obj, rid, code, reason))
    stale_pending = [(o, r) for o, r in pending if r in live]
    return {
        "runs_stuck": [tuple(r) for r in stuck],
        "calc_runs_stuck": len(calc_running),
        "writebacks_pending": len(stale_pending),
        "issues_total": len(issues),
        "issues_resolved": sum(1 for i in issues if i[5] == "resolved"),
        "issues_explained": explained,
        "issues_unexplained": unexplained,
        "issues_by_code": _count(f"{i[0]}:{i[3]}" for i in issues),
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def run_figures(store: Store, *, first_id: int, last_id: int) -> dict[str, Any]:
    """Runs of the soak window (ids first..last) by status, killed ones apart, API calls."""
    rows = store.rows(
        "SELECT status, error, api_calls, mode FROM sync_runs WHERE id BETWEEN :a AND :b",
        a=first_id,
        b=last_id,
    )
    killed = [r for r in rows if r[1] == "interrupted (process ended)"]
    return {
        "total": len(rows),
        "succeeded": sum(1 for r in rows if r[0] == "succeeded"),
        "partial": sum(1 for r in rows if r[0] == "partial"),
        "failed": sum(1 for r in rows if r[0] == "failed") - len(killed),
        "killed": len(killed),
        "full": sum(1 for r in rows if r[3] == "full"),
        "api_calls_recorded": sum(int(r[2] or 0) for r in rows),
        "failed_errors": _count(
            (r[1] or "")[:90] for r in rows if r[0] == "failed" and r not in killed
        ),
    }
