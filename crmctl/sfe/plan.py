"""Visit plans by cadence: which accounts are due in a window, on which working day, and which missed visit moves.

The rule, the same whatever window a plan is run over:

* An account with cadence N days is due N days after its last visit that happened or is still to
  come -- completed, in progress, or planned from today on. A missed visit (planned, its day gone)
  fills nothing. An account never visited is due today.
* The plan walks the window's working days (holidays and 调休 included: :mod:`crmctl.sfe.daysoff`),
  never one before today. On each day, each rep takes the accounts due by then, earliest due first
  (then the shorter cadence, then the id), while the rep has room that day; the others wait for the
  next working day. An account whose next visit is already on the books less than N days ahead waits
  for it.
* A rep's room per day is their cadences' weekly demand spread over their working weekdays, rounded
  up (ten weekly accounts over five days: two a day), counting every visit already on that day.
* A visit the plan places takes the rep's latest missed visit of that account when there is one: the
  missed visit is rescheduled (moved, with a ``rescheduled`` entry), not duplicated.

* A window receives its part of the one plan that starts on the first day a plan can still use (today
  when the window includes today, else the next day) and ends with the window: the days between are
  planned in memory first and only the window's visits are written. So a later window planned first
  (W50 before W49) leaves the visits that are due now to the earlier window, whichever is planned first.

Because every decision on a day depends only on the visits before it and the fixed visits from it on,
planning week by week -- in any order, on the same day -- equals one plan of the whole period
(tests/sfe/test_plan_over_time.py).
"""
from __future__ import annotations

import datetime as _dt
import heapq
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable

from crmctl.core.book import Book
from crmctl.core.errors import ValidationError
from crmctl.core.states import VISIT_COUNTED as FILLS, visit_missed
from crmctl.sfe.cadence import cadence_rule
from crmctl.sfe.agenda import light_visits
from crmctl.sfe.daysoff import work_calendar

@dataclass(frozen=True)
class Planned:
    """One visit the plan places: new, or a missed visit (``moves``, from day ``was``) rescheduled."""

    date: str
    rep: str
    account: str
    due: str
    cadence: int
    moves: str = ""
    was: str = ""


@dataclass
class PlanResult:
    visits: list[Planned]
    notes: list[str]  # said once by the command (a year the holiday package does not know)


@dataclass
class Chain:
    """One account's cadence as the plan sees it."""

    account: str
    owner: str
    cadence: int
    fixed: list[_dt.date] = field(default_factory=list)        # visits that fill the cadence, sorted
    missed: list[tuple[str, str]] = field(default_factory=list)  # (day, visit id) of the owner's missed visits, sorted
    placed: list[_dt.date] = field(default_factory=list)

    def due(self, day: _dt.date, today: _dt.date) -> _dt.date:
        """When the next visit is due, seen from ``day``: a cadence after the last visit before it, or today."""
        i = bisect_left(self.fixed, day)
        last = self.fixed[i - 1] if i else None
        if self.placed and (last is None or self.placed[-1] > last):
            last = self.placed[-1]
        return last + _dt.timedelta(days=self.cadence) if last else today

    def next_fixed(self, day: _dt.date) -> _dt.date | None:
        i = bisect_left(self.fixed, day)
        return self.fixed[i] if i < len(self.fixed) else None


Seen = tuple[str, str, str, str, str]  # a visit as the plan reads it: (id, account, rep, date, status)


def seen(visits: Iterable[Any]) -> list[Seen]:
    """Visit records as :data:`Seen` tuples."""
    return [(rec.id, str(rec.get("account")), str(rec.get("rep")), str(rec.get("date")), str(rec.get("status")))
            for rec in visits]


def accounts_to_plan(book: Book, rep: str | None) -> list[tuple[str, str, int]]:
    """(account, owner, cadence) of every live account with an active owner and a cadence (one rep's, or all)."""
    users = book.records("users")
    rule = cadence_rule(book.settings)
    out = []
    for acc in book.live("accounts").values():
        owner = acc.get("owner")
        if not owner or (rep and owner != rep) or users.get(owner) is None \
                or users[owner].get("active") is False:
            continue
        cadence = rule(acc.data)
        if cadence > 0:
            out.append((acc.id, str(owner), cadence))
    return out


def chains(accounts: Iterable[tuple[str, str, int]], visits: Iterable[Seen], today: _dt.date) -> dict[str, Chain]:
    """account id -> its :class:`Chain`: the visits that fill its cadence and the owner's missed ones."""
    out = {account: Chain(account, owner, cadence) for account, owner, cadence in accounts}
    find, missed, parse = out.get, visit_missed, _dt.date.fromisoformat
    for vid, account, rep, day, status in visits:
        chain = find(account)
        if chain is None:
            continue
        if missed(status, day, today):
            if rep == chain.owner:
                chain.missed.append((day, vid))
        elif status in FILLS:
            chain.fixed.append(parse(day))
    for chain in out.values():
        chain.fixed.sort()
        chain.missed.sort()
    return out


