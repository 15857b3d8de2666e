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
    return [h for h in opp.data.get("stage_history") or () if isinstance(h, dict) and h.get("at")]


def _created(opp: Record, moves: list[dict[str, Any]]) -> str:
    return str(opp.data.get("created") or (moves[0]["at"] if moves else ""))[:10]


def created_day(opp: Record) -> _dt.date | None:
    return day_of(_created(opp, _moves(opp)))


def initial_stage(opp: Record) -> str:
    moves = _moves(opp)
    return str(moves[0].get("from") or opp.get("stage")) if moves else str(opp.get("stage"))


def walk(opp: Record, as_of: _dt.date) -> list[tuple[str, str, str | None]]:
    """``(stage, from day, to day or None)`` up to ``as_of`` as ISO strings — the fast path reports use.

    ISO dates compare correctly as text, so nothing is parsed here.
    """
    moves = _moves(opp)
    start, limit = _created(opp, moves), as_of.isoformat()
    if not start or start > limit:
        return []
    out: list[tuple[str, str, str | None]] = []
    current = str(moves[0].get("from") or opp.data.get("stage")) if moves else str(opp.data.get("stage"))
    since = start
    for move in moves:
        at = str(move["at"])[:10]
        if at > limit:
            break
        out.append((current, since, at))
        current, since = str(move.get("to")), at
    out.append((current, since, None))
    return out


def stints(opp: Record, as_of: _dt.date) -> list[Stint]:
    """The stages the deal went through up to ``as_of`` (empty if it did not exist yet)."""
    return [Stint(stage, _dt.date.fromisoformat(a), _dt.date.fromisoformat(b) if b else None)
            for stage, a, b in walk(opp, as_of)]


def stage_on(opp: Record, as_of: _dt.date) -> str | None:
    """The stage on ``as_of``, or None when the deal was not created yet."""
    path = walk(opp, as_of)
    return path[-1][0] if path else None


def visited(opp: Record, as_of: _dt.date) -> set[str]:
    return {stage for stage, _, _ in walk(opp, as_of)}


def closed_on(opp: Record, as_of: _dt.date) -> _dt.date | None:
    """The day the deal entered the stage it is in on ``as_of``, when that stage closes it."""
    path = walk(opp, as_of)
    return _dt.date.fromisoformat(path[-1][1]) if len(path) > 1 else None
