"""``crmctl check``: validate the whole book; exit 1 on any problem."""
from __future__ import annotations

import click

from crmctl.cli.base import App, emit_rows, output_option, pass_app
from crmctl.core.book import Book
from crmctl.core.checks import CHECKS, Check, scenario_modules
from crmctl.core.errors import NOTE, PASSING, WARNING, CrmError, Problem


def all_checks() -> tuple[Check, ...]:
    return (*CHECKS, *(c for module in scenario_modules() for c in module.CHECKS))


def run_checks(book: Book) -> list[Problem]:
    """Every check's problems, sorted by place, each once.

    Runs with Python's cycle collector paused: reading the facts of 30,000 records makes a
    million small lists and dicts, none of them in a cycle (reference counting frees them),
    and the collector walked all of them again and again: 40% of a warm ``check``.
    """
    import gc

    problems: list[Problem] = []
    paused = gc.isenabled()
    gc.disable()
    try:
        for check in all_checks():
            try:
                problems.extend(check(book))
            except CrmError as exc:  # a value so broken that a check cannot read it; the schema check names its file
                problems.append(Problem("crmctl check", 0, f"{check.__name__} stopped: {exc}", "unreadable"))
    finally:
        if paused:
            gc.enable()
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
    found = run_checks(app.book)
    problems = [p for p in found if p.code not in PASSING]
    warnings = [p for p in found if p.code == WARNING]
    notes = [p for p in found if p.code == NOTE]
    for path in uncommitted(app.book):
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


