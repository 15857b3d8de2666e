"""Price control through the CLI on the small CPQ book: discounts in disguise, what an approval covers,
price-book choice and documents that stay what was sent. Figures by hand in the comments.

The fixture's catalog: mill 100000 list (cost 60000; its `pro` control option has no cost), holder 1000,
svc 5000 (service, 6%), kit bundle 120000 (+ svc added). Books: std (everyone; holder range tier 10+ at 10% off),
dealer (tier B; mill 10% off; holder slab), acme-special (acme; mill at 95000).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

from tests.conftest import git
from tests.cpq.conftest import Run, new_quote


def quote(book: Path, qid: str) -> dict[str, Any]:
    return yaml.safe_load((book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))


def edit_file(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def commit_as(book: Path, email: str, message: str) -> None:
    git(book, "add", "-A")
    git(book, "-c", f"user.email={email}", "-c", "user.name=someone", "commit", "--no-verify", "-qm", message)


def plain_account(cpq: Run) -> None:
    """An account no named or tier book applies to: the mill at its list price."""
    assert cpq("account", "add", "--id", "plain", "--name", "Plain Co", "--tier", "C").exit_code == 0


def test_negative_fee_is_a_discount_the_policy_judges(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    qid = new_quote(cpq, ["mill", "--qty", "3"], ["holder", "--qty", "3"], account="plain")
    # 300000 + 3000 list, cost 180000 + 1500: -123775.50 is 40.85% off list (the mill's share 122550 is below
    # its cost); --discount 40.85% is refused, so is this
    r = cpq("quote", "edit", qid, "--fee", "特别优惠=-123775.50")
    assert r.exit_code == 1
    assert "40.85% off list is beyond every role's authority (at most 35% for machine)" in r.stderr
    # -60600 is 20% off list (60000 from the mill, 600 from the holders): a manager's, as --discount 20% would be
    assert cpq("quote", "edit", qid, "--fee", "特别优惠=-60600", "--fee", "运费=800").exit_code == 0
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert "pending approval by a manager: line 1 (mill): 20% off list needs a manager" in r.stdout
    q = quote(cpq_book, qid)
    # 303000 - 60600 + 800 freight = 243200; tax 242400 x 13% + 800 x 13% = 31512 + 104 = 31616; total 274816
    assert q["totals"]["reductions"] == [{"name": "特别优惠", "amount": "60600.00"}]
    assert (q["totals"]["discount"], q["totals"]["fees"], q["totals"]["net"], q["total"]) == \
        ("60600.00", "800.00", "243200.00", "274816.00")
    shown = cpq("quote", "show", qid).stdout
    assert "discount 特别优惠" in shown and "-60600.00" in shown and "fee 运费" in shown
    assert cpq("quote", "edit", qid, "--fee", "x=0").exit_code == 1


def test_zero_and_negative_prices_are_refused(cpq: Run, cpq_book: Path) -> None:
    r = cpq("--as", "dan", "product", "add", "--name", "Freebie", "--set", "prices.CNY=0", "--id", "freebie")
    assert r.exit_code == 1 and "prices.CNY: 0.00 must be more than 0" in r.stderr
    (cpq_book / "records" / "products" / "gift.yaml").write_text('name: Gift\nprices: {CNY: "-5.00"}\n')
    commit_as(cpq_book, "dan@example.com", "gift")
    r = cpq("check")
    assert r.exit_code == 1 and "gift.yaml:2: prices.CNY: '-5.00' cannot be negative here" in r.stdout
    qid = new_quote(cpq)
    r = cpq("quote", "add-line", qid, "gift")
    # the hand-edited price is left out when the catalog is read (core.book screens stored numbers), and named
    assert r.exit_code == 1 and "product gift: prices.CNY: '-5.00' cannot be negative here" in r.stderr


def test_price_books_and_prices_are_policy(cpq: Run, cpq_book: Path) -> None:
    # a rep may not write a price book or a product's price; a director may
    r = cpq("--as", "rex", "pricebook", "add", "--name", "Mine", "--currency", "CNY", "--id", "mine")
    assert r.exit_code == 1 and "rex (rep) may not; it needs one of the roles director, admin" in r.stderr
    r = cpq("--as", "rex", "product", "edit", "mill", "--set", "prices.CNY=90000")
    assert r.exit_code == 1 and "setting a product's prices is pricing policy" in r.stderr
    assert cpq("--as", "rex", "product", "edit", "mill", "--set", "description=fast").exit_code == 0
    # ... and a book a rep writes by hand (19% off the mill) is reported by check, and still judged from list
    (cpq_book / "records" / "pricebooks" / "rex.yaml").write_text(
        'name: Rex\ncurrency: CNY\npriority: 9\napplies_to: {accounts: [acme]}\nentries:\n  - {sku: mill, discount: "19"}\n')
    commit_as(cpq_book, "rex@example.com", "my book")
    r = cpq("check")
    assert "records/pricebooks/rex.yaml:1: commit" in r.stdout and "by rex (rep) changed a price book" in r.stdout
    qid = new_quote(cpq, ["mill"], ["holder"])
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert "pending approval by a manager: line 1 (mill): 19% off list needs a manager" in r.stdout


def test_pricebook_audience_is_a_list(cpq: Run, cpq_book: Path) -> None:
    r = cpq("--as", "dan", "pricebook", "add", "--name", "ACME deal", "--currency", "CNY", "--id", "deal",
            "--set", "applies_to.accounts=[acme]")
    assert r.exit_code == 0, r.output
    data = yaml.safe_load((cpq_book / "records" / "pricebooks" / "deal.yaml").read_text())
    assert data["applies_to"] == {"accounts": ["acme"]}
    r = cpq("--as", "dan", "pricebook", "edit", "std", "--set", "applies_to.accounts=[acme]")
    assert r.exit_code == 1 and "applies_to has all: true and named tiers or accounts" in r.stderr


def test_cost_unknown_needs_the_margin_approver(cpq: Run) -> None:
    plain_account(cpq)
    qid = new_quote(cpq, ["mill", "--option", "ctrl=pro"], ["holder"], account="plain")
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert "pending approval by a director: line 1 (mill): cost unknown (option ctrl=pro has no cost)" in r.stdout


def test_a_cost_typed_into_the_quote_file_is_not_trusted(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    # 30% off: paid 70000 for a 60000 cost = 14.3% margin: a director; typing cost 1.00 does not make it a manager's
    qid = new_quote(cpq, ["mill", "--discount", "19%"], ["holder"], account="plain")
    edit_file(cpq_book / "records" / "quotes" / f"{qid}.yaml", lambda d: d["lines"][0].update(cost="1.00", discount="30",
                                                                                               net="70000.00"))
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert "margin 14.29% ex tax is below the 15% minimum, needs a director" in r.stdout
    assert quote(cpq_book, qid)["lines"][0]["cost"] == "60000.00"


def test_the_approval_covers_everything_signed(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    qid = new_quote(cpq, ["mill", "--discount", "5%"], ["holder"], account="plain")
    assert cpq("--as", "rex", "quote", "submit", qid).stdout.startswith("approved: within rex's authority")
    assert cpq("quote", "edit", qid, "--payment-terms", "货到后180天付款", "--valid-until", "2027-12-31").exit_code == 0
    shown = cpq("quote", "show", qid).stdout
    assert "STALE (by rex; changed since: payment_terms, valid_until)" in shown
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 1 and "the approval is stale (changed: payment_terms, valid_until since" in r.stderr
    # a hand-edited account or line cost after a fresh approval is caught the same way
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    edit_file(path, lambda d: (d.update(account="acme"), d["lines"][0].update(cost="1.00")))
    assert "changed since: account, line 1 cost" in cpq("quote", "show", qid).stdout
    assert cpq("--as", "rex", "quote", "send", qid).exit_code == 1


def test_required_level_is_recomputed_at_approve_from_the_catalog(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    qid = new_quote(cpq, ["mill", "--discount", "15%"], ["holder"], account="plain")
    assert "needs a manager" in cpq("--as", "rex", "quote", "submit", qid).stdout
    # the cost rises after the submit: 85000 paid for a 80000 cost is a 5.9% margin, a director's to approve
    assert cpq("--as", "dan", "product", "edit", "mill", "--set", "cost.CNY=80000.00").exit_code == 0
    r = cpq("--as", "mia", "quote", "approve", qid)
    assert r.exit_code == 1 and "mia (manager) may not approve this quote: it needs a director" in r.stderr


def test_tier_effect_is_printed(cpq: Run) -> None:
    plain_account(cpq)
    # std: holder 10+ at 10% off the whole quantity: 12 x 900 = 10800; the page prints 900.00, not 1000.00
    qid = new_quote(cpq, ["holder", "--qty", "12"], account="plain")
    rows = [r for r in cpq("quote", "show", qid).stdout.splitlines() if "holder" in r]
    assert "900.00" in rows[0] and "10800.00" in rows[0] and "1000.00" not in rows[0]


def test_tier_that_does_not_divide_is_its_own_column(cpq: Run) -> None:
    # dealer slab: 1-4 @1000, 5-9 @900, 10-12 @800 = 4000 + 4500 + 2400 = 10900 (12 x 1000 - 1100):
    # 10900 / 12 = 908.3333.. is no unit price, so the list unit price and the tier's -1100.00 are printed
    qid = new_quote(cpq, ["holder", "--qty", "12"], account="baosteel")
    out = cpq("quote", "show", qid).stdout
    assert "tier" in out and "-1100.00" in out and "10900.00" in out


def test_tax_exempt_account_prints_the_reason(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    assert cpq("account", "edit", "plain", "--set", "tax_exempt=Export, zero-rated (VAT Art. 146)").exit_code == 0
    qid = new_quote(cpq, ["holder"], account="plain")
    q = quote(cpq_book, qid)
    assert (q["totals"]["tax"], q["total"], q["totals"]["tax_exempt"]) == ("0.00", "1000.00", "Export, zero-rated (VAT Art. 146)")
    assert "Export, zero-rated" in cpq("quote", "show", qid).stdout


def test_equal_priority_books_give_the_better_price(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    folder = cpq_book / "records" / "pricebooks"
    for rid, pct in (("a-big", "12"), ("z-small", "2")):
        (folder / f"{rid}.yaml").write_text(
            f'name: {rid}\ncurrency: CNY\npriority: 3\nentries:\n  - {{sku: mill, discount: "{pct}"}}\n')
    commit_as(cpq_book, "dan@example.com", "two promotions")
    # today the alphabetically later z-small (2%) won; the customer gets the 12%: 88000
    qid = new_quote(cpq, ["mill"], account="plain")
    q = quote(cpq_book, qid)
    assert (q["pricebook"], q["lines"][0]["net"]) == ("a-big", "88000.00")
    r = cpq("check")
    assert "warning: price books a-big and z-small tie for all (priority 3, CNY)" in r.stdout


def test_currency_mismatch_is_reported_and_not_shown(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder"])
    edit_file(cpq_book / "records" / "quotes" / f"{qid}.yaml", lambda d: d.update(pricebook="usd"))
    git(cpq_book, "add", "-A")
    git(cpq_book, "commit", "--no-verify", "-qm", "hand edit")
    assert "price book usd is in USD, the quote in CNY" in cpq("check").stdout
    assert "usd" not in [line.split()[-1] for line in cpq("quote", "show", qid).stdout.splitlines() if "pricebook" in line]


def test_a_sent_quote_renders_what_was_sent(cpq: Run, cpq_book: Path) -> None:
    plain_account(cpq)
    qid = new_quote(cpq, ["mill", "--option", "coolant=tsc", "--option", "spindle=s2", "--option", "extras=conveyor"],
                    ["holder"], account="plain")
    assert cpq("--as", "dan", "quote", "submit", qid).exit_code == 0
    assert cpq("--as", "dan", "quote", "send", qid).exit_code == 0
    before = (cpq_book / "before.html")
    assert cpq("quote", "render", qid, "--html", "--out", str(before)).exit_code == 0
    path = cpq_book / "records" / "products" / "mill.yaml"
    edit_file(path, lambda d: (d.update(name="Renamed Mill"), d["option_groups"][2]["options"][1].update(name="Renamed TSC")))
    commit_as(cpq_book, "dan@example.com", "rename")
    after = (cpq_book / "after.html")
    assert cpq("quote", "render", qid, "--html", "--out", str(after)).exit_code == 0
    text = after.read_text(encoding="utf-8")
    assert "Renamed" not in text and "Through-spindle" in text and "测试铣床" in text
    assert text == before.read_text(encoding="utf-8")


def test_suggest_skips_inactive_products(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["mill"])
    assert "svc" in cpq("quote", "suggest", qid).stdout
    assert cpq("--as", "dan", "product", "edit", "svc", "--set", "active=false").exit_code == 0
    assert "svc" not in cpq("quote", "suggest", qid).stdout


def test_check_warns_about_an_impossible_option(cpq: Run, cpq_book: Path) -> None:
    # probe requires the pro control; a new rule makes the probe exclude it: the probe can never be chosen
    edit_file(cpq_book / "records" / "products" / "mill.yaml",
              lambda d: d["rules"].append({"id": "probe-no-pro", "kind": "excludes", "if": "extras=probe", "then": "ctrl=pro"}))
    commit_as(cpq_book, "dan@example.com", "rule")
    r = cpq("check")
    assert r.exit_code == 0, r.output
    assert "warning: option extras=probe can never be chosen: rule probe-needs-pro requires ctrl=pro" in r.stdout
