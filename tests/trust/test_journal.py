"""Every multi-file command killed at EVERY rename boundary: afterwards the whole change is committed, or none of it is visible.

The kill is deterministic: ``CRMCTL_TEST_KILL_AT=rename:N`` makes crmctl SIGKILL
itself just before its N-th rename (``journal``: after the temporary files,
before the journal is sealed; ``commit``: after the last rename, before git;
``committed``: after git, before the journal is removed). After each kill the
next, unrelated command must first finish the journalled change under the
change's own message and then commit only its own file.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crmctl.core.journal import RECOVERED
from tests.conftest import REPO, git, invoke

PY = sys.executable
NOW = "2026-11-27T10:00:00+08:00"

CASES = {
    "lead convert": ["lead", "convert", "2ndthyevw089", "--amount", "50000"],
    "quote accept": ["--as", "tom-baker", "quote", "accept", "2ndtpvn1c44n"],
    "payment record": ["payment", "record", "SO-2026-0004", "--amount", "1000", "--date", "2026-11-20"],
    "visit plan": ["visit", "plan", "--rep", "tom-baker", "--from", "2027-03-01", "--to", "2027-03-31"],
    "import": ["import", "leads", "{csv}"],
}


@pytest.fixture(scope="module")
def demo_git(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo book in a git repository of its own, everything committed."""
    dest = tmp_path_factory.mktemp("demo-git") / "book"
    dest.mkdir()
    shutil.copy(REPO / "crm.yaml", dest / "crm.yaml")
    shutil.copytree(REPO / "records", dest / "records")
    shutil.copytree(REPO / "templates", dest / "templates")
    (dest / ".gitignore").write_text(".crmctl/\nout/\n")
    (dest / "leads.csv").write_text("name,company,email\n李娜,南京新材,li.na@example.com\n"
                                    "Tom Ode,Ode GmbH,tom@ode.example\n赵敏,苏州精工,zhao@example.cn\n", encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "demo"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True, env=env, capture_output=True)
    return dest


