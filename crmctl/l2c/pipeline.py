"""Opportunity stages from crm.yaml: moves, gates and the stage history.

``move`` is the one way a stage changes; it appends ``{from, to, at, by}`` to
``stage_history``. CPQ calls ``win`` when an accepted quote wins its deal.
"""
from __future__ import annotations

from typing import Any

from crmctl.core.errors import PolicyError
from crmctl.core.settings import Settings


def stages(settings: Settings) -> list[dict[str, Any]]:
    return list(settings.get("pipeline.stages", []))


def stage(settings: Settings, stage_id: str) -> dict[str, Any]:
    for item in stages(settings):
        if item["id"] == stage_id:
            return dict(item)
    raise PolicyError(f"unknown stage {stage_id!r}; stages are {', '.join(s['id'] for s in stages(settings))}")


def won_stage(settings: Settings) -> str:
    return next(s["id"] for s in stages(settings) if s.get("won"))


def lost_stage(settings: Settings) -> str:
    return next(s["id"] for s in stages(settings) if s.get("closed") and not s.get("won"))


def move(data: dict[str, Any], to: str, by: str | None, at: str, settings: Settings, *, force: bool = False) -> dict[str, Any]:
    """A copy of an opportunity's data moved to stage ``to``, with the move in its history."""
    current = str(data.get("stage"))
    target = stage(settings, to)
    if not force and to not in (stage(settings, current).get("moves_to") or []):
        raise PolicyError(f"cannot move from {current} to {to}; allowed: {', '.join(stage(settings, current).get('moves_to') or []) or 'none'}")
    missing = [f for f in target.get("requires") or [] if data.get(f) in (None, "", [])]
    if missing and not force:
        raise PolicyError(f"stage {to} needs {', '.join(missing)} first; set them with `crmctl opp edit`")
    out = dict(data)
    out["stage"] = to
    out["stage_history"] = [*(data.get("stage_history") or []), {"from": current, "to": to, "at": at, "by": by}]
    if target.get("closed"):
        out["closed_on"] = at[:10]
    return out


def win(data: dict[str, Any], by: str | None, at: str, settings: Settings) -> dict[str, Any]:
    """Win the deal from whatever open stage it is in."""
    return move(data, won_stage(settings), by, at, settings, force=True)
