"""--where values go through the field's own parser (numbers, ISO dates, enums, references that follow merges).

Before: every value was compared as text or as ``Decimal(text)``, so ``amount>900,000`` and ``amount>900000``
differed, ``amount<abc`` kept every row, ``close_date>03/05/2026`` compared as text and ``status=expird``
printed (none) — all silently.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run, err_line, git
from tests.mcr.conftest import put


@pytest.fixture
def deals(book: Path) -> Path:
    """Three CNY deals (900000.00, 1200000.00, 5000.00) and one USD deal (950000.00); a merged account."""
    put(book, [
        ("accounts", "acme-old", {"name": "ACME old", "merged_into": "acme"}),
        ("opportunities", "d1", {"name": "A", "account": "acme", "stage": "proposal", "amount": "900000.00",
                                 "currency": "CNY", "close_date": "2026-05-03"}),
        ("opportunities", "d2", {"name": "B", "account": "acme", "stage": "proposal", "amount": "1200000.00",
                                 "currency": "CNY", "close_date": "2026-03-05"}),
        ("opportunities", "d3", {"name": "C", "account": "baosteel", "stage": "won", "amount": "5000.00",
                                 "currency": "CNY", "close_date": "2026-12-01"}),
        ("opportunities", "d4", {"name": "D", "account": "baosteel", "stage": "proposal", "amount": "950000.00",
                                 "currency": "USD"}),
        ("contacts", "c1", {"name": "Li Lei", "account": "acme"}),
        ("visits", "v1", {"account": "acme", "rep": "rex", "type": "onsite", "status": "completed", "date": "2026-02-01"}),
    ], "deals")
    (book / "records" / "rates.yaml").write_text('2025-01-01: {USD: "7.10"}\n', encoding="utf-8")
    git(book, "add", "records/rates.yaml")
    git(book, "commit", "-qm", "rates", "--no-verify")
    return book


def ids(run: Run, *args: str) -> list[str]:
    r = run(*args, "--format", "json")
    assert r.exit_code == 0, r.output
    return sorted(row["id"] for row in json.loads(r.stdout))


def refused(run: Run, *args: str) -> str:
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    return err_line(r)


@pytest.mark.parametrize("command", [("opp", "list"), ("export", "opportunities", "--format", "json")], ids=" ".join)
def test_grouped_and_plain_amounts_filter_alike(run: Run, deals: Path, command: tuple[str, ...]) -> None:
    # > 900000: 1200000.00 (d2) and 950000.00 USD (d4); the book's mark is '.', so 900,000.00 is the same number
    assert ids(run, *command, "--where", "amount>900000") == ["d2", "d4"]
    assert ids(run, *command, "--where", "amount>900,000.00") == ["d2", "d4"]
    assert ids(run, *command, "--where", "amount>¥900000") == ["d2", "d4"]  # the book's own currency sign
    assert ids(run, *command, "--where", "amount>=900000.00") == ["d1", "d2", "d4"]


@pytest.mark.parametrize("expr, message", [
    ("amount<abc", "--where 'amount<abc': 'abc' is not a number"),              # before: every row
    ("amount>abc", "--where 'amount>abc': 'abc' is not a number"),              # before: no row
    ("amount>900,000", "'900,000' could be 900000 or 900.000"),                 # before: text-compared
    ("amount>$900000", "'$900000' is in USD; a filter compares amounts in every currency as plain numbers"),
    ("close_date>03/05/2026", "'03/05/2026' is not a date crmctl reads here; write it as YYYY-MM-DD"),
    ("close_date>2026-13-01", "'2026-13-01' is not a date (no such month or day)"),
    ("stage=wonn", "'wonn' is not a value of this field (did you mean 'won'?)"),
    ("stage>won", "'>' does not order this field"),
    ("account=nosuch", "no account 'nosuch'"),
])
def test_a_value_the_field_cannot_mean_is_refused(run: Run, deals: Path, expr: str, message: str) -> None:
    assert message in refused(run, "opp", "list", "--where", expr)
    assert message in refused(run, "export", "opportunities", "--where", expr)


def test_dates_compare_as_dates(run: Run, deals: Path) -> None:
    # after 2026-04-01: d1 (05-03) and d3 (12-01); d4 has no close date and matches no ordering
    assert ids(run, "opp", "list", "--where", "close_date>2026-04-01") == ["d1", "d3"]
    assert ids(run, "opp", "list", "--where", "close_date!=2026-05-03") == ["d2", "d3", "d4"]


def test_a_mistyped_status_has_a_did_you_mean(run: Run, deals: Path) -> None:
    # before: quote list --where status=expird printed (none)
    line = refused(run, "quote", "list", "--where", "status=expird")
    assert "'expird' is not a value of this field (did you mean 'expired'?)" in line
    assert "expired" in line.split("one of", 1)[1]  # the computed status is one of the values


def test_a_merged_account_id_is_followed_with_a_note(run: Run, deals: Path) -> None:
    # before: every filter on acme-old returned nothing, silently
    for command, want in ((("opp", "list"), ["d1", "d2"]), (("contact", "list"), ["c1"]), (("visit", "list"), ["v1"]),
                          (("report", "customers"), ["acme"]), (("account", "list"), ["acme"])):
        field = "id" if command[0] in ("report", "account") else "account"
        r = run(*command, "--where", f"{field}=acme-old", "--format", "json")
        assert r.exit_code == 0, r.output
        assert sorted(row["id"] for row in json.loads(r.stdout)) == want, command
        assert "note: account acme-old was merged into acme; using acme" in r.stderr, command


def test_sort_takes_one_minus_only(run: Run) -> None:
    # before: --sort --tier was read as descending tier
    assert "--sort '--tier': one '-' before a field sorts it descending; write -tier" in refused(
        run, "account", "list", "--sort", "--tier")
