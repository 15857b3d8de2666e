"""Which days are working days: the book's working weekdays, the country's public holidays, its adjusted
working days (调休, a Saturday or Sunday worked to bridge a holiday), and the book's own days off.

Mainland China's holidays and adjusted working days are set by the State Council year by year; the
``chinesecalendar`` package (``import chinese_calendar``) carries them and stops at the last year it
knows. Other countries come from the ``holidays`` package. Both are imported only when a calendar
is first asked about a year (``holidays`` alone costs ~60 ms to import).

settings (crm.yaml):
  working_days: [mon, ..., fri]     weekdays worked
  calendar: CN                      whose public holidays; empty: company.country, else the locale's
                                    territory (zh_CN -> CN); ``none``: weekdays only
  days_off: [2026-12-24, ...]       the company's own extra days off
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from crmctl.core.errors import ValidationError
from crmctl.core.settings import Settings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NO_CALENDAR = ("none", "no", "off", "-")


def calendar_country(settings: Settings) -> str | None:
    """The ISO 3166 code whose holidays apply (``calendar``, else ``company.country``, else the locale's territory)."""
    for setting in (settings.get("calendar"), settings.get("company.country")):
        value = str(setting or "").strip()
        if value:
            return None if value.lower() in NO_CALENDAR else value.upper()
    locale = str(settings.get("locale", "") or "")
    territory = locale.replace("-", "_").split("_")[1] if "_" in locale.replace("-", "_") else ""
    return territory.upper() if len(territory) == 2 and territory.isalpha() else None


def _weekdays(settings: Settings) -> frozenset[int]:
    names = settings.get("working_days", WEEKDAYS[:5]) or []
    out = set()
    for name in names:
        short = str(name).strip().lower()[:3]
        if short not in WEEKDAYS:
            raise ValidationError(f"crm.yaml working_days: {name!r} is not a weekday; use mon, tue, wed, thu, fri, sat, sun")
        out.add(WEEKDAYS.index(short))
    return frozenset(out)


def _days_off(settings: Settings) -> frozenset[_dt.date]:
    out = set()
    for value in settings.get("days_off", []) or []:
        try:
            out.add(_dt.date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ValidationError(f"crm.yaml days_off: {value!r} is not a date; use YYYY-MM-DD") from None
    return frozenset(out)


@dataclass
class WorkCalendar:
    """The working days of one book. ``notes`` collects what a command should say once (a year without data)."""

    weekdays: frozenset[int]
    country: str | None
    days_off: frozenset[_dt.date] = frozenset()
    notes: list[str] = field(default_factory=list)
    _years: dict[int, tuple[frozenset[_dt.date], frozenset[_dt.date]]] = field(default_factory=dict)

    def is_working(self, day: _dt.date) -> bool:
        """A working weekday that is no holiday, or an adjusted working day; never one of the book's days off."""
        if day in self.days_off:
            return False
        off, worked = self._year(day.year)
        return day in worked or (day.weekday() in self.weekdays and day not in off)

    def days(self, first: _dt.date, last: _dt.date) -> list[_dt.date]:
        """The working days from ``first`` to ``last``, inclusive."""
        out = []
        day = first
        while day <= last:
            if self.is_working(day):
                out.append(day)
            day += _dt.timedelta(days=1)
        return out

    def _year(self, year: int) -> tuple[frozenset[_dt.date], frozenset[_dt.date]]:
        if year not in self._years:
            self._years[year] = self._load(year)
        return self._years[year]

    def _load(self, year: int) -> tuple[frozenset[_dt.date], frozenset[_dt.date]]:
        """(public holidays, adjusted working days) of ``year``; a note when the package has no data for it."""
        if not self.country:
            return frozenset(), frozenset()
        if self.country == "CN":
            import chinese_calendar

            known = sorted({d.year for d in chinese_calendar.holidays})
            if year not in known:
                self.notes.append(f"chinesecalendar has no official holidays for {year} (it knows {known[0]}..{known[-1]}): "
                                  f"{year} is planned on weekdays only; add its holidays to days_off in crm.yaml "
                                  "or upgrade chinesecalendar")
                return frozenset(), frozenset()
            return (frozenset(d for d in chinese_calendar.holidays if d.year == year),
                    frozenset(d for d in chinese_calendar.workdays if d.year == year))
        import holidays

        try:
            found = holidays.country_holidays(self.country, years=year)
        except NotImplementedError:
            raise ValidationError(f"crm.yaml calendar: {self.country!r} is not a country the holidays package knows; "
                                  "use an ISO code such as CN, DE, US, or `none`") from None
        return frozenset(found), frozenset()


def work_calendar(settings: Settings) -> WorkCalendar:
    """The book's working-day calendar (build one per command and print its ``notes`` once)."""
    return WorkCalendar(_weekdays(settings), calendar_country(settings), _days_off(settings))
