"""A rep's planned visits as an iCalendar file, through the `icalendar` library (imported lazily).

UIDs are ``<visit id>@<visits.calendar_domain>`` so re-importing an updated
file updates the same events instead of duplicating them.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from crmctl.core.book import Book, Record
from crmctl.core.clock import book_tz, parse_timezone, zone_name
from crmctl.sfe import sop


def _address(account: dict[str, Any]) -> str:
    parts = [str(account.get(k)) for k in ("address", "city", "country") if account.get(k)]
    return ", ".join(parts) or str(account.get("name") or "")


def _description(rec: Record, book: Book) -> str:
    lines = []
    if rec.get("purpose"):
        lines.append(f"Purpose: {rec.get('purpose')}")
    vtype = sop.types(book.settings).get(str(rec.get("type")), {})
    lines.append(f"Type: {vtype.get('name', rec.get('type'))}")
    lines.append("SOP:")
    for n, step in enumerate(sop.steps(book.settings, str(rec.get("type"))), 1):
        lines.append(f"{n}. {step.get('name', step['id'])}{'' if step.get('required') else ' (optional)'}")
    lines.append(f"crmctl visit show {rec.id}")
    return "\n".join(lines)


def calendar_tz(settings: Any) -> _dt.tzinfo:
    """The zone for DTSTART/DTEND: ``visits.calendar_tzid``, else the book's zone (an IANA ``timezone``,
    or a whole-hour offset as Etc/GMT±h, else the fixed offset itself)."""
    name = str(settings.get("visits.calendar_tzid", "") or "")
    if name:
        return parse_timezone(name, "crm.yaml: visits.calendar_tzid")
    tz = book_tz(settings)
    if zone_name(tz):
        return tz
    offset = tz.utcoffset(None) or _dt.timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        return tz
    return parse_timezone("Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}")  # POSIX sign: Etc/GMT-8 is UTC+8


def to_ics(book: Book, visits: list[Record], rep: str) -> bytes:
    """The iCalendar bytes of ``visits`` (one VEVENT each), times in the book's timezone."""
    import icalendar

    settings = book.settings
    tz = calendar_tz(settings)
    domain = str(settings.get("visits.calendar_domain", "crmctl.local"))
    default_time = str(settings.get("visits.default_time", "10:00"))
    accounts = book.records("accounts")
    users = book.records("users")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//crmctl//visit plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Visits — {users[rep].get('name', rep) if rep in users else rep}")
    for rec in visits:
        acc = accounts[str(rec.get("account"))].data if str(rec.get("account")) in accounts else {}
        vtype = sop.types(settings).get(str(rec.get("type")), {})
        hh, mm = str(rec.get("time") or default_time).split(":")
        start = _dt.datetime.combine(_dt.date.fromisoformat(str(rec.get("date"))), _dt.time(int(hh), int(mm)), tz)
        event = icalendar.Event()
        event.add("uid", f"{rec.id}@{domain}")
        event.add("dtstamp", _dt.datetime.fromisoformat(str(rec.get("created") or start.isoformat())))
        event.add("dtstart", start)
        event.add("dtend", start + _dt.timedelta(minutes=int(vtype.get("duration_min", 60))))
        event.add("summary", f"{vtype.get('name_zh') or vtype.get('name') or rec.get('type')}: {acc.get('name', rec.get('account'))}")
        event.add("location", _address(acc))
        event.add("description", _description(rec, book))
        event.add("status", "CONFIRMED")
        for manager in rec.get("with") or []:
            user = users.get(manager)
            email = str(user.get("email")) if user else f"{manager}@{domain}"
            attendee = icalendar.vCalAddress(f"mailto:{email}")
            attendee.params["cn"] = icalendar.vText(str(user.get("name")) if user else manager)
            attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=0)
        cal.add_component(event)
    cal.add_missing_timezones()  # a VTIMEZONE for the TZID, so every calendar app reads the times alike
    return cal.to_ical()
