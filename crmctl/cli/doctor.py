"""``crmctl doctor``: what the environment lacks, and how to fix it."""
from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil
import subprocess

import click

from crmctl.cli.base import App, emit_rows, output_option, pass_app
from crmctl.core.book import Book
from crmctl.core.errors import CrmError

APT = "apt-get install -y"
# above this many files in records/, doctor suggests `crmctl watch start` (README "A watcher for big books")
WATCH_SUGGEST_FILES = 20_000
# what proving one record file unchanged costs a whole-book command without a watcher: 0.6 s per 205,000 files
STAT_SECONDS_PER_FILE = 0.6 / 205_000


def _fonts_for_chinese() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


def findings() -> list[dict[str, str]]:
    """One row per requirement: what, ok or missing, and the fix."""
    rows = []

    def add(what: str, ok: bool, fix: str, why: str) -> None:
        rows.append({"check": what, "status": "ok" if ok else "MISSING", "why": why, "fix": "" if ok else fix})

    add("git", shutil.which("git") is not None, f"{APT} git", "history, audit trail and sync")
    add("pango", ctypes.util.find_library("pango-1.0") is not None, f"{APT} libpango-1.0-0 libpangoft2-1.0-0",
        "WeasyPrint lays out PDFs with it")
    add("harfbuzz-subset", ctypes.util.find_library("harfbuzz-subset") is not None, f"{APT} libharfbuzz-subset0",
        "fast font subsetting (about 30x faster for CJK fonts)")
    add("CJK font", _fonts_for_chinese(), f"{APT} fonts-noto-cjk", "Chinese text in quote PDFs")
    for package in ("weasyprint", "babel", "jinja2"):
        # find, don't import: importing WeasyPrint alone costs over a second
        add(f"python: {package}", importlib.util.find_spec(package) is not None, f"pip install {package}",
            "rendering and locale formats")
    return rows


def record_files(root: str) -> int:
    """How many record files (``*.yaml``, not an editor's dot-file) the book's ``records/`` folders hold (one
    ``os.scandir`` per folder, no ``stat``)."""
    count = 0
    try:
        with os.scandir(os.path.join(root, "records")) as folders:
            for folder in folders:
                if folder.is_dir(follow_symlinks=False):
                    with os.scandir(folder.path) as entries:
                        count += sum(1 for entry in entries if entry.name.endswith(".yaml")
                                     and not entry.name.startswith(".") and entry.is_file(follow_symlinks=False))
    except OSError:
        return count
    return count


def watcher_advice(root: str) -> str | None:
    """One line suggesting `crmctl watch start` when ``records/`` holds more than WATCH_SUGGEST_FILES files and no
    watcher runs for the book, or naming a watcher that does not answer; None when it is small, a watcher runs or
    the book is on a network file system, where `watch start` refuses."""
    from crmctl.cli.watch import remote_file_system, running_watcher

    try:
        if running_watcher(root) is not None:
            return None
    except CrmError as exc:  # a hung watcher, whatever the book's size: commands each wait for it once
        return str(exc)
    files = record_files(root)
    if files <= WATCH_SUGGEST_FILES or remote_file_system(root):
        return None
    return (f"watcher: records/ holds {files:,} files (more than {WATCH_SUGGEST_FILES:,}) and no watcher runs for "
            f"{root}: every whole-book command spends about {files * STAT_SECONDS_PER_FILE:.1f} s just stat'ing them; "
            "`crmctl watch start` makes commands stat only the files that changed")


@click.command("doctor")
@output_option
@pass_app
def cli(app: App, fmt: str) -> None:
    """Say what the environment lacks (git, Pango, harfbuzz-subset, a CJK font) and how to fix it; for a book
    with more than 20,000 record files and no watcher, suggest `crmctl watch start` (on stderr).

    Exits 1 when something is missing (a suggestion is not).
    """
    rows = findings()
    emit_rows(rows, fmt, ("check", "status", "why", "fix"))
    try:
        root = os.path.realpath(Book.discover(app.book_option).root)   # found, not opened: nothing recovered
    except CrmError:   # no book here: only the environment is checked
        root = None
    advice = watcher_advice(root) if root else None
    if advice:
        click.echo(advice, err=True)
    if any(r["status"] != "ok" for r in rows):
        raise SystemExit(1)
