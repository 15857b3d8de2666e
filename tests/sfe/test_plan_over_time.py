"""Plans over time: week by week equals one plan of the period; planned visits fill the cadence; a missed visit is
rescheduled, not duplicated; the Act list's suggested command does what it says."""
from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as st

from crmctl.sfe.plan import chains, load_by_rep, room_per_day, schedule
from tests.sfe.conftest import Run, ok
from tests.sfe.test_plan import visits


def planned(book: Path) -> list[tuple[str, str]]:
    return sorted((v["account"], v["date"]) for v in visits(book) if v["status"] == "planned")


def test_week_by_week_equals_one_plan_of_the_month(run: Run, book: Path, now, tmp_path: Path) -> None:
    """The issue's case: W49, W50, W51, W52 planned on the same day (27 Nov) give what one plan of 30 Nov..27 Dec gives.

    rex: acme (A, 7 days), cee (C, 30 days); room ceil((7/7 + 7/30) / 5) = 1 visit a day. ria: baosteel (B, 14).
    Never visited, all are due today (27 Nov). acme: Mon 30 Nov, then a week after each: 7, 14, 21 Dec.
    cee waits a day for room: Tue 1 Dec, next due 31 Dec (outside). baosteel: 30 Nov and 14 Dec.
    The old plan gave cee and baosteel a visit every week (4 each).
    """
    ok(run("account", "add", "--id", "cee", "--name", "Cee Co", "--tier", "C", "--owner", "rex"))
    import shutil
    month = tmp_path / "month"
    shutil.copytree(book, month)
    for week in ("2026-W49", "2026-W50", "2026-W51", "2026-W52"):
        ok(run("visit", "plan", "--week", week))
    expected = [("acme", "2026-11-30"), ("acme", "2026-12-07"), ("acme", "2026-12-14"), ("acme", "2026-12-21"),
                ("baosteel", "2026-11-30"), ("baosteel", "2026-12-14"), ("cee", "2026-12-01")]
    assert planned(book) == expected
    from tests.conftest import invoke
    assert invoke("visit", "plan", "--from", "2026-11-30", "--to", "2026-12-27", book=month).exit_code == 0
    assert planned(month) == expected
    # and again: nothing more
    again = run("visit", "plan", "--from", "2026-11-30", "--to", "2026-12-27")
    assert "planned 0 visits" in again.stderr


def test_a_missed_visit_is_rescheduled_not_duplicated(run: Run, book: Path, now) -> None:
    """acme (A, 7 days) had a visit planned for Mon 23 Nov that nobody did; today is Fri 27 Nov.

    It filled nothing (missed), so acme is due today; the plan of W49 moves that visit to Mon 30 Nov (the first
    working day of the window) instead of adding one, then adds 7 Dec in W50 as a new visit.
    """
    missed = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-23", "--purpose", "price review"))
    result = run("visit", "plan", "--rep", "rex", "--week", "2026-W49", "--format", "json")
    rows = json.loads(ok(result))
    assert [(r["id"], r["date"], r["moves"], r["was"]) for r in rows] == [(missed, "2026-11-30", missed, "2026-11-23")]
    assert "1 of them missed visits rescheduled" in result.stderr
    data = [v for v in visits(book)]
    assert len(data) == 1 and data[0]["date"] == "2026-11-30" and data[0]["purpose"] == "price review"
    assert [(e["from"], e["to"], e["reason"]) for e in data[0]["rescheduled"]] == [("2026-11-23", "2026-11-30", "missed")]
    ok(run("visit", "plan", "--rep", "rex", "--week", "2026-W50"))
    assert planned(book) == [("acme", "2026-11-30"), ("acme", "2026-12-07")]


