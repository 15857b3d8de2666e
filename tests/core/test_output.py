"""Output formats: CSV neutralises formulas, JSON keeps money as strings, rows filter and sort."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.output import render_record, render_rows, safe_cell
from crmctl.core.query import apply


def test_formula_cells_are_neutralised() -> None:
    rows = [{"name": "=HYPERLINK(\"http://evil\",\"x\")"}, {"name": "+1+2"}, {"name": "@SUM(A1)"}, {"name": "-2+3"},
            {"name": "\t=1"}, {"name": "-12.50"}, {"name": "normal"}]
    out = list(csv.reader(io.StringIO(render_rows(rows, "csv"))))
    assert [r[0] for r in out[1:]] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+1+2", "'@SUM(A1)", "'-2+3", "'\t=1", "-12.50", "normal"]


@given(st.text(max_size=40))
def test_no_csv_cell_can_start_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(("=", "+", "@", "\t", "\r")) or cell.startswith("'")


def test_json_is_stable_for_scripts() -> None:
    rows = [{"id": "a", "amount": Decimal("1234.50"), "nested": [{"id": "x"}, {"id": "y"}]}, {"id": "b", "amount": "7.00"}]
    text = render_rows(rows, "json")
    assert json.loads(text) == [{"id": "a", "amount": "1234.50", "nested": [{"id": "x"}, {"id": "y"}]}, {"id": "b", "amount": "7.00"}]
    assert text.splitlines()[-1] == '{"id":"b","amount":"7.00"}]'  # each record starts a line
    assert json.loads(render_record({"id": "a", "amount": Decimal("5.10")}, "json")) == {"id": "a", "amount": "5.10"}


def test_where_sort_limit() -> None:
    rows = [{"id": "a", "amount": "100.00", "tags": ["x"]}, {"id": "b", "amount": "25.5"}, {"id": "c", "amount": "1000"}]
    assert [r["id"] for r in apply(rows, sort=["-amount"])] == ["c", "a", "b"]
    assert [r["id"] for r in apply(rows, where=["amount>=100"])] == ["a", "c"]
    assert [r["id"] for r in apply(rows, where=["tags=x"])] == ["a"]
    assert [r["id"] for r in apply(rows, where=["id~B"], limit=5)] == ["b"]
    assert [r["id"] for r in apply(rows, where=["amount!=1000"], sort=["id"], limit=1)] == ["a"]
