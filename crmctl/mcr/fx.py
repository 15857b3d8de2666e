"""Amounts in the book currency, from ``records/rates.yaml``.

A stop-gap until the L2C exchange-rate helper lands on this branch: the file
is ``{date: {USD: "7.10", EUR: "7.80"}}`` — units of the book currency per one
unit of the other currency. An amount converts at the latest rate on or
before its date (else the earliest one there is); amounts already in the book
currency are taken as they are.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import os
from decimal import Decimal
from typing import Any

from crmctl.core import yamlio
from crmctl.core.errors import LoadError, ValidationError
from crmctl.core.money import to_decimal

RATES_FILE = os.path.join("records", "rates.yaml")


class Rates:
    """Exchange rates into one book currency, looked up by currency and date."""

    def __init__(self, currency: str, table: dict[str, list[tuple[str, Decimal]]] | None = None) -> None:
        self.currency = currency.upper()
        # currency -> [(date, rate)] sorted by date, so a lookup is one bisect
        self.table = table or {}

    @classmethod
    def load(cls, root: str, currency: str) -> Rates:
        path = os.path.join(root, RATES_FILE)
        if not os.path.exists(path):
            return cls(currency)
        try:
            data, _ = yamlio.load_path(path, RATES_FILE)
        except LoadError as exc:
            raise ValidationError(f"{exc}; fix {RATES_FILE}") from None
        return cls(currency, parse(data))

    def convert(self, amount: Decimal, currency: str | None, day: str | None) -> Decimal:
        """``amount`` of ``currency`` on ``day`` in the book currency (not rounded)."""
        cur = (currency or self.currency).upper()
        if cur == self.currency:
            return amount
        series = self.table.get(cur)
        if not series:
            raise ValidationError(f"no exchange rate for {cur}; add it to {RATES_FILE} as {{YYYY-MM-DD: {{{cur}: \"RATE\"}}}}")
        i = bisect.bisect_right(series, (str(day or "9999-12-31")[:10], Decimal("Infinity"))) - 1
        return amount * series[max(i, 0)][1]


def parse(data: dict[str, Any]) -> dict[str, list[tuple[str, Decimal]]]:
    """``{date: {CUR: rate}}`` → ``{CUR: [(date, rate), ...]}`` sorted by date."""
    table: dict[str, list[tuple[str, Decimal]]] = {}
    for day, rates in data.items():
        try:
            iso = _dt.date.fromisoformat(str(day)).isoformat()
        except ValueError:
            raise ValidationError(f"{RATES_FILE}: {day!r} is not a date (use YYYY-MM-DD)") from None
        if not isinstance(rates, dict):
            raise ValidationError(f"{RATES_FILE}: {iso} must map currencies to rates, like {{USD: \"7.10\"}}")
        for cur, rate in rates.items():
            value = to_decimal(rate, f"{RATES_FILE} {iso} {cur}")
            if value <= 0:
                raise ValidationError(f"{RATES_FILE}: {iso} {cur}: a rate must be more than 0")
            table.setdefault(str(cur).upper(), []).append((iso, value))
    for series in table.values():
        series.sort()
    return table
