"""Which commit a day reads when commit dates are out of order, very old days, and empty or reversed dates.

Builds on the scripted history of ``test_asof`` (the book's zone is +08:00;
expected figures come from the script's own ``replay``, not from crmctl).
"""
from __future__ import annotations

import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.test_asof import NOW, expected_pipeline, history_book, run_json  # noqa: F401 (fixture)
from tests.conftest import git, invoke

SKEWED = "2026-02-01T10:00:00+08:00"  # a teammate's clock behind: dated before its parent (2026-03-02 11:00)


@pytest.fixture
def skewed_book(history_book: Path) -> Path:  # noqa: F811
    """The scripted history plus one last commit (a5's amount 70,000 -> 99,999) whose dates say 2026-02-01."""
    path = history_book / "records" / "opportunities" / "a5.yaml"
    path.write_text(path.read_text().replace('amount: "70000.00"', 'amount: "99999.00"'))
    env = {**os.environ, "GIT_AUTHOR_DATE": SKEWED, "GIT_COMMITTER_DATE": SKEWED}
    subprocess.run(["git", "-C", str(history_book), "commit", "-qam", "skewed clock"], check=True, env=env)
    return history_book


def pipeline(book: Path, day: str) -> dict[str, tuple[int, Decimal]]:
    rows = run_json(book, "report", "pipeline", "--as-of", day)
    return {r["stage"]: (r["count"], Decimal(r["amount"])) for r in rows if r["stage"] != "total"}


@pytest.mark.parametrize("day", ["2026-02-01", "2026-02-15", "2026-03-01"])
def test_a_commit_dated_before_its_parent_does_not_leak_into_earlier_days(skewed_book: Path, day: str) -> None:
    # old code: rev-list --before picks the skewed tip for every day from 2026-02-01 on (a5 and its 99,999 leak in)
    assert pipeline(skewed_book, day) == expected_pipeline(day)


def test_a_skewed_commit_counts_from_its_parents_date_and_the_line_says_so(skewed_book: Path) -> None:
    want = expected_pipeline("2026-03-02")
    # a5 prospecting: 70,000 in the script, 99,999 after the skewed commit (effective 2026-03-02 11:00, its parent's)
    want["prospecting"] = (want["prospecting"][0], want["prospecting"][1] - Decimal("70000") + Decimal("99999"))
    assert pipeline(skewed_book, "2026-03-02") == want
    result = invoke("report", "pipeline", "--as-of", "2026-02-15", book=skewed_book, env=NOW)
    skewed = git(skewed_book, "rev-parse", "--short=10", "HEAD").strip()
    assert "commit dates out of order" in result.stderr and skewed in result.stderr
    # 2026-01-20: the skewed commit's own date (02-01) is later too, so no rule would count it: nothing to say
    plain = invoke("report", "pipeline", "--as-of", "2026-01-20", book=skewed_book, env=NOW)
    assert "out of order" not in plain.stderr


@pytest.mark.parametrize("day", ["0001-01-01", "1926-11-28", "1970-01-01", "1973-03-02", "1973-03-04", "2025-12-31"])
def test_every_day_before_the_first_commit_is_before_the_first_commit(history_book: Path, day: str) -> None:  # noqa: F811
    # old code: git's --before=@N reads N < 100,000,000 as another date, and the tip was read as 1926's book
    listed = invoke("opp", "list", "--as-of", day, book=history_book, env=NOW)
    assert listed.exit_code == 1
    assert f"{day} is before the book's first commit (2026-01-01)" in listed.stderr
    report = invoke("report", "pipeline", "--as-of", day, book=history_book, env=NOW)
    assert report.exit_code == 0, report.output
    assert report.stderr.startswith(f"as of {day}: from the records' own stage and payment histories")
    diff = invoke("diff", day, "2026-02-01", book=history_book, env=NOW)
    assert diff.exit_code == 1 and "before the book's first commit" in diff.stderr


@pytest.mark.parametrize("args", [("report", "pipeline", "--as-of", ""), ("report", "customers", "--as-of", ""),
                                  ("report", "sfe", "--as-of", ""), ("opp", "list", "--as-of", ""),
                                  ("report", "changes", "--from", ""),
                                  ("report", "changes", "--from", "2026-01-05", "--to", "")])
def test_an_empty_date_is_refused_not_taken_as_today(history_book: Path, args: tuple[str, ...]) -> None:  # noqa: F811
    # old code: `--as-of ""` gave today's report; `--from ""` was refused naming today's date twice
    result = invoke(*args, book=history_book, env=NOW)
    assert result.exit_code == 1
    option = args[-2]
    assert result.stderr.strip().splitlines() == [f"error: {option}: '' is not a date; write it as YYYY-MM-DD (e.g. 2026-11-27)"]


def test_diff_refuses_reversed_days(history_book: Path) -> None:  # noqa: F811
    # old code: accepted, with added and removed swapped
    result = invoke("diff", "2026-02-11", "2026-01-05", book=history_book, env=NOW)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: diff: D1 2026-02-11 is after D2 2026-01-05; give the earlier day first "
                                     "(added/removed are read from D1 to D2)")
    assert invoke("diff", "2026-01-05", "2026-01-05", book=history_book, env=NOW).exit_code == 0


def test_log_shows_the_date_as_of_counts_in_the_books_zone(history_book: Path) -> None:  # noqa: F811
    # a back-dated commit (git commit --date, a rebase, a cherry-pick): authored 2026-02-20, committed at
    # 2026-03-10T23:00Z = 2026-03-11 07:00 in the book's zone (+08:00)
    path = history_book / "records" / "opportunities" / "a5.yaml"
    path.write_text(path.read_text().replace('amount: "70000.00"', 'amount: "75000.00"'))
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-02-20T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-10T23:00:00Z"}
    subprocess.run(["git", "-C", str(history_book), "commit", "-qam", "backfill"], check=True, env=env)
    # old code: `log` printed the author date in the author's offset, `log --fields` the author date (02-20),
    # while --as-of counts the change from the committer date (03-11 here)
    commits = run_json(history_book, "log", "a5")
    assert (commits[0]["date"], commits[0]["authored"]) == ("2026-03-11T07:00:00+08:00", "2026-02-20T10:00:00+08:00")
    fields = run_json(history_book, "log", "a5", "--fields")
    assert (fields[0]["field"], fields[0]["new"]) == ("amount", "75000.00")
    assert (fields[0]["when"], fields[0]["authored"]) == ("2026-03-11T07:00:00+08:00", "2026-02-20T10:00:00+08:00")
    assert run_json(history_book, "opp", "show", "a5", "--as-of", "2026-03-10")["amount"] == "70000.00"
    assert run_json(history_book, "opp", "show", "a5", "--as-of", "2026-03-11")["amount"] == "75000.00"
