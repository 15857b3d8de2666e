"""Append-only ``history`` entries on accounts and contacts (moves, merges, lifecycle, consent)."""
from __future__ import annotations

from typing import Any


def appended(data: dict[str, Any], action: str, at: str, by: str | None, **values: Any) -> list[dict[str, Any]]:
    """``data``'s history with one more entry ``{action, ..., at, by}`` (empty values left out)."""
    entry = {"action": action, **values, "at": at, "by": by}
    return [*(data.get("history") or []), {k: v for k, v in entry.items() if v is not None}]
