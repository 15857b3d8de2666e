"""Name and phone normalisation (hypothesis) as duplicate checks use it, and exchange rates."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.errors import ValidationError
from crmctl.core.text import email_key, name_key, phone_key
from crmctl.l2c.rates import Rates, parse

ASCII_WORDS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)
CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=10)


def full_width(text: str) -> str:
    """ASCII → the full-width forms a Chinese input method types (！ to ～, and the ideographic space)."""
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else "\u3000" if c == " " else c for c in text)


@given(ASCII_WORDS)
def test_full_width_forms_have_the_same_name_key(text: str) -> None:
    assert name_key(full_width(text)) == name_key(text)


@given(ASCII_WORDS)
def test_case_and_spacing_do_not_change_the_name_key(text: str) -> None:
    assert name_key(text.upper()) == name_key(text.lower().upper())
    assert name_key(f"  {text}  ") == name_key(text)


@given(CJK, CJK)
def test_chinese_brackets_and_suffix(name: str, city: str) -> None:
    assert name_key(f"{name}（{city}）有限公司") == name_key(f"{name}({city})")


# Chinese mobile numbers and landlines without the trunk 0 (a number that itself starts 86... is ambiguous)
@given(st.from_regex(r"1[3-9][0-9]{9}|[2-7][0-9]{9}", fullmatch=True))
def test_phone_formats_have_the_same_key(digits: str) -> None:
    spaced = " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    dashed = "-".join(digits[i:i + 3] for i in range(0, len(digits), 3))
    key = phone_key(digits)
    assert phone_key(spaced) == key == phone_key(dashed) == phone_key(full_width(dashed))
    assert phone_key(f"+86 {digits}") == key == phone_key(f"0086-{digits}") == phone_key(f"0{digits}")


def test_examples() -> None:
    assert name_key("ＡＣＭＥ Ｃｏ．") == name_key("acme co.")
    assert email_key(" Wang.Fang@ＥＸＡＭＰＬＥ.com ") == "wang.fang@example.com"
    assert phone_key("021-5555 6666") == phone_key("+86 21 5555 6666")


def test_rates_pick_the_latest_on_or_before_the_day() -> None:
    rates = Rates("CNY", parse({"2025-01-01": {"USD": "7.10"}, "2026-06-01": {"usd": "7.20"}}))
    assert rates.estimate(Decimal("10"), "USD", "2026-05-31") == Decimal("71.00")
    assert rates.estimate(Decimal("10"), "USD", "2026-06-01") == Decimal("72.00")
    assert rates.estimate(Decimal("10"), "USD", "2024-01-01") == Decimal("71.00")  # before any rate: the earliest
    assert rates.estimate(Decimal("10"), "USD", None) == Decimal("72.00")  # no day: the latest
    assert rates.estimate(Decimal("0.015"), "USD", "2026-06-01") == Decimal("0.10800")  # not rounded
    assert rates.estimate(Decimal("10"), "CNY", None) == Decimal("10")
    with pytest.raises(ValidationError, match="no exchange rate for EUR"):
        rates.estimate(Decimal("1"), "EUR", "2026-01-01")


@pytest.mark.parametrize(("data", "message"), [
    ({"soon": {"USD": "7"}}, "'soon' is not a date"),
    ({"2026-01-01": "7.1"}, "write the rates as"),
    ({"2026-01-01": {"USD": "0"}}, "a rate must be more than zero"),
])
def test_bad_rates_file(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(data)
