"""The PDCA report of sales behaviour: plan against actual, cadence, SOP, coaching, follow-ups, and what to do next.

``report(book, window, reps, today)`` returns ordered sections of rows, the
shape every output format (and a future HTML template) can show. The book is
read in one pass over the visits into per-rep and per-account tallies, so a
year of 50,000 visits stays well under the two-second budget.
"""
from __future__ import annotations

import datetime as _dt
import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crmctl.core import memo
from crmctl.core.book import Book
from crmctl.core.errors import ValidationError
from crmctl.core.percent import percent_text, round_half_up
from crmctl.core.phrases import join, say
from crmctl.core.states import VisitStatus, won_stages
from crmctl.sfe import sop
from crmctl.sfe.cadence import cadence_rule
from crmctl.sfe.plan import Seen, plan
from crmctl.sfe.team import quota
from crmctl.sfe.when import Window, working_days

Sections = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Wording:
    """How the report's sentences are written: the language, whether each suggestion carries its command, and how
    people and days are named. The default is the terminal's (English, ids, ISO days, commands); a PDF passes
    the book's language, names and locale dates, and leaves the commands out."""

    lang: str = "en"
    commands: bool = True
    name: Callable[[str, str], str] = lambda rtype, rid: rid        # (record type, id) -> what the reader sees
    day: Callable[[str], str] = lambda iso: iso                    # an ISO day -> what the reader sees

    def act(self, sentence: str, command: str) -> str:
        """A suggestion, followed by the command that carries it out when commands are wanted."""
        return f"{sentence}: {command}" if self.commands else sentence
TITLES = {
    "reps": "Plan against actual, per rep",
    "cadence": "Cadence coverage per tier (accounts visited as often as their cadence asks)",
    "sop": "SOP adherence per step (completed visits)",
    "coaching": "Coaching scores and their trend (per month)",
    "followups": "Overdue follow-ups (longest overdue first)",
    "act": "Act: furthest behind, with the suggested action",
}


def pct(part: int, whole: int) -> str:
    """A percentage with one decimal (half-up, :mod:`crmctl.core.percent`); "" when there is nothing to divide by."""
    return percent_text(part, whole)


def avg(total: int, count: int) -> str:
    return str(round_half_up(Decimal(total) / count, 1)) if count else ""


@dataclass
class RepTally:
    planned: int = 0
    due: int = 0
    completed: int = 0
    on_time: int = 0
    duration: int = 0
    timed: int = 0
    overdue: int = 0
    scores: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # month -> scores


@dataclass
class Scan:
    """What one pass over the visits collects."""

    tallies: dict[str, RepTally] = field(default_factory=lambda: defaultdict(RepTally))
    visited: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # account -> completed visits in the window
    last_done: dict[str, str] = field(default_factory=dict)       # account -> last completed visit up to the cutoff
    next_planned: dict[str, str] = field(default_factory=dict)    # account -> next planned visit from today
    step_done: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    type_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    overdue: list[tuple[str, str, str, int, str, str]] = field(default_factory=list)  # (due, owner, visit, n, account, text)


VIEW = "sfe5"  # the name of the visits view below; change it when ``visit_row`` changes
_SEP, _STEP = "|", ";"  # taken out of the values by _flat


def _flat(value: Any) -> str:
    return str(value).replace(_SEP, " ").replace(_STEP, " ")


