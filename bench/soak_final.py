"""After the soak: the independent check, the store checks, and the report's figures."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from soak_check import (
    Seen,
    history_differs,
    plan_facts,
    read_org,
    run_calc,
    today,
    write_inputs,
)
from soak_driver import kinds_made
from soak_expect import crm_values, deal_values, estimates, mismatches, user_values
from soak_org import OrgClient
from soak_procs import Store, quotaflow
from soak_store import records_once, results_match, run_figures, stuck_and_issues
from soak_watch import Watch, Watcher, latency_figures

if TYPE_CHECKING:
    from soak_loop import SoakConfig, State


def _written(text: str) -> int | None:
    found = re.search(r"written ([\d,]+) records", text)
    return int(found.group(1).replace(",", "")) if found else None


def _open_sample(snap: Any, state: State, cfg: SoakConfig, window: tuple[date, date]) -> list[str]:
    start, end = (d.isoformat() for d in window)
    open_ids = sorted(
        o["Id"] for o in snap.opps.values() if not o["IsClosed"] and start <= o["CloseDate"] <= end
    )
    if not cfg.estimate_sample or cfg.estimate_sample >= len(open_ids):
        return open_ids
    touched = {i for c in state.changes for w in c.watches for i in (w.record_id,)}
    first = [i for i in open_ids if i in touched]
    rest = [i for i in open_ids if i not in touched]
    random.Random(cfg.seed).shuffle(rest)
    return (first + rest)[: max(cfg.estimate_sample, len(first))]


def assignment_history(store: Store) -> dict[str, list[Seen]]:
    """The plan, manager and quota changes the syncs saw, by rep, oldest first."""
    rows = store.rows(
        "SELECT rep_id, effective_from, plan_id, manager_id, quota, target_incentive "
        "FROM rep_assignments ORDER BY rep_id, effective_from IS NOT NULL, effective_from, id"
    )
    out: dict[str, list[Seen]] = {}
    for rep_id, start, plan, manager, quota, target in rows:
        day = date.fromisoformat(str(start)[:10]) if start is not None else None
        out.setdefault(str(rep_id), []).append((day, plan, manager, quota, target))
    return out


def independent(
    cfg: SoakConfig, client: OrgClient, env: dict[str, str], state: State, store: Store
) -> dict[str, Any]:
    """Export the org, run `quotaflow calc`, apply the rules, compare with the CRM."""
    folder = cfg.workdir / "check"
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "plan.yaml"
    quotaflow(env, "plans", "export", str(plan))
    facts = plan_facts(plan)
    snap = read_org(client)
    history = assignment_history(store)
    write_inputs(snap, folder, facts.plan_ids, history)
    as_of = today()
    window = (date(as_of.year - 1, 1, 1), date(as_of.year, 12, 31))
    calc_out = run_calc(folder, plan, start=window[0], end=window[1])
    sample = _open_sample(snap, state, cfg, window)
    est = estimates(snap, calc_out, folder, plan, deal_ids=sample, as_of=as_of, window=window)
    expected = user_values(snap, calc_out, facts, as_of=as_of)
    deals = deal_values(snap, calc_out, facts, window=window, estimates=est)
    expected.update(deals.values)
    wrong = mismatches(expected, crm_values(snap, list(expected)))
    return {
        "snap": snap,
        "calc_out": calc_out,
        "records_compared": len(expected),
        "fields_compared": sum(len(v) for v in expected.values()),
        "open_estimates_checked": len(est),
        "open_estimates_unchecked": deals.open_unchecked,
        "unresolved_deals": len(calc_out["unresolved"]),
        "mismatches": len(wrong),
        "reps_with_history": sum(1 for seen in history.values() if len(seen) > 1),
        "history_differs": history_differs(snap, history),
        "mismatch_sample": [(f"{k[0]} {k[1]}", f, str(w), str(a)) for k, f, w, a in wrong[:10]],
    }


def _latency(watcher: Watcher, after_full: list[Watch]) -> dict[str, Any]:
    # Watches still open after the full reconcile never moved: the change did not alter
    # that value after all (the final check says whether the value is right).
    resolved = [w for w in watcher.done if w not in after_full]
    figures = latency_figures(resolved)
    by_kind: dict[str, Any] = {}
    for kind in sorted({w.kind for w in resolved}):
        by_kind[kind] = latency_figures([w for w in resolved if w.kind == kind])
    figures.update(
        by_kind=by_kind,
        only_after_full_reconcile=len(after_full),
        slowest=[
            f"{(w.seen or 0) - w.started:.1f} s {w.kind}: {w.obj} {w.record_id} {w.field}"
            for w in sorted(resolved, key=lambda w: w.started - (w.seen or 0))[:5]
        ],
        only_after_full_detail=[
            f"{w.kind}: {w.obj} {w.record_id} {w.field} (was {w.old})" for w in after_full
        ],
        no_visible_effect=len(watcher.open),
    )
    return figures


def final_check(
    cfg: SoakConfig,
    *,
    client: OrgClient,
    store: Store,
    state: State,
    watcher: Watcher,
    env: dict[str, str],
    runs: tuple[int, int],
    texts: dict[str, str],
    stats: tuple[dict[str, Any], dict[str, Any]],
    settled: dict[str, Any],
    after_full: list[Watch],
) -> dict[str, Any]:
    """Every figure and verdict of the report."""
    check = independent(cfg, client, env, state, store)
    snap = check.pop("snap")
    calc_out = check.pop("calc_out")
    once = records_once(store, snap)
    stored = results_match(store, calc_out)
    health = stuck_and_issues(store, snap)
    before, after = stats
    rejected = {
        code: n - int(before.get("rejected", {}).get(code, 0))
        for code, n in after.get("rejected", {}).items()
    }
    attempts = int(after["api_calls"]) - int(before["api_calls"]) + sum(rejected.values())
    driver = int(after["soak_client_calls"])
    report: dict[str, Any] = {
        "seed": cfg.seed,
        "seconds": cfg.seconds,
        "interval": cfg.interval,
        "changes": kinds_made(state.changes),
        "faults": dict(state.faults),
        "kills": state.kills,
        "runs": run_figures(store, first_id=runs[0], last_id=runs[1]),
        "api_calls": {
            "devorg_total": attempts,
            "soak_client": driver,
            "sync": attempts - driver,
            "rejected_by_code": rejected,
        },
        "bulk": _bulk_jobs({}, after),  # the baseline full sync's jobs included
        "latency": _latency(watcher, after_full),
        "settle": settled,
        "final_full_written": _written(texts["full"]),
        "echo_written": _written(texts["echo"]),
        "check": check,
        "store": {**once, **stored},
        "health": health,
        "clock_log_errors": _log_errors(cfg),
    }
    report["passed"] = _verdict(report)
    return report


def _bulk_jobs(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Bulk API 2.0 calls during the soak, by kind (query and ingest job creations...)."""
    old, new = before.get("by_kind", {}), after.get("by_kind", {})
    return {
        k: int(v) - int(old.get(k, 0))
        for k, v in sorted(new.items())
        if k.startswith("bulk_") and int(v) > int(old.get(k, 0))
    }


def _log_errors(cfg: SoakConfig) -> dict[str, int]:
    """Tracebacks and failed ticks in the clock's log (each counted by its last line)."""
    path = cfg.workdir / "clock.log"
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    out: dict[str, int] = {}
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next(
                (m for m in range(n + 1, len(lines)) if lines[m] and not lines[m][0].isspace()), n
            )
            key = lines[end][:120]
            out[key] = out.get(key, 0) + 1
    return out


def _verdict(r: dict[str, Any]) -> bool:
    s, h = r["store"], r["health"]
    return (
        r["check"]["mismatches"] == 0
        and not r["check"]["history_differs"]
        and r["echo_written"] == 0
        and r["latency"]["only_after_full_reconcile"] == 0
        and s["duplicates"] == s["missing"] == s["extra"] == s["deleted_flag_wrong"] == 0
        and s["results_wrong"] == s["results_missing"] == s["results_extra"] == 0
        and s["credits_wrong"] == s["credits_missing"] == s["credits_extra"] == 0
        and not h["runs_stuck"]
        and h["calc_runs_stuck"] == 0
        and h["writebacks_pending"] == 0
        and not h["issues_unexplained"]
    )
