"""Discount policy and approvals: who may give what, and whether an approval still holds.

``discount_policy`` in crm.yaml gives each role the most it may discount per
product category (``authority``), a minimum margin over cost, and the roles in
rank order. What is judged is each line's total reduction from list — the
price book's price, discount and volume tier, the line discount, its share of
the quote discount and of every negative fee — and its margin on what the
seller keeps (ex tax). A quote needs the lowest role whose authority covers
every line's reduction and, when a line's margin is below the minimum or its
cost is unknown, the ``margin_approver``.

An approval stores a SHA-256 hash of everything the customer signs and the
policy judged (lines with cost and printed names, account, contact, currency,
price book, terms, validity, language, fees, totals) and one digest per field,
so a stale approval says which field changed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from crmctl.core.money import to_decimal
from crmctl.core.percent import percent_points
from crmctl.core.states import ApprovalState, ApprovalStatus

HUNDRED = Decimal(100)
# the quote fields an approval covers besides its lines (every key of every line is covered)
SIGNED_FIELDS = ("title", "account", "contact", "owner", "opportunity", "currency", "pricebook", "date", "valid_until",
                 "lang", "payment_terms", "notes", "discount", "fees", "totals", "tax_exempt")


@dataclass(frozen=True)
class Requirement:
    """The approval a quote needs: the role, and why (one reason per line that needs more than a rep)."""

    role: str
    reasons: tuple[str, ...]
    beyond: tuple[str, ...] = ()     # lines beyond anyone's authority: no approval can save them


@dataclass(frozen=True)
class Judged:
    """One line as the policy sees it (amounts for the whole line, in the quote's currency).

    ``list_amount``: the configured list price x qty (no price book);
    ``paid``: what the customer pays for it after every reduction (same tax basis as list);
    ``kept``: ``paid`` less the tax it includes (= ``paid`` in exclusive mode);
    ``cost``: extended cost from the catalog, None when unknown (``unknown`` says which part).
    """

    n: int
    sku: str
    category: str | None
    list_amount: Decimal
    paid: Decimal
    kept: Decimal
    cost: Decimal | None
    unknown: tuple[str, ...] = ()

    @property
    def reduction(self) -> Decimal:
        """Percent taken off list, however it was expressed."""
        return (self.list_amount - self.paid) / self.list_amount * HUNDRED if self.list_amount > 0 else Decimal(0)

    @property
    def margin(self) -> Decimal | None:
        return margin(self.kept, self.cost)


def ranks(settings: Any) -> list[str]:
    """Roles from least to most authority (``discount_policy.authority`` order)."""
    return [str(r) for r in (settings.get("discount_policy.authority", {}) or {})]


def rank(settings: Any, role: str | None) -> int:
    order = ranks(settings)
    return order.index(role) if role in order else -1


def authority(settings: Any, role: str, category: str | None) -> Decimal:
    table = settings.get(f"discount_policy.authority.{role}", {}) or {}
    value = table.get(category or "default", table.get("default", 0))
    return to_decimal(value, f"discount_policy.authority.{role}")


def margin(kept: Decimal, cost: Decimal | None) -> Decimal | None:
    """Margin over cost as a percent of what the seller keeps (net ex tax), or None when cost is unknown."""
    if cost is None or kept <= 0:
        return None
    return (kept - cost) / kept * HUNDRED


def level(settings: Any, category: str | None, reduction: Decimal, margin_pct: Decimal | None,
          cost_known: bool = True) -> tuple[int, list[str], list[str]]:
    """The policy for one line: (rank index of the role needed, reasons, beyond-authority reasons).

    ``reduction`` is percent off list; ``margin_pct`` percent of net ex tax.
    Unknown cost needs what a margin below the floor needs.
    """
    order = ranks(settings)
    needed, reasons, beyond = 0, [], []
    min_margin = to_decimal(settings.get("discount_policy.min_margin_percent", 0) or 0)
    margin_role = str(settings.get("discount_policy.margin_approver", order[-1] if order else "director"))
    if reduction > 0:
        fits = [i for i, role in enumerate(order) if authority(settings, role, category) >= reduction]
        if not fits:
            beyond.append(f"{percent_points(reduction)}% off list is beyond every role's authority "
                          f"(at most {percent_points(authority(settings, order[-1], category))}% for {category or 'default'})")
        elif fits[0] > 0:
            needed = fits[0]
            reasons.append(f"{percent_points(reduction)}% off list needs a {order[fits[0]]}")
    if not cost_known:
        needed = max(needed, rank(settings, margin_role))
        reasons.append(f"cost unknown, needs a {margin_role}")
    elif margin_pct is not None and margin_pct < min_margin:
        needed = max(needed, rank(settings, margin_role))
        reasons.append(f"margin {percent_points(margin_pct)}% ex tax is below the {percent_points(min_margin)}% minimum, "
                       f"needs a {margin_role}")
    return needed, reasons, beyond


def requirement(lines: list[Judged], settings: Any) -> Requirement:
    """The lowest role that may approve these judged lines."""
    order = ranks(settings)
    needed, reasons, beyond = 0, [], []
    for line in lines:
        what = f"line {line.n} ({line.sku})"
        unknown = ", ".join(line.unknown) or "product"
        got, why, over = level(settings, line.category, line.reduction, line.margin, line.cost is not None)
        needed = max(needed, got)
        reasons += [f"{what}: {r.replace('cost unknown', f'cost unknown ({unknown} has no cost)')}" for r in why]
        beyond += [f"{what}: {r}" for r in over]
    return Requirement(order[needed] if order else "rep", tuple(reasons), tuple(beyond))


def may_approve(settings: Any, role: str | None, needed: str) -> bool:
    return rank(settings, role) >= rank(settings, needed) >= 0


def signed_fields(quote: Mapping[str, Any]) -> dict[str, Any]:
    """Everything an approval covers, field by field (``line 2 cost``: one line's one field)."""
    out: dict[str, Any] = {k: quote.get(k) for k in SIGNED_FIELDS}
    lines = [dict(line) for line in quote.get("lines") or []]
    out["lines"] = len(lines)
    for n, line in enumerate(lines, 1):
        for key, value in line.items():
            out[f"line {n} {key}"] = value
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(quote: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything the approval covers (:func:`signed_fields`)."""
    return _digest(signed_fields(quote))


def field_digests(quote: Mapping[str, Any]) -> dict[str, str]:
    """One short digest per covered field, stored with an approval so a stale one can say what changed."""
    return {k: _digest(v)[:16] for k, v in signed_fields(quote).items()}


def changed_fields(quote: Mapping[str, Any]) -> list[str]:
    """The covered fields that differ from what was approved (empty when unknown or unchanged)."""
    before = (quote.get("approval") or {}).get("fields") or {}
    now = field_digests(quote)
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k)) if before else []


def approval_state(quote: Mapping[str, Any]) -> ApprovalState:
    """``missing``, ``stale`` (content changed since) or ``valid``."""
    approval = quote.get("approval") or {}
    if approval.get("status") != ApprovalStatus.APPROVED:
        return ApprovalState.MISSING
    return ApprovalState.VALID if approval.get("hash") == content_hash(quote) else ApprovalState.STALE
