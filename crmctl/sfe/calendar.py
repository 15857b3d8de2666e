"""A user's visits as an iCalendar file, through the `icalendar` library (imported lazily).

UIDs are ``<visit id>@<visits.calendar_domain>`` so re-importing an updated
file updates the same events instead of duplicating them.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from crmctl.core.book import Book, Record
from crmctl.core.clock import book_tz, parse_timezone, zone_name
from crmctl.core.states import visit_is_cancelled
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


def export_zone(settings: Any) -> tuple[_dt.tzinfo, str | None]:
    """The zone of DTSTART/DTEND and a warning: ``visits.calendar_tzid`` or the book's IANA zone (with its
    VTIMEZONE), else UTC.

    A bare offset (``+05:30``) names no zone: its summer/winter rules are unknown and a made-up TZID is read
    three ways by calendar apps, so the times are written in UTC (``...Z``), which every app reads alike.
    """
    name = str(settings.get("visits.calendar_tzid", "") or "")
    if name:
        return parse_timezone(name, "crm.yaml: visits.calendar_tzid"), None
    tz = book_tz(settings)
    if zone_name(tz):
        return tz, None
    offset = str(settings.get("timezone", "+00:00"))
    return _dt.timezone.utc, (f"timezone {offset} is an offset, not a zone: the calendar's times are written in UTC; "
                              "set timezone (or visits.calendar_tzid) to an IANA name such as Asia/Kolkata")


def sequence(rec: Record) -> int:
    """The event's SEQUENCE: one per reschedule, one more when cancelled (RFC 5545 3.8.7.4)."""
    return len(rec.get("rescheduled") or []) + visit_is_cancelled(rec.data)


def last_modified(rec: Record) -> _dt.datetime | None:
    """The latest of the visit's creation, reschedules and cancellation, in UTC."""
    stamps = [str(rec.get("created") or ""), *(str(e.get("at") or "") for e in rec.get("rescheduled") or []),
              str((rec.get("cancelled") or {}).get("at") or "")]
    times = [_dt.datetime.fromisoformat(s) for s in stamps if s]
    return max(times).astimezone(_dt.timezone.utc) if times else None


def to_ics(book: Book, visits: list[Record], user: str, exported: _dt.datetime) -> tuple[bytes, list[str]]:
    """The iCalendar bytes of ``visits`` (one VEVENT each; a cancelled one as STATUS:CANCELLED) and warnings.

    A visit's planned day and time are wall-clock times in the book's zone; DTSTAMP is ``exported``.
    """
    import icalendar

    settings = book.settings
    zone, warning = export_zone(settings)
    local = book_tz(settings)
    domain = str(settings.get("visits.calendar_domain", "crmctl.local"))
    default_time = str(settings.get("visits.default_time", "10:00"))
    accounts = book.records("accounts")
    users = book.records("users")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//crmctl//visit plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Visits — {users[user].get('name', user) if user in users else user}")
    stamp = exported.astimezone(_dt.timezone.utc)
    for rec in visits:
        acc = accounts[str(rec.get("account"))].data if str(rec.get("account")) in accounts else {}
        vtype = sop.types(settings).get(str(rec.get("type")), {})
        hh, mm = str(rec.get("time") or default_time).split(":")
        wall = _dt.datetime.combine(_dt.date.fromisoformat(str(rec.get("date"))), _dt.time(int(hh), int(mm)))
        start = wall.replace(tzinfo=zone) if warning is None else wall.replace(tzinfo=local).astimezone(zone)
        event = icalendar.Event()
        event.add("uid", f"{rec.id}@{domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + _dt.timedelta(minutes=int(vtype.get("duration_min", 60))))
        event.add("sequence", sequence(rec))
        modified = last_modified(rec)
        if modified:
            event.add("last-modified", modified)
        event.add("summary", f"{vtype.get('name_zh') or vtype.get('name') or rec.get('type')}: {acc.get('name', rec.get('account'))}")
        event.add("location", _address(acc))
        event.add("description", _description(rec, book))
        event.add("status", "CANCELLED" if visit_is_cancelled(rec.data) else "CONFIRMED")
        rep = users.get(str(rec.get("rep")))
        event.add("organizer", _address_of(rep, str(rec.get("rep")), domain), encode=0)
        for manager in rec.get("with") or []:
            attendee = _address_of(users.get(manager), manager, domain)
            attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=0)
        cal.add_component(event)
    if warning is None:
        cal.add_missing_timezones()  # a VTIMEZONE for the TZID, so every calendar app reads the times alike
    return cal.to_ical(), [warning] if warning else []


def _address_of(user: Record | None, uid: str, domain: str) -> Any:
    import icalendar

    email = str(user.get("email")) if user and user.get("email") else f"{uid}@{domain}"
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["cn"] = icalendar.vText(str(user.get("name")) if user else uid)
    return address
