"""Dated exchange rates (``records/rates.yaml``) and conversion to the book's currency.

The file maps a date to rates: ``{2026-11-02: {USD: "7.10", EUR: "7.80"}}``,
each the number of book-currency units per one unit of the other currency.
Reports convert with :meth:`Rates.convert`: the latest rate on or before the
day, rounded to the currency, and a missing rate is an error naming the
currency and the day — never a silent zero. The MCR 360° figures value a
customer's whole history with :meth:`Rates.estimate`, which also takes the
earliest rate for a day before the first one (one implementation for both).
"""
from __future__ import annotations

import bisect
import datetime as _dt
import os
from decimal import Decimal
from typing import Any

from crmctl.core.errors import LoadError, ValidationError
from crmctl.core.money import quantize, to_decimal

RATES_FILE = os.path.join("records", "rates.yaml")
LAST_DAY = "9999-12-31"  # a missing or unreadable day takes the latest rate


class Rates:
    """Rates per currency, sorted by date, for one book currency."""

    def __init__(self, book_currency: str, table: dict[str, list[tuple[str, Decimal]]] | None = None,
                 rounding: str = "half-up") -> None:
        self.book_currency = book_currency
        # currency -> [(ISO date, rate)] sorted by date, so a lookup is one bisect
        self.table = {cur.upper(): sorted(rows) for cur, rows in (table or {}).items()}
        self.rounding = rounding

    @classmethod
    def load(cls, book: Any, book_currency: str, rounding: str = "half-up") -> Rates:
        """The rates of a book (a :class:`~crmctl.core.book.Book`, or a snapshot of one as it was)."""
        try:
            text = book.text(RATES_FILE)
            if text is None:
                return cls(book_currency, {}, rounding)
            from crmctl.core import yamlio  # a book without rates.yaml (`check` over one) never imports YAML

            data, _ = yamlio.loads(text, RATES_FILE, RATES_FILE)
        except LoadError as exc:
            raise ValidationError(f"{exc}; fix {RATES_FILE}") from None
        return cls(book_currency, parse(data or {}), rounding)

    def is_book(self, currency: str | None) -> bool:
        """Whether amounts in ``currency`` (none means the book's) are in the book currency: rate 1 on every day."""
        return not currency or currency.upper() == self.book_currency.upper()

    def rate(self, currency: str, day: _dt.date) -> Decimal:
        """The latest ``currency`` rate on or before ``day``; an error if there is none."""
        if self.is_book(currency):
            return Decimal(1)
        currency = currency.upper()
        rows = self.table.get(currency, [])
        i = bisect.bisect_right(rows, (day.isoformat(), Decimal("Infinity")))
        if i == 0:
            raise ValidationError(f"no {currency} rate on or before {day.isoformat()} in {RATES_FILE}; "
                                  f"add one, e.g. '{day.isoformat()}: {{{currency}: \"RATE\"}}'")
        return rows[i - 1][1]

    def convert(self, amount: Decimal, currency: str | None, day: _dt.date) -> Decimal:
        """``amount`` in the book currency at the rate of ``day``, rounded to the book currency."""
        if self.is_book(currency):
            return amount
        return quantize(amount * self.rate(str(currency), day), self.book_currency, self.rounding)

    def estimate(self, amount: Decimal, currency: str | None, day: str | _dt.date | None) -> Decimal:
        """``amount`` in the book currency, not rounded, for figures over a whole history.

        Like :meth:`convert`, but a day before the first rate takes the earliest one (an
        old order still counts in lifetime revenue) and no day takes the latest; only a
        currency with no rate at all is an error.
        """
        if self.is_book(currency):
            return amount
        cur = str(currency).upper()
        rows = self.table.get(cur)
        if not rows:
            raise ValidationError(f"no exchange rate for {cur}; add it to {RATES_FILE} as {{YYYY-MM-DD: {{{cur}: \"RATE\"}}}}")
        iso = day.isoformat() if isinstance(day, _dt.date) else str(day or LAST_DAY)[:10]
        i = bisect.bisect_right(rows, (iso, Decimal("Infinity"))) - 1
        return amount * rows[max(i, 0)][1]


def parse(data: dict[str, Any]) -> dict[str, list[tuple[str, Decimal]]]:
    """``{date: {CUR: rate}}`` → ``{CUR: [(ISO date, rate), ...]}`` sorted by date; a bad entry is an error."""
    table: dict[str, list[tuple[str, Decimal]]] = {}
    for day, rates in data.items():
        try:
            iso = _dt.date.fromisoformat(str(day)).isoformat()
        except ValueError:
            raise ValidationError(f"{RATES_FILE}: {day!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(rates, dict):
            raise ValidationError(f"{RATES_FILE}: {iso}: write the rates as {{USD: \"7.10\"}}")
        for cur, rate in rates.items():
            value = to_decimal(rate, f"{RATES_FILE}: {iso} {cur}")
            if value <= 0:
                raise ValidationError(f"{RATES_FILE}: {iso} {cur}: a rate must be more than zero")
            table.setdefault(str(cur).upper(), []).append((iso, value))
    for rows in table.values():
        rows.sort()
    return table
