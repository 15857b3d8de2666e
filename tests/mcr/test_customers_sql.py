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

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core.book import Book
from crmctl.mcr import figures as figs
from crmctl.mcr import sums
from crmctl.mcr.related import AccountTree
from tests.conftest import git, invoke
from tests.mcr.conftest import NOW, order, payment, put

ARGS = (("report", "customers", "--format", "json"), ("report", "customers"),
        ("report", "customers", "--sort", "-overdue", "--limit", "2"),
        # the rows kept are finished after the ranking (--limit, a --where on a ranked column), or all are first
        ("report", "customers", "--limit", "1", "--format", "json"), ("report", "customers", "--where", "segment=new"),
        ("report", "customers", "--where", "health<60", "--limit", "2", "--format", "yaml"))


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


def test_a_whole_amount_and_one_with_decimals_add_up_exactly(sales: Path) -> None:
    """Amounts with none or all of the currency's decimals (both screened fine) are added as whole fen."""
    put(sales, [("orders", "o7", order("acme-east", "2026-11-02", "5000")),
                ("payments", "p7", payment("o7", "acme-east", "2026-11-03", "1250.50"))])
    east = (from_sql(sales) or {})["acme-east"]
    # o4 20,000.00 + o7 5,000 = 25,000.00 in the last 12 months; o7 owes 5,000 − 1,250.50 = 3,749.50, all of it
    # overdue (no plan: the total was due on its day, 2026-11-02, before today)
    assert east.revenue_12m == Decimal("25000.00") and east.outstanding == Decimal("3749.50")
    assert east.overdue == Decimal("3749.50")
    both_ways(sales)


def test_an_order_on_an_impossible_day_is_added_as_the_records_path_adds_it(sales: Path) -> None:
    """2026-02-30 is no day: the order counts in lifetime revenue and in no span, as the records path counts it."""
    path = sales / "records" / "orders" / "o8.yaml"
    path.write_text('number: SO-8\naccount: acme-east\ndate: "2026-02-30"\ncurrency: CNY\ntotal: "700.00"\n'
                    'status: open\ninstallments:\n- {due: "2026-03-30", amount: "700.00"}\n', encoding="utf-8")
    east = (from_sql(sales) or {})["acme-east"]
    # lifetime: o4 20,000.00 + o8 700.00; the last 12 months: o4 only; o8's plan is overdue (due 2026-03-30)
    assert east.revenue_lifetime == Decimal("20700.00") and east.revenue_12m == Decimal("20000.00")
    assert east.orders == 2 and east.overdue == Decimal("700.00")
    both_ways(sales)


def test_an_order_without_a_day_is_added_as_the_records_path_adds_it(sales: Path) -> None:
    """No date at all: lifetime revenue and the order count, no span (the flag that sends it to Python is 0, not NULL)."""
    path = sales / "records" / "orders" / "o9.yaml"
    path.write_text('number: SO-9\naccount: acme-east\ncurrency: CNY\ntotal: "300.00"\nstatus: open\n'
                    'installments:\n- {due: "2026-12-30", amount: "300.00"}\n', encoding="utf-8")
    east = (from_sql(sales) or {})["acme-east"]
    # lifetime: o4 20,000.00 + o9 300.00 = 20,300.00; o9 owes 300.00, due 2026-12-30: not overdue yet
    assert east.revenue_lifetime == Decimal("20300.00") and east.orders == 2
    assert east.outstanding == Decimal("300.00") and east.overdue == 0
    both_ways(sales)


AMOUNT = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2).map(
    lambda d: format(d, "f") if d % 1 else format(d.quantize(Decimal(1)), "f"))  # "12.50" or "12": none or all


@settings(max_examples=60, deadline=None)
@given(st.lists(AMOUNT, max_size=30), st.lists(AMOUNT, max_size=5))
def test_whole_units_in_sql_add_up_to_the_decimal_sum(totals: list[str], payments: list[str]) -> None:
    """``Cents``: any screened amounts added in SQLite as whole units give exactly the Decimal sum."""
    conn = sqlite3.connect(":memory:")
    for table, column in sums._AMOUNTS:
        conn.execute(f'CREATE TABLE {table} ("{column}")')
    conn.executemany("INSERT INTO orders VALUES (?)", [(t,) for t in totals])
    conn.executemany("INSERT INTO payments VALUES (?)", [(p,) for p in payments])
    money = sums.Cents.of(conn)
    assert money is not None
    for table, column, values in (("orders", "total", totals), ("payments", "amount", payments)):
        found = conn.execute(f"SELECT sum({money.sql(column)}) FROM {table}").fetchone()[0]
        assert money.value(found) == sum((Decimal(v) for v in values), Decimal(0))


def test_a_sum_sqlite_could_not_keep_whole_is_refused() -> None:
    """An overflowed subtraction becomes a REAL in SQLite: never a money figure."""
    money = sums.Cents(2)
    assert money.value(12345) == Decimal("123.45") and money.value(None) == 0
    try:
        money.value(1.5e19)
    except sums.Inexact:
        pass
    else:
        raise AssertionError("a REAL became money")


def test_the_remembered_sums_follow_the_rates_file_the_settings_and_the_day(sales: Path) -> None:
    """The sums are remembered (.crmctl/cache/memo) by the folders they read, and also by rates.yaml, crm.yaml and
    the day: each change gives the figures computed afresh."""
    def acme(now: str = NOW) -> dict:
        result = invoke("report", "customers", "--format", "json", book=sales, env={"CRMCTL_NOW": now})
        assert result.exit_code == 0, result.output
        return next(r for r in json.loads(result.stdout) if r["id"] == "acme")

    assert acme()["revenue_lifetime"] == "176000.00"
    assert (sales / ".crmctl" / "cache" / "memo" / "customers-sums.json").exists()
    # o2 10,000.00 USD at 7.10 → at 7.00: 100,000.00 + 70,000.00 + 5,000.00 = 175,000.00
    (sales / "records" / "rates.yaml").write_text('"2025-01-01": {USD: "7.00"}\n"2026-06-01": {USD: "7.20"}\n',
                                                  encoding="utf-8")
    assert acme()["revenue_lifetime"] == "175000.00"
    # a year later every order is older than 12 months: revenue_12m 0.00
    assert acme()["revenue_12m"] == "100000.00" and acme("2027-12-01T10:00:00+08:00")["revenue_12m"] == "0.00"
    settings = sales / "crm.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "  overdue_grace_days: 0\n" in text
    settings.write_text(text.replace("  overdue_grace_days: 0\n", "  overdue_grace_days: 200\n"), encoding="utf-8")
    # the 2026-06-30 instalment is 150 days late on 2026-11-27: within 200 days of grace, not overdue
    assert acme()["overdue"] == "0.00"


FIGURES = st.builds(
    figs.Figures,
    revenue_lifetime=st.decimals(allow_nan=False, allow_infinity=False, places=4),
    orders=st.integers(0, 10**6), last_order=st.one_of(st.none(), st.dates().map(str)),
    growth=st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    health_parts=st.dictionaries(st.text(max_size=5), st.decimals(allow_nan=False, allow_infinity=False, places=2),
                                 max_size=3))


@given(FIGURES)
def test_remembered_figures_come_back_exactly(fig: figs.Figures) -> None:
    back = sums.load_figures(json.loads(json.dumps(sums.dump_figures(fig))))
    assert back == fig and all(type(getattr(back, n)) is type(getattr(fig, n)) for n in fig.__dataclass_fields__)
