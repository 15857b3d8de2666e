"""A quote's way out: submit, approve or reject, send, accept, decline.

Who may approve is worked out from the priced content every time (never from
what the file claims), and a stale or missing approval blocks sending and
accepting. Each function returns new data; the CLI writes it. The clock is
passed in (a :class:`~crmctl.core.clock.Clock`); nothing here reads the time.
"""
from __future__ import annotations

from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.clock import Clock
from crmctl.core.errors import PolicyError
from crmctl.core.money import to_decimal
from crmctl.core.states import (QUOTE_DECLINABLE, ApprovalState, ApprovalStatus, QuoteStatus, opp_is_won,
                                quote_status)
from crmctl.cpq import policy
from crmctl.cpq.quotes import ensure_editable, event, quote_problems, reprice, requirement


def submit(book: Book, data: Mapping[str, Any], actor: Record, clock: Clock) -> tuple[dict[str, Any], str]:
    """Work out the approval needed: approve at once within the submitter's authority, else ask."""
    ensure_editable(data, clock.today)
    problems = quote_problems(book, data)
    if problems:
        raise PolicyError("cannot submit: " + "; ".join(problems))
    out = reprice(book, data)   # approve what today's rules say, not a stale snapshot
    need = requirement(book, out)
    if need.beyond:
        raise PolicyError("; ".join(need.beyond) + "; lower the discount")
    at = clock.at
    digest = policy.content_hash(out)
    history = list(out.get("approvals") or [])
    fields = policy.field_digests(out)
    if policy.may_approve(book.settings, actor.get("role"), need.role):
        out["approval"] = {"status": ApprovalStatus.APPROVED.value, "required_role": need.role, "by": actor.id,
                           "role": actor.get("role"), "at": at, "hash": digest, "fields": fields, "auto": True}
        out["approvals"] = [*history, event("approved", actor, at, hash=digest, note="within the submitter's authority")]
        out["status"] = QuoteStatus.APPROVED.value
        return out, f"approved: within {actor.id}'s authority ({actor.get('role')})"
    out["approval"] = {"status": ApprovalStatus.PENDING.value, "required_role": need.role, "requested_by": actor.id,
                       "requested_at": at, "hash": digest, "fields": fields, "reasons": list(need.reasons)}
    out["approvals"] = [*history, event("submitted", actor, at, hash=digest, needs=need.role)]
    out["status"] = QuoteStatus.PENDING_APPROVAL.value
    return out, f"pending approval by a {need.role}: " + "; ".join(need.reasons)


def decide(book: Book, data: Mapping[str, Any], actor: Record, approve: bool, reason: str | None,
           clock: Clock) -> dict[str, Any]:
    """Approve or reject a pending quote — only a user whose role may approve what it needs."""
    now = quote_status(data, clock.today)
    if now != QuoteStatus.PENDING_APPROVAL:
        raise PolicyError(f"quote is {now}, not pending_approval; `crmctl quote submit` it first")
    approval = dict(data.get("approval") or {})
    need = requirement(book, data)   # from the content, never trusting what the file says
    if not policy.may_approve(book.settings, actor.get("role"), need.role):
        raise PolicyError(f"{actor.id} ({actor.get('role')}) may not {'approve' if approve else 'reject'} this quote: "
                          f"it needs a {need.role} ({'; '.join(need.reasons) or 'policy'})")
    digest = policy.content_hash(data)
    if approval.get("hash") != digest:
        raise PolicyError(f"the quote changed since it was submitted ({_changed(data)}); `crmctl quote submit` it again")
    at = clock.at
    out = dict(data)
    if approve:
        out["approval"] = {"status": ApprovalStatus.APPROVED.value, "required_role": need.role, "by": actor.id,
                           "role": actor.get("role"), "at": at, "hash": digest, "fields": policy.field_digests(data),
                           "requested_by": approval.get("requested_by")}
        out["status"] = QuoteStatus.APPROVED.value
    else:
        out["approval"] = {**approval, "status": ApprovalStatus.REJECTED.value, "by": actor.id, "at": at, "reason": reason}
        out["status"] = QuoteStatus.REJECTED.value
    out["approvals"] = [*(data.get("approvals") or []),
                        event("approved" if approve else "rejected", actor, at, hash=digest, reason=reason)]
    return out


def _changed(data: Mapping[str, Any]) -> str:
    fields = policy.changed_fields(data)
    return "changed: " + ", ".join(fields) if fields else "content changed"


