"""One number parser, one rule per context (issue 11 §2): crmctl.core.numbers.

Each refusal below was a silent wrong value before: money.to_decimal deleted
commas, so ``1,5`` was 15, ``1.234,50`` was 1.23 (rounded later) and
``2,5`` percent was 25.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.errors import CrmError, ValidationError
from crmctl.core.money import padded, to_decimal
from crmctl.core.numbers import (MAX_AMOUNT, NBSP, NNBSP, NumberFormat, book_format, parse_amount, parse_number,
                                 parse_percent, parse_quantity, stored_problem)
from crmctl.core.settings import Settings

DOT = NumberFormat(".", origin="test")
COMMA = NumberFormat(",", origin="test", switch="pass --decimal-mark {mark}")


def amount(text: str, fmt: NumberFormat = DOT, currency: str = "CNY", **kw: object) -> Decimal:
    return parse_amount(text, currency=currency, fmt=fmt, field="--amount", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "fmt", "want"), [
    ("1234.5", DOT, "1234.50"),
    ("1,234.50", DOT, "1234.50"),
    ("1,234,567", DOT, "1234567.00"),         # two commas cannot be a decimal mark
    ("1.234,50", COMMA, "1234.50"),
    ("1.234.567", COMMA, "1234567.00"),
    ("1 234,50", COMMA, "1234.50"),
    (f"1{NBSP}234,50", COMMA, "1234.50"),
    (f"1{NNBSP}234{NNBSP}567,5", COMMA, "1234567.50"),  # French, as babel writes it
    ("1'234.50", DOT, "1234.50"),              # Swiss
    ("1,5", COMMA, "1.50"),
    (".5", DOT, "0.50"),
    ("¥1,234.50", DOT, "1234.50"),
    ("1234.50元", DOT, "1234.50"),
    ("RMB 1,234.50", DOT, "1234.50"),
    ("CNY 1234", DOT, "1234.00"),
    ("1234 CNY", DOT, "1234.00"),
    ("1250000", DOT, "1250000.00"),
    ("100.000", DOT, "100.00"),                # trailing zeros are not extra precision
])
def test_amounts_read_under_the_rule_in_force(text: str, fmt: NumberFormat, want: str) -> None:
    got = amount(text, fmt)
    assert str(got) == want


def test_currency_signs_must_be_the_records() -> None:
    assert str(amount("$1,234.50", currency="USD")) == "1234.50"
    assert str(amount("€ 1.234,50", COMMA, currency="EUR")) == "1234.50"
    assert str(amount("-€5", COMMA, currency="EUR", allow_negative=True)) == "-5.00"
    assert str(amount("¥1200", currency="JPY")) == "1200"             # JPY has no minor unit
    with pytest.raises(ValidationError, match=r"'\$1,234' is in USD, but this record is in CNY"):
        amount("$1,234")
    with pytest.raises(ValidationError, match="is in EUR, but this record is in CNY"):
        amount("1.234,50 €", COMMA)
    with pytest.raises(ValidationError, match="'¥3' is a plain number here; drop '¥'"):
        parse_quantity("¥3", fmt=DOT, field="--qty")


@pytest.mark.parametrize(("text", "fmt", "message"), [
    # the examples: each stored a wrong number before
    ("1,5", DOT, "--amount: '1,5' uses ',', which here only groups thousands (in threes), and '.' is the decimal mark "
                 "(test); write 1.5"),
    ("420.000,50", DOT, "--amount: '420.000,50' has '000,50' after its '.', and '.' is the decimal mark (test); "
                        "write 420000.50"),
    ("1.234", COMMA, "--amount: '1.234' could be 1234 or 1,234; write 1234 (or 1.234,00)"),  # 1,234 has 3 decimals: refused for CNY, not offered
    ("1,234", DOT, "--amount: '1,234' could be 1234 or 1.234; write 1234 (or 1,234.00)"),  # 1.234 has 3 decimals: refused for CNY, so not offered
    ("1.234,50", DOT, "--amount: '1.234,50' has '234,50' after its '.', and '.' is the decimal mark (test); write 1234.50"),
    ("1,234.50", COMMA, "--amount: '1,234.50' has '234.50' after its ',', and ',' is the decimal mark (test); "
                        "pass --decimal-mark . or write 1234,50"),
    ("100000.005", DOT, "--amount: '100000.005' has too many decimals (CNY has 2 decimal places)"),
    ("1e400", DOT, "--amount: '1e400' is a power of ten; write the number out in full (like 1500000)"),
    ("NaN", DOT, "--amount: 'NaN' is not a number crmctl stores (write a finite amount like 1234.50)"),
    ("-Infinity", DOT, "--amount: '-Infinity' is not a number crmctl stores (write a finite amount like 1234.50)"),
    ("-0", DOT, "--amount: '-0' is a negative zero; write 0"),
    ("-5", DOT, "--amount: '-5' cannot be negative here"),
    ("1000000000000000", DOT, "--amount: '1000000000000000' is too large (the limit is below 10^15)"),
    ("12,34,567", DOT, "--amount: '12,34,567' uses ',', which here only groups thousands (in threes), and '.' is the "
                       "decimal mark (test)"),
    ("1 234,567.5", DOT, "--amount: '1 234,567.5' mixes separators, and '.' is the decimal mark (test)"),
    ("abc", DOT, "--amount: 'abc' is not a number (write it like 1234.50)"),
    ("", DOT, "--amount: a number is needed here, got ''"),
])
def test_refusals_are_one_line_with_the_fix(text: str, fmt: NumberFormat, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        amount(text, fmt)
    assert str(info.value) == message


def test_unit_prices_carry_price_digits() -> None:
    # a 0.333 part: the unit price keeps 3 decimals (0.333 x 30,000 = 9,990.00 downstream)
    assert str(amount("0.333", digits=4)) == "0.333"
    assert str(amount("12", digits=4)) == "12.00"
    with pytest.raises(ValidationError, match="at most 4 here"):
        amount("0.33333", digits=4)


def test_quantities_and_percentages() -> None:
    assert parse_quantity("3", fmt=DOT, field="--qty", minimum=1) == 3
    assert parse_quantity("1 000", fmt=COMMA, field="--qty") == 1000
    with pytest.raises(ValidationError, match="--qty: '1,5' uses"):
        parse_quantity("1,5", fmt=DOT, field="--qty")
    with pytest.raises(ValidationError, match="is not a whole number"):
        parse_quantity("1.5", fmt=DOT, field="--qty")
    with pytest.raises(ValidationError, match="too large"):
        parse_quantity("1" + "0" * 30, fmt=DOT, field="--qty")          # 10^30 units
    with pytest.raises(ValidationError, match="the quantity must be 1 or more"):
        parse_quantity("-2", fmt=DOT, field="--qty", minimum=1)
    assert parse_percent("2,5%", fmt=COMMA, field="--discount") == Decimal("2.5")
    assert parse_percent("5", fmt=DOT, field="--discount") == Decimal("5")
    with pytest.raises(ValidationError, match="'2,5' uses ','"):         # was 25%
        parse_percent("2,5", fmt=DOT, field="--discount")
    with pytest.raises(ValidationError, match="between 0% and 100%"):
        parse_percent("120%", fmt=DOT, field="--discount")


def test_the_book_rule_comes_from_decimal_mark_or_the_locale() -> None:
    assert book_format(Settings({"locale": "zh_CN"})).mark == "."
    assert book_format(Settings({"locale": "en"})).mark == "."
    assert book_format(Settings({"locale": "de-DE"})).mark == ","
    assert book_format(Settings({"locale": "de_DE", "decimal_mark": "."})).mark == "."
    with pytest.raises(CrmError, match="is not a locale"):
        _ = book_format(Settings({"locale": "xx_nowhere_1"})).mark
    # a text without . or , needs no rule, so babel is not even asked
    assert parse_number("15", fmt=book_format(Settings({"locale": "xx_nowhere_1"})), field="x") == 15


def test_to_decimal_reads_our_own_text_only() -> None:
    assert to_decimal("1234.50") == Decimal("1234.50")
    for bad in ("1,234.50", "1_000", "NaN", "1E+400"):
        with pytest.raises(ValidationError):
            to_decimal(bad)
    assert padded("1250000", "CNY") == "1250000.00"
    assert padded("100000.005", "CNY") == "100000.005"     # never rounded for show; check reports it
    assert stored_problem("-5", field="amount", currency="CNY", digits=2) == "amount: '-5' cannot be negative here"
    assert stored_problem("1E+400", field="amount") is not None


# ------------------------------------------------------------------ property

def _style(value: Decimal, style: str, sign: str) -> str:
    """``value`` written as a spreadsheet in ``style`` would, with a currency ``sign`` before or after."""
    if style == "1234.5":
        text = DOT.write(value)
    elif style == "1,234.50":
        text = DOT.write(value, ",", max(2, -value.as_tuple().exponent))  # type: ignore[operator]
    elif style == "1.234,50":
        text = COMMA.write(value, ".", max(2, -value.as_tuple().exponent))  # type: ignore[operator]
    else:  # "1 234,50"
        text = COMMA.write(value, " ", max(2, -value.as_tuple().exponent))  # type: ignore[operator]
    if sign == "prefix":
        return ("-¥" + text[1:]) if text.startswith("-") else "¥" + text
    return text + " CNY" if sign == "suffix" else text


RULE_OF = {"1234.5": DOT, "1,234.50": DOT, "1.234,50": COMMA, "1 234,50": COMMA}
values = st.decimals(min_value=-MAX_AMOUNT + 1, max_value=MAX_AMOUNT - 1, places=2, allow_nan=False,
                     allow_infinity=False).filter(lambda d: not (d == 0 and d.is_signed()))


@given(value=values, style=st.sampled_from(sorted(RULE_OF)), sign=st.sampled_from(["", "prefix", "suffix"]),
       places=st.integers(min_value=0, max_value=2))
def test_format_then_parse_returns_the_value_and_the_other_rule_never_differs(value: Decimal, style: str, sign: str,
                                                                              places: int) -> None:
    value = value.quantize(Decimal(1).scaleb(-places))
    value = abs(value) if value == 0 else value  # -0.01 to 0 places is -0, which no one writes
    text = _style(value, style, sign)
    declared = RULE_OF[style]
    assert parse_amount(text, currency="CNY", fmt=declared, field="x", allow_negative=True) == value
    other = declared.other()
    try:
        got = parse_amount(text, currency="CNY", fmt=other, field="x", allow_negative=True)
    except ValidationError:
        return
    assert got == value, (text, got)


@given(value=st.decimals(min_value=0, max_value=10 ** 9, places=6, allow_nan=False, allow_infinity=False),
       mark=st.sampled_from([".", ","]))
def test_plain_numbers_with_any_decimals_round_trip_and_never_change_under_the_other_rule(value: Decimal, mark: str) -> None:
    fmt = NumberFormat(mark)
    text = fmt.write(value)
    assert parse_number(text, fmt=fmt, field="x") == value
    try:
        got = parse_number(text, fmt=fmt.other(), field="x")
    except ValidationError:
        return
    assert got == value, (text, got)
