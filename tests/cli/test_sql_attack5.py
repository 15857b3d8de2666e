"""``crmctl sql``, ``export --format sqlite`` and crm.yaml's custom fields: the attack-5 findings F7-F12."""
from __future__ import annotations

import json
import os
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
    declare(demo_copy, f"{{accounts: {{credit_limit: {kind}}}}}")
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


# ---------------------------------------------------------------- F7: money of different currencies


def test_money_in_the_book_currency_equals_the_forecast(demo_copy: Path) -> None:
    """F7: tom-baker's two won deals are 48000.00 EUR and 52000.00 USD; dsum(amount) said "100000.00".
    In CNY at the rates of 2026-11-02 (the latest on or before today, as `report forecast` converts):
    48000.00 x 7.70 = 369600.00 and 52000.00 x 7.10 = 369200.00, together 738800.00."""
    got = rows(demo_copy, "SELECT owner, dsum(amount_book) AS won, sum(amount_book_num) AS won_num FROM opportunities "
                          "WHERE stage = 'won' AND owner = 'tom-baker' GROUP BY owner")
    assert got == [{"owner": "tom-baker", "won": "738800.00", "won_num": 738800.0}]
    forecast = invoke("report", "forecast", "--period", "2026", "--format", "json", book=demo_copy, env=NOW)
    closed = {r["owner"]: r["closed"] for r in json.loads(forecast.stdout)}
    assert closed["tom-baker"] == "738800.00"
    each = rows(demo_copy, "SELECT currency, amount, amount_book FROM opportunities WHERE stage = 'won' "
                           "AND owner = 'tom-baker' ORDER BY currency")
    assert each == [{"currency": "EUR", "amount": "48000.00", "amount_book": "369600.00"},
                    {"currency": "USD", "amount": "52000.00", "amount_book": "369200.00"}]


def test_dsum_with_the_currency_refuses_to_add_two_currencies(demo_copy: Path) -> None:
    result = sql(demo_copy, "SELECT owner, dsum(amount, currency) FROM opportunities WHERE stage = 'won' GROUP BY owner")
    assert result.exit_code == 1
    assert err_line(result) == ("error: sql: dsum(x, currency) met EUR and USD in one group; GROUP BY currency, "
                                "or add the <money>_book column (the book currency)")
    assert rows(demo_copy, "SELECT currency, dsum(amount, currency) AS won FROM opportunities WHERE stage = 'won' "
                           "AND owner = 'tom-baker' GROUP BY currency ORDER BY currency") == \
        [{"currency": "EUR", "won": "48000.00"}, {"currency": "USD", "won": "52000.00"}]


def test_no_rate_is_null_and_said_never_a_guess(demo_copy: Path) -> None:
    """A JPY deal with no JPY rate in records/rates.yaml: amount_book NULL, one warning naming the currency."""
    path = demo_copy / "records" / "opportunities" / "2ndtj2ps67v4.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("currency: USD", "currency: JPY")
                    .replace('amount: "52000.00"', 'amount: "52000"'), encoding="utf-8")
    result = sql(demo_copy, "SELECT amount, amount_book, amount_book_num FROM opportunities WHERE id = '2ndtj2ps67v4'")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"amount": "52000", "amount_book": None, "amount_book_num": None}]
    assert "warning: sql: no JPY rate on or before 2026-11-27 in records/rates.yaml" in result.stderr


def test_the_exported_database_has_the_book_currency_columns(demo_copy: Path, tmp_path: Path) -> None:
    import sqlite3

    out = tmp_path / "b.sqlite"
    assert invoke("export", "--format", "sqlite", "--out", str(out), book=demo_copy, env=NOW).exit_code == 0
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT sum(amount_book_num) FROM opportunities WHERE stage = 'won' AND owner = 'tom-baker'"
                        ).fetchone() == (738800.0,)
    conn.close()


# ---------------------------------------------------------------- F8: values the reports leave out


