"""One definition of what is due when (issue 14): an order without a payment plan is due in full on its
date, in `order show`, the 360° view and `report receivables` alike; a payment before its order is refused.

Old code: such an order was overdue 0 in `order show` and the 360° view but "31-60 days" in
`report receivables` (57% of the demo's receivables).
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.l2c.helpers import fails, ok, order_for, setting


def _views(run: Run, order: str, day: str) -> tuple[str, str, str, dict]:
    shown = json.loads(ok(run, "order", "show", order, "--format", "json", day=day))
    view = json.loads(ok(run, "account", "show", "acme", "--format", "json", day=day))
    (row,) = [r for r in view["receivables"]["rows"] if r["number"] == shown["number"]]
    aging = json.loads(ok(run, "report", "receivables", "--format", "json", day=day))
    return shown["status"], shown["overdue"], row["overdue"], aging[0]


def test_an_order_without_a_plan_is_due_on_its_date_everywhere(run: Run) -> None:
    order = order_for(run, "10000")  # dated 2026-08-01, no plan
    assert _views(run, order, "2026-08-01")[:3] == ("open", "0.00", "0.00")
    # 2026-09-15 is 45 days after 2026-08-01: overdue in all three, in the 31-60 column
    status, shown, view, aging = _views(run, order, "2026-09-15")
    assert (status, shown, view) == ("overdue", "10000.00", "10000.00")
    assert (aging["31-60"], aging["total"]) == ("10000.00", "10000.00")


def test_the_grace_days_count_in_the_aging_too(run: Run, book: Path) -> None:
    setting(book, "overdue_grace_days: 0", "overdue_grace_days: 20")
    order = order_for(run, "10000")
    # 45 days after the order date less 20 days of grace: 25 days overdue
    status, shown, view, aging = _views(run, order, "2026-09-15")
    assert (status, shown, view, aging["1-30"]) == ("overdue", "10000.00", "10000.00", "10000.00")
    # 15 days after: within the grace, so current everywhere
    status, shown, view, aging = _views(run, order, "2026-08-16")
    assert (status, shown, view, aging["current"]) == ("open", "0.00", "0.00", "10000.00")


def test_a_payment_dated_before_its_order_is_refused(run: Run, book: Path) -> None:
    order = order_for(run, "10000")
    line = fails(run, "payment", "record", order, "--amount", "100", "--date", "2026-07-31")
    assert line == ("error: --date 2026-07-31: that is before order SO-2026-0001's date (2026-08-01); a payment pays "
                    "an order that exists — date it on or after the order")
    pay = ok(run, "payment", "record", order, "--amount", "100", "--date", "2026-08-01")
    path = book / "records" / "payments" / f"{pay}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2026-08-01", "2026-07-01"), encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1 and "date 2026-07-01 is before order SO-2026-0001's date 2026-08-01" in result.stdout
