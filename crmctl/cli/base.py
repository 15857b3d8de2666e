"""What every command shares: the app context, output options and list options.

Like sqlite-utils, one decorator adds ``--format`` to every read command and
one function prints rows, so all commands look and script the same.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, Sequence, TypeVar

import click

from crmctl.core import git
from crmctl.core.book import Book, Record, Transaction
from crmctl.core.errors import CrmError, NotFound
from crmctl.core.output import FORMATS, render_record, render_rows
from crmctl.core.query import apply

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """Global options and the book, found on first use."""

    def __init__(self, book: str | None, as_user: str | None, no_commit: bool, debug: bool) -> None:
        self.book_option = book
        self.as_user = as_user or os.environ.get("CRMCTL_USER") or None
        self.no_commit = no_commit
        self.debug = debug
        self._book: Book | None = None
        self._actor: Record | None | bool = False

    @property
    def book(self) -> Book:
        if self._book is None:
            self._book = Book.discover(self.book_option)
            self._book.autocommit = not self.no_commit and bool(self._book.settings.get("git.autocommit", True))
            self._book.recover()  # an interrupted change is finished before anything reads the book
        return self._book

    @property
    def actor(self) -> Record | None:
        """The acting user: ``--as``, ``$CRMCTL_USER``, else git's user.email matched to a user."""
        if self._actor is False:
            self._actor = self._find_actor()
        return self._actor  # type: ignore[return-value]

    def _find_actor(self) -> Record | None:
        users = self.book.records("users")
        wanted = self.as_user
        if wanted:
            lowered = wanted.lower()
            for rec in users.values():
                if str(rec.get("email", "")).lower() == lowered:
                    return rec
            try:
                return self.book.get("users", lowered)
            except NotFound:
                raise CrmError(f"--as {wanted!r}: no such user; `crmctl user list` shows the team") from None
        root = self.book.git_root()
        email = git.config(root, "user.email").lower() if root else ""
        for rec in users.values():
            if email and str(rec.get("email", "")).lower() == email:
                return rec
        return None

    def require_actor(self, why: str) -> Record:
        actor = self.actor
        if actor is None:
            raise CrmError(f"{why} needs to know who you are: pass --as USER or set CRMCTL_USER")
        return actor

    @property
    def actor_id(self) -> str | None:
        return self.actor.id if self.actor else None

    def author(self) -> git.Author | None:
        actor = self.actor
        if actor is None:
            return None
        return git.Author(str(actor.get("name") or actor.id), str(actor.get("email") or f"{actor.id}@localhost"))

    def transaction(self, message: str) -> Transaction:
        return self.book.transaction(message, self.author())

    def warn_problems(self) -> None:
        """Bad files are skipped with a warning; ``crmctl check`` is what fails on them."""
        for problem in self.book.problems[:20]:
            click.echo(f"warning: {problem} (skipped)", err=True)
        if len(self.book.problems) > 20:
            click.echo(f"warning: {len(self.book.problems) - 20} more bad files; run `crmctl check`", err=True)
        self.book.problems.clear()


pass_app = click.make_pass_decorator(App)


def output_option(func: F) -> F:
    """``--format table|json|csv|yaml`` (default table)."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(func)


def list_options(func: F) -> F:
    """``--where``, ``--sort`` and ``--limit`` for list commands."""
    func = click.option("--limit", type=int, metavar="N", help="Show at most N rows.")(func)
    func = click.option("--sort", multiple=True, metavar="FIELD", help="Sort by FIELD (-FIELD for descending); repeatable.")(func)
    func = click.option("--where", multiple=True, metavar="FIELD=VALUE",
                        help="Keep rows where FIELD=VALUE (also !=, >, <, >=, <=, ~ contains); repeatable.")(func)
    return func


def dry_run_option(func: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")(func)


def emit_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None,
              where: Sequence[str] = (), sort: Sequence[str] = (), limit: int | None = None,
              fields: Sequence[str] = ()) -> None:
    """Rows filtered, sorted and cut (a bad field in ``where``/``sort`` is an error listing ``columns``,
    ``fields`` and the rows' keys), then shown in ``fmt``."""
    rows = apply(list(rows), where, sort, limit, [*fields, *(columns or ())])
    click.echo(render_rows(rows, fmt, None if fmt in ("json", "yaml") else columns))


def record_fields(app: App, rtype: str) -> list[str]:
    """What ``--where``/``--sort`` over records of ``rtype`` may name: id, the schema's fields, custom fields."""
    from crmctl.core.schema import field_names
    from crmctl.core.schemas import get_schema

    return field_names(get_schema(rtype), app.book.settings)


def emit_record(data: dict[str, Any], fmt: str) -> None:
    click.echo(render_record(data, fmt))


def emit_section(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A titled table below a record in the table view (an order's payments, a visit's SOP, a lead's history)."""
    click.echo(f"\n{title}")
    click.echo(render_rows(list(rows), "table", columns))


def done(message: str, tx: Transaction | None = None) -> None:
    """Report a change on stderr, so stdout stays clean for scripts."""
    suffix = ""
    if tx is not None and tx.commit_pending:
        suffix = f" (written; not committed yet: {tx.commit_pending}; the next crmctl command commits it)"
    elif tx is not None and tx.written and not tx.committed and tx.do_commit and tx.book.git_root():
        suffix = " (nothing to commit)"
    click.echo(message + suffix, err=True)


def with_problems(func: F) -> F:
    """Warn about bad files after a read command has done its work."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        ctx = click.get_current_context()
        if isinstance(ctx.obj, App) and ctx.obj._book is not None:
            ctx.obj.warn_problems()
        return result
    return wrapper  # type: ignore[return-value]
