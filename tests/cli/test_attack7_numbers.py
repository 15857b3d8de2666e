"""attack7 findings 1, 2 and 11: SQL counts a stored number exactly when the reports do; a plain leading-zero
integer in a hand-edited record keeps its text."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmctl.core import yamlio
from crmctl.core.numbers import stored_number, stored_problem
from crmctl.core.readmodel import counted
from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
DEAL = Path("records/opportunities/2ndtj57zwbjp.yaml")      # amount "2600000.00" CNY, open
PAYMENT = Path("records/payments/2ndtjksp49bk.yaml")       # amount "114000.00" CNY


def edit(book: Path, rel: Path, old: str, new: str) -> None:
    path = book / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def sql(book: Path, statement: str):
    result = invoke("sql", statement, "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_a_leading_zero_amount_has_no_num_and_dsum_leaves_it_out(demo_copy: Path) -> None:
    # before: amount_num 2600000.0 and dsum added it, while report pipeline left it out with a warning
    before, _ = sql(demo_copy, "SELECT dsum(amount) AS d FROM opportunities WHERE id = '2ndtj57zwbjp'")
    assert before == [{"d": "2600000.00"}]
    edit(demo_copy, DEAL, 'amount: "2600000.00"', 'amount: "0002600000.00"')
    rows, err = sql(demo_copy, "SELECT amount, amount_num, amount_book FROM opportunities WHERE id = '2ndtj57zwbjp'")
    assert rows == [{"amount": "0002600000.00", "amount_num": None, "amount_book": None}]
    rows, err = sql(demo_copy, "SELECT dsum(amount) AS d, sum(amount_num) AS n FROM opportunities "
                               "WHERE id = '2ndtj57zwbjp'")
    assert rows == [{"d": None, "n": None}]
    assert "warning: sql: dsum left out 1 value that is not a number: '0002600000.00'" in err


def test_a_leading_zero_payment_has_no_num(demo_copy: Path) -> None:
    edit(demo_copy, PAYMENT, 'amount: "114000.00"', 'amount: "0114000.00"')
    rows, err = sql(demo_copy, "SELECT amount_num, dsum(amount) AS d FROM payments WHERE id = '2ndtjksp49bk'")
    assert rows == [{"amount_num": None, "d": None}]
    assert "'0114000.00'" in err


def test_a_negative_amount_is_left_out_by_num_and_dsum_as_by_the_reports(demo_copy: Path) -> None:
    # a context rule (money is never negative): the regex counted -2600000.00
    edit(demo_copy, DEAL, 'amount: "2600000.00"', 'amount: "-2600000.00"')
    rows, err = sql(demo_copy, "SELECT amount_num, dsum(amount) AS d FROM opportunities WHERE id = '2ndtj57zwbjp'")
    assert rows == [{"amount_num": None, "d": None}]


def test_an_installment_with_a_leading_zero_has_no_num(demo_copy: Path) -> None:
    rows, _ = sql(demo_copy, "SELECT order_id, n, amount FROM order_installments ORDER BY order_id, n LIMIT 1")
    order, n, amount = rows[0]["order_id"], rows[0]["n"], rows[0]["amount"]
    edit(demo_copy, Path(f"records/orders/{order}.yaml"), f'amount: "{amount}"', f'amount: "0{amount}"')
    rows, _ = sql(demo_copy, f"SELECT amount_num FROM order_installments WHERE order_id = '{order}' AND n = {n}")
    assert rows == [{"amount_num": None}]


REPORTED = st.one_of(st.from_regex(r"-?(0|[1-9][0-9]{0,6})(\.[0-9]{1,3})?", fullmatch=True),
                     st.sampled_from(["0002600000.00", "0114000.00", "007", "-0.00", "12.5%", "1e6", " 1.00",
                                      "1234.5", "1234.567", "-5.00", "1,000.00", "00.50", "0.50"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(REPORTED, min_size=1, max_size=3))
def test_sql_num_and_dsum_are_the_reports_rule(empty_book: Path, texts: list[str]) -> None:
    """For generated stored amounts: amount_num IS NULL exactly when the reports leave the value out
    (stored_problem for a CNY amount), and dsum(amount) is the sum of what they count."""
    folder = empty_book / "records" / "opportunities"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    for i, text in enumerate(texts):
        (folder / f"o{i}.yaml").write_text(f"name: d{i}\naccount: a\nstage: proposal\ncurrency: CNY\n"
                                           f"amount: {json.dumps(text)}\n", encoding="utf-8")
    rows, _ = sql(empty_book, "SELECT id, amount_num FROM opportunities ORDER BY id")
    kept = {f"o{i}": stored_problem(t, field="amount", currency="CNY", digits=2) is None for i, t in enumerate(texts)}
    assert {r["id"]: r["amount_num"] is not None for r in rows} == kept
    total, _ = sql(empty_book, "SELECT dsum(amount) AS d FROM opportunities")
    counted_ = [Decimal(t) for i, t in enumerate(texts) if kept[f"o{i}"]]
    assert total[0]["d"] == (format(sum(counted_, Decimal(0)), "f") if counted_ else None)


@given(st.one_of(st.text(max_size=10), st.integers(), st.from_regex(r"-?[0-9]{1,8}(\.[0-9]{1,3})?", fullmatch=True)))
def test_dsum_counts_by_the_stored_rule(value) -> None:
    assert counted(value) == stored_number(value)


@pytest.mark.parametrize("plain, read", [("0571123", "0571123"), ("012345", "012345"), ("007", "007"),
                                         ("-007", "-007"), ("+007", "+007"), ("00", "00"), ("0", 0), ("-0", 0),
                                         ("12345678", 12345678), ("+5", "+5")])
def test_a_plain_leading_zero_integer_keeps_its_text(plain: str, read) -> None:
    # +5 keeps its sign as text too (fixd8): a phone +4989123 stays itself, and a number field refuses it ("write 5")
    # as money refuses "+1480000.00" — crmctl writes 5
    # before: 0571123 was the int 571123 (YAML 1.2), the zero lost in show, sql and export
    assert yamlio.loads(f"phone: {plain}\n", "r.yaml")[0] == {"phone": read}


def test_hand_edited_phone_postcode_keep_their_zero_and_odd_tags_are_named(demo_copy: Path) -> None:
    path = demo_copy / "records/accounts/ningbo-moulds.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "phone: 0571123\npostcode: 012345\ntags: [007, true, ~]\n",
                    encoding="utf-8")
    rows, _ = sql(demo_copy, "SELECT phone, typeof(phone) AS t, postcode FROM accounts WHERE id = 'ningbo-moulds'")
    assert rows == [{"phone": "0571123", "t": "text", "postcode": "012345"}]
    shown = invoke("account", "show", "ningbo-moulds", book=demo_copy, env=NOW)
    assert re.search(r"^phone: +0571123$", shown.stdout, re.M) and "tags: 007, true, null" in shown.stdout
    exported = invoke("export", "accounts", "--format", "csv", book=demo_copy, env=NOW)
    assert ",0571123," in exported.stdout and ",012345," in exported.stdout
    checked = invoke("check", book=demo_copy, env=NOW)
    assert 'records/accounts/ningbo-moulds.yaml:12: tags: entry 2 (true) is not text; write it quoted: "true"' \
        in checked.output


def test_an_int_custom_field_refuses_a_leading_zero() -> None:
    # before: `qty: 007` was read as 7 without a word; now the text "007", which an int field refuses
    from crmctl.core.schema import Field, check_value
    from crmctl.core.settings import Settings

    value = yamlio.loads("qty: 007\n", "r.yaml")[0]["qty"]
    assert check_value(Field("qty", "int"), value, Settings({})) == "qty: '007' has leading zeros; write 7"  # fixd8: says what to write
