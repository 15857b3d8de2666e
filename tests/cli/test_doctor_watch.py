"""`crmctl doctor` suggests `crmctl watch start` for a big book with no watcher — never on a network file
system, where `watch start` refuses, nor when a watcher runs."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from crmctl.cli import doctor
from crmctl.core import watch
from tests.conftest import invoke


def fill(book: Path, count: int) -> None:
    """``count`` tiny account files in the book's records/ (doctor counts them; it never reads them)."""
    folder = book / "records" / "accounts"
    for i in range(count):
        (folder / f"tiny-{i:04d}.yaml").write_text(f"name: Tiny {i}\n", encoding="utf-8")


def suggestion(book: Path) -> str:
    result = invoke("doctor", "--format", "json", book=book)
    assert result.exit_code in (0, 1), result.output
    return "\n".join(line for line in result.stderr.splitlines() if "watch start" in line)


def test_a_big_book_without_a_watcher_is_told_to_start_one_and_a_small_one_is_not(
        book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(book, 30)
    (book / "records" / "accounts" / ".tiny-0001.yaml.swp").write_text("x", encoding="utf-8")  # an editor's: not counted
    (book / "records" / "accounts" / "notes.txt").write_text("x", encoding="utf-8")            # not a record: not counted
    files = sum(1 for folder in (book / "records").iterdir() if folder.is_dir() for f in folder.iterdir()
                if f.is_file() and f.suffix == ".yaml" and not f.name.startswith("."))
    monkeypatch.setattr(doctor, "WATCH_SUGGEST_FILES", files)   # exactly at the threshold: not more than it
    assert suggestion(book) == ""
    monkeypatch.setattr(doctor, "WATCH_SUGGEST_FILES", files - 1)
    line = suggestion(book)
    assert f"records/ holds {files:,} files (more than {files - 1:,})" in line
    assert "stat'ing" in line and "`crmctl watch start`" in line and len(line.splitlines()) == 1
    # the exit status is the environment's only: a suggestion is not a failure
    plain = invoke("doctor", "--format", "json")
    assert invoke("doctor", "--format", "json", book=book).exit_code == plain.exit_code


def test_no_suggestion_on_a_network_file_system_where_watch_start_refuses(
        book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmctl.cli import watch as watch_cli

    fill(book, 30)
    monkeypatch.setattr(doctor, "WATCH_SUGGEST_FILES", 20)
    monkeypatch.setattr(watch_cli, "file_system", lambda path, mountinfo=None: "nfs4")
    assert suggestion(book) == ""
    refused = invoke("watch", "start", book=book)   # the same check: start refuses there
    assert refused.exit_code == 1 and "nfs4 file system" in refused.output


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="the watcher is Linux inotify's")
def test_no_suggestion_while_a_watcher_runs_for_the_book(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(book, 30)
    monkeypatch.setattr(doctor, "WATCH_SUGGEST_FILES", 20)
    assert "watch start" in suggestion(book)
    started = invoke("watch", "start", book=book)
    assert started.exit_code == 0, started.output
    pid = int(watch.ask(os.path.realpath(book), {"status": True})["pid"])
    try:
        assert suggestion(book) == ""
    finally:
        invoke("watch", "stop", book=book)
        try:
            os.kill(pid, signal.SIGKILL)   # stopped already: nothing to do
        except ProcessLookupError:
            pass
    assert "watch start" in suggestion(book)


def test_a_hung_watcher_is_named_by_doctor(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # attack 7: doctor said nothing about a watcher that does not answer (commands each wait for it once) — on a
    # book of any size
    assert invoke("watch", "start", book=book).exit_code == 0
    status = watch.ask(str(book), {"status": True})
    assert status is not None
    pid = int(status["pid"])
    os.kill(pid, signal.SIGSTOP)
    try:
        result = invoke("doctor", "--format", "json", book=book)
        hung = [line for line in result.stderr.splitlines() if "does not answer" in line]
        assert len(hung) == 1 and f"(pid {pid})" in hung[0] and "`crmctl watch stop` ends it" in hung[0], result.stderr
    finally:
        invoke("watch", "stop", book=book)
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
