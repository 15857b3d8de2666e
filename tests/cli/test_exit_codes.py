"""Exit codes: 1 bad input, 2 a bad command line, 3 a bug (its trace saved, the path said), 130 Ctrl-C.

A script can tell a bug in crmctl from bad data by the code alone. Ctrl-C and bugs are
made deterministic with the CRMCTL_TEST_AT hook (a real SIGINT to the process at a named
point), or with a throwaway command that raises, never with a sleep.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmctl.cli import LazyGroup
from crmctl.core.errors import ExitCode
from tests.conftest import Run, err_line, git


def test_the_codes_are_pre_commits() -> None:
    assert [int(c) for c in (ExitCode.OK, ExitCode.USER_ERROR, ExitCode.USAGE, ExitCode.INTERNAL_ERROR,
                             ExitCode.INTERRUPTED)] == [0, 1, 2, 3, 130]


def test_bad_input_is_1_and_a_bad_command_line_is_2(run: Run) -> None:
    assert run("contact", "show", "zz").exit_code == 1
    assert run("account", "list", "--where", "teir=A").exit_code == 1
    assert run("account", "list", "--format", "xml").exit_code == 2


def test_a_bug_is_3_and_the_line_says_where_the_trace_is(run: Run, book: Path) -> None:
    # before: exit 1, like bad data, and the trace was lost unless the user could reproduce it with --debug
    r = run("account", "list", env={"CRMCTL_TEST_AT": "command:bug"})
    assert r.exit_code == 3
    trace = book / ".crmctl" / "last-error.log"
    assert err_line(r) == ("error: internal error (RuntimeError: CRMCTL_TEST_AT=command:bug: a stand-in for a bug): "
                           f"a bug in crmctl; the trace is in {trace}; rerun with --debug to see it")
    text = trace.read_text(encoding="utf-8")
    assert text.startswith("crmctl ") and "Traceback (most recent call last)" in text and "RuntimeError" in text
    assert git(book, "status", "--porcelain") == ""  # .crmctl/ is not part of the book


def _group_with(command: click.Command) -> click.Group:
    group = LazyGroup(name="crmctl", lazy={})
    group.add_command(command)
    return group


@pytest.fixture
def no_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a folder with no crm.yaml here or above; the temporary folder is that folder too."""
    import tempfile

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmp_path


def test_a_bug_outside_a_book_leaves_its_trace_in_a_temporary_file(no_book: Path) -> None:
    @click.command("boom")
    def boom() -> None:
        {}["missing"]  # a bug: KeyError

    r = CliRunner().invoke(_group_with(boom), ["boom"])
    assert r.exit_code == 3
    line = err_line(r)
    assert line.startswith("error: internal error (KeyError: 'missing'): a bug in crmctl; the trace is in ")
    path = Path(line.split("the trace is in ")[1].split(";")[0])
    assert path.parent == no_book and path.name.startswith("crmctl-error-")
    assert "KeyError: 'missing'" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("raised, code, message", [
    (KeyboardInterrupt, 130, "error: interrupted (Ctrl-C)"),
    (RuntimeError, 3, "error: internal error (RuntimeError): a bug in crmctl; the trace is in "),
])
def test_ctrl_c_is_130_and_not_a_bug(raised: type[BaseException], code: int, message: str, no_book: Path) -> None:
    @click.command("work")
    def work() -> None:
        raise raised()

    r = CliRunner().invoke(_group_with(work), ["work"])
    assert (r.exit_code, err_line(r)[: len(message)]) == (code, message)


def test_ctrl_c_at_a_prompt_is_130_and_answering_no_is_1(no_book: Path) -> None:
    @click.command("ask")
    def ask() -> None:
        click.confirm("go on?", abort=True)

    @click.command("interrupted")
    def interrupted() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.Abort() from None  # what click.prompt does on Ctrl-C

    assert CliRunner().invoke(_group_with(ask), ["ask"], input="n\n").exit_code == 1
    r = CliRunner().invoke(_group_with(interrupted), ["interrupted"])
    assert (r.exit_code, err_line(r)) == (130, "error: interrupted (Ctrl-C)")


def _console(crmctl_bin: str, book: Path, *args: str, at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"CRMCTL_TEST_AT": at} if at else {})}
    return subprocess.run([crmctl_bin, "--book", str(book), *args], capture_output=True, text=True, env=env, timeout=60)


def test_the_console_script_exits_with_each_code(crmctl_bin: str, book: Path) -> None:
    assert _console(crmctl_bin, book, "account", "list").returncode == 0
    bad = _console(crmctl_bin, book, "contact", "show", "zz")
    assert (bad.returncode, bad.stderr) == (1, "error: no contact 'zz'; `crmctl contact list` shows them\n")
    assert _console(crmctl_bin, book, "account", "list", "--nosuch").returncode == 2
    # a real SIGINT, sent by the process to itself at the named point: what Ctrl-C in a terminal sends
    stopped = _console(crmctl_bin, book, "account", "add", "--name", "Never Written", at="command:sigint")
    assert (stopped.returncode, stopped.stderr, stopped.stdout) == (130, "error: interrupted (Ctrl-C)\n", "")
    assert not (book / "records" / "accounts" / "never-written.yaml").exists()
    bug = _console(crmctl_bin, book, "account", "list", at="command:bug")
    assert bug.returncode == 3 and "Traceback" not in bug.stderr
    assert f"the trace is in {book / '.crmctl' / 'last-error.log'}; rerun with --debug to see it" in bug.stderr


def test_debug_shows_the_trace_and_keeps_the_code(crmctl_bin: str, book: Path) -> None:
    bug = _console(crmctl_bin, book, "--debug", "account", "list", at="command:bug")
    assert bug.returncode == 3
    assert "Traceback (most recent call last)" in bug.stderr and bug.stderr.rstrip().endswith("a stand-in for a bug")
    bad = _console(crmctl_bin, book, "--debug", "contact", "show", "zz")
    assert bad.returncode == 1 and "NotFound: no contact 'zz'" in bad.stderr
