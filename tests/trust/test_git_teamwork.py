"""Two and three clones of one bare remote work in parallel, pull and push."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import invoke


def sh(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=check)


def ok(clone: Path, *args: str) -> str:
    r = invoke(*args, book=clone)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def team(tmp_path: Path, n: int) -> list[Path]:
    """A bare remote with a book and a team, and ``n`` clones set up with ``crmctl git setup``."""
    remote = tmp_path / "remote.git"
    sh(tmp_path, "git", "init", "--bare", "-q", str(remote))
    first = tmp_path / "clone0"
    assert invoke("init", str(first)).exit_code == 0
    ok(first, "user", "add", "--id", "ann", "--name", "Ann", "--email", "ann@example.com", "--role", "manager")
    ok(first, "user", "add", "--id", "bob", "--name", "Bob", "--email", "bob@example.com", "--role", "rep", "--manager", "ann")
    ok(first, "user", "add", "--id", "cat", "--name", "Cat", "--email", "cat@example.com", "--role", "rep", "--manager", "ann")
    ok(first, "account", "add", "--id", "acme", "--name", "ACME", "--tier", "B", "--owner", "bob")
    sh(first, "git", "remote", "add", "origin", str(remote))
    sh(first, "git", "push", "-q", "origin", "HEAD:main")
    clones = [first]
    for i in range(1, n):
        clone = tmp_path / f"clone{i}"
        sh(tmp_path, "git", "clone", "-q", "-b", "main", str(remote), str(clone))
        assert invoke("git", "setup", "--book", str(clone)).exit_code == 0
        clones.append(clone)
    for clone in clones:
        sh(clone, "git", "config", "pull.rebase", "false")
    return clones


def sync(clone: Path) -> subprocess.CompletedProcess[str]:
    pulled = sh(clone, "git", "pull", "-q", "--no-edit", "origin", "main", check=False)
    if pulled.returncode == 0:
        sh(clone, "git", "push", "-q", "origin", "HEAD:main")
    return pulled


def test_parallel_work_in_three_clones_merges_cleanly(tmp_path: Path) -> None:
    a, b, c = team(tmp_path, 3)
    merges = 0
    # everyone creates records and edits different fields of the same account
    ok(a, "--as", "ann", "account", "edit", "acme", "--tier", "A")
    ok(b, "--as", "bob", "account", "edit", "acme", "--phone", "+86 21 5555 0101")
    ok(c, "--as", "cat", "account", "edit", "acme", "--city", "上海")
    contacts = {clone: ok(clone, "contact", "add", "--name", f"Contact of {clone.name}", "--account", "acme") for clone in (a, b, c)}
    ok(b, "account", "add", "--id", "globex", "--name", "Globex")
    ok(c, "account", "add", "--id", "initech", "--name", "Initech")
    for clone in (a, b, c, a, b):
        result = sync(clone)
        assert result.returncode == 0, result.stdout + result.stderr
        merges += 1
    for clone in (a, b, c):
        acme = yaml.safe_load((clone / "records/accounts/acme.yaml").read_text())
        assert (acme["tier"], acme["phone"], acme["city"]) == ("A", "+86 21 5555 0101", "上海")
        assert {p.stem for p in (clone / "records/contacts").glob("*.yaml")} == set(contacts.values())
        assert (clone / "records/accounts/globex.yaml").exists() and (clone / "records/accounts/initech.yaml").exists()
        r = invoke("check", book=clone)
        assert r.exit_code == 0, r.output
        assert "<<<<<<<" not in (clone / "records/accounts/acme.yaml").read_text()
    assert merges == 5


def test_a_true_conflict_stays_a_conflict_and_check_names_it(tmp_path: Path) -> None:
    a, b = team(tmp_path, 2)
    ok(a, "account", "edit", "acme", "--tier", "A")
    ok(b, "account", "edit", "acme", "--tier", "C")
    assert sync(a).returncode == 0
    result = sync(b)
    assert result.returncode != 0
    assert "crmctl merge: records/accounts/acme.yaml: both sides changed tier" in result.stderr
    text = (b / "records/accounts/acme.yaml").read_text()
    assert "<<<<<<< ours" in text and ">>>>>>> theirs" in text
    r = invoke("check", book=b)
    assert r.exit_code == 1 and "records/accounts/acme.yaml:" in r.stdout and "invalid YAML" in r.stdout


def test_appended_histories_keep_both_sides(tmp_path: Path) -> None:
    a, b = team(tmp_path, 2)
    path = "records/accounts/acme.yaml"
    for clone, entry in ((a, "2026-01-02T10:00:00+08:00"), (b, "2026-01-01T10:00:00+08:00")):
        data = yaml.safe_load((clone / path).read_text())
        data["history"] = [*data.get("history", []), {"at": entry, "by": clone.name, "what": "note"}]
        (clone / path).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        sh(clone, "git", "commit", "-qam", f"history from {clone.name}", "--no-verify")
    assert sync(a).returncode == 0
    assert sync(b).returncode == 0
    history = yaml.safe_load((b / path).read_text())["history"]
    assert [h["at"] for h in history] == ["2026-01-01T10:00:00+08:00", "2026-01-02T10:00:00+08:00"]


def test_duplicate_document_numbers_after_a_merge_are_named(tmp_path: Path) -> None:
    a, b = team(tmp_path, 2)
    for clone, oid in ((a, "2ndaaaaaaaaa"), (b, "2ndbbbbbbbbb")):
        (clone / f"records/orders/{oid}.yaml").write_text(
            'number: SO-2026-0001\naccount: acme\ndate: "2026-03-01"\ncurrency: CNY\ntotal: "1000.00"\n')
        sh(clone, "git", "add", ".")
        sh(clone, "git", "commit", "-qm", "order", "--no-verify")
    assert sync(a).returncode == 0 and sync(b).returncode == 0
    r = invoke("check", book=b)
    assert r.exit_code == 1
    assert ("records/orders/2ndbbbbbbbbb.yaml:1: duplicate number 'SO-2026-0001' (also in 2ndaaaaaaaaa); "
            "give it a new number with `crmctl order renumber 2ndbbbbbbbbb`") in r.stdout


def test_setup_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    r = invoke("git", "setup", "--book", str(tmp_path / "plain"))
    assert r.exit_code == 1 and "is not in a git repository" in r.stderr
