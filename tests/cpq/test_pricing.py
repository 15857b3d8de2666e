"""The pricing engine: hand-computed figures, and invariants checked with hypothesis."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings, strategies as st

from crmctl.core.money import quantize
from crmctl.cpq.configure import configure
from crmctl.cpq.pricing import TaxRules, price_line, quote_totals

D = Decimal
TAX = TaxRules(rates={"standard": D(13), "service": D(6), "exempt": D(0)})
INCL = TaxRules(mode="inclusive", rates=TAX.rates)

PRODUCT = {
    "prices": {"CNY": "100000.00"}, "cost": {"CNY": "60000.00"}, "tax_category": "standard",
    "option_groups": [
        {"id": "ctrl", "required": True, "default": "basic",
         "options": [{"id": "basic"}, {"id": "pro", "price": {"CNY": "10000.00"}}]},
        {"id": "spindle", "default": "s1", "options": [{"id": "s1"}, {"id": "s2", "percent": "10"}]},
        {"id": "extras", "choice": "multiple", "options": [{"id": "conveyor", "price": {"CNY": "2000.00"}}]},
    ],
}


def line(choices: dict[str, list[str]], qty: int, entry: dict | None = None, discount: str = "0", tax: TaxRules = TAX):
    config = configure("mill", PRODUCT, choices)
    assert config.valid, config.problems
    return price_line("mill", PRODUCT, config, qty, "CNY", tax, "book" if entry else None, entry, D(discount))


def test_hand_computed_line_with_options_book_discount_and_line_discount() -> None:
    # 100000 + pro 10000 + s2 10% of 100000 + conveyor 2000 = 122000; book 10% off = 109800;
    # x3 = 329400; 5% line discount = -16470 -> 312930; tax 13% = 40680.90; total 353610.90
    p = line({"ctrl": ["pro"], "spindle": ["s2"], "extras": ["conveyor"]}, 3, {"discount": "10"}, "5")
    assert p.unit_price == D("109800.00")
    assert p.gross == D("329400.00")
    assert p.net == D("312930.00")
    assert p.tax == D("40680.90")
    assert p.total == D("353610.90")
    rules = [s.rule for s in p.steps]
    assert "10% of base 100000.00" in rules
    assert "pricebook book: 10% off list" in rules
    assert "5% line discount" in rules


def test_fixed_price_book_is_the_base_of_percent_options() -> None:
    p = line({"spindle": ["s2"], "extras": ["conveyor"]}, 1, {"price": "95000.00"})
    # 95000 + 9500 (10% of the book's base) + 2000
    assert p.net == D("106500.00")


def test_range_tier_prices_the_whole_quantity_at_the_tier() -> None:
    entry = {"tier_mode": "range", "tiers": [{"min": 5, "discount": "5"}, {"min": 10, "price": "80000.00"}]}
    assert line({}, 4, entry).net == D("400000.00")
    assert line({}, 5, entry).net == D("475000.00")
    assert line({}, 12, entry).net == D("960000.00")


def test_slab_tier_prices_each_band_at_its_own_price() -> None:
    entry = {"tier_mode": "slab", "tiers": [{"min": 5, "price": "90000.00"}, {"min": 10, "price": "80000.00"}]}
    # 1-4 @100000, 5-9 @90000, 10-12 @80000
    assert line({}, 12, entry).net == D("400000.00") + D("450000.00") + D("240000.00")


def test_inclusive_tax_is_inside_the_price() -> None:
    p = line({}, 1, tax=INCL)
    assert p.total == p.net == D("100000.00")
    assert p.tax == D("11504.42")   # 100000 * 13 / 113


def test_quote_totals_hand_computed() -> None:
    lines = [{"net": "100000.00", "tax_rate": "13"}, {"net": "1000.00", "tax_rate": "13"}, {"net": "5000.00", "tax_rate": "6"}]
    t = quote_totals(lines, D(5), [{"name": "Shipping", "amount": "800"}], "CNY", TAX)
    assert t["subtotal"] == D("106000.00")
    assert t["discount"] == D("5300.00")
    assert t["net"] == D("101500.00")
    assert t["tax"] == D("12862.50")          # 12350 + 123.50 + 285 + 104
    assert t["total"] == D("114362.50")
    on_total = quote_totals(lines, D(5), [{"name": "Shipping", "amount": "800"}], "CNY",
                            TaxRules(apply="on_total", rates=TAX.rates))
    assert on_total["tax_by_rate"] == {"6": D("285.00"), "13": D("12577.50")}


amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
rates = st.sampled_from(["0", "6", "9", "13"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(amounts, rates), min_size=1, max_size=12), st.decimals(min_value=0, max_value=30, places=1))
def test_totals_are_sums_of_rounded_lines(lines: list, discount: Decimal) -> None:
    rows = [{"net": str(net), "tax_rate": rate} for net, rate in lines]
    t = quote_totals(rows, discount, [], "CNY", TAX)
    assert t["subtotal"] == sum((net for net, _ in lines), D(0))
    # the quote discount is computed once on the total (not rounded line by line), then allocated to the lines
    assert t["discount"] == quantize(t["subtotal"] * discount / 100, "CNY")
    assert t["net"] == t["subtotal"] - t["discount"]
    assert t["total"] == t["net"] + t["tax"]
    assert t["tax"] == sum(t["tax_by_rate"].values(), D(0))
    for value in (t["subtotal"], t["discount"], t["tax"], t["total"]):
        assert value == quantize(value, "CNY")     # every figure is in whole cents
    incl = quote_totals(rows, discount, [], "CNY", INCL)
    assert incl["total"] == incl["net"] == t["net"]
    assert incl["tax"] <= t["tax"]                # tax inside the price is less than tax on top


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), st.decimals(min_value=0, max_value=40, places=2), st.decimals(min_value=0, max_value=25, places=1),
       st.sampled_from([[], ["pro"]]), st.sampled_from([["s1"], ["s2"]]))
def test_steps_add_up_to_the_net(qty: int, book_off: Decimal, line_off: Decimal, ctrl: list, spindle: list) -> None:
    choices = {"ctrl": ctrl, "spindle": spindle} if ctrl else {"spindle": spindle}
    p = line(choices, qty, {"discount": str(book_off)}, str(line_off))
    assert sum((s.amount for s in p.steps), D(0)) == p.net
    assert all(s.amount == quantize(s.amount, "CNY") for s in p.steps if s.per == "line")
    assert p.net <= p.gross <= p.unit_price * qty
    assert p.total == p.net + p.tax


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(2, 10), st.integers(11, 30),
       st.decimals(min_value=1, max_value=20, places=0), st.decimals(min_value=21, max_value=40, places=0))
def test_tiers(qty: int, first: int, second: int, d1: Decimal, d2: Decimal) -> None:
    tiers = [{"min": first, "discount": str(d1)}, {"min": second, "discount": str(d2)}]
    unit = D("100000.00")
    rng = line({}, qty, {"tier_mode": "range", "tiers": tiers}).net
    slab = line({}, qty, {"tier_mode": "slab", "tiers": tiers}).net
    pct = d2 if qty >= second else d1 if qty >= first else D(0)
    assert rng == quantize(unit - quantize(unit * pct / 100, "CNY"), "CNY") * qty
    assert rng <= slab <= unit * qty                       # range gives the deepest price to every unit
    if qty < first:
        assert rng == slab == unit * qty


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=0, max_value=100, places=3), amounts)
def test_percent_option_is_a_rounded_share_of_the_base(pct: Decimal, base: Decimal) -> None:
    product = {"prices": {"CNY": str(base)}, "option_groups": [{"id": "g", "default": "o", "options": [{"id": "o", "percent": str(pct)}]}]}
    p = price_line("x", product, configure("x", product, {}), 1, "CNY", TAX)
    # a unit price keeps price_digits (4) decimals; the line amount is then rounded to cents
    assert p.steps[1].amount == (base * pct / 100).quantize(D("0.0001"), ROUND_HALF_UP)
    assert p.net == quantize(base + p.steps[1].amount, "CNY")


def test_zero_decimal_currency_rounds_to_whole_units() -> None:
    product = {"prices": {"JPY": "1000"}, "option_groups": [{"id": "g", "default": "o", "options": [{"id": "o", "percent": "3.3"}]}]}
    p = price_line("x", product, configure("x", product, {}), 3, "JPY", TAX, discount=D("7"))
    assert p.steps[1].amount == D("33")
    assert p.net == D("2882")    # 1033 x 3 = 3099; 7% = 216.93 -> 217; 3099 - 217
