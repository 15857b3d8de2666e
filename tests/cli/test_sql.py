"""``crmctl sql`` and ``export --format sqlite``: the read model against the records it is made from."""
from __future__ import annotations

import json
import os
import random
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from crmctl.core.yamlio import dumps_fast
from tests.conftest import err_line, git, invoke

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")


def write(book: Path, rtype: str, rid: str, data: dict) -> None:
    (book / "records" / rtype).mkdir(parents=True, exist_ok=True)
    (book / "records" / rtype / f"{rid}.yaml").write_text(dumps_fast(data), encoding="utf-8")


def commit(book: Path, message: str) -> None:
    git(book, "add", "-A")
    git(book, "commit", "--no-verify", "-qm", message)


@pytest.fixture
def generated(book: Path) -> Path:
    """The team book plus 300 opportunities and 200 orders with installments, drawn with a fixed seed."""
    rnd = random.Random(19)
    for i in range(300):
        write(book, "opportunities", f"op{i:04d}", {
            "name": f"Deal {i}", "account": rnd.choice(("acme", "baosteel")), "owner": rnd.choice(("rex", "ria", "mia")),
            "stage": rnd.choice(STAGES), "amount": f"{rnd.randint(0, 10**7)}.{rnd.randint(0, 99):02d}",
            "contacts": [f"c{rnd.randint(0, 9)}"] * rnd.randint(0, 2),
            "stage_history": [{"from": "prospecting", "to": "qualification", "at": "2026-01-02T10:00:00+08:00", "by": "rex"}],
        })
    for i in range(200):
        parts = [f"{rnd.randint(1, 99999)}.{rnd.randint(0, 99):02d}" for _ in range(rnd.randint(1, 4))]
        write(book, "orders", f"or{i:04d}", {
            "number": f"SO-2026-{i:04d}", "account": "acme", "date": "2026-03-01", "currency": "CNY",
            "total": str(sum(map(Decimal, parts))), "status": "open",
            "installments": [{"due": f"2026-0{n + 4}-01", "amount": p} for n, p in enumerate(parts)],
        })
    commit(book, "generated")
    return book


def sql(book: Path, statement: str, *args: str):
    return invoke("sql", statement, "--format", "json", *args, book=book)


def rows(book: Path, statement: str) -> list[dict]:
    result = sql(book, statement)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sums_equal_the_records_summed_in_python(generated: Path) -> None:
    """Per owner of won deals: count, exact sum (dsum) and the REAL sum equal Decimal sums over the files."""
    from crmctl.core.book import Book

    expected: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for rec in Book(str(generated)).all("opportunities"):
        if rec.get("stage") == "won":
            expected[rec.get("owner")][0] += 1
            expected[rec.get("owner")][1] += Decimal(rec.get("amount"))
    got = rows(generated, "SELECT owner, count(*) AS n, dsum(amount) AS exact, sum(amount_num) AS approx "
                          "FROM opportunities WHERE stage = 'won' GROUP BY owner ORDER BY owner")
    assert [r["owner"] for r in got] == sorted(expected)
    for r in got:
        n, total = expected[r["owner"]]
        assert r["n"] == n
        assert Decimal(r["exact"]) == total  # exact to the cent
        assert abs(Decimal(str(r["approx"])) - total) < Decimal("0.01")  # REAL: close, not exact


def test_child_tables_join_by_parent_id(generated: Path) -> None:
    """Each order's installments (a child table) add up to its total, as the generator made them."""
    got = rows(generated, "SELECT o.id, o.total, dsum(i.amount) AS planned, count(*) AS n FROM orders o "
                          "JOIN order_installments i ON i.order_id = o.id GROUP BY o.id")
    assert len(got) == 200
    assert all(Decimal(r["total"]) == Decimal(r["planned"]) for r in got)
    history = rows(generated, "SELECT count(*) AS n FROM opportunity_stage_history WHERE \"to\" = 'qualification'")
    assert history == [{"n": 300}]
    positions = rows(generated, "SELECT min(n) AS first, max(n) AS last FROM order_installments")
    assert positions == [{"first": 1, "last": 4}]


