"""`report customers` from the read model's SQL sums prints what the records give, byte for byte.

The sales book (tests/mcr/conftest.py) has what the sums must get right: a USD order converted at the rate of its
day (10,000.00 × 7.10 = 71,000.00), a plan with one paid and one overdue instalment (60,000.00 overdue), a
cancelled order (never counts), a USD deal converted at its close date (1,000.00 × 7.20 = 7,200.00), a closed
deal, done and planned visits, and subsidiaries (each row is the account's own figures).
"""
from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

from crmctl.core.book import Book
from crmctl.mcr import figures as figs
from crmctl.mcr import sums
from crmctl.mcr.related import AccountTree
from tests.conftest import git, invoke
from tests.mcr.conftest import NOW, put

ARGS = (("report", "customers", "--format", "json"), ("report", "customers"),
        ("report", "customers", "--sort", "-overdue", "--limit", "2"))


def from_sql(book: Path) -> dict[str, figs.Figures] | None:
    b = Book(str(book))
    found = sums.figures_by_account(b, lambda: figs.Context.build(b, AccountTree(b)))
    return None if found is None else found[1]


def both_ways(book: Path) -> None:
    for args in ARGS:
        old = invoke(*args, book=book, env={"CRMCTL_NOW": NOW, "CRMCTL_READ_MODEL": "off"})
        shutil.rmtree(book / ".crmctl", ignore_errors=True)
        new = invoke(*args, book=book, env={"CRMCTL_NOW": NOW})
        again = invoke(*args, book=book, env={"CRMCTL_NOW": NOW})
        assert (new.exit_code, new.stdout, new.stderr) == (old.exit_code, old.stdout, old.stderr), args
        assert (again.exit_code, again.stdout, again.stderr) == (old.exit_code, old.stdout, old.stderr), args


def test_the_sums_come_from_sql_and_equal_the_hand_computed_figures(sales: Path) -> None:
    found = from_sql(sales)
    assert found is not None  # answered by SQL, not by the records
    acme = found["acme"]
    # orders not cancelled: o1 100,000.00 + o2 10,000.00 USD × 7.10 = 71,000.00 + o3 5,000.00 = 176,000.00
    assert acme.revenue_lifetime == Decimal("176000.0000") and acme.orders == 3
    # last 12 months (after 2025-11-27): o1 only; the 12 before: o2
    assert acme.revenue_12m == Decimal("100000.00") and acme.revenue_prev_12m == Decimal("71000.0000")
    # o1: 100,000.00 − 40,000.00 paid = 60,000.00 outstanding, and the 2026-06-30 instalment is overdue
    assert acme.outstanding == Decimal("60000.00") and acme.overdue == Decimal("60000.00")
    # open: op1 50,000.00 + op2 1,000.00 USD × 7.20 = 7,200.00 → 57,200.00 (op3 is won)
    assert acme.open_pipeline == Decimal("57200.0000")
    # done visits 2026-11-17 and 2026-09-01 are both after 2026-08-29 (today − 90 days); the planned one is not done
    assert acme.last_touch == "2026-11-17" and acme.last_visit == "2026-11-17" and acme.visits_90d == 2
    assert found["acme-east"].revenue_12m == Decimal("20000.00") and found["acme-east"].outstanding == 0


def test_the_sales_book_reads_the_same_both_ways(sales: Path) -> None:
    both_ways(sales)


def test_a_bad_stored_number_is_warned_about_and_left_out_as_the_records_path_does(sales: Path) -> None:
    path = sales / "records" / "opportunities" / "op1.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('amount: "50000.00"', 'amount: "50,000.00"'), encoding="utf-8")
    assert "50,000.00" in path.read_text(encoding="utf-8")
    assert from_sql(sales) is None  # the records path answers, and warns
    both_ways(sales)
    result = invoke("report", "customers", book=sales, env={"CRMCTL_NOW": NOW})
    assert "op1.yaml" in result.stderr


def test_a_day_python_reads_but_sqlite_does_not_sends_it_to_the_records(sales: Path) -> None:
    put(sales, [("visits", "v9", {"account": "acme-east", "rep": "rex", "type": "phone", "status": "completed",
                                  "date": "20261120"})])
    assert from_sql(sales) is None
    both_ways(sales)


def test_every_kind_of_change_is_in_the_next_report(sales: Path) -> None:
    """An in-place edit with the mtime put back, a new file, a deleted file, git checkout and git merge."""
    def overdue(account: str) -> str:
        result = invoke("report", "customers", "--format", "json", book=sales, env={"CRMCTL_NOW": NOW})
        assert result.exit_code == 0, result.output
        return next(r["overdue"] for r in json.loads(result.stdout) if r["id"] == account)

    assert overdue("acme") == "60000.00"
    path = sales / "records" / "payments" / "p1.yaml"
    st = os.stat(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("40000.00", "40001.00"), encoding="utf-8")  # same size, in place
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert overdue("acme") == "59999.00"  # 100,000.00 due by today − 40,001.00 paid
    path.write_text(text, encoding="utf-8")
    git(sales, "checkout", "-qb", "side")
    put(sales, [("payments", "p9", {"order": "o1", "account": "acme", "date": "2026-11-20", "amount": "10000.00",
                                    "currency": "CNY"})])
    assert overdue("acme") == "50000.00"  # a new file
    git(sales, "checkout", "-q", "main")
    assert overdue("acme") == "60000.00"  # git checkout took it away
    git(sales, "merge", "-q", "--no-edit", "side")
    assert overdue("acme") == "50000.00"  # git merge brought it back
    (sales / "records" / "payments" / "p9.yaml").unlink()
    assert overdue("acme") == "60000.00"  # a deleted file


def test_a_payment_without_an_amount_is_read_as_the_records_path_reads_it(sales: Path) -> None:
    """The records path stops at a payment without an amount (one line naming it); the SQL path must not add it up as 0."""
    path = sales / "records" / "payments" / "p1.yaml"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("amount:")) + "\n", encoding="utf-8")
    assert from_sql(sales) is None
    both_ways(sales)
