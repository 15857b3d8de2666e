"""A price hand-edited to a bad number is named wherever it would be priced (issue 12 step 2, item 4).

The catalog reader leaves a bad stored number out of the record (core.book screens it) and keeps why in the
record's ``bad`` map; pricing must say which value in which file, never "has no price" or "cost unknown".
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git
from tests.cpq.conftest import Run, new_quote


def hand_edit(book: Path, sku: str, old: str, new: str) -> None:
    path = book / "records" / "products" / f"{sku}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    git(book, "add", "-A")
    git(book, "-c", "user.email=dan@example.com", "commit", "--no-verify", "-qm", "hand edit")


@pytest.mark.parametrize("bad", ['"-5.00"', '"12,000.00"', '"¥100"', '"1.23456"'])
def test_price_names_a_bad_list_price(cpq: Run, cpq_book: Path, bad: str) -> None:
    hand_edit(cpq_book, "holder", 'prices: {CNY: "1000.00"', f"prices: {{CNY: {bad}")
    for args in (["price", "holder"], ["price", "holder", "--currency", "CNY", "--qty", "3"]):
        r = cpq(*args)
        assert r.exit_code == 1
        assert f"product holder: prices.CNY: '{bad.strip(chr(34))}'" in r.stderr and "holder.yaml" in r.stderr, r.stderr
    # the USD price is fine and still prices
    assert cpq("price", "holder", "--currency", "USD").exit_code == 0


def test_price_names_a_bad_component_price(cpq: Run, cpq_book: Path) -> None:
    # the kit adds svc at its own price: svc's CNY price hand-edited to "5,000" is named, not "svc has no price"
    hand_edit(cpq_book, "svc", 'prices: {CNY: "5000.00"', 'prices: {CNY: "5,000"')
    r = cpq("price", "kit")
    assert r.exit_code == 1 and "product svc: prices.CNY: '5,000'" in r.stderr and "has no price" not in r.stderr, r.stderr
    qid = new_quote(cpq)
    r = cpq("quote", "add-line", qid, "kit")
    assert r.exit_code == 1 and "product svc: prices.CNY: '5,000'" in r.stderr, r.stderr


def test_a_bad_cost_is_named_not_unknown(cpq: Run, cpq_book: Path) -> None:
    hand_edit(cpq_book, "holder", 'cost: {CNY: "500.00"}', 'cost: {CNY: "5OO.00"}')
    r = cpq("price", "holder")
    assert r.exit_code == 1 and "product holder: cost.CNY: '5OO.00'" in r.stderr, r.stderr
    qid = new_quote(cpq)
    r = cpq("quote", "add-line", qid, "holder")
    assert r.exit_code == 1 and "cost.CNY: '5OO.00'" in r.stderr and "cost unknown" not in r.stderr, r.stderr