def room_per_day(weekdays: int, cadences: Iterable[int]) -> int:
    """Visits a rep can take a day: the weekly demand of their cadences over their working weekdays, rounded up."""
    demand = sum((Fraction(7 * k, n) for n, k in Counter(cadences).items()), Fraction(0))  # one Fraction per cadence
    return max(1, math.ceil(demand / (weekdays or 1)))


def load_by_rep(visits: Iterable[Seen], days: list[_dt.date]) -> dict[str, dict[_dt.date, int]]:
    """rep -> day -> visits already on that day (planned, in progress or completed)."""
    wanted = {d.isoformat() for d in days}
    load: dict[str, dict[_dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for _vid, _account, rep, day, status in visits:
        if day in wanted and status in FILLS:
            load[rep][_dt.date.fromisoformat(day)] += 1
    return load


def plan(book: Book, win: tuple[_dt.date, _dt.date], rep: str | None, today: _dt.date,
         visits: list[Seen] | None = None) -> PlanResult:
    """The visits the cadence asks for in ``win`` that are not on the books yet (never on a day before ``today``).

    ``visits``: every visit of the book as :data:`Seen`, when the caller has read them (default: read here)."""
    first, last = win
    cal = work_calendar(book.settings)
    if not cal.days(max(first, today), last):
        raise ValidationError(f"no working days from {max(first, today)} to {last} to plan on "
                              "(working_days, calendar and days_off in crm.yaml; past days are not planned)")
    days = cal.days(plan_start(first, today), last)  # the days before the window are planned in memory only
    if visits is None:
        visits = seen(light_visits(book))  # dates, statuses and reps are all a plan reads of past visits
    by_account = chains(accounts_to_plan(book, rep), visits, today)
    cadences: dict[str, list[int]] = defaultdict(list)  # owner -> the cadences of their accounts (one pass)
    for chain in by_account.values():
        cadences[chain.owner].append(chain.cadence)
    room = {owner: room_per_day(len(cal.weekdays), owned) for owner, owned in cadences.items()}
    placed = schedule(by_account, days, today, room, load_by_rep(visits, days))
    start = max(first, today).isoformat()
    earlier = [p for p in placed if p.date < start]
    notes = list(cal.notes)
    if earlier:
        gap = f"--from {earlier[0].date} --to {(first - _dt.timedelta(days=1)).isoformat()}"
        notes.append(f"{len(earlier)} visit(s) the cadence asks for fall on days before this window that are not "
                     f"planned yet; plan them with `crmctl visit plan {gap}{' --rep ' + rep if rep else ''}`")
    return PlanResult([p for p in placed if p.date >= start], notes)


def plan_start(first: _dt.date, today: _dt.date) -> _dt.date:
    """The first day of the one plan a window is part of: today when the window includes it, else tomorrow
    (a plan made for next week leaves today's remaining hours alone)."""
    return today if first <= today else today + _dt.timedelta(days=1)


def schedule(by_account: dict[str, Chain], days: list[_dt.date], today: _dt.date, room: dict[str, int],
             load: dict[str, dict[_dt.date, int]]) -> list[Planned]:
    """Walk ``days`` (working days, sorted, none before today) and place what each account's cadence asks for."""
    heaps: dict[str, list[tuple[_dt.date, int, str]]] = defaultdict(list)
    for chain in by_account.values():
        heaps[chain.owner].append((chain.due(days[0], today), chain.cadence, chain.account))
    for heap in heaps.values():
        heapq.heapify(heap)
    out: list[Planned] = []
    for day in days:
        for owner in sorted(heaps):
            _fill_day(heaps[owner], by_account, day, today, room[owner], load[owner], out)
    return sorted(out, key=lambda p: (p.date, p.rep, p.account))


def _fill_day(heap: list[tuple[_dt.date, int, str]], by_account: dict[str, Chain], day: _dt.date, today: _dt.date,
              room: int, load: dict[_dt.date, int], out: list[Planned]) -> None:
    """Give one rep's ``day`` to the accounts due by then, earliest due first, while there is room."""
    while heap and heap[0][0] <= day:
        due, cadence, account = heapq.heappop(heap)
        chain = by_account[account]
        real = chain.due(day, today)
        if real != due:  # a visit on the books since this entry was queued moved the due date
            heapq.heappush(heap, (real, cadence, account))
            continue
        coming = chain.next_fixed(day)
        if coming is not None and coming < day + _dt.timedelta(days=cadence):
            heapq.heappush(heap, (coming + _dt.timedelta(days=cadence), cadence, account))
            continue
        if load[day] >= room:
            heapq.heappush(heap, (due, cadence, account))  # no room today: it and everyone after it wait
            return
        load[day] += 1
        chain.placed.append(day)
        was, moves = chain.missed.pop() if chain.missed else ("", "")
        out.append(Planned(day.isoformat(), chain.owner, account, due.isoformat(), cadence, moves, was))
        heapq.heappush(heap, (day + _dt.timedelta(days=cadence), cadence, account))
