"""`crmctl init` inside another git repository (issue 14): the book gets its own repository.

Old code: inside a clone of crmctl, `init maven` silently skipped `git init`, `git commit -qam settings`
in the book then failed, and every import committed its files into the outer repository.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import git, invoke


def test_a_book_inside_another_repository_is_its_own_repository(tmp_path: Path) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    book = outer / "maven"
    result = invoke("init", str(book))
    assert result.exit_code == 0, result.output
    assert f"is inside the git repository {outer}; the book has its own repository" in result.stderr
    assert git(book, "rev-parse", "--show-toplevel").strip() == str(book)
    assert git(book, "log", "--oneline").strip().endswith("crmctl init")
    (book / "crm.yaml").write_text((book / "crm.yaml").read_text(encoding="utf-8") + "\n# settings\n", encoding="utf-8")
    git(book, "commit", "-qam", "settings")  # the README's next step
    src = tmp_path / "accounts.csv"
    src.write_text("name\nACME\n", encoding="utf-8")
    assert invoke("import", "accounts", str(src), book=book).exit_code == 0
    assert len(git(book, "log", "--oneline").splitlines()) == 3
    # nothing landed in the outer repository
    assert subprocess.run(["git", "-C", str(outer), "log"], capture_output=True).returncode != 0  # no commits at all
    assert git(outer, "status", "--porcelain").strip() == "?? maven/"


def test_init_in_the_root_of_an_existing_repository_uses_it(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    subprocess.run(["git", "init", "-q", str(book)], check=True)
    assert invoke("init", str(book)).exit_code == 0
    assert git(book, "log", "--oneline").strip().endswith("crmctl init")
