"""Dates for visit plans and reports: ISO weeks, windows, periods, working days, clock times.

Every parser raises one :class:`ValidationError` line that names the option and
the expected form, so the CLI can refuse bad input before anything is written.
"""
from __future__ import annotations

import datetime as _dt
import re

from crmctl.core.clock import now
from crmctl.core.errors import ValidationError
from crmctl.core.settings import Settings
from crmctl.sfe.daysoff import work_calendar

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

Window = tuple[_dt.date, _dt.date]


def parse_date(text: str, what: str = "date") -> _dt.date:
    try:
        return _dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a date; use YYYY-MM-DD") from None


def parse_week(text: str) -> Window:
    """``2026-W49`` -> (Monday, Sunday) of that ISO week."""
    m = _WEEK.match(str(text).strip())
    if not m:
        raise ValidationError(f"--week {text!r} is not an ISO week; use YYYY-Www, e.g. 2026-W49")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        monday = _dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValidationError(f"--week {text!r}: {year} has no week {week}") from None
    return monday, monday + _dt.timedelta(days=6)


def week_of(day: _dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def window(week: str | None, start: str | None, end: str | None, today: _dt.date, default_days: int = 7) -> Window:
    """The window of ``--week`` or ``--from/--to`` (default: the week of today)."""
    if week and (start or end):
        raise ValidationError("give either --week or --from/--to, not both")
    if week:
        return parse_week(week)
    if start or end:
        first = parse_date(start, "--from") if start else today
        last = parse_date(end, "--to") if end else first + _dt.timedelta(days=default_days - 1)
        if last < first:
            raise ValidationError(f"--to {last} is before --from {first}")
        return first, last
    monday = today - _dt.timedelta(days=today.weekday())
    return monday, monday + _dt.timedelta(days=6)


def parse_period(text: str) -> Window:
    """``2026-Q4``, ``2026-11``, ``2026``, ``2026-W49`` or ``D..D`` -> (first day, last day)."""
    text = str(text).strip()
    if m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        first = _dt.date(year, 3 * q - 2, 1)
        return first, _month_end(_dt.date(year, 3 * q, 1))
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValidationError(f"period {text!r}: month {month} does not exist")
        first = _dt.date(year, month, 1)
        return first, _month_end(first)
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return _dt.date(year, 1, 1), _dt.date(year, 12, 31)
    if _WEEK.match(text):
        return parse_week(text)
    if ".." in text:
        a, b = text.split("..", 1)
        first, last = parse_date(a, "period start"), parse_date(b, "period end")
        if last < first:
            raise ValidationError(f"period {text!r} ends before it starts")
        return first, last
    raise ValidationError(f"period {text!r} is not understood; use 2026-Q4, 2026-11, 2026, 2026-W49 or 2026-09-01..2026-11-30")


def quarter_of(day: _dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def check_period(text: str) -> str:
    """A quota period key (``2026-Q4``, ``2026-11`` or ``2026``), normalised."""
    text = str(text).strip().upper()
    if not (_QUARTER.match(text) or _MONTH.match(text) or _YEAR.match(text)):
        raise ValidationError(f"--period {text!r}: use a quarter (2026-Q4), a month (2026-11) or a year (2026)")
    parse_period(text)
    return text


def _month_end(first: _dt.date) -> _dt.date:
    nxt = _dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - _dt.timedelta(days=1)


def working_days(settings: Settings, first: _dt.date, last: _dt.date) -> list[_dt.date]:
    """The working days from ``first`` to ``last``, inclusive: weekdays, holidays and days off (see :mod:`daysoff`)."""
    return work_calendar(settings).days(first, last)


def now_local(settings: Settings) -> _dt.datetime:
    """Now (``CRMCTL_NOW`` or the clock) in the book's zone, to the second (see :mod:`crmctl.core.clock`)."""
    return now(settings)


def parse_clock(text: str, what: str = "--time") -> str:
    """``9:05`` -> ``09:05``."""
    m = _CLOCK.match(str(text).strip())
    if not m:
        raise ValidationError(f"{what} {text!r} is not a time; use HH:MM (24-hour)")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def moment(text: str | None, now: _dt.datetime, after: _dt.datetime | None = None) -> _dt.datetime:
    """When a check-in or check-out happened, in ``now``'s zone.

    ``None``: now. ``HH:MM``: today at that time -- or, given ``after`` (the check-in of a check-out), the
    first such time after it, so a check-out at 00:30 belongs to the day after a 23:00 check-in.
    ``YYYY-MM-DDTHH:MM[:SS][+hh:mm]``: that moment (the book's zone when no offset is given).
    """
    tz = now.tzinfo
    if not text:
        return now
    if _CLOCK.match(text.strip()):
        clock = _dt.time(*map(int, parse_clock(text).split(":")))
        if after is None:
            return _dt.datetime.combine(now.date(), clock, tz)
        local = after.astimezone(tz)
        value = _dt.datetime.combine(local.date(), clock, tz)
        return value if value >= local else _dt.datetime.combine(local.date() + _dt.timedelta(days=1), clock, tz)
    try:
        value = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"--time {text!r}: use HH:MM (today) or YYYY-MM-DDTHH:MM (another day)") from None
    if len(text.strip()) <= 10:
        raise ValidationError(f"--time {text!r}: give the time too, YYYY-MM-DDTHH:MM")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.replace(microsecond=0)


def minutes_between(start: str, end: str) -> int:
    delta = _dt.datetime.fromisoformat(end) - _dt.datetime.fromisoformat(start)
    return int(delta.total_seconds() // 60)
