"""Money and other exact numbers: ``Decimal`` from the file to the PDF.

Amounts round to the currency's minor unit, half-up unless ``crm.yaml`` says
otherwise. Amounts are written to files and JSON as strings with fixed
decimals, so no reader ever sees a binary float.
"""
from __future__ import annotations

import decimal
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from crmctl.core.errors import ValidationError

# minor units per ISO 4217; anything unlisted has two
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
ROUNDING = {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN}
_CTX = decimal.Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation, decimal.DivisionByZero])


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Parse a number written in a file or on the command line, exactly."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise ValidationError(f"{field}: {value!r} is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):  # never produced by our loaders; be exact about what was meant
        result = Decimal(repr(value))
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{field}: {value!r} is not a number (write it like 1234.50)") from None
    if not result.is_finite():
        raise ValidationError(f"{field}: {value!r} is not a finite number")
    return result


def minor_unit(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def quantize(amount: Decimal, currency: str, rounding: str = "half-up") -> Decimal:
    """Round to the currency's minor unit."""
    exp = Decimal(1).scaleb(-minor_unit(currency))
    return amount.quantize(exp, rounding=ROUNDING.get(rounding, ROUND_HALF_UP), context=_CTX)


def money_str(amount: Decimal, currency: str) -> str:
    """The fixed-decimal text used in files and JSON (``"1234.50"``)."""
    return str(quantize(amount, currency))


def parse_percent(value: object, field: str = "discount") -> Decimal:
    """``"5%"``, ``"5"`` or ``5`` → ``Decimal("5")`` (percent points)."""
    text = str(value).strip()
    if text.endswith("%"):
        text = text[:-1]
    pct = to_decimal(text, field)
    if pct < 0 or pct > 100:
        raise ValidationError(f"{field}: {value!r} must be between 0% and 100%")
    return pct