def visit_row(data: dict[str, Any]) -> Any:
    """The few fields of a visit the report reads, compact (cached per file: see Book.view).

    One string ``rep, status, date, account, type, checked-in day (``late`` for a
    check-in entered after the fact), minutes, done steps`` joined by ``|`` (a string costs a cache reader
    one object where a list costs ten), followed, when the visit has any, by
    its ``[[month, scores]]`` of coaching and ``[[n, due, owner, text]]`` of
    open follow-ups, and, when a ``|`` or ``;`` was taken out of the account, rep, date or status, those four as
    written (``[account, rep, date, status]``: the plan reads them exactly, :func:`seen_visits`).
    """
    get = data.get
    day = str(get("date"))
    exact = [str(get("account")), str(get("rep")), day, str(get("status"))]
    checkin, checkout = get("checkin") or {}, get("checkout") or {}
    if not isinstance(checkin, dict):
        checkin = {}
    minutes = checkout.get("duration_min") if isinstance(checkout, dict) else None
    steps = _STEP.join(_flat(step.get("id")) for step in get("steps") or () if isinstance(step, dict) and step.get("done"))
    flat = _SEP.join([_flat(get("rep")), _flat(get("status")), _flat(day), _flat(get("account")), _flat(get("type")),
                      ("late" if checkin.get("late_entry") else _flat(checkin.get("at") or get("completed") or "")[:10]),
                      str(minutes) if isinstance(minutes, int) and not isinstance(minutes, bool) else "", steps])
    coaching = []
    for entry in get("coaching") or ():
        if isinstance(entry, dict):
            scores = [int(v) for v in (entry.get("scores") or {}).values() if isinstance(v, int) or str(v).isdigit()]
            coaching.append([str(entry.get("at", day))[:7], scores])
    follow = [[n, str(item.get("due") or ""), item.get("owner"), str(item.get("text", ""))]
              for n, item in enumerate(get("next_steps") or (), 1)
              if isinstance(item, dict) and item.get("due") and not item.get("done")]
    if any(_SEP in text or _STEP in text for text in exact):
        return [flat, coaching, follow, exact]
    return [flat, coaching, follow] if coaching or follow else flat


def seen_visits(rows: dict[str, Any]) -> list[Seen]:
    """The visits of :func:`visit_row` rows as the plan reads them (:func:`crmctl.sfe.plan.seen` of the records:
    the same tuples, so the Act list's preview need not read a second view of every visit)."""
    out: list[Seen] = []
    append = out.append
    for vid, row in rows.items():
        if type(row) is str:
            rep, status, day, account, _ = row.split(_SEP, 4)
        elif len(row) > 3:
            account, rep, day, status = row[3]
        else:
            rep, status, day, account, _ = row[0].split(_SEP, 4)
        append((vid, account, rep, day, status))
    return out


def scan(visits: dict[str, Any], win: Window, wanted: set[str] | None, today: _dt.date) -> Scan:
    """One pass over the visits' rows into per-rep, per-account and per-step tallies (a hot loop: locals, no helpers)."""
    start, end = win[0].isoformat(), win[1].isoformat()
    cutoff = min(win[1], today).isoformat()           # visits after today are not due yet
    today_s = today.isoformat()
    out = Scan()
    tallies, last_done, next_planned = out.tallies, out.last_done, out.next_planned
    no_more: tuple[Any, ...] = ()
    for vid, row in visits.items():
        if type(row) is str:
            flat, coaching, follow = row, no_more, no_more
        else:
            flat, coaching, follow = row[:3]
        rep, status, day, account, vtype, checked, minutes, steps = flat.split(_SEP)
        if status == VisitStatus.CANCELLED or (wanted is not None and rep not in wanted):
            continue
        for n, due, owner, text in follow:
            if due < today_s:
                owner = owner or rep
                tallies[owner].overdue += 1
                out.overdue.append((due, str(owner), vid, n, account, text))
        if status == VisitStatus.COMPLETED:
            if day <= cutoff and day > last_done.get(account, ""):
                last_done[account] = day
        elif status == VisitStatus.PLANNED and day >= today_s and day < next_planned.get(account, "9999"):
            next_planned[account] = day
        if not start <= day <= end:
            continue
        t = tallies[rep]
        t.planned += 1
        if day <= cutoff:
            t.due += 1
        for month, scores in coaching:
            t.scores[month].extend(scores)
        if status != VisitStatus.COMPLETED or day > cutoff:
            continue  # completion is measured against what was due by the report date
        t.completed += 1
        out.visited[account] += 1
        if (checked or day) == day:  # on time: checked in on the planned day (not before, not entered late)
            t.on_time += 1
        if minutes:
            t.duration += int(minutes)
            t.timed += 1
        out.type_count[vtype] += 1
        if steps:
            for step in steps.split(_STEP):
                out.step_done[(vtype, step)] += 1
    return out


