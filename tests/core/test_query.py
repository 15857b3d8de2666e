"""--where/--sort/--limit over rows: a typo in a field or an operator is an error that lists the fields."""
from __future__ import annotations

import pytest

from crmctl.core.errors import CrmError
from crmctl.core.query import apply

ROWS = [{"id": "b", "tier": "A", "amount": "10.00", "consent": {"email": True}},
        {"id": "a", "tier": "B", "amount": "9.50"}]


def refused(**kwargs) -> str:
    with pytest.raises(CrmError) as info:
        apply(list(ROWS), **kwargs)
    return str(info.value)


def test_an_unknown_where_field_names_it_the_closest_and_every_field() -> None:
    # before: `teir=A` matched no row and the list printed (none)
    assert refused(where=["teir=A"], fields=["id", "tier", "amount", "notes"]) == (
        "--where 'teir=A': no field 'teir' (did you mean 'tier'?); fields are: id, tier, amount, notes, consent")


def test_an_unknown_sort_field_is_refused() -> None:
    # before: --sort nosuch sorted every row as "missing" and said nothing
    message = refused(sort=["-nosuch"], fields=["id", "tier"])
    assert message.startswith("--sort '-nosuch': no field 'nosuch'; fields are: id, tier")


@pytest.mark.parametrize("expr, message", [
    ("tier==A", "'==' is not an operator; write 'tier=A'"),
    ("tier=>A", "'=>' is not an operator; write 'tier>=A'"),
    ("tier<>A", "'<>' is not an operator; write 'tier!=A'"),
    ("tier=~A", "'=~' is not an operator; write 'tier~A'"),
    ("tier!==A", "'!==' is not an operator; write 'tier!=A'"),
    ("tier=!A", "'=!' is not an operator; the operators are =, !=, >, <, >=, <= and ~ for contains"),
    ("tier", "write FIELD=VALUE"),
])
def test_a_doubled_or_missing_operator_is_refused(expr: str, message: str) -> None:
    # before: `tier==A` looked for the value "=A" and printed (none)
    assert message in refused(where=[expr], fields=["tier"])


def test_declared_fields_are_valid_with_no_row_having_them_and_row_keys_without_declaring() -> None:
    assert apply(list(ROWS), where=["notes~x"], fields=["id", "notes"]) == []  # a declared field no row has
    assert [r["id"] for r in apply(list(ROWS), where=["consent.email=true"])] == ["b"]  # a key of a row, dotted
    assert [r["id"] for r in apply(list(ROWS), sort=["amount"])] == ["a", "b"]
    assert apply([], where=["tier=A"], fields=["tier"]) == []
    assert [r["id"] for r in apply(list(ROWS), where=["tier=A"], fields=["id"])] == ["b"]  # undeclared, but rows have it
    assert [r["id"] for r in apply(list(ROWS), where=["tier="], fields=["tier"])] == []  # an empty value is a value


def test_an_empty_list_still_checks_its_fields() -> None:
    with pytest.raises(CrmError, match="no field 'teir'"):
        apply([], where=["teir=A"], fields=["id", "tier"])


def test_decimal_values_sort_as_numbers() -> None:
    # report customers sorts rows whose money is Decimal: 88,000 is less than 4,756,539.20, not more ("8" > "4")
    from decimal import Decimal

    from crmctl.core.query import apply

    rows = [{"id": "a", "v": Decimal("88000.00")}, {"id": "b", "v": Decimal("4756539.20")}, {"id": "c", "v": Decimal("0")}]
    assert [r["id"] for r in apply(rows, sort=("-v",))] == ["b", "a", "c"]
