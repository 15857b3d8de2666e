"""One visit's life: plan it, check in and out, tick SOP steps, log the outcome, complete, coach.

Every function takes a visit's data (plain dicts) and returns new data, or
raises a :class:`CrmError` whose one line says what to do; the CLI writes the
result inside a transaction, so a refused change writes nothing.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from crmctl.core.clock import elapsed, wall_time
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.limits import read
from crmctl.core.settings import Settings
from crmctl.core.states import VISIT_COUNTED, VISIT_OPEN, VisitStatus, visit_is_cancelled
from crmctl.sfe import sop
from crmctl.sfe.geo import haversine_m, parse_coords, range_problem
from crmctl.sfe.when import minutes_between, parse_clock, parse_date

def require_status(visit: dict[str, Any], vid: str, allowed: frozenset[VisitStatus], doing: str) -> None:
    status = visit.get("status")
    if status not in allowed:
        raise PolicyError(f"visit {vid} is {status}; cannot {doing}")


def new_visit(account: str, rep: str, day: str, vtype: str, settings: Settings, *, time: str | None = None,
              with_: list[str] | None = None, purpose: str | None = None, source: str = "manual",
              created: str | None = None) -> dict[str, Any]:
    """The data of a planned visit (the caller has resolved account, rep and companions)."""
    sop.visit_type(settings, vtype)
    planned_at(day, time, settings)
    data: dict[str, Any] = {"account": account, "rep": rep, "with": list(with_ or []), "type": vtype,
                            "status": VisitStatus.PLANNED.value, "date": day, "time": time, "purpose": purpose,
                            "source": source, "created": created}
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def planned_at(day: str, time: str | None, settings: Settings) -> _dt.datetime | None:
    """When a visit planned on ``day`` at ``time`` (HH:MM, a wall time in the book's zone) starts; None without a time.

    A time the clocks skip on that day (02:30 on the spring-forward night in Berlin) is refused, naming the
    day; a time shown twice is its first showing (see :func:`crmctl.core.clock.localize`).
    """
    date = parse_date(day, "--date")
    if time in (None, ""):
        return None
    clock = _dt.time(*map(int, parse_clock(str(time), "time").split(":")))
    return wall_time(date, clock, settings, "visit time")


def may_record(visit: dict[str, Any], vid: str, by: str | None) -> None:
    """Only the visit's rep or a manager on it (``with``) checks in or out; an unknown user counts as the rep."""
    if by is not None and by != visit.get("rep") and by not in (visit.get("with") or []):
        on = ", ".join([str(visit.get("rep")), *(visit.get("with") or [])])
        raise PolicyError(f"{by} is neither the rep of visit {vid} nor on it ({on}); check in as one of them (--as)")


def entry_time(at: _dt.datetime, now: _dt.datetime, settings: Settings, what: str) -> tuple[dict[str, Any], str | None]:
    """When a check-in/out is recorded: refused in the future, marked ``late_entry`` (with when it was entered)
    when more than ``visits.entry_tolerance_min`` before now. Returns the entry's fields and a warning."""
    tolerance = _dt.timedelta(minutes=int(read(settings, "visits.entry_tolerance_min", 30)))
    ahead = elapsed(now, at)  # real time, not wall clocks: a daylight-saving night is an hour shorter or longer
    if ahead > tolerance:
        raise ValidationError(f"{what} {at.isoformat()} is in the future (now {now.isoformat()}); "
                              "record it when it happens, or give the right --time")
    entry: dict[str, Any] = {"at": at.isoformat()}
    if -ahead > tolerance:
        entry.update(late_entry=True, entered=now.isoformat())
        hours = -ahead.total_seconds() / 3600
        return entry, (f"{what} entered {hours:.1f} h after the fact (more than {int(tolerance.total_seconds() // 60)} min): "
                       "kept as a late entry, which does not count as on time")
    return entry, None


def checkin(visit: dict[str, Any], vid: str, account: dict[str, Any], settings: Settings, *, at: _dt.datetime,
            now: _dt.datetime, coords: str | None, by: str | None) -> tuple[dict[str, Any], list[str]]:
    """Check in: time, place, distance from the account; warnings when beyond the radius or entered late."""
    if visit.get("checkin"):
        raise PolicyError(f"visit {vid} is already checked in at {visit['checkin'].get('at')}; a visit has one check-in")
    require_status(visit, vid, frozenset({VisitStatus.PLANNED}), "check in")
    may_record(visit, vid, by)
    entry, late = entry_time(at, now, settings, "check-in")
    place, far = _place(account, settings, coords, "check-in")
    out = dict(visit, checkin={**entry, **place}, status=VisitStatus.IN_PROGRESS.value)
    return sop.tick_auto(out, settings, "checkin", by=by or visit.get("rep"), at=entry["at"]), [w for w in (far, late) if w]


def checkout(visit: dict[str, Any], vid: str, account: dict[str, Any], settings: Settings, *, at: _dt.datetime,
             now: _dt.datetime, coords: str | None, by: str | None) -> tuple[dict[str, Any], list[str]]:
    """Check out after the check-in; the visit's duration is the minutes between them."""
    started = (visit.get("checkin") or {}).get("at")
    if not started:
        raise PolicyError(f"visit {vid} has no check-in; run `crmctl visit checkin {vid}` first")
    if visit.get("checkout"):
        raise PolicyError(f"visit {vid} is already checked out at {visit['checkout'].get('at')}")
    may_record(visit, vid, by)
    minutes = minutes_between(started, at.isoformat())
    if minutes < 0:
        raise ValidationError(f"check-out {at.isoformat()} is before the check-in {started}; give a later --time")
    entry, late = entry_time(at, now, settings, "check-out")
    place, far = _place(account, settings, coords, "check-out")
    out = dict(visit, checkout={**entry, **place, "duration_min": minutes})
    return sop.tick_auto(out, settings, "checkout", by=by or visit.get("rep"), at=entry["at"]), [w for w in (far, late) if w]


def _place(account: dict[str, Any], settings: Settings, coords: str | None, what: str) -> tuple[dict[str, Any], str | None]:
    entry: dict[str, Any] = {}
    if not coords:
        return entry, None
    lat, lon = parse_coords(coords)
    entry.update(lat=str(lat), lon=str(lon))
    if account.get("lat") in (None, "") or account.get("lon") in (None, "") or range_problem(account["lat"], account["lon"]):
        return entry, f"the account has no usable coordinates; the {what} distance is unknown"
    distance = round(haversine_m(lat, lon, account["lat"], account["lon"]))
    entry["distance_m"] = distance
    radius = int(read(settings, "visits.checkin_radius_m", 500))
    if distance > radius:
        entry["far"] = True
        return entry, f"{what} is {distance} m from the account (more than {radius} m)"
    return entry, None


def log(visit: dict[str, Any], vid: str, settings: Settings, *, outcome: str | None, next_steps: list[str],
        dues: list[str], by: str | None, at: str) -> dict[str, Any]:
    """Write up: the outcome, and each next step as a follow-up ``{text, due, done, owner}``."""
    if not outcome and not next_steps:
        raise ValidationError("give --outcome and/or --next-step")
    require_status(visit, vid, VISIT_COUNTED, "log an outcome")
    if dues and len(dues) not in (1, len(next_steps)):
        raise ValidationError(f"{len(dues)} --due for {len(next_steps)} --next-step: give one --due for all, or one per next step")
    default_due = parse_date(str(visit.get("date")), "visit date") + _dt.timedelta(days=int(read(settings, "visits.follow_up_days", 7)))
    out = dict(visit)
    if outcome:
        out["outcome"] = outcome
        out = sop.tick_auto(out, settings, "outcome", by=by, at=at)
    follow = list(visit.get("next_steps") or [])
    for n, text in enumerate(next_steps):
        if not text.strip():
            raise ValidationError("--next-step is empty; say what happens next")
        due = dues[n if len(dues) > 1 else 0] if dues else default_due.isoformat()
        follow.append({"text": text.strip(), "due": parse_date(due, "--due").isoformat(), "done": False,
                       "owner": visit.get("rep")})
    if next_steps:
        out["next_steps"] = follow
        out = sop.tick_auto(out, settings, "next_steps", by=by, at=at)
    return out


def complete(visit: dict[str, Any], vid: str, settings: Settings, *, at: str) -> dict[str, Any]:
    """Mark done: refused while a required SOP step is open or the visit is checked in but not out."""
    require_status(visit, vid, VISIT_OPEN, "complete it")
    if visit.get("checkin") and not visit.get("checkout"):
        raise PolicyError(f"visit {vid} is checked in but not out; run `crmctl visit checkout {vid}` first")
    sop.require_complete(visit, settings, vid)
    return dict(visit, status=VisitStatus.COMPLETED.value, completed=at)


def close_followup(visit: dict[str, Any], vid: str, number: int, *, by: str | None, at: str) -> dict[str, Any]:
    follow = [dict(f) for f in visit.get("next_steps") or []]
    if not 1 <= number <= len(follow):
        raise ValidationError(f"visit {vid} has {len(follow)} follow-up(s); N must be 1..{len(follow)}" if follow
                              else f"visit {vid} has no follow-ups")
    if follow[number - 1].get("done"):
        raise PolicyError(f"follow-up {number} of visit {vid} is already done")
    follow[number - 1].update(done=True, done_at=at, done_by=by)
    return dict(visit, next_steps=follow)


def cancel(visit: dict[str, Any], vid: str, reason: str, *, by: str | None, at: str) -> dict[str, Any]:
    if not reason.strip():
        raise ValidationError("--reason is empty; say why the visit is cancelled")
    require_status(visit, vid, frozenset({VisitStatus.PLANNED}), "cancel it (only planned visits can be cancelled)")
    return dict(visit, status=VisitStatus.CANCELLED.value, cancelled={"at": at, "by": by, "reason": reason.strip()})


def coach(visit: dict[str, Any], vid: str, settings: Settings, *, by: str, at: str, scores: list[str],
          comment: str | None) -> dict[str, Any]:
    """A coaching entry by a manager who was on the visit: a 1..5 score per SOP step and a comment."""
    if by not in (visit.get("with") or []):
        on = ", ".join(visit.get("with") or []) or "nobody (not an accompanied visit)"
        raise PolicyError(f"{by} was not on visit {vid}; only the accompanying manager may coach it (with: {on})")
    if visit_is_cancelled(visit):
        raise PolicyError(f"visit {vid} was cancelled; there is nothing to coach")
    if not scores:
        raise ValidationError("give at least one --score STEP=1..5")
    parsed: dict[str, int] = {}
    for item in scores:
        step, sep, value = item.partition("=")
        step = step.strip()
        if not sep:
            raise ValidationError(f"--score {item!r}: write STEP=1..5")
        sop.sop_step(settings, str(visit.get("type")), step)
        if value.strip() not in ("1", "2", "3", "4", "5"):
            raise ValidationError(f"--score {item!r}: the score must be a whole number from 1 to 5")
        parsed[step] = int(value)
    entry: dict[str, Any] = {"by": by, "at": at, "scores": parsed}
    if comment:
        entry["comment"] = comment
    return dict(visit, coaching=[*(visit.get("coaching") or []), entry])


def open_followups(visit: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(n, f) for n, f in enumerate(visit.get("next_steps") or [], 1) if not f.get("done")]


def change_date(old: dict[str, Any] | None, new: dict[str, Any], vid: str, settings: Settings, *, by: str | None,
                at: str) -> dict[str, Any]:
    """``visit edit --set date=/time=``: the new time must exist on the new day (:func:`planned_at`); a visit that
    happened (or was cancelled) keeps its date; a planned one is rescheduled (see :func:`reschedule`)."""
    if old is None or (str(old.get("date")), old.get("time")) != (str(new.get("date")), new.get("time")):
        planned_at(str(new.get("date")), new.get("time"), settings)
    if old is None or str(old.get("date")) == str(new.get("date")):
        return new
    if old.get("status") != VisitStatus.PLANNED:
        raise PolicyError(f"visit {vid} is {old.get('status')}; its date ({old.get('date')}) stays as it happened")
    moved = reschedule(old, vid, str(new.get("date")), settings, by=by, at=at, reason="edited")
    return dict(new, rescheduled=moved["rescheduled"])


def reschedule(visit: dict[str, Any], vid: str, day: str, settings: Settings, *, by: str | None, at: str,
               reason: str = "") -> dict[str, Any]:
    """Move a planned visit to ``day``, keeping where it was in ``rescheduled: [{from, to, at, by, reason}]``.

    Its time must exist on the new day (:func:`planned_at`: refused on a spring-forward night otherwise).

    Calendars bump the event's SEQUENCE once per entry, so a phone that imported the old day moves it.
    """
    require_status(visit, vid, frozenset({VisitStatus.PLANNED}), "move it to another day (only planned visits can be rescheduled)")
    new_day = parse_date(day, "date").isoformat()
    planned_at(new_day, visit.get("time"), settings)
    entry = {"from": str(visit.get("date")), "to": new_day, "at": at, "by": by, "reason": reason}
    return dict(visit, date=new_day, rescheduled=[*(visit.get("rescheduled") or []),
                                                  {k: v for k, v in entry.items() if v not in (None, "")}])