def test_custom_fields_are_columns(run, book: Path) -> None:
    """A field declared in crm.yaml after the database was made: the database is rebuilt with its column."""
    assert rows(book, "SELECT count(*) AS n FROM accounts") == [{"n": 2}]
    settings = (book / "crm.yaml").read_text(encoding="utf-8")
    (book / "crm.yaml").write_text(settings.replace("custom_fields: {}", "custom_fields:\n  accounts:\n    credit_limit: money\n"),
                                   encoding="utf-8")
    assert run("account", "edit", "acme", "--set", "credit_limit=50000").exit_code == 0
    got = rows(book, "SELECT id, credit_limit, credit_limit_num FROM accounts ORDER BY id")
    assert got == [{"id": "acme", "credit_limit": "50000.00", "credit_limit_num": 50000.0},
                   {"id": "baosteel", "credit_limit": None, "credit_limit_num": None}]


@pytest.mark.parametrize("statement", [
    "DELETE FROM accounts",
    "UPDATE accounts SET name = 'x'",
    "INSERT INTO accounts (id) VALUES ('x')",
    "DROP TABLE accounts",
    "CREATE TABLE t (x)",
    "ATTACH DATABASE 'other.db' AS other",
    "PRAGMA query_only = 0",
    "WITH x AS (SELECT 1) DELETE FROM accounts",
])
def test_a_statement_that_writes_is_refused(book: Path, statement: str) -> None:
    before = rows(book, "SELECT id, name FROM accounts ORDER BY id")
    result = sql(book, statement)
    assert result.exit_code == 1
    assert err_line(result).startswith("error: sql: refused (")
    assert "only reads" in err_line(result)
    assert rows(book, "SELECT id, name FROM accounts ORDER BY id") == before
    assert not (book / "other.db").exists()


def test_the_connection_itself_is_read_only(book: Path) -> None:
    """Behind the authorizer, the connection is opened mode=ro with query_only: a write fails there too."""
    from crmctl.core import readmodel

    rows(book, "SELECT 1")
    conn = readmodel._reader(readmodel.path_of(str(book)))
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM accounts")
    assert conn.execute("PRAGMA query_only").fetchone() == (1,)


def test_a_bad_statement_is_one_line_with_the_tables(book: Path) -> None:
    result = sql(book, "SELECT * FROM opps")
    assert result.exit_code == 1
    line = err_line(result)
    assert line == ("error: sql: no such table: opps; did you mean opportunities? "
                    "(`crmctl sql --tables` lists the tables and their columns)")
    assert len([x for x in result.output.splitlines() if x.strip()]) == 1
    assert err_line(sql(book, "SELECT 1; SELECT 2")).startswith("error: sql: You can only execute one statement")
    assert err_line(sql(book, " ")).startswith("error: sql: no statement given")


def test_a_record_changed_by_an_editor_is_seen(book: Path) -> None:
    assert rows(book, "SELECT name FROM accounts WHERE id = 'acme'") == [{"name": "ACME Industries"}]
    path = book / "records" / "accounts" / "acme.yaml"
    inode = path.stat().st_ino
    with open(path, "r+", encoding="utf-8") as handle:  # in place, as many editors save: the folder does not change
        text = handle.read().replace("ACME Industries", "ACME Holdings")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert path.stat().st_ino == inode
    assert rows(book, "SELECT name FROM accounts WHERE id = 'acme'") == [{"name": "ACME Holdings"}]


def test_an_edit_of_the_same_size_with_its_mtime_put_back_is_seen(book: Path) -> None:
    """``cp -p``, ``rsync -t`` or ``touch -d`` can restore a file's mtime after an in-place edit of the same size;
    the ctime cannot be restored, so the stamp (cache.stamp) still sees the change. Fails without the ctime."""
    path = book / "records" / "accounts" / "acme.yaml"
    for _ in range(2):  # the first run builds the read model, the second proves it fresh
        assert rows(book, "SELECT name FROM accounts WHERE id = 'acme'") == [{"name": "ACME Industries"}]
        assert "ACME Industries" in invoke("account", "show", "acme", book=book).output
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text.replace("ACME Industries", "ACME Industriez"))  # same size, in place
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (before.st_mtime_ns, before.st_size, before.st_ino)
    assert rows(book, "SELECT name FROM accounts WHERE id = 'acme'") == [{"name": "ACME Industriez"}]
    listed = invoke("account", "list", "--format", "json", book=book)
    assert "ACME Industriez" in listed.stdout  # the JSON records cache: the same stamp


