"""Dates as L2C uses them: strict ISO days, intervals like ``1m``, and report periods.

Dates typed on the command line must be ``YYYY-MM-DD`` exactly (Python's
parser also takes ``20261127``, which people mistype); periods are
``2026``, ``2026-H1``, ``2026-Q2`` or ``2026-06``.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import re

from crmctl.core.errors import ValidationError

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EVERY = re.compile(r"^(\d+)\s*([dwmqy])$")
_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|H([12])|(\d{2})))?$")


def parse_day(text: str, what: str = "date") -> _dt.date:
    """A ``YYYY-MM-DD`` date, or one clear error naming ``what``."""
    value = str(text).strip()
    try:
        if not _DAY.match(value):
            raise ValueError
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what}: {text!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-11-27)") from None


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` plus whole months, clamped to the month's end (Jan 31 + 1m = Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def step(day: _dt.date, every: str, times: int) -> _dt.date:
    """``day`` moved ``times`` intervals of ``every`` (``10d``, ``2w``, ``1m``, ``1q``, ``1y``)."""
    m = _EVERY.match(str(every).strip().lower())
    if not m or int(m.group(1)) == 0:
        raise ValidationError(f"--every {every!r}: write a number and d, w, m, q or y (e.g. 1m, 2w, 30d)")
    n, unit = int(m.group(1)) * times, m.group(2)
    if unit == "d":
        return day + _dt.timedelta(days=n)
    if unit == "w":
        return day + _dt.timedelta(weeks=n)
    return add_months(day, n * {"m": 1, "q": 3, "y": 12}[unit])


def parse_period(text: str) -> tuple[_dt.date, _dt.date, str]:
    """First and last day of a period and its canonical label."""
    m = _PERIOD.match(str(text).strip().upper())
    if not m:
        raise ValidationError(f"--period {text!r}: write 2026, 2026-H1, 2026-Q2 or 2026-06")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        first, months, label = _dt.date(year, 3 * q - 2, 1), 3, f"{year}-Q{q}"
    elif m.group(3):
        h = int(m.group(3))
        first, months, label = _dt.date(year, 6 * h - 5, 1), 6, f"{year}-H{h}"
    elif m.group(4):
        month = int(m.group(4))
        if not 1 <= month <= 12:
            raise ValidationError(f"--period {text!r}: no month {month}")
        first, months, label = _dt.date(year, month, 1), 1, f"{year}-{month:02d}"
    else:
        first, months, label = _dt.date(year, 1, 1), 12, str(year)
    return first, add_months(first, months) - _dt.timedelta(days=1), label


def quarter_of(day: _dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def day_of(stamp: object) -> _dt.date | None:
    """The day of an ISO date or timestamp in a record (None when empty)."""
    return _dt.date.fromisoformat(str(stamp)[:10]) if stamp else None
