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
from crmctl.core.text import a_an
from crmctl.cpq import policy
from crmctl.cpq.quotes import (accepted_rivals, ensure_editable, event, quote_problems, reprice, requirement,
                               tax_status_change)


def submit(book: Book, data: Mapping[str, Any], actor: Record, clock: Clock, qid: str = "Q") -> tuple[dict[str, Any], str]:
    """Work out the approval needed: approve at once within the submitter's authority, else ask.

    Refused (PolicyError) for a quote `check` reports a problem with, after repricing (:func:`checks.refuse_problems`).
    """
    from crmctl.cpq.checks import refuse_problems

    ensure_editable(data, clock.today)
    problems = quote_problems(book, data)
    if problems:
        raise PolicyError("cannot submit: " + "; ".join(problems))
    out = reprice(book, data)   # approve what today's rules say, not a stale snapshot
    # as the draft it becomes: the approval it replaces is not judged
    refuse_problems(book, qid, {**out, "status": QuoteStatus.DRAFT.value}, "submit", clock.today)
    need = requirement(book, out)
    if need.beyond:
        raise PolicyError("; ".join(need.beyond) + "; lower the discount")
    at = clock.at
    digest = policy.content_hash(out)
    history = list(out.get("approvals") or [])
    fields = policy.field_digests(out)
    if policy.may_approve(book.settings, actor.get("role"), need.role):
        out["approval"] = policy.approval_record(status=ApprovalStatus.APPROVED.value, required_role=need.role, by=actor.id,
                                                 role=actor.get("role"), at=at, hash=digest, fields=fields, auto=True)
        out["approvals"] = [*history, event("approved", actor, at, hash=digest, note="within the submitter's authority")]
        out["status"] = QuoteStatus.APPROVED.value
        return out, f"approved: within {actor.id}'s authority ({actor.get('role')})"
    out["approval"] = policy.approval_record(status=ApprovalStatus.PENDING.value, required_role=need.role,
                                             requested_by=actor.id, requested_at=at, hash=digest, fields=fields,
                                             reasons=list(need.reasons))
    out["approvals"] = [*history, event("submitted", actor, at, hash=digest, needs=need.role)]
    out["status"] = QuoteStatus.PENDING_APPROVAL.value
    return out, f"pending approval by {a_an(need.role)}: " + "; ".join(need.reasons)


def decide(book: Book, data: Mapping[str, Any], actor: Record, approve: bool, reason: str | None,
           clock: Clock, qid: str = "Q") -> dict[str, Any]:
    """Approve or reject a pending quote — only a user whose role may approve what it needs; a quote `check`
    reports a problem with is never approved."""
    from crmctl.cpq.checks import refuse_problems

    now = quote_status(data, clock.today)
    if now != QuoteStatus.PENDING_APPROVAL:
        raise PolicyError(f"quote is {now}, not pending_approval; `crmctl quote submit` it first")
    approval = dict(data.get("approval") or {})
    need = requirement(book, data)   # from the content, never trusting what the file says
    if not policy.may_approve(book.settings, actor.get("role"), need.role):
        raise PolicyError(f"{actor.id} ({actor.get('role')}) may not {'approve' if approve else 'reject'} this quote: "
                          f"it needs {a_an(need.role)} ({'; '.join(need.reasons) or 'policy'})")
    digest = policy.content_hash(data)
    if not policy.covers(data, approval.get("hash")):
        raise PolicyError(f"the quote changed since it was submitted ({_changed(data)}); `crmctl quote submit` it again")
    moved = tax_status_change(book, data) if approve else None
    if moved:
        raise PolicyError(f"cannot approve: {moved}; `crmctl quote submit` it again (re-prices it)")
    if approve:
        refuse_problems(book, qid, data, "approve", clock.today)
    at = clock.at
    out = dict(data)
    if approve:
        out["approval"] = policy.approval_record(status=ApprovalStatus.APPROVED.value, required_role=need.role, by=actor.id,
                                                 role=actor.get("role"), at=at, hash=digest,
                                                 fields=policy.field_digests(data), requested_by=approval.get("requested_by"))
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