def test_a_value_the_reports_leave_out_is_warned_about_by_sql_and_export(demo_copy: Path, tmp_path: Path) -> None:
    path = demo_copy / "records" / "opportunities" / "2ndtj4mm3vkw.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('amount: "1480000.00"', 'amount: "1,480,000.00"'),
                    encoding="utf-8")
    report = invoke("report", "pipeline", book=demo_copy, env=NOW).stderr.strip().splitlines()[0]
    assert report.startswith("warning: records/opportunities/2ndtj4mm3vkw.yaml:7: amount: '1,480,000.00'")
    for _ in range(2):  # once read, once from the stored stats
        result = sql(demo_copy, "SELECT amount, amount_num, amount_book FROM opportunities WHERE id = '2ndtj4mm3vkw'")
        assert json.loads(result.stdout) == [{"amount": "1,480,000.00", "amount_num": None, "amount_book": None}]
        assert report in result.stderr.splitlines()  # the same words as the report's
    summed = sql(demo_copy, "SELECT dsum(amount) FROM opportunities")
    assert "warning: sql: dsum left out 1 value that is not a number: '1,480,000.00'" in summed.stderr
    exported = invoke("export", "--format", "sqlite", "--out", str(tmp_path / "b.sqlite"), book=demo_copy, env=NOW)
    assert report in exported.stderr.splitlines()
    other = sql(demo_copy, "SELECT count(*) AS n FROM accounts")  # a statement not reading that table: no warning
    assert other.stderr == ""


def test_dsum_says_what_it_left_out(demo_copy: Path) -> None:
    result = sql(demo_copy, "SELECT dsum(x) AS s FROM (SELECT 'abc' x UNION ALL SELECT '1.00')")
    assert json.loads(result.stdout) == [{"s": "1.00"}]
    assert result.stderr == "warning: sql: dsum left out 1 value that is not a number: 'abc'\n"


# ---------------------------------------------------------------- F11: big results


def test_a_big_result_streams_as_csv_and_is_refused_as_a_table(demo_copy: Path) -> None:
    big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10001) SELECT x FROM c"
    table = invoke("sql", big, book=demo_copy, env=NOW)
    assert table.exit_code == 1 and table.stdout == ""
    assert err_line(table) == ("error: sql: more than 10,000 rows are too many to lay out as a table; add LIMIT, "
                               "or use --format csv (json, yaml), which prints rows as they come")
    csv = invoke("sql", big, "--format", "csv", book=demo_copy, env=NOW)
    assert csv.stdout.splitlines() == ["x", *map(str, range(1, 10002))]
    assert [r["x"] for r in json.loads(invoke("sql", big, "--format", "json", book=demo_copy, env=NOW).stdout)] == \
        list(range(1, 10002))
    assert invoke("sql", big + " LIMIT 3", book=demo_copy, env=NOW).exit_code == 0


def test_a_big_result_does_not_grow_the_process(demo_copy: Path, crmctl_bin: str) -> None:
    """F11: 20 million rows under a 1.5 GB address-space limit ended in "internal error (MemoryError)". Streamed, 1
    million rows pass under 300 MB of address space (the old code, holding them all, ran out of memory there)."""
    import resource
    import subprocess

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))

    statement = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000) SELECT x FROM c"
    proc = subprocess.run([crmctl_bin, "--book", str(demo_copy), "sql", statement, "--format", "csv"],
                          capture_output=True, env={**os.environ, **NOW}, preexec_fn=limited, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"\n") == 1_000_001 and proc.stdout.endswith(b"\n1000000\n")


# ---------------------------------------------------------------- F12: messages


