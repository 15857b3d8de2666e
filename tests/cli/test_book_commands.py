"""init, check, log and doctor."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run, git, invoke


def test_init_makes_a_complete_book(tmp_path: Path) -> None:
    path = tmp_path / "新书"
    r = invoke("init", str(path), "--company", 'ACME "East" 公司', "--currency", "usd")
    assert r.exit_code == 0, r.output
    text = (path / "crm.yaml").read_text()
    assert 'name: "ACME \\"East\\" 公司"' in text and "currency: USD" in text and "# crm.yaml" in text
    assert (path / ".gitignore").read_text().startswith(".crmctl/")
    assert (path / "records" / "opportunities").is_dir() and (path / "templates").is_dir()
    assert git(path, "log", "--format=%s").strip() == "crmctl init"
    assert invoke("check", book=path).exit_code == 0
    again = invoke("init", str(path))
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_check_reports_every_problem_with_its_line(run: Run, book: Path) -> None:
    (book / "records/contacts/c1.yaml").write_text("name: Lost\naccount: nowhere\nemail: not-an-email\n")
    (book / "records/accounts/dup.yaml").write_text("name: Dup\ntier: A\ntier: B\n")
    (book / "records/accounts/odd.yaml").write_text("name: Odd\n\ntier: Q\nwhatever: 1\n")
    r = run("check")
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        "records/accounts/dup.yaml:3: invalid YAML: duplicate key 'tier'",
        "records/accounts/odd.yaml:3: tier: 'Q' is not one of A, B, C",
        "records/accounts/odd.yaml:4: unknown field 'whatever' for accounts (declare it under custom_fields.accounts in crm.yaml)",
        "records/contacts/c1.yaml:2: account: no account 'nowhere' (records/accounts/nowhere.yaml)",
        "records/contacts/c1.yaml:3: email: 'not-an-email' is not an email address",
    ]
    rows = json.loads(run("check", "--format", "json").stdout)
    assert {"path": "records/contacts/c1.yaml", "line": 2, "code": "reference",
            "message": "account: no account 'nowhere' (records/accounts/nowhere.yaml)"} in rows


def test_check_passes_on_a_clean_book_and_on_the_demo(run: Run, demo_copy: Path) -> None:
    r = run("check")
    assert r.exit_code == 0 and r.stdout == "" and "ok: no problems" in r.stderr
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 0, r.output


def test_check_finds_duplicate_document_numbers(run: Run, book: Path) -> None:
    for oid in ("o1", "o2"):
        (book / f"records/orders/{oid}.yaml").write_text(
            'number: SO-2026-0001\naccount: acme\ndate: "2026-01-05"\ncurrency: CNY\ntotal: "100.00"\n')
    r = run("check")
    assert r.exit_code == 1
    assert "records/orders/o2.yaml:1: duplicate number 'SO-2026-0001' (also in o1)" in r.stdout
    assert "crmctl order renumber o2" in r.stdout


def test_log_shows_history_of_one_record(run: Run, book: Path) -> None:
    run("--as", "rex", "account", "edit", "acme", "--city", "Wuxi")
    rows = json.loads(run("log", "acme", "--format", "json").stdout)
    assert [row["message"] for row in rows] == ["account edit: acme (city)", "account add: acme (ACME Industries)"]
    assert rows[0]["author"] == "Rex Rep"
    everything = json.loads(run("log", "--format", "json").stdout)
    assert len(everything) >= 7 and everything[-1]["message"] == "crmctl init"
    r = run("log", "nothing-like-this")
    assert r.exit_code == 1 and "no record 'nothing-like-this'" in r.stderr


def test_doctor_reports_each_requirement() -> None:
    r = invoke("doctor", "--format", "json")
    rows = json.loads(r.stdout)
    assert {row["check"] for row in rows} >= {"git", "pango", "harfbuzz-subset", "CJK font"}
    assert r.exit_code == (0 if all(row["status"] == "ok" for row in rows) else 1)
    for row in rows:
        assert row["status"] == "ok" or row["fix"].startswith(("apt-get install", "pip install"))
