"""Whether a quote's approval is what its own history says happened.

``approval`` (the current decision) and ``approvals`` (the append-only
history) are written together by crmctl; a decision the history does not
record was typed in by hand. ``check``, ``quote send`` and ``quote accept``
refuse it. (Who really made a history entry is git's to prove: SECURITY.md.)
"""
from __future__ import annotations

from typing import Any, Mapping

# the approval status, and the entry of the `approvals` history that must back it
_BACKED_BY = {"approved": "approved", "pending": "submitted", "rejected": "rejected"}


def approval_history_problem(data: Mapping[str, Any], older: bool = False) -> str | None:
    """Why a quote's ``approval`` is not what its ``approvals`` history says happened (None when it is).

    crmctl writes both together; a hand edit of ``approval.status`` (pending
    to approved "by the director") leaves the history without that decision.
    ``older``: ``data`` is an earlier version (``quotes.version``), backed by
    the last history entry with its hash rather than by the last entry.
    """
    approval = data.get("approval") or {}
    state = approval.get("status")
    if state not in _BACKED_BY:
        return None
    history = [e for e in data.get("approvals") or [] if isinstance(e, dict)]
    if older:
        history = [e for e in history if e.get("hash") == approval.get("hash")]
    last = history[-1] if history else {}
    wanted = _BACKED_BY[state]
    if last.get("action") != wanted or last.get("hash") != approval.get("hash"):
        return (f"approval.status is {state} but the approvals history does not record it (its last entry is "
                f"{last.get('action') or 'missing'}); a hand edit? submit the quote again")
    if state != "pending" and (last.get("by") != approval.get("by") or str(last.get("at")) != str(approval.get("at"))):
        return (f"approval says {state} by {approval.get('by')} at {approval.get('at')} but the approvals history says "
                f"{last.get('by')} at {last.get('at')}; a hand edit? submit the quote again")
    return None
