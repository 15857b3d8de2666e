"""The book's clock: what time it is, in which zone, and the wall time of a day.

crm.yaml's ``timezone:`` is either an IANA zone name (``Europe/Berlin``,
``Asia/Shanghai``), read through :mod:`zoneinfo` with the ``tzdata`` package as
the zone database, so a timestamp carries the offset in force on its own day
(``+02:00`` in a Berlin July, ``+01:00`` in a Berlin January); or a fixed
offset (``+08:00``), the same all year. Everything that needs "now", "today"
or a local time goes through this module; nothing else reads the clock or
parses ``timezone:``.

On daylight-saving nights: differences and comparisons are made in UTC
(:func:`elapsed`, :func:`instant`) -- Python compares two times of the same
zone object by their wall clocks; a wall time shown twice is its first
showing; one the clocks skip is refused (:func:`localize`).

``CRMCTL_NOW`` fixes the clock for demos and tests: an ISO 8601 date and time
(``2026-07-01T10:00:00+02:00``; without an offset it is a wall time in the
book's zone) or a date (midnight in the book's zone). Anything else is refused
with one line naming the variable.
"""
from __future__ import annotations

import datetime as _dt
import functools
import os
import re
from dataclasses import dataclass
from typing import Any

from crmctl.core.errors import CrmError, ValidationError

NOW_VARIABLE = "CRMCTL_NOW"
UTC = _dt.timezone.utc
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")
_MAX_OFFSET = _dt.timedelta(hours=14)  # the widest offset in use (Kiribati, +14:00)


@functools.lru_cache(maxsize=32)
def parse_timezone(text: str, where: str = "timezone") -> _dt.tzinfo:
    """A zone from an IANA name (``Europe/Berlin``), an offset (``+08:00``, ``-0530``) or ``UTC``/``Z``.

    Raises :class:`CrmError` naming ``where`` for anything else (an unknown or
    misspelt zone, an offset beyond ±14:00).
    """
    value = str(text).strip()
    if value in ("Z", "UTC", "+00:00", "-00:00"):
        return UTC
    m = _OFFSET.match(value)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        delta = _dt.timedelta(hours=hours, minutes=minutes)
        if minutes >= 60 or delta > _MAX_OFFSET:
            raise CrmError(f"{where} {value!r}: an offset is at most ±14:00, like +08:00 or -05:30")
        return _dt.timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CrmError(f"{where} {value!r} is not a known time zone; use an IANA name like Europe/Berlin or "
                       "Asia/Shanghai, or a fixed offset like +08:00") from None


def book_tz(settings: Any = None) -> _dt.tzinfo:
    """The book's zone (crm.yaml ``timezone``; UTC without settings). ``settings`` is a Settings."""
    if settings is None:
        return UTC
    line = (getattr(settings, "lines", None) or {}).get("timezone")
    where = f"{getattr(settings, 'path', 'crm.yaml')}{f':{line}' if line else ''}: timezone"
    return parse_timezone(str(settings.get("timezone", "+00:00")), where)


def zone_name(tz: _dt.tzinfo) -> str | None:
    """The IANA name of a zone (``Europe/Berlin``), or None for a fixed offset."""
    key = getattr(tz, "key", None)
    return str(key) if key else None


def readings(wall: _dt.datetime, tz: _dt.tzinfo) -> list[_dt.datetime]:
    """The instants a wall time (naive) names in ``tz``, earliest first, to the second.

    One in the ordinary case; none for a wall time the clocks skip (02:30 on the
    spring-forward night in Berlin); two for one they show twice (02:30 on the
    fall-back night: ``+02:00``, then ``+01:00``).
    """
    wall = wall.replace(tzinfo=None, microsecond=0)
    found = []
    for fold in (0, 1):
        aware = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC).astimezone(tz)
        if aware.replace(tzinfo=None) == wall and all(instant(aware) != instant(f) for f in found):
            found.append(aware)
    return sorted(found, key=instant)


def instant(moment: _dt.datetime) -> _dt.datetime:
    """An aware time as a UTC instant: what to compare and subtract.

    Python subtracts and compares two times of the *same* zone object by their
    wall clocks, ignoring the offset change of a daylight-saving night; in UTC
    every difference is real elapsed time.
    """
    return moment.astimezone(UTC)


def elapsed(start: _dt.datetime, end: _dt.datetime) -> _dt.timedelta:
    """The real time from ``start`` to ``end`` (aware times; negative when ``end`` is earlier)."""
    return instant(end) - instant(start)


