"""Check-ins and visit times on daylight-saving nights (book in Europe/Berlin): every difference is real elapsed
time (UTC), wall times follow one rule (a repeated time is its first showing, a skipped one is refused), and a
visit time the clocks skip on its day is refused.

Berlin 2026: clocks go back on Sun 25 Oct at 03:00 CEST (+02:00) to 02:00 CET (+01:00), so 02:00-02:59 is shown
twice; they go forward on Sun 29 Mar at 02:00 CET to 03:00 CEST, so 02:00-02:59 never happens.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
import yaml

from crmctl.core import clock
from crmctl.core.errors import ValidationError
from crmctl.sfe.when import moment
from tests.core.test_clock import set_setting
from tests.sfe.conftest import Run, fails, ok, snapshot

BERLIN = clock.parse_timezone("Europe/Berlin")


@pytest.fixture
def berlin(book: Path) -> Path:
    set_setting(book, 'timezone: "+08:00"', "timezone: Europe/Berlin")
    return book


def visit(book: Path, vid: str) -> dict:
    return yaml.safe_load((book / "records" / "visits" / f"{vid}.yaml").read_text(encoding="utf-8"))


def at(text: str) -> dict[str, str]:
    return {"CRMCTL_NOW": text}


def test_fall_back_night_check_in_and_out(run: Run, berlin: Path) -> None:
    """Now 03:10+01:00 (= 02:10Z). --time 02:30 is the first 02:30, +02:00 (= 00:30Z): 1 h 40 min ago = 1.7 h
    (the old code said 0.7 h: wall clocks 03:10 - 02:30). Check-out --time 02:15 is the first 02:15 after the
    check-in: the second showing, +01:00 (= 01:15Z), 45 min later (the old code took the next day's 02:15 and
    refused it as in the future)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-10-25", env=at("2026-10-24T12:00:00")))
    result = run("visit", "checkin", vid, "--time", "02:30", env=at("2026-10-25T03:10:00"))
    ok(result)
    assert "entered 1.7 h after the fact" in result.stderr, result.stderr
    assert visit(berlin, vid)["checkin"]["at"] == "2026-10-25T02:30:00+02:00"
    ok(run("visit", "checkout", vid, "--time", "02:15", env=at("2026-10-25T03:10:00")))
    out = visit(berlin, vid)["checkout"]
    assert out["at"] == "2026-10-25T02:15:00+01:00"
    assert out["duration_min"] == 45


def test_the_second_showing_is_given_with_its_offset(run: Run, berlin: Path) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-10-25", env=at("2026-10-24T12:00:00")))
    ok(run("visit", "checkin", vid, "--time", "2026-10-25T02:30+01:00", env=at("2026-10-25T02:50:00+01:00")))
    assert visit(berlin, vid)["checkin"] == {"at": "2026-10-25T02:30:00+01:00"}  # 20 min ago: not late


def test_spring_forward_night_skipped_time_is_refused(run: Run, berlin: Path) -> None:
    """Now 04:00+02:00 (= 02:00Z). --time 02:30 never happened that night: refused, nothing written (the old code
    stored 02:30+01:00 and said 1.5 h late). 01:50+01:00 (00:50Z) is 70 min ago = 1.2 h; check-out at 03:10+02:00
    (01:10Z) is 20 min later, the same day (the old code jumped to the next day)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-03-29", env=at("2026-03-28T12:00:00")))
    before = snapshot(berlin)
    fails(run("visit", "checkin", vid, "--time", "02:30", env=at("2026-03-29T04:00:00")),
          "--time 2026-03-29 02:30 does not exist in Europe/Berlin", "+01:00 to +02:00")
    fails(run("visit", "checkin", vid, "--time", "2026-03-29T02:30", env=at("2026-03-29T04:00:00")), "does not exist")
    assert snapshot(berlin) == before
    result = run("visit", "checkin", vid, "--time", "01:50", env=at("2026-03-29T04:00:00"))
    assert "entered 1.2 h after the fact" in ok(result) + result.stderr  # 04:00+02:00 - 01:50+01:00 = 02:00Z - 00:50Z
    ok(run("visit", "checkout", vid, "--time", "03:10", env=at("2026-03-29T04:00:00")))
    out = visit(berlin, vid)["checkout"]
    assert out["at"] == "2026-03-29T03:10:00+02:00" and out["duration_min"] == 20


def test_spring_forward_check_in_is_real_time_late(run: Run, berlin: Path) -> None:
    """A check-in at 01:30+01:00 (00:30Z) entered at 03:10+02:00 (01:10Z) is 40 min late (wall clocks: 100)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-03-29", env=at("2026-03-28T12:00:00")))
    result = run("visit", "checkin", vid, "--time", "01:30", env=at("2026-03-29T03:10:00"))
    assert "entered 0.7 h after the fact" in ok(result) + result.stderr


