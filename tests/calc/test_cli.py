"""`quotaflow calc` end to end: the example files, bad inputs (one line, exit 2, no stdout)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "calc" / "examples"
NAMES = ("plan.yaml", "reps.csv", "deals.csv", "splits.csv", "team.csv")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Copies of the example inputs that a test may spoil."""
    out = {}
    for name in NAMES:
        out[name] = tmp_path / name
        shutil.copy(EXAMPLES / name, out[name])
    return out


def _argv(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "calc",
        "--plan",
        str(files["plan.yaml"]),
        "--reps",
        str(files["reps.csv"]),
        "--deals",
        str(files["deals.csv"]),
        "--splits",
        str(files["splits.csv"]),
        "--team",
        str(files["team.csv"]),
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        *extra,
    ]


def test_example_files_produce_the_contract_json(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(files)) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["currency", "results", "credits", "unresolved"]
    first = out["results"][0]
    assert list(first) == [
        "rep_id",
        "plan_id",
        "period",
        "period_start",
        "period_end",
        "quota",
        "credit",
        "attainment",
        "attainment_ytd",
        "components",
        "gross",
        "draw",
        "net",
        "lines",
    ]
    assert list(first["lines"][0]) == [
        "component",
        "deal_id",
        "credit_type",
        "base",
        "rate",
        "amount",
        "explain",
    ]
    assert list(out["credits"][0]) == [
        "deal_id",
        "rep_id",
        "credit_type",
        "percent",
        "amount",
        "period",
    ]
    r1 = next(r for r in out["results"] if (r["rep_id"], r["period"]) == ("R1", "2026-Q1"))
    # R1 Q1: quota 1,000,000 x 20% = 200,000; credit 60k + 45k + 80k + 70k + 40% of D07 = 295,000.
    # Commission: 0-100k at 5% = 5,000; 100k-200k at 8% = 8,000;
    # 200k-295k at 12% = 11,400 -> 24,400.
    # SPIFF: D02 and D04 are Analytics -> 2 x 500. Bonus 5,000 (147.5% >= 100%).
    assert (r1["quota"], r1["credit"], r1["attainment"]) == ("200000.00", "295000.00", "1.4750")
    assert r1["components"] == {
        "commission": "24400.00",
        "spiff-analytics": "1000.00",
        "quota-bonus": "5000.00",
        "clawback": "0.00",
    }
    assert r1["gross"] == r1["net"] == "30400.00"
    for res in out["results"]:  # lines add up to components, components to gross
        for name, amount in res["components"].items():
            assert sum(
                float(ln["amount"]) * 100 for ln in res["lines"] if ln["component"] == name
            ) == pytest.approx(float(amount) * 100)
    assert out["unresolved"] == [{"deal_id": "D13", "reason": "owner X9 is not a known rep"}]


def test_csv_format_has_one_row_per_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(files, "--format", "csv")) == 0
    rows = capsys.readouterr().out.splitlines()
    assert (
        rows[0] == "rep_id,plan_id,period,period_start,period_end,"
        "component,deal_id,credit_type,base,rate,amount,explain"
    )
    assert (
        "R1,ae,2026-Q1,2026-01-01,2026-03-31,"
        "commission,D01,owner,60000.00,0.05,3000.00,tier 0%-50% of quota at 5%" in rows
    )


def _replace(name: str, old: str, new: str) -> Callable[[dict[str, Path]], None]:
    def spoil(files: dict[str, Path]) -> None:
        path = files[name]
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    return spoil


def _write(name: str, text: str) -> Callable[[dict[str, Path]], None]:
    return lambda files: files[name].write_text(text) and None  # type: ignore[func-returns-value]


BAD = [
    (
        "unknown plan",
        _replace("reps.csv", "R2,Ben Okafor,M1,ae", "R2,Ben Okafor,M1,gold"),
        "reps.csv, line 5, column plan_id: unknown plan 'gold'",
    ),
    (
        "split for unknown deal",
        _replace("splits.csv", "D07,R1,40", "D77,R1,40"),
        "splits.csv, line 3, column deal_id: unknown deal 'D77'",
    ),
    (
        "non-numeric amount",
        _replace("deals.csv", "R1,45000,", "R1,45k,"),
        "deals.csv, line 3, column amount: not a number: '45k'",
    ),
    (
        "date format",
        _replace("deals.csv", "2026-02-18", "18/02/2026"),
        "deals.csv, line 4, column close_date: not a date (expected YYYY-MM-DD): '18/02/2026'",
    ),
    (
        "tiers out of order",
        _replace("plan.yaml", "{from: 1.0, rate: 0.12}", "{from: 0.4, rate: 0.12}"),
        "plan.yaml: plans[0].components[0].tiers.table[2].from: "
        "must be greater than the previous tier's from",
    ),
    (
        "negative rate",
        _replace("plan.yaml", "rate: 0.015", "rate: -0.015"),
        "plan.yaml: plans[1].components[0].rate: must not be negative",
    ),
    (
        "unknown criteria field",
        _replace("plan.yaml", "field: product_family", "field: industry"),
        "plan.yaml: plans[0].components[1].criteria[0].field: no deal column named 'industry'",
    ),
    (
        "ytd with a per-period cap",
        _replace("plan.yaml", "cap: {amount: 60000}", "cap: {amount: 60000}\n        ytd: annual"),
        "plan.yaml: plans[0].components[0].cap.amount: "
        "a year-to-date component is capped per year (cap.annual), not per period",
    ),
    (
        "empty cap",
        _replace("plan.yaml", "cap: {amount: 60000}", "cap: {}"),
        "plan.yaml: plans[0].components[0].cap: give at least one of amount, annual and per_deal",
    ),
    (
        "draw for no periods",
        _replace(
            "plan.yaml",
            "draw: {amount: 3000, recoverable: true}",
            "draw: {amount: 3000, periods: 0}",
        ),
        "plan.yaml: plans[0].draw.periods: must be at least 1",
    ),
    (
        "ytd target incentive without a target",
        _replace(
            "plan.yaml",
            "      - id: quota-bonus\n",
            "      - {id: ti, type: target_incentive, ytd: annual,\n"
            "         curve: {table: [{from: 0, multiplier: 1}]}}\n"
            "      - id: quota-bonus\n",
        ),
        "plan.yaml: plans[0].components[2]: no target incentive for rep R1",
    ),
    ("empty file", _write("team.csv", ""), "team.csv, line 1: empty file (expected a header row)"),
    (
        "missing column",
        _replace("deals.csv", "owner_id", "owner"),
        "deals.csv, line 1, column owner_id: missing column",
    ),
    (
        "yaml syntax",
        _replace("plan.yaml", "period: quarter\n    quota:", "period: [quarter\n    quota:"),
        "plan.yaml, line 7, column 10: YAML syntax error: expected ',' or ']', but got ':'",
    ),
]


