"""`crmctl price`: the breakdown, the chosen price book and every bad input."""
from __future__ import annotations

import json

from tests.cpq.conftest import Run, cpq, cpq_book  # noqa: F401 - fixtures shared with tests/cpq


def test_breakdown_names_each_rule(cpq: Run) -> None:
    r = cpq("price", "mill", "--option", "ctrl=pro", "--option", "spindle=s2", "--option", "extras=conveyor",
            "--qty", "3", "--account", "baosteel", "--discount", "5%")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "price book dealer" in out                 # tier B -> the dealer book beats everyone's
    for text in ("products/mill: prices.CNY", "10% of base 100000.00", "pricebook dealer: 10% off list",
                 "109800.00 x 3", "5% line discount", "-16,470.00", "312,930.00", "40,680.90", "353,610.90"):
        assert text in out, text
    assert "valid configuration" in out


def test_json_for_scripts(cpq: Run) -> None:
    r = cpq("price", "holder", "--qty", "12", "--account", "baosteel", "--format", "json")
    data = json.loads(r.stdout)
    assert data["valid"] is True and data["pricebook"] == "dealer"
    assert data["net"] == "10900.00"          # slab: 4 x 1000 + 5 x 900 + 3 x 800
    assert data["steps"][-1]["rule"] == "pricebook dealer: slab 1-4@1000.00, 5-9@900.00, 10-12@800.00"


def test_pricebook_choice(cpq: Run) -> None:
    named = json.loads(cpq("price", "mill", "--account", "acme", "--format", "json").stdout)
    assert named["pricebook"] == "acme-special" and named["net"] == "95000.00"   # named account beats everyone
    std = json.loads(cpq("price", "holder", "--qty", "12", "--format", "json").stdout)
    assert std["pricebook"] == "std" and std["net"] == "10800.00"               # range: all 12 at 900
    forced = json.loads(cpq("price", "mill", "--account", "acme", "--pricebook", "std", "--format", "json").stdout)
    assert forced["pricebook"] == "std" and forced["net"] == "100000.00"
    usd = json.loads(cpq("price", "mill", "--currency", "USD", "--format", "json").stdout)
    assert usd["pricebook"] == "usd" and usd["net"] == "15000.00"
    late = cpq("price", "mill", "--pricebook", "std", "--date", "2027-01-05")
    assert late.exit_code == 1 and "price book std is not valid on 2027-01-05" in late.stderr


def test_invalid_configuration_exits_1_with_every_reason(cpq: Run) -> None:
    r = cpq("price", "mill", "--option", "extras=probe", "--option", "spindle=s2")
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "requires ctrl=pro" in errors[0] and "extras=conveyor is required" in errors[1]
    assert "INVALID configuration" in r.stdout


def test_bad_input(cpq: Run) -> None:
    cases = {
        ("price", "nothing"): "no product 'nothing'",
        ("price", "mill", "--option", "colour=red"): "mill has no option group 'colour'",
        ("price", "mill", "--option", "ctrl"): "--option 'ctrl': write GROUP=OPTION",
        ("price", "mill", "--qty", "0"): "--qty 0: the quantity must be 1 or more",
        ("price", "mill", "--qty", "-2"): "--qty -2: the quantity must be 1 or more",
        ("price", "holder", "--qty", "1", "--account", "baosteel"): "holder: quantity 1 is below the minimum of 2 (pricebook dealer min_qty)",
        ("price", "mill", "--discount", "120%"): "--discount: '120%' must be between 0% and 100%",
        ("price", "manual", "--currency", "USD"): "product manual has no price in USD",
        ("price", "mill", "--date", "June"): "--date 'June': write YYYY-MM-DD",
        ("price", "mill", "--pricebook", "std", "--currency", "USD"): "price book std is in CNY, not USD",
        ("price", "mill", "--pricebook", "nope"): "no price book 'nope'",
    }
    for args, message in cases.items():
        r = cpq(*args)
        assert r.exit_code == 1, args
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.output


def test_price_does_not_import_weasyprint(cpq_book) -> None:  # noqa: F811
    import subprocess
    import sys

    code = ("import sys; from crmctl.cli import cli\n"
            "for args in (['price','mill','--qty','2'], ['quote','list'], ['check'], ['product','list']):\n"
            "    try: cli.main(['--book', sys.argv[1], *args], standalone_mode=False)\n"
            "    except SystemExit: pass\n"
            "print('weasyprint' in sys.modules, 'jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(cpq_book)], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"