def require_valid_approval(book: Book, qid: str, data: Mapping[str, Any], doing: str, frozen: bool = False) -> None:
    """The approval exists, covers today's content, and its approver's role covers what the catalog and policy
    require now (``frozen``: the lines' cost and list value as frozen at submit, for a quote already sent).
    With ``policy.signed_approvals`` every approval decision of quote ``qid`` must be proven by a commit signed
    by its approver (:mod:`crmctl.cpq.signed`)."""
    from crmctl.cpq.proof import approval_history_problem
    from crmctl.cpq.signed import unproven

    state = policy.approval_state(data)
    if state == ApprovalState.MISSING:
        raise PolicyError(f"cannot {doing}: the quote has no approval; `crmctl quote submit` it first")
    if state == ApprovalState.STALE:
        raise PolicyError(f"cannot {doing}: the approval is stale ({_changed(data)} since "
                          f"{(data.get('approval') or {}).get('at')}); `crmctl quote submit` it again")
    need = requirement(book, data, frozen)
    approver = book.lookup("users", (data.get("approval") or {}).get("by"))
    if need.beyond or approver is None or not policy.may_approve(book.settings, approver.get("role"), need.role):
        raise PolicyError(f"cannot {doing}: the approval does not cover the discount (needs a {need.role}); submit it again")
    forged = approval_history_problem(data)
    if forged:
        raise PolicyError(f"cannot {doing}: {forged}")
    unsigned = unproven(book, [Record("quotes", qid, dict(data))]).get(qid)
    if unsigned:
        raise PolicyError(f"cannot {doing}: {unsigned[0]}" + (f" (and {len(unsigned) - 1} more; run `crmctl check`)"
                                                              if len(unsigned) > 1 else ""))


def send(book: Book, qid: str, data: Mapping[str, Any], actor: Record, clock: Clock) -> dict[str, Any]:
    """Give the document number and freeze the priced lines (status sent)."""
    now = quote_status(data, clock.today)
    if now != QuoteStatus.APPROVED:
        raise PolicyError(f"cannot send a {now} quote; it must be approved first (`crmctl quote submit`)")
    require_valid_approval(book, qid, data, "send")
    out = dict(data)
    if not out.get("number"):
        fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
        out["number"] = book.next_number("quotes", fmt, clock.today.year)
    at = clock.at
    out["status"], out["sent_at"] = QuoteStatus.SENT.value, at
    out["status_history"] = [*(data.get("status_history") or []), event("sent", actor, at)]
    return out


def accept(book: Book, qid: str, data: Mapping[str, Any], actor: Record, clock: Clock
           ) -> tuple[dict[str, Any], tuple[str, dict[str, Any]], dict[str, Any] | None]:
    """The accepted quote, the new order (id, data) and the won opportunity's data (or None)."""
    from crmctl.l2c.orders import build_order
    from crmctl.l2c.pipeline import win

    now = quote_status(data, clock.today)
    if now != QuoteStatus.SENT:
        raise PolicyError(f"cannot accept a {now} quote" + ("; it passed its valid_until date — revise it"
                                                          if now == QuoteStatus.EXPIRED
                                                          else "; only a sent quote can be accepted"))
    require_valid_approval(book, qid, data, "accept", frozen=True)
    at = clock.at
    order_lines = [{k: line.get(k) for k in ("sku", "name", "options", "qty", "unit_price", "discount", "net", "tax_rate", "group")
                    if line.get(k) is not None} for line in data.get("lines") or []]
    order = build_order(book, account=str(data["account"]), currency=str(data["currency"]),
                        total=to_decimal(data["total"]), lines=order_lines, day=clock.today, created=at,
                        opportunity=data.get("opportunity"), quote=qid, owner=data.get("owner"))
    out = dict(data)
    out["status"], out["order"] = QuoteStatus.ACCEPTED.value, order[0]
    out["status_history"] = [*(data.get("status_history") or []), event("accepted", actor, at, order=order[0])]
    opp = None
    if data.get("opportunity") and book.settings.get("pipeline.win_on_quote_accept", True):
        rec = book.lookup("opportunities", data["opportunity"])
        if rec is not None and not opp_is_won(book.settings, rec):
            # the accepted quote is the evidence the gates ask for; a deal without an account takes the quote's
            opp = win({**rec.data, "account": rec.get("account") or data["account"]}, actor.id, at, book.settings, gates=False)
            opp["amount"] = data["total"]
    return out, order, opp


def decline(data: Mapping[str, Any], actor: Record, reason: str, clock: Clock) -> dict[str, Any]:
    at = clock.at
    now = quote_status(data, clock.today)
    if now not in QUOTE_DECLINABLE:
        raise PolicyError(f"cannot decline a {now} quote; only a sent quote is declined by the customer")
    out = dict(data)
    out["status"], out["decline_reason"] = QuoteStatus.DECLINED.value, reason
    out["status_history"] = [*(data.get("status_history") or []), event("declined", actor, at, reason=reason)]
    return out

