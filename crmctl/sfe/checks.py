"""``crmctl check`` for visits: SOP gating, coaching permissions, check-in/out order and coordinates."""
from __future__ import annotations

import datetime as _dt
from typing import Callable, Iterable, Iterator

from crmctl.core.book import Book
from crmctl.core.clock import elapsed
from crmctl.core.errors import WARNING, CrmError, Problem
from crmctl.core.states import visit_is_completed
from crmctl.core.text import a_an
from crmctl.sfe import sop
from crmctl.sfe.geo import range_problem
from crmctl.sfe.team import MANAGER_ROLES
from crmctl.sfe.visits import planned_at


def check_completed_steps(book: Book) -> Iterator[Problem]:
    """A completed visit has every required SOP step done."""
    for rec in book.all("visits"):
        if visit_is_completed(rec):
            missing = sop.open_required(rec.data, book.settings)
            if missing:
                yield Problem(rec.path, rec.line("status"), f"completed visit with required SOP steps open: {', '.join(missing)}", "sfe-sop")


def check_steps_in_sop(book: Book) -> Iterator[Problem]:
    """Every ticked step belongs to the visit type's SOP."""
    for rec in book.all("visits"):
        known = sop.step_ids(book.settings, str(rec.get("type")))
        for entry in rec.get("steps") or []:
            if entry.get("id") not in known:
                yield Problem(rec.path, rec.line("steps"), f"step {entry.get('id')!r} is not in the {rec.get('type')} SOP "
                              f"({', '.join(known) or 'no steps'})", "sfe-sop")


def check_coaching(book: Book) -> Iterator[Problem]:
    """Coaching comes from a manager who was on the visit, with scores 1..5 for SOP steps."""
    for rec in book.all("visits"):
        on = rec.get("with") or []
        known = sop.step_ids(book.settings, str(rec.get("type")))
        for entry in rec.get("coaching") or []:
            if entry.get("by") not in on:
                yield Problem(rec.path, rec.line("coaching"), f"coaching by {entry.get('by')!r}, who was not on the visit "
                              f"(with: {', '.join(on) or 'nobody'})", "sfe-coaching")
            for step, score in (entry.get("scores") or {}).items():
                if step not in known or score not in (1, 2, 3, 4, 5):
                    yield Problem(rec.path, rec.line("coaching"), f"coaching score {step}={score}: the step must be in the SOP "
                                  "and the score 1..5", "sfe-coaching")


def check_companions(book: Book) -> Iterator[Problem]:
    """An accompanied visit (陪访) is accompanied by a manager or director, never by its own rep."""
    users = book.records("users")
    for rec in book.all("visits"):
        for uid in rec.get("with") or []:
            role = users[uid].get("role") if uid in users else None
            if uid == rec.get("rep"):
                yield Problem(rec.path, rec.line("with"), f"with: {uid} is the visit's own rep", "sfe-with")
            elif uid in users and role not in MANAGER_ROLES:
                yield Problem(rec.path, rec.line("with"), f"with: {uid} is {a_an(role)}; an accompanied visit needs a manager "
                              "or director (crmctl visit edit ID --set with=MANAGER)", "sfe-with")


def check_times(book: Book) -> Iterator[Problem]:
    """A check-out is never before its check-in, and never without one."""
    for rec in book.all("visits"):
        start, end = (rec.get("checkin") or {}).get("at"), (rec.get("checkout") or {}).get("at")
        if end and not start:
            yield Problem(rec.path, rec.line("checkout"), "check-out without a check-in", "sfe-time")
        elif start and end:
            try:
                if elapsed(_dt.datetime.fromisoformat(str(start)), _dt.datetime.fromisoformat(str(end))) < _dt.timedelta():
                    yield Problem(rec.path, rec.line("checkout"), f"check-out {end} is before the check-in {start}", "sfe-time")
            except ValueError:
                yield Problem(rec.path, rec.line("checkin"), f"check-in/out times {start!r}/{end!r} are not ISO timestamps", "sfe-time")


def check_planned_times(book: Book) -> Iterator[Problem]:
    """A planned visit's time exists on its day (not in the hour a spring-forward night skips)."""
    for rec in book.all("visits"):
        if rec.get("time") and rec.get("date"):
            try:
                planned_at(str(rec.get("date")), str(rec.get("time")), book.settings)
            except CrmError as exc:
                yield Problem(rec.path, rec.line("time"), str(exc), "sfe-time")


def check_coordinates(book: Book) -> Iterator[Problem]:
    """Check-in and check-out coordinates are within -90..90 / -180..180."""
    for rec in book.all("visits"):
        for key in ("checkin", "checkout"):
            place = rec.get(key) or {}
            if "lat" in place or "lon" in place:
                problem = range_problem(place.get("lat"), place.get("lon"))
                if problem:
                    yield Problem(rec.path, rec.line(key), f"{key}: {problem}", "sfe-coords")


def check_chinese_names(book: Book) -> Iterator[Problem]:
    """A Chinese book's stages, visit types and SOP steps have a ``name_zh`` for its report PDFs (a warning)."""
    from crmctl.io.reportdoc import unnamed_in_chinese

    lines = book.settings.lines
    for key, where, name in unnamed_in_chinese(book):
        yield Problem(book.settings.path, lines.get(key) or lines.get("locale") or 1,
                      f"{where}: {name!r} has no name_zh; the book's Chinese report PDFs would print it in English",
                      WARNING)


CHECKS: tuple[Callable[[Book], Iterable[Problem]], ...] = (check_completed_steps, check_steps_in_sop, check_coaching, check_companions, check_times,
                                                               check_planned_times,
                                                               check_coordinates, check_chinese_names)