def report(book: Book, win: Window, reps: list[str] | None, today: _dt.date, period_key: str = "",
           wording: Wording = Wording()) -> Sections:
    """Every section of the SFE report for the reps in scope (None: everyone who owns or makes visits).

    ``wording`` writes the Act list's sentences (default: English with commands, for the terminal)."""
    wanted = set(reps) if reps is not None else None
    rows = book.view("visits", VIEW, visit_row)
    got = scan(rows, win, wanted, today)
    accounts = _cadence_accounts(book, wanted)
    rows_reps = _rep_rows(book, got.tallies, _won_deals(book, win[0].isoformat(), win[1].isoformat(), wanted), wanted, period_key)
    return {
        "reps": rows_reps,
        "cadence": _cadence_rows(book, accounts, got.visited, win, today),
        "sop": _sop_rows(book, got.type_count, got.step_done),
        "coaching": _coaching_rows(got.tallies),
        "followups": _followup_rows(got.overdue, today),
        "act": _act_rows(book, rows_reps, accounts, got.last_done, got.next_planned, win, today, book.records("users"),
                         wording, rows),
    }


def _followup_rows(overdue: list[tuple[str, str, str, int, str, str]], today: _dt.date, limit: int = 200) -> list[dict[str, Any]]:
    """The longest-overdue follow-ups first (at most ``limit``; the per-rep counts cover the rest)."""
    return [{"owner": owner, "account": account, "visit": vid, "n": n, "text": text, "due": due,
             "days_overdue": (today - _dt.date.fromisoformat(due)).days}
            for due, owner, vid, n, account, text in heapq.nsmallest(limit, overdue)]


def _won_deals(book: Book, start: str, end: str, wanted: set[str] | None) -> dict[str, int]:
    """Deals won between ``start`` and ``end`` (ISO days) per owner, redirects included as every reader counts them.

    The won rows come from the read model (four columns of the won deals, not 50,000 records); the records
    themselves when it cannot answer. Both paths give the same counts (tests/sfe/test_read_paths.py).
    """
    from crmctl.core import readmodel

    won = won_stages(book.settings)
    stages = sorted(won)
    found = readmodel.select(book, ["opportunities"], "SELECT owner, stage, closed_on, close_date FROM opportunities "
                             f"WHERE stage IN ({', '.join('?' * len(stages))})", stages)
    if found is None:
        found = [(o.get("owner"), o.get("stage"), o.get("closed_on"), o.get("close_date")) for o in book.all("opportunities")]
    out: dict[str, int] = defaultdict(int)
    for owner, stage, closed_on, close_date in found:
        closed = str(closed_on or close_date or "")
        if stage in won and start <= closed <= end and (wanted is None or owner in wanted):
            out[str(owner)] += 1
    return out


def _cadence_accounts(book: Book, wanted: set[str] | None) -> list[tuple[Any, int]]:
    out = []
    rule = cadence_rule(book.settings)
    for acc in book.live("accounts").values():
        cadence = rule(acc.data)
        if cadence > 0 and acc.get("owner") and (wanted is None or acc.get("owner") in wanted):
            out.append((acc, cadence))
    return out


