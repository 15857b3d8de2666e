"""A small CPQ book: the ``book`` fixture plus a hand-written catalog and price books.

The figures are round so tests can compare against totals computed by hand.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

from tests.conftest import git, invoke

NOW = "2026-06-15T10:00:00+08:00"

PRODUCTS = {
    "mill": """
name: Test Mill
name_zh: 测试铣床
type: configurable
category: machine
unit: 台
prices: {CNY: "100000.00", USD: "15000.00"}
cost: {CNY: "60000.00"}
tax_category: standard
option_groups:
  - id: ctrl
    name: Control
    name_zh: 数控系统
    required: true
    default: basic
    options:
      - {id: basic, name: Basic control, name_zh: 基础系统}
      - {id: pro, name: Pro control, name_zh: 高级系统, price: {CNY: "10000.00", USD: "1500.00"}}
  - id: spindle
    name: Spindle
    required: true
    default: s1
    options:
      - {id: s1, name: Standard spindle}
      - {id: s2, name: Fast spindle, percent: "10"}
  - id: coolant
    name: Coolant
    default: flood
    options:
      - {id: flood, name: Flood}
      - {id: tsc, name: Through-spindle, price: {CNY: "5000.00", USD: "700.00"}}
  - id: extras
    name: Extras
    choice: multiple
    max: 2
    options:
      - {id: probe, name: Probe, price: {CNY: "3000.00", USD: "450.00"}}
      - {id: conveyor, name: Conveyor, price: {CNY: "2000.00", USD: "300.00"}}
      - {id: light, name: Work light, price: {CNY: "100.00", USD: "15.00"}}
rules:
  - {id: probe-needs-pro, kind: requires, if: extras=probe, then: ctrl=pro, message: the probe cycle runs on the pro control}
  - {id: tsc-not-s1, kind: excludes, if: coolant=tsc, then: spindle=s1}
  - {id: fast-needs-conveyor, kind: conditional, if: [spindle=s2], then: [extras=conveyor]}
  - {id: holder-per-mill, kind: quantity, accessory: holder, per_unit: 1}
related:
  - {sku: svc, kind: cross_sell, reason: install it, reason_zh: 安装}
""",
    "holder": """
name: Tool holder
name_zh: 刀柄
type: simple
category: accessory
unit: 个
prices: {CNY: "1000.00", USD: "150.00"}
cost: {CNY: "500.00"}
tax_category: standard
""",
    "svc": """
name: Installation
name_zh: 安装服务
type: simple
category: service
prices: {CNY: "5000.00", USD: "750.00"}
cost: {CNY: "3000.00", USD: "450.00"}
tax_category: service
""",
    "manual": """
name: Printed manual
type: simple
category: accessory
prices: {CNY: "200.00"}
""",
    "kit": """
name: Mill kit
type: bundle
category: machine
prices: {CNY: "120000.00"}
components:
  - {sku: mill, qty: 1, mode: included}
  - {sku: holder, qty: 1, mode: included}
  - {sku: svc, qty: 1, mode: added}
  - {sku: manual, qty: 2, mode: optional}
""",
}

PRICEBOOKS = {
    "std": """
name: Standard
currency: CNY
valid_from: "2026-01-01"
valid_to: "2026-12-31"
priority: 0
applies_to: {all: true}
entries:
  - sku: holder
    tier_mode: range
    tiers:
      - {min: 10, discount: "10"}
""",
    "dealer": """
name: Dealer
currency: CNY
valid_from: "2026-01-01"
valid_to: "2026-12-31"
priority: 5
applies_to: {tiers: [B]}
entries:
  - sku: mill
    discount: "10"
  - sku: holder
    tier_mode: slab
    min_qty: 2
    tiers:
      - {min: 5, price: "900.00"}
      - {min: 10, price: "800.00"}
""",
    "acme-special": """
name: ACME special
currency: CNY
valid_from: "2026-01-01"
valid_to: "2026-12-31"
applies_to: {accounts: [acme]}
entries:
  - {sku: mill, price: "95000.00"}
""",
    "usd": """
name: USD list
currency: USD
applies_to: {all: true}
""",
}

Run = Callable[..., Result]


def write_catalog(path: Path) -> None:
    for folder, items in (("products", PRODUCTS), ("pricebooks", PRICEBOOKS)):
        (path / "records" / folder).mkdir(parents=True, exist_ok=True)
        for rid, text in items.items():
            (path / "records" / folder / f"{rid}.yaml").write_text(text.lstrip(), encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "catalog")


@pytest.fixture
def cpq_book(book: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``book`` fixture (mia manager, dan director, rex and ria reps; acme tier A, baosteel tier B) plus the catalog."""
    write_catalog(book)
    monkeypatch.setenv("CRMCTL_NOW", NOW)
    return book


@pytest.fixture
def cpq(cpq_book: Path) -> Run:
    def _run(*args: str, env: dict[str, str] | None = None) -> Result:
        return invoke(*args, book=cpq_book, env=env)
    return _run


def new_quote(cpq: Run, *lines: list[str], account: str = "acme", user: str = "rex") -> str:
    """A draft quote with ``lines`` (each the args after `quote add-line Q`)."""
    r = cpq("--as", user, "quote", "new", "--account", account)
    assert r.exit_code == 0, r.output
    qid = r.stdout.strip()
    for args in lines:
        r = cpq("quote", "add-line", qid, *args)
        assert r.exit_code == 0, r.output
    return qid


def holder_quote_with_qty(cpq: Run, cpq_book: Path, qty: str) -> tuple[str, Path, str, int]:
    """A draft quote of one holder whose file's ``qty: 1`` is then hand-edited to ``qty: <qty>``: ``(id, its path,
    the clean text, the qty's own line)``."""
    qid = new_quote(cpq, ["holder"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    clean = path.read_text(encoding="utf-8")
    assert "  qty: 1\n" in clean
    path.write_text(clean.replace("  qty: 1\n", f"  qty: {qty}\n", 1), encoding="utf-8")
    return qid, path, clean, clean.splitlines().index("  qty: 1") + 1
