"""Currency codes are ISO 4217, upper case, everywhere they enter (options, --set, price keys, imports, files).

Before: `--currency ZZZ`, `EURO`, `¥` and `eur` were stored as typed (then `--where currency=EUR` missed the
lower-case one), `pricebook edit --currency EURO` and `product add --set prices.XYZ=5` were accepted, and
`check` said nothing about such files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmctl.core.money import currency_code, currency_problem
from crmctl.core.errors import ValidationError
from tests.conftest import Run, err_line
from tests.mcr.conftest import put


@pytest.mark.parametrize("typed", ["ZZZ", "EURO", "¥", "€", "E", ""])
def test_a_code_that_is_not_iso_4217_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as info:
        currency_code(typed)
    assert "is not an ISO 4217 currency code" in str(info.value)


def test_typed_codes_are_upper_cased_and_a_stored_lower_case_one_is_named() -> None:
    assert currency_code(" eur ") == "EUR"
    assert currency_problem("eur") == "currency: 'eur' is written 'EUR' (ISO 4217 codes are upper case)"
    assert "did you mean 'EUR'?" in str(currency_problem("EURO"))


@pytest.mark.parametrize("bad", ["ZZZ", "EURO", "¥"])
def test_every_command_refuses_a_bad_code(run: Run, bad: str) -> None:
    for args in (("opp", "add", "--name", "X", "--account", "acme", "--currency", bad),
                 ("pricebook", "add", "--name", "P", "--currency", bad),
                 ("product", "add", "--name", "Widget", "--set", f"prices.{bad}=5"),
                 ("quote", "new", "--account", "acme", "--currency", bad)):
        r = run(*args)
        assert r.exit_code == 1, (args, r.output)
        assert "is not an ISO 4217 currency code" in err_line(r), (args, err_line(r))


def test_a_lower_case_code_is_stored_upper_case_and_found(run: Run) -> None:
    r = run("opp", "add", "--name", "X", "--account", "acme", "--currency", "eur", "--amount", "5")
    assert r.exit_code == 0, r.output
    rows = json.loads(run("opp", "list", "--where", "currency=EUR", "--format", "json").stdout)
    assert [row["currency"] for row in rows] == ["EUR"]
    assert json.loads(run("opp", "list", "--where", "currency=eur", "--format", "json").stdout) == rows
    r = run("--as", "dan", "product", "add", "--name", "Widget", "--set", "prices.usd=5")  # prices are policy: a director
    assert r.exit_code == 0, r.output
    assert json.loads(run("product", "show", "widget", "--format", "json").stdout)["prices"] == {"USD": "5.00"}


def test_pricebook_edit_refuses_a_bad_code(run: Run) -> None:
    assert run("--as", "dan", "pricebook", "add", "--id", "std", "--name", "P", "--currency", "CNY").exit_code == 0
    r = run("--as", "dan", "pricebook", "edit", "std", "--currency", "EURO")
    assert r.exit_code == 1 and "'EURO' is not an ISO 4217 currency code" in err_line(r)


def test_check_reports_bad_codes_in_files(run: Run, book: Path) -> None:
    put(book, [("opportunities", "o1", {"name": "X", "account": "acme", "stage": "proposal", "currency": "CNY"}),
               ("products", "widget", {"name": "W", "prices": {"CNY": "5.00"}})])
    opp = book / "records" / "opportunities" / "o1.yaml"
    opp.write_text(opp.read_text(encoding="utf-8").replace("currency: CNY", "currency: eur"), encoding="utf-8")
    product = book / "records" / "products" / "widget.yaml"
    product.write_text(product.read_text(encoding="utf-8").replace("CNY:", "XYZ:"), encoding="utf-8")
    r = run("check")
    assert r.exit_code == 1
    assert "records/opportunities/o1.yaml:" in r.stdout and "currency: 'eur' is written 'EUR'" in r.stdout
    assert "records/products/widget.yaml:" in r.stdout and "prices.XYZ: 'XYZ' is not an ISO 4217 currency code" in r.stdout
