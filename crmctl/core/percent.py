"""Percentages and other shown ratios: one rounding rule for every report.

Every percentage crmctl prints (conversion, attainment, completion, coverage,
growth, discount and margin in messages) goes through :func:`percent` or
:func:`round_half_up`, so the same ratio prints the same everywhere. The
rule is **half-up** (``1/16 = 6.25 % -> 6.3``), as people round by hand and as
money rounds by default; Python's ``Decimal.quantize`` would round half-even
(6.2) unless told otherwise.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Union

Number = Union[Decimal, int]

HUNDRED = Decimal(100)


def round_half_up(value: Decimal, places: int = 1) -> Decimal:
    """``value`` rounded half-up to ``places`` decimals (``places`` may be 0)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(part: Number, whole: Number, places: int = 1) -> Decimal | None:
    """``part / whole`` in percent, rounded half-up to ``places`` decimals; None when ``whole`` is 0."""
    if not whole:
        return None
    return round_half_up(Decimal(part) * HUNDRED / Decimal(whole), places)


def percent_text(part: Number, whole: Number, places: int = 1) -> str:
    """:func:`percent` as a report cell: ``"6.3"``, or ``""`` when there is nothing to divide by."""
    value = percent(part, whole, places)
    return "" if value is None else str(value)


def percent_points(value: Decimal, places: int = 2) -> str:
    """A percentage already in points (a discount of ``12.500``) for a message: ``"12.5"``, no trailing zeros."""
    text = f"{round_half_up(value, places):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
