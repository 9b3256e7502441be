"""Raw Salesforce records mapped per second on one core, with the default mapping.

Run: .venv/bin/python bench/mapping_bench.py [--records N]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from mappings.compile import compile_mapping
from mappings.defaults import default_mapping
from mappings.records import MappingContext, RecordIssue

STAGES = ["Prospecting", "Negotiation/Review", "Closed Won", "Closed Lost"]
FAMILIES = ["Platform", "Analytics", "Services"]


def opportunity(i: int, rng: random.Random) -> dict[str, Any]:
    """One Opportunity as query JSON, in the shape the devorg and Salesforce return."""
    stage = rng.choice(STAGES)
    return {
        "attributes": {
            "type": "Opportunity",
            "url": f"/services/data/v62.0/sobjects/Opportunity/006{i:015d}",
        },
        "Id": f"006{i:015d}",
        "SystemModstamp": "2026-03-31T17:04:05.000+0000",
        "Name": f"Deal {i}",
        "OwnerId": f"005{rng.randrange(60):015d}",
        "Amount": round(rng.uniform(5_000, 400_000), 2) if i % 50 else None,
        "CloseDate": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "StageName": stage,
        "IsWon": stage == "Closed Won",
        "IsClosed": stage.startswith("Closed"),
        "Type": "New Business",
        "Product_Family__c": rng.choice(FAMILIES),
        "TotalOpportunityQuantity": float(rng.randrange(1, 50)),
        "Term_Months__c": float(rng.choice([12, 24, 36])),
        "Cancel_Date__c": None,
        "CurrencyIsoCode": "USD",
        "Estimated_Commission__c": None,
        "SPIFF_Status__c": None,
    }


def user(i: int, rng: random.Random) -> dict[str, Any]:
    """One User as query JSON."""
    return {
        "attributes": {"type": "User", "url": f"/services/data/v62.0/sobjects/User/005{i:015d}"},
        "Id": f"005{i:015d}",
        "SystemModstamp": "2026-03-31T17:04:05.000+0000",
        "Name": f"Rep {i}",
        "Email": f"rep{i}@example.com",
        "ManagerId": f"005{rng.randrange(6):015d}",
        "IsActive": True,
        "Hire_Date__c": "2025-02-01",
        "End_Date__c": None,
        "Comp_Plan__c": "ae",
        "Quota__c": 250000.0,
        "Target_Incentive__c": 25000.0,
        "CurrencyIsoCode": "USD",
        "Region__c": rng.choice(["NA", "EMEA", "APAC"]),
    }


def measure(
    label: str, fn: Callable[[dict[str, Any]], object], records: list[dict[str, Any]]
) -> float:
    """Map every record once (after a warm-up) and print records per second."""
    for raw in records[:1000]:
        fn(raw)
    start = time.perf_counter()
    issues = sum(isinstance(fn(raw), RecordIssue) for raw in records)
    seconds = time.perf_counter() - start
    rate = len(records) / seconds
    print(
        f"{label:<24} {len(records):>9,} records  {seconds:6.3f} s  "
        f"{rate:>10,.0f} records/s  ({issues} issues)"
    )
    return rate


def main() -> None:
    """Build synthetic records, map them with the default mapping, print the rates."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    compiled = compile_mapping(default_mapping())
    ctx = MappingContext(corporate_currency="USD")
    deals = [opportunity(i, rng) for i in range(args.records)]
    users = [user(i, rng) for i in range(args.records // 4)]
    measure("Opportunity -> Deal", lambda raw: compiled.map_deal(raw, ctx), deals)
    measure("User -> Rep", lambda raw: compiled.map_rep(raw, ctx), users)
    measure("input_hash(Opportunity)", lambda raw: compiled.input_hash(raw, "Opportunity"), deals)


if __name__ == "__main__":
    main()