def test_records_changed_by_git_checkout_and_merge_are_seen(book: Path) -> None:
    git(book, "checkout", "-qb", "side")
    write(book, "accounts", "side-co", {"name": "Side Co", "tier": "A"})
    commit(book, "side")
    git(book, "checkout", "-q", "main")
    assert rows(book, "SELECT count(*) AS n FROM accounts") == [{"n": 2}]  # main: no side-co
    git(book, "checkout", "-q", "side")
    assert rows(book, "SELECT id FROM accounts WHERE id = 'side-co'") == [{"id": "side-co"}]
    git(book, "checkout", "-q", "main")
    assert rows(book, "SELECT count(*) AS n FROM accounts") == [{"n": 2}]
    git(book, "merge", "-q", "--no-edit", "side")
    assert rows(book, "SELECT id, name FROM accounts WHERE id = 'side-co'") == [{"id": "side-co", "name": "Side Co"}]
    os.unlink(book / "records" / "accounts" / "side-co.yaml")
    assert rows(book, "SELECT count(*) AS n FROM accounts") == [{"n": 2}]


def test_only_changed_files_are_read_again(generated: Path) -> None:
    from crmctl.core.book import Book
    from crmctl.core.readmodel import ReadModel

    book = Book(str(generated))
    model = ReadModel(book.root, book.settings)
    try:
        assert model.refresh(["opportunities"]) == 300
        assert model.refresh(["opportunities"]) == 0
        for i in range(5):
            write(generated, "opportunities", f"op{i:04d}", {"name": "changed", "account": "acme", "stage": "won", "amount": "1.00"})
        os.unlink(generated / "records" / "opportunities" / "op0299.yaml")
        assert model.refresh(["opportunities"]) == 6  # five re-read, one dropped
    finally:
        model.close()
    assert rows(generated, "SELECT count(*) AS n FROM opportunities WHERE name = 'changed'") == [{"n": 5}]
    assert rows(generated, "SELECT count(*) AS n FROM opportunity_stage_history") == [{"n": 294}]