def require_valid_approval(book: Book, qid: str, data: Mapping[str, Any], doing: str, frozen: bool = False,
                           older: bool = False) -> None:
    """The approval exists, covers today's content, and its approver's role covers what the catalog and policy
    require now (``frozen``: the lines' cost and list value as frozen at submit, for a quote already sent;
    ``older``: ``data`` is an earlier version, see :func:`crmctl.cpq.proof.approval_history_problem`).
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
    moved = None if frozen else tax_status_change(book, data)
    if moved:
        raise PolicyError(f"cannot {doing}: the approval is stale: {moved}; `crmctl quote submit` it again (re-prices it)")
    need = requirement(book, data, frozen)
    approver = book.lookup("users", (data.get("approval") or {}).get("by"))
    if need.beyond or approver is None or not policy.may_approve(book.settings, approver.get("role"), need.role):
        raise PolicyError(f"cannot {doing}: the approval does not cover the discount (needs {a_an(need.role)}); submit it again")
    forged = approval_history_problem(data, older)
    if forged:
        raise PolicyError(f"cannot {doing}: {forged}")
    unsigned = unproven(book, [Record("quotes", qid, dict(data))]).get(qid)
    if unsigned:
        raise PolicyError(f"cannot {doing}: {unsigned[0]}" + (f" (and {len(unsigned) - 1} more; run `crmctl check`)"
                                                              if len(unsigned) > 1 else ""))


def not_sendable(now: QuoteStatus | str, data: Mapping[str, Any]) -> str:
    """Why a quote in status ``now`` (not approved) cannot be sent, and what to do instead."""
    if now == QuoteStatus.EXPIRED:
        return (f"cannot send an expired quote (it was valid until {data.get('valid_until')}); `crmctl quote revise` "
                "makes a new version to send")
    if now in (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        return (f"the quote was sent already (as {data.get('number')}; now {now}); `crmctl quote render` prints it "
                "again, `crmctl quote revise` makes a new version")
    if now == QuoteStatus.PENDING_APPROVAL:
        return "cannot send a quote pending approval; it needs its approver's `crmctl quote approve` first"
    if now in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
        return f"cannot send a {now} quote; it must be approved first (`crmctl quote submit`)"
    return f"cannot send a quote whose status is {now!r}; `crmctl check` names the problem"


def send(book: Book, qid: str, data: Mapping[str, Any], actor: Record, clock: Clock) -> dict[str, Any]:
    """Give the document number and freeze what the document prints (status sent).

    The lines are frozen already (priced, with their printed names and
    configuration); what the document reads from elsewhere — the seller from
    crm.yaml, the buyer, contact and owner from their records, English units
    and group names, each line's printed unit price — is frozen in ``as_sent``
    (:func:`crmctl.cpq.document.live_sources`), so a re-render prints what was sent.
    """
    from crmctl.cpq.document import live_sources

    now = quote_status(data, clock.today)
    if now != QuoteStatus.APPROVED:
        raise PolicyError(not_sendable(now, data))
    require_valid_approval(book, qid, data, "send")
    from crmctl.cpq.checks import refuse_problems

    refuse_problems(book, qid, data, "send", clock.today)
    out = dict(data)
    if not out.get("number"):
        fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
        out["number"] = book.next_number("quotes", fmt, clock.today.year)
    at = clock.at
    out["status"], out["sent_at"] = QuoteStatus.SENT.value, at
    out["as_sent"] = live_sources(book, out)
    # the sent entry keeps a digest of what was frozen, so `check` can tell a hand edit of it
    out["status_history"] = [*(data.get("status_history") or []),
                             event("sent", actor, at, document=policy.digest_of(out["as_sent"]))]
    return out


def accept(book: Book, qid: str, data: Mapping[str, Any], actor: Record, clock: Clock
           ) -> tuple[dict[str, Any], tuple[str, dict[str, Any]], dict[str, Any] | None]:
    """The accepted quote, the new order (id, data) and the won opportunity's data (or None)."""
    from crmctl.l2c.orders import build_order
    from crmctl.l2c.pipeline import win

    now = quote_status(data, clock.today)
    if now != QuoteStatus.SENT:
        raise PolicyError(f"cannot accept {a_an(now)} quote" + ("; it passed its valid_until date — revise it"
                                                          if now == QuoteStatus.EXPIRED
                                                          else "; only a sent quote can be accepted"))
    require_valid_approval(book, qid, data, "accept", frozen=True)
    rivals = accepted_rivals(book, qid, data)
    if rivals:
        first = rivals[0]
        raise PolicyError(f"opportunity {data.get('opportunity')} already has an accepted quote: {first.id} "
                          f"({first.get('number') or 'no number'}, order {first.get('order') or 'none'}); cancel that "
                          "order first, or quote this deal as a new opportunity")
    at = clock.at
    order = build_order(book, account=str(data["account"]), currency=str(data["currency"]),
                        total=to_decimal(data["total"]), lines=order_lines(book, data), day=clock.today, created=at,
                        opportunity=data.get("opportunity"), quote=qid, owner=data.get("owner"),
                        totals=dict(data.get("totals") or {}))
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


