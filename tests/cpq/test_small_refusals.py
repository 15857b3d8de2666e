"""Small inputs that used to mean something unsaid: a fee name with '=', a quantity of 1.000, a week gone by."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cpq.conftest import Run, new_quote
from tests.conftest import err_line


@pytest.mark.parametrize("fee", ["freight=5=6", "freight==5"])
def test_a_fee_with_two_equals_signs_is_refused(cpq: Run, fee: str) -> None:
    # before: freight=5=6 made a fee named "freight=5" of 6.00
    qid = new_quote(cpq, ["holder"])
    r = cpq("quote", "edit", qid, "--fee", fee)
    assert r.exit_code == 1, r.output
    assert f"--fee {fee!r}: one '=' between the fee's name and its amount" in err_line(r)
    assert "fees" not in json.loads(cpq("quote", "show", qid, "--format", "json").stdout)


@pytest.mark.parametrize("qty, whole", [("1.000", "1"), ("12.000", "12")])
def test_a_quantity_whose_decimals_look_like_a_thousands_group_is_refused(cpq: Run, qty: str, whole: str) -> None:
    # before: --qty 1.000 under the book's '.' mark was silently 1
    qid = new_quote(cpq)
    for args in (("quote", "add-line", qid, "holder", "--qty", qty), ("price", "holder", "--qty", qty)):
        r = cpq(*args)
        assert r.exit_code == 1, (args, r.output)
        assert f"'{qty}' could be {whole} or {whole}000; write {whole} or {whole}000" in err_line(r), args
    assert cpq("quote", "add-line", qid, "holder", "--qty", "1.0").exit_code == 0  # one decimal zero: plainly 1


def test_planning_a_week_gone_by_says_so(cpq: Run) -> None:
    # before: visit plan --week 2020-W53 planned 0 visits without a word (the clock is 2026-06-15)
    r = cpq("visit", "plan", "--week", "2020-W53")
    assert r.exit_code == 1
    assert err_line(r) == ("error: --week 2020-W53 ended on 2021-01-03, before today (2026-06-15); "
                           "plan this week or a later one")


def test_set_into_a_price_books_entries_gives_a_hint_that_works(cpq: Run) -> None:
    # before: "entries is not a mapping; use --set entries=VALUE", and that said "set its parts as entries.KEY=VALUE"
    assert cpq("--as", "dan", "pricebook", "add", "--id", "pb", "--name", "PB", "--currency", "CNY").exit_code == 0
    for value in ("entries.0.price=1,5", "entries=1"):
        r = cpq("--as", "dan", "pricebook", "edit", "pb", "--set", value)
        assert r.exit_code == 1
        line = err_line(r)
        assert "entries is a list of entries, which --set cannot reach into; edit them in the record's file" in line
        assert "--set entries=" not in line and "entries.KEY=VALUE" not in line


def test_a_fee_given_again_replaces_it_and_twice_at_once_is_refused(cpq: Run, cpq_book: Path) -> None:
    """Typing --fee 运费=800 again to correct the freight must not charge freight twice."""
    import yaml

    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--fee", "运费=800", "--fee", "Install=500").exit_code == 0
    assert cpq("quote", "edit", qid, "--fee", "运费=900").exit_code == 0
    data = yaml.safe_load((cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))
    # holder 1000 (acme-special does not price it: list) + freight 900 + install 500 = 2400 net
    assert data["fees"] == [{"name": "运费", "amount": "900.00"}, {"name": "Install", "amount": "500.00"}]
    assert data["totals"]["net"] == "2400.00"
    r = cpq("quote", "edit", qid, "--fee", "运费=900", "--fee", "运费 =1000")
    assert r.exit_code == 1 and "--fee 运费: given twice; give each fee once" in r.stderr


def test_quote_commands_take_the_quote_number_as_order_commands_do(cpq: Run, cpq_book: Path) -> None:
    # attack 5, F4: `quote show QT-2026-0001` said "no quote 'qt-2026-0001'" (lower-cased, and false) while
    # `order show SO-2026-0002` worked
    import shutil

    qid = new_quote(cpq, ["holder"])
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0
    assert cpq("--as", "rex", "quote", "send", qid).exit_code == 0
    for ref in ("QT-2026-0001", "qt-2026-0001", qid[:8]):
        r = cpq("quote", "show", ref, "--format", "json")
        assert r.exit_code == 0 and json.loads(r.stdout)["id"] == qid, ref
    out = cpq_book / "q.html"
    assert cpq("quote", "render", "QT-2026-0001", "--html", "--out", str(out)).exit_code == 0 and out.exists()
    r = cpq("quote", "show", "QT-2026-0009")
    assert r.exit_code == 1 and r.stderr.strip() == ("error: no quote numbered or with the id 'QT-2026-0009'; "
                                                     "`crmctl quote list` shows them")
    folder = cpq_book / "records" / "quotes"
    shutil.copy(folder / f"{qid}.yaml", folder / "zzcopy000001.yaml")     # a merge gave two quotes one number
    r = cpq("quote", "show", "QT-2026-0001")
    assert r.exit_code == 1 and "quote number QT-2026-0001 is on 2 quotes" in r.stderr
    assert "`crmctl quote renumber ID` one of them" in r.stderr
