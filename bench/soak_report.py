"""The soak report as text."""

from __future__ import annotations

from typing import Any


def _pairs(items: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(items.items())) or "none"


def _latency_line(lat: dict[str, Any]) -> str:
    if not lat["count"]:
        return "no change could be timed"
    return (
        f"{lat['count']} changes timed: max {lat['max_s']} s, p95 {lat['p95_s']} s, "
        f"median {lat['median_s']} s"
    )


def format_report(r: dict[str, Any]) -> str:
    """Every figure of the soak, one topic a line, and the verdict."""
    lat, runs, api, chk = r["latency"], r["runs"], r["api_calls"], r["check"]
    store, health = r["store"], r["health"]
    changes = {k: v for k, v in r["changes"].items() if k not in ("late_commits", "failed")}
    kills = r["kills"]
    lines = [
        f"Quotaflow soak: {r['seconds']:.0f} s, sync interval {r['interval']} s, seed {r['seed']}"
        f" (wall {r.get('wall_seconds', '?')} s)",
        f"  changes made      {sum(changes.values())}: {_pairs(changes)}"
        f" ({r['changes'].get('late_commits', 0)} as late commits,"
        f" {r['changes'].get('failed', 0)} refused)",
        f"  faults injected   {_pairs(r['faults'])}",
        f"  clock SIGKILLs    {len(kills)} ({sum(1 for k in kills if k['mid_run'])} during a run)",
        f"  runs              {runs['total']}: succeeded {runs['succeeded']}, partial"
        f" {runs['partial']}, failed {runs['failed']}, killed {runs['killed']}"
        f" (failures: {_pairs(runs['failed_errors'])})",
        f"  API calls         {api['sync']} by Quotaflow, {api['soak_client']} by the driver"
        f" and checks; rejected {_pairs(api['rejected_by_code'])}",
        f"  Bulk API 2.0      {_pairs(r.get('bulk', {}))}",
        f"  change-to-CRM     {_latency_line(lat)}",
        "                    by kind: "
        + "; ".join(
            f"{k} {v['count']}x max {v['max_s']} p95 {v['p95_s']}"
            for k, v in lat["by_kind"].items()
        ),
        f"                    {lat['no_visible_effect']} watched changes moved no value;"
        f" {lat['only_after_full_reconcile']} showed only after the full reconcile",
        *(f"    only after the full reconcile: {d}" for d in lat["only_after_full_detail"]),
        f"                    slowest: {'; '.join(lat['slowest'])}",
        f"  settle            {r['settle']}; final full reconcile wrote {r['final_full_written']},"
        f" echo run wrote {r['echo_written']}",
        f"  independent check {chk['records_compared']} records, {chk['fields_compared']} fields"
        f" (open-deal estimates recomputed for {chk['open_estimates_checked']},"
        f" {chk['open_estimates_unchecked']} open deals checked on SPIFF status only);"
        f" unresolved deals {chk['unresolved_deals']}",
        f"  MISMATCHES        {chk['mismatches']}",
    ]
    lines += [f"    {m}" for m in chk["mismatch_sample"]]
    lines += [
        f"  store             duplicates {store['duplicates']}, missing {store['missing']},"
        f" extra {store['extra']}, delete flags wrong {store['deleted_flag_wrong']};"
        f" results wrong/missing/extra {store['results_wrong']}/{store['results_missing']}/"
        f"{store['results_extra']}; credits {store['credits_wrong']}/{store['credits_missing']}/"
        f"{store['credits_extra']}",
        f"  stuck             runs {health['runs_stuck'] or 'none'}, calc runs"
        f" {health['calc_runs_stuck']}, pending write-backs {health['writebacks_pending']}",
        f"  record issues     {health['issues_total']}: resolved {health['issues_resolved']},"
        f" explained {len(health['issues_explained'])}, unexplained"
        f" {len(health['issues_unexplained'])} ({_pairs(health['issues_by_code'])})",
    ]
    lines += [f"    unexplained: {i}" for i in health["issues_unexplained"][:10]]
    lines.append(f"  clock log         tracebacks: {_pairs(r['clock_log_errors'])}")
    lines.append(f"  RESULT            {'PASS' if r['passed'] else 'FAIL'}")
    return "\n".join(lines)
