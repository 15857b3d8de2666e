"""--as-of on every list and show, and computed statuses judged on the as-of day, not on the real clock.

A quote stored as sent expires when its validity passes, a planned visit is
missed when its day passes, an installment is overdue when its due date
passes: all three are computed from "today". Read as of a past day, "today"
is that day (the clock stands at its last second). The history is written by
script with known commit days; every expectation comes from the dates below.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest

from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-03-31T12:00:00+08:00"}  # the real "today": everything below is past by then

QUOTE = """number: Q-2026-0001
version: 1
account: acme
owner: rex
status: sent
currency: CNY
date: "2026-01-05"
valid_until: "2026-02-15"
total: "1130.00"
lines: []
"""
VISIT = """account: acme
rep: rex
type: onsite
status: planned
date: "2026-02-01"
purpose: first visit
created: "2026-01-05T09:00:00+08:00"
"""
ORDER = """number: SO-2026-0001
account: acme
owner: rex
date: "2026-01-05"
currency: CNY
lines:
- description: machine
  qty: 1
  amount: "100000.00"
total: "100000.00"
status: open
created: "2026-01-05T10:00:00+08:00"
installments:
- due: "2026-02-10"
  amount: "100000.00"
"""


def commit(book: Path, stamp: str, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "-C", str(book), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(book), "commit", "-qm", message], check=True, env=env)


@pytest.fixture
def dated_book(book: Path) -> Path:
    """The ``book`` fixture committed on 2026-01-01; a quote, a visit and an order on 01-05; acme renamed on 02-01."""
    shutil.rmtree(book / ".git")
    subprocess.run(["git", "-C", str(book), "init", "-q"], check=True)
    commit(book, "2026-01-01T09:00:00+08:00", "the book")
    for rtype, rid, text in (("quotes", "q1", QUOTE), ("visits", "v1", VISIT), ("orders", "o1", ORDER)):
        (book / "records" / rtype).mkdir(parents=True, exist_ok=True)
        (book / "records" / rtype / f"{rid}.yaml").write_text(text)
    commit(book, "2026-01-05T10:00:00+08:00", "a quote, a visit, an order")
    account = book / "records" / "accounts" / "acme.yaml"
    account.write_text(account.read_text().replace("ACME Industries", "ACME Group"))
    commit(book, "2026-02-01T10:00:00+08:00", "acme renamed")
    return book


def out(book: Path, *args: str) -> Any:
    result = invoke(*args, "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("day, status", [("2026-02-15", "sent"), ("2026-02-16", "expired"), (None, "expired")])
def test_a_quote_expires_on_the_as_of_day(dated_book: Path, day: str | None, status: str) -> None:
    # valid until 02-15: still sent that day, expired from the 16th (and by the real today, 03-31)
    args = ("--as-of", day) if day else ()
    assert [r["status"] for r in out(dated_book, "quote", "list", *args)] == [status]


@pytest.mark.parametrize("day, status", [("2026-02-01", "planned"), ("2026-02-02", "missed"), (None, "missed")])
def test_a_visit_is_missed_after_its_day_as_of_then(dated_book: Path, day: str | None, status: str) -> None:
    args = ("--as-of", day) if day else ()
    assert [r["status"] for r in out(dated_book, "visit", "list", *args)] == [status]
    assert out(dated_book, "visit", "show", "v1", *args)["status"] == status


@pytest.mark.parametrize("day, state, overdue", [("2026-02-10", "due", "0.00"), ("2026-02-11", "overdue", "100000.00")])
def test_an_installment_is_overdue_after_its_due_day_as_of_then(dated_book: Path, day: str, state: str, overdue: str) -> None:
    shown = out(dated_book, "order", "show", "o1", "--as-of", day)
    assert [i["state"] for i in shown["installments"]] == [state]
    assert shown["overdue"] == overdue  # the whole 100,000.00 falls due on 02-10


def test_the_as_of_line_says_statuses_are_as_on_that_day(dated_book: Path) -> None:
    result = invoke("quote", "list", "--as-of", "2026-02-10", book=dated_book, env=NOW)
    assert "statuses as on that day" in result.stderr.splitlines()[0]


def test_account_show_as_of(dated_book: Path) -> None:
    """The 360° view reads the committed records (not the files through its index) and git history up to that day."""
    then = out(dated_book, "account", "show", "acme", "--as-of", "2026-01-31")
    assert (then["name"], then["profile"]["name"]) == ("ACME Industries", "ACME Industries")
    assert "acme renamed" not in json.dumps(then["timeline"])  # committed on 02-01
    now = out(dated_book, "account", "show", "acme")
    assert now["name"] == "ACME Group" and "acme renamed" in json.dumps(now["timeline"])


def test_every_list_and_show_command_takes_as_of() -> None:
    """The whole kind: any list or show command of any noun, now or added later, reads the past too."""
    from crmctl.cli import cli

    ctx = click.Context(cli)
    missing = []
    for noun in cli.list_commands(ctx):
        group = cli.get_command(ctx, noun)
        if not isinstance(group, click.Group):
            continue
        for verb in group.list_commands(ctx):
            if verb in ("list", "show") and not any(p.name == "as_of" for p in group.get_command(ctx, verb).params):
                missing.append(f"{noun} {verb}")
    assert missing == []


def test_a_pdf_as_of_a_past_day_says_when_it_was_generated(dated_book: Path, tmp_path: Path) -> None:
    """The clock stands still only for what the book says: the PDF's generation time is the real clock."""
    import pdfplumber

    for args in (("report", "pipeline"), ("report", "customers"), ("report", "sfe", "--period", "2026-Q1")):
        pdf = tmp_path / f"{args[1]}.pdf"
        result = invoke(*args, "--as-of", "2026-02-10", "--pdf", str(pdf), book=dated_book, env=NOW)
        assert result.exit_code == 0, result.output
        with pdfplumber.open(pdf) as doc:
            text = doc.pages[0].extract_text()
        assert "截至: 2026年2月10日" in text, args            # as of the day asked for
        assert "生成时间: 2026年3月31日 12:00" in text, args   # generated now (CRMCTL_NOW), not 2026-02-10 23:59
