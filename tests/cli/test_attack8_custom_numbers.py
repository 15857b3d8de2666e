"""attack8 findings 1-3: a custom number field of crm.yaml (int, decimal, percent, money) is screened by the rule a
core field's number is: a value ``check`` refuses is left out of --where, --sort, show, export and SQL's ``_num``,
with the one warning per file naming ``path:line``; ``check`` says what to write for ``"7"``, ``007`` and ``+7``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmctl.core import yamlio
from crmctl.core.schema import Field, check_value
from crmctl.core.settings import Settings
from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
NINGBO = Path("records/accounts/ningbo-moulds.yaml")
BAVARIA = Path("records/accounts/bavaria-gears.yaml")
FIELDS = "    qty: int\n    ratio: decimal\n    share: percent\n    fee: money\n    cell: phone\n"


@pytest.fixture
def custom(demo_copy: Path) -> tuple[Path, int]:
    """The demo book with five custom account fields; ningbo-moulds holds numbers ``check`` refuses, bavaria-gears
    the same numbers written as crmctl writes them. Returns the book and the line of ningbo's ``qty:``."""
    yaml = demo_copy / "crm.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert "  accounts:\n    credit_limit: money\n" in text
    yaml.write_text(text.replace("    credit_limit: money\n", "    credit_limit: money\n" + FIELDS), encoding="utf-8")
    ningbo = demo_copy / NINGBO
    line = len(ningbo.read_text(encoding="utf-8").splitlines()) + 1
    with ningbo.open("a", encoding="utf-8") as out:
        out.write('qty: 007\nratio: 0001.5\nshare: "012.5"\nfee: "-0050.00"\ncell: 0571123\n')
    with (demo_copy / BAVARIA).open("a", encoding="utf-8") as out:
        out.write('qty: 3\nratio: 1.5\nshare: 12.5\nfee: "50.00"\ncell: "0571123"\n')
    return demo_copy, line


def ids(book: Path, *args: str) -> tuple[list[str], str]:
    result = invoke("account", "list", *args, "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)], result.stderr


def warned_once(stderr: str, line: int) -> None:
    """The one warning for ningbo-moulds, at its first bad number, naming each field and leaving the values out."""
    lines = [x for x in stderr.splitlines() if "ningbo-moulds.yaml" in x]
    assert len(lines) == 1, stderr
    assert f"records/accounts/ningbo-moulds.yaml:{line}: qty: '007' has leading zeros; write 7" in lines[0]
    assert all(f"{name}: " in lines[0] for name in ("ratio", "share", "fee")), lines[0]
    assert lines[0].endswith("(its value is left out of figures)")


@pytest.mark.parametrize("where, found", [
    ("qty=7", []),                   # before: ningbo-moulds (qty: 007 read as 7)
    ("qty>5", []),                   # before: ningbo-moulds
    ("qty<5", ["bavaria-gears"]),    # 3 < 5; 007 is no number
    ("ratio>1", ["bavaria-gears"]),  # before: both ('0001.5' as 1.5)
    ("share>12", ["bavaria-gears"]), # before: both ('012.5' as 12.5)
    ("fee<0", []),                   # before: ningbo-moulds ('-0050.00' as -50, in a money field)
])
def test_where_leaves_out_a_custom_number_check_refuses_and_warns(custom: tuple[Path, int], where: str,
                                                                  found: list[str]) -> None:
    book, line = custom
    got, stderr = ids(book, "--where", where)
    assert got == found
    warned_once(stderr, line)


def test_sort_by_a_custom_int_puts_a_refused_value_with_the_empty_ones(custom: tuple[Path, int]) -> None:
    # before: ningbo (007) sorted as 7 after bavaria (3); now its qty is no value, as for accounts without one
    book, line = custom
    got, stderr = ids(book, "--sort", "qty", "--where", "qty>0")
    assert got == ["bavaria-gears"]
    warned_once(stderr, line)
    everyone, _ = ids(book, "--sort", "qty")
    assert everyone[0] == "bavaria-gears" and everyone[1:] == sorted(everyone[1:])  # the rest: no qty, by id


def test_show_and_export_leave_the_value_out_and_warn(custom: tuple[Path, int]) -> None:
    # before: show printed qty 007, ratio 0001.5, ...; export wrote "qty": "007"; neither warned
    book, line = custom
    shown = invoke("account", "show", "ningbo-moulds", book=book, env=NOW)
    assert shown.exit_code == 0, shown.output
    assert "007" not in shown.stdout and "0001.5" not in shown.stdout and "-0050.00" not in shown.stdout
    assert "0571123" in shown.stdout  # a phone keeps its zero: text, not a number
    warned_once(shown.stderr, line)
    exported = invoke("export", "accounts", "--format", "json", book=book, env=NOW)
    assert exported.exit_code == 0, exported.output
    rows = {row["id"]: row for row in json.loads(exported.stdout)}
    assert not {"qty", "ratio", "share", "fee"} & set(rows["ningbo-moulds"])
    assert rows["bavaria-gears"]["qty"] == 3 and rows["bavaria-gears"]["fee"] == "50.00"
    warned_once(exported.stderr, line)


def test_an_int_field_has_a_num_column_null_where_check_refuses(custom: tuple[Path, int]) -> None:
    # before: no qty_num; sum(qty) was 10 = 3 + '007' read as 7 by SQLite. sum(qty_num) = 3 (bavaria only)
    book, line = custom
    result = invoke("sql", "SELECT id, qty, qty_num FROM accounts WHERE qty IS NOT NULL ORDER BY id",
                    "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": "bavaria-gears", "qty": 3, "qty_num": 3},
                                         {"id": "ningbo-moulds", "qty": "007", "qty_num": None}]
    total = invoke("sql", "SELECT sum(qty_num) AS n FROM accounts", "--format", "json", book=book, env=NOW)
    assert json.loads(total.stdout) == [{"n": 3}]
    warned_once(total.stderr, line)


