"""The visit cadence: how many days apart an account should be visited.

One rule for `visit plan`, the PDCA report and the 360° view.

From ``visits.cadence`` in crm.yaml: the account's lifecycle stage
(``by_lifecycle``) wins over its tier (``by_tier``); an account matching
neither gets ``default_days``. 0 means the account is not visited on a
cadence. This module imports nothing heavy, so the 360° view can use it.
"""
from __future__ import annotations

from typing import Any, Callable

from crmctl.core.limits import read
from crmctl.core.settings import Settings


def cadence_rule(settings: Settings) -> Callable[[Any], int]:
    """A function giving an account's (data or Record) days between visits; 0 means not planned.

    Settings are read once, so calling the function for each of 10,000 accounts is cheap.
    """
    by_life = {str(k): int(read(settings, f"visits.cadence.by_lifecycle.{k}"))
               for k in settings.get("visits.cadence.by_lifecycle", {}) or {}}
    by_tier = {str(k): int(read(settings, f"visits.cadence.by_tier.{k}")) for k in settings.get("visits.cadence.by_tier", {}) or {}}
    fallback = int(read(settings, "visits.cadence.default_days", 0))

    def days(account: Any) -> int:
        life, tier = account.get("lifecycle"), account.get("tier")
        if life is not None and str(life) in by_life:
            return by_life[str(life)]
        if tier is not None and str(tier) in by_tier:
            return by_tier[str(tier)]
        return fallback
    return days


def cadence_days(settings: Settings, account: Any) -> int:
    """One account's days between visits (0: not planned); see :func:`cadence_rule` for many accounts."""
    return cadence_rule(settings)(account)
