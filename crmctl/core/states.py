"""Every record type's states, and the status derived from them, defined once.

Records stay plain dicts on disk (``status: sent``); this module is the one
place that says which values a status or stage may take and what they mean.
Code elsewhere compares with these members or calls these functions, never
with a string literal (``== "won"``, ``in ("draft", "sent")``).

* Fixed states are string enums (``class QuoteStatus(str, Enum)``): a member
  *is* its text, so ``QuoteStatus.SENT == "sent"`` and it goes into JSON as
  ``"sent"``. Write ``.value`` into record data, so records hold plain ``str``.
* States a book configures in ``crm.yaml`` (pipeline stages, lead statuses)
  are read through small functions taking the settings: ``won_stage(settings)``,
  ``is_closed(settings, stage)``, ``lead_is_open(settings, data)``.
* Derived status needs the day, passed in (the clock is never read here):
  ``quote_status(data, day)`` (``expired``), ``visit_status(data, day)``
  (``missed``). An order's status follows its payments, so it is derived in
  :func:`crmctl.l2c.orders.status` from the values defined here.

Shapes: ``data`` is a record's data mapping (or a :class:`~crmctl.core.book.Record`,
anything with ``.get``); ``day`` is a :class:`datetime.date` in the book's zone.
"""
from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Any, Mapping, Protocol

from crmctl.core.errors import PolicyError
from crmctl.core.settings import Settings


