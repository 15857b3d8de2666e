"""Strict dates, periods and dated exchange rates."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

import pytest

from crmctl.core.book import Book
from crmctl.core.errors import CrmError
from crmctl.l2c.dates import add_months, parse_day, parse_period, step
from crmctl.l2c.rates import Rates


@pytest.mark.parametrize("text", ["2026/11/27", "20261127", "27.11.2026", "2026-13-01", "2026-02-30", "", "soon"])
def test_bad_dates_are_refused_with_the_format(text: str) -> None:
    with pytest.raises(CrmError, match="YYYY-MM-DD"):
        parse_day(text, "--date")


def test_periods() -> None:
    assert parse_period("2026-Q2") == (_dt.date(2026, 4, 1), _dt.date(2026, 6, 30), "2026-Q2")
    assert parse_period("2026-06") == (_dt.date(2026, 6, 1), _dt.date(2026, 6, 30), "2026-06")
    assert parse_period("2026") == (_dt.date(2026, 1, 1), _dt.date(2026, 12, 31), "2026")
    assert parse_period("2026-h2")[:2] == (_dt.date(2026, 7, 1), _dt.date(2026, 12, 31))
    for bad in ("2026-Q5", "Q2", "2026-13"):
        with pytest.raises(CrmError, match="--period"):
            parse_period(bad)


def test_intervals() -> None:
    assert add_months(_dt.date(2026, 1, 31), 1) == _dt.date(2026, 2, 28)
    assert step(_dt.date(2026, 11, 30), "1m", 3) == _dt.date(2027, 2, 28)
    assert step(_dt.date(2026, 1, 1), "2w", 2) == _dt.date(2026, 1, 29)
    assert step(_dt.date(2026, 1, 1), "1q", 1) == _dt.date(2026, 4, 1)
    with pytest.raises(CrmError, match="--every"):
        step(_dt.date(2026, 1, 1), "monthly", 1)


def test_rates_use_the_latest_on_or_before_the_day(tmp_path: Path) -> None:
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "rates.yaml").write_text('"2026-01-01": {USD: "7.00"}\n"2026-06-01": {USD: "7.20", EUR: "7.90"}\n')
    rates = Rates.load(Book(str(tmp_path)), "CNY")
    assert rates.rate("USD", _dt.date(2026, 5, 31)) == Decimal("7.00")
    assert rates.rate("usd", _dt.date(2026, 6, 1)) == Decimal("7.20")
    assert rates.convert(Decimal("100.005"), "USD", _dt.date(2027, 1, 1)) == Decimal("720.04")
    assert rates.convert(Decimal("5"), "CNY", _dt.date(2000, 1, 1)) == Decimal("5")
    with pytest.raises(CrmError, match="no EUR rate on or before 2026-05-31"):
        rates.rate("EUR", _dt.date(2026, 5, 31))
    with pytest.raises(CrmError, match="no JPY rate"):
        rates.convert(Decimal(1), "JPY", _dt.date(2026, 7, 1))
