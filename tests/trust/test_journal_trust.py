"""A journal is replayed only when it is this clone's own and names record files (attack 17 #15, #14, #16).

The journal of an interrupted change is trusted input for the next crmctl: it
says which paths to rename into place and how to commit them. A journal that
came through git (a teammate's commit, force-added), one that names a path
outside ``records/`` (``../.bash_aliases``, ``.git/hooks/post-commit``) or one
reached through a symbolic link is refused with one line, and nothing of it is
written.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import err_line, git, invoke

TXID = "18ecd01d197598f7-99999"


def plant(book: Path, steps: list[list[object]], files: dict[str, str], message: str = "quote edit: notes") -> None:
    """Write a journal and its waiting files by hand, as an attacker would (``files``: path under .crmctl/tmp/)."""
    (book / ".crmctl" / "journal").mkdir(parents=True, exist_ok=True)
    (book / ".crmctl" / "tmp" / TXID).mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = book / ".crmctl" / "tmp" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    blob = {"message": message, "commit": True, "sign": False, "author": ["Rex Rep", "rex@example.com"], "steps": steps}
    (book / ".crmctl" / "journal" / f"{TXID}.json").write_text(json.dumps(blob), encoding="utf-8")


def test_a_journal_delivered_through_git_is_refused_and_writes_nothing(book: Path, tmp_path: Path) -> None:
    # the attacker's commit: a journal whose step climbs out of .crmctl/tmp/<id>/ and out of the book
    plant(book, [["../.bash_aliases", True, None]], {".bash_aliases": "echo PWNED\n", f"{TXID}/.keep": "keep\n"})
    git(book, "add", "-f", ".crmctl/journal", ".crmctl/tmp")
    git(book, "commit", "--no-verify", "-qm", "notes")  # past any hook: it is the attacker's clone
    victim = tmp_path / "victim" / "book"
    subprocess.run(["git", "clone", "-q", str(book), str(victim)], check=True, capture_output=True)
    r = invoke("--as", "rex", "account", "list", book=victim)  # a read
    assert r.exit_code == 1
    assert err_line(r) == (f"error: .crmctl/journal/{TXID}.json (and 2 more): is tracked by git, but .crmctl/ is this "
                           "clone's own state (journals of interrupted changes, caches) and is never shared; nothing in "
                           "it is used: `git rm -r --cached .crmctl`, commit, and look at who added it")
    assert not (victim.parent / ".bash_aliases").exists()
    assert git(victim, "status", "--porcelain") == ""
    # a write is refused the same way, before anything is written
    r = invoke("--as", "rex", "account", "edit", "acme", "--city", "Suzhou", book=victim)
    assert r.exit_code == 1 and "is tracked by git" in err_line(r)
    assert git(victim, "status", "--porcelain") == ""


@pytest.mark.parametrize("rel", ["../.bash_aliases", ".git/hooks/post-commit", "/tmp/x.yaml", "crm.yaml",
                                 "records/accounts/../../crm.yaml", "records/accounts/acme.yaml\n",
                                 "records/accounts/con.yaml", "templates/quote.html"])
def test_a_planted_journal_naming_a_path_no_change_writes_is_refused(book: Path, rel: str) -> None:
    plant(book, [[rel, True, None]], {f"{TXID}/{rel.lstrip('/')}": "#!/bin/sh\necho PWNED\n"})
    hooks = sorted(os.listdir(book / ".git" / "hooks"))
    before = (book / "crm.yaml").read_text(encoding="utf-8")
    r = invoke("account", "list", book=book)
    assert r.exit_code == 1
    assert err_line(r).startswith(f"error: .crmctl/journal/{TXID}.json: names the path ")
    assert err_line(r).endswith("it is not replayed: delete it and its folder under .crmctl/tmp/")
    assert sorted(os.listdir(book / ".git" / "hooks")) == hooks
    assert (book / "crm.yaml").read_text(encoding="utf-8") == before
    assert git(book, "status", "--porcelain") == ""


def test_a_planted_journal_through_a_symlinked_records_folder_is_refused(book: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(book / "records" / "visits")
    os.symlink(outside, book / "records" / "visits")
    plant(book, [["records/visits/evil.yaml", True, None]], {f"{TXID}/records/visits/evil.yaml": "name: x\n"})
    r = invoke("account", "list", book=book)
    assert r.exit_code == 1
    assert err_line(r) == (f"error: .crmctl/journal/{TXID}.json: records/visits is a symbolic link; the change is not "
                           "replayed (records must be plain files and folders inside the book)")
    assert os.listdir(outside) == []


def test_a_journal_that_is_a_symlink_is_refused(book: Path, tmp_path: Path) -> None:
    plant(book, [["records/accounts/acme.yaml", True, None]], {})
    real = tmp_path / "elsewhere.json"
    os.replace(book / ".crmctl" / "journal" / f"{TXID}.json", real)
    os.symlink(real, book / ".crmctl" / "journal" / f"{TXID}.json")
    r = invoke("account", "list", book=book)
    assert r.exit_code == 1
    assert err_line(r) == (f"error: .crmctl/journal/{TXID}.json: is not a plain file (a symbolic link?); "
                           "it is not replayed: delete it")


def test_crmctl_keeps_its_folder_out_of_git_whatever_the_books_gitignore(book: Path) -> None:
    (book / ".gitignore").write_text("out/\n", encoding="utf-8")  # a team that dropped .crmctl/ from it
    git(book, "commit", "-qam", "gitignore")
    r = invoke("account", "edit", "acme", "--city", "Suzhou", book=book)
    assert r.exit_code == 0, r.output
    assert (book / ".crmctl" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    assert git(book, "status", "--porcelain") == ""