def test_an_ordinary_late_entry_across_the_night_counts_real_hours(run: Run, berlin: Path) -> None:
    """Check-in 24 Oct 23:00+02:00 (21:00Z), entered 26 Oct 12:00+01:00 (11:00Z): 38.0 h (the old code: 37.0)."""
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-10-24", env=at("2026-10-24T12:00:00")))
    result = run("visit", "checkin", vid, "--time", "2026-10-24T23:00", env=at("2026-10-26T12:00:00"))
    assert "entered 38.0 h after the fact" in ok(result) + result.stderr


def test_a_check_in_ahead_across_the_night_is_measured_in_real_time() -> None:
    """Fall back: at 01:50+02:00 (23:50Z), a check-out at the first 02:10 (00:10Z) is 20 min ahead, within the
    30 min tolerance; the old code compared wall clocks in the same zone object."""
    now = _dt.datetime(2026, 10, 25, 1, 50, tzinfo=BERLIN)
    assert clock.elapsed(now, moment("02:10", now)) == _dt.timedelta(minutes=20)
    # and real time across the repeated hour: 02:30+02:00 -> 02:30+01:00 is one hour, not zero
    first, second = clock.readings(_dt.datetime(2026, 10, 25, 2, 30), BERLIN)
    assert clock.elapsed(first, second) == _dt.timedelta(hours=1)
    assert (first.isoformat(), second.isoformat()) == ("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00")
    assert clock.readings(_dt.datetime(2026, 3, 29, 2, 30), BERLIN) == []


def test_a_visit_time_that_does_not_exist_on_its_day_is_refused(run: Run, berlin: Path) -> None:
    """`visit add --date 2026-03-29 --time 02:30` was accepted and exported as a DTSTART that never happens."""
    env = at("2026-03-20T12:00:00")
    before = snapshot(berlin)
    fails(run("visit", "add", "--account", "acme", "--date", "2026-03-29", "--time", "02:30", env=env),
          "visit time 2026-03-29 02:30 does not exist in Europe/Berlin")
    assert snapshot(berlin) == before
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-03-28", "--time", "02:30", env=env))
    fails(run("visit", "edit", vid, "--set", "date=2026-03-29", env=env), "does not exist")
    ok(run("visit", "add", "--account", "acme", "--date", "2026-10-25", "--time", "02:30", env=env))  # repeated: exists


def test_calendar_on_both_nights_in_utc(run: Run, berlin: Path, tmp_path: Path) -> None:
    """The exported instants, read back by icalendar: 25 Oct 02:30 is its first showing (00:30Z) and a 90 min
    visit ends at 02:00Z; a hand-edited 29 Mar 02:30 is exported at 03:30 (01:30Z), said."""
    import icalendar

    env = at("2026-03-20T12:00:00")
    fall = ok(run("visit", "add", "--account", "acme", "--date", "2026-10-25", "--time", "02:30", env=env))
    spring = ok(run("visit", "add", "--account", "acme", "--date", "2026-03-28", "--time", "02:30", env=env))
    path = berlin / "records" / "visits" / f"{spring}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2026-03-28", "2026-03-29"), encoding="utf-8")
    assert "visit time 2026-03-29 02:30 does not exist" in run("check", env=env).output
    out = tmp_path / "v.ics"
    result = run("visit", "calendar", "--rep", "rex", "--out", str(out), env=env)
    assert result.exit_code == 0, result.output
    assert f"visit {spring}: 2026-03-29 02:30 does not exist" in result.stderr
    events = {str(e["uid"]).split("@")[0]: e for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    utc = _dt.timezone.utc
    fall_start = events[fall].decoded("dtstart").astimezone(utc)
    fall_end = events[fall].decoded("dtend").astimezone(utc)
    assert fall_start == _dt.datetime(2026, 10, 25, 0, 30, tzinfo=utc)
    # the onsite type lasts 90 min: 00:30Z + 90 min = 02:00Z (wall 03:00+01:00); the old code added 90 wall minutes
    # to 02:30 and ended at 04:00+01:00 = 03:00Z, a 150 min visit
    assert fall_end == _dt.datetime(2026, 10, 25, 2, 0, tzinfo=utc)
    assert events[spring].decoded("dtstart").astimezone(utc) == _dt.datetime(2026, 3, 29, 1, 30, tzinfo=utc)


def test_skipped_wall_time_in_clock_helpers() -> None:
    with pytest.raises(ValidationError, match="does not exist in Europe/Berlin"):
        clock.localize(_dt.datetime(2026, 3, 29, 2, 30), BERLIN, "--time")
    assert clock.localize(_dt.datetime(2026, 10, 25, 2, 30), BERLIN).isoformat() == "2026-10-25T02:30:00+02:00"
