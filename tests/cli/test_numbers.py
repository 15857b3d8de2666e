"""Numbers through the CLI and imports (issue 11 §2): each example stored a wrong value before, silently.

Before: `opp add --amount 1,5` stored 15, `--amount "420.000,50"` stored "420.00050", `--amount 100000.005`
was kept, `1e400` stored "1E+400", `--discount 2,5` was 25%, an import of `1.234,50` stored 1.23, and `$1,234`
went into a CNY deal as 1234.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import Run, git, invoke
from tests.cpq.conftest import cpq, cpq_book, new_quote  # noqa: F401 - fixtures shared with tests/cpq


def commits(book: Path) -> int:
    return int(git(book, "rev-list", "--count", "HEAD").strip())


def err(result: object) -> str:
    return result.stderr.strip()  # type: ignore[attr-defined]


def opps(book: Path) -> list[dict]:
    folder = book / "records" / "opportunities"
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yaml"))] if folder.exists() else []


@pytest.mark.parametrize(("amount", "message"), [
    ("1,5", "error: --amount: '1,5' uses ',', which here only groups thousands (in threes), and '.' is the decimal mark "
            "(the book's locale zh_CN); write 1.5"),
    ("420.000,50", "error: --amount: '420.000,50' has '000,50' after its '.', and '.' is the decimal mark "
                   "(the book's locale zh_CN); write 420000.50"),
    ("1,234", "error: --amount: '1,234' could be 1234 or 1.234; write 1234 (or 1,234.00)"),  # 1.234 has 3 decimals: refused for CNY, so not offered
    ("100000.005", "error: --amount: '100000.005' has too many decimals (CNY has 2 decimal places)"),
    ("$1,234", "error: --amount: '$1,234' is in USD, but this record is in CNY; write the amount in CNY "
               "(or change the record's currency)"),
    ("1e400", "error: --amount: '1e400' is a power of ten; write the number out in full (like 1500000)"),
    ("NaN", "error: --amount: 'NaN' is not a number crmctl stores (write a finite amount like 1234.50)"),
    ("Infinity", "error: --amount: 'Infinity' is not a number crmctl stores (write a finite amount like 1234.50)"),
    ("-0", "error: --amount: '-0' is a negative zero; write 0"),
    ("-5", "error: --amount: '-5' cannot be negative here"),
    ("1" + "0" * 30, "error: --amount: '1000000000000000000000000000000' is too large "
                     "(the limit is below 10^15)"),
])
def test_opp_amount_refusals_are_one_line_and_write_nothing(run: Run, book: Path, amount: str, message: str) -> None:
    before = commits(book)
    r = run("opp", "add", "--name", "Deal", "--account", "acme", "--amount", amount)
    assert r.exit_code == 1 and err(r) == message
    assert commits(book) == before and opps(book) == []


def test_set_amount_and_currency_sign_of_the_records_currency(run: Run, book: Path) -> None:
    assert run("opp", "add", "--name", "A", "--account", "acme", "--amount", "1250000").exit_code == 0
    assert run("opp", "add", "--name", "B", "--account", "acme", "--set", "amount=¥1,200,000.5").exit_code == 0
    # the sign is read in the currency the record ends up with, whichever option comes first
    assert run("opp", "add", "--name", "C", "--account", "acme", "--amount", "$1,234.50", "--currency", "USD").exit_code == 0
    r = run("opp", "add", "--name", "D", "--account", "acme", "--set", "amount=-0")
    assert r.exit_code == 1 and err(r) == "error: --set amount: '-0' is a negative zero; write 0"
    stored = {o["name"]: o["amount"] for o in opps(book)}
    assert stored == {"A": "1250000.00", "B": "1200000.50", "C": "1234.50"}
    rows = json.loads(run("opp", "list", "--format", "json").stdout)
    assert sorted(r["amount"] for r in rows) == ["1200000.50", "1234.50", "1250000.00"]


def test_money_in_output_keeps_fixed_decimals_even_when_the_file_does_not(run: Run, book: Path) -> None:
    # a deal written by an older crmctl or by hand: amount "1250000" beside "1200000.00"
    folder = book / "records" / "opportunities"
    folder.mkdir(exist_ok=True)
    (folder / "o1.yaml").write_text('name: Old\naccount: acme\nstage: prospecting\namount: "1250000"\ncurrency: CNY\n',
                                    encoding="utf-8")
    (folder / "o2.yaml").write_text('name: New\naccount: acme\nstage: prospecting\namount: "1200000.00"\ncurrency: CNY\n',
                                    encoding="utf-8")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "deals")
    assert [r["amount"] for r in json.loads(run("opp", "list", "--format", "json").stdout)] == ["1250000.00", "1200000.00"]
    csv_out = run("opp", "list", "--format", "csv").stdout
    assert "1250000.00" in csv_out and ",1250000," not in csv_out
    assert 'amount: "1250000.00"' in run("opp", "show", "o1", "--format", "yaml").stdout
    assert "1250000.00" in run("export", "opportunities", "--format", "csv").stdout


def test_a_decimal_comma_book_reads_german_numbers(empty_book: Path) -> None:
    (empty_book / "crm.yaml").write_text((empty_book / "crm.yaml").read_text(encoding="utf-8")
                                         .replace("locale: zh_CN", "locale: de_DE"), encoding="utf-8")
    def run(*args: str):  # noqa: ANN202
        return invoke(*args, book=empty_book)
    assert run("account", "add", "--id", "acme", "--name", "ACME").exit_code == 0
    assert run("opp", "add", "--name", "A", "--account", "acme", "--amount", "1.234,50").exit_code == 0
    r = run("opp", "add", "--name", "B", "--account", "acme", "--amount", "1.234")
    assert r.exit_code == 1 and err(r) == "error: --amount: '1.234' could be 1234 or 1,234; write 1234 (or 1.234,00)"  # 1,234 has 3 decimals: refused for CNY, not offered
    r = run("opp", "add", "--name", "C", "--account", "acme", "--amount", "1,234.50")
    assert r.exit_code == 1 and err(r) == ("error: --amount: '1,234.50' has '234.50' after its ',', and ',' is the decimal "
                                           "mark (the book's locale de_DE); write 1234,50")
    assert [o["amount"] for o in opps(empty_book)] == ["1234.50"]


def test_quote_discount_fee_and_qty(cpq: Run, cpq_book: Path) -> None:  # noqa: F811
    qid = new_quote(cpq)
    before = commits(cpq_book)
    for args, message in {
        ("add-line", qid, "holder", "--discount", "2,5"): "error: --discount: '2,5' uses ',', which here only groups "
                                                          "thousands (in threes), and '.' is the decimal mark (the book's "
                                                          "locale zh_CN); write 2.5",
        ("add-line", qid, "holder", "--qty", "1" + "0" * 30): "error: --qty: '1000000000000000000000000000000' is too large "
                                                              "(the limit is below 10^9)",
        ("add-line", qid, "holder", "--qty", "1.5"): "error: --qty: '1.5' is not a whole number",
        ("edit", qid, "--fee", "运费=$500"): "error: --fee 运费: '$500' is in USD, but this record is in CNY; write the "
                                            "amount in CNY (or change the record's currency)",
        ("edit", qid, "--fee", "运费=3,5"): "error: --fee 运费: '3,5' uses ',', which here only groups thousands (in "
                                           "threes), and '.' is the decimal mark (the book's locale zh_CN); write 3.5",
        ("edit", qid, "--discount", "NaN"): "error: --discount: 'NaN' is not a number crmctl stores (write a finite "
                                            "amount like 1234.50)",
    }.items():
        r = cpq("quote", *args)
        assert r.exit_code == 1 and err(r) == message, (args, r.output)
    assert commits(cpq_book) == before
    assert cpq("quote", "add-line", qid, "holder", "--qty", "2", "--discount", "2.5%").exit_code == 0
    assert cpq("quote", "edit", qid, "--fee", "运费=¥3,500.00").exit_code == 0
    data = yaml.safe_load((cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))
    assert data["lines"][0]["discount"] == "2.5" and data["fees"] == [{"name": "运费", "amount": "3500.00"}]
    r = cpq("price", "holder", "--qty", "-2")
    assert r.exit_code == 1 and err(r) == "error: --qty -2: the quantity must be 1 or more"


def test_product_prices_carry_price_digits(cpq: Run, cpq_book: Path) -> None:  # noqa: F811
    # prices are pricing policy: a director writes them (discount_policy.maintainers)
    assert cpq("--as", "dan", "product", "add", "--id", "washer", "--name", "Washer", "--set", "prices.CNY=0.333").exit_code == 0
    data = yaml.safe_load((cpq_book / "records" / "products" / "washer.yaml").read_text(encoding="utf-8"))
    assert data["prices"] == {"CNY": "0.333"}
    r = cpq("--as", "dan", "product", "edit", "washer", "--set", "prices.CNY=0.33333")
    assert r.exit_code == 1 and err(r) == "error: --set prices.CNY: '0.33333' has too many decimals (at most 4 here)"
    r = cpq("--as", "dan", "product", "edit", "washer", "--set", "prices.CNY=-1")
    assert r.exit_code == 1 and err(r) == "error: --set prices.CNY: '-1' cannot be negative here"


def test_payment_amounts_and_quota(run: Run, book: Path) -> None:
    r = run("user", "quota", "rex", "--period", "2026-Q4", "--amount", "1,5")
    assert r.exit_code == 1 and "write 1.5" in err(r)
    assert run("user", "quota", "rex", "--period", "2026-Q4", "--amount", "600000").exit_code == 0
    data = yaml.safe_load((book / "records" / "users" / "rex.yaml").read_text(encoding="utf-8"))
    assert data["quotas"] == [{"period": "2026-Q4", "amount": "600000.00"}]


def test_check_reports_hand_edited_numbers(run: Run, book: Path) -> None:
    folder = book / "records" / "opportunities"
    folder.mkdir(exist_ok=True)
    for rid, amount in (("neg", '"-5000.00"'), ("nan", "NaN"), ("huge", '"1E+400"'), ("comma", '"1,234.50"'),
                        ("cents", '"100000.005"'), ("ok", '"100.00"')):
        (folder / f"{rid}.yaml").write_text(f"name: {rid}\naccount: acme\nstage: prospecting\namount: {amount}\n"
                                            "currency: CNY\n", encoding="utf-8")
    r = run("check")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert "records/opportunities/neg.yaml:4: amount: '-5000.00' cannot be negative here" in lines
    assert "records/opportunities/nan.yaml:4: amount: 'NaN' is not a number crmctl stores (write a finite amount like 1234.50)" in lines
    assert "records/opportunities/huge.yaml:4: amount: '1E+400' is a power of ten; write the number out in full (like 1500000)" in lines
    assert ("records/opportunities/comma.yaml:4: amount: '1,234.50' is not a number as crmctl writes them "
            "(write it like 1234.50: no signs, no separators)") in lines
    assert "records/opportunities/cents.yaml:4: amount: '100000.005' has too many decimals (CNY has 2 decimal places)" in lines
    assert not any("ok.yaml" in line for line in lines)
    assert "internal error" not in r.output


def test_check_reports_a_negative_quantity_on_a_quote(cpq: Run, cpq_book: Path) -> None:  # noqa: F811
    qid = new_quote(cpq, ["holder", "--qty", "2"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("qty: 2", "qty: -2"), encoding="utf-8")
    r = cpq("check")
    assert r.exit_code == 1 and "line 1 (holder) qty: -2 cannot be negative here" in r.stdout


# ------------------------------------------------------------------ imports: a real CSV as European Excel writes it

EURO_CSV = 'name;account;stage;amount;currency\nKühlanlage;acme;prospecting;"1.234,50";EUR\nPresse;acme;prospecting;"€ 2.000.000";EUR\n'


def test_import_refuses_decimal_commas_under_the_books_rule_and_reads_them_when_told(run: Run, book: Path,
                                                                                     tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    src.write_text(EURO_CSV, encoding="utf-8")
    r = run("import", "opportunities", str(src))
    assert r.exit_code == 1
    assert (f"{src}: row 2, column amount: amount: '1.234,50' has '234,50' after its '.', and '.' is the decimal mark "
            "(the book's locale zh_CN); pass --decimal-mark , or write 1234.50") in r.stderr.splitlines()
    assert (f"{src}: row 3, column amount: amount: '€ 2.000.000' has '.' more than once, and '.' is the decimal mark "
            "(the book's locale zh_CN); pass --decimal-mark , or write 2000000") in r.stderr.splitlines()
    assert opps(book) == []
    r = run("import", "opportunities", str(src), "--decimal-mark", ",")
    assert r.exit_code == 0, r.output
    assert sorted(o["amount"] for o in opps(book)) == ["1234.50", "2000000.00"]   # before: 1.23 and 2.00


def test_mapping_states_the_decimal_mark_and_rounding_is_never_silent(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    src.write_text("Deal,Firma,Betrag\nA,acme,\"1.234,50\"\nB,acme,\"99,999\"\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text('decimal_mark: ","\ncolumns: {Deal: name, Firma: account, Betrag: amount}\n'
                       "constants: {stage: prospecting, currency: EUR}\n", encoding="utf-8")
    r = run("import", "opportunities", str(src), "--mapping", str(mapping))
    assert r.exit_code == 1
    # before: 99.999 was rounded to 100.00 without a word
    assert f"{src}: row 3, column Betrag: amount: '99,999' has too many decimals (EUR has 2 decimal places)" in r.stderr
    src.write_text("Deal,Firma,Betrag\nA,acme,\"1.234,50\"\nB,acme,1.234\n", encoding="utf-8")
    r = run("import", "opportunities", str(src), "--mapping", str(mapping))
    assert r.exit_code == 1
    assert (f"{src}: row 3, column Betrag: amount: '1.234' could be 1234 or 1,234; write 1234 (or 1.234,00)"  # 1,234 has 3 decimals: refused for CNY, not offered
            in r.stderr)
    mapping.write_text('decimal_mark: "x"\ncolumns: {Deal: name}\n', encoding="utf-8")
    r = run("import", "opportunities", str(src), "--mapping", str(mapping))
    assert r.exit_code == 1 and err(r) == f"error: {mapping}: decimal_mark is \".\" (1,234.50) or \",\" (1.234,50), not 'x'"


def test_import_product_prices_use_price_digits(run: Run, book: Path, tmp_path: Path) -> None:
    src = tmp_path / "products.csv"
    src.write_text("id,name,prices.CNY\nwasher,Washer,0.333\nbolt,Bolt,\"1,250\"\n", encoding="utf-8")
    r = run("--as", "dan", "import", "products", str(src))   # prices are pricing policy: a director's
    assert r.exit_code == 1 and "'1,250' could be 1250 or 1.25" in r.stderr
    src.write_text("id,name,prices.CNY\nwasher,Washer,0.333\nbolt,Bolt,\"1,250.00\"\n", encoding="utf-8")
    assert run("--as", "dan", "import", "products", str(src)).exit_code == 0
    got = {p: yaml.safe_load((book / "records" / "products" / f"{p}.yaml").read_text(encoding="utf-8"))["prices"]
           for p in ("washer", "bolt")}
    assert got == {"washer": {"CNY": "0.333"}, "bolt": {"CNY": "1250.00"}}


def test_check_reports_numbers_in_crm_yaml(run: Run, book: Path) -> None:
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    text = (text.replace('decimal_mark: ""', 'decimal_mark: ";"').replace("price_digits: 4", "price_digits: 12")
            .replace('key_account_revenue_12m: "1000000"', 'key_account_revenue_12m: "1,000,000"')
            .replace('    standard: "13"', '    standard: "13"\n    odd: "NaN"'))
    path.write_text(text, encoding="utf-8")
    r = run("check")
    assert r.exit_code == 1
    messages = [line.split(": ", 1)[1] for line in r.stdout.splitlines()]
    # before: "1,000,000" was read as 1000000 and NaN crashed the first tax computation
    assert messages == ["crm.yaml decimal_mark: ';' is not a decimal mark; use \".\" or \",\"",
                        "price_digits: '12' is out of range; give a whole number of decimals from 0 to 8",
                        "account.lifecycle_rules.key_account_revenue_12m: '1,000,000' is not a number; give a number in "
                        "the book's currency from 0 to 1000000000000000",
                        "tax.categories.odd: 'NaN' is not a finite number; give a number of percent from 0 to 100"]
    r = run("opp", "add", "--name", "A", "--account", "acme", "--amount", "5")  # the first bad number, with its line
    assert r.exit_code == 1 and r.stderr.strip() == ("error: crm.yaml:24: price_digits: '12' is out of range; give a whole "
                                                     "number of decimals from 0 to 8 (2 more: `crmctl check` lists them)")


def test_an_order_from_a_deal_with_a_hand_edited_negative_amount_is_refused(run: Run, book: Path) -> None:
    folder = book / "records" / "opportunities"
    folder.mkdir(exist_ok=True)
    (folder / "neg.yaml").write_text('name: Neg\naccount: acme\nstage: won\namount: "-5000.00"\ncurrency: CNY\n',
                                     encoding="utf-8")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "hand edit", "--no-verify")  # the pre-commit check would refuse it
    before = commits(book)
    r = run("order", "add", "--opp", "neg")
    # before: order SO-…-0001 with total "-5000.00"
    assert r.exit_code == 1 and err(r) == ("error: opportunity neg: amount: '-5000.00' cannot be negative here; fix it before "
                                           "ordering (`crmctl check` lists such values)")
    assert commits(book) == before
