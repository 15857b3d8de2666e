"""add/list/show/edit for accounts, contacts and users through the CLI, and their bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import Run, git


def test_add_list_show_edit_account(run: Run, book: Path) -> None:
    r = run("--as", "mia", "account", "add", "--name", "上海精密仪器有限公司", "--name-en", "Shanghai Precision Instruments",
            "--tier", "B", "--owner", "ri", "--phone", "021-5555 0101", "--set", "tags=steel,vip")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "shanghai-precision-instruments"
    data = yaml.safe_load((book / "records/accounts/shanghai-precision-instruments.yaml").read_text())
    assert data["owner"] == "ria" and data["tags"] == ["steel", "vip"] and data["phone"] == "021-5555 0101"
    rows = json.loads(run("account", "list", "--format", "json", "--where", "tier=B", "--sort", "-id").stdout)
    assert [row["id"] for row in rows] == ["shanghai-precision-instruments", "baosteel"]
    shown = json.loads(run("account", "show", "shang", "--format", "json").stdout)
    assert shown["id"] == "shanghai-precision-instruments" and shown["name"] == "上海精密仪器有限公司"
    r = run("account", "edit", "shang", "--tier", "A", "--unset", "tags")
    assert r.exit_code == 0 and "updated account shanghai-precision-instruments: tags, tier" in r.stderr
    assert "account edit: shanghai-precision-instruments (tags, tier)" in git(book, "log", "-1", "--format=%s")


def test_formats(run: Run) -> None:
    csv_out = run("account", "list", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "id,name,tier,lifecycle,industry,owner,city"
    assert csv_out[1].startswith("acme,ACME Industries,A")
    assert yaml.safe_load(run("account", "list", "--format", "yaml").stdout)[0]["id"] == "acme"
    table = run("account", "list", "--limit", "1").stdout
    assert "acme" in table and "baosteel" not in table


def test_contact_belongs_to_an_account(run: Run) -> None:
    r = run("contact", "add", "--name", "王芳", "--account", "bao", "--email", "Wang.Fang@Example.com", "--role", "decision_maker")
    assert r.exit_code == 0, r.output
    cid = r.stdout.strip()
    shown = json.loads(run("contact", "show", cid[:9], "--format", "json").stdout)
    assert shown["account"] == "baosteel" and shown["email"] == "wang.fang@example.com"
    r = run("contact", "add", "--name", "Nobody")
    assert r.exit_code == 1 and r.stderr.strip() == "error: missing required --account for the new contact"


def test_users_and_the_acting_user(run: Run, book: Path) -> None:
    r = run("--as", "dan@example.com", "user", "add", "--name", "Nia New", "--email", "nia@example.com", "--role", "rep",
            "--manager", "mia")
    assert r.exit_code == 0 and r.stdout.strip() == "nia-new"
    assert git(book, "log", "-1", "--format=%an").strip() == "Dan Director"
    r = run("user", "edit", "mia", "--manager", "rex")
    assert r.exit_code == 1 and "would make a loop" in r.stderr
    r = run("user", "add", "--name", "Dup", "--email", "MIA@example.com", "--role", "rep")
    assert r.exit_code == 1 and "already belongs to user mia" in r.stderr
    # git's user.email picks the acting user when nothing else does
    git(book, "config", "user.email", "ria@example.com")
    run("account", "edit", "acme", "--city", "Beijing")
    assert git(book, "log", "-1", "--format=%an").strip() == "Ria Rep"


@pytest.mark.parametrize("args, message", [
    (["account", "add", "--name", "X", "--tier", "Z"], "error: tier: 'Z' is not one of A, B, C"),
    (["account", "show", "nope"], "error: no account 'nope'; `crmctl account list` shows them"),
    (["account", "edit", "acme", "--set", "foo=1"], "error: unknown field 'foo' for accounts"),
    (["account", "edit", "acme", "--set", "created=2020-01-01T00:00:00"], "error: created is set by crmctl commands"),
    (["account", "edit", "acme", "--set", "novalue"], "error: --set 'novalue': write FIELD=VALUE"),
    (["account", "edit", "acme", "--parent", "acme"], "error: account acme: parent acme would make a loop"),
    (["account", "add", "--name", "ACME", "--id", "acme"], "error: account 'acme' already exists"),
    (["account", "add", "--name", "X", "--id", "../x"], "error: invalid account id '../x'"),
    (["account", "add", "--name", "X", "--owner", "nobody"], "error: no user 'nobody'"),
    (["user", "add", "--name", "C", "--email", "bad", "--role", "rep"], "error: email: 'bad' is not an email address"),
    (["user", "add", "--name", "C", "--email", "c@x.com", "--role", "boss"], "error: role: 'boss' is not one of"),
    (["--as", "ghost", "account", "list"], "error: --as 'ghost': no such user"),
    (["contact", "add", "--name", "Z", "--account", "acme", "--id", "zz"], "error: contact ids are generated; drop --id"),
    (["account", "list", "--where", "oops"], "error: --where 'oops': write FIELD=VALUE"),
])
def test_bad_input_is_one_line_and_writes_nothing(run: Run, book: Path, args: list[str], message: str) -> None:
    before = {p: p.read_bytes() for p in (book / "records").rglob("*.yaml")}
    head = git(book, "rev-parse", "HEAD")
    if args[:2] == ["--as", "ghost"]:
        args = ["--as", "ghost", "account", "add", "--name", "Ghost Co"]
    r = run(*args)
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert "Traceback" not in r.output
    assert {p: p.read_bytes() for p in (book / "records").rglob("*.yaml")} == before
    assert git(book, "rev-parse", "HEAD") == head


def test_usage_errors_exit_2(run: Run) -> None:
    r = run("account", "show")
    assert r.exit_code == 2 and "Missing argument" in r.output
    assert run("account", "list", "--format", "xml").exit_code == 2


def test_no_book_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import invoke

    monkeypatch.chdir(tmp_path)
    r = invoke("account", "list")
    assert r.exit_code == 1 and r.stderr.startswith("error: no book found")


def test_dry_run_writes_nothing(run: Run, book: Path) -> None:
    r = run("account", "add", "--name", "Dry Co", "--dry-run")
    assert r.exit_code == 0 and "would add account dry-co" in r.stderr
    assert not (book / "records/accounts/dry-co.yaml").exists()
    r = run("account", "edit", "acme", "--tier", "C", "--dry-run")
    assert "would change account acme: tier" in r.stderr
    assert "tier: A" in (book / "records/accounts/acme.yaml").read_text()


def test_hand_edited_comments_survive_an_edit(run: Run, book: Path) -> None:
    path = book / "records/accounts/acme.yaml"
    path.write_text("# Our oldest customer — call before visiting!\n" + path.read_text().replace("tier: A", "tier: A  # since 2019"))
    assert run("account", "edit", "acme", "--city", "Suzhou").exit_code == 0
    text = path.read_text()
    assert text.startswith("# Our oldest customer — call before visiting!\n")
    assert "tier: A  # since 2019" in text and "city: Suzhou" in text


def test_custom_fields_from_crm_yaml(run: Run, book: Path) -> None:
    settings = book / "crm.yaml"
    settings.write_text(settings.read_text().replace("custom_fields: {}", "custom_fields:\n  accounts:\n    credit_limit: money\n"))
    assert run("account", "edit", "acme", "--set", "credit_limit=200000").exit_code == 0
    assert 'credit_limit: "200000.00"' in (book / "records/accounts/acme.yaml").read_text()
    r = run("account", "edit", "acme", "--set", "credit_limit=lots")
    assert r.exit_code == 1 and "not a number" in r.stderr


def test_console_script_runs(crmctl_bin: str, book: Path) -> None:
    import subprocess

    proc = subprocess.run([crmctl_bin, "--book", str(book), "account", "list", "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["id"] == "acme"
    proc = subprocess.run([crmctl_bin, "--book", str(book), "account", "show", "zzz"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr == "error: no account 'zzz'; `crmctl account list` shows them\n"
