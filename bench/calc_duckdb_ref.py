"""`quotaflow calc` end to end beside an independent DuckDB query computing the same figures.

Run: .venv/bin/python bench/calc_duckdb_ref.py [--reps 10000] [--deals 1000000]
       [--dir /tmp/calc-ref] [--keep] [--skip-calc] [--threads N]

Writes the inputs `quotaflow calc` takes (plan.yaml, reps.csv, deals.csv, splits.csv; the
generators of bench/calc_bench.py), then runs, each in its own child process:

1. `quotaflow calc --format json` with stdout to a file;
2. the DuckDB reference (this file, `--reference`): one SQL script over the same CSV files,
   exact DECIMAL arithmetic, writing its results, lines and credits to CSV files.

It prints each one's wall time and peak RSS (from `os.wait4`, per child) and the ratios, then
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
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from calc_bench import generate

ROOT = Path(__file__).resolve().parents[1]
TIERS = ((Decimal(0), Decimal("0.05")), (Decimal("0.5"), Decimal("0.08")), (Decimal(1), Decimal("0.12")))
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
