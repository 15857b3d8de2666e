"""An opportunity's past, replayed from its ``stage_history``.

Reports ask "where was this deal on day D?" — ``--as-of`` reports are built
from these answers, so a report of a past day shows the numbers as they
stood then, whatever happened since.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from crmctl.core.book import Record
from crmctl.l2c.dates import day_of


@dataclass(frozen=True)
class Stint:
    """A stretch of time an opportunity spent in one stage (``end`` None: still there)."""

    stage: str
    start: _dt.date
    end: _dt.date | None


def _moves(opp: Record) -> list[dict[str, Any]]:
    # the history is append-only, so its order is the order things happened
    return [h for h in opp.get("stage_history") or [] if isinstance(h, dict) and h.get("at")]


def created_day(opp: Record) -> _dt.date | None:
    moves = _moves(opp)
    return day_of(opp.get("created")) or (day_of(moves[0]["at"]) if moves else None)


def initial_stage(opp: Record) -> str:
    moves = _moves(opp)
    return str(moves[0].get("from") or opp.get("stage")) if moves else str(opp.get("stage"))


def stints(opp: Record, as_of: _dt.date) -> list[Stint]:
    """The stages the deal went through up to ``as_of`` (empty if it did not exist yet)."""
    start = created_day(opp)
    if start is None or start > as_of:
        return []
    out: list[Stint] = []
    current, since = initial_stage(opp), start
    for move in _moves(opp):
        at = day_of(move["at"])
        if at is None or at > as_of:
            break
        out.append(Stint(current, since, at))
        current, since = str(move.get("to")), at
    out.append(Stint(current, since, None))
    return out


def stage_on(opp: Record, as_of: _dt.date) -> str | None:
    """The stage on ``as_of``, or None when the deal was not created yet."""
    path = stints(opp, as_of)
    return path[-1].stage if path else None


def visited(opp: Record, as_of: _dt.date) -> set[str]:
    return {s.stage for s in stints(opp, as_of)}


def closed_on(opp: Record, as_of: _dt.date) -> _dt.date | None:
    """The day the deal entered the stage it is in on ``as_of``, when that stage closes it."""
    path = stints(opp, as_of)
    return path[-1].start if path and len(path) > 1 else None
