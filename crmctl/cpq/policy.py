"""Discount policy and approvals: who may give what, and whether an approval still holds.

``discount_policy`` in crm.yaml gives each role the most it may discount per
product category (``authority``), a minimum margin over cost, and the roles in
rank order. A quote needs the lowest role whose authority covers every line's
effective discount (line and quote discount together) and, when a line's
margin is below the minimum, the ``margin_approver``. An approval stores a
SHA-256 hash of the priced content; when the content changes, the hash no
longer matches and the approval is stale.
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
# the fields of a quote whose change invalidates an approval
PRICED_FIELDS = ("currency", "discount", "fees", "totals")
LINE_FIELDS = ("sku", "options", "qty", "discount", "group", "unit_price", "gross", "net", "tax_rate")


@dataclass(frozen=True)
class Requirement:
    """The approval a quote needs: the role, and why (one reason per line that needs more than a rep)."""

    role: str
    reasons: tuple[str, ...]
    beyond: tuple[str, ...] = ()     # lines beyond anyone's authority: no approval can save them


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


def effective_discount(line_discount: Decimal, quote_discount: Decimal) -> Decimal:
    """Line and quote discounts compound: 10% then 5% is 14.5% off."""
    return HUNDRED - (HUNDRED - line_discount) * (HUNDRED - quote_discount) / HUNDRED


def margin(net: Decimal, cost: Decimal | None) -> Decimal | None:
    """Margin over cost as a percent of the net price, or None when cost is unknown."""
    if cost is None or net <= 0:
        return None
    return (net - cost) / net * HUNDRED


def requirement(lines: list[Mapping[str, Any]], quote_discount: Decimal, categories: Mapping[str, str | None],
                settings: Any) -> Requirement:
    """The lowest role that may approve these priced lines (``categories``: SKU -> product category)."""
    order = ranks(settings)
    needed, reasons, beyond = 0, [], []
    min_margin = to_decimal(settings.get("discount_policy.min_margin_percent", 0) or 0)
    margin_role = str(settings.get("discount_policy.margin_approver", order[-1] if order else "director"))
    for n, line in enumerate(lines, 1):
        sku = str(line.get("sku"))
        category = categories.get(sku)
        pct = effective_discount(to_decimal(line.get("discount") or 0), quote_discount)
        if pct > 0:
            fits = [i for i, role in enumerate(order) if authority(settings, role, category) >= pct]
            if not fits:
                beyond.append(f"line {n} ({sku}): {percent_points(pct)}% discount is beyond every role's authority "
                              f"(at most {percent_points(authority(settings, order[-1], category))}% "
                              f"for {category or 'default'})")
            elif fits[0] > 0:
                needed = max(needed, fits[0])
                reasons.append(f"line {n} ({sku}): {percent_points(pct)}% discount needs a {order[fits[0]]}")
        net = to_decimal(line.get("net"), "net") * (HUNDRED - quote_discount) / HUNDRED
        got = margin(net, to_decimal(line["cost"]) if line.get("cost") not in (None, "") else None)
        if got is not None and got < min_margin:
            needed = max(needed, rank(settings, margin_role))
            reasons.append(f"line {n} ({sku}): margin {percent_points(got)}% is below the "
                           f"{percent_points(min_margin)}% minimum, needs a {margin_role}")
    return Requirement(order[needed] if order else "rep", tuple(reasons), tuple(beyond))


def may_approve(settings: Any, role: str | None, needed: str) -> bool:
    return rank(settings, role) >= rank(settings, needed) >= 0


def content_hash(quote: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the priced content (lines, prices, discounts, fees, currency)."""
    lines = [{k: line.get(k) for k in LINE_FIELDS} for line in quote.get("lines") or []]
    content = {"lines": lines, **{k: quote.get(k) for k in PRICED_FIELDS}}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def approval_state(quote: Mapping[str, Any]) -> ApprovalState:
    """``missing``, ``stale`` (content changed since) or ``valid``."""
    approval = quote.get("approval") or {}
    if approval.get("status") != ApprovalStatus.APPROVED:
        return ApprovalState.MISSING
    return ApprovalState.VALID if approval.get("hash") == content_hash(quote) else ApprovalState.STALE
