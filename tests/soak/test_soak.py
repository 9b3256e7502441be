"""The 60-second soak (bench/soak.py): the clock against the devorg under random changes,
injected faults and SIGKILLs, then an independent `quotaflow calc` on the final data must
equal every write-back field, the store must hold each record once and nothing may be
stuck. About 90 seconds; marked slow, so it runs in the default suite and CI but not in the
everyday `pytest -m "not slow"`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _soak(tmp_path: Path, *args: str) -> tuple[dict[str, Any], str]:
    report = tmp_path / "report.json"
    argv = [sys.executable, str(ROOT / "bench" / "soak.py"), "--json", str(report), *args]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert report.exists(), f"soak crashed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}"
    data: dict[str, Any] = json.loads(report.read_text())
    return data, out.stdout + out.stderr


@pytest.mark.slow
def test_sixty_second_soak_loses_duplicates_and_misstates_nothing(tmp_path: Path) -> None:
    r, text = _soak(
        tmp_path,
        "--seconds", "60", "--interval", "5", "--seed", "9", "--kills", "2",
        "--midrun-kills", "1", "--estimate-sample", "30", "--keep", str(tmp_path / "work"),
    )  # fmt: skip
    # It really soaked: changes of every kind, faults, kills, runs that finished.
    made = r["changes"]
    assert sum(v for k, v in made.items() if k not in ("late_commits", "failed")) >= 15, text
    assert {"new_deal", "stage_move", "amount_edit"} <= made.keys(), text
    assert {"expire_sessions", "unavailable", "request_limit", "lock_rows"} <= r["faults"].keys()
    assert len(r["kills"]) == 2 and any(k["mid_run"] for k in r["kills"]), text
    assert r["runs"]["succeeded"] + r["runs"]["partial"] >= 2, text
    assert r["latency"]["count"] >= 5, text
    # Part of it ran with the Bulk API 2.0 path forced on: query jobs read, ingest jobs wrote.
    assert r["bulk"].get("bulk_query_create", 0) >= 1, text
    assert r["bulk"].get("bulk_ingest_create", 0) >= 1, text
    assert r["faults"].get("bulk_job_failure", 0) >= 1, text
    assert r["latency"]["only_after_full_reconcile"] == 0, text
    # Nothing lost, duplicated or paid wrongly.
    assert r["check"]["mismatches"] == 0, text
    assert r["check"]["records_compared"] > 3000, text
    store = r["store"]
    assert store["duplicates"] == store["missing"] == store["extra"] == 0, text
    assert store["deleted_flag_wrong"] == 0, text
    assert store["results_wrong"] == store["credits_wrong"] == 0, text
    assert store["results_missing"] == store["credits_missing"] == 0, text
    # Nothing stuck, every issue accounted for, and the echo of the last run writes nothing.
    health = r["health"]
    assert health["runs_stuck"] == [] and health["calc_runs_stuck"] == 0, text
    assert health["writebacks_pending"] == 0, text
    assert health["issues_unexplained"] == [], text
    assert r["echo_written"] == 0, text
    assert r["passed"] is True, text