def crmctl(book: Path, args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMCTL_NOW": NOW}
    if kill_at:
        env["CRMCTL_TEST_KILL_AT"] = kill_at
    argv = [a.replace("{csv}", str(book / "leads.csv")) for a in args]
    return subprocess.run([PY, "-m", "crmctl", "--book", str(book), *argv], capture_output=True, text=True, env=env)


def changed(book: Path, rev: str) -> list[tuple[str, str]]:
    """What a commit changed: (status, folder or path); new records are named by their folder (their ids are random)."""
    out = git(book, "show", "--name-status", "--format=", rev).split("\n")
    rows = []
    for line in filter(None, out):
        status, path = line.split("\t", 1)
        rows.append((status, os.path.dirname(path) if status == "A" else path))
    return sorted(rows)


def fresh(base: Path, tmp_path: Path, name: str) -> Path:
    book = tmp_path / name
    shutil.copytree(base, book, symlinks=True)
    return book


@pytest.mark.parametrize("case", list(CASES))
def test_a_change_killed_at_every_rename_is_whole_or_absent(demo_git: Path, tmp_path: Path, case: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMCTL_NOW", NOW)
    args = CASES[case]
    reference = fresh(demo_git, tmp_path, "reference")
    done = crmctl(reference, args)
    assert done.returncode == 0, done.stderr
    assert git(reference, "rev-list", "--count", "HEAD").strip() == "2", "the command made no commit"
    whole = changed(reference, "HEAD")
    message = git(reference, "log", "-1", "--format=%s").split(":")[0]  # "lead convert" (the rest names random ids)
    assert len(whole) >= 2, whole  # a multi-file change
    points = ["journal", *(f"rename:{n}" for n in range(1, len(whole) + 1)), "commit", "committed"]
    for point in points:
        book = fresh(demo_git, tmp_path, point.replace(":", "-"))
        killed = crmctl(book, args, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        head = git(book, "rev-parse", "HEAD").strip()
        # the next, unrelated command
        r = invoke("account", "edit", "saic-group", "--city", f"after {point}", book=book)
        assert r.exit_code == 0, (point, r.output)
        log = git(book, "log", "--format=%H%x1f%B%x1e", f"{head}..HEAD").strip("\n\x1e").split("\x1e")
        commits = [entry.strip("\n").split("\x1f") for entry in log if entry.strip()]
        # its own commit touches only its own file
        assert changed(book, commits[0][0]) == [("M", "records/accounts/saic-group.yaml")], point
        if point == "journal":  # killed before the journal was sealed: nothing of the change is visible
            assert len(commits) == 1, point
            assert git(book, "diff", "--stat", head, "HEAD~0", "--", ".", ":!records/accounts/saic-group.yaml") == ""
        elif point == "committed":  # committed already: nothing left to finish
            assert len(commits) == 1, point
            assert changed(book, "HEAD~1") == whole
        else:  # the whole change, committed under its own message before the unrelated one
            assert len(commits) == 2, (point, commits)
            assert commits[1][1].startswith(message) and RECOVERED in commits[1][1], point
            assert changed(book, commits[1][0]) == whole, point
        assert git(book, "status", "--porcelain", "--untracked-files=all") == "", point
        assert not list((book / ".crmctl").glob("journal/*")) and not list((book / ".crmctl").glob("tmp/*")), point
        assert not list((book / "records").rglob(".*.tmp")), point
    print(f"\n{case}: killed at {len(points)} points ({len(whole)} renames); each time whole or absent")


def add_order(book: Path, oid: str = "2ndorder0001", total: str = "960000.00") -> None:
    """An order of ``total`` CNY (SO-2026-0100), committed."""
    (book / f"records/orders/{oid}.yaml").write_text(
        f'number: SO-2026-0100\naccount: acme\ndate: "2026-03-01"\ncurrency: CNY\ntotal: "{total}"\n')
    git(book, "add", "records/orders")
    git(book, "commit", "-qm", "order", "--no-verify")


def _git_wait(book: Path, seconds: str) -> None:
    text = (book / "crm.yaml").read_text(encoding="utf-8")
    if "git_wait_seconds:" in text:
        text = text.replace("git_wait_seconds: 5 ", f"git_wait_seconds: {seconds} ", 1)
    else:
        text = text.replace("limits:\n", f"limits:\n  git_wait_seconds: {seconds}\n", 1)
    (book / "crm.yaml").write_text(text, encoding="utf-8")
    git(book, "commit", "-qam", "short git wait", "--no-verify")


def test_git_busy_is_refused_before_anything_is_written(book: Path) -> None:
    _git_wait(book, "0.2")
    add_order(book)
    lock = book / ".git" / "index.lock"
    lock.write_text("")  # another git holds the index: `git commit` waiting in its editor
    r = invoke("payment", "record", "SO-2026-0100", "--amount", "620000", "--date", "2026-03-05", book=book)
    assert r.exit_code == 1
    assert f"git is busy: {lock} is held by another git command" in r.stderr and "nothing was written" in r.stderr
    assert not list((book / "records" / "payments").glob("*.yaml"))
    assert git(book, "status", "--porcelain", "records") == ""
    assert lock.exists()  # another git's lock is never deleted
    lock.unlink()
    assert invoke("payment", "record", "SO-2026-0100", "--amount", "620000", "--date", "2026-03-05", book=book).exit_code == 0
    assert len(list((book / "records" / "payments").glob("*.yaml"))) == 1  # recorded once


def test_an_unresolved_merge_is_refused_before_anything_is_written(book: Path) -> None:
    (book / "notes.txt").write_text("base\n")
    git(book, "add", "notes.txt")
    git(book, "commit", "-qm", "notes", "--no-verify")
    git(book, "checkout", "-qb", "other")
    (book / "notes.txt").write_text("theirs\n")
    git(book, "commit", "-qam", "theirs", "--no-verify")
    git(book, "checkout", "-q", "main")
    (book / "notes.txt").write_text("ours\n")
    git(book, "commit", "-qam", "ours", "--no-verify")
    subprocess.run(["git", "-C", str(book), "merge", "other"], capture_output=True)
    before = (book / "records/accounts/acme.yaml").read_text()
    r = invoke("account", "edit", "acme", "--city", "Suzhou", book=book)
    assert r.exit_code == 1 and "git is in the middle of a merge" in r.stderr and "nothing was written" in r.stderr
    assert (book / "records/accounts/acme.yaml").read_text() == before


def test_a_commit_refused_after_the_files_is_not_reported_as_a_failure(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmctl.core import git as gitmod
    from crmctl.core.errors import CrmError

    real = gitmod.commit

    def busy(*args: object, **kwargs: object) -> bool:
        raise CrmError("git is busy: .git/index.lock exists")

    monkeypatch.setattr(gitmod, "commit", busy)  # another git took the index between our check and our commit
    r = invoke("account", "edit", "acme", "--city", "Suzhou", book=book)
    assert r.exit_code == 0, r.output
    assert "written; not committed yet: git is busy" in r.stderr and "the next crmctl command commits it" in r.stderr
    assert "city: Suzhou" in (book / "records/accounts/acme.yaml").read_text()
    monkeypatch.setattr(gitmod, "commit", real)
    r = invoke("account", "edit", "baosteel", "--city", "Wuxi", book=book)
    assert r.exit_code == 0, r.output
    assert git(book, "log", "-2", "--format=%s").splitlines() == ["account edit: baosteel (city)", "account edit: acme (city)"]
    assert git(book, "status", "--porcelain") == ""


def test_a_hand_edit_is_committed_on_its_own_not_under_crmctls_message(book: Path) -> None:
    path = book / "records/accounts/acme.yaml"
    path.write_text(path.read_text() + "# called them: they want a visit in March\n")
    r = invoke("account", "edit", "acme", "--city", "Suzhou", book=book)
    assert r.exit_code == 0, r.output
    assert "note: records/accounts/acme.yaml had uncommitted edits; committed them on their own" in r.stderr
    subjects = git(book, "log", "-2", "--format=%s").splitlines()
    assert subjects == ["account edit: acme (city)", "hand edit of records/accounts/acme.yaml"]
    assert "+# called them" in git(book, "show", "HEAD~1") and "+# called them" not in git(book, "show", "HEAD")


def test_check_names_a_record_that_differs_from_the_last_commit(book: Path) -> None:
    path = book / "records/accounts/acme.yaml"
    path.write_text(path.read_text().replace("tier: A", "tier: C"))
    r = invoke("check", book=book)
    assert r.exit_code == 0, r.output
    assert ("warning: records/accounts/acme.yaml: differs from the last commit and no crmctl change is pending for it"
            in r.stderr)