def skipped(wall: _dt.datetime, tz: _dt.tzinfo, what: str) -> ValidationError:
    """The one-line refusal of a wall time the clocks skip."""
    before = wall.replace(tzinfo=tz, fold=0).utcoffset()
    after = wall.replace(tzinfo=tz, fold=1).utcoffset()
    zone = zone_name(tz) or "the book's zone"

    shown = wall.strftime("%Y-%m-%d %H:%M")
    gap = (after or _dt.timedelta()) - (before or _dt.timedelta())
    return ValidationError(f"{what} {shown} does not exist in {zone}: the clocks go forward that night "
                           f"({_offset(before)} to {_offset(after)}); give a time outside the skipped "
                           f"{int(gap.total_seconds() // 60)} min, e.g. {wall + gap:%H:%M}")


def _offset(delta: _dt.timedelta | None) -> str:
    minutes = int((delta or _dt.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def localize(moment: _dt.datetime, tz: _dt.tzinfo, what: str = "time") -> _dt.datetime:
    """``moment`` in ``tz``, to the second: an aware time is converted, a naive one is a wall time there.

    A wall time is resolved by one rule everywhere (see :func:`readings`):
    shown twice (the fall-back night), it is the *first* time the clock shows it
    (the summer-time offset, ``02:30+02:00`` in Berlin) -- write the offset
    (``2026-10-25T02:30+01:00``) for the second; skipped (the spring-forward
    night), it is refused with a :class:`ValidationError` naming ``what``:
    moving it silently would store a time nobody saw on a clock.
    """
    if moment.tzinfo is not None:
        return moment.astimezone(tz).replace(microsecond=0)
    found = readings(moment, tz)
    if not found:
        raise skipped(moment, tz, what)
    return found[0]


def fixed_now(text: str, tz: _dt.tzinfo) -> _dt.datetime:
    """The instant ``CRMCTL_NOW`` names, in ``tz``."""
    try:
        parsed = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CrmError(f"{NOW_VARIABLE}={text!r} is not an ISO 8601 date and time; use e.g. "
                       f"{NOW_VARIABLE}=2026-11-27T10:00:00+08:00, or unset it to use the real clock") from None
    try:
        return localize(parsed, tz, NOW_VARIABLE)
    except (OverflowError, ValueError):  # 0001-01-01T00:00 east of UTC is before the first representable instant
        raise CrmError(f"{NOW_VARIABLE}={text!r} is out of the range of dates crmctl can handle; use a date "
                       f"between 0002 and 9998, or unset it to use the real clock") from None


def in_book_zone(iso: str, settings: Any = None) -> str:
    """An ISO 8601 time with an offset (as git's ``%cI``/``%aI`` give it), re-expressed in the book's zone."""
    return _dt.datetime.fromisoformat(iso).astimezone(book_tz(settings)).isoformat()


def now(settings: Any = None) -> _dt.datetime:
    """The current time in the book's zone (aware, whole seconds); ``CRMCTL_NOW`` if set.

    The settings of a book read as of a past day (``--as-of``) carry that
    day's last second as ``pinned_now``: every "today" — a quote's expiry, a
    missed visit, an overdue installment — is then judged on that day.
    """
    pinned = getattr(settings, "pinned_now", None)
    if pinned is not None:
        return pinned  # type: ignore[no-any-return]
    return wall_now(settings)


def wall_now(settings: Any = None) -> _dt.datetime:
    """The time on the wall clock (``CRMCTL_NOW`` if set), even for a book read as of a past day: when a
    document was generated, not the day it shows."""
    tz = book_tz(settings)
    fixed = os.environ.get(NOW_VARIABLE)
    if fixed:
        return fixed_now(fixed, tz)
    return _dt.datetime.now(tz).replace(microsecond=0)


def now_iso(settings: Any = None) -> str:
    """The current time as stored on records: ISO 8601 with that day's offset (``2026-07-01T10:00:00+02:00``)."""
    return now(settings).isoformat()


def today(settings: Any = None) -> _dt.date:
    """Today's date in the book's zone."""
    return now(settings).date()


def wall_time(day: _dt.date, clock: _dt.time, settings: Any, what: str = "time") -> _dt.datetime:
    """``clock`` on ``day`` in the book's zone, with the offset of that instant (see :func:`localize`:
    the first of a repeated time; a skipped one is refused naming ``what``)."""
    return localize(_dt.datetime.combine(day, clock), book_tz(settings), what)


@dataclass(frozen=True)
class Clock:
    """One reading of the clock, taken by the command line and passed into the domain.

    Domain code (CPQ in particular) never reads the time itself: a command reads
    the clock once (:meth:`read`) and hands the same ``Clock`` to every function,
    so the timestamp written into a history and the day that decided "expired"
    are the same instant, and tests can pass any moment they like.

    ``at``: an ISO 8601 timestamp with the book's offset on that day (``2026-03-02T09:00:00+08:00``).
    """

    at: str

    @property
    def today(self) -> _dt.date:
        """The day ``at`` falls on in the book's zone."""
        return _dt.date.fromisoformat(self.at[:10])

    @classmethod
    def read(cls, settings: Any = None) -> Clock:
        """The clock now (``CRMCTL_NOW`` when set), in the book's zone."""
        return cls(now_iso(settings))
