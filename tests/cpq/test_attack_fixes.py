"""Fresh-user attack on CPQ, pricing and input findings (issue 12, step 2): each finding's example, hand-computed.

Book: tests/cpq/conftest.py (kit bundle 120000.00 at 13% with svc 5000.00 added at 6%; holder 1000.00; mill 100000.00).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.cpq.conftest import Run, holder_quote_with_qty, new_quote

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


# --- #20: a fee given again replaces it; --remove-fee; check names duplicates -----------------------------------------

def test_a_fee_given_again_replaces_it_and_says_so(cpq: Run, cpq_book: Path) -> None:
    # holder 1000.00 + freight: 1000 then corrected to 2000 -> net 3000.00 (the old code charged both: 4000.00),
    # tax 13% 390.00, total 3390.00
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--fee", "运费=1000").exit_code == 0
    r = cpq("quote", "edit", qid, "--fee", "运费=2000")
    assert r.exit_code == 0, r.output
    assert "fee 运费 was 1000.00, now 2000.00" in r.stderr
    data = _show_json(cpq, qid)
    assert data["fees"] == [{"name": "运费", "amount": "2000.00"}]
    assert (data["totals"]["net"], data["totals"]["total"]) == ("3000.00", "3390.00")
    # another name adds a fee; the same name twice in one command, or removing a fee it does not have, is refused
    assert cpq("quote", "edit", qid, "--fee", "Install=500").exit_code == 0
    r = cpq("quote", "edit", qid, "--fee", "a=1", "--fee", "A=2")
    assert r.exit_code == 1 and "--fee A: given twice" in r.stderr
    r = cpq("quote", "edit", qid, "--remove-fee", "安装")
    assert r.exit_code == 1 and "--remove-fee 安装: the quote has no fee of that name (its fees: 运费, Install)" in r.stderr
    assert cpq("quote", "edit", qid, "--remove-fee", "install").exit_code == 0
    assert _show_json(cpq, qid)["fees"] == [{"name": "运费", "amount": "2000.00"}]


def test_check_names_a_fee_written_twice_by_hand(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--fee", "运费=1000").exit_code == 0
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("fees:\n", 'fees:\n- {name: 运费, amount: "500.00"}\n', 1),
                    encoding="utf-8")
    r = cpq("check")
    assert r.exit_code == 1
    assert f"fee 运费 appears 2 times (500.00, 1000.00); keep one (`crmctl quote edit {qid} --remove-fee 运费" in r.output


# --- #14: the writers refuse what `check` reports; show warns about it --------------------------------------------------

def test_a_hand_edited_currency_is_warned_by_show_and_refused_by_submit(cpq: Run, cpq_book: Path) -> None:
    # holder x1 in CNY (acme-special book, list price): 1000.00 + 13% = 1130.00; the file then says USD: those are not USD prices
    qid = new_quote(cpq, ["holder"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("currency: CNY", "currency: USD"), encoding="utf-8")
    problem = "price book acme-special is in CNY, the quote in USD: its amounts are not USD prices of that book"
    r = cpq("quote", "show", qid)
    assert r.exit_code == 0 and f"warning: {problem}" in r.stderr
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert r.exit_code == 1 and f"cannot submit: {problem}" in r.stderr
    assert problem in cpq("check").output


def test_approve_and_send_refuse_what_check_reports(cpq: Run, cpq_book: Path) -> None:
    # mill 15% off needs a manager (pending); then the quote's price book is edited to USD by hand: `check` reports the
    # quote (its CNY amounts are not that book's), so neither approve nor (after a clean approval) send lets it through
    qid = new_quote(cpq, ["mill", "--discount", "15%"], ["holder"])
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert r.exit_code == 0, r.output
    book_file = cpq_book / "records" / "pricebooks" / "acme-special.yaml"
    text = book_file.read_text(encoding="utf-8")
    book_file.write_text(text.replace("currency: CNY", "currency: USD"), encoding="utf-8")
    assert "is in USD, the quote in CNY" in cpq("check").output
    r = cpq("--as", "mia", "quote", "approve", qid)
    assert r.exit_code == 1 and "cannot approve: price book acme-special is in USD, the quote in CNY" in r.stderr
    book_file.write_text(text, encoding="utf-8")
    assert cpq("--as", "mia", "quote", "approve", qid).exit_code == 0
    book_file.write_text(text.replace("currency: CNY", "currency: USD"), encoding="utf-8")
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 1 and "cannot send: price book acme-special is in USD, the quote in CNY" in r.stderr


# --- #22: every number a quote file stores is read by the one parser, named with file:line --------------------------

def test_a_hand_edited_qty_or_price_is_named_by_every_command_and_by_check(cpq: Run, cpq_book: Path) -> None:
    # an editor's round trip writes qty: 1.0 (the old code: "internal error ... int() ... '1.0'", exit 3; check silent)
    qid, path, clean, line = holder_quote_with_qty(cpq, cpq_book, "1.0")   # line: the file's own line of that qty
    said = "line 1 (holder) qty: '1.0' is not a whole number (write 1)"
    for args in (["quote", "show", qid], ["--as", "rex", "quote", "submit", qid], ["quote", "render", qid, "--html"],
                 ["quote", "edit", qid, "--notes", "x"]):
        r = cpq(*args)
        assert r.exit_code == 1, (args, r.output)
        assert f"error: records/quotes/{qid}.yaml:{line}: {said}" in r.stderr, r.stderr
    r = cpq("check")
    assert r.exit_code == 1 and f"records/quotes/{qid}.yaml:{line}: {said}" in r.output
    # a price written with a thousands separator, on a draft
    path.write_text(clean.replace('unit_price: "1000.00"', 'unit_price: "1,000.00"', 1), encoding="utf-8")
    said = "line 1 (holder) unit_price: '1,000.00' is not a number as crmctl writes them"
    r = cpq("quote", "show", qid)
    assert r.exit_code == 1 and f"error: records/quotes/{qid}.yaml:" in r.stderr and said in r.stderr
    assert said in cpq("check").output


# --- #10: --valid-until is after the quote's date and today; an expired quote is told to revise, everywhere ------------

def test_valid_until_before_the_quote_date_or_today_or_decades_away_is_refused(cpq: Run) -> None:
    # quote date 2026-06-15 (CRMCTL_NOW); the old code accepted all three and the draft expired at once
    qid = new_quote(cpq, ["holder"])
    r = cpq("quote", "edit", qid, "--valid-until", "2026-06-01")
    assert r.exit_code == 1 and "error: --valid-until 2026-06-01 is before the quote's date 2026-06-15; give a later day" \
        in r.stderr
    r = cpq("quote", "edit", qid, "--valid-until", "2099-12-31")
    assert r.exit_code == 1 and "is more than 3650 days after the quote's date 2026-06-15" in r.stderr
    assert cpq("quote", "edit", qid, "--valid-until", "2026-07-31").exit_code == 0


def test_an_expired_quote_is_told_to_revise_by_submit_and_send_alike(cpq: Run) -> None:
    # a quote made 2026-06-15, valid until 2026-07-15, seen on 2026-08-01: expired
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--valid-until", "2026-07-15").exit_code == 0
    later = {"CRMCTL_NOW": "2026-08-01T10:00:00+08:00"}
    r = cpq("--as", "rex", "quote", "submit", qid, env=later)
    assert r.exit_code == 1 and "quote is expired" in r.stderr and "`crmctl quote revise`" in r.stderr
    r = cpq("--as", "rex", "quote", "send", qid, env=later)
    assert r.exit_code == 1
    assert "cannot send an expired quote (it was valid until 2026-07-15); `crmctl quote revise` makes a new version" \
        in r.stderr and "submit" not in r.stderr


# --- #12: README's tax_treatment and the code agree; a document never states a treatment it does not apply ------------

def test_a_hand_written_tax_treatment_is_not_printed_and_check_points_to_tax_exempt(cpq: Run, cpq_book: Path) -> None:
    # README used to document `tax_treatment: {kind, reason, reason_en}`; the schema called it unknown, yet render printed
    # "税务处理 出口零税率" over 13% VAT (holder 1000.00 + 130.00 = 1130.00). Now: not a field, named as such, not printed.
    from tests.cpq.test_document_lang import pdf_text

    qid = new_quote(cpq, ["holder"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "tax_treatment: {kind: zero_rated, reason: 出口零税率}\n",
                    encoding="utf-8")
    r = cpq("check")
    assert "'tax_treatment' is not a field of quotes: a quote's tax treatment is its exemption" in r.output
    assert "--tax-exempt REASON" in r.output
    out = cpq_book / "t.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "出口零税率" not in text and "1,130.00" in text


def test_totals_that_say_exempt_yet_charge_tax_are_refused_by_render_and_reported(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  tax: \"130.00\"\n" in text
    path.write_text(text.replace("  tax: \"130.00\"\n", "  tax: \"130.00\"\n  tax_exempt: Export zero-rated\n", 1),
                    encoding="utf-8")
    r = cpq("quote", "render", qid, "--out", str(cpq_book / "t.pdf"))
    assert r.exit_code == 1 and "say it carries no tax (Export zero-rated) yet charge tax 130.00" in r.stderr
    assert "totals say the quote carries no tax (Export zero-rated) yet charge tax 130.00" in cpq("check").output


# --- #3: an English rendering of text with no English form is named, as check names it --------------------------------

def test_render_in_english_names_the_fields_with_no_english_form(cpq: Run, cpq_book: Path) -> None:
    # a zh-CN quote with Chinese payment terms and a Chinese fee name, rendered --lang en: the old code printed them
    # silently (check said nothing: the quote's own language is Chinese)
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--payment-terms", "发货前付清", "--fee", "运费=100").exit_code == 0
    r = cpq("quote", "render", qid, "--lang", "en", "--out", str(cpq_book / "en.pdf"))
    assert r.exit_code == 0, r.output
    warning = [line for line in r.stderr.splitlines() if line.startswith("warning: the English document prints")]
    assert len(warning) == 1
    assert "payment_terms: '发货前付清' has no English form (set payment_terms_en" in warning[0]
    assert "quote.fees[0].name: '运费' has no English form (set the fee's name_en" in warning[0]
    # the Chinese document of the same quote is not warned about
    r = cpq("quote", "render", qid, "--out", str(cpq_book / "zh.pdf"))
    assert r.exit_code == 0 and "warning: the English document" not in r.stderr


# --- #17: sub-cent prices: no zero tier, no discount that gives nothing, never -0.00 ----------------------------------

def _tiny_product(cpq: Run, sku: str, price: str) -> None:
    r = cpq("--as", "dan", "product", "add", "--name", sku, "--id", sku, "--category", "accessory",
            "--set", f"prices.CNY={price}", "--set", "cost.CNY=0.1")
    assert r.exit_code == 0, r.output


def test_a_rounded_sub_cent_price_shows_no_volume_tier(cpq: Run, cpq_book: Path) -> None:
    # washer 0.333 x 3 = 0.999 -> 1.00: no tier applies (the old show/PDF printed a "tier 0.00" / 批量优惠 ¥0.00 row)
    from tests.cpq.test_document_lang import pdf_text

    _tiny_product(cpq, "washer", "0.333")
    qid = new_quote(cpq, ["washer", "--qty", "3"])
    shown = _show_json(cpq, qid)["lines_view"][0]
    assert (shown["unit_price_shown"], shown["tier_shown"], shown["net"]) == ("0.333", "", "1.00")
    assert "tier" not in cpq("quote", "show", qid).stdout
    out = cpq_book / "w.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    assert "批量优惠" not in pdf_text(out)


def test_a_discount_that_rounds_to_nothing_is_refused(cpq: Run, cpq_book: Path) -> None:
    # 0.333 x 1 = 0.33; 1% of it is 0.0033 -> 0.00: the old code printed "1%" next to an unchanged 0.33
    _tiny_product(cpq, "washer", "0.333")
    qid = new_quote(cpq, ["washer", "--qty", "3"])
    r = cpq("quote", "add-line", qid, "washer", "--discount", "1%")
    assert r.exit_code == 1 and "--discount 1%: 1% of 0.33 CNY rounds to 0" in r.stderr
    r = cpq("quote", "edit", qid, "--discount", "0.1%")   # 0.1% of 1.00 = 0.001 -> 0.00
    assert r.exit_code == 1 and "--discount 0.1%: of 1.00 CNY it rounds to 0" in r.stderr


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(1, 10**6), qty=st.integers(1, 50), pct=st.decimals(0, 50, places=2),
       half_even=st.booleans())
def test_price_steps_never_show_a_zero_or_negative_zero_line_step(cents: int, qty: int, pct: Decimal,
                                                                 half_even: bool) -> None:
    # with rounding: half-even, 0.125 x 1 is 0.12: the step says -0.005 (it said "-0.00"); steps add up to the net
    from crmctl.core.errors import CrmError
    from crmctl.cpq.configure import configure
    from crmctl.cpq.pricing import TaxRules, price_line

    tax = TaxRules(rates={"standard": D(13)}, rounding="half-even" if half_even else "half-up")
    product = {"prices": {"CNY": str(D(cents) / 1000)}, "tax_category": "standard"}
    try:
        p = price_line("p", product, configure("p", product, {}), qty, "CNY", tax, discount=pct)
    except CrmError:
        return   # a discount that rounds to nothing, a line that comes to 0.00: refused with a message
    shown = [s.as_dict("CNY") for s in p.steps]
    assert not any(s[k].startswith("-") and D(s[k]) == 0 for s in shown for k in ("amount", "running"))
    assert all(s.amount != 0 for s in p.steps if s.per == "line")
    assert sum((s.amount for s in p.steps), D(0)) == p.net


def test_half_even_rounding_of_a_half_cent_is_a_step_of_its_own() -> None:
    from crmctl.cpq.configure import configure
    from crmctl.cpq.pricing import TaxRules, price_line

    tax = TaxRules(rates={"standard": D(13)}, rounding="half-even")
    product = {"prices": {"CNY": "0.125"}, "tax_category": "standard"}
    p = price_line("half", product, configure("half", product, {}), 1, "CNY", tax)
    assert [(s.label, s.as_dict("CNY")["amount"]) for s in p.steps] == [("list price", "0.125"),
                                                                         ("quantity x 1", "-0.005")]
    assert p.net == D("0.12")


# --- #23: messages that say what is true -------------------------------------------------------------------------------

def test_a_pending_quote_edited_after_submit_says_it_must_be_submitted_again(cpq: Run) -> None:
    # mill 15% off (acme-special 95000 -> 80750: 19.25% off list) needs a manager; edited to 10% more it needs a
    # director — show said "pending: needs a manager" (the old role, judged on other content)
    qid = new_quote(cpq, ["mill", "--discount", "15%"], ["holder"])
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert r.exit_code == 0 and "pending approval by a manager" in r.stdout, r.output
    assert cpq("quote", "edit", qid, "--discount", "10%").exit_code == 0   # 72675: 27.3% off list
    approval = _show_json(cpq, qid)["approval_summary"]
    assert approval.startswith("pending, but STALE (changed since submitted: discount") and "submit` it again" in approval
    assert "needs a manager" not in approval


def test_send_of_a_sent_quote_says_it_was_sent_not_that_it_needs_approval(cpq: Run) -> None:
    qid = new_quote(cpq, ["holder"])
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0
    number = cpq("--as", "rex", "quote", "send", qid).stdout.strip()
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 1
    assert f"the quote was sent already (as {number}; now sent); `crmctl quote render` prints it again" in r.stderr
    assert "approved first" not in r.stderr and "a sent" not in r.stderr


def test_ungrouped_lines_among_groups_get_a_named_subtotal(cpq: Run, cpq_book: Path) -> None:
    # holder 1000.00 in group 附件, svc 5000.00 without a group: the old PDF printed a bare "分组小计 ¥5,000.00"
    from tests.cpq.test_document_lang import pdf_text

    qid = new_quote(cpq, ["holder", "--group", "附件"], ["svc"])
    view = {row["total"]: row["amount"] for row in _show_json(cpq, qid)["totals_view"]}
    assert view["subtotal 附件"] == "1000.00" and view["subtotal (other items)"] == "5000.00"
    out = cpq_book / "g.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    assert "分组小计 其他" in pdf_text(out)
