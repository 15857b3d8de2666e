"""The book's clock: IANA zones with that day's offset, fixed offsets, and one-line refusals of bad clocks and limits."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core import clock
from crmctl.core.errors import CrmError
from crmctl.core.settings import Settings
from tests.conftest import Run


def set_setting(book: Path, old: str, new: str) -> None:
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def created(book: Path, rid: str) -> str:
    return str(yaml.safe_load((book / "records" / "accounts" / f"{rid}.yaml").read_text(encoding="utf-8"))["created"])


@pytest.mark.parametrize(("now", "stamp"), [
    ("2026-07-01T10:00:00", "2026-07-01T10:00:00+02:00"),        # a wall time in Berlin, summer time (CEST)
    ("2026-01-15T10:00:00", "2026-01-15T10:00:00+01:00"),        # winter time (CET)
    ("2026-07-01T08:00:00+00:00", "2026-07-01T10:00:00+02:00"),  # an instant is shown in the book's zone
    ("2026-10-25T02:30:00", "2026-10-25T02:30:00+02:00"),        # the hour shown twice in autumn: its first showing
])
def test_an_iana_timezone_gives_timestamps_that_days_offset(run: Run, book: Path, now: str, stamp: str) -> None:
    # the old code accepted `timezone: Europe/Berlin` and wrote every timestamp in UTC (+00:00)
    set_setting(book, 'timezone: "+08:00"', "timezone: Europe/Berlin")
    result = run("account", "add", "--id", "kmw", "--name", "KMW GmbH", env={"CRMCTL_NOW": now})
    assert result.exit_code == 0, result.output
    assert created(book, "kmw") == stamp


def test_crmctl_now_in_the_skipped_hour_is_refused(run: Run, book: Path) -> None:
    set_setting(book, 'timezone: "+08:00"', "timezone: Europe/Berlin")
    result = run("account", "add", "--id", "kmw", "--name", "KMW GmbH", env={"CRMCTL_NOW": "2026-03-29T02:30:00"})
    assert result.exit_code == 1 and "CRMCTL_NOW 2026-03-29 02:30 does not exist in Europe/Berlin" in result.stderr


def test_a_fixed_offset_stays_allowed(run: Run, book: Path) -> None:
    set_setting(book, 'timezone: "+08:00"', 'timezone: "+05:30"')
    assert run("account", "add", "--id", "tata", "--name", "Tata", env={"CRMCTL_NOW": "2026-07-01T10:00:00"}).exit_code == 0
    assert created(book, "tata") == "2026-07-01T10:00:00+05:30"


def test_checkin_time_is_a_wall_time_with_that_days_offset(run: Run, book: Path) -> None:
    set_setting(book, 'timezone: "+08:00"', "timezone: Europe/Berlin")
    env = {"CRMCTL_NOW": "2026-12-02T08:00:00"}
    added = run("--as", "rex", "visit", "add", "--account", "acme", "--date", "2026-12-02", env=env)
    assert added.exit_code == 0, added.output
    (visit,) = (book / "records" / "visits").glob("*.yaml")
    # --time HH:MM is today at that time; checked in at 09:30, entered at 09:40 (within the entry tolerance)
    result = run("--as", "rex", "visit", "checkin", visit.stem, "--time", "09:30", env={"CRMCTL_NOW": "2026-12-02T09:40:00"})
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(visit.read_text(encoding="utf-8"))
    assert data["checkin"]["at"] == "2026-12-02T09:30:00+01:00"


@pytest.mark.parametrize(("value", "message"), [
    ("Europe/Berlinn", "error: crm.yaml:17: timezone 'Europe/Berlinn' is not a known time zone; use an IANA name like "
                       "Europe/Berlin or Asia/Shanghai, or a fixed offset like +08:00"),
    ('"+25:00"', "error: crm.yaml:17: timezone '+25:00': an offset is at most ±14:00, like +08:00 or -05:30"),
])
def test_an_unknown_zone_stops_every_command_with_one_line(run: Run, book: Path, value: str, message: str) -> None:
    set_setting(book, 'timezone: "+08:00"', f"timezone: {value}")
    line = next(n for n, text in enumerate((book / "crm.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("timezone:"))
    message = message.replace("crm.yaml:17:", f"crm.yaml:{line}:")
    for args in (("check",), ("account", "list")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.strip() == message


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "now"])
def test_a_bad_crmctl_now_is_one_line_naming_it(run: Run, value: str) -> None:
    result = run("account", "list", env={"CRMCTL_NOW": value})
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: CRMCTL_NOW={value!r} is not an ISO 8601 date and time; use e.g. "
                                     "CRMCTL_NOW=2026-11-27T10:00:00+08:00, or unset it to use the real clock")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "0001-01-01", "9999-12-31T23:59:59-12:00"])
def test_a_crmctl_now_beyond_the_calendar_is_one_line(run: Run, value: str) -> None:
    # before: 0001-01-01T00:00:00 in a +08:00 book was an internal error (OverflowError in localize)
    result = run("account", "list", env={"CRMCTL_NOW": value})
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: CRMCTL_NOW={value!r} is out of the range of dates crmctl can handle; "
                                     "use a date between 0002 and 9998, or unset it to use the real clock")


@pytest.mark.parametrize(("value", "why"), [("soon", "is not a number"), ("-5", "is out of range"),
                                            ("1e30", "is out of range"), ("nan", "is not a finite number")])
def test_a_bad_lock_timeout_variable_is_one_line_naming_it(run: Run, value: str, why: str) -> None:
    result = run("account", "add", "--id", "x", "--name", "X", env={"CRMCTL_LOCK_TIMEOUT": value})
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: CRMCTL_LOCK_TIMEOUT: {value!r} {why}; "
                                     "give a number of seconds from 0 to 3600")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("lock_timeout_seconds: 10", "lock_timeout_seconds: -5",
     "limits.lock_timeout_seconds: '-5' is out of range; give a number of seconds from 0 to 3600"),
    ("by_tier: {A: 7, B: 14, C: 30}", "by_tier: {A: 7, B: 1000000000, C: 30}",
     "visits.cadence.by_tier.B: '1000000000' is out of range; give a whole number of days from 0 to 3650"),
    ("recycle_after_days: 30", "recycle_after_days: -1",
     "lead.pool.recycle_after_days: '-1' is out of range; give a whole number of days from 0 to 36500"),
    ("validity_days: 30", "validity_days: soon",
     "quotes.validity_days: 'soon' is not a number; give a whole number of days from 1 to 3650"),
    ("follow_up_days: 7", "follow_up_days: 2.5",
     "visits.follow_up_days: '2.5' is not a whole number; give a whole number of days from 0 to 3650"),
])
def test_an_absurd_limit_in_crm_yaml_is_one_line_naming_the_key(run: Run, book: Path, old: str, new: str, message: str) -> None:
    set_setting(book, old, new)
    result = run("account", "list")  # every command stops here, with the line
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: crm.yaml:") and line.endswith(message), line
    assert "internal error" not in result.output
    result = run("check")  # check reports it (once) and checks the rest of the book
    assert result.exit_code == 1
    assert [p.split(": ", 1)[1] for p in result.stdout.splitlines()] == [message]


def test_the_demo_book_settings_are_within_limits(demo_copy: Path) -> None:
    from crmctl.core import limits

    loaded = Settings.load(str(demo_copy / "crm.yaml"))
    limits.check(loaded.data, loaded.path, loaded.lines)
    assert clock.book_tz(loaded).utcoffset(None) == _dt.timedelta(hours=8)


@given(st.datetimes(min_value=_dt.datetime(1971, 1, 1), max_value=_dt.datetime(2099, 12, 31)),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe", "+05:30"]))
@settings(max_examples=200, deadline=None)
def test_a_wall_time_is_a_real_instant_of_that_zone(moment: _dt.datetime, zone: str) -> None:
    """Every wall time becomes one instant whose own offset is that of the zone at that instant."""
    tz = clock.parse_timezone(zone)
    try:
        got = clock.localize(moment, tz)
    except CrmError as exc:  # a wall time the clocks skip is refused, never moved
        assert "does not exist" in str(exc) and clock.readings(moment, tz) == []
        return
    assert got.utcoffset() == got.astimezone(_dt.timezone.utc).astimezone(tz).utcoffset()
    assert got.replace(tzinfo=None) == moment.replace(microsecond=0)  # the wall time itself, never moved
    assert got == clock.readings(moment, tz)[0]  # a repeated one: its first showing
    assert _dt.datetime.fromisoformat(got.isoformat()) == got


def test_unknown_zone_in_parse_timezone() -> None:
    with pytest.raises(CrmError, match="not a known time zone"):
        clock.parse_timezone("Mars/Olympus_Mons")
