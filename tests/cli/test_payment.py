"""``crmctl payment``: plans that sum exactly, receipts oldest first, and the refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.l2c.helpers import commits, fails, ok, order_for


def order_data(run: Run, order: str, day: str = "2026-08-05") -> dict:
    return json.loads(run("order", "show", order, "--format", "json", env={"CRMCTL_NOW": f"{day}T10:00:00+08:00"}).stdout)


def test_equal_plan_with_the_remainder_on_the_last(run: Run) -> None:
    order = order_for(run, "100")
    ok(run, "payment", "plan", order, "--installments", "3", "--every", "1m", "--first", "2026-08-31")
    assert [(i["due"], i["amount"]) for i in order_data(run, order)["installments"]] == [
        ("2026-08-31", "33.33"), ("2026-09-30", "33.33"), ("2026-10-31", "33.34")]


def test_explicit_plan_with_percentages_and_amounts(run: Run) -> None:
    order = order_for(run, "1000")
    ok(run, "payment", "plan", order, "--at", "2026-09-01=30%", "--at", "2026-10-01=500", "--at", "2026-11-01=20%")
    assert [i["amount"] for i in order_data(run, order)["installments"]] == ["300.00", "500.00", "200.00"]
    assert "adds up to 900.00 CNY but the order total is 1000.00" in fails(
        run, "payment", "plan", order, "--at", "2026-09-01=30%", "--at", "2026-10-01=60%")
    assert "either --installments" in fails(run, "payment", "plan", order)


def test_receipts_apply_oldest_first_and_status_follows_the_money(run: Run, book: Path) -> None:
    order = order_for(run, "1000")
    ok(run, "payment", "plan", order, "--at", "2026-08-10=40%", "--at", "2026-09-10=60%")
    pid = ok(run, "payment", "record", order, "--amount", "250", "--date", "2026-08-05", "--ref", "BANK-1", day="2026-08-05")
    stored = json.loads(ok(run, "order", "list", "--format", "json", day="2026-08-05"))[0]
    assert stored["status"] == "partially_paid" and stored["balance"] == "750.00"
    # the status is also stored on the order when the money changes
    assert "status: partially_paid" in (book / "records" / "orders" / f"{order}.yaml").read_text()
    ok(run, "payment", "record", order, "--amount", "300", "--date", "2026-08-09", day="2026-08-09")
    pays = json.loads(ok(run, "payment", "list", "--format", "json"))
    assert pays[0]["id"] == pid and pays[0]["applied"] == [{"installment": 1, "due": "2026-08-10", "amount": "250.00"}]
    assert pays[1]["applied"] == [{"installment": 1, "due": "2026-08-10", "amount": "150.00"},
                                  {"installment": 2, "due": "2026-09-10", "amount": "150.00"}]
    assert order_data(run, order, "2026-09-11")["status"] == "overdue"
    ok(run, "payment", "record", order, "--amount", "450", "--date", "2026-09-12", day="2026-09-12")
    data = order_data(run, order, "2026-09-12")
    assert (data["status"], data["paid"], data["balance"]) == ("paid", "1000.00", "0.00")
    ok(run, "check")


@pytest.mark.parametrize("amount, date, message", [
    ("0", "2026-08-05", "a payment must be more than zero"),
    ("-5", "2026-08-05", "a payment must be more than zero"),
    ("abc", "2026-08-05", "'abc' is not a number"),
    ("10.001", "2026-08-05", "CNY has 2 decimal places"),
    ("10", "05/08/2026", "--date: '05/08/2026' is not a date; write it as YYYY-MM-DD"),
    ("10", "2026-02-30", "is not a date"),
    ("10", "2026-10-02", "after today (2026-10-01)"),
])
def test_bad_receipts_write_nothing(run: Run, book: Path, amount: str, date: str, message: str) -> None:
    order = order_for(run, "1000")
    before = commits(book)
    assert message in fails(run, "payment", "record", order, "--amount", amount, "--date", date)
    assert commits(book) == before and not list((book / "records" / "payments").glob("*.yaml"))


def test_overpayment_needs_prepayment_and_a_paid_order_takes_nothing(run: Run, book: Path) -> None:
    order = order_for(run, "1000")
    assert "more than the 1000.00 CNY still due" in fails(run, "payment", "record", order, "--amount", "1200", "--date", "2026-08-05")
    ok(run, "payment", "record", order, "--amount", "1200", "--date", "2026-08-05", "--prepayment")
    before = commits(book)
    line = fails(run, "payment", "record", order, "--amount", "1", "--date", "2026-08-06")
    assert "is already paid (1200.00 of 1000.00 CNY)" in line
    assert commits(book) == before
    assert "already has 1 payment" in fails(run, "payment", "plan", order, "--installments", "2")


def test_payment_list_for_one_order(run: Run) -> None:
    first, second = order_for(run, "100"), order_for(run, "200")
    ok(run, "payment", "record", first, "--amount", "10", "--date", "2026-08-05")
    ok(run, "payment", "record", second, "--amount", "20", "--date", "2026-08-05")
    rows = json.loads(ok(run, "payment", "list", "--order", second, "--format", "json"))
    assert [(r["amount"], r["number"]) for r in rows] == [("20.00", "SO-2026-0002")]
