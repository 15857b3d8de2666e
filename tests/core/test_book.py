"""The store on real temporary books: cache freshness, atomic transactions, locking, ids, git."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmctl.core.book import Book
from crmctl.core.errors import Ambiguous, CrmError, LockTimeout, NotFound, ValidationError
from crmctl.core.ids import ID_PATTERN, new_id, slugify
from tests.conftest import git, invoke


def write(book: Path, rel: str, text: str) -> Path:
    path = book / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_discovery_walks_up_and_honours_env(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = book / "records" / "accounts"
    assert Book.discover(cwd=str(deep)).root == str(book)
    monkeypatch.setenv("CRMCTL_BOOK", str(book))
    assert Book.discover(cwd="/").root == str(book)
    monkeypatch.delenv("CRMCTL_BOOK")
    with pytest.raises(CrmError, match="no book found"):
        Book.discover(cwd="/")


def test_cache_notices_changes_made_by_any_means(book: Path) -> None:
    assert Book(str(book)).get("accounts", "acme").get("tier") == "A"
    assert (book / ".crmctl" / "cache" / "accounts.json").exists()
    path = book / "records" / "accounts" / "acme.yaml"
    # same size, same second: only mtime_ns and inode can tell
    path.write_text(path.read_text().replace("tier: A", "tier: C"))
    assert Book(str(book)).get("accounts", "acme").get("tier") == "C"
    write(book, "records/accounts/newco.yaml", "name: NewCo\n")
    assert "newco" in Book(str(book)).records("accounts")
    path.unlink()
    assert "acme" not in Book(str(book)).records("accounts")


def test_git_checkout_is_noticed(book: Path) -> None:
    r = invoke("account", "edit", "acme", "--tier", "C", book=book)
    assert r.exit_code == 0
    assert Book(str(book)).get("accounts", "acme").get("tier") == "C"
    git(book, "checkout", "HEAD~1", "--", "records/accounts/acme.yaml")
    assert Book(str(book)).get("accounts", "acme").get("tier") == "A"


def test_corrupt_cache_is_rebuilt(book: Path) -> None:
    Book(str(book)).records("accounts")
    (book / ".crmctl" / "cache" / "accounts.json").write_text("{not json")
    assert Book(str(book)).get("accounts", "acme").get("name") == "ACME Industries"


def test_bad_file_is_skipped_with_its_line(book: Path) -> None:
    write(book, "records/accounts/broken.yaml", "name: X\ntier: A\ntier: B\n")
    b = Book(str(book))
    assert "acme" in b.records("accounts") and "broken" not in b.records("accounts")
    assert [str(p) for p in b.problems] == ["records/accounts/broken.yaml:3: invalid YAML: duplicate key 'tier'"]
    r = invoke("account", "list", book=book)
    assert r.exit_code == 0 and "acme" in r.stdout
    assert "warning: records/accounts/broken.yaml:3" in r.stderr


def test_symlinks_and_bad_file_names_are_refused(book: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: secret\n")
    os.symlink(outside, book / "records" / "accounts" / "leak.yaml")
    write(book, "records/accounts/Bad Name.yaml", "name: x\n")
    b = Book(str(book))
    recs = b.records("accounts")
    assert "leak" not in recs
    messages = " ".join(str(p) for p in b.problems)
    assert "is a symbolic link" in messages and "not a valid id" in messages


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a/b", "..", ".hidden", "UPPER", "x" * 65, ""])
def test_ids_never_become_paths(book: Path, bad: str) -> None:
    b = Book(str(book))
    with pytest.raises(CrmError):
        b.path_for("accounts", bad)


def test_prefixes_resolve_like_git(book: Path) -> None:
    b = Book(str(book))
    assert b.resolve("accounts", "bao") == "baosteel"
    with pytest.raises(NotFound):
        b.resolve("accounts", "zzz")
    write(book, "records/accounts/acme-east.yaml", "name: ACME East\n")
    b = Book(str(book))
    assert b.resolve("accounts", "acme") == "acme"  # an exact id wins over a longer match
    with pytest.raises(Ambiguous, match="matches 2"):
        b.resolve("accounts", "ac")


def test_generated_ids_sort_by_time_and_match_the_pattern() -> None:
    ids = [new_id(1_800_000_000_000 + i) for i in range(50)] + [new_id() for _ in range(500)]
    assert all(ID_PATTERN.match(i) and len(i) == 12 for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids[:50] == sorted(ids[:50])
    assert new_id(1_800_000_000_000) < new_id(1_900_000_000_000)
    assert slugify("Ｂａｏｓｔｅｅｌ Machinery 上海") == "baosteel-machinery" and slugify("上海宝钢") == ""


def test_transaction_writes_nothing_when_it_fails(book: Path) -> None:
    b = Book(str(book))
    before = sorted(p.name for p in (book / "records" / "accounts").iterdir())
    with pytest.raises(ValidationError):
        with b.transaction("two accounts") as tx:
            tx.put("accounts", "good", {"name": "Good"})
            tx.put("accounts", "bad", {"name": "Bad", "tier": "Z"})
    assert sorted(p.name for p in (book / "records" / "accounts").iterdir()) == before
    assert not list((book / "records" / "accounts").glob(".*.tmp"))


def test_transaction_commits_only_its_own_paths(book: Path) -> None:
    write(book, "notes.txt", "unrelated work in progress\n")
    git(book, "add", "notes.txt")
    r = invoke("--as", "rex", "account", "edit", "acme", "--city", "Shanghai", book=book)
    assert r.exit_code == 0, r.output
    shown = git(book, "show", "--stat", "--format=%an <%ae>|%s", "HEAD")
    assert shown.splitlines()[0] == "Rex Rep <rex@example.com>|account edit: acme (city)"
    assert "records/accounts/acme.yaml" in shown and "notes.txt" not in shown
    assert "notes.txt" in git(book, "diff", "--cached", "--name-only")  # still staged, untouched


def test_no_commit_and_autocommit_false(book: Path) -> None:
    head = git(book, "rev-parse", "HEAD")
    assert invoke("--no-commit", "account", "edit", "acme", "--city", "X", book=book).exit_code == 0
    assert git(book, "rev-parse", "HEAD") == head
    assert "records/accounts/acme.yaml" in git(book, "status", "--porcelain")
    settings = book / "crm.yaml"
    settings.write_text(settings.read_text().replace("autocommit: true", "autocommit: false"))
    assert invoke("account", "edit", "acme", "--city", "Y", book=book).exit_code == 0
    assert git(book, "rev-parse", "HEAD") == head


def test_a_book_outside_git_works(tmp_path: Path) -> None:
    path = tmp_path / "plain"
    assert invoke("init", str(path), "--no-git").exit_code == 0
    assert not (path / ".git").exists()
    r = invoke("account", "add", "--name", "Plain Co", book=path)
    assert r.exit_code == 0 and r.stdout.strip() == "plain-co"
    r = invoke("log", book=path)
    assert r.exit_code == 1 and "not in a git repository" in r.stderr


def test_lock_held_by_another_process_times_out_cleanly(book: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(book / '.crmctl' / 'lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(30)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        (book / ".crmctl").mkdir(exist_ok=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        r = invoke("account", "edit", "acme", "--city", "X", book=book, env={"CRMCTL_LOCK_TIMEOUT": "0.3"})
        assert r.exit_code == 1
        assert r.stderr.strip() == ("error: the book is locked by another crmctl process (waited 0.3s); "
                                    "try again when it has finished")
        assert "city" not in (book / "records" / "accounts" / "acme.yaml").read_text()
    finally:
        holder.kill()
        holder.wait()
    with pytest.raises(LockTimeout):
        b = Book(str(book))
        b.lock.timeout = 0.2
        other = Book(str(book))
        with b.lock, other.transaction("x"):
            pass


def test_next_number_is_per_year(book: Path) -> None:
    b = Book(str(book))
    assert b.next_number("orders", "SO-{year}-{seq:04d}", 2026) == "SO-2026-0001"
    assert b.next_number("orders", "SO-{year}-{seq:04d}", 2026, taken=["SO-2026-0007", "SO-2025-0042"]) == "SO-2026-0008"


def test_timestamps_use_the_book_offset(book: Path) -> None:
    r = invoke("contact", "add", "--name", "Time Test", "--account", "acme", "--format", "json", book=book)
    assert r.exit_code == 0
    assert '"created": "' in r.stdout and "+08:00" in r.stdout



def test_a_batch_updates_the_read_cache(book: Path) -> None:
    from crmctl.core import cache

    b = Book(str(book))
    with b.transaction("batch", commit=False) as tx:
        tx.batch = True
        for i in range(60):
            tx.put("contacts", f"batch-{i:03d}", {"name": f"批量 {i}", "account": "acme", "notes": "line one\nline two"})
    files = cache.read_entries(str(book / ".crmctl" / "cache" / "contacts.json"))
    assert len([n for n in files if n.startswith("batch-")]) == 60
    # the next read trusts those entries: same data as a fresh parse, and the key lines are right
    fresh = Book(str(book))
    assert fresh.get("contacts", "batch-007").data == {"name": "批量 7", "account": "acme", "notes": "line one\nline two"}
    assert fresh.get("contacts", "batch-007").lines == {"name": 1, "account": 2, "notes": 3}
    import shutil

    shutil.rmtree(book / ".crmctl" / "cache")
    assert Book(str(book)).get("contacts", "batch-007").lines == {"name": 1, "account": 2, "notes": 3}


def _tier(data: dict) -> str:
    return str(data.get("tier"))


def test_a_view_caches_a_projection_and_notices_every_change(book: Path) -> None:
    view_file = book / ".crmctl" / "cache" / "accounts.tiers1.json"
    assert Book(str(book)).view("accounts", "tiers1", _tier)["acme"] == "A"
    assert view_file.exists()
    path = book / "records" / "accounts" / "acme.yaml"
    path.write_text(path.read_text().replace("tier: A", "tier: C"))  # a hand edit: same size
    assert Book(str(book)).view("accounts", "tiers1", _tier)["acme"] == "C"
    write(book, "records/accounts/broken.yaml", "name: X\ntier: A\ntier: B\n")
    b = Book(str(book))
    assert "broken" not in b.view("accounts", "tiers1", _tier)
    b.records("accounts")  # the same problem found twice is reported once
    assert [str(p) for p in b.problems] == ["records/accounts/broken.yaml:3: invalid YAML: duplicate key 'tier'"]
    path.unlink()
    assert "acme" not in Book(str(book)).view("accounts", "tiers1", _tier)


def test_a_view_sees_a_batch_and_a_transaction_in_progress(book: Path) -> None:
    b = Book(str(book))
    with b.transaction("batch", commit=False) as tx:
        tx.batch = True
        for i in range(60):
            tx.put("accounts", f"batch-{i:03d}", {"name": f"Batch {i}", "tier": "B"})
        assert b.view("accounts", "tiers1", _tier)["batch-007"] == "B"  # not on disk yet: taken from memory
        assert b.records("accounts")["batch-007"].get("tier") == "B"  # loaded after the puts: still there
        assert "acme" in b.records("accounts")
    assert Book(str(book)).view("accounts", "tiers1", _tier)["batch-059"] == "B"


def test_a_cold_view_fills_the_records_cache_too(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmctl.core import cache

    monkeypatch.setattr(cache, "MANY_UNSEEN", 5)
    for i in range(8):
        write(book, f"records/accounts/cold-{i}.yaml", f"name: Cold {i}\ntier: C\n")
    import shutil

    shutil.rmtree(book / ".crmctl" / "cache", ignore_errors=True)
    assert Book(str(book)).view("accounts", "tiers1", _tier)["cold-3"] == "C"
    files = cache.read_entries(str(book / ".crmctl" / "cache" / "accounts.json"))
    assert files["cold-3.yaml"][3] == {"name": "Cold 3", "tier": "C"}  # parsed once, for both caches


def test_locks_left_by_a_killed_commit_are_cleaned_and_live_ones_named(book: Path) -> None:
    import subprocess
    import time

    branch = git(book, "rev-parse", "--abbrev-ref", "HEAD").strip()
    # a crmctl killed inside `git commit` leaves its marker (naming its git, now dead) and git's lock files behind
    dead = subprocess.Popen(["true"])
    dead.wait()
    (book / ".crmctl" / "committing").write_text(f"{dead.pid} {time.time():.3f}\n")
    stale = [book / ".git" / "index.lock", book / ".git" / "HEAD.lock", book / ".git" / "refs" / "heads" / f"{branch}.lock"]
    for path in stale:
        path.write_text("")
    r = invoke("account", "edit", "acme", "--city", "Suzhou", book=book)
    assert r.exit_code == 0, r.output
    assert not any(path.exists() for path in stale)
    assert "account edit: acme (city)" in git(book, "log", "-1", "--format=%s")
    # without the marker a lock is another git's: crmctl waits, then names the file, and writes nothing
    text = (book / "crm.yaml").read_text().replace("git_wait_seconds: 5 ", "git_wait_seconds: 0.2 ", 1)
    (book / "crm.yaml").write_text(text)
    stale[1].write_text("")
    before = (book / "records/accounts/acme.yaml").read_text()
    r = invoke("account", "edit", "acme", "--city", "Wuxi", book=book)
    assert r.exit_code == 1
    assert f"git is busy: {stale[1]} is held by another git command" in r.output and "nothing was written" in r.output
    assert (book / "records/accounts/acme.yaml").read_text() == before
    assert stale[1].exists()  # never deleted
