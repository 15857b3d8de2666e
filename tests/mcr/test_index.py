"""The account index gives the same view as a full scan, and notices changes."""
from __future__ import annotations

import json
import os
from pathlib import Path

from crmctl.core.book import Book
from crmctl.mcr import view360
from crmctl.mcr.related import Related
from tests.conftest import Run
from tests.mcr.conftest import put


def test_indexed_view_equals_full_scan(demo_copy: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRMCTL_NOW", "2026-11-27T10:00:00+08:00")
    for account in ("saic-group", "saic-powertrain", "bavaria-gears", "hangzhou-hydraulics"):
        book = Book(str(demo_copy))
        indexed = view360.build(book, account)
        full = view360.build(Book(str(demo_copy)), account, related=Related(Book(str(demo_copy))))
        assert indexed == full, account
    assert (demo_copy / ".crmctl/book.sqlite").exists()  # the index is the read model


def test_new_records_show_up_after_a_write(run: Run, sales: Path) -> None:
    assert json.loads(run("account", "show", "acme", "--format", "json").stdout)["orders"]["orders"] == 4
    put(sales, [("orders", "o9", {"number": "SO-9", "account": "acme", "date": "2026-11-01", "currency": "CNY", "total": "1.00"})])
    data = json.loads(run("account", "show", "acme", "--format", "json").stdout)
    assert data["orders"]["orders"] == 5 and data["orders"]["this_year"] == "120001.00"


def test_an_in_place_edit_moving_a_record_away_is_not_shown(run: Run, sales: Path) -> None:
    assert json.loads(run("account", "show", "acme", "--format", "json").stdout)["opportunities"]["count"] == 2
    path = sales / "records/opportunities/op1.yaml"
    folder = os.stat(path.parent)
    with open(path, "r+", encoding="utf-8") as handle:  # in place: the folder's stamp stays the same
        text = handle.read().replace("account: acme", "account: baosteel")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    os.utime(path.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    data = json.loads(run("account", "show", "acme", "--format", "json").stdout)
    assert data["opportunities"]["count"] == 1 and data["opportunities"]["pipeline_value"] == "7200.00"


def test_a_payment_without_account_belongs_to_its_orders_account(run: Run, sales: Path) -> None:
    put(sales, [("orders", "o8", {"number": "SO-8", "account": "acme", "date": "2026-11-01", "currency": "CNY", "total": "100.00",
                                  "installments": [{"due": "2026-11-10", "amount": "100.00"}]}),
                ("payments", "p8", {"order": "o8", "date": "2026-11-05", "amount": "100.00", "currency": "CNY"})])
    data = json.loads(run("account", "show", "acme", "--format", "json").stdout)
    assert "SO-8" not in [r["number"] for r in data["receivables"]["rows"]]  # paid in full
    assert any(e["record"] == "payments/p8" for e in data["timeline"]["rows"])
    full = view360.build(Book(str(sales)), "acme", related=Related(Book(str(sales))))
    assert any(e["record"] == "payments/p8" for e in full["timeline"]["rows"])


def test_an_in_place_edit_moving_a_record_to_another_account_is_shown_there(run: Run, sales: Path) -> None:
    """Order o3 (acme, 5,000.00 CNY, 2024) moved to acme-east by an in-place save, file and folder mtimes put back.

    acme-east had one order (o4, 20,000.00); afterwards it has two. The old index, stamped by the folder only,
    kept listing one (silent and wrong).
    """
    assert json.loads(run("account", "show", "acme-east", "--format", "json").stdout)["orders"]["orders"] == 1
    path = sales / "records/orders/o3.yaml"
    before, folder = os.stat(path), os.stat(path.parent)
    text = path.read_text(encoding="utf-8")
    assert "account: acme\n" in text
    with open(path, "r+", encoding="utf-8") as handle:  # in place, like an editor that does not rename
        handle.write(text.replace("account: acme\n", "account: acme-east\n"))
        handle.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.utime(path.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    moved = json.loads(run("account", "show", "acme-east", "--format", "json").stdout)
    assert moved["orders"]["orders"] == 2
    # acme's figures roll up its subsidiaries: o1, o2, o3 (now via acme-east) and o4; o5 is cancelled
    assert json.loads(run("account", "show", "acme", "--format", "json").stdout)["orders"]["orders"] == 4
