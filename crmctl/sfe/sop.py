"""Visit types and their SOP (拜访SOP) from crm.yaml: steps, ticking them, and the completion gate."""
from __future__ import annotations

from typing import Any

from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.settings import Settings

def types(settings: Settings) -> dict[str, dict[str, Any]]:
    return dict(settings.get("visits.types", {}) or {})


def visit_type(settings: Settings, type_id: str) -> dict[str, Any]:
    found = types(settings).get(type_id)
    if found is None:
        raise ValidationError(f"unknown visit type {type_id!r}; types are {', '.join(types(settings))} (visits.types in crm.yaml)")
    return dict(found)


def steps(settings: Settings, type_id: str) -> list[dict[str, Any]]:
    """The SOP of a visit type, in order (an unknown type has none)."""
    return [dict(s) for s in (types(settings).get(type_id, {}) or {}).get("sop", []) or []]


def step_ids(settings: Settings, type_id: str) -> list[str]:
    return [str(s["id"]) for s in steps(settings, type_id)]


def sop_step(settings: Settings, type_id: str, step_id: str) -> dict[str, Any]:
    for step in steps(settings, type_id):
        if step["id"] == step_id:
            return step
    raise ValidationError(f"step {step_id!r} is not in the {type_id} SOP; steps are {', '.join(step_ids(settings, type_id))}")


def done_steps(visit: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ticked steps of a visit, by step id."""
    return {str(s.get("id")): s for s in visit.get("steps") or [] if s.get("done")}


def tick(visit: dict[str, Any], settings: Settings, step_id: str, *, by: str | None, at: str,
         note: str | None = None, value: str | None = None, done: bool = True) -> dict[str, Any]:
    """A copy of the visit with SOP step ``step_id`` ticked (or reopened with ``done=False``)."""
    step = sop_step(settings, str(visit.get("type")), step_id)
    if done and step.get("value") and not (value or "").strip():
        raise ValidationError(f"step {step_id} needs a value ({step['value']}): pass --value")
    if value is not None and not step.get("value"):
        raise ValidationError(f"step {step_id} takes no value; use --note for remarks")
    entry: dict[str, Any] = {"id": step_id, "done": done, "at": at, "by": by}
    if note:
        entry["note"] = note
    if value:
        entry["value"] = value
    kept = [s for s in visit.get("steps") or [] if s.get("id") != step_id]
    out = dict(visit)
    out["steps"] = _in_sop_order([*kept, entry] if done else kept, step_ids(settings, str(visit.get("type"))))
    return out


def tick_auto(visit: dict[str, Any], settings: Settings, trigger: str, *, by: str | None, at: str) -> dict[str, Any]:
    """Tick the steps that ``auto: trigger`` marks (check-in, check-out, outcome, next_steps)."""
    out = visit
    for step in steps(settings, str(visit.get("type"))):
        if step.get("auto") == trigger and not step.get("value") and step["id"] not in done_steps(out):
            out = tick(out, settings, str(step["id"]), by=by, at=at)
    return out


def open_required(visit: dict[str, Any], settings: Settings) -> list[str]:
    ticked = done_steps(visit)
    return [str(s["id"]) for s in steps(settings, str(visit.get("type"))) if s.get("required") and s["id"] not in ticked]


def require_complete(visit: dict[str, Any], settings: Settings, vid: str) -> None:
    """The completion gate: every required SOP step is done."""
    missing = open_required(visit, settings)
    if missing:
        raise PolicyError(f"visit {vid}: required SOP steps still open: {', '.join(missing)}; "
                          f"tick them with `crmctl visit step {vid} STEP --done`")


def checklist(visit: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    """The SOP as rows: each step with done/open and what was noted."""
    ticked = done_steps(visit)
    rows = []
    for n, step in enumerate(steps(settings, str(visit.get("type"))), 1):
        got = ticked.get(str(step["id"]), {})
        rows.append({"n": n, "step": step["id"], "name": step.get("name", ""), "required": bool(step.get("required")),
                     "needs": step.get("value") or "", "status": "done" if got else "open",
                     "at": got.get("at", ""), "value": got.get("value", ""), "note": got.get("note", "")})
    return rows


def _in_sop_order(entries: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    rank = {sid: i for i, sid in enumerate(order)}
    return sorted(entries, key=lambda e: rank.get(str(e.get("id")), len(order)))
