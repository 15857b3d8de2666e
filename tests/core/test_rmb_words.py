"""合计人民币（大写）: cn2an's rmb mode against hand-written values (PBOC rules for 中文大写金额)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from crmctl.core.errors import ValidationError
from crmctl.core.money import rmb_in_words

CASES = [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("10", "壹拾元整"),                       # a leading ten is 壹拾 (a bare 拾 could be prefixed later)
    ("16", "壹拾陆元整"),
    ("0.50", "伍角"),                         # 整 may be left out after 角
    ("0.05", "伍分"),
    ("10.05", "壹拾元零伍分"),                # 角 is 0, 分 is not: 零 after 元
    ("325.04", "叁佰贰拾伍元零肆分"),          # the PBOC example
    ("1409.50", "壹仟肆佰零玖元伍角"),        # a zero in the middle: 零
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),   # the PBOC example
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),      # 元位 0, 角位 not: 零 may be left out
    ("107000.53", "壹拾万柒仟元伍角叁分"),     # 万位 0, 千位 not: 零 may be left out
    ("100005.06", "壹拾万零伍元零陆分"),       # a run of zeros: one 零
    ("100100.50", "壹拾万零壹佰元伍角"),
    ("1000000.01", "壹佰万元零壹分"),
    ("100000010", "壹亿零壹拾元整"),
    ("100010000", "壹亿零壹万元整"),
    ("1000000000.00", "壹拾亿元整"),
    ("2626539.20", "贰佰陆拾贰万陆仟伍佰叁拾玖元贰角"),   # the demo quote QT-2026-0001
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("12.345", "壹拾贰元叁角伍分"),           # rounded half-up to the fen first
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_hand_written_values(amount: str, words: str) -> None:
    assert rmb_in_words(Decimal(amount)) == words
    assert rmb_in_words(amount) == words


def test_negative_is_refused() -> None:
    with pytest.raises(ValidationError, match="negative"):
        rmb_in_words("-12.30")


DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _back(words: str) -> Decimal:
    """Read 大写 back to a number (an independent parser for the property below)."""
    total, section, digit = Decimal(0), Decimal(0), 0
    yuan, rest = (words.split("元") + [""])[:2] if "元" in words else ("", words)
    for ch in yuan:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in UNITS:
            section += (digit or 1) * UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = Decimal(0), 0
        elif ch == "亿":
            total = (total + section + digit) * 100000000
            section, digit = Decimal(0), 0
    total += section + digit
    for ch, scale in (("角", Decimal("0.1")), ("分", Decimal("0.01"))):
        if ch in rest:
            before = rest.split(ch)[0]
            total += DIGITS.index(before[-1]) * scale
            rest = rest.split(ch, 1)[1]
    return total


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2))
def test_words_read_back_to_the_amount(amount: Decimal) -> None:
    words = rmb_in_words(amount)
    assert _back(words) == amount
    assert words.endswith(("整", "角", "分")) and not words.endswith("分整")
    assert "零零" not in words