@pytest.mark.parametrize(("spoil", "message"), [pytest.param(s, m, id=i) for i, s, m in BAD])
def test_bad_input_is_one_line_exit_2_and_no_output(
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    spoil: Callable[[dict[str, Path]], None],
    message: str,
) -> None:
    spoil(files)
    assert main(_argv(files)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    name = message.split(",")[0].split(":")[0]
    assert lines[0].startswith(f"quotaflow calc: error: {files[name].parent}/{message}"), lines[0]


def test_missing_file_is_named(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    files["splits.csv"].unlink()
    assert main(_argv(files)) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"quotaflow calc: error: {files['splits.csv']}: no such file\n",
    )


def test_real_subprocess_run_matches_the_in_process_bytes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exe = Path(sys.executable).parent / "quotaflow"
    argv = ["calc", "--plan", "calc/examples/plan.yaml", "--reps", "calc/examples/reps.csv"]
    argv += ["--deals", "calc/examples/deals.csv", "--splits", "calc/examples/splits.csv"]
    argv += ["--team", "calc/examples/team.csv", "--from", "2026-01-01", "--to", "2026-12-31"]
    done = subprocess.run([str(exe), *argv], cwd=ROOT, capture_output=True, check=True, timeout=60)
    assert done.stderr == b""
    assert json.loads(done.stdout)["currency"] == "USD"
    absolute = [str(ROOT / a) if a.startswith("calc/") else a for a in argv]
    assert main(absolute) == 0
    assert capsys.readouterr().out.encode() == done.stdout


def _big_deals(files: dict[str, Path], rows: int) -> None:
    """The example deals followed by `rows` more (past any read-ahead buffer of a file)."""
    text = files["deals.csv"].read_text()
    header = text.splitlines()[0].split(",")
    extra = [
        ",".join(
            {"id": f"X{i}", "owner_id": "R1", "amount": "10", "close_date": "2026-02-01"}.get(
                column, ""
            )
            for column in header
        )
        for i in range(rows)
    ]
    files["deals.csv"].write_text(text.rstrip("\n") + "\n" + "\n".join(extra) + "\n")


def test_bad_utf8_deep_in_a_file_gives_the_error_of_reading_it_whole(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Deals are read line by line; a byte that is not UTF-8 far down the file still gives
    # the message (and byte position) of decoding the whole file, even after a bad row.
    _big_deals(files, 20_000)
    data = files["deals.csv"].read_bytes().replace(b"X19990,", b"X19990\xff,")
    # As it is, and with a bad amount on an early line, long before the bad byte.
    for spoiled in (data, data.replace(b"X3,,R1,10,", b"X3,,R1,abc,")):
        files["deals.csv"].write_bytes(spoiled)
        with pytest.raises(UnicodeDecodeError) as whole:
            files["deals.csv"].read_text(encoding="utf-8-sig")
        expected = f"quotaflow calc: error: {files['deals.csv']}: cannot read: {whole.value}\n"
        assert main(_argv(files)) == 2
        assert capsys.readouterr() == ("", expected)


def test_a_bad_row_deep_in_a_big_file_names_its_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _big_deals(files, 20_000)
    data = files["deals.csv"].read_bytes()
    files["deals.csv"].write_bytes(data.replace(b"X19000,,R1,10,", b"X19000,,R1,1O,"))
    line = data[: data.index(b"X19000,")].count(b"\n") + 1
    assert main(_argv(files)) == 2
    assert capsys.readouterr() == (
        "",
        f"quotaflow calc: error: {files['deals.csv']}, line {line}, column amount: "
        "not a number: '1O'\n",
    )


def test_calc_loads_neither_flask_nor_the_database_layer() -> None:
    # Every command imports the `webapp` package (the CLI is webapp.cli); the offline
    # calculation must not pay for the web app's and the store's imports on each run.
    code = (
        "import sys, contextlib, io\n"
        "from webapp.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(sys.argv[1:])\n"
        "heavy = ('flask', 'sqlalchemy', 'simple_salesforce', 'requests', 'connector.store')\n"
        "print(status, sorted(m for m in heavy if m in sys.modules))\n"
    )
    argv = ["calc", "--plan", "calc/examples/plan.yaml", "--reps", "calc/examples/reps.csv"]
    argv += ["--deals", "calc/examples/deals.csv", "--from", "2026-01-01", "--to", "2026-12-31"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    assert done.stdout.decode().split("\n")[-2] == "0 []"
