"""``crmctl sql``, ``export --format sqlite`` and crm.yaml's custom fields: the attack-5 findings F7-F12."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import err_line, invoke

NOW = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}


def sql(book: Path, statement: str, *args: str):
    return invoke("sql", statement, "--format", "json", *args, book=book, env=NOW)


def rows(book: Path, statement: str) -> list[dict]:
    result = sql(book, statement)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def declare(book: Path, fields: str) -> None:
    """Replace crm.yaml's ``custom_fields:`` block (the demo's credit_limit) with ``fields`` (YAML flow text)."""
    text = (book / "crm.yaml").read_text(encoding="utf-8")
    start = text.index("custom_fields:")
    end = text.index("\n\n", start)
    (book / "crm.yaml").write_text(f"{text[:start]}custom_fields: {fields}{text[end:]}", encoding="utf-8")


def settings_line(book: Path) -> int:
    return next(n for n, line in enumerate((book / "crm.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if line.startswith("custom_fields:"))


# ---------------------------------------------------------------- F9, F10: custom fields in crm.yaml


@pytest.mark.parametrize("fields, said", [
    ("{opportunities: {amount_num: money}}", "the name 'amount_num' is already the column amount_num of opportunities"),
    ("{opportunities: {AMOUNT_BOOK: decimal}}", "the name 'AMOUNT_BOOK' is already the column amount_book of opportunities"),
    ("{quotes: {id: str}}", "the name 'id' is already the record's id"),
    ("{opportunities: {stage: str}}", "the name 'stage' is already the field stage of opportunities"),
    ("{accounts: {limit: money, limit_num: int}}", "the name 'limit_num' is already the column limit_num of custom field limit"),
    ("{accounts: {limit_book: int, limit: money}}", "its SQL column 'limit_book' is already the column limit_book of custom field limit_book"),
])
def test_a_custom_field_named_like_another_column_is_refused_everywhere(demo_copy: Path, fields: str, said: str) -> None:
    """F9: `amount_num: money` passed check, then every `sql` and the sqlite export died of "duplicate column name"."""
    declare(demo_copy, fields)
    line = settings_line(demo_copy)
    for args in (("check",), ("sql", "SELECT 1"), ("export", "--format", "sqlite", "--out", "x.sqlite"),
                 ("opp", "list"), ("account", "show", "saic-group")):
        result = invoke(*args, book=demo_copy, env=NOW)
        assert result.exit_code == 1, (args, result.output)
        assert err_line(result).startswith(f"error: crm.yaml:{line}: custom_fields."), err_line(result)
        assert said in err_line(result) and "choose another name" in err_line(result)
    assert not (demo_copy / "x.sqlite").exists()


@pytest.mark.parametrize("kind", ["monye", "integer", "string", "[a, b]", "enum", "{type: enum}", "{values: [a]}"])
def test_an_unknown_custom_field_type_is_refused_with_the_valid_ones(demo_copy: Path, kind: str) -> None:
    """F10: `credit_limit: monye` silently meant free text (`--set credit_limit=abc` was accepted)."""
    declare(demo_copy, "{accounts: {credit_limit: %s}}" % kind)
    for args in (("check",), ("account", "edit", "saic-group", "--set", "credit_limit=abc"), ("sql", "SELECT 1")):
        result = invoke(*args, book=demo_copy, env=NOW)
        assert result.exit_code == 1, (args, result.output)
        line = err_line(result)
        assert line.startswith(f"error: crm.yaml:{settings_line(demo_copy)}: custom_fields.accounts.credit_limit: "), line
        assert ("use one of str, text, int, decimal, money, percent, date" in line) or "an enum needs its values" in line
    assert "credit_limit" not in (demo_copy / "records" / "accounts" / "saic-group.yaml").read_text(encoding="utf-8")


def test_custom_fields_under_an_unknown_type_are_refused(demo_copy: Path) -> None:
    declare(demo_copy, "{acounts: {credit_limit: money}}")
    line = err_line(invoke("check", book=demo_copy, env=NOW))
    assert line.startswith("error: crm.yaml:") and "'acounts' is not a record type; use one of users, accounts" in line


def test_the_line_named_is_the_field_s_own(demo_copy: Path) -> None:
    text = (demo_copy / "crm.yaml").read_text(encoding="utf-8")
    (demo_copy / "crm.yaml").write_text(text.replace("    credit_limit: money\n",
                                                     "    credit_limit: money\n    tier_num: monye\n"), encoding="utf-8")
    line = next(n for n, x in enumerate((demo_copy / "crm.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if "tier_num" in x)
    assert err_line(invoke("check", book=demo_copy, env=NOW)).startswith(f"error: crm.yaml:{line}: custom_fields.accounts.tier_num: ")


def test_valid_custom_fields_still_work(demo_copy: Path) -> None:
    declare(demo_copy, "{accounts: {credit_limit: money, segment: {type: enum, values: [oem, tier1]}}, "
                       "opportunities: {competitors: list}}")
    assert invoke("check", book=demo_copy, env=NOW).exit_code == 0
    assert invoke("account", "edit", "saic-group", "--set", "segment=oem", "--set", "credit_limit=5000",
                  book=demo_copy, env=NOW).exit_code == 0
    assert rows(demo_copy, "SELECT segment, credit_limit, credit_limit_num FROM accounts WHERE id = 'saic-group'") == \
        [{"segment": "oem", "credit_limit": "5000.00", "credit_limit_num": 5000.0}]
