"""`quotaflow calc --jobs N`: runs of reps in forked processes give the bytes of one process.

Random books (managers up a chain with rollup, a reporting cycle, revenue and overlay
splits, team members, unknown owners, deals outside the range, an error found while
calculating) are calculated with 1, 2 and 3 processes: the same standard output, the same
error text and exit status. A worker that dies is a clear error with nothing written.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from calc import inputs
from calc.book import Book
from calc.engine import split_book
from calc.plan import parse_plan_doc
from webapp.cli import CliError, main
from webapp.cli.calc_jobs import run_forked

ROOT = Path(__file__).resolve().parents[2]
AE = {
    "id": "ae",
    "period": "month",
    "quota": {"annual": 600000},
    "components": [
        {
            "id": "commission",
            "type": "commission",
            "tiers": {
                "basis": "attainment",
                "table": [{"from": 0, "rate": 0.05}, {"from": 1, "rate": 0.12}],
            },
        },
        {
            "id": "spiff",
            "type": "spiff",
            "window": {"start": "2026-01-01", "end": "2026-03-31"},
            "criteria": [{"field": "product_family", "value": "Analytics"}],
            "payout": {"per_deal": 500},
            "max_payouts": 3,
        },
        {"id": "bonus", "type": "bonus", "min_attainment": 1, "amount": 2000},
    ],
    "clawback": {"window_days": 90, "percent": 1.0},
}
MGR = {
    "id": "mgr",
    "period": "quarter",
    "credit_types": ["rollup", "overlay"],
    "quota": {"amount": 300000},
    "components": [
        {"id": "override", "type": "commission", "rate": 0.01, "gate": {"min_attainment": 0.5}}
    ],
}
CREDITING = {"rollup": {"levels": "all"}, "team_roles": {"Sales Engineer": 50}}


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def _book(
    folder: Path, seed: int, *, deals: int = 600, broken: bool = False, last: bool = False
) -> Path:
    """A random book: managers in a chain (and two in a cycle), reps, deals, splits, team.

    `broken`: the AE plan has a target incentive with no target (found when an AE is
    calculated); `last`: only rep Z9, last in rep order, is on that broken plan."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ti = {
        "id": "ti",
        "type": "target_incentive",
        "curve": {"table": [{"from": 0, "multiplier": 1}]},
    }
    ae, late = json.loads(json.dumps(AE)), json.loads(json.dumps(AE)) | {"id": "late"}
    late["components"].append(json.loads(json.dumps(ti)))
    if broken:
        ae["components"].append(json.loads(json.dumps(ti)))
    doc = {"plans": [ae, MGR, late], "crediting": CREDITING}
    (folder / "plan.yaml").write_text(yaml.safe_dump(doc))
    managers = [["M0", "Manager 0", "", "mgr", ""]]
    managers += [[f"M{i}", f"Manager {i}", "M0", "mgr", ""] for i in (1, 2)]
    managers += [["M8", "Manager 8", "M9", "mgr", ""], ["M9", "Manager 9", "M8", "mgr", ""]]
    if last:
        managers.append(["Z9", "Late rep", "M1", "late", ""])
    n_reps = rng.randrange(4, 30)
    reps = []
    for i in range(n_reps):
        hired = "" if rng.random() < 0.8 else date(2026, rng.randrange(1, 12), 1).isoformat()
        reps.append([f"R{i:02d}", f"Rep {i}", rng.choice(["M1", "M2", "M8", ""]), "ae", hired])
    rng.shuffle(reps)
    header = ["id", "name", "manager_id", "plan_id", "hire_date"]
    _write(folder / "reps.csv", header, managers + reps)
    owners = [r[0] for r in reps] + ["R99"]  # R99: not a known rep
    rows, splits, team = [], [], []
    for i in range(deals):
        owner = rng.choice(owners)
        day = date(2025, 11, 1).toordinal() + rng.randrange(500)
        cancel = ""
        if rng.random() < 0.05:
            cancel = date.fromordinal(day + rng.randrange(1, 120)).isoformat()
        rows.append(
            [
                f"D{i:05d}",
                f"Deal é{i}",
                owner,
                f"{rng.randrange(100, 9_000_000) / 100}",
                date.fromordinal(day).isoformat(),
                rng.choice(["true", "true", "false"]),
                rng.choice(["Core", "Analytics"]),
                cancel,
            ]
        )
        other = rng.choice(owners[:-1])
        if rng.random() < 0.1 and other != owner:
            splits += [[f"D{i:05d}", owner, 70, "revenue"], [f"D{i:05d}", other, 30, "revenue"]]
        elif rng.random() < 0.05:
            splits.append([f"D{i:05d}", rng.choice(["M1", "M2"]), 25, "overlay"])
        if rng.random() < 0.05:
            team.append([f"D{i:05d}", rng.choice(owners[:-1]), "Sales Engineer"])
    rng.shuffle(rows)
    header = ["id", "name", "owner_id", "amount", "close_date", "is_won", "product_family"]
    _write(folder / "deals.csv", [*header, "cancel_date"], rows)
    _write(folder / "splits.csv", ["deal_id", "rep_id", "percent", "split_type"], splits)
    _write(folder / "team.csv", ["deal_id", "rep_id", "role"], team)
    return folder


