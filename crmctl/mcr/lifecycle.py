"""An account's lifecycle stage, computed from its orders and activity.

The rules come from ``account.lifecycle_rules`` in crm.yaml, applied in this
order to the account's figures (rolled up over its subsidiaries):

1. no order ever                                       → prospect
2. last touch older than ``churned_after_days``        → churned
3. last touch older than ``dormant_after_days``        → dormant
4. revenue of the last 12 months ≥ ``key_account_revenue_12m`` → key_account
5. otherwise                                           → customer

``account lifecycle --apply`` writes the computed stage and appends
``{action: lifecycle, from, to, at, by, reason}`` to the account's history.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmctl.core.limits import read
from crmctl.core.settings import Settings
from crmctl.mcr.figures import Figures
from crmctl.mcr.history import appended


@dataclass(frozen=True)
class Verdict:
    stage: str
    reason: str


def compute(fig: Figures, settings: Settings) -> Verdict:
    """The lifecycle stage the figures call for, and why."""
    churned = int(read(settings, "account.lifecycle_rules.churned_after_days", 365))
    dormant = int(read(settings, "account.lifecycle_rules.dormant_after_days", 180))
    key_revenue = Decimal(read(settings, "account.lifecycle_rules.key_account_revenue_12m", 1000000))
    if not fig.orders:
        return Verdict("prospect", "no orders yet")
    days = fig.days_since_touch if fig.days_since_touch is not None else churned
    if days >= churned:
        return Verdict("churned", f"last touch {days} days ago (>= {churned})")
    if days >= dormant:
        return Verdict("dormant", f"last touch {days} days ago (>= {dormant})")
    if fig.revenue_12m >= key_revenue:
        return Verdict("key_account", f"revenue 12m {fig.revenue_12m} >= {key_revenue}")
    return Verdict("customer", f"revenue 12m {fig.revenue_12m}, last touch {days} days ago")


def applied(data: dict[str, Any], verdict: Verdict, by: str | None, at: str) -> dict[str, Any]:
    """A copy of an account's data with the computed stage and the change in its history."""
    out = dict(data)
    out["lifecycle"] = verdict.stage
    out["history"] = appended(data, "lifecycle", at, by, **{"from": data.get("lifecycle")}, to=verdict.stage, reason=verdict.reason)
    return out
