"""`crmctl account`: bad input is one line and writes nothing; the 360° view; lifecycle."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmctl.core import yamlio
from tests.conftest import Run, err_line
from tests.mcr.conftest import clean, head, now, put, sales  # noqa: F401 - fixtures


@pytest.mark.parametrize(("args", "message"), [
    (("account", "edit", "acme", "--parent", "acme"), "error: account acme: parent acme would make a loop (acme -> acme)"),
    (("account", "add", "--name", "X", "--tier", "Z"), "error: tier: 'Z' is not one of A, B, C"),
    (("account", "edit", "acme", "--lifecycle", "vip"),
     "error: lifecycle: 'vip' is not one of prospect, customer, key_account, dormant, churned"),
    (("account", "edit", "acme", "--set", "lat=91", "--set", "lon=10"), "error: account acme: lat: 91 is out of range (-90..90)"),
    (("account", "edit", "acme", "--set", "lat=31", "--set", "lon=-180.5"),
     "error: account acme: lon: -180.5 is out of range (-180..180)"),
    (("account", "edit", "acme", "--set", "lat=31"), "error: account acme: lat and lon go together; set both or neither"),
    (("account", "edit", "acme", "--set", "lat=north", "--set", "lon=1"), "error: --set lat: 'north' is not a number (write it like 1234.50)"),
])
def test_bad_input_is_one_line_and_writes_nothing(run: Run, book: Path, args: tuple[str, ...], message: str) -> None:
    before = head(book)
    result = run(*args)
    assert result.exit_code == 1
    assert err_line(result) == message
    assert len(result.stderr.strip().splitlines()) == 1
    assert head(book) == before and clean(book)


def test_parent_loop_through_a_chain(run: Run, book: Path) -> None:
    assert run("account", "edit", "baosteel", "--parent", "acme").exit_code == 0
    result = run("account", "edit", "acme", "--parent", "baosteel")
    assert result.exit_code == 1
    assert err_line(result) == "error: account acme: parent baosteel would make a loop (acme -> baosteel -> acme)"


def test_coordinates_within_range_are_kept(run: Run, book: Path) -> None:
    assert run("account", "edit", "acme", "--set", "lat=-33.8688", "--set", "lon=151.2093").exit_code == 0
    data = yamlio.load_path(str(book / "records/accounts/acme.yaml"))[0]
    assert (data["lat"], data["lon"]) == ("-33.8688", "151.2093")


def test_show_prints_every_section_as_text(run: Run, book: Path) -> None:
    result = run("account", "show", "acme")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ACME Industries (acme)\n\n== Profile\n")
    assert "health:" in result.stdout and "== Contacts by role" in result.stdout


def test_lifecycle_shows_and_applies_with_history(run: Run, sales: Path) -> None:
    rows = {r["id"]: r for r in json.loads(run("account", "lifecycle", "--format", "json").stdout)}
    # acme: orders, last touch 10 days ago, revenue 12m 120000 < 1000000 → customer
    assert (rows["acme"]["stored"], rows["acme"]["computed"], rows["acme"]["change"]) == (None, "customer", True)
    assert rows["baosteel"]["computed"] == "prospect"
    assert rows["acme-east-lab"]["reason"] == "no orders yet"
    before = head(sales)
    dry = run("account", "lifecycle", "--apply", "--dry-run")
    assert dry.exit_code == 0 and "nothing written" in dry.stderr and head(sales) == before
    applied = run("--as", "rex", "account", "lifecycle", "acme", "--apply")
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.strip() == "acme -->customer"
    data = yamlio.load_path(str(sales / "records/accounts/acme.yaml"))[0]
    assert data["lifecycle"] == "customer"
    assert data["history"][-1]["action"] == "lifecycle" and data["history"][-1]["to"] == "customer"
    assert data["history"][-1]["by"] == "rex"


def test_lifecycle_rules_from_crm_yaml(run: Run, sales: Path) -> None:
    settings = (sales / "crm.yaml").read_text(encoding="utf-8")
    settings = settings.replace('key_account_revenue_12m: "1000000"', 'key_account_revenue_12m: "100000"')
    (sales / "crm.yaml").write_text(settings, encoding="utf-8")
    rows = {r["id"]: r for r in json.loads(run("account", "lifecycle", "--format", "json").stdout)}
    assert rows["acme"]["computed"] == "key_account"
    assert rows["acme-east"]["computed"] == "customer"  # 20000 in 12 months


def test_dormant_and_churned(run: Run, book: Path, now: str) -> None:
    put(book, [("orders", "a1", {"number": "SO-A", "account": "acme", "date": "2026-03-01", "currency": "CNY", "total": "5"}),
               ("orders", "b1", {"number": "SO-B", "account": "baosteel", "date": "2025-10-01", "currency": "CNY", "total": "5"})])
    rows = {r["id"]: r for r in json.loads(run("account", "lifecycle", "--format", "json").stdout)}
    assert (rows["acme"]["computed"], rows["acme"]["reason"]) == ("dormant", "last touch 271 days ago (>= 180)")
    assert (rows["baosteel"]["computed"], rows["baosteel"]["reason"]) == ("churned", "last touch 422 days ago (>= 365)")
