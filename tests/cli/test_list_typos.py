"""Every list command refuses a --where/--sort field or operator it does not have, naming the fields (not `(none)`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run, err_line

LISTS = [
    ("account", "list"), ("contact", "list"), ("user", "list"), ("lead", "list"), ("opp", "list"), ("product", "list"),
    ("quote", "list"), ("order", "list"), ("payment", "list"), ("visit", "list"), ("report", "customers"), ("log",),
    ("export", "accounts"),
]


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
@pytest.mark.parametrize("option, message", [
    (["--where", "teir=A"], "--where 'teir=A': no field 'teir'"),
    (["--where", "id==A"], "--where 'id==A': '==' is not an operator; write 'id=A'"),
    (["--sort", "nosuch"], "--sort 'nosuch': no field 'nosuch'"),
])
def test_every_list_refuses_a_typo(run: Run, command: tuple[str, ...], option: list[str], message: str) -> None:
    r = run(*command, *option)
    assert r.exit_code == 1, r.output
    assert err_line(r).startswith(f"error: {message}"), err_line(r)
    assert r.stdout == ""  # not an empty table


def declare_region(book: Path) -> None:
    """A custom field for accounts in the book's crm.yaml."""
    settings = book / "crm.yaml"
    text = settings.read_text(encoding="utf-8").replace("custom_fields: {}", "custom_fields:\n  accounts:\n    region: str")
    settings.write_text(text, encoding="utf-8")


def test_the_error_lists_schema_custom_and_computed_fields(run: Run, book: Path) -> None:
    declare_region(book)
    line = err_line(run("account", "list", "--where", "teir=A"))
    assert line.startswith("error: --where 'teir=A': no field 'teir' (did you mean 'tier'?); fields are: id, name, name_en,")
    assert ", tier, " in line and line.endswith(", region")  # the schema's, then crm.yaml's custom fields
    assert "fields are: " in err_line(run("order", "list", "--sort", "-balanc"))
    assert "(did you mean 'balance'?)" in err_line(run("order", "list", "--sort", "-balanc"))  # a computed column


def test_valid_fields_still_filter_and_sort(run: Run, book: Path) -> None:
    declare_region(book)
    assert run("account", "edit", "acme", "--set", "region=East").exit_code == 0
    rows = json.loads(run("account", "list", "--where", "region=East", "--format", "json").stdout)
    assert [row["id"] for row in rows] == ["acme"]
    rows = json.loads(run("account", "list", "--where", "tier=A", "--sort", "-name", "--format", "json").stdout)
    assert [row["id"] for row in rows] == ["acme"]
    assert run("account", "list", "--where", "notes~x").stdout.strip() == "(none)"  # a real field no account has set
    assert run("order", "list", "--where", "balance>0").exit_code == 0  # a computed column, no orders yet
    assert run("report", "customers", "--where", "health<50").exit_code == 0