@pytest.mark.parametrize("written, message", [
    ('"7"', "qty: '7' is text (quoted); write 7"),             # before: "qty must be a whole number"
    ("007", "qty: '007' has leading zeros; write 7"),          # before: the same
    ("00", "qty: '00' has leading zeros; write 0"),
    ("-007", "qty: '-007' has leading zeros; write -7"),
    ("+7", "qty: '+7' has a sign; write 7"),                   # before: passed as 7 (money refuses +1480000.00)
    ('" 7"', "qty: ' 7' has spaces around it; write 7"),
    ("7.0", "qty: '7.0' is not a whole number (write 7)"),
    ("7.5", "qty: '7.5' is not a whole number (no decimals here)"),
    ("abc", "qty: 'abc' is not a whole number (write it like 12)"),
])
def test_check_says_what_to_write_in_an_int_field(written: str, message: str) -> None:
    value = yamlio.loads(f"qty: {written}\n", "r.yaml")[0]["qty"]
    assert check_value(Field("qty", "int"), value, Settings({})) == message


@pytest.mark.parametrize("written", ["7", "-3", "0"])
def test_an_int_written_as_crmctl_writes_it_passes(written: str) -> None:
    value = yamlio.loads(f"qty: {written}\n", "r.yaml")[0]["qty"]
    assert check_value(Field("qty", "int"), value, Settings({})) is None


def test_check_names_the_line_and_what_to_write(custom: tuple[Path, int]) -> None:
    book, line = custom
    result = invoke("check", book=book, env=NOW)
    assert f"records/accounts/ningbo-moulds.yaml:{line}: qty: '007' has leading zeros; write 7" in result.output


def test_a_core_int_field_follows_the_same_rule(demo_copy: Path) -> None:
    # the whole kind: a core int (a pricebook's priority) written 007 is left out of --where as a custom one is
    pricebooks = sorted((demo_copy / "records/pricebooks").glob("*.yaml"))
    target = next(p for p in pricebooks if "priority:" in p.read_text(encoding="utf-8"))
    text = target.read_text(encoding="utf-8")
    old = next(x for x in text.splitlines() if x.startswith("priority:"))
    target.write_text(text.replace(old, "priority: +0010"), encoding="utf-8")
    result = invoke("pricebook", "list", "--where", "priority>=0", "--format", "json", book=demo_copy, env=NOW)
    assert result.exit_code == 0, result.output
    assert target.stem not in [row["id"] for row in json.loads(result.stdout)]
    assert f"{target.name}:" in result.stderr and "priority: '+0010' has a sign; write 10" in result.stderr
