"""`crmctl report customers`: value rows, growth, RFM quintiles and segments."""
from __future__ import annotations

import json
from pathlib import Path

from crmctl.mcr.value import quintiles, segment
from tests.conftest import Run
from tests.mcr.conftest import put


def test_quintiles_rank_best_highest_and_ties_share() -> None:
    assert quintiles([10, 20, 30, 40, 50], lambda x: x) == [1, 2, 3, 4, 5]
    assert quintiles([5, 5, 5, 9], lambda x: x) == [1, 1, 1, 4]
    assert quintiles([3, 100], lambda d: -d) == [3, 1]  # fewer days since the last order is better
    assert quintiles([], lambda x: x) == []


def test_segments() -> None:
    assert segment(5, 5, 4, 9) == "champions"
    assert segment(5, 1, 2, 1) == "new"
    assert segment(5, 1, 2, 4) == "promising"
    assert segment(3, 3, 4, 5) == "loyal"
    assert segment(1, 5, 5, 20) == "at_risk"
    assert segment(2, 1, 2, 3) == "hibernating"


def test_report_rows_growth_and_segments(run: Run, sales: Path) -> None:
    rows = {r["id"]: r for r in json.loads(run("report", "customers", "--format", "json").stdout)}
    acme = rows["acme"]
    # own figures only (acme-east's order stays with acme-east): 12m 100000 vs 71000 before → +40.8%
    assert (acme["revenue_12m"], acme["revenue_prev_12m"], acme["growth"]) == ("100000.00", "71000.00", "40.8")
    assert (acme["revenue_lifetime"], acme["overdue"], acme["open_pipeline"]) == ("176000.00", "60000.00", "57200.00")
    assert (acme["last_touch"], acme["days_since_touch"]) == ("2026-11-17", 10)
    # two buyers, so scores are 1 or 3: acme (last order 271 days ago, 1 order in 12m, 100000 → M 3)
    # and acme-east (57 days ago → R 3, 1 order, 20000)
    assert (rows["acme"]["rfm"], rows["acme"]["segment"]) == ("113", "hibernating")
    assert (rows["acme-east"]["rfm"], rows["acme-east"]["segment"]) == ("311", "promising")
    assert (rows["baosteel"]["rfm"], rows["baosteel"]["segment"]) == (None, "prospect")


def test_rfm_over_five_buyers(run: Run, book: Path, now: str) -> None:
    accounts, records = ["a1", "a2", "a3", "a4", "a5"], []
    for i, aid in enumerate(accounts):
        records.append(("accounts", aid, {"name": f"Buyer {i}"}))
        for n in range(i + 1):  # a5 buys most, most often, most lately
            day = f"2026-{6 + i:02d}-{10 + n:02d}"
            records.append(("orders", f"{aid}-o{n}", {"number": f"SO-{aid}-{n}", "account": aid, "date": day,
                                                     "currency": "CNY", "total": f"{(i + 1) * 1000}.00"}))
    put(book, records)
    result = run("report", "customers", "--where", "segment!=prospect", "--sort", "-rfm", "--format", "json")
    rows = json.loads(result.stdout)
    assert [(r["id"], r["rfm"], r["segment"]) for r in rows] == [
        ("a5", "555", "champions"), ("a4", "444", "champions"), ("a3", "333", "loyal"),
        ("a2", "222", "hibernating"), ("a1", "111", "hibernating")]


def test_report_table_filter_sort_limit(run: Run, sales: Path) -> None:
    result = run("report", "customers", "--where", "health>0", "--sort", "-health", "--limit", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "name", "tier"] and len(lines) == 3 and lines[2].startswith("acme ")
    csv = run("report", "customers", "--format", "csv", "--where", "id=acme").stdout.splitlines()
    assert csv[0].startswith("id,name,tier,lifecycle,owner,revenue_12m,growth") and csv[1].startswith("acme,ACME Industries,A")