def _rep_rows(book: Book, tallies: dict[str, RepTally], won: dict[str, int], wanted: set[str] | None, period_key: str) -> list[dict[str, Any]]:
    users = book.records("users")
    names = sorted(wanted if wanted is not None else {r for r in tallies if r} | {r for r in won if r})
    rows = []
    total = RepTally()
    total_won = total_target = 0
    for rep in names:
        t = tallies.get(rep, RepTally())
        target = quota(users[rep].data, period_key).get("visits") if rep in users and period_key else None
        rows.append(_rep_row(rep, t, won.get(rep, 0), target))
        for name in ("planned", "due", "completed", "on_time", "duration", "timed", "overdue"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        total_won += won.get(rep, 0)
        total_target += int(target or 0)
    if len(rows) > 1:
        rows.append(_rep_row("(total)", total, total_won, total_target or None))
    return rows


def _rep_row(rep: str, t: RepTally, won: int, target: int | None) -> dict[str, Any]:
    return {"rep": rep, "planned": t.planned, "due": t.due, "completed": t.completed, "missed": t.due - t.completed,
            "completion_pct": pct(t.completed, t.due), "on_time_pct": pct(t.on_time, t.completed),
            "target": target if target is not None else "", "target_pct": pct(t.completed, target or 0),
            "avg_min": avg(t.duration, t.timed), "overdue_followups": t.overdue, "won": won,
            "visits_per_won": avg(t.completed, won)}


def _cadence_rows(book: Book, accounts: list[tuple[Any, int]], visited: dict[str, int], win: Window,
                  today: _dt.date) -> list[dict[str, Any]]:
    days = (min(win[1], today) - win[0]).days + 1
    per_tier: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # accounts, covered, visits, asked
    for acc, cadence in accounts:
        asked = max(1, days // cadence) if days > 0 else 0
        got = visited.get(acc.id, 0)
        tier = str(acc.get("tier") or "-")
        bucket = per_tier[tier]
        bucket[0] += 1
        bucket[1] += got >= asked
        bucket[2] += got
        bucket[3] += asked
    return [{"tier": tier, "accounts": b[0], "covered": b[1], "coverage_pct": pct(b[1], b[0]),
             "visits": b[2], "asked": b[3], "visits_pct": pct(b[2], b[3])} for tier, b in sorted(per_tier.items())]


def _sop_rows(book: Book, type_count: dict[str, int], step_done: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    rows = []
    for vtype in sorted(type_count):
        for step in sop.steps(book.settings, vtype):
            done = step_done.get((vtype, str(step["id"])), 0)
            rows.append({"type": vtype, "step": step["id"], "required": bool(step.get("required")),
                         "visits": type_count[vtype], "done": done, "adherence_pct": pct(done, type_count[vtype])})
    return rows


def _coaching_rows(tallies: dict[str, RepTally]) -> list[dict[str, Any]]:
    rows = []
    for rep in sorted(r for r in tallies if r):
        months = {m: s for m, s in sorted(tallies[rep].scores.items()) if s}
        if not months:
            continue
        every = [v for s in months.values() for v in s]
        first, last = next(iter(months.values())), list(months.values())[-1]
        trend = Decimal(avg(sum(last), len(last))) - Decimal(avg(sum(first), len(first))) if len(months) > 1 else None
        rows.append({"rep": rep, "scores": len(every), "avg": avg(sum(every), len(every)),
                     "by_month": ", ".join(f"{m}: {avg(sum(s), len(s))}" for m, s in months.items()),
                     "trend": "" if trend is None else f"{trend:+}"})
    return rows


PREVIEW_READS = ("users", "accounts", "visits")  # every record type plan() reads (a test holds it to that)
PREVIEW_LIBRARIES = ("chinese_calendar", "holidays")  # where plan()'s calendar gets official holidays


def _reschedule_preview(book: Book, reps: list[str], today: _dt.date,
                        rows: dict[str, Any] | None = None) -> tuple[str, str, dict[str, int] | None]:
    """The week from today that the Act list suggests planning, and how many missed visits that plan moves per rep
    (None when the week has no working day to plan on: days_off, holidays, working_days).

    The count comes from running the plan itself (without writing), so the suggested command does what it says;
    it reads the visits from the report's own ``rows`` (:func:`visit_row`) when given.
    """
    first, last = today, today + _dt.timedelta(days=6)
    if not reps:
        return first.isoformat(), last.isoformat(), {}

    def moves() -> dict[str, int] | None:
        try:
            result = plan(book, (first, last), None, today, None if rows is None else seen_visits(rows))
        except ValidationError:  # no working day in the week (plan's only refusal): nothing can move
            return None  # JSON, as crmctl.core.memo remembers it
        counts: dict[str, int] = defaultdict(int)
        for p in result.visits:
            if p.moves and p.rep in reps:
                counts[p.rep] += 1
        return dict(counts)

    # the same book, settings, code and week give the same plan: remembered by all of them (crmctl.core.memo)
    found = memo.remembered(book, "sfe-act-preview", PREVIEW_READS, [first, today, sorted(set(reps))], moves,
                            libraries=PREVIEW_LIBRARIES)
    return first.isoformat(), last.isoformat(), found


def _act_rows(book: Book, reps: list[dict[str, Any]], accounts: list[tuple[Any, int]], last_done: dict[str, str],
              next_planned: dict[str, str], win: Window, today: _dt.date, users: dict[str, Any],
              wording: Wording = Wording(), visit_rows: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reps and accounts furthest behind, worst first, each with what to do about it (sentences from :mod:`crmctl.core.phrases`).

    ``visit_rows``: the visits as :func:`visit_row` gives them, when the caller has read them."""
    rows: list[dict[str, Any]] = []
    lang, person = wording.lang, lambda uid: wording.name("users", str(uid))
    plan_from, plan_to, moves = _reschedule_preview(book, [r["rep"] for r in reps if r["missed"]], today, visit_rows)
    span = {"first": wording.day(plan_from), "last": wording.day(plan_to)}
    for r in reps:
        if r["rep"] == "(total)":
            continue
        gap = r["missed"] + r["overdue_followups"]
        if not gap:
            continue
        actions = []
        if r["missed"] and moves is None:
            actions.append(wording.act(say("missed_no_working_day", lang, missed=r["missed"], **span),
                                       f"crmctl visit list --rep {r['rep']} --status missed"))
        elif r["missed"] and moves.get(r["rep"]):
            actions.append(wording.act(say("reschedule_missed", lang, moves=moves[r["rep"]], missed=r["missed"], **span),
                                       f"crmctl visit plan --rep {r['rep']} --from {plan_from} --to {plan_to}"))
        elif r["missed"]:
            actions.append(wording.act(say("missed_none_to_move", lang, missed=r["missed"], **span),
                                       f"crmctl visit list --rep {r['rep']} --status missed"))
        if r["overdue_followups"]:
            actions.append(wording.act(say("close_followups", lang, overdue=r["overdue_followups"]),
                                       f"crmctl visit agenda --rep {r['rep']}"))
        manager = users[r["rep"]].get("manager") if r["rep"] in users else None
        if r["completion_pct"] and Decimal(r["completion_pct"]) < 80 and manager:
            actions.append(wording.act(say("coach", lang, manager=person(manager)), f"crmctl visit add --with {manager}"))
        rows.append({"kind": "rep", "who": r["rep"], "behind": gap,
                     "why": say("rep_behind", lang, completion=r["completion_pct"] or "-", missed=r["missed"],
                                overdue=r["overdue_followups"]),
                     "action": join(actions, lang)})
    as_of = min(win[1], today)
    work = working_days(book.settings, as_of + _dt.timedelta(days=1), as_of + _dt.timedelta(days=14))
    next_day = (work[0] if work else as_of + _dt.timedelta(days=1)).isoformat()
    behind: list[tuple[int, str, Any, int, str | None]] = []  # (-late, id, account, cadence, last visit)
    for acc, cadence in accounts:
        last = last_done.get(acc.id)
        since = (as_of - _dt.date.fromisoformat(last)).days if last else None
        late = (since - cadence) if since is not None else (as_of - win[0]).days + 1 - cadence
        if late > 0:
            behind.append((-late, acc.id, acc, cadence, last))
    for minus_late, _, acc, cadence, last in heapq.nsmallest(10, behind, key=lambda b: b[:2]):  # the 10 shown
        planned = next_planned.get(acc.id)
        action = (say("make_planned_happen", lang, day=wording.day(planned)) if planned else
                  wording.act(say("plan_visit", lang, day=wording.day(next_day)),
                              f"crmctl visit add --account {acc.id} --date {next_day}"))
        rows.append({"kind": "account", "who": acc.id, "behind": -minus_late,
                     "why": say("account_behind", lang, tier=acc.get("tier") or "-", cadence=cadence,
                                last=say("last_visit", lang, day=wording.day(last)) if last else say("never_visited", lang),
                                owner=person(acc.get("owner"))),
                     "action": action})
    reps_rows = sorted((r for r in rows if r["kind"] == "rep"), key=lambda r: (-r["behind"], r["who"]))
    acc_rows = sorted((r for r in rows if r["kind"] == "account"), key=lambda r: (-r["behind"], r["who"]))[:10]
    return reps_rows + acc_rows
