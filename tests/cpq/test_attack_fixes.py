"""Fresh-user attack on CPQ, pricing and input findings (issue 12, step 2): each finding's example, hand-computed.

Book: tests/cpq/conftest.py (kit bundle 120000.00 at 13% with svc 5000.00 added at 6%; holder 1000.00; mill 100000.00).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.cpq.conftest import Run, new_quote

D = Decimal


def _show_json(cpq: Run, qid: str) -> dict:
    r = cpq("quote", "show", qid, "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# --- #4: `crmctl price` and the quote share one pricing path ---------------------------------------------------------

def test_price_taxes_bundle_components_at_their_own_rate_like_the_quote(cpq: Run) -> None:
    # kit x1, 10% off: net 125000 x 0.9 = 112500.00, split by list weight 120000 : 5000 -> 108000.00 at 13% and
    # 4500.00 at 6%: tax 14040.00 + 270.00 = 14310.00; total 126810.00.
    # The old `price` taxed the whole 112500.00 at 13% = 14625.00 (total 127125.00).
    r = cpq("price", "kit", "--account", "acme", "--discount", "10%", "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["net"], out["tax"], out["total"]) == ("112500.00", "14310.00", "126810.00")
    assert out["tax_by_rate"] == {"6": "270.00", "13": "14040.00"}
    table = cpq("price", "kit", "--account", "acme", "--discount", "10%").stdout
    assert "tax 6% (added)" in table and "270.00" in table and "126,810.00" in table
    qid = new_quote(cpq, ["kit", "--discount", "10%"])
    totals = _show_json(cpq, qid)["totals"]
    assert (totals["net"], totals["tax"], totals["total"]) == (out["net"], out["tax"], out["total"])


def test_price_for_a_tax_exempt_account_charges_no_tax_like_the_quote(cpq: Run) -> None:
    # holder x1 for an exempt account: 1000.00, no tax (the old `price` added 13%: 1130.00)
    r = cpq("--as", "dan", "account", "edit", "acme", "--set", "tax_exempt=Export zero-rated")
    assert r.exit_code == 0, r.output
    out = json.loads(cpq("price", "holder", "--account", "acme", "--format", "json").stdout)
    assert (out["tax"], out["total"], out["tax_exempt"]) == ("0.00", "1000.00", "Export zero-rated")
    qid = new_quote(cpq, ["holder"])
    assert _show_json(cpq, qid)["totals"]["total"] == "1000.00"


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(qty=st.integers(1, 40), pct=st.decimals(0, 60, places=2), inclusive=st.booleans())
def test_a_line_alone_is_taxed_as_a_quote_of_that_line(qty: int, pct: Decimal, inclusive: bool) -> None:
    # price_line's tax and total are the totals a one-line quote of it shows, whatever the discount and tax mode
    from crmctl.cpq.configure import configure
    from crmctl.cpq.pricing import TaxRules, price_line, quote_totals

    tax = TaxRules(mode="inclusive" if inclusive else "exclusive", rates={"standard": D(13), "service": D(6)})
    kit = {"prices": {"CNY": "120000.00"}, "tax_category": "standard", "components": [{"sku": "svc", "qty": 1, "mode": "added"}]}
    svc = {"prices": {"CNY": "5000.00"}, "tax_category": "service"}
    p = price_line("kit", kit, configure("kit", kit, {}), qty, "CNY", tax, discount=pct, components={"svc": svc})
    row = {"net": str(p.net), "tax_rate": str(p.tax_rate), "tax_parts": {str(r): str(a) for r, a in p.tax_parts.items()}}
    t = quote_totals([row], D(0), [], "CNY", tax)
    assert (p.tax, p.total) == (t["tax"], t["total"])
