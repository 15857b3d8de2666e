"""A hand-edited bad number in a record is a problem at its path:line; reports leave its value out and say so.

Before: one bad amount (``"¥100"``, ``NaN``, ``1E+400``...) stopped ``report pipeline`` and ``account show`` with
``error: amount: '¥100' is not a number`` (no path, one file at a time), while a negative, a 3-decimal or an
over-limit amount was summed in silently, and ``0x10`` was read as 16.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.mcr.conftest import put

BAD = ['"¥100"', "NaN", "1E+400", ".nan", '"1,234.50"', '"-5000.00"', '"12.345"', "0x10", "1234.5", '" 100.00"',
       '"1000000000000000.00"']


def hand_edit(book: Path, rid: str, amount: str) -> str:
    path = book / "records" / "opportunities" / f"{rid}.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("amount:")
    end = text.index("\n", start)
    path.write_text(text[:start] + f"amount: {amount}" + text[end:], encoding="utf-8")
    return f"records/opportunities/{rid}.yaml:{text[:start].count(chr(10)) + 1}"


@pytest.fixture
def pipeline(book: Path) -> Path:
    """good: 1000.00 in proposal; one deal per bad value, each 50.00 in proposal before the hand edit."""
    put(book, [("opportunities", "good", {"name": "Good", "account": "acme", "stage": "proposal", "amount": "1000.00", "created": "2026-01-01T10:00:00+08:00",
                                          "currency": "CNY"})]
        + [("opportunities", f"bad{n}", {"name": f"Bad {n}", "account": "acme", "stage": "proposal", "amount": "50.00", "created": "2026-01-01T10:00:00+08:00",
                                         "currency": "CNY"}) for n in range(len(BAD))], "deals")
    return book


def test_check_names_every_bad_number_at_its_line(run: Run, pipeline: Path) -> None:
    where = {hand_edit(pipeline, f"bad{n}", value): value for n, value in enumerate(BAD)}
    r = run("check")
    assert r.exit_code == 1
    out = r.stdout
    for location, value in where.items():
        assert f"{location}: amount: " in out, (value, out)
    assert "'0x10' is a hexadecimal" in out                      # before: read as 16, no problem
    assert "'1234.5' is not written as crmctl writes CNY amounts; write \"1234.50\"" in out
    assert "' 100.00' has spaces around it" in out
    assert "'-5000.00' cannot be negative here" in out           # before: summed in
    assert "'12.345' has too many decimals" in out               # before: summed in
    assert "is too large (the limit is below 10^15)" in out      # one limit everywhere (check said 10^18)
    assert "10^18" not in out


def test_reports_leave_bad_values_out_with_one_warning_per_file(run: Run, pipeline: Path) -> None:
    locations = [hand_edit(pipeline, f"bad{n}", value) for n, value in enumerate(BAD)]
    r = run("report", "pipeline", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {row["stage"]: row for row in json.loads(r.stdout)}
    # proposal: 12 deals, only "good" has a readable amount: 1000.00 (never 1000 + 16 + -5000 + 12.345 + ...)
    assert rows["proposal"]["amount"] == "1000.00", rows
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(BAD)
    for location in locations:
        assert any(w.startswith(f"warning: {location}: amount: ") and w.endswith("(its value is left out of figures)")
                   for w in warnings), location
    shown = run("account", "show", "acme")
    assert shown.exit_code == 0, shown.output                   # before: error: amount: '¥100' is not a number
    assert sum("warning: records/opportunities/bad" in line for line in shown.stderr.splitlines()) == len(BAD)


def test_a_write_never_drops_a_bad_value_unseen(run: Run, pipeline: Path) -> None:
    location = hand_edit(pipeline, "bad0", '"¥100"')
    r = run("opp", "edit", "bad0", "--set", "name=Renamed")
    assert r.exit_code == 1
    assert f"error: {location}: amount: '¥100' is not a number as crmctl writes them" in r.stderr
    assert "fix it in the file first (or give amount a new value)" in r.stderr
    assert 'amount: "¥100"' in (pipeline / "records" / "opportunities" / "bad0.yaml").read_text(encoding="utf-8")
    fixed = run("opp", "edit", "bad0", "--set", "amount=100")
    assert fixed.exit_code == 0, fixed.output
