"""scripts/demo_history.py gives a copy of the demo book weeks of history that ends in the demo book exactly."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import git, invoke

REPO = Path(__file__).resolve().parents[2]
NOW = {"CRMCTL_NOW": "2026-11-27T18:30:00+08:00"}
SHANGHAI = ZoneInfo("Asia/Shanghai")   # the demo book's zone (crm.yaml: +08:00, the same every day of the year)
# the keys whose values are moments something happened to a record (close_date, due, valid_until are plans)
EVENTS = {"created", "at", "sent_at", "requested_at", "done_at", "completed", "closed_on"}
DATED = {"orders", "payments", "quotes"}   # their ``date`` is when they were issued or paid


def shanghai(value: Any) -> dt.datetime:
    """An ISO time (or a bare date: its first second) as an aware time in Asia/Shanghai."""
    text = str(value)
    when = dt.datetime.fromisoformat(f"{text}T00:00:00" if len(text) == 10 else text)
    return (when if when.tzinfo else when.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI)


def moments(kind: str, data: Any, top: bool = True) -> Iterator[tuple[str, dt.datetime]]:
    """(key, when) for every moment a record says something happened to it, nested lists and maps included."""
    if isinstance(data, list):
        for item in data:
            yield from moments(kind, item, False)
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                yield from moments(kind, value, False)
            elif (key in EVENTS or (key == "date" and kind in DATED and (top or "version" in data))) \
                    and len(str(value)) >= 10 and str(value)[4] == "-":
                yield key, shanghai(value)


def own_day(kind: str, data: dict[str, Any]) -> dt.date:
    """The day a record came to be, in Asia/Shanghai: created; an order's or payment's date, a quote's first
    version's date, if later."""
    days = [shanghai(data["created"]).date()]
    if kind in ("orders", "payments"):
        days.append(shanghai(data["date"]).date())
    if kind == "quotes":
        days.append(shanghai(((data.get("versions") or [{}])[0]).get("date") or data["date"]).date())
    return max(days)