class _Readable(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class State(str, Enum):
    """A state whose value is its text on disk (py3.10-compatible ``StrEnum``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Every value, in definition order (the schema's ``enum``)."""
        return tuple(m.value for m in cls)


# ---------------------------------------------------------------- quotes
class QuoteStatus(State):
    """draft -> pending_approval -> approved (or rejected) -> sent -> accepted / declined.

    ``expired`` is stored only in frozen versions; on a live quote it is computed
    by :func:`quote_status` once ``valid_until`` has passed.
    """

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


_QUOTE_VALUES = frozenset(QuoteStatus.values())
# a quote in one of these (computed) states is still in play: it can expire, be edited or be sent
QUOTE_OPEN = frozenset({QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.REJECTED,
                        QuoteStatus.SENT})
QUOTE_EDITABLE = frozenset({QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.REJECTED})
# a quote the customer may still decline (an approved one handed over informally, an expired one)
QUOTE_DECLINABLE = frozenset({QuoteStatus.SENT, QuoteStatus.APPROVED, QuoteStatus.EXPIRED})
# a quote in one of these stored states satisfies a stage's ``requires_approved_quote``
QUOTE_APPROVED_OR_LATER = frozenset({QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED})
# stored states of a quote (or version) whose document went to the customer; an ``expired`` one went out when it has
# ``sent_at`` (see :func:`quote_was_sent`). Only these and a validly ``approved`` quote print without the DRAFT mark.
QUOTE_WENT_OUT = frozenset({QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED})


def quote_status(data: _Readable, day: _dt.date) -> QuoteStatus | str:
    """The stored status, or ``expired`` for an open quote whose ``valid_until`` is before ``day``.

    A stored text that is no quote status (a hand edit ``check`` reports) is returned as it is:
    it is neither open nor editable, so every verb refuses it by name.
    """
    text = str(data.get("status") or QuoteStatus.DRAFT.value)
    if text not in _QUOTE_VALUES:
        return text
    stored = QuoteStatus(text)
    until = data.get("valid_until")
    if stored in QUOTE_OPEN and until and day > _dt.date.fromisoformat(str(until)[:10]):
        return QuoteStatus.EXPIRED
    return stored


def quote_was_sent(data: _Readable) -> bool:
    """Whether this quote (or frozen version) was sent to the customer: its document is then a record of what was sent."""
    return str(data.get("status") or "") in {str(s) for s in QUOTE_WENT_OUT} or bool(data.get("sent_at"))


def quote_is_accepted(data: _Readable) -> bool:
    """The customer accepted it: its order (``order:``) is the deal's order."""
    return str(data.get("status") or "") == QuoteStatus.ACCEPTED.value


def quote_is_open(data: _Readable, day: _dt.date) -> bool:
    """Still in play on ``day``: not accepted, declined or expired (the 360° view and ``quote verify`` count these)."""
    return quote_status(data, day) in QUOTE_OPEN


def quote_is_editable(data: _Readable, day: _dt.date) -> bool:
    return quote_status(data, day) in QUOTE_EDITABLE


class ApprovalStatus(State):
    """A quote's ``approval.status`` on disk."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ApprovalState(State):
    """Whether a quote's approval still covers it (computed by :func:`crmctl.cpq.policy.approval_state`)."""

    MISSING = "missing"
    STALE = "stale"
    VALID = "valid"


# ---------------------------------------------------------------- orders and payments
class OrderStatus(State):
    """An order's status follows the money (:func:`crmctl.l2c.orders.status`); ``cancelled`` is set by hand."""

    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


def order_is_cancelled(data: _Readable) -> bool:
    """A cancelled order counts for nothing: no revenue, nothing due, no payments."""
    return data.get("status") == OrderStatus.CANCELLED


# Payments carry no status: a payment is a fact (money received); what it means
# for its order is the order's status above.


# ---------------------------------------------------------------- visits
class VisitStatus(State):
    """planned -> in_progress (checked in) -> completed, or cancelled; ``missed`` is computed for a past planned visit."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"


# still to be done: steps can be ticked, it can be completed
VISIT_OPEN = frozenset({VisitStatus.PLANNED, VisitStatus.IN_PROGRESS})
# the customer was visited (restarts the cadence clock, counts as a touch)
VISITED = frozenset({VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED})
# fills a cadence slot in a plan's window
VISIT_COUNTED = frozenset({VisitStatus.PLANNED, VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED})


def visit_missed(stored: Any, date: Any, day: _dt.date) -> bool:
    """The one "missed" rule: a visit stored as planned whose date (ISO text) is before ``day`` ("today")."""
    return stored == VisitStatus.PLANNED and str(date) < day.isoformat()


def visit_status(data: _Readable, day: _dt.date) -> VisitStatus | str:
    """The stored status, or ``missed`` for a planned visit whose date is before ``day`` (:func:`visit_missed`)."""
    stored = str(data.get("status"))
    if visit_missed(stored, data.get("date"), day):
        return VisitStatus.MISSED
    return VisitStatus(stored) if stored in VisitStatus.values() else stored


def visit_is_cancelled(data: _Readable) -> bool:
    return data.get("status") == VisitStatus.CANCELLED


def visit_is_completed(data: _Readable) -> bool:
    return data.get("status") == VisitStatus.COMPLETED


def visit_is_done(data: _Readable) -> bool:
    """Visited (in progress or completed)."""
    return data.get("status") in VISITED


# ---------------------------------------------------------------- leads
class LeadStatus(State):
    """The lead statuses crmctl's verbs set; ``lead.statuses`` in crm.yaml may add more."""

    NEW = "new"
    WORKING = "working"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


# set only by `lead disqualify` / `lead convert`, never by --set
LEAD_SET_BY_VERB = frozenset({LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED})


def lead_open_statuses(settings: Settings) -> list[str]:
    """``lead.open_statuses`` from crm.yaml: the statuses that count against a rep's pool limit and get recycled."""
    return [str(s) for s in settings.get("lead.open_statuses", [LeadStatus.NEW.value, LeadStatus.WORKING.value,
                                                                LeadStatus.QUALIFIED.value])]


def lead_is_open(settings: Settings, data: _Readable) -> bool:
    return str(data.get("status")) in lead_open_statuses(settings) and not data.get("converted")


def lead_is_converted(data: _Readable) -> bool:
    """Converted by status or by its ``converted:`` links (either makes it read-only)."""
    return bool(data.get("converted")) or data.get("status") == LeadStatus.CONVERTED


def lead_has_status(data: _Readable, status: LeadStatus) -> bool:
    return data.get("status") == status


# ---------------------------------------------------------------- opportunities: pipeline stages from crm.yaml
def stages(settings: Settings) -> list[dict[str, Any]]:
    """``pipeline.stages`` in crm.yaml order: ``{id, name, probability, forecast, closed, won, moves_to, requires}``."""
    return list(settings.get("pipeline.stages", []) or [])


def stage_ids(settings: Settings) -> list[str]:
    return [str(s["id"]) for s in stages(settings)]


def stage(settings: Settings, stage_id: str) -> dict[str, Any]:
    """One stage's definition; an unknown id raises PolicyError naming the stages."""
    for item in stages(settings):
        if item["id"] == stage_id:
            return dict(item)
    raise PolicyError(f"unknown stage {stage_id!r}; stages are {', '.join(stage_ids(settings))}")


def won_stage(settings: Settings) -> str:
    """The stage marked ``won: true`` (``won`` by default; a book may call it ``closed_won``)."""
    found = next((str(s["id"]) for s in stages(settings) if s.get("won")), None)
    if found is None:
        raise PolicyError("no stage in pipeline.stages is marked won: true; mark one in crm.yaml")
    return found


def lost_stage(settings: Settings) -> str:
    """The closed stage that is not won."""
    found = next((str(s["id"]) for s in stages(settings) if s.get("closed") and not s.get("won")), None)
    if found is None:
        raise PolicyError("no stage in pipeline.stages is closed: true without won: true; add a lost stage in crm.yaml")
    return found


def first_stage(settings: Settings) -> str:
    return str(stages(settings)[0]["id"])


def closed_stages(settings: Settings) -> frozenset[str]:
    return frozenset(str(s["id"]) for s in stages(settings) if s.get("closed"))


def won_stages(settings: Settings) -> frozenset[str]:
    return frozenset(str(s["id"]) for s in stages(settings) if s.get("won"))


def is_closed(settings: Settings, stage_id: str) -> bool:
    """Won or lost (``closed: true``); an unknown stage raises PolicyError."""
    return bool(stage(settings, stage_id).get("closed"))


def is_won(settings: Settings, stage_id: Any) -> bool:
    """Whether ``stage_id`` is a won stage (False for None or an unknown stage)."""
    return str(stage_id) in won_stages(settings)


def opp_is_open(settings: Settings, data: _Readable) -> bool:
    """An opportunity in a stage that is not closed (an unknown stage counts as open, as `check` reports it)."""
    return str(data.get("stage")) not in closed_stages(settings)


def opp_is_won(settings: Settings, data: _Readable) -> bool:
    return is_won(settings, data.get("stage"))


def account_gate(settings: Settings) -> str:
    """``pipeline.account_required_from``: the first open stage in which a deal must name its account.

    Default: the open stage just before the won stage in crm.yaml's order (``negotiation`` in the
    default pipeline). Early deals may exist without one, as in Salesforce and HubSpot; won deals
    always need one. A name that is no open stage raises PolicyError.
    """
    ids = stage_ids(settings)
    wanted = settings.get("pipeline.account_required_from")
    if wanted is None:
        won = ids.index(won_stage(settings))
        open_before = [i for i in ids[:won] if i not in closed_stages(settings)]
        return open_before[-1] if open_before else won_stage(settings)
    text = str(wanted)
    if text not in ids or (text in closed_stages(settings) and text not in won_stages(settings)):
        raise PolicyError(f"pipeline.account_required_from in crm.yaml is {text!r}; name one of the stages "
                          f"{', '.join(i for i in ids if i not in closed_stages(settings) or i in won_stages(settings))}")
    return text


def needs_account(settings: Settings, stage_id: Any) -> bool:
    """Whether a deal in ``stage_id`` must name its account: the gate stage, the open stages after it, and won.

    A lost deal needs none (it may be lost before the customer was known); an unknown stage
    answers False (``check`` reports the stage itself).
    """
    ids = stage_ids(settings)
    text = str(stage_id)
    if text not in ids:
        return False
    if text in won_stages(settings):
        return True
    if text in closed_stages(settings):
        return False
    return ids.index(text) >= ids.index(account_gate(settings))


def opp_needs_account(data: _Readable, settings: Settings) -> str:
    """The schema's condition on ``account``: why this deal needs one, or "" (see :func:`needs_account`)."""
    stage_id = data.get("stage")
    if not needs_account(settings, stage_id):
        return ""
    return f"in stage {stage_id} (from stage {account_gate(settings)} on: pipeline.account_required_from in crm.yaml)"


def probabilities(settings: Settings) -> Mapping[str, Any]:
    """stage id -> its ``probability`` in crm.yaml (percent, a Decimal; 0 when not given)."""
    from crmctl.core.limits import read

    return {str(s["id"]): read(settings, f"pipeline.stages.{i}.probability", 0) for i, s in enumerate(stages(settings))}
