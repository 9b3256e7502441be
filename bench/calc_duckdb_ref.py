"""`quotaflow calc` end to end beside an independent DuckDB query computing the same figures.

Run: .venv/bin/python bench/calc_duckdb_ref.py [--reps 10000] [--deals 1000000]
       [--dir /tmp/calc-ref] [--runs N] [--threads N] [--jobs N]

Writes the inputs `quotaflow calc` takes (plan.yaml, reps.csv, deals.csv, splits.csv; the
generators of bench/calc_bench.py), then runs, each in its own child process:

1. `quotaflow calc --format json` with stdout to a file;
2. the DuckDB reference (this file, `--reference`): one SQL script over the same CSV files,
   exact DECIMAL arithmetic, writing its results, lines and credits to CSV files.

It prints each one's wall time, CPU time and peak RSS (from `os.wait4`, per child: the CPU
of a child's own waited-for workers included, its peak RSS the largest of theirs, not the
sum), the peak PSS of each child's process tree (sampled), and the ratios, then
compares, per rep and period, quota, credit, attainment, year-to-date attainment, every
component, gross and net, the number of lines and a digest of every line (component, deal,
credit type, base, rate, amount in order), and the number and sum of credits. Any mismatch
is printed; the exit status is 1 if there is one.

What the reference covers (the plan of this bench, `bench_plan`): monthly periods; owner
credit and 60/40 revenue splits with the remainder rule (a split's cents go to the largest
exact share, the first rep id on ties); the default eligibility (won deals); credit in
credit-date order (close date, deal id, credit type); a marginal attainment-tiered
commission (5% / 8% / 12% above quota) with an accelerator multiplier (x1.25 at 150%+), a
quota bonus at 100%, a per-deal SPIFF over a window with criteria and `max_payouts`, a
manager plan whose gated override pays nothing without rollup credit; lines rounded half up
with the remainder rule per component; attainment and year-to-date attainment to four
places. It does not cover caps, draws, clawbacks, proration or ramps, rollup, overlays and
team credit, currencies, adjustments or effective dating (the engine's tests and the
differential tests cover those).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from calc_bench import generate

ROOT = Path(__file__).resolve().parents[1]
TIERS = (
    (Decimal(0), Decimal("0.05")),
    (Decimal("0.5"), Decimal("0.08")),
    (Decimal(1), Decimal("0.12")),
)
ACCELERATOR = (Decimal("1.5"), Decimal("1.25"))  # attainment from which, factor
BONUS = (Decimal(1), Decimal(2000))  # attainment from which, amount
SPIFF = (date(2026, 1, 1), date(2026, 3, 31), "Analytics", Decimal(500), 5)
MGR_RATE, MGR_GATE = Decimal("0.01"), Decimal("0.5")
MEAN_WON = Decimal(45_450)  # mean amount (1,000..100,000) times the 90% won


def bench_plan(annual_quota: Decimal) -> dict[str, Any]:
    """The plan document of this bench (see the module docstring for what it exercises)."""
    first, last, family, per_deal, max_payouts = SPIFF
    return {
        "plans": [
            {
                "id": "ae",
                "currency": "USD",
                "period": "month",
                "quota": {"annual": annual_quota},
                "components": [
                    {
                        "id": "commission",
                        "type": "commission",
                        "tiers": {
                            "basis": "attainment",
                            "mode": "marginal",
                            "table": [{"from": s, "rate": r} for s, r in TIERS],
                        },
                        "multipliers": [
                            {"min_attainment": ACCELERATOR[0], "factor": ACCELERATOR[1]}
                        ],
                    },
                    {
                        "id": "spiff",
                        "type": "spiff",
                        "window": {"start": first, "end": last},
                        "criteria": [{"field": "product_family", "op": "eq", "value": family}],
                        "payout": {"per_deal": per_deal},
                        "max_payouts": max_payouts,
                    },
                    {
                        "id": "bonus",
                        "type": "bonus",
                        "min_attainment": BONUS[0],
                        "amount": BONUS[1],
                    },
                ],
            },
            {
                "id": "mgr",
                "currency": "USD",
                "period": "month",
                "credit_types": ["rollup"],
                "quota": {"amount": Decimal(2_000_000)},
                "components": [
                    {
                        "id": "override",
                        "type": "commission",
                        "rate": MGR_RATE,
                        "gate": {"min_attainment": MGR_GATE},
                    }
                ],
            },
        ]
    }


class _Dumper(yaml.SafeDumper):
    """Decimals as plain YAML numbers."""


_Dumper.add_representer(
    Decimal,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:float" if "." in str(value) else "tag:yaml.org,2002:int", str(value)
    ),
)


def write_inputs(folder: Path, n_reps: int, n_deals: int) -> None:
    """The bench's inputs as `quotaflow calc` files: about one attainment per rep-month."""
    _doc, reps, deals, splits = generate(n_reps, n_deals)
    aes = sum(1 for r in reps if r.plan_id == "ae")
    # An annual quota near what an AE closes in a year, a multiple of 1,200 (exact months).
    annual = (MEAN_WON * n_deals / aes / 1200).quantize(Decimal(1), ROUND_HALF_UP) * 1200
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "plan.yaml").open("w") as f:
        yaml.dump(bench_plan(max(annual, Decimal(1200))), f, Dumper=_Dumper, sort_keys=False)
    with (folder / "reps.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(("id", "name", "manager_id", "plan_id"))
        out.writerows((r.id, f"Rep {r.id}", r.manager_id or "", r.plan_id) for r in reps)
    with (folder / "deals.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(
            ("id", "name", "owner_id", "amount", "close_date", "is_won", "type", "product_family")
        )
        out.writerows(
            (
                d.id,
                f"Deal {d.id}",
                d.owner_id,
                d.amount,
                d.close_date,
                "true" if d.is_won else "false",
                "New Business",
                d.product_family,
            )
            for d in deals
        )
    with (folder / "splits.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(("deal_id", "rep_id", "percent", "split_type"))
        out.writerows((s.deal_id, s.rep_id, s.percent, s.split_type) for s in splits)


# The reference. Money is DECIMAL throughout (DuckDB's ROUND on a DECIMAL rounds half away
# from zero: calc.money's ROUND_HALF_UP); no division (DuckDB divides DECIMALs in DOUBLE):
# shares multiply by 0.01, attainment is compared as credit >= threshold x quota and rounded
# to four places in integer arithmetic.
SQL = """
CREATE TEMP TABLE reps AS SELECT * FROM read_csv('{dir}/reps.csv', header = true,
    columns = {{'id': 'VARCHAR', 'name': 'VARCHAR', 'manager_id': 'VARCHAR',
                'plan_id': 'VARCHAR'}});
CREATE TEMP TABLE deals AS SELECT * FROM read_csv('{dir}/deals.csv', header = true,
    columns = {{'id': 'VARCHAR', 'name': 'VARCHAR', 'owner_id': 'VARCHAR',
                'amount': 'DECIMAL(18,2)', 'close_date': 'DATE', 'is_won': 'BOOLEAN',
                'type': 'VARCHAR', 'product_family': 'VARCHAR'}});
CREATE TEMP TABLE splits AS SELECT * FROM read_csv('{dir}/splits.csv', header = true,
    columns = {{'deal_id': 'VARCHAR', 'rep_id': 'VARCHAR', 'percent': 'DECIMAL(5,2)',
                'split_type': 'VARCHAR'}});

-- Credits: the owner takes 100% of a won deal without revenue splits; split holders their
-- share, cents by the remainder rule (to the largest exact share, the first rep id on ties).
CREATE TEMP TABLE shares AS
SELECT s.deal_id, s.rep_id, sum(s.percent) AS percent,
       d.amount * sum(s.percent) * 0.01 AS part, d.close_date, d.product_family, d.amount
FROM splits s JOIN deals d ON d.id = s.deal_id
WHERE d.is_won AND s.split_type = 'revenue'
GROUP BY s.deal_id, s.rep_id, d.amount, d.close_date, d.product_family;
CREATE TEMP TABLE credits AS
SELECT d.id AS deal_id, d.owner_id AS rep_id, 'owner' AS credit_type,
       100.00::DECIMAL(5,2) AS percent, d.amount::DECIMAL(18,2) AS amount, d.close_date,
       d.product_family
FROM deals d JOIN reps r ON r.id = d.owner_id
WHERE d.is_won AND d.id NOT IN (SELECT deal_id FROM splits WHERE split_type = 'revenue')
UNION ALL
SELECT deal_id, rep_id, 'split', percent,
       (round(part, 2) + CASE WHEN row_number() OVER w = 1
            THEN amount - sum(round(part, 2)) OVER (PARTITION BY deal_id) ELSE 0 END
       )::DECIMAL(18,2),
       close_date, product_family
FROM shares
WINDOW w AS (PARTITION BY deal_id ORDER BY abs(part) DESC, rep_id);

-- Every rep's twelve months, quota, credit and year-to-date figures.
CREATE TEMP TABLE periods AS
SELECT r.id AS rep_id, r.plan_id, m.start,
       CASE r.plan_id WHEN 'ae' THEN {quota} ELSE 2000000 END::DECIMAL(18,2) AS quota,
       coalesce(c.credit, 0)::DECIMAL(18,2) AS credit
FROM reps r
CROSS JOIN (SELECT range::DATE AS start
            FROM range(DATE '2026-01-01', DATE '2027-01-01', INTERVAL 1 MONTH)) m
LEFT JOIN (SELECT rep_id, date_trunc('month', close_date)::DATE AS start,
                  sum(amount) AS credit
           FROM credits GROUP BY ALL) c
       ON c.rep_id = r.id AND c.start = m.start AND r.plan_id = 'ae'
WHERE r.plan_id IN ('ae', 'mgr');
CREATE TEMP TABLE results AS
SELECT *, sum(credit) OVER y AS credit_ytd, sum(quota) OVER y AS quota_ytd
FROM periods
WINDOW y AS (PARTITION BY rep_id ORDER BY start ROWS UNBOUNDED PRECEDING);

-- Commission: each credit's move of the running total split across the tiers (marginal),
-- x1.25 from 150% attainment.
CREATE TEMP TABLE ordered AS
SELECT c.*, date_trunc('month', c.close_date)::DATE AS start,
       sum(c.amount) OVER (PARTITION BY c.rep_id, date_trunc('month', c.close_date)
           ORDER BY c.close_date, c.deal_id, c.credit_type ROWS UNBOUNDED PRECEDING) AS hi,
       row_number() OVER (PARTITION BY c.rep_id, date_trunc('month', c.close_date)
           ORDER BY c.close_date, c.deal_id, c.credit_type) AS seq
FROM credits c JOIN reps r ON r.id = c.rep_id AND r.plan_id = 'ae';
CREATE TEMP TABLE tiers AS SELECT * FROM (VALUES {tiers}) t(tier, edge, next_edge, rate);
CREATE TEMP TABLE raw AS
SELECT o.rep_id, o.start, 1 AS comp, o.seq * 10 + t.tier AS pos, o.deal_id, o.credit_type,
       (least(o.hi, coalesce(t.next_edge * p.quota, o.hi))
        - CASE WHEN t.tier = 0 THEN o.hi - o.amount
               ELSE greatest(o.hi - o.amount, t.edge * p.quota) END)::DECIMAL(18,2) AS base,
       CASE WHEN p.credit >= {acc_from} * p.quota THEN t.rate * {acc_factor}
            ELSE t.rate END::DECIMAL(18,6) AS rate
FROM ordered o JOIN results p ON p.rep_id = o.rep_id AND p.start = o.start, tiers t
WHERE least(o.hi, coalesce(t.next_edge * p.quota, o.hi))
      > CASE WHEN t.tier = 0 THEN o.hi - o.amount
             ELSE greatest(o.hi - o.amount, t.edge * p.quota) END
UNION ALL
-- SPIFF: the rep's first {max_payouts} qualifying credits in the window, per deal.
SELECT rep_id, start, 2, seq, deal_id, credit_type, (percent * 0.01)::DECIMAL(18,2),
       {per_deal}::DECIMAL(18,6)
FROM (SELECT o.*, row_number() OVER (PARTITION BY o.rep_id
          ORDER BY o.close_date, o.deal_id, o.credit_type) AS n
      FROM ordered o
      WHERE o.close_date BETWEEN DATE '{spiff_from}' AND DATE '{spiff_to}'
        AND o.product_family = '{family}')
WHERE n <= {max_payouts}
UNION ALL
-- The quota bonus.
SELECT rep_id, start, 3, 0, NULL, NULL, {bonus}::DECIMAL(18,2), 1::DECIMAL(18,6)
FROM results WHERE plan_id = 'ae' AND credit >= {bonus_from} * quota
UNION ALL
-- The managers' override: gated at 50% (no rollup credit: the gate's zero line).
SELECT rep_id, start, 1, 0, NULL, NULL, 0::DECIMAL(18,2), 0::DECIMAL(18,6)
FROM results WHERE plan_id = 'mgr' AND credit < {gate} * quota;

-- Lines rounded half up, each component's cents by the remainder rule (to the largest exact
-- amount, the first line on ties).
CREATE TEMP TABLE lines AS
SELECT rep_id, start, comp, pos, deal_id, credit_type, base, rate,
       (round(base * rate, 2) + CASE WHEN row_number() OVER w = 1
            THEN round(sum(base * rate) OVER c, 2) - sum(round(base * rate, 2)) OVER c
            ELSE 0 END)::DECIMAL(18,2) AS amount
FROM raw
WINDOW c AS (PARTITION BY rep_id, start, comp),
       w AS (PARTITION BY rep_id, start, comp ORDER BY abs(base * rate) DESC, pos);

CREATE TEMP TABLE totals AS
SELECT r.rep_id, r.plan_id, strftime(r.start, '%Y-%m') AS period, r.quota, r.credit,
       ((r.credit * 100)::HUGEINT * 20000 + (r.quota * 100)::HUGEINT)
           // ((r.quota * 100)::HUGEINT * 2) AS attainment_bp,
       ((r.credit_ytd * 100)::HUGEINT * 20000 + (r.quota_ytd * 100)::HUGEINT)
           // ((r.quota_ytd * 100)::HUGEINT * 2) AS attainment_ytd_bp,
       coalesce(sum(l.amount) FILTER (WHERE l.comp = 1), 0) AS comp1,
       coalesce(sum(l.amount) FILTER (WHERE l.comp = 2), 0) AS comp2,
       coalesce(sum(l.amount) FILTER (WHERE l.comp = 3), 0) AS comp3,
       coalesce(sum(l.amount), 0) AS gross,
       count(l.amount) AS n_lines
FROM results r LEFT JOIN lines l ON l.rep_id = r.rep_id AND l.start = r.start
GROUP BY ALL;

COPY (SELECT * FROM totals ORDER BY rep_id, period) TO '{out}/totals.csv' (HEADER);
COPY (SELECT rep_id, strftime(start, '%Y-%m') AS period, comp, pos, deal_id, credit_type,
             base, rate, amount FROM lines ORDER BY rep_id, start, comp, pos)
     TO '{out}/lines.csv' (HEADER);
COPY (SELECT rep_id, strftime(date_trunc('month', close_date), '%Y-%m') AS period,
             count(*) AS n, sum(amount) AS amount
      FROM credits GROUP BY ALL ORDER BY ALL) TO '{out}/credit_totals.csv' (HEADER);
COPY (SELECT * FROM credits ORDER BY rep_id, close_date, deal_id, credit_type)
     TO '{out}/credits.csv' (HEADER);
"""


# Verification only, after the timed runs: a digest of every line of the reference, per rep
# and period, in the text the contract prints (rates without trailing zeros past two places).
DIGEST_SQL = """
SELECT t.rep_id, t.period,
       md5(coalesce(string_agg(
           concat_ws('|', CASE l.comp WHEN 1 THEN CASE t.plan_id WHEN 'ae' THEN 'commission'
                                                   ELSE 'override' END
                                      WHEN 2 THEN 'spiff' ELSE 'bonus' END,
                     coalesce(l.deal_id, ''), coalesce(l.credit_type, ''),
                     l.base::VARCHAR,
                     regexp_replace(l.rate::VARCHAR, '(\\.\\d\\d\\d*?)0+$', '\\1'),
                     l.amount::VARCHAR), ';' ORDER BY l.comp, l.pos)
           FILTER (WHERE l.comp IS NOT NULL), '')) AS digest
FROM read_csv('{out}/totals.csv', header = true, all_varchar = true) t
LEFT JOIN read_csv('{out}/lines.csv', header = true,
    columns = {{'rep_id': 'VARCHAR', 'period': 'VARCHAR', 'comp': 'INTEGER', 'pos': 'BIGINT',
                'deal_id': 'VARCHAR', 'credit_type': 'VARCHAR', 'base': 'DECIMAL(18,2)',
                'rate': 'DECIMAL(18,6)', 'amount': 'DECIMAL(18,2)'}}) l
       ON l.rep_id = t.rep_id AND l.period = t.period
GROUP BY ALL
"""


def reference_sql(folder: Path, out: Path) -> str:
    """The reference's SQL over the inputs in `folder`, writing its CSV files to `out`."""
    plan = yaml.safe_load((folder / "plan.yaml").read_text())
    annual = Decimal(str(plan["plans"][0]["quota"]["annual"]))
    first, last, family, per_deal, max_payouts = SPIFF
    tiers = ", ".join(
        f"({i}, {start}, {TIERS[i + 1][0] if i + 1 < len(TIERS) else 'NULL'}, {rate})"
        for i, (start, rate) in enumerate(TIERS)
    )
    return SQL.format(
        dir=folder,
        out=out,
        quota=annual / 12,
        tiers=tiers,
        acc_from=ACCELERATOR[0],
        acc_factor=ACCELERATOR[1],
        spiff_from=first,
        spiff_to=last,
        family=family,
        per_deal=per_deal,
        max_payouts=max_payouts,
        bonus=BONUS[1],
        bonus_from=BONUS[0],
        gate=MGR_GATE,
    )


def run_reference(folder: Path, out: Path, threads: int | None) -> None:
    """The DuckDB reference, end to end (this file's `--reference` child process)."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    con.execute(reference_sql(folder, out))


# -- Reading `quotaflow calc`'s JSON without loading it whole (a gigabyte at a million deals):
# the contract's layout is fixed (json.dumps indent=1), so each key sits on its own line.

Totals = dict[tuple[str, str], tuple[str, ...]]


def _blocks(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(section, item) for every item of `results`, `credits` and `unresolved`: each item is
    the text between a line `  {` and the next line `  }`, parsed on its own."""
    section = ""
    block: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if block:
                block.append(line)
                if line.startswith("  }"):
                    yield section, json.loads("".join(block).rstrip().rstrip(","))
                    block = []
            elif line.startswith("  {"):
                block.append(line)
            elif line.startswith(' "'):
                section = line[2 : line.index('"', 2)]


def calc_totals(path: Path) -> tuple[Totals, Totals, int]:
    """Per rep and period from the calc JSON: the figures the reference computes, and the
    credits' count and sum; and how many deals are unresolved."""
    results: Totals = {}
    credits: dict[tuple[str, str], list[Decimal]] = {}
    unresolved = 0
    for section, item in _blocks(path):
        if section == "results":
            comps = list(item["components"].values())
            comps += ["0.00"] * (3 - len(comps))
            text = ";".join(
                "|".join(
                    line[k] or ""
                    for k in ("component", "deal_id", "credit_type", "base", "rate", "amount")
                )
                for line in item["lines"]
            )
            results[(item["rep_id"], item["period"])] = (
                item["plan_id"],
                item["quota"],
                item["credit"],
                item["attainment"],
                item["attainment_ytd"],
                *comps,
                item["gross"],
                item["net"],
                str(len(item["lines"])),
                hashlib.md5(text.encode()).hexdigest(),
            )
        elif section == "credits":
            found = credits.setdefault((item["rep_id"], item["period"]), [Decimal(0)] * 2)
            found[0] += 1
            found[1] += Decimal(item["amount"])
        else:
            unresolved += 1
    counted = {k: (str(int(n)), str(amount)) for k, (n, amount) in credits.items()}
    return results, counted, unresolved


def reference_totals(out: Path) -> tuple[Totals, Totals]:
    """The same figures from the reference's CSV files."""
    results: Totals = {}
    import duckdb

    digests = {
        (rep, period): digest
        for rep, period, digest in duckdb.sql(DIGEST_SQL.format(out=out)).fetchall()
    }
    with (out / "totals.csv").open() as f:
        for row in csv.DictReader(f):
            gross = row["gross"]
            results[(row["rep_id"], row["period"])] = (
                row["plan_id"],
                row["quota"],
                row["credit"],
                _bp(row["attainment_bp"]),
                _bp(row["attainment_ytd_bp"]),
                row["comp1"],
                row["comp2"],
                row["comp3"],
                gross,
                gross,  # net: this plan has no draws or clawbacks
                row["n_lines"],
                digests[(row["rep_id"], row["period"])],
            )
    with (out / "credit_totals.csv").open() as f:
        credits = {(r["rep_id"], r["period"]): (r["n"], r["amount"]) for r in csv.DictReader(f)}
    return results, credits


def _bp(basis_points: str) -> str:
    return str((Decimal(basis_points) / 10_000).quantize(Decimal("0.0001")))


FIELDS = (
    "plan_id", "quota", "credit", "attainment", "attainment_ytd", "commission", "spiff",
    "bonus", "gross", "net", "lines", "line digest",
)  # fmt: skip


def compare(calc_out: Path, ref_out: Path) -> int:
    """Print every difference between the two; the number of differences."""
    got, got_credits, unresolved = calc_totals(calc_out)
    want, want_credits = reference_totals(ref_out)
    bad = 0
    for key in sorted(got.keys() | want.keys()):
        a, b = got.get(key), want.get(key)
        if a is None or b is None:
            bad += 1
            print(f"  {key}: only in {'the reference' if a is None else 'calc'}")
            continue
        for name, x, y in zip(FIELDS, a, b, strict=True):
            if x != y:
                bad += 1
                if bad <= 20:
                    print(f"  {key} {name}: calc {x}, reference {y}")
    for key in sorted(got_credits.keys() | want_credits.keys()):
        if got_credits.get(key) != want_credits.get(key):
            bad += 1
            if bad <= 20:
                print(f"  {key} credits: calc {got_credits.get(key)}, ref {want_credits.get(key)}")
    if unresolved:
        bad += 1
        print(f"  calc reports {unresolved} unresolved deals; the reference none")
    n_credits = sum(int(n) for n, _ in want_credits.values())
    print(
        f"compared {len(want)} rep-periods (every figure, every line by digest) and "
        f"{n_credits} credits: {bad} mismatches"
    )
    return bad


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds, peak RSS in MB, and the peak of the
    proportional set size (PSS) summed over it and its own children, sampled, in MB."""

    wall: float
    cpu: float
    peak_mb: float
    tree_pss_mb: float


def _child(argv: list[str], *, stdout: Path | None = None) -> Run:
    """Run a child to the end; its own rusage (os.wait4), not the sum of all children.

    ru_maxrss is the larger of the child's peak and its waited-for children's, never their
    sum: a `quotaflow calc --jobs 2` forks a worker, so the memory of the whole tree is also
    sampled (the PSS of each process, in which a page shared after a fork counts once)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, env=env, cwd=ROOT)
    sampler = _TreePss(proc.pid)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout is not None:
        out.close()  # type: ignore[union-attr]
    if proc.returncode:
        raise SystemExit(f"{argv[:3]} failed with status {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, sampler.peak_kb / 1024)


class _TreePss(threading.Thread):
    """The largest PSS sum over a process and its descendants, sampled every 50 ms (Linux)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.pid)))


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def main() -> None:
    """Generate the inputs, run both, print the figures and compare."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/calc-ref"))
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: all cores)")
    parser.add_argument("--runs", type=int, default=1, help="run each this many times")
    parser.add_argument(
        "--jobs", type=int, help="quotaflow calc --jobs (default: not given, calc chooses)"
    )
    parser.add_argument("--reference", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        run_reference(*args.reference, args.threads)
        return
    folder: Path = args.dir / f"{args.reps}-{args.deals}"
    if not (folder / "splits.csv").exists():
        t0 = time.perf_counter()
        write_inputs(folder, args.reps, args.deals)
        print(f"inputs written to {folder} in {time.perf_counter() - t0:.0f}s")
    # Compiled once, as an installed package is: the runs time the work, not compiling it.
    _child([sys.executable, "-m", "compileall", "-q", "calc", "mappings", "connector", "webapp"])
    calc_json, ref_out = folder / "calc.json", folder / "reference"
    exe = str(Path(sys.executable).parent / "quotaflow")
    calc_argv = [exe, "calc", "--plan", str(folder / "plan.yaml")]
    calc_argv += ["--reps", str(folder / "reps.csv"), "--deals", str(folder / "deals.csv")]
    calc_argv += ["--splits", str(folder / "splits.csv"), "--from", "2026-01-01"]
    calc_argv += ["--to", "2026-12-31"]
    if args.jobs is not None:
        calc_argv += ["--jobs", str(args.jobs)]
    ref_argv = [sys.executable, __file__, "--reference", str(folder), str(ref_out)]
    ref_argv += ["--threads", str(args.threads)]
    print(f"{args.reps} reps, {args.deals} deals; load average before {_load()}")
    for i in range(args.runs):
        ref = _child(ref_argv)
        calc = _child(calc_argv, stdout=calc_json)
        size = calc_json.stat().st_size / 1e6
        print(f"run {i + 1}: (load average {_load()})")
        print(f"  DuckDB reference: {_figures(ref)}")
        print(f"  quotaflow calc:   {_figures(calc)}; {size:.0f} MB of JSON")
        print(
            f"  ratio: {calc.wall / ref.wall:.1f}x wall time (target <= 4), "
            # On a loaded machine the single-threaded calc waits for a core far longer than
            # DuckDB does: the CPU ratio shows the work apart from the load.
            f"{calc.cpu / ref.cpu:.1f}x CPU time, "
            f"{calc.peak_mb / ref.peak_mb:.1f}x peak RSS; calc peak (the larger of its "
            f"peak RSS and its process tree's peak PSS) "
            f"{'within' if max(calc.peak_mb, calc.tree_pss_mb) <= 1200 else 'ABOVE'} 1.2 GB"
        )
    bad = compare(calc_json, ref_out)
    if bad:
        raise SystemExit(1)


def _figures(run: Run) -> str:
    return (
        f"{run.wall:.1f}s wall, {run.cpu:.1f}s CPU, peak RSS {run.peak_mb:.0f} MB, "
        f"process tree's peak PSS {run.tree_pss_mb:.0f} MB"
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
