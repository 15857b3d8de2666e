"""Money and other exact numbers: ``Decimal`` from the file to the PDF.

Amounts round to the currency's minor unit, half-up unless ``crm.yaml`` says
otherwise. Amounts are written to files and JSON as strings with fixed
decimals, so no reader ever sees a binary float.

:func:`to_decimal` reads values from our own files, which are exact text
(``"1234.50"``). Text a person typed or another system wrote goes through
:mod:`crmctl.core.numbers` instead, which knows decimal marks, thousands
separators, currency signs and each context's limits.
"""
from __future__ import annotations

import decimal
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from crmctl.core.errors import ValidationError

# minor units per ISO 4217; anything unlisted has two
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
ROUNDING = {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN}
MAX_NUMBER = Decimal(10) ** 18   # no stored number is this large (amounts stop at 10**15, see core.numbers)
MAX_PLACES = 18                  # nor has more decimals (exchange rates carry the most)
_CTX = decimal.Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation, decimal.DivisionByZero])


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """A number as our files write it (``"1234.50"``, ``12``), exactly.

    No thousands separators, currency signs or decimal commas: a file that has
    them was edited by hand, and guessing what ``1,234`` meant is how 1.234
    becomes 1234. Raises :class:`ValidationError` for those, for ``NaN`` and
    infinities, and for magnitudes or decimals beyond :data:`MAX_NUMBER` /
    :data:`MAX_PLACES` (which would otherwise fail deep inside the arithmetic).
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise ValidationError(f"{field}: {value!r} is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):  # never produced by our loaders; be exact about what was meant
        result = Decimal(repr(value))
    else:
        text = str(value).strip()
        try:
            if "_" in text:
                raise InvalidOperation
            result = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{field}: {value!r} is not a number (write it like 1234.50)") from None
    if not result.is_finite():
        raise ValidationError(f"{field}: {value!r} is not a finite number")
    if abs(result) >= MAX_NUMBER or -result.as_tuple().exponent > MAX_PLACES:  # type: ignore[operator]
        raise ValidationError(f"{field}: {value!r} is out of range (write it in full, below 10^18)")
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


def padded(value: object, currency: str) -> object:
    """A stored amount as output shows it: ``"1250000"`` -> ``"1250000.00"`` in CNY.

    Only pads to the currency's decimals; a value that is not an exact number
    of at most those decimals is returned as it is (``check`` reports it), so
    output never rounds what the file says.
    """
    try:
        number = to_decimal(value)
        fixed = quantize(number, currency)
    except (ValidationError, InvalidOperation):
        return value
    return str(fixed) if fixed == number else value


def percent_points(value: object, field: str = "discount") -> Decimal:
    """A stored percentage (``"5"``, ``"5%"`` or ``5``) → ``Decimal("5")``; typed ones use numbers.parse_percent."""
    text = str(value).strip()
    if text.endswith("%"):
        text = text[:-1]
    pct = to_decimal(text, field)
    if pct < 0 or pct > 100:
        raise ValidationError(f"{field}: {value!r} must be between 0% and 100%")
    return pct


def rmb_in_words(amount: object) -> str:
    """A CNY amount in Chinese capital numerals, as 合计人民币（大写） prints it: ``"10"`` -> ``"壹拾元整"``.

    The conversion is cn2an's ``rmb`` mode (imported here: it costs ~0.3 s).
    Its output was checked against the PBOC rules for 中文大写金额 (one 零 for a
    run of zeros, 零 after 元 when 角 is zero and 分 is not, 整 after 元, none
    after 分; a leading ten is 壹拾, so a 拾 cannot be prefixed later) in
    tests/core/test_rmb_words.py. The amount is rounded half-up to the fen
    first; a negative amount is refused (no quote or invoice total is one).
    """
    import cn2an

    value = quantize(to_decimal(amount), "CNY")
    if value < 0:
        raise ValidationError(f"{amount}: a negative amount has no 大写 form on a document")
    return str(cn2an.an2cn(f"{value:f}", "rmb"))
