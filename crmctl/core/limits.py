"""The numeric settings in crm.yaml and their sane ranges, checked when a book's settings load.

A negative lock timeout, a cadence of a million days or ``validity_days: soon``
used to surface as "internal error (ValueError ...)" deep inside whichever
command first did arithmetic with it. Every number crm.yaml holds is listed
here once with the range that makes sense; :func:`check` refuses the first
one out of range with one line naming the key, so every command (``check``
included) stops before doing anything.
"""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, NamedTuple

from crmctl.core.errors import CrmError


class Limit(NamedTuple):
    """The range of one numeric setting: ``low`` to ``high`` ``unit``; whole numbers unless ``fraction``."""

    low: float
    high: float
    unit: str
    fraction: bool = False
    empty_ok: bool = False  # null or "" means "off" for this key


# dotted key (``*``: every key of that mapping) -> its limit
NUMBERS: dict[str, Limit] = {
    "limits.lock_timeout_seconds": Limit(0, 3600, "seconds", fraction=True),
    "lead.pool.recycle_after_days": Limit(0, 36500, "days", empty_ok=True),
    "lead.pool.max_open_per_rep": Limit(1, 1_000_000, "leads", empty_ok=True),
    "payments.overdue_grace_days": Limit(0, 3650, "days"),
    "imports.max_columns": Limit(1, 100_000, "columns"),
    "imports.max_cell_bytes": Limit(1, 1 << 30, "bytes"),
    "quotes.validity_days": Limit(1, 3650, "days"),
    "account.lifecycle_rules.dormant_after_days": Limit(1, 36500, "days"),
    "account.lifecycle_rules.churned_after_days": Limit(1, 36500, "days"),
    "visits.checkin_radius_m": Limit(1, 100_000, "metres"),
    "visits.types.*.duration_min": Limit(1, 1440, "minutes"),
    "visits.cadence.by_tier.*": Limit(0, 3650, "days"),
    "visits.cadence.by_lifecycle.*": Limit(0, 3650, "days"),
    "visits.cadence.default_days": Limit(0, 3650, "days"),
    "visits.follow_up_days": Limit(0, 3650, "days"),
}


def number(value: Any, limit: Limit, where: str) -> float | int:
    """``value`` (a YAML number or its text) as a number within ``limit``; CrmError naming ``where`` if not."""
    shown = f"{where}: {str(value)!r}"
    wanted = (f"give {'a number' if limit.fraction else 'a whole number'} of {limit.unit} "
              f"from {limit.low:g} to {limit.high:g}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CrmError(f"{shown} is not a number; {wanted}")
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise CrmError(f"{shown} is not a number; {wanted}") from None
    if not parsed.is_finite() or not math.isfinite(float(parsed)):
        raise CrmError(f"{shown} is not a finite number; {wanted}")
    if not limit.fraction and parsed != parsed.to_integral_value():
        raise CrmError(f"{shown} is not a whole number; {wanted}")
    if not limit.low <= parsed <= limit.high:
        raise CrmError(f"{shown} is out of range; {wanted}")
    return float(parsed) if limit.fraction else int(parsed)


def _values(data: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every setting matching ``parts`` (``*`` matches each key of a mapping)."""
    if not parts:
        yield path, data
        return
    if not isinstance(data, dict):
        return
    head, rest = parts[0], parts[1:]
    keys = list(data) if head == "*" else [head] if head in data else []
    for key in keys:
        yield from _values(data[key], rest, f"{path}.{key}" if path else str(key))


def check(data: dict[str, Any], file: str = "crm.yaml", lines: dict[str, int] | None = None) -> None:
    """Refuse the first numeric setting of ``data`` (merged crm.yaml) outside its range."""
    for pattern, limit in NUMBERS.items():
        for key, value in _values(data, pattern.split("."), ""):
            if limit.empty_ok and value in (None, ""):
                continue
            line = (lines or {}).get(key.split(".", 1)[0])
            number(value, limit, f"{file}:{line}: {key}" if line else f"{file}: {key}")
