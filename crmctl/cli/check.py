"""``crmctl check``: validate the whole book; exit 1 on any problem."""
from __future__ import annotations

from typing import Callable

import click

from crmctl.cli.base import App, emit_rows, output_option, pass_app
from crmctl.core.book import Book
from crmctl.core.cache import collector_paused
from crmctl.core.checks import CHECKS, Check, release_facts, scenario_modules
from crmctl.core.errors import NOTE, PASSING, WARNING, CrmError, Problem


def all_checks() -> tuple[Check, ...]:
    return (*CHECKS, *(c for module in scenario_modules() for c in module.CHECKS))


def _last_facts_reader() -> Check | None:
    """The last check of a module that reads ``core.checks.facts`` (``READS_FACTS``): the facts are dropped after it."""
    from crmctl.core import checks as core

    readers = [c for m in (core, *scenario_modules()) if getattr(m, "READS_FACTS", False) for c in m.CHECKS]
    return next((c for c in reversed(all_checks()) if c in readers), None)


def run_checks(book: Book) -> list[Problem]:
    """Every check's problems, sorted by place, each once (with the cycle collector paused: see
    :func:`crmctl.core.cache.collector_paused`)."""
    problems: list[Problem] = []
    last = _last_facts_reader()
    with collector_paused():
        for check in all_checks():
            try:
                problems.extend(check(book))
            except CrmError as exc:  # a value so broken that a check cannot read it; the schema check names its file
                problems.append(Problem("crmctl check", 0, f"{check.__name__} stopped: {exc}", "unreadable"))
            if check is last:
                release_facts(book)
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))


def uncommitted(book: Book) -> list[str]:
    """Record files that differ from HEAD with no journalled crmctl change behind them (not inside a git hook)."""
    import os

    from crmctl.core import git, journal

    root = book.git_root()
    if not root or not book.autocommit or os.environ.get("GIT_INDEX_FILE") or journal.pending(book.root):
        return []  # a pre-commit hook checks exactly what is being committed
    folder = os.path.relpath(os.path.join(book.root, "records"), root)
    return git.dirty(root, [folder])


def _meanwhile(work: Callable[[Book], list[str]], book: Book) -> Callable[[], list[str]]:
    """Start ``work(book)`` in a thread; the returned function waits for its result (or raises its exception)."""
    import threading

    out: list[list[str]] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            out.append(work(book))
        except BaseException as exc:  # handed to the caller
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> list[str]:
        thread.join()
        if failed:
            raise failed[0]
        return out[0]

    return result


@click.command("check")
@output_option
@pass_app
def cli(app: App, fmt: str) -> None:
    """Validate every record: schema, enums, references, duplicate numbers, policy.

    Prints one `path:line: message` per problem and exits 1 if there is any.
    Warnings (`path:line: warning: ...`, something to look at) and notes
    (`path:line: note: ...`, e.g. open deals still without an account) are
    listed after the problems and do not fail the check.
    Use it as a git pre-commit hook: `crmctl git setup` installs one.
    """
    app.warn_settings = False  # crm.yaml's unknown keys are problems here (core.checks.check_settings)
    changed = _meanwhile(uncommitted, app.book)  # git status stats every file too: on another core while we check
    found = run_checks(app.book)
    problems = [p for p in found if p.code not in PASSING]
    warnings = [p for p in found if p.code == WARNING]
    notes = [p for p in found if p.code == NOTE]
    for path in changed():
        click.echo(f"warning: {path}: differs from the last commit and no crmctl change is pending for it "
                   "(a hand edit, or --no-commit); commit it or restore it with `git checkout`", err=True)
    if fmt == "table":
        for p in [*problems, *warnings, *notes]:
            click.echo(str(p))
        tail = (f", {len(warnings)} warning(s)" if warnings else "") + (f"; {len(notes)} note(s)" if notes else "")
        click.echo(f"{len(problems)} problem(s){tail}" if problems else f"ok: no problems{tail}", err=True)
    else:
        emit_rows([p.as_dict() for p in [*problems, *warnings, *notes]], fmt, ("path", "line", "code", "message"))
    if problems:
        raise SystemExit(1)


