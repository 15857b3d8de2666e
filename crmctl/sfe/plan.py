"""Visit plans by cadence: which accounts are due in a window, and on which working day.

An account with cadence N days is due every N days after its last completed
visit (or from the window's start when there is none). Each due date in the
window asks for one visit; visits already planned or done in the window count
against them, so running the plan again adds nothing. New visits go to the
rep's least-loaded working day between the due date and the next one, which
spreads each rep's week evenly. The book is indexed once (visits by account,
load by rep and day): no nested scans.
"""
from __future__ import annotations

import datetime as _dt
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from crmctl.core.book import Book
from crmctl.core.errors import ValidationError
from crmctl.core.states import VISIT_COUNTED as COUNTED, VISITED
from crmctl.sfe.cadence import cadence_rule
from crmctl.sfe.agenda import light_visits
from crmctl.sfe.when import Window, working_days

@dataclass(frozen=True)
class Planned:
    """One visit the plan would create."""

    date: str
    rep: str
    account: str
    due: str
    cadence: int


def index_visits(visits: Iterable[Any]) -> dict[str, list[tuple[str, str]]]:
    """account -> [(date, status)], built once."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rec in visits:
        out[str(rec.get("account"))].append((str(rec.get("date")), str(rec.get("status"))))
    return out


def due_dates(cadence: int, last_visit: _dt.date | None, first: _dt.date, last: _dt.date) -> list[_dt.date]:
    """The dates in [first, last] on which the cadence asks for a visit."""
    due = max(first, last_visit + _dt.timedelta(days=cadence)) if last_visit else first
    out = []
    while due <= last:
        out.append(due)
        due += _dt.timedelta(days=cadence)
    return out


def plan(book: Book, win: Window, rep: str | None = None, today: _dt.date | None = None) -> list[Planned]:
    """The visits the cadence asks for in ``win`` that are not planned yet (never on a day before ``today``)."""
    settings = book.settings
    first, last = win
    days = [d for d in working_days(settings, first, last) if today is None or d >= today]
    if not days:
        raise ValidationError(f"no working days from {max(first, today or first)} to {last} to plan on "
                              "(working_days in crm.yaml; past days are not planned)")
    start_s, end_s = first.isoformat(), last.isoformat()
    seen_visits = light_visits(book)  # dates, statuses and reps are all a plan reads of past visits
    by_account = index_visits(seen_visits)
    load: dict[str, dict[_dt.date, int]] = defaultdict(lambda: dict.fromkeys(days, 0))
    for rec in seen_visits:
        d = str(rec.get("date"))
        if start_s <= d <= end_s and rec.get("status") in COUNTED:
            day = _dt.date.fromisoformat(d)
            per_rep = load[str(rec.get("rep"))]
            if day in per_rep:
                per_rep[day] += 1
    users = book.records("users")
    rule = cadence_rule(settings)
    out: list[Planned] = []
    # the most frequent cadences first, so they get the first pick of each rep's days
    for acc in sorted(book.live("accounts").values(), key=lambda a: (rule(a.data) or 10**6, a.id)):
        owner = acc.get("owner")
        if not owner or (rep and owner != rep) or users.get(owner) is None \
                or users[owner].get("active") is False:
            continue
        cadence = rule(acc.data)
        if cadence <= 0:
            continue
        seen = by_account.get(acc.id, [])
        before = [d for d, s in seen if d < start_s and s in VISITED]
        last_visit = _dt.date.fromisoformat(max(before)) if before else None
        dues = due_dates(cadence, last_visit, first, last)
        already = sum(1 for d, s in seen if start_s <= d <= end_s and s in COUNTED)
        # the earliest due dates are taken by the visits already there
        for due in dues[already:]:
            lo = bisect_left(days, due)
            span = days[lo:bisect_left(days, due + _dt.timedelta(days=cadence))] or days[lo:] or days[-1:]
            per_rep = load[str(owner)]
            day = min(span, key=lambda d: (per_rep.get(d, 0), d))
            per_rep[day] = per_rep.get(day, 0) + 1
            out.append(Planned(day.isoformat(), str(owner), acc.id, due.isoformat(), cadence))
    return sorted(out, key=lambda p: (p.date, p.rep, p.account))
