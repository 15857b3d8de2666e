"""Dated exchange rates (``records/rates.yaml``) and conversion to the book's currency.

The file maps a date to rates: ``{2026-11-02: {USD: "7.10", EUR: "7.80"}}``,
each the number of book-currency units per one unit of the other currency.
A conversion uses the latest rate on or before the day; a missing rate is an
error naming the currency and the day — never a silent zero.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import os
from decimal import Decimal

from crmctl.core import yamlio
from crmctl.core.errors import CrmError, LoadError
from crmctl.core.money import quantize, to_decimal

RATES_FILE = os.path.join("records", "rates.yaml")


class Rates:
    """Rates per currency, sorted by date, for one book currency."""

    def __init__(self, book_currency: str, table: dict[str, list[tuple[str, Decimal]]], rounding: str = "half-up") -> None:
        self.book_currency = book_currency
        self.table = {cur: sorted(rows) for cur, rows in table.items()}
        self.rounding = rounding

    @classmethod
    def load(cls, root: str, book_currency: str, rounding: str = "half-up") -> Rates:
        path = os.path.join(root, RATES_FILE)
        table: dict[str, list[tuple[str, Decimal]]] = {}
        if os.path.exists(path):
            try:
                data, _ = yamlio.load_path(path, RATES_FILE)
            except LoadError as exc:
                raise CrmError(f"{exc}; fix {RATES_FILE}") from None
            for day, rates in (data or {}).items():
                try:
                    _dt.date.fromisoformat(str(day))
                except ValueError:
                    raise CrmError(f"{RATES_FILE}: {day!r} is not a date (YYYY-MM-DD)") from None
                if not isinstance(rates, dict):
                    raise CrmError(f"{RATES_FILE}: {day}: write the rates as {{USD: \"7.10\"}}")
                for cur, rate in rates.items():
                    value = to_decimal(rate, f"{RATES_FILE}: {day} {cur}")
                    if value <= 0:
                        raise CrmError(f"{RATES_FILE}: {day} {cur}: a rate must be more than zero")
                    table.setdefault(str(cur).upper(), []).append((str(day), value))
        return cls(book_currency, table, rounding)

    def rate(self, currency: str, day: _dt.date) -> Decimal:
        currency = currency.upper()
        if currency == self.book_currency.upper():
            return Decimal(1)
        rows = self.table.get(currency, [])
        i = bisect.bisect_right(rows, (day.isoformat(), Decimal("Infinity")))
        if i == 0:
            raise CrmError(f"no {currency} rate on or before {day.isoformat()} in {RATES_FILE}; "
                           f"add one, e.g. '{day.isoformat()}: {{{currency}: \"RATE\"}}'")
        return rows[i - 1][1]

    def convert(self, amount: Decimal, currency: str | None, day: _dt.date) -> Decimal:
        """``amount`` in the book currency at the rate of ``day``."""
        if not currency or currency.upper() == self.book_currency.upper():
            return amount
        return quantize(amount * self.rate(currency, day), self.book_currency, self.rounding)
