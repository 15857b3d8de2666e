"""An order made from an accepted quote shows the same money as the quote, line by line (issue 12).

Each order line keeps how its quote line was priced (list and unit price, tier, discount, tax parts, cost,
printed names) and says what the customer pays for it: its share of the quote discount, ex tax, tax and amount.
The amounts add up to the quote's total, the taxes to its tax. Figures by hand in the comments.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, strategies as st

from crmctl.core.errors import PolicyError
from crmctl.cpq.pricing import TaxRules, quote_totals, settle

from tests.cpq.conftest import Run, new_quote


def load(book: Path, rtype: str, rid: str) -> dict[str, Any]:
    return yaml.safe_load((book / "records" / rtype / f"{rid}.yaml").read_text(encoding="utf-8"))


def accepted_order(cpq: Run, book: Path, exempt: bool) -> tuple[dict[str, Any], dict[str, Any], str]:
    """holder x12 (std range tier: 900.00 each), the kit bundle (120000 at 13% + its svc 5000 at 6%), 5% off the
    quote and 1000 freight, to a plain account (tax-exempt when ``exempt``); submitted, sent and accepted."""
    assert cpq("account", "add", "--id", "plain", "--name", "Plain Co", "--tier", "C").exit_code == 0
    if exempt:
        assert cpq("account", "edit", "plain", "--set", "tax_exempt=Export, zero-rated").exit_code == 0
    qid = new_quote(cpq, ["holder", "--qty", "12"], ["kit"], account="plain")
    assert cpq("quote", "edit", qid, "--discount", "5%", "--fee", "运费=1000").exit_code == 0
    for step in ("submit", "send", "accept"):
        r = cpq("--as", "dan", "quote", step, qid)
        assert r.exit_code == 0, r.output
    order_id = r.stdout.strip()
    return load(book, "quotes", qid), load(book, "orders", order_id), order_id


def money(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(r[key]) for r in rows), Decimal(0))


def test_order_lines_carry_the_quote_lines_and_their_money(cpq: Run, cpq_book: Path) -> None:
    quote, order, order_id = accepted_order(cpq, cpq_book, exempt=False)
    holder, kit, freight = order["lines"]
    # the quote lines as priced, field for field
    for got, line in zip((holder, kit), quote["lines"]):
        for key in ("sku", "name", "qty", "unit", "list_unit", "unit_price", "tier", "gross", "net", "tax_rate", "tax_parts",
                    "cost", "printed"):
            assert got.get(key) == line.get(key), key
    # subtotal 10800 + 125000 = 135800; 5% = 6790.00, allocated by net: 540.00 to the holders, 6250.00 to the kit
    assert (holder["quote_discount"], kit["quote_discount"]) == ("540.00", "6250.00")
    # holders: 10800 - 540 = 10260.00, 13% tax 1333.80, the customer pays 11593.80
    assert (holder["tier"], holder["ex_tax"], holder["tax"], holder["amount"]) == ("-1200.00", "10260.00", "1333.80", "11593.80")
    # kit: 125000 - 6250 = 118750.00 split 120000:5000 -> 114000.00 at 13% (14820.00) + 4750.00 at 6% (285.00)
    assert kit["tax_parts"] == {"13": "120000.0000", "6": "5000.0000"}   # unit amounts, at price_digits
    assert (kit["ex_tax"], kit["tax"], kit["amount"]) == ("118750.00", "15105.00", "133855.00")
    # freight 1000.00 at 13%: 130.00, 1130.00
    assert freight == {"fee": "运费", "ex_tax": "1000.00", "tax": "130.00", "amount": "1130.00"}
    # net 130010.00 + tax 16568.80 = 146578.80 on the quote and on the order, and the lines add up to them
    assert (quote["totals"]["net"], quote["totals"]["tax"], quote["total"]) == ("130010.00", "16568.80", "146578.80")
    assert order["total"] == "146578.80" and order["totals"] == quote["totals"]
    assert money(order["lines"], "amount") == Decimal("146578.80") and money(order["lines"], "tax") == Decimal("16568.80")
    shown = cpq("order", "show", order_id).stdout
    rows = [r.split() for r in shown.split("lines:")[1].split("installments:")[0].splitlines() if r.strip()]
    assert rows[2][:2] == ["1", "holder"] and rows[2][-4:] == ["540.00", "10260.00", "1333.80", "11593.80"]
    assert rows[3][:2] == ["2", "kit"] and rows[3][-4:] == ["6250.00", "118750.00", "15105.00", "133855.00"]
    assert rows[4][-3:] == ["1000.00", "130.00", "1130.00"]


def test_a_tax_exempt_order_carries_no_tax(cpq: Run, cpq_book: Path) -> None:
    quote, order, _ = accepted_order(cpq, cpq_book, exempt=True)
    # the same 130010.00 net, no tax: the customer pays 10260.00 + 118750.00 + 1000.00
    assert (quote["totals"]["tax"], quote["total"], quote["totals"]["tax_exempt"]) == ("0.00", "130010.00", "Export, zero-rated")
    assert [(line["ex_tax"], line["tax"], line["amount"]) for line in order["lines"]] == [
        ("10260.00", "0.00", "10260.00"), ("118750.00", "0.00", "118750.00"), ("1000.00", "0.00", "1000.00")]
    assert order["total"] == "130010.00" and order["totals"]["tax_exempt"] == "Export, zero-rated"


@pytest.mark.parametrize("apply", ["per_line", "on_total"])
def test_inclusive_prices_settle_to_the_quote_total(cpq: Run, cpq_book: Path, apply: str) -> None:
    path = cpq_book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("mode: exclusive", "mode: inclusive").replace("apply: per_line", f"apply: {apply}"),
                    encoding="utf-8")
    quote, order, _ = accepted_order(cpq, cpq_book, exempt=False)
    # prices include tax: what the customer pays is the quote's total, and the tax inside it is the quote's tax
    assert money(order["lines"], "amount") == Decimal(quote["total"]) == Decimal(order["total"])
    assert money(order["lines"], "tax") == Decimal(quote["totals"]["tax"])
    assert all(Decimal(r["ex_tax"]) + Decimal(r["tax"]) == Decimal(r["amount"]) for r in order["lines"])


@st.composite
def quote_parts(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Decimal, list[dict[str, Any]], TaxRules, str | None]:
    cents = st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100)
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        net = draw(cents)
        line: dict[str, Any] = {"net": str(net), "tax_rate": draw(st.sampled_from(["13", "6", "0"]))}
        if draw(st.booleans()):   # a bundle with a 6% service part
            service = draw(st.integers(1, 99))
            line["tax_parts"] = {"13": str(100 - service), "6": str(service)}
        lines.append(line)
    discount = Decimal(draw(st.integers(0, 3000))) / 100
    fees = [{"name": f"f{i}", "amount": str(draw(cents) * draw(st.sampled_from([1, -1])) / 1000)}
            for i in range(draw(st.integers(0, 2)))]
    tax = TaxRules(mode=draw(st.sampled_from(["exclusive", "inclusive"])), apply=draw(st.sampled_from(["per_line", "on_total"])),
                   rates={"standard": Decimal(13), "service": Decimal(6)})
    return lines, discount, fees, tax, draw(st.sampled_from([None, "export"]))


@given(quote_parts())
def test_lines_and_fees_settle_to_the_totals(parts: tuple[Any, ...]) -> None:
    """For any quote: the settled lines and fees add up to its total and its tax, and share out its reductions."""
    lines, discount, fees, tax, exempt = parts
    try:
        totals = quote_totals(lines, discount, fees, "CNY", tax, exempt)
    except PolicyError:   # reductions beyond the lines: refused, nothing to settle
        return
    off, settled, fee_parts, _ = settle(lines, discount, fees, "CNY", tax, exempt)
    everything = settled + fee_parts
    assert sum((s.amount for s in everything), Decimal(0)) == totals["total"]
    assert sum((s.tax for s in everything), Decimal(0)) == totals["tax"]
    assert sum((s.share for s in settled), Decimal(0)) == totals["discount"] == off.total
