"""The discount policy judges every reduction from list, however it is expressed; money details a buyer checks.

Pure tests (no book): figures computed by hand in the comments, and one
hypothesis property over the four ways of lowering a price.
"""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings as hsettings, strategies as st

from crmctl.core.settings import Settings
from crmctl.cpq import policy
from crmctl.cpq.configure import configure
from crmctl.cpq.pricing import TaxRules, allocate, price_line, quote_totals
from crmctl.cpq.quotes import judge_lines

D = Decimal
TAX = TaxRules(rates={"standard": D(13), "service": D(6), "exempt": D(0)})
INCL = TaxRules(mode="inclusive", rates=TAX.rates)
POLICY = Settings({"discount_policy": {
    "authority": {"rep": {"default": "10", "service": "5"}, "manager": {"default": "20", "service": "10"},
                  "director": {"default": "35", "service": "20"}},
    "min_margin_percent": "15", "margin_approver": "director"}})
MILL = {"prices": {"CNY": "100000.00"}, "cost": {"CNY": "60000.00"}, "category": "machine"}


def priced(product: dict, qty: int = 1, entry: dict | None = None, discount: str = "0", tax: TaxRules = TAX):
    return price_line("mill", product, configure("mill", product, {}), qty, "CNY", tax, "book" if entry else None, entry,
                      D(discount))


def stored(p, currency: str = "CNY") -> dict:
    return {"sku": p.sku, "qty": p.qty, "net": str(p.net), "tax_rate": str(p.tax_rate)}


def need(product: dict, p, quote_discount: str = "0", fees: list | None = None, tax: TaxRules = TAX) -> policy.Requirement:
    data = {"currency": "CNY", "lines": [stored(p)], "discount": quote_discount, "fees": fees or []}
    judged = judge_lines(data, [(p.list_unit, p.cost, tuple(p.unknown_cost))], {"mill": product.get("category")}, tax)
    return policy.requirement(judged, POLICY)


def test_a_negative_fee_is_judged_as_the_discount_it_is() -> None:
    # 3 mills at 100000 = 300000 list, cost 180000; a fee of -122550 leaves 177450: 40.85% off list and below cost.
    # Today's code approved it "within authority (rep)"; --discount 40.85% is refused: so is the fee.
    p = priced(MILL, 3)
    fee = need(MILL, p, fees=[{"name": "特别优惠", "amount": "-122550"}])
    pct = need(MILL, p, quote_discount="40.85")
    assert fee.beyond == pct.beyond == (
        "line 1 (mill): 40.85% off list is beyond every role's authority (at most 35% for machine)",)
    # -60000 is 20% off list: a manager, as --discount 20% is; margin (240000 - 180000) / 240000 = 25%
    assert need(MILL, p, fees=[{"name": "特别优惠", "amount": "-60000"}]).role == "manager"


def test_a_price_book_discount_counts_against_authority() -> None:
    # a book with discount "19" is 19% off list: more than a rep's 10%
    p = priced(MILL, 1, {"discount": "19"})
    assert need(MILL, p).role == "manager"
    assert need(MILL, p).reasons == ("line 1 (mill): 19% off list needs a manager",)


def test_margin_is_on_the_net_excluding_tax_in_inclusive_mode() -> None:
    # inclusive list 113000 is 100000 + 13000 tax; cost 91400: margin (100000 - 91400) / 100000 = 8.60%,
    # not (113000 - 91400) / 113000 = 19.12% as on the tax-inclusive price
    press = {"prices": {"CNY": "113000.00"}, "cost": {"CNY": "91400.00"}, "category": "machine"}
    p = priced(press, tax=INCL)
    got = need(press, p, tax=INCL)
    assert got.role == "director"
    assert got.reasons == ("line 1 (mill): margin 8.6% ex tax is below the 15% minimum, needs a director",)


def test_an_option_without_cost_is_cost_unknown_and_needs_the_margin_approver() -> None:
    product = {**MILL, "option_groups": [{"id": "extras", "choice": "multiple", "default": ["probe"],
                                          "options": [{"id": "probe", "price": {"CNY": "28000.00"}}]}]}
    p = price_line("mill", product, configure("mill", product, {}), 1, "CNY", TAX)
    assert p.cost is None and p.unknown_cost == ["option extras=probe"]
    assert need(product, p).reasons == ("line 1 (mill): cost unknown (option extras=probe has no cost), needs a director",)


def test_unit_prices_keep_price_digits() -> None:
    # 0.333 x 30000 = 9990.00 (not 0.33 x 30000 = 9900.00)
    part = {"prices": {"CNY": "0.333"}, "cost": {"CNY": "0.1"}}
    assert priced(part, 30000).net == D("9990.00")
    # three lines of 0.333 x 3 = 0.999 -> 1.00 each: 3.00 before tax, not 3 x 0.33 x 3 = 2.97
    lines = [stored(priced(part, 3)) for _ in range(3)]
    assert quote_totals(lines, D(0), [], "CNY", TAX)["subtotal"] == D("3.00")


