"""Exports import back (issue 14): every record type of the demo book, exported as CSV, JSON, NDJSON
and YAML, imported into a new book (in an order where references exist), gives the same records.

Old code: CSV wrote lists of mappings as Python repr (``{'at': ...}``), so `history`, `quotas`,
`stage_history` ... failed to import, and every row was also refused with "unknown field 'id'".
"""
from __future__ import annotations

import functools
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, git, invoke

# users before what they own, accounts before contacts, ... quotes before orders (an accepted
# quote's `order` names an order still to come: kept as given, with a note)
ORDER = ("users", "accounts", "contacts", "products", "pricebooks", "leads", "opportunities", "quotes", "orders",
         "payments", "visits")


def _same(value: Any) -> Any:
    """Money text compared as a number ("380000" is "380000.00"), an empty list as no value; the rest as it is."""
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_same(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value) if value[:1].isdigit() and "-" not in value and ":" not in value else value
        except ArithmeticError:
            return value
    return value


@functools.lru_cache(maxsize=None)
def _demo(rtype: str) -> dict[str, Any]:
    return _records(REPO, rtype)


def _records(book: Path, rtype: str) -> dict[str, Any]:
    result = invoke("export", rtype, "--format", "json", book=book)
    assert result.exit_code == 0, result.output
    return {row["id"]: _same(row) for row in json.loads(result.stdout)}


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "yaml"])
def test_every_record_type_of_the_demo_book_round_trips(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    assert invoke("init", str(target)).exit_code == 0
    shutil.copy(REPO / "crm.yaml", target / "crm.yaml")
    shutil.copy(REPO / "records" / "rates.yaml", target / "records" / "rates.yaml")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "settings")
    for rtype in ORDER:
        out = tmp_path / f"{rtype}.{fmt}"
        result = invoke("export", rtype, "--format", fmt, "--out", str(out), book=REPO)
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            text = out.read_text(encoding="utf-8")
            assert "{'" not in text, f"{rtype}: Python repr in the CSV"
        # once the users are in, price books and prices are a maintainer's to write (crmctl.cpq.authority)
        who = ("--as", "wang-lei") if rtype in ("products", "pricebooks") else ()
        result = invoke(*who, "import", rtype, str(out), book=target)
        assert result.exit_code == 0, f"{rtype}: {result.output}"
        assert "unknown field 'id'" not in result.output
    for rtype in ORDER:
        assert _records(target, rtype) == _demo(rtype), rtype
    check = invoke("check", book=target)
    # export pads money ("12000" -> "12000.00", issue 11); the approval hash compares numbers by value
    # (cpq.policy.canonical), so the demo's accepted quote whose fee was written "12000" keeps its approval
    assert check.stdout.splitlines() == [], check.output
