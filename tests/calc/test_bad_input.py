"""Bad input to `quotaflow calc`: exit 2, one line naming file, row or path; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.cli import main

PLAN = """\
plans:
  - id: ae
    period: quarter
    quota: {amount: 100000}
    components:
      - id: c
        type: commission
        rate: 0.1
    clawback: {window_days: 90, percent: 1}
crediting:
  team_roles: {Sales Engineer: 100}
"""
REPS = "id,name,manager_id,plan_id,hire_date,end_date,quota,target_incentive\nR1,Ada,,ae,,,,\n"
REPS += "R2,Ben,,ae,,,,\n"
DEALS = "id,owner_id,amount,close_date,is_won,type\nD1,R1,1000,2026-02-10,true,New\n"
SPLITS = "deal_id,rep_id,percent,split_type\nD1,R1,60,revenue\nD1,R2,40,revenue\n"
TEAM = "deal_id,rep_id,role\nD1,R2,Sales Engineer\n"
FILES = {"plan.yaml": PLAN, "reps.csv": REPS, "deals.csv": DEALS, "splits.csv": SPLITS}
FILES["team.csv"] = TEAM


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: str) -> tuple[int, str]:
    for name, text in FILES.items():
        (tmp_path / name).write_text(changes.get(name.replace(".", "_"), text))
    argv = ["calc", "--plan", str(tmp_path / "plan.yaml"), "--reps", str(tmp_path / "reps.csv")]
    argv += ["--deals", str(tmp_path / "deals.csv"), "--splits", str(tmp_path / "splits.csv")]
    argv += ["--team", str(tmp_path / "team.csv"), "--from", "2026-01-01", "--to", "2026-12-31"]
    status = main(argv)
    captured = capsys.readouterr()
    if status != 0:
        assert captured.out == ""
        assert len(captured.err.splitlines()) == 1, captured.err
    return status, captured.err.strip().replace(f"{tmp_path}/", "")


def _deal(amount: str) -> str:
    return f'id,owner_id,amount,close_date,is_won,type\nD1,R1,"{amount}",2026-02-10,true,New\n'


def _plan(old: str, new: str) -> str:
    assert old in PLAN
    return PLAN.replace(old, new)


LONG = "x" * 131073
CASES = {
    "decimal comma": (
        {"deals_csv": _deal("1,5")},
        "deals.csv, line 2, column amount: not a number: '1,5'",
    ),
    "decimal comma with a point for thousands": (
        {"deals_csv": _deal("2.500,75")},
        "deals.csv, line 2, column amount: not a number: '2.500,75'",
    ),
    "split above 100": (
        {"splits_csv": "deal_id,rep_id,percent\nD1,R1,150\nD1,R2,-50\n"},
        "splits.csv, line 2, column percent: must be between 0 and 100, not 150",
    ),
    "negative split": (
        {"splits_csv": "deal_id,rep_id,percent\nD1,R2,-50\nD1,R1,150\n"},
        "splits.csv, line 2, column percent: must be between 0 and 100, not -50",
    ),
    "overlay of 250%": (
        {"splits_csv": SPLITS + "D1,R2,250,overlay\n"},
        "splits.csv, line 4, column percent: must be between 0 and 100, not 250",
    ),
    "duplicate CSV header": (
        {"deals_csv": "id,owner_id,amount,close_date,is_won,amount\nD1,R1,1,2026-02-10,true,2\n"},
        "deals.csv, line 1, column amount: duplicate column",
    ),
    "duplicate YAML key": (
        {"plan_yaml": _plan("rate: 0.1\n", "rate: 0.1\n        rate: 0.2\n")},
        "plan.yaml, line 9, column 9: duplicate key 'rate'",
    ),
    "row shorter than the header": (
        {"deals_csv": "id,owner_id,amount,close_date,is_won,type\nD1,R1,1000,2026-02-10\n"},
        "deals.csv, line 2, column is_won: row too short: 4 values for 6 header columns",
    ),
    "end date before hire date": (
        {"reps_csv": REPS.replace("R1,Ada,,ae,,", "R1,Ada,,ae,2026-03-01,2026-02-01")},
        "reps.csv, line 2, column end_date: 2026-02-01 is before hire_date 2026-03-01",
    ),
    "negative rep quota": (
        {"reps_csv": REPS.replace("R1,Ada,,ae,,,,", "R1,Ada,,ae,,,-5000,")},
        "reps.csv, line 2, column quota: must not be negative: '-5000'",
    ),
    "negative target incentive": (
        {"reps_csv": REPS.replace("R1,Ada,,ae,,,,", "R1,Ada,,ae,,,,-1")},
        "reps.csv, line 2, column target_incentive: must not be negative: '-1'",
    ),
    "clawback percent 2": (
        {"plan_yaml": _plan("percent: 1}", "percent: 2}")},
        "plan.yaml: plans[0].clawback.percent: must be at most 1",
    ),
    "team role of 500%": (
        {"plan_yaml": _plan("Sales Engineer: 100", "Sales Engineer: 500")},
        "plan.yaml: crediting.team_roles.Sales Engineer: 500% is above 100%",
    ),
    "rate of 10": (
        {"plan_yaml": _plan("rate: 0.1", "rate: 10")},
        "plan.yaml: plans[0].components[0].rate: 10 is above 1 (100%)",
    ),
    "tier rate of 8": (
        {
            "plan_yaml": _plan(
                "rate: 0.1", "tiers: {table: [{from: 0, rate: 0.05}, {from: 1, rate: 8}]}"
            )
        },
        "plan.yaml: plans[0].components[0].tiers.table[1].rate: 8 is above 1 (100%)",
    ),
    "unclosed CSV quote": (
        {"deals_csv": 'id,owner_id,amount,close_date,is_won,type\nD1,R1,"1000,2026-02-10,t,N\n'},
        "deals.csv, line 2: unclosed quote",
    ),
    "impossible plan date": (
        {
            "plan_yaml": PLAN.replace(
                "        rate: 0.1\n",
                "        rate: 0.1\n      - id: s\n        type: spiff\n"
                "        window: {start: 2026-01-01, end: 2026-02-30}\n"
                "        payout: {per_deal: 100}\n",
            )
        },
        "plan.yaml, line 11, column 42: not a real date: '2026-02-30'",
    ),
    "amount of 1e26": (
        {"deals_csv": _deal("100000000000000000000000000")},
        "deals.csv, line 2, column amount: '100000000000000000000000000' is too large",
    ),
    "plan quota of 1e30": (
        {"plan_yaml": _plan("amount: 100000", "amount: 1e30")},
        "plan.yaml: plans[0].quota.amount: 1E+30 is not a usable number",
    ),
    "rep quota of 1e30": (
        {"reps_csv": REPS.replace("R1,Ada,,ae,,,,", "R1,Ada,,ae,,,1e30,")},
        "reps.csv, line 2, column quota: '1e30' is too large",
    ),
    "CSV field over 131,072 characters": (
        {"deals_csv": f"id,owner_id,amount,close_date,is_won,type\nD1,R1,1,2026-02-10,t,{LONG}\n"},
        "deals.csv, line 2: a value longer than 131,072 characters",
    ),
    "plan error found while calculating": (
        {"plan_yaml": _plan("rate: 0.1", "tiers: {table: [{from: 0, base_rate_multiple: 1}]}")},
        "plan.yaml: plans[0].components[0]: base_rate_multiple needs a target incentive",
    ),
}


@pytest.mark.parametrize(("changes", "message"), CASES.values(), ids=CASES.keys())
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, str],
    message: str,
) -> None:
    status, err = _run(tmp_path, capsys, **changes)
    assert status == 2
    assert err.startswith(f"quotaflow calc: error: {message}"), err


def test_the_good_files_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, capsys)[0] == 0


def test_thousands_separators_are_still_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, capsys, deals_csv=_deal("1,250.50"))[0] == 0


def test_a_rate_above_one_is_allowed_when_the_component_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan("rate: 0.1", "rate: 10\n        allow_rate_above_one: true")
    assert _run(tmp_path, capsys, plan_yaml=plan)[0] == 0


def test_plans_imported_for_the_sync_refuse_duplicate_keys_and_impossible_dates() -> None:
    from calc.errors import PlanError
    from connector.sync.plans import parse_plan_text

    for text, reason in (
        (_plan("rate: 0.1\n", "rate: 0.1\n        rate: 0.2\n"), "duplicate key 'rate'"),
        ("id: p\nx: 2026-02-30\n", "not a real date: '2026-02-30'"),
    ):
        with pytest.raises(PlanError) as info:
            parse_plan_text(text, source="upload")
        assert info.value.path.startswith("line ")
        assert reason in info.value.reason
