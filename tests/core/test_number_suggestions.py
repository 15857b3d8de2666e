"""Attack #18: a refusal of a typed number only suggests inputs that are themselves accepted where it was typed.

`--qty 1,000` used to say "write 1000 (or 1,000.00) or 1.000" (1.000 is refused as a quantity), `--discount 1.234,50`
"write 1234.50" (refused: a percentage is 0-100). Property: every number a refusal suggests parses with the same parser.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from crmctl.core.errors import ValidationError
from crmctl.core.numbers import NumberFormat, parse_amount, parse_percent, parse_quantity

FORMATS = [NumberFormat("."), NumberFormat(","), NumberFormat("", "zh_CN", origin="the book's locale zh_CN")]
PARSERS = {
    "qty": lambda text, fmt: parse_quantity(text, fmt=fmt, field="--qty", minimum=1),
    "percent": lambda text, fmt: parse_percent(text, fmt=fmt, field="--discount"),
    "amount": lambda text, fmt: parse_amount(text, currency="CNY", fmt=fmt, field="--amount"),
}


def suggestions(message: str) -> list[str]:
    """The numbers a refusal tells the user to write (its advice: after the last '; ', or in its last brackets)."""
    advice = message.rsplit("; ", 1)[1] if "; " in message else message[message.rfind("("):] if "(" in message else ""
    return re.findall(r"(?:write(?: it like)?|or|e\.g\.) (-?[0-9](?:[0-9.,]*[0-9])?)", advice)


@pytest.mark.parametrize(("kind", "text", "fmt", "offered"), [
    ("qty", "1,000", FORMATS[0], ["1000", "1,000.00", "1000"]),   # the last: "a quantity is a whole number, e.g. 1000"
    ("percent", "1.234,50", FORMATS[0], ["12.5"]),
    ("percent", "abc", FORMATS[0], ["12.5"]),
])
def test_the_findings_examples_offer_only_what_is_accepted(kind: str, text: str, fmt: NumberFormat,
                                                           offered: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        PARSERS[kind](text, fmt)
    assert suggestions(str(refused.value)) == offered, str(refused.value)
    for suggested in offered:
        PARSERS[kind](suggested, fmt)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(sorted(PARSERS)), fmt=st.sampled_from(FORMATS),
       text=st.text(alphabet="0123456789.,  %-", min_size=1, max_size=12))
def test_every_suggestion_in_a_refusal_parses(kind: str, fmt: NumberFormat, text: str) -> None:
    try:
        PARSERS[kind](text, fmt)
    except ValidationError as refused:
        for suggested in suggestions(str(refused)):
            PARSERS[kind](suggested, fmt)   # raises (the test fails) when a suggestion is itself refused