def test_a_bad_file_is_warned_about_and_has_no_row(book: Path) -> None:
    (book / "records" / "accounts" / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    for _ in range(2):  # once parsed, once from the stored stats: the warning stays
        result = sql(book, "SELECT id FROM accounts ORDER BY id")
        assert result.exit_code == 0
        assert json.loads(result.stdout) == [{"id": "acme"}, {"id": "baosteel"}]
        assert "warning: records/accounts/broken.yaml:" in result.stderr


def test_deleting_or_breaking_the_database_is_safe(book: Path) -> None:
    rows(book, "SELECT 1")
    db = book / ".crmctl" / "book.sqlite"
    assert db.exists()
    db.write_bytes(b"not a database at all")
    for name in ("book.sqlite-wal", "book.sqlite-shm"):
        (book / ".crmctl" / name).unlink(missing_ok=True)
    assert rows(book, "SELECT count(*) AS n FROM accounts") == [{"n": 2}]
    db.unlink()
    assert rows(book, "SELECT count(*) AS n FROM users") == [{"n": 4}]


def test_formats(book: Path) -> None:
    statement = "SELECT id, tier FROM accounts ORDER BY id"
    table = invoke("sql", statement, book=book).stdout.splitlines()
    assert table[0].split() == ["id", "tier"] and table[2].split() == ["acme", "A"]
    assert invoke("sql", statement, "--format", "csv", book=book).stdout == "id,tier\nacme,A\nbaosteel,B\n"
    assert invoke("sql", statement, "--format", "yaml", book=book).stdout.startswith("- id: acme\n  tier: A\n")
    both = rows(book, "SELECT a.id, b.id FROM accounts a, accounts b WHERE a.id < b.id")
    assert both == [{"id": "acme", "id:2": "baosteel"}]  # a repeated column name never hides the other


def test_export_sqlite_writes_the_same_tables(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "book.sqlite"
    result = invoke("export", "--format", "sqlite", "--out", str(out), book=generated)
    assert result.exit_code == 0, result.output
    assert "300 opportunities" in result.stderr
    conn = sqlite3.connect(out)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"opportunities", "order_installments", "quote_lines"} <= tables
    assert not {t for t in tables if t.startswith("_")}
    statement = "SELECT owner, count(*), sum(amount_num) FROM opportunities GROUP BY owner ORDER BY owner"
    assert [list(r) for r in conn.execute(statement)] == \
        [list(r.values()) for r in rows(generated, statement)]
    conn.close()


def test_export_sqlite_refuses_what_it_cannot_honour(book: Path, tmp_path: Path) -> None:
    assert err_line(invoke("export", "--format", "sqlite", book=book)).startswith("error: export --format sqlite needs --out")
    line = err_line(invoke("export", "accounts", "--format", "sqlite", "--out", str(tmp_path / "x"), book=book))
    assert line.startswith("error: export --format sqlite writes the whole book")
    assert err_line(invoke("export", book=book)).startswith("error: export: name the TYPE")


@pytest.mark.parametrize("rtype, survivor, merged", [
    ("accounts", "saic-powertrain", "saic-pt-nanjing"),
    ("accounts", "saic-group", "saic-powertrain"),
    ("contacts", "2ndt17162f36", "2ndt17ane4zh"),
])
def test_merge_plans_the_same_from_the_read_model(demo_copy: Path, rtype: str, survivor: str, merged: str) -> None:
    """The references found through the read model are exactly those found by reading every record."""
    from crmctl.core.book import Book
    from crmctl.mcr.merge import plan

    def moves(read_model: bool) -> tuple[list, dict]:
        result = plan(Book(str(demo_copy)), rtype, survivor, merged, "li-na", "2026-11-27T10:00:00+08:00", read_model)
        return [m.row() for m in result.moves], result.writes

    fast, full = moves(True), moves(False)
    assert fast == full
    assert len(fast[0]) > 1


def test_double_quotes_name_a_column_and_never_turn_into_text(run) -> None:
    # attack 8: SQLite took "won" (no such column) for the text 'won' while "stage" stayed the column: one spelling,
    # two meanings. Double quotes name a column or a table; text in them is refused with what to write.
    r = run("sql", 'SELECT count(*) AS n FROM opportunities WHERE stage = "won"')
    assert r.exit_code == 1
    assert r.stderr.strip() == ("error: sql: no column is named \"won\": double quotes name a column; text is written "
                                "in single quotes ('won')")
    ok = run("sql", 'SELECT count(*) AS "n" FROM "opportunities" o WHERE o."stage" = \'won\' ORDER BY "n"',
             "--format", "json")
    assert ok.exit_code == 0, ok.output
    plain = run("sql", "SELECT count(*) AS n FROM opportunities WHERE stage = 'won'", "--format", "json")
    assert ok.stdout == plain.stdout
    # quotes inside text and comments are left alone
    said = run("sql", 'SELECT \'say "hi"\' AS x -- "nothing"', "--format", "json")
    assert said.exit_code == 0 and '"say \\"hi\\""' in said.stdout, said.output


def test_a_qualifier_that_names_nothing_is_said_as_such(run) -> None:
    # attack 8: `SELECT o.amount FROM opportunities` said "opportunities has none" and suggested `account`
    r = run("sql", "SELECT o.amount FROM opportunities")
    assert r.exit_code == 1
    assert r.stderr.startswith("error: sql: no such column: o.amount: no table or alias in the statement is named o "
                               "(write `FROM opportunities o` to name it)"), r.stderr
    assert "has none" not in r.stderr and "did you mean" not in r.stderr
