"""Opportunity stages from crm.yaml: moves, gates and the stage history.

``move`` is the one way a stage changes; it appends ``{from, to, at, by}`` to
``stage_history``. CPQ calls ``win`` when an accepted quote wins its deal.
"""
from __future__ import annotations

from typing import Any, Iterable

from crmctl.core.book import Record
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.settings import Settings
from crmctl.core.states import (QUOTE_APPROVED_OR_LATER, closed_stages, first_stage, is_closed, is_won, lost_stage,
                                needs_account, stage, stage_ids, stages, won_stage)

# stage definitions and predicates live with every other state, in crmctl.core.states (re-exported here)
__all__ = ["closed_stages", "first_stage", "is_closed", "is_won", "lost_stage", "stage", "stages", "won_stage",
           "next_stage", "requirements", "gate", "move", "win", "lose", "reopen_target", "reopen",
           "skipped_stages", "imported_history"]


def next_stage(settings: Settings, current: str) -> str:
    """The stage after ``current`` in crm.yaml's order (the default of ``opp advance``)."""
    ids = [str(s["id"]) for s in stages(settings)]
    if is_closed(settings, current):
        raise PolicyError(f"stage {current} is closed; `crmctl opp reopen` first")
    later = ids[ids.index(current) + 1:]
    allowed = stage(settings, current).get("moves_to") or []
    for candidate in later:
        if candidate in allowed:
            return candidate
    raise PolicyError(f"no stage after {current}; use --to STAGE")


def requirements(settings: Settings, stage_id: str) -> list[str]:
    """The fields a deal must have to enter ``stage_id``: its ``requires:`` and, past the account gate, ``account``."""
    need = [str(f) for f in stage(settings, stage_id).get("requires") or []]
    return ["account", *need] if needs_account(settings, stage_id) and "account" not in need else need


def gate(data: dict[str, Any], to: str, settings: Settings, quotes: Iterable[Record] | None = None,
         opp_id: str | None = None) -> None:
    """Refuse entry to ``to`` while a field it requires is empty or its quote is not approved."""
    target = stage(settings, to)
    missing = [f for f in requirements(settings, to) if data.get(f) in (None, "", [])]
    if missing:
        hint = " ".join(f"--{f.replace('_', '-')} ..." if f != "contacts" else "--set contacts=ID" for f in missing)
        raise PolicyError(f"stage {to} needs {', '.join(missing)} first; set them with `crmctl opp edit {opp_id or 'ID'} {hint}`")
    if target.get("requires_approved_quote") and quotes is not None:
        if not any(q.get("opportunity") == opp_id and q.get("status") in QUOTE_APPROVED_OR_LATER for q in quotes):
            raise PolicyError(f"stage {to} needs a quote of this opportunity that is approved, sent or accepted; "
                              f"none of its quotes is (`crmctl quote new --opp {opp_id}`)")


def move(data: dict[str, Any], to: str, by: str | None, at: str, settings: Settings, *, force: bool = False,
         quotes: Iterable[Record] | None = None, opp_id: str | None = None) -> dict[str, Any]:
    """A copy of an opportunity's data moved to stage ``to``, with the move in its history.

    ``quotes`` (all quotes of the book) turns on the ``requires_approved_quote`` gate.
    """
    current = str(data.get("stage"))
    target = stage(settings, to)
    if current == to:
        raise PolicyError(f"the opportunity is already in stage {to}")
    if not force and to not in (stage(settings, current).get("moves_to") or []):
        raise PolicyError(f"cannot move from {current} to {to}; allowed: {', '.join(stage(settings, current).get('moves_to') or []) or 'none'}")
    if not force:
        gate(data, to, settings, quotes, opp_id)
    out = dict(data)
    out["stage"] = to
    out["stage_history"] = [*(data.get("stage_history") or []), {"from": current, "to": to, "at": at, "by": by}]
    if target.get("closed"):
        out["closed_on"] = at[:10]
    else:
        out.pop("closed_on", None)
        out.pop("lost_reason", None)
    return out


def skipped_stages(settings: Settings, current: str) -> list[str]:
    """The open stages after ``current`` in crm.yaml's order, then the won stage: what a win from ``current`` passes."""
    ids = stage_ids(settings)
    later = ids[ids.index(current) + 1:] if current in ids else ids
    return [s for s in later if s not in closed_stages(settings)] + [won_stage(settings)]


