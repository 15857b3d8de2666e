"""Check-ins at the real time: --time HH:MM is today, other days need a full timestamp and count as late entries,
only the rep or a manager on the visit checks in, on time means on the planned day, a check-out after midnight
is the next day, and a completed visit keeps its date."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.sfe.conftest import ACME, Run, clock, do_visit, fails, ok, snapshot


def visit(book: Path, vid: str) -> dict:
    return yaml.safe_load((book / "records" / "visits" / f"{vid}.yaml").read_text(encoding="utf-8"))


def finish(run: Run, vid: str, env: dict[str, str]) -> None:
    """Tick the required steps, check out at ``env``'s clock, log and complete."""
    for step in ("prepare", "discover"):
        ok(run("visit", "step", vid, step, "--done", env=env))
    ok(run("visit", "checkout", vid, env=env))
    ok(run("visit", "log", vid, "--outcome", "ok", "--next-step", "call back", env=env))
    ok(run("visit", "done", vid, env=env))


def test_time_hh_mm_means_today(run: Run, book: Path, now) -> None:
    """The issue's case: run on Thu 10 Dec 10:00, `--time 09:30` for a visit planned on 2 Dec is 10 Dec 09:30
    (the old code stored 2 Dec 09:30: backdated 8 days, and on time)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    now("2026-12-10T10:00:00+08:00")
    result = run("visit", "checkin", vid, "--time", "09:30", "--at", ",".join(ACME))
    assert "checked in at 09:30 on 2026-12-10" in ok(result) + result.stderr
    assert visit(book, vid)["checkin"]["at"] == "2026-12-10T09:30:00+08:00"
    assert "late_entry" not in visit(book, vid)["checkin"]  # 30 min ago: within visits.entry_tolerance_min


def test_another_day_needs_a_full_timestamp_and_is_a_late_entry(run: Run, book: Path, now) -> None:
    """Recording on 10 Dec 10:00 a check-in of 2 Dec 09:30: kept, marked late (8 days > 30 min), with when it was
    entered; the report does not count it as on time."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    env = clock("2026-12-10", "10:00")
    result = run("visit", "checkin", vid, "--time", "2026-12-02T09:30", env=env)
    ok(result)
    assert "entered 192.5 h after the fact" in result.stderr and "not count as on time" in result.stderr
    entry = visit(book, vid)["checkin"]
    assert entry == {"at": "2026-12-02T09:30:00+08:00", "late_entry": True, "entered": "2026-12-10T10:00:00+08:00"}
    # the check-out too must be after the fact: --time 11:00 is the first 11:00 after the check-in, 2 Dec
    ok(run("visit", "checkout", vid, "--time", "11:00", env=env))
    assert visit(book, vid)["checkout"]["at"] == "2026-12-02T11:00:00+08:00"
    assert visit(book, vid)["checkout"]["duration_min"] == 90
    fails(run("visit", "checkin", ok(run("visit", "add", "--account", "acme", "--date", "2026-12-03")),
              "--time", "2026-12-03"), "give the time too")


def test_a_check_in_in_the_future_is_refused(run: Run, book: Path, now) -> None:
    """At 08:00, --time 09:30 is 90 min ahead (more than the 30 min tolerance): refused, nothing written;
    --time 08:20 (20 min ahead) is accepted."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    now("2026-12-02T08:00:00+08:00")
    before = snapshot(book)
    fails(run("visit", "checkin", vid, "--time", "09:30"), "is in the future")
    assert snapshot(book) == before
    ok(run("visit", "checkin", vid, "--time", "08:20"))


def test_only_the_rep_or_a_manager_on_the_visit_checks_in(run: Run, book: Path, now) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27", "--with", "mia"))
    before = snapshot(book)
    fails(run("--as", "ria", "visit", "checkin", vid), "ria is neither the rep", "(rex, mia)")
    fails(run("--as", "dan", "visit", "checkin", vid), "dan is neither the rep")
    assert snapshot(book) == before
    ok(run("--as", "mia", "visit", "checkin", vid))
    fails(run("--as", "ria", "visit", "checkout", vid), "ria is neither the rep")
    ok(run("--as", "rex", "visit", "checkout", vid))


def test_on_time_means_on_the_planned_day(run: Run, book: Path, now) -> None:
    """December, as of 10 Dec, rex: three completed visits.

    d1 planned Tue 1 Dec, checked in 1 Dec 09:00           -> on time
    d2 planned Thu 3 Dec, checked in early, Wed 2 Dec 09:00 -> not on time (the old report: on time)
    d3 planned Wed 2 Dec, recorded on 10 Dec as 2 Dec 09:30 -> a late entry, not on time (old: on time)
    on time = 1 / 3 = 33.3 %
    """
    do_visit(run, "acme", "2026-12-01")
    do_visit(run, "acme", "2026-12-03", checkin_at="2026-12-02T09:00", end="2026-12-02T10:00")
    late = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    env = clock("2026-12-10", "10:00")
    ok(run("visit", "checkin", late, "--time", "2026-12-02T09:30", env=env))
    for step in ("prepare", "discover"):
        ok(run("visit", "step", late, step, "--done", env=env))
    ok(run("visit", "checkout", late, "--time", "10:30", env=env))
    ok(run("visit", "log", late, "--outcome", "ok", "--next-step", "call back", env=env))
    ok(run("visit", "done", late, env=env))
    now("2026-12-10T18:00:00+08:00")
    reps = {r["rep"]: r for r in json.loads(ok(run("report", "sfe", "--period", "2026-12", "--format", "json")))["reps"]}
    assert (reps["rex"]["completed"], reps["rex"]["on_time_pct"]) == (3, "33.3")


def test_a_check_out_after_midnight_is_the_next_day(run: Run, book: Path, now) -> None:
    """Checked in Wed 2 Dec 23:00; `checkout --time 00:30` run at 00:40 is Thu 3 Dec 00:30: 90 min on site
    (the old code put it on 2 Dec 00:30, before the check-in, and refused it)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    ok(run("visit", "checkin", vid, env=clock("2026-12-02", "23:00")))
    result = run("visit", "checkout", vid, "--time", "00:30", env=clock("2026-12-03", "00:40"))
    ok(result)
    assert "checked out at 00:30 on 2026-12-03" in result.stderr
    assert (visit(book, vid)["checkout"]["at"], visit(book, vid)["checkout"]["duration_min"]) == ("2026-12-03T00:30:00+08:00", 90)


def test_a_completed_visits_date_cannot_be_edited(run: Run, book: Path, now) -> None:
    """A completed visit keeps its date; a planned one moved by edit records the move (calendars bump SEQUENCE)."""
    done = do_visit(run, "acme", "2026-11-20")
    before = snapshot(book)
    fails(run("visit", "edit", done, "--set", "date=2026-11-25"), f"visit {done} is completed", "stays as it happened")
    assert snapshot(book) == before
    planned = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01"))
    ok(run("visit", "edit", planned, "--set", "date=2026-12-04"))
    moved = visit(book, planned)
    assert moved["date"] == "2026-12-04"
    assert [(e["from"], e["to"], e["reason"]) for e in moved["rescheduled"]] == [("2026-12-01", "2026-12-04", "edited")]