# what an order line keeps of its quote line: what was sold, how it was priced, and its cost
ORDER_LINE_KEYS = ("sku", "name", "name_zh", "options", "printed", "group", "qty", "unit", "list_unit", "unit_price",
                   "tier", "gross", "discount", "net", "tax_rate", "tax_parts", "cost", "cost_unknown")


def order_lines(book: Book, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The order's lines for an accepted quote: each quote line as priced, with its share of the quote's reductions
    (``quote_discount``), ``ex_tax``, ``tax`` and ``amount`` (what the customer pays for it), then one line per
    positive fee. The amounts add up to the quote's total and the taxes to its tax, or nothing is ordered.

    Tax as the quote was priced: its mode and exemption from its ``totals``, its rates from the lines.
    """
    from crmctl.core.money import money_str
    from crmctl.cpq.pricing import quote_tax_rules, settle

    cur, totals = str(data["currency"]), data.get("totals") or {}
    tax = quote_tax_rules(book.settings, data)
    lines, fees = list(data.get("lines") or []), list(data.get("fees") or [])
    _, settled, fee_parts, _ = settle(lines, to_decimal(data.get("discount") or 0), fees, cur, tax,
                                      totals.get("tax_exempt") or None)
    out = []
    for line, s in zip(lines, settled):
        row = {k: line[k] for k in ORDER_LINE_KEYS if line.get(k) not in (None, "")}
        if s.share:
            row["quote_discount"] = money_str(s.share, cur)
        out.append({**row, "ex_tax": money_str(s.ex_tax, cur), "tax": money_str(s.tax, cur), "amount": money_str(s.amount, cur)})
    positive = [fee for fee in fees if to_decimal(fee.get("amount"), "fee amount") > 0]
    for fee, s in zip(positive, fee_parts):
        out.append({"fee": str(fee.get("name")), **({"name_en": fee["name_en"]} if fee.get("name_en") else {}),
                    "ex_tax": money_str(s.ex_tax, cur), "tax": money_str(s.tax, cur), "amount": money_str(s.amount, cur)})
    paid = sum((s.amount for s in settled + fee_parts), to_decimal(0))
    taxed = sum((s.tax for s in settled + fee_parts), to_decimal(0))
    if paid != to_decimal(data["total"]) or taxed != to_decimal(totals.get("tax") or 0):
        raise PolicyError(f"the quote's lines come to {money_str(paid, cur)} (tax {money_str(taxed, cur)}) today but it says "
                          f"{data['total']} (tax {totals.get('tax')}): crm.yaml's tax settings changed since it was priced; "
                          "revise the quote and send it again")
    return out


def decline(data: Mapping[str, Any], actor: Record, reason: str, clock: Clock) -> dict[str, Any]:
    at = clock.at
    now = quote_status(data, clock.today)
    if now not in QUOTE_DECLINABLE:
        raise PolicyError(f"cannot decline {a_an(now)} quote; only a sent quote is declined by the customer")
    out = dict(data)
    out["status"], out["decline_reason"] = QuoteStatus.DECLINED.value, reason
    out["status_history"] = [*(data.get("status_history") or []), event("declined", actor, at, reason=reason)]
    return out

