"""L2C's checks in `crmctl check`: each finds the inconsistency it is for."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.l2c.helpers import ok, order_for, won_deal


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(run: Run) -> str:
    result = run("check")
    assert result.exit_code == 1, result.output
    return result.stdout


def test_stage_that_disagrees_with_its_history(run: Run, book: Path) -> None:
    opp = won_deal(run)
    edit_file(book / "records" / "opportunities" / f"{opp}.yaml", "stage: won", "stage: proposal")
    assert "stage is proposal but the stage_history ends in won" in problems(run)


def test_plan_that_does_not_sum_to_the_total(run: Run, book: Path) -> None:
    order = order_for(run, "1000")
    ok(run, "payment", "plan", order, "--installments", "2")
    edit_file(book / "records" / "orders" / f"{order}.yaml", 'amount: "500.00"', 'amount: "400.00"')
    assert "the payment plan sums to 900.00 but the total is 1000.00" in problems(run)


def test_status_that_does_not_fit_the_money(run: Run, book: Path) -> None:
    order = order_for(run, "1000")
    ok(run, "payment", "record", order, "--amount", "100", "--date", "2026-08-02")
    # without a plan the whole order is due on its date (2026-08-01), so on 2026-08-02 the rest is overdue
    edit_file(book / "records" / "orders" / f"{order}.yaml", "status: overdue", "status: paid")
    assert "status is paid but 100.00 of 1000.00 is paid" in problems(run)


def test_converted_lead_links_and_payment_currency(run: Run, book: Path) -> None:
    lead = ok(run, "lead", "add", "--owner", "rex", "--name", "L", "--company", "New Co")
    out = ok(run, "lead", "convert", lead, "--no-opp", "--format", "csv").splitlines()[1].split(",")
    (book / "records" / "contacts" / f"{out[2]}.yaml").unlink()
    order = order_for(run, "10")
    pay = ok(run, "payment", "record", order, "--amount", "5", "--date", "2026-08-02")
    edit_file(book / "records" / "payments" / f"{pay}.yaml", "currency: CNY", "currency: USD")
    text = problems(run)
    assert f"converted.contact: no contact '{out[2]}'" in text
    assert "currency USD differs from order SO-2026-0001's CNY" in text


def test_foreign_currency_without_a_rate(run: Run, book: Path) -> None:
    won_deal(run, currency="USD")
    assert "no USD rate in records/rates.yaml" in problems(run)
    (book / "records" / "rates.yaml").write_text('"2026-01-01": {USD: "7.00"}\n')
    ok(run, "check")