def test_the_act_lists_suggested_command_reschedules(run: Run, book: Path, now) -> None:
    """rex missed acme's visits of 9 and 16 Nov and nothing else is planned: the report (as of Fri 27 Nov) suggests
    planning 27 Nov..3 Dec, which moves the latest missed one (16 Nov) to today, Fri 27 Nov (acme is overdue and
    today is a working day); the older one stays missed,
    since one visit is what the 7-day cadence asks for now."""
    ok(run("visit", "add", "--account", "acme", "--date", "2026-11-09"))
    ok(run("visit", "add", "--account", "acme", "--date", "2026-11-16"))
    act = json.loads(ok(run("report", "sfe", "--period", "2026-11", "--rep", "rex", "--format", "json")))["act"]
    action = act[0]["action"]
    command = "crmctl visit plan --rep rex --from 2026-11-27 --to 2026-12-03"
    assert f"reschedule 1 of 2 missed visit(s): {command}" in action
    result = run(*command.split()[1:])
    ok(result)
    assert "planned 1 visits 2026-11-27..2026-12-03 for rex (1 of them missed visits rescheduled)" in result.stderr
    moved = {v["date"]: v for v in visits(book)}
    assert sorted(moved) == ["2026-11-09", "2026-11-27"] and moved["2026-11-27"]["rescheduled"][0]["from"] == "2026-11-16"
    act = json.loads(ok(run("report", "sfe", "--period", "2026-11", "--rep", "rex", "--format", "json")))["act"]
    # the report counts what was due by today and is not done: 9 Nov and the one now on today (27 Nov);
    # the plan has nothing more to move
    assert "2 missed visit(s), none to move 2026-11-27..2026-12-03" in act[0]["action"]


# ---- the property: any split of a period into windows plans what one plan of the period plans

TODAY = _dt.date(2026, 11, 27)
REPS = ("r1", "r2")


def _run(accounts, book_visits, days, today, room):
    """One plan over ``days`` applied to ``book_visits`` (a list of [id, account, rep, date, status])."""
    got = schedule(chains(accounts, [tuple(v) for v in book_visits], today), days, today, room,
                   load_by_rep([tuple(v) for v in book_visits], days))
    by_id = {v[0]: v for v in book_visits}
    for n, p in enumerate(got):
        if p.moves:
            by_id[p.moves][3] = p.date
        else:
            book_visits.append([f"new-{p.account}-{p.date}-{n}", p.account, p.rep, p.date, "planned"])
    return got


def _outcome(book_visits):
    return Counter((v[1], v[2], v[3], v[0] if not v[0].startswith("new-") else "new") for v in book_visits)


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 6))
    accounts = [(f"a{i}", draw(st.sampled_from(REPS)), draw(st.sampled_from((3, 7, 14, 30)))) for i in range(n)]
    existing = []
    for i in range(draw(st.integers(0, 8))):
        acc, owner, _ = draw(st.sampled_from(accounts))
        day = TODAY + _dt.timedelta(days=draw(st.integers(-40, 40)))
        status = draw(st.sampled_from(("planned", "completed", "cancelled", "in_progress")))
        rep = owner if draw(st.booleans()) else draw(st.sampled_from(REPS))
        existing.append([f"v{i}", acc, rep, day.isoformat(), status])
    start = TODAY + _dt.timedelta(days=draw(st.integers(0, 10)))
    length = draw(st.integers(1, 70))
    holidays = draw(st.sets(st.integers(0, length - 1), max_size=10))
    days = [start + _dt.timedelta(days=k) for k in range(length) if (start + _dt.timedelta(days=k)).weekday() < 5
            and k not in holidays]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, length - 1)), max_size=6)))
    return accounts, existing, days, start, length, cuts


@hsettings(max_examples=300, deadline=None)
@given(scenarios())
def test_any_split_into_windows_plans_what_one_plan_does(scenario) -> None:
    accounts, existing, days, start, length, cuts = scenario
    room = {rep: room_per_day(5, [c for _, o, c in accounts if o == rep]) for rep in REPS}
    whole = [list(v) for v in existing]
    if days:
        _run(accounts, whole, days, TODAY, room)
    split = [list(v) for v in existing]
    bounds = [0, *cuts, length]
    for lo, hi in zip(bounds, bounds[1:]):
        part = [d for d in days if start + _dt.timedelta(days=lo) <= d < start + _dt.timedelta(days=hi)]
        if part:
            _run(accounts, split, part, TODAY, room)
    assert _outcome(split) == _outcome(whole)
    # and running the whole period again adds nothing
    if days:
        assert _run(accounts, whole, days, TODAY, room) == []