def _argv(folder: Path, *extra: str) -> list[str]:
    argv = ["calc", "--plan", str(folder / "plan.yaml"), "--reps", str(folder / "reps.csv")]
    argv += ["--deals", str(folder / "deals.csv"), "--splits", str(folder / "splits.csv")]
    argv += ["--team", str(folder / "team.csv"), "--from", "2026-01-01", "--to", "2026-09-30"]
    return [*argv, *extra]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("seed", range(6))
def test_any_number_of_processes_writes_the_bytes_of_one(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _book(tmp_path, seed)
    one = _run(_argv(folder, "--jobs", "1"), capsys)
    assert one[0] == 0, one[2]
    result = json.loads(one[1])
    assert result["results"] and result["credits"] and result["unresolved"]
    assert {c["credit_type"] for c in result["credits"]} >= {"owner", "split", "rollup"}
    for jobs in ("2", "3", "5"):
        assert _run(_argv(folder, "--jobs", jobs), capsys) == one


@pytest.mark.parametrize(("seed", "where"), [(0, "ae"), (1, "ae"), (2, "last"), (3, "last")])
def test_an_error_found_while_calculating_is_the_one_of_one_process(
    seed: int, where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "ae": the managers (first in rep order) calculate, the first AE fails, in whichever
    # process; "last": only the last rep fails, in the last worker, after the others succeed.
    folder = _book(tmp_path, seed, broken=where == "ae", last=where == "last")
    one = _run(_argv(folder, "--jobs", "1"), capsys)
    assert one[0] == 2 and one[1] == ""
    assert "target incentive" in one[2]
    for jobs in ("2", "3"):
        assert _run(_argv(folder, "--jobs", jobs), capsys) == one


def test_the_runs_cover_every_rep_once_in_order(tmp_path: Path) -> None:
    folder = _book(tmp_path, 7)
    book = Book(
        parse_plan_doc(yaml.safe_load((folder / "plan.yaml").read_text())),
        inputs.parse_reps((folder / "reps.csv").read_text()),
        inputs.parse_deals((folder / "deals.csv").read_text()),
    )
    split = split_book(book, start=date(2026, 1, 1), end=date(2026, 12, 31), shares=[10, 11])
    seen = [res[0].rep_id for run in split.runs for res, _credits in run if res]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) > 10
    again = split_book(book, start=date(2026, 1, 1), end=date(2026, 12, 31), shares=[10, 11])
    sizes = [sum(1 for _ in run) for run in again.runs]
    assert all(sizes) and sum(sizes) == len(book.reps)


def test_the_first_failing_task_in_order_wins() -> None:
    def fails(text: str) -> Any:
        def task() -> None:
            raise CliError(text)

        return task

    def ok() -> None:
        pass

    with pytest.raises(CliError, match=r"^first$"):
        run_forked([fails("first"), fails("second")])
    with pytest.raises(CliError, match=r"^second$"):
        run_forked([ok, fails("second"), fails("third")])
    run_forked([ok, ok, ok])


def test_a_worker_that_dies_is_named_with_its_signal() -> None:
    def dies() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(CliError) as raised:
        run_forked([lambda: None, dies])
    text = str(raised.value)
    assert "calculation worker 2 of 2" in text
    assert "killed by signal 9 (SIGKILL)" in text and "nothing was written" in text


def test_a_worker_failing_otherwise_is_named() -> None:
    def breaks() -> None:
        raise RuntimeError("boom")

    with pytest.raises(CliError, match="worker 2 failed: RuntimeError: boom"):
        run_forked([lambda: None, breaks])


def test_a_killed_worker_leaves_no_output(tmp_path: Path) -> None:
    # The real command, its worker killed while it calculates: exit 2, one line, and the
    # file standard output went to is still empty.
    folder = _book(tmp_path, 11, deals=40_000)
    out = tmp_path / "out.json"
    exe = [sys.executable, "-m", "webapp.cli"]
    with out.open("wb") as stdout:
        proc = subprocess.Popen(
            [*exe, *_argv(folder, "--jobs", "2")],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        children: list[str] = []
        while not children and proc.poll() is None:
            try:
                text = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
            except OSError:
                text = ""
            children = text.split()
            time.sleep(0.002)
        assert children, "the worker was never seen"
        os.kill(int(children[0]), signal.SIGKILL)
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "was killed by signal 9 (SIGKILL); nothing was written" in err.decode()
    assert len(err.decode().strip().splitlines()) == 1
    assert out.read_bytes() == b""


def test_jobs_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _book(tmp_path, 3)
    one = _run(_argv(folder, "--jobs", "1"), capsys)
    monkeypatch.setenv("QUOTAFLOW_CALC_JOBS", "2")
    assert _run(_argv(folder), capsys) == one
    monkeypatch.setenv("QUOTAFLOW_CALC_JOBS", "two")
    status, out, err = _run(_argv(folder), capsys)
    assert (status, out) == (2, "")
    assert "QUOTAFLOW_CALC_JOBS: not a whole number of processes (1 or more): 'two'" in err
    with pytest.raises(SystemExit):
        main(_argv(folder, "--jobs", "0"))


def test_an_interrupted_worker_prints_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    # Ctrl-C reaches every process of the terminal's group: the worker stops quietly.
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(CliError, match="interrupted"):
        run_forked([lambda: None, interrupted])
    assert "Traceback" not in capfd.readouterr().err


def test_a_task_that_cannot_be_forked_runs_here() -> None:
    # fork fails (no memory, too many processes): every task still runs, in order, in this
    # process, and the first error in order wins.
    done: list[int] = []

    def task(n: int, *, fail: bool = False) -> Any:
        def run() -> None:
            done.append(n)
            if fail:
                raise CliError(f"task {n} failed")

        return run

    def no_fork(number: int, task: Any) -> Any:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    run_forked([task(1), task(2), task(3)], fork=no_fork)
    assert done == [1, 2, 3]
    with pytest.raises(CliError, match="task 5 failed"):
        run_forked([task(4), task(5, fail=True), task(6, fail=True)], fork=no_fork)
    assert done == [1, 2, 3, 4, 5]


def test_the_real_command_writes_the_same_bytes_to_a_file_and_a_pipe(tmp_path: Path) -> None:
    # Standard output a file descriptor: the runs are copied by the kernel (sendfile).
    folder = _book(tmp_path / "book", 5)
    exe = [sys.executable, "-m", "webapp.cli"]
    one = subprocess.run([*exe, *_argv(folder, "--jobs", "1")], capture_output=True, cwd=ROOT)
    assert one.returncode == 0 and one.stdout.startswith(b'{\n "currency"')
    two = subprocess.run([*exe, *_argv(folder, "--jobs", "2")], capture_output=True, cwd=ROOT)
    assert two.stdout == one.stdout  # a pipe
    with (tmp_path / "out.json").open("wb") as f:
        f.write(b"kept\n")  # appended to, as `>>` does
    with (tmp_path / "out.json").open("ab") as f:
        subprocess.run([*exe, *_argv(folder, "--jobs", "2")], stdout=f, check=True, cwd=ROOT)
    assert (tmp_path / "out.json").read_bytes() == b"kept\n" + one.stdout


def test_one_process_for_a_small_book() -> None:
    from webapp.cli.calc_jobs import AUTO_MIN_DEALS, jobs_wanted

    assert jobs_wanted(None, deals=AUTO_MIN_DEALS - 1) == 1
    assert jobs_wanted(3, deals=10) == 3
    assert jobs_wanted(None, deals=AUTO_MIN_DEALS) == min(2, len(os.sched_getaffinity(0)))