@pytest.mark.parametrize("statement", [
    "SELECT name FROM pragma_table_info('accounts')",
    "PRAGMA user_version",
    "SELECT 1;;",
    "SELECT 1 ;  ; ",
])
def test_a_pure_read_is_not_refused(demo_copy: Path, statement: str) -> None:
    result = sql(demo_copy, statement)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("statement, said", [
    ("SELECT * FROM opps", ("error: sql: no such table: opps; did you mean opportunities? "
                            "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT amount_nm FROM opportunities", ("error: sql: no such column: amount_nm (opportunities has none); did you mean "
                                             "amount_num or amount or amount_book_num? (`crmctl sql --tables` lists the "
                                             "tables and their columns)")),
    # attack 7, F9: the names came from every table's columns, the missing one first ("did you mean owner or phone
    # or order?"); now only the tables read, never the missing name, and what it refers to elsewhere (visits' rep)
    ("SELECT owner FROM visits", ("error: sql: no such column: owner (visits has none); did you mean rep? "
                                  "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT v.owner FROM visits v JOIN accounts a ON a.id = v.account",
     ("error: sql: no such column: v.owner (visits has none); did you mean rep? "
      "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT by FROM payments JOIN orders ON orders.id = payments.\"order\" WHERE rep = 1",
     ("error: sql: no such column: rep (orders and payments have none); did you mean owner or by or ref? "
      "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT ownr FROM accounts", ("error: sql: no such column: ownr (accounts has none); did you mean owner? "
                                   "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT x FROM visit_steps", ("error: sql: no such column: x (visit_steps has none) "
                                   "(`crmctl sql --tables` lists the tables and their columns)")),
    ("SELECT load_extension('x')", ("error: sql: not authorized: `crmctl sql` reads the book's tables and nothing else "
                                    "(no extensions, no other files)")),
    ("SELECT * FROM _records", ("error: sql: _records is crmctl's bookkeeping, not a table of the book; "
                                "`crmctl sql --tables` lists the tables")),
    ("SELECT 1; SELECT 2", "error: sql: You can only execute one statement at a time."),
    ("PRAGMA user_version = 3", ("error: sql: refused (pragma user_version): `crmctl sql` only reads (SELECT, WITH ... "
                                 "SELECT); change records with crmctl commands or by editing their files")),
])
def test_errors_are_one_line_without_a_table_dump(demo_copy: Path, statement: str, said: str) -> None:
    result = sql(demo_copy, statement)
    assert result.exit_code == 1
    assert [x for x in result.output.splitlines() if x.strip()] == [said]


def test_a_statement_may_start_with_a_comment(demo_copy: Path) -> None:
    got = rows(demo_copy, "-- pipeline by stage\nSELECT stage, count(*) AS n FROM opportunities "
                          "WHERE stage = 'won' GROUP BY stage")
    assert got == [{"stage": "won", "n": 6}]


def test_tables_lists_every_table_with_its_columns(demo_copy: Path) -> None:
    listed = {r["table"]: r["columns"].split(", ")
              for r in json.loads(invoke("sql", "--tables", "--format", "json", book=demo_copy, env=NOW).stdout)}
    assert listed["opportunities"][:1] == ["id"]
    assert {"amount", "amount_num", "amount_book", "amount_book_num"} <= set(listed["opportunities"])
    assert "quote_id" in listed["quote_lines"] and not any(t.startswith("_") for t in listed)
    assert rows(demo_copy, "SELECT * FROM opportunities LIMIT 1")[0].keys() == set(listed["opportunities"])


@pytest.mark.parametrize("statement", ["DELETE FROM opportunities", "UPDATE opportunities SET amount_book = '1'",
                                       "INSERT INTO orders (id) VALUES ('x')"])
def test_a_write_to_a_table_with_book_currency_columns_is_refused_the_same(demo_copy: Path, statement: str) -> None:
    result = sql(demo_copy, statement)
    assert result.exit_code == 1
    assert err_line(result).startswith("error: sql: refused (") and "`crmctl sql` only reads" in err_line(result)


@pytest.mark.parametrize("statement", ["--tabels", "-- nothing else", "/* only this */", "-- a\n/* b */\n"])
def test_a_statement_that_is_only_a_comment_is_refused(demo_copy: Path, statement: str) -> None:
    """`crmctl sql --tabels` (a mistyped option, taken for an SQL comment) printed "(none)"."""
    result = invoke("sql", statement, book=demo_copy, env=NOW)
    assert result.exit_code == 1
    assert "is only an SQL comment, no statement; a mistyped option?" in err_line(result)