def final_records() -> dict[str, tuple[str, dict[str, Any]]]:
    """records/KIND/ID.yaml -> (KIND, data) of the demo book in this repository, for each dated record."""
    found = {}
    for path in sorted((REPO / "records").glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("created"):
            found[f"records/{path.parent.name}/{path.name}"] = (path.parent.name, data)
    return found


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("history") / "book"
    subprocess.run([sys.executable, str(REPO / "scripts" / "demo_history.py"), str(book)], check=True,
                   capture_output=True)
    return book


def commits(book: Path) -> list[tuple[str, dt.datetime]]:
    """(commit, committer time in Asia/Shanghai), oldest first."""
    lines = git(book, "log", "--reverse", "--format=%H %cI").split("\n")
    return [(sha, shanghai(when)) for sha, when in (line.split() for line in lines if line)]


def test_no_record_is_in_the_history_before_its_own_date_nor_any_change_before_it_happened(history: Path) -> None:
    # the old script put November's quotes, orders and payments (and every visit) in the 2026-10-01 commit
    final = final_records()
    first: dict[str, dt.datetime] = {}
    parsed: dict[str, Any] = {}
    late = []
    for sha, when in commits(history):
        for line in filter(None, git(history, "ls-tree", "-r", sha, "records").split("\n")):
            _, _, blob, path = line.split(None, 3)
            if path not in final:
                continue
            first.setdefault(path, when)
            if blob not in parsed:
                parsed[blob] = yaml.safe_load(git(history, "cat-file", "blob", blob))
            kind = final[path][0]
            late += [f"{path}: {key} {at.isoformat()} in commit {sha[:10]} of {when.isoformat()}"
                     for key, at in moments(kind, parsed[blob]) if at > when]
    assert late == []
    assert set(first) == set(final)   # every record is there by the last commit
    early = [f"{path}: first in a commit of {first[path].date()}, its own date {own_day(kind, data)}"
             for path, (kind, data) in final.items() if first[path].date() < own_day(kind, data)]
    assert early == []
    # the last commit is the demo book as it is
    assert all(git(history, "show", f"HEAD:{path}") == (REPO / path).read_text(encoding="utf-8") for path in final)


def test_as_of_a_day_in_october_shows_only_what_existed_then(history: Path) -> None:
    day = dt.date(2026, 10, 15)
    final = final_records()
    for kind, command in (("quotes", "quote"), ("orders", "order"), ("payments", "payment"),
                          ("opportunities", "opp"), ("leads", "lead"), ("visits", "visit")):
        result = invoke(command, "list", "--as-of", day.isoformat(), "--format", "json", book=history, env=NOW)
        assert result.exit_code == 0, result.output
        shown = {row["id"] for row in json.loads(result.stdout)}
        born = {Path(path).stem: own_day(k, data) for path, (k, data) in final.items() if k == kind}
        assert not {rid for rid in shown if born[rid] > day}, kind   # quote 2ndtq0r1f8n1 of 11-18, ...
        if kind != "visits":   # visit list may leave old ones out; the rest list every record
            assert shown == {rid for rid, born_on in born.items() if born_on <= day}, kind
    assert {"2ndtq0r1f8n1", "2ndtpvn1c44n"} <= {Path(p).stem for p, (k, d) in final.items()
                                                   if k == "quotes" and own_day(k, d) > day}


def test_the_history_ends_in_the_demo_book_and_its_changes_add_up(history: Path) -> None:
    book = history
    assert git(book, "status", "--porcelain", "--", ".", ":!.crmctl") == ""   # crmctl's own cache aside
    assert int(git(book, "rev-list", "--count", "HEAD")) > 10
    assert git(book, "log", "--reverse", "--format=%cs").split()[0] == "2026-10-01"
    for path in (REPO / "records" / "opportunities").glob("*.yaml"):  # the last commit is the demo book, byte for byte
        assert git(book, "show", f"HEAD:records/opportunities/{path.name}") == path.read_text(encoding="utf-8")
    result = invoke("report", "changes", "--from", "2026-10-01", "--period", "2026-Q4", "--format", "json",
                    book=book, env=NOW)
    assert result.exit_code == 0, result.output
    figures = {f["figure"]: Decimal(f["amount"]) for f in json.loads(result.stdout)["figures"]}
    assert sum(v for k, v in figures.items() if k != "open_end") == figures["open_end"]
    # the script's EDITS: 南京二号线 (1,200,000) slipped out of Q4 on 11-16
    assert figures["slipped_out"] == Decimal("-1200000.00")


def test_help_prints_the_usage_and_makes_no_book(tmp_path: Path) -> None:
    # attack 5, F15: `demo_history.py --help` made a book in a folder named --help
    script = str(REPO / "scripts" / "demo_history.py")
    here = tmp_path / "here"
    here.mkdir()
    shown = subprocess.run([sys.executable, script, "--help"], cwd=here, capture_output=True, text=True)
    assert shown.returncode == 0 and "Usage: ``python scripts/demo_history.py DIR``" in shown.stdout
    refused = subprocess.run([sys.executable, script, "--out"], cwd=here, capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stderr.startswith("Usage:")
    assert list(here.iterdir()) == []


AS_OF_COMMANDS = (("report", "customers"), ("report", "sfe"), ("report", "pipeline"), ("report", "receivables"),
                  ("account", "show", "saic-powertrain"), ("opp", "list"), ("order", "list"), ("quote", "list"),
                  ("visit", "list"))


@pytest.mark.parametrize("day", ["2026-10-05", "2026-10-09"])
def test_as_of_a_day_is_that_days_commit_with_the_read_model_and_without(history: Path, tmp_path: Path,
                                                                         day: str) -> None:
    # attack 7, F4: `report sfe --as-of 2026-10-09` counted tom-baker's deal won on 10-22 (won 2, not 1), and
    # on 10-05 three wins where none had been won yet: its won column came from today's book through the read model
    assert invoke("sql", "SELECT count(*) FROM opportunities", book=history, env=NOW).exit_code == 0  # it is warm
    sha = git(history, "log", "-1", "--format=%H", f"--until={day} 23:59:59 +0800").strip()
    checkout = tmp_path / "that-day"
    git(history, "worktree", "add", "-q", "--detach", str(checkout), sha)
    try:
        for command in AS_OF_COMMANDS:
            shape = ("--format", "json" if command[0] == "account" else "csv")
            model = invoke(*command, *shape, "--as-of", day, book=history, env=NOW)
            files = invoke(*command, *shape, "--as-of", day, book=history, env={**NOW, "CRMCTL_READ_MODEL": "off"})
            then = invoke(*command, *shape, book=checkout, env={"CRMCTL_NOW": f"{day}T23:59:59+08:00"})
            assert model.exit_code == files.exit_code == then.exit_code == 0, (command, model.output, then.output)
            assert model.stdout == files.stdout, command
            assert model.stdout == then.stdout, command
    finally:
        git(history, "worktree", "remove", "--force", str(checkout))
    sfe = invoke("report", "sfe", "--as-of", "2026-10-09", "--rep", "tom-baker", "--format", "csv", book=history, env=NOW)
    # 2ndtj2ps67v4 won on 10-09 counts; 2ndtj46n2368, won on 10-22, was still in negotiation that day
    row = dict(zip(sfe.stdout.splitlines()[1].split(","), sfe.stdout.splitlines()[2].split(",")))
    assert (row["rep"], row["won"], row["visits_per_won"]) == ("tom-baker", "1", "2.0")


def test_the_read_model_never_answers_for_a_past_days_book(history: Path) -> None:
    # attack 7, F4's kind: one rule (readmodel.answers_for) that every way into the read model and memo asks
    from crmctl.core import memo, readmodel
    from crmctl.core.book import Book
    from crmctl.core.snapshot import book_on

    today = Book(str(history))
    past, _, _ = book_on(today, dt.date(2026, 10, 9))
    assert readmodel.answers_for(today) and not readmodel.answers_for(past)
    assert readmodel.open_model(past) is None
    assert readmodel.select(past, ["opportunities"], "SELECT id FROM opportunities") is None
    model = readmodel.open_model(today)
    assert model is not None
    try:
        assert not readmodel.refresh_for(past, model, ["opportunities"])
    finally:
        model.close()
    assert memo.key(past, "x", ["opportunities"], []) is None and memo.key(today, "x", ["opportunities"], [])
