"""A book with sales history for MCR tests: figures below are hand-computed from these records.

Clock: 2026-11-27. Rates: USD 7.10 from 2025-01-01, 7.20 from 2026-06-01.

acme (tier A) ─ acme-east (tier B) ─ acme-east-lab (tier C)
  orders   acme   2026-03-01 CNY 100000 (40000 due 03-15 paid; 60000 due 06-30 unpaid → overdue 60000)
           acme   2025-05-01 USD  10000 (paid) → 71000 CNY
           acme   2024-01-10 CNY   5000 (paid)
           acme-east 2026-10-01 CNY 20000 (paid)
           acme   2026-04-01 CNY 999999 cancelled (never counts)
  opps     acme   proposal CNY 50000 open; qualification USD 1000 close 2027-01-01 → 7200 CNY; won CNY 30000 (closed)
  visits   acme   completed 2026-11-17 (follow-up open), completed 2026-09-01, planned 2026-12-03
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crmctl.core.book import Book
from tests.conftest import git

NOW = "2026-11-27T10:00:00+08:00"


def put(book_path: Path, records: list[tuple[str, str, dict[str, Any]]], message: str = "test data") -> None:
    """Write records through a real transaction (one commit)."""
    book = Book(str(book_path))
    with book.transaction(message) as tx:
        for rtype, rid, data in records:
            tx.put(rtype, rid, data)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CRMCTL_NOW", NOW)
    return NOW


def order(account: str, day: str, total: str, cur: str = "CNY", plan: list[tuple[str, str]] | None = None,
          status: str = "open") -> dict[str, Any]:
    data: dict[str, Any] = {"number": f"SO-{day}-{account}", "account": account, "date": day, "currency": cur,
                            "total": total, "status": status}
    if plan:
        data["installments"] = [{"due": d, "amount": a} for d, a in plan]
    return data


def payment(order_id: str, account: str, day: str, amount: str, cur: str = "CNY") -> dict[str, Any]:
    return {"order": order_id, "account": account, "date": day, "amount": amount, "currency": cur}


@pytest.fixture
def sales(book: Path, now: str) -> Path:
    (book / "records" / "rates.yaml").write_text('"2025-01-01": {USD: "7.10"}\n"2026-06-01": {USD: "7.20"}\n', encoding="utf-8")
    put(book, [
        ("accounts", "acme-east", {"name": "ACME East", "tier": "B", "parent": "acme", "owner": "rex"}),
        ("accounts", "acme-east-lab", {"name": "ACME East Lab", "tier": "C", "parent": "acme-east"}),
        ("orders", "o1", order("acme", "2026-03-01", "100000.00", plan=[("2026-03-15", "40000.00"), ("2026-06-30", "60000.00")],
                               status="overdue")),
        ("payments", "p1", payment("o1", "acme", "2026-03-14", "40000.00")),
        ("orders", "o2", order("acme", "2025-05-01", "10000.00", "USD", status="paid")),
        ("payments", "p2", payment("o2", "acme", "2025-05-20", "10000.00", "USD")),
        ("orders", "o3", order("acme", "2024-01-10", "5000.00", status="paid")),
        ("payments", "p3", payment("o3", "acme", "2024-01-20", "5000.00")),
        ("orders", "o4", order("acme-east", "2026-10-01", "20000.00", status="paid")),
        ("payments", "p4", payment("o4", "acme-east", "2026-10-02", "20000.00")),
        ("orders", "o5", order("acme", "2026-04-01", "999999.00", status="cancelled")),
        ("opportunities", "op1", {"name": "Line 1", "account": "acme", "stage": "proposal", "amount": "50000.00",
                                  "close_date": "2026-12-31", "created": "2026-11-01T09:00:00+08:00"}),
        ("opportunities", "op2", {"name": "Spare parts", "account": "acme", "stage": "qualification", "amount": "1000.00",
                                  "currency": "USD", "close_date": "2027-01-01", "created": "2026-10-01T09:00:00+08:00"}),
        ("opportunities", "op3", {"name": "Old win", "account": "acme", "stage": "won", "amount": "30000.00",
                                  "created": "2025-01-01T09:00:00+08:00"}),
        ("visits", "v1", {"account": "acme", "rep": "rex", "type": "onsite", "status": "completed", "date": "2026-11-17",
                          "next_steps": [{"text": "send drawings", "due": "2026-12-01", "done": False},
                                         {"text": "book demo", "done": True}]}),
        ("visits", "v2", {"account": "acme", "rep": "rex", "type": "phone", "status": "completed", "date": "2026-09-01"}),
        ("visits", "v3", {"account": "acme", "rep": "rex", "type": "onsite", "status": "planned", "date": "2026-12-03"}),
    ], "sales history")
    return book


def head(book: Path) -> str:
    return git(book, "rev-parse", "HEAD").strip()


def clean(book: Path) -> bool:
    return git(book, "status", "--porcelain", "--", "records").strip() == ""
