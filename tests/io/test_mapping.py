"""Mapping files: parsing, checking against the file and schema, and turning rows into field values."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core.book import Book
from crmctl.core.errors import CrmError
from crmctl.core.schemas import get_schema
from crmctl.io.importer import plan_import
from crmctl.io.mapping import Ref, apply_row, check_mapping, field_of, load_preset, parse_mapping, render_template
from crmctl.io.readers import Table


def mapped(book: Book, rtype: str, spec: dict[str, Any], row: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    mapping = parse_mapping(spec, "m.yaml")
    schema = get_schema(rtype)
    check_mapping(mapping, schema, book.settings, list(row), "f.csv")
    fields = {r.field: field_of(schema, book.settings, r.field) for r in mapping.rules}
    data, _, errors = apply_row(mapping, row, schema, book.settings, fields)  # type: ignore[arg-type]
    return data, errors


def test_translation_dates_refs_constants_and_templates(book: Path) -> None:
    b = Book(str(book))
    spec = {
        "date_format": "%d/%m/%Y",
        "columns": {"Deal": "name", "Stage": {"field": "stage", "translate": {"Won": "won", "Engaging": "qualification"}},
                    "Closed": ["close_date", "closed_on"], "Value": "amount",
                    "Firm": {"field": "account", "ref": "accounts", "by": "name"}},
        "constants": {"currency": "USD"},
        "templates": {"notes": "{Deal|upper} / {Firm}"},
    }
    data, errors = mapped(b, "opportunities", spec,
                          {"Deal": "Big deal", "Stage": "won", "Closed": "31/01/2026", "Value": "$1,234.5", "Firm": "ACME"})
    assert errors == []
    assert data == {"currency": "USD", "notes": "BIG DEAL / ACME", "name": "Big deal", "stage": "won",
                    "close_date": "2026-01-31", "closed_on": "2026-01-31", "amount": "1234.50",
                    "account": Ref("accounts", "ACME", "name")}


def test_bad_cells_are_reported_per_column(book: Path) -> None:
    b = Book(str(book))
    spec = {"columns": {"n": "name", "d": "close_date", "a": "amount", "s": "score"}}
    _, errors = mapped(b, "opportunities", {"columns": {"n": "name", "d": "close_date", "a": "amount"}},
                       {"n": "x", "d": "31/02/2026", "a": "lots"})
    assert [c for c, _ in errors] == ["d", "a"]
    assert "is not a date (YYYY-MM-DD)" in errors[0][1]
    _, errors = mapped(b, "leads", {"columns": {"n": "name", "s": "score"}}, {"n": "x", "s": "12.5"})
    assert errors == [("s", "score: '12.5' is not a whole number")]
    assert spec


def test_unknown_column_and_unknown_field_are_clear_errors(book: Path) -> None:
    b = Book(str(book))
    with pytest.raises(CrmError, match=r"m.yaml: column 'Nmae' is not in f.csv \(its columns: name\)"):
        mapped(b, "leads", {"columns": {"Nmae": "name"}}, {"name": "x"})
    with pytest.raises(CrmError, match=r"m.yaml: unknown field 'nmae' for leads"):
        mapped(b, "leads", {"columns": {"name": "nmae"}}, {"name": "x"})
    with pytest.raises(CrmError, match=r"template for name uses column 'First'"):
        mapped(b, "leads", {"templates": {"name": "{First} {Last}"}}, {"Last": "x"})
    with pytest.raises(CrmError, match=r"unknown key 'colums'"):
        parse_mapping({"colums": {}}, "m.yaml")
    with pytest.raises(CrmError, match=r"unknown key 'transalte'"):
        parse_mapping({"columns": {"a": {"field": "name", "transalte": {}}}}, "m.yaml")


def test_enum_values_match_case_and_spacing(book: Path) -> None:
    b = Book(str(book))
    data, errors = mapped(b, "leads", {"columns": {"n": "name", "s": "source"}}, {"n": "x", "s": "Trade Show"})
    assert data["source"] == "trade_show" and not errors


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), st.text(max_size=10))
@settings(max_examples=100, deadline=None)
def test_templates_fill_cells_and_never_evaluate(value: str, other: str) -> None:
    out = render_template("{a}-{b|lower}", {"a": value, "b": other})
    assert out == " ".join(f"{value}-{other.lower() if other else ''}".split())
    # a cell that looks like a format expression stays text
    assert render_template("{a}", {"a": "{0.__class__}"}) == "{0.__class__}"


def test_presets_load_for_each_type() -> None:
    for preset in ("salesforce", "hubspot"):
        for rtype in ("leads", "contacts", "accounts", "opportunities"):
            assert load_preset(preset, rtype).rules
    with pytest.raises(CrmError, match="has no mapping for products"):
        load_preset("salesforce", "products")


def test_plan_resolves_names_and_dedupes_within_the_file(book: Path) -> None:
    b = Book(str(book))
    table = Table(["name", "email", "owner"], [
        (2, {"name": "Li Na", "email": "LI@x.cn", "owner": "Rex Rep"}),
        (3, {"name": "Li Na again", "email": "li@x.cn ", "owner": "ria"}),
        (4, {"name": "Zhou", "email": "zhou@x.cn", "owner": "Nobody"}),
    ], "csv")
    mapping = parse_mapping({"columns": {"name": "name", "email": "email", "owner": "owner"}}, "m.yaml")
    plan = plan_import(b, "leads", table, mapping, "f.csv")
    assert plan.counts == {"read": 3, "created": 1, "updated": 0, "duplicates": 1, "rejected": 1}
    assert plan.actions[0].data["owner"] == "rex" and plan.actions[0].data["status"] == "new"
    assert plan.rejected[0].row == 4
    assert plan.rejected[0].reasons == [("owner", "owner: no user 'Nobody'; import the users first or fix the name")]


lead_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=15).map(str.strip).filter(bool)


@given(st.lists(st.fixed_dictionaries({"name": lead_text, "company": lead_text, "city": st.one_of(st.none(), lead_text),
                                       "score": st.one_of(st.none(), st.integers(-10**6, 10**6).map(str))}), max_size=8))
@settings(max_examples=60, deadline=None)
def test_rows_written_as_csv_map_back_to_the_same_values(rows: list[dict[str, str | None]]) -> None:
    import csv
    import io

    from crmctl.core.settings import Settings
    from crmctl.io.mapping import identity_mapping
    from crmctl.io.readers import read

    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["name", "company", "city", "score"])
    writer.writeheader()
    writer.writerows(rows)
    table = read(buf.getvalue().encode(), "x.csv", delimiter=",")
    schema, settings_ = get_schema("leads"), Settings({})
    mapping = identity_mapping(table.columns, schema, settings_)
    fields = {r.field: field_of(schema, settings_, r.field) for r in mapping.rules}
    got = [apply_row(mapping, row, schema, settings_, fields)[0] for _, row in table.rows]  # type: ignore[arg-type]
    want = [{k: (int(v) if k == "score" else v) for k, v in r.items() if v is not None} for r in rows]
    assert got == want