def test_quote_discount_is_computed_on_the_total_and_allocated() -> None:
    # 60 lines of 10.10 = 606.00; 5% = 30.30 (rounded per line it was 60 x 0.51 = 30.60)
    lines = [{"net": "10.10", "tax_rate": "13"} for _ in range(60)]
    t = quote_totals(lines, D(5), [], "CNY", TAX)
    assert (t["subtotal"], t["discount"], t["net"]) == (D("606.00"), D("30.30"), D("575.70"))
    # 30.30 over 60 equal lines: 0.50 each (30.00) and the 30 cents left go one each to the first 30 lines
    shares = allocate(D("30.30"), [D("10.10")] * 60, "CNY")
    assert sum(shares, D(0)) == D("30.30") and shares[:30] == [D("0.51")] * 30 and shares[30:] == [D("0.50")] * 30


def test_bundle_components_are_taxed_at_their_own_rate() -> None:
    # a 120000 bundle (13%) with a 5000 service added (6%): tax 15600 + 300 = 15900, not 125000 x 13% = 16250
    kit = {"prices": {"CNY": "120000.00"}, "cost": {"CNY": "80000.00"}, "tax_category": "standard",
           "components": [{"sku": "svc", "qty": 1, "mode": "added"}]}
    svc = {"prices": {"CNY": "5000.00"}, "cost": {"CNY": "3000.00"}, "tax_category": "service"}
    p = price_line("kit", kit, configure("kit", kit, {}), 1, "CNY", TAX, components={"svc": svc})
    row = {"net": str(p.net), "tax_rate": str(p.tax_rate), "tax_parts": {str(r): str(a) for r, a in p.tax_parts.items()}}
    t = quote_totals([row], D(0), [], "CNY", TAX)
    assert t["tax_by_rate"] == {"6": D("300.00"), "13": D("15600.00")} and t["total"] == D("140900.00")


def test_tax_exempt_quote_carries_no_tax_and_says_why() -> None:
    # export: 15000 + 800 freight, zero-rated: total 15800.00 (today +13% Chinese VAT: 17854.00)
    t = quote_totals([{"net": "15000.00", "tax_rate": "13"}], D(0), [{"name": "Freight", "amount": "800"}], "CNY", TAX,
                     "Export, zero-rated")
    assert (t["tax"], t["total"], t["tax_exempt"]) == (D("0.00"), D("15800.00"), "Export, zero-rated")
    # inclusive prices: the tax they include is taken off (11300 incl. 13% -> 10000 charged)
    t = quote_totals([{"net": "11300.00", "tax_rate": "13"}], D(0), [], "CNY", INCL, "Reverse charge")
    assert (t["tax"], t["total"]) == (D("0.00"), D("10000.00"))


def test_a_zero_or_negative_list_price_or_line_is_refused() -> None:
    import pytest

    from crmctl.core.errors import PolicyError

    with pytest.raises(PolicyError, match="list price 0.00 CNY must be more than 0"):
        priced({"prices": {"CNY": "0.00"}})
    with pytest.raises(PolicyError, match="must cost the customer more than 0"):
        priced(MILL, 1, {"price": "100000.00", "tiers": [{"min": 1, "discount": "100"}]})


ORDER = ["rep", "manager", "director"]


@hsettings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.decimals(min_value=0, max_value=D("34.99"), places=2),
       st.sampled_from(["line", "quote", "fee", "pricebook"]), st.sampled_from(["60000.00", "85000.00", None]))
def test_approval_level_is_the_policys_for_reduction_and_margin_however_expressed(
        qty: int, pct: Decimal, how: str, cost: str | None) -> None:
    """For any one-line quote the role required is the policy's for (reduction from list, margin ex tax), whether the
    reduction is a line discount, a quote discount, a negative fee or a price-book discount."""
    product = {**MILL, "cost": {"CNY": cost} if cost else None}
    list_amount = D("100000.00") * qty
    off = (list_amount * pct / 100).quantize(D("0.01"))          # exact: 100000 x a 2-decimal percent
    p = priced(product, qty, {"discount": str(pct)} if how == "pricebook" else None, str(pct) if how == "line" else "0")
    got = need(product, p, quote_discount=str(pct) if how == "quote" else "0",
               fees=[{"name": "deal", "amount": str(-off)}] if how == "fee" and off else None)
    paid = list_amount - off
    margin = (paid - D(cost) * qty) / paid * 100 if cost else None
    expected, _, beyond = policy.level(POLICY, "machine", pct, margin, cost is not None)
    assert not got.beyond and not beyond
    assert got.role == ORDER[expected]
