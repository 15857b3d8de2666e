"""attack8 #5: a bad number inside a list entry (an order's 4th instalment, a payment's applied entry, a quote line)
is named at the value's own line by `check`, by the readers' warning and by a refused write — not at the line of the
list's key (``installments:``), which left the user counting entries.
"""
from __future__ import annotations

from pathlib import Path

from tests.conftest import invoke

ENV = {"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"}


def _edit_line(path: Path, number: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[number - 1] == old, lines[number - 1]
    lines[number - 1] = new
    path.write_text("\n".join(lines), encoding="utf-8")


def test_an_instalment_amount_is_named_at_its_own_line(demo_copy: Path) -> None:
    # records/orders/2ndtjmfy0zk1.yaml: `installments:` is line 14, the 4th instalment's amount line 22
    order = demo_copy / "records" / "orders" / "2ndtjmfy0zk1.yaml"
    assert order.read_text(encoding="utf-8").split("\n")[13] == "installments:"
    _edit_line(order, 22, '  amount: "240000.00"', "  amount: 0240000.00")
    said = ("records/orders/2ndtjmfy0zk1.yaml:22: installments 4 amount: '0240000.00' is not a number as crmctl "
            "writes them (write it like 1234.50: no signs, no separators)")
    r = invoke("check", book=demo_copy, env=ENV)
    assert r.exit_code == 1 and said in r.stdout.splitlines(), r.stdout   # the old code: ...yaml:14: installments 4 ...
    r = invoke("order", "list", book=demo_copy, env=ENV)
    assert r.exit_code == 0 and f"warning: {said} (its value is left out of figures)" in r.stderr.splitlines(), r.stderr
    r = invoke("order", "list", book=demo_copy, env={**ENV, "CRMCTL_READ_MODEL": "off"})
    assert f"warning: {said} (its value is left out of figures)" in r.stderr.splitlines(), r.stderr
    # a write that would drop the bad value unseen is refused at the same line
    r = invoke("--as", "li-na", "payment", "record", "2ndtjmfy0zk1", "--amount", "1000", "--date", "2026-11-20",
               book=demo_copy, env=ENV)
    assert r.exit_code == 1 and r.stderr.startswith(f"error: {said}; fix it in the file first"), r.stderr


def test_a_payment_applied_amount_is_named_at_its_own_line(demo_copy: Path) -> None:
    # records/payments/2ndtjksp49bk.yaml: `applied:` is line 7, its first entry's amount line 10
    payment = demo_copy / "records" / "payments" / "2ndtjksp49bk.yaml"
    _edit_line(payment, 10, '  amount: "114000.00"', '  amount: "0114000.00"')
    said = "records/payments/2ndtjksp49bk.yaml:10: applied 1 amount: '0114000.00' is not a number as crmctl writes them"
    r = invoke("check", book=demo_copy, env=ENV)
    assert r.exit_code == 1 and any(line.startswith(said) for line in r.stdout.splitlines()), r.stdout
    r = invoke("report", "receivables", book=demo_copy, env=ENV)
    assert r.exit_code == 0 and f"warning: {said}" in r.stderr, r.stderr
