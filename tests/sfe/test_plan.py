"""`visit plan`: cadence per tier and lifecycle, idempotence, spreading over working days, bad input."""
from __future__ import annotations

import datetime as _dt
from collections import Counter
from pathlib import Path

import yaml

from tests.conftest import git
from tests.sfe.conftest import Run, fails, ok, snapshot


def visits(book: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((book / "records" / "visits").glob("*.yaml"))]


def test_plan_twice_adds_nothing_and_makes_one_commit(run: Run, book: Path, now) -> None:
    before = git(book, "rev-list", "--count", "HEAD")
    ok(run("visit", "plan", "--week", "2026-W49"))
    first = visits(book)
    assert {(v["account"], v["rep"]) for v in first} == {("acme", "rex"), ("baosteel", "ria")}
    assert all(v["status"] == "planned" and v["source"] == "cadence" for v in first)
    assert int(git(book, "rev-list", "--count", "HEAD")) == int(before) + 1
    assert "visit plan: 2 visits 2026-11-30..2026-12-06" in git(book, "log", "-1", "--format=%s")
    second = run("visit", "plan", "--week", "2026-W49")
    ok(second)
    assert "planned 0 visits" in second.stderr
    assert visits(book) == first
    assert int(git(book, "rev-list", "--count", "HEAD")) == int(before) + 1


def test_dry_run_writes_nothing(run: Run, book: Path, now) -> None:
    before = snapshot(book)
    result = run("visit", "plan", "--week", "2026-W49", "--dry-run", "--format", "json")
    ok(result)
    assert len(__import__("json").loads(result.stdout)) == 2
    assert snapshot(book) == before


def test_cadence_per_tier_and_lifecycle_over_a_month(run: Run, book: Path, now) -> None:
    ok(run("account", "add", "--id", "cee", "--name", "Cee Co", "--tier", "C", "--owner", "rex"))
    ok(run("account", "add", "--id", "gone", "--name", "Gone Co", "--tier", "A", "--lifecycle", "churned", "--owner", "rex"))
    ok(run("account", "add", "--id", "sleepy", "--name", "Sleepy Co", "--tier", "A", "--lifecycle", "dormant", "--owner", "rex"))
    ok(run("visit", "plan", "--from", "2026-12-01", "--to", "2026-12-31"))
    per_account = Counter(v["account"] for v in visits(book))
    # never visited: all due today (27 Nov). rex's room a day: ceil((7/7 + 7/30 + 7/30) / 5 weekdays) = 1, so on
    # Tue 1 Dec acme (shortest cadence) goes first, cee on the 2nd, sleepy on the 3rd (c < s).
    # A every 7 days from its visit: 1, 8, 15, 22, 29 Dec; B (ria) every 14: 1, 15, 29;
    # C / dormant every 30 after 2 and 3 Dec: next due 1 and 2 Jan, outside December -> one visit each
    assert per_account == {"acme": 5, "baosteel": 3, "cee": 1, "sleepy": 1}
    assert "gone" not in per_account  # churned: cadence 0


def test_last_visit_before_the_window_moves_the_due_date(run: Run, book: Path, now) -> None:
    ok(run("account", "add", "--id", "cee", "--name", "Cee Co", "--tier", "C", "--owner", "rex"))
    vid = ok(run("visit", "add", "--account", "cee", "--date", "2026-11-27", "--type", "phone"))
    for step in ("prepare", "discover"):
        ok(run("visit", "step", vid, step, "--done"))
    ok(run("visit", "log", vid, "--outcome", "ok", "--next-step", "call again"))
    ok(run("visit", "done", vid))
    ok(run("visit", "plan", "--rep", "rex", "--from", "2026-12-01", "--to", "2026-12-31"))
    cee = sorted(v["date"] for v in visits(book) if v["account"] == "cee" and v["status"] == "planned")
    assert cee == ["2026-12-28"]  # due 30 days after 27 Nov: Sunday 27 Dec, so the next working day


def test_visits_spread_evenly_over_working_days(run: Run, book: Path, now) -> None:
    for n in range(9):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))
    ok(run("visit", "plan", "--rep", "rex", "--week", "2026-W49"))
    days = Counter(v["date"] for v in visits(book))
    assert sum(days.values()) == 10  # acme + 9
    assert sorted(days.values()) == [2, 2, 2, 2, 2]
    assert all(_dt.date.fromisoformat(d).weekday() < 5 for d in days)
    assert {v["rep"] for v in visits(book)} == {"rex"}


def test_no_visit_is_planned_in_the_past(run: Run, book: Path, now) -> None:
    now("2026-12-02T08:00:00+08:00")  # a Wednesday
    for n in range(5):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))
    ok(run("visit", "plan", "--rep", "rex", "--week", "2026-W49"))
    days = Counter(v["date"] for v in visits(book))
    assert days == {"2026-12-02": 2, "2026-12-03": 2, "2026-12-04": 2}
    now("2026-12-05T08:00:00+08:00")
    fails(run("visit", "plan", "--week", "2026-W49"), "no working days from 2026-12-05 to 2026-12-06")


def test_working_days_come_from_crm_yaml(run: Run, book: Path, now) -> None:
    settings = book / "crm.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("working_days: [mon, tue, wed, thu, fri]", "working_days: [mon, wed]"), encoding="utf-8")
    assert "working_days: [mon, wed]" in settings.read_text(encoding="utf-8")
    for n in range(3):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))
    ok(run("visit", "plan", "--rep", "rex", "--week", "2026-W49"))
    days = Counter(v["date"] for v in visits(book))
    assert days == {"2026-11-30": 2, "2026-12-02": 2}


def test_plan_for_an_unknown_rep_or_a_bad_week_is_refused(run: Run, book: Path, now) -> None:
    before = snapshot(book)
    fails(run("visit", "plan", "--rep", "nobody", "--week", "2026-W49"), "--rep 'nobody'", "user list")
    fails(run("visit", "plan", "--week", "2026-W54"), "2026 has no week 54")
    fails(run("visit", "plan", "--week", "49"), "YYYY-Www")
    fails(run("visit", "plan", "--from", "2026-12-10", "--to", "2026-12-01"), "before --from")
    fails(run("visit", "plan", "--from", "2026-02-30"), "YYYY-MM-DD")
    fails(run("visit", "plan", "--from", "2026-12-05", "--to", "2026-12-06"), "no working days from 2026-12-05")
    assert snapshot(book) == before


def test_plan_json_gives_the_new_ids(run: Run, book: Path, now) -> None:
    import json

    rows = json.loads(ok(run("visit", "plan", "--week", "2026-W49", "--format", "json")))
    assert sorted(r["id"] for r in rows) == sorted(p.stem for p in (book / "records" / "visits").glob("*.yaml"))
    # never visited: due today (27 Nov), placed on the window's first working day
    assert {(r["account"], r["date"], r["due"], r["cadence"]) for r in rows} == {
        ("acme", "2026-11-30", "2026-11-27", 7), ("baosteel", "2026-11-30", "2026-11-27", 14)}