def win(data: dict[str, Any], by: str | None, at: str, settings: Settings, *, quotes: Iterable[Record] | None = None,
        opp_id: str | None = None, gates: bool = True) -> dict[str, Any]:
    """Win the deal from whatever open stage it is in, passing the gate of every stage it skips.

    ``gates=False`` is for an accepted quote (CPQ), which is itself the evidence the gates ask for;
    the won stage still needs the account, which the caller takes from the quote.
    """
    current = str(data.get("stage"))
    if gates:
        quotes = list(quotes) if quotes is not None else None
        for passed in skipped_stages(settings, current):
            try:
                gate(data, passed, settings, quotes, opp_id)
            except PolicyError as exc:
                raise PolicyError(f"cannot win from {current}: a win passes the gates of the stages it skips, and {exc}") from None
    return move(data, won_stage(settings), by, at, settings, force=True)


def lose(data: dict[str, Any], reason: str, by: str | None, at: str, settings: Settings) -> dict[str, Any]:
    """Lose the deal (a reason from ``pipeline.lost_reasons``) from whatever open stage it is in."""
    reasons = settings.values("pipeline.lost_reasons")
    if reason not in reasons:
        raise ValidationError(f"--reason {reason!r} is not one of {', '.join(reasons)} (pipeline.lost_reasons in crm.yaml)")
    if is_closed(settings, str(data.get("stage"))):
        raise PolicyError(f"the opportunity is already closed ({data.get('stage')}); `crmctl opp reopen` first")
    out = move(data, lost_stage(settings), by, at, settings, force=True)
    out["stage_history"][-1]["reason"] = reason
    out["lost_reason"] = reason
    return out


def reopen_target(data: dict[str, Any], settings: Settings) -> str:
    """``pipeline.reopen_to``: a stage id, or ``last`` for the open stage it was closed from."""
    wanted = str(settings.get("pipeline.reopen_to", "last"))
    if wanted != "last":
        if is_closed(settings, stage(settings, wanted)["id"]):
            raise ValidationError(f"pipeline.reopen_to in crm.yaml is {wanted}, a closed stage; name an open one")
        return wanted
    for entry in reversed(data.get("stage_history") or []):
        if entry.get("from") and not is_closed(settings, str(entry["from"])):
            return str(entry["from"])
    return first_stage(settings)


def reopen(data: dict[str, Any], by: str | None, at: str, settings: Settings) -> dict[str, Any]:
    """Back to an open stage; the history keeps the close and the reopening."""
    if not is_closed(settings, str(data.get("stage"))):
        raise PolicyError(f"the opportunity is open (stage {data.get('stage')}); only won or lost ones reopen")
    return move(data, reopen_target(data, settings), by, at, settings, force=True)


def imported_history(stage_now: str, entered: dict[str, str], closed_on: str | None, created: str | None,
                     settings: Settings) -> tuple[list[dict[str, Any]], str | None]:
    """The ``stage_history`` and creation day of a deal imported with the days it entered stages.

    ``entered``: stage id -> ISO day the deal entered it (a mapping's ``stage_dates``); ``closed_on``:
    the day a won or lost deal closed; ``created``: the creation day when the file has one. The deal
    is taken to exist from ``created``, else from the first day known (nothing is invented before it:
    a deal first seen in qualification starts there; with stage dates and an earlier ``created`` it
    starts in the first stage). Without stage dates a closed deal gets no history, only its creation
    day (``created`` or ``closed_on``). Moves carry the day only and ``by: null``.
    Returns ``(history, created)``; ValueError says why the dates do not tell one story.
    """
    ids = stage_ids(settings)
    points = sorted((day, ids.index(s), s) for s, day in entered.items())
    if is_closed(settings, stage_now):
        if closed_on is None:
            if points:
                raise ValueError(f"the deal is {stage_now} but the row gives no closed_on date")
            return [], created
        points = [p for p in points if p[2] != stage_now] + [(closed_on, ids.index(stage_now), stage_now)]
        points.sort()
    if not points:
        return [], created
    first_day, _, start = points[0]
    if created and created[:10] > first_day:
        raise ValueError(f"created {created[:10]} is after the day the deal entered {start} ({first_day})")
    if points[-1][2] != stage_now:
        told = ", ".join(f"{s} on {d}" for d, _, s in points)
        raise ValueError(f"the deal is in stage {stage_now} but its dates end elsewhere ({told})")
    history: list[dict[str, Any]] = []
    current = start
    if entered and created and created[:10] < first_day and start != first_stage(settings):
        current = first_stage(settings)
        points.insert(0, (created[:10], 0, current))
    for day, _, to in points:
        if to != current:
            history.append({"from": current, "to": to, "at": day, "by": None})
            current = to
    return history, created or first_day
