"""Shared fixtures: real temporary books in real git repositories, and a CLI runner.

Tests drive crmctl through Click's CliRunner (``run``) or, for a few, the
installed console script (``crmctl_bin``). Nothing we own is mocked.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings as hypothesis_settings

from crmctl.cli import cli

REPO = Path(__file__).resolve().parent.parent

# `make test` (and CI) run every property with a fixed seed: the same examples each run, so a
# submission never fails on the one run in ten that draws a rare case. `make fuzz` draws new
# examples (HYPOTHESIS_PROFILE=fuzz); a case it finds becomes an @example or a plain test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("fuzz", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a test never sees the developer's book, user or git identity
    for key in ("CRMCTL_BOOK", "CRMCTL_USER", "CRMCTL_NOW"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Test Runner\n\temail = runner@example.com\n[init]\n\tdefaultBranch = main\n")


def invoke(*args: str, input: str | None = None, book: Path | None = None, env: dict[str, str] | None = None) -> Result:
    argv = (["--book", str(book)] if book else []) + [str(a) for a in args]
    return CliRunner().invoke(cli, argv, input=input, env=env, catch_exceptions=False)


@pytest.fixture
def empty_book(tmp_path: Path) -> Path:
    """A new book made by ``crmctl init``, in its own git repository."""
    path = tmp_path / "book"
    result = invoke("init", str(path), "--company", "测试公司")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def book(empty_book: Path) -> Path:
    """A small book with a team (a manager and two reps) and two accounts."""
    def ok(*args: str) -> None:
        r = invoke(*args, book=empty_book)
        assert r.exit_code == 0, r.output
    ok("user", "add", "--id", "mia", "--name", "Mia Manager", "--email", "mia@example.com", "--role", "manager")
    ok("user", "add", "--id", "dan", "--name", "Dan Director", "--email", "dan@example.com", "--role", "director")
    # once the team has a director, adding users is a director's (crm.yaml team_maintainers)
    ok("--as", "dan", "user", "add", "--id", "rex", "--name", "Rex Rep", "--email", "rex@example.com", "--role", "rep",
       "--manager", "mia")
    ok("--as", "dan", "user", "add", "--id", "ria", "--name", "Ria Rep", "--email", "ria@example.com", "--role", "rep",
       "--manager", "mia")
    ok("account", "add", "--id", "acme", "--name", "ACME Industries", "--tier", "A", "--owner", "rex")
    ok("account", "add", "--id", "baosteel", "--name", "宝钢机械", "--tier", "B", "--owner", "ria")
    return empty_book


@pytest.fixture
def run(book: Path) -> Run:
    """Run crmctl against the ``book`` fixture."""
    def _run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return invoke(*args, input=input, book=book, env=env)
    return _run


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the repository's demo book (crm.yaml, records/, templates/)."""
    dest = tmp_path / "demo"
    dest.mkdir()
    shutil.copy(REPO / "crm.yaml", dest / "crm.yaml")
    shutil.copytree(REPO / "records", dest / "records")
    if (REPO / "templates").exists():
        shutil.copytree(REPO / "templates", dest / "templates")
    return dest


@pytest.fixture
def crmctl_bin() -> str:
    """The installed console script (next to the running Python)."""
    candidate = Path(sys.executable).parent / "crmctl"
    if not candidate.exists():
        found = shutil.which("crmctl")
        if not found:
            pytest.skip("crmctl console script not installed")
        return found
    return str(candidate)


@contextmanager
def fed_pipe(pipe: Path, data: bytes) -> Iterator[Path]:
    """A named pipe at ``pipe`` that a thread writes ``data`` into while the block runs (what bash's ``<(...)``
    gives a command: a pipe, gone once read)."""
    os.mkfifo(pipe)

    def writer() -> None:
        with open(pipe, "wb") as handle:
            handle.write(data)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        yield pipe
    finally:
        thread.join(timeout=10)


def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], capture_output=True, text=True, check=True).stdout


def err_line(result: Result) -> str:
    """The single error line a failing command printed."""
    lines = [line for line in (result.stderr if hasattr(result, "stderr") else result.output).splitlines() if line.strip()]
    return lines[-1] if lines else ""


os.environ.setdefault("COLUMNS", "200")
