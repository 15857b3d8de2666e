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
from crmctl.core.query import Fields, Kind, apply

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
        self.warn_settings = True  # crm.yaml's unknown keys: a warning on stderr (`check` sets False: they are its problems)

    @property
    def book(self) -> Book:
        if self._book is None:
            self._book = Book.discover(self.book_option)
            self._book.warn_settings = self.warn_settings
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
        for problem in self.book.problems[:20]:  # a bad stored number leaves out its value; anything else its file
            click.echo(f"warning: {problem} ({'its value is left out of figures' if problem.code == 'number' else 'skipped'})",
                       err=True)
        if len(self.book.problems) > 20:
            click.echo(f"warning: {len(self.book.problems) - 20} more bad files; run `crmctl check`", err=True)
        self.book.problems.clear()


pass_app = click.make_pass_decorator(App)


def find_numbered(book: Book, rtype: str, ref: str) -> Record:
    """A quote or order by id (or unique prefix) or by its document number (``QT-2026-0001``, ``SO-2026-0007``,
    any case): what the customer and the approver quote back. A number on two records (after a git merge) is
    refused naming them and the ``renumber`` command that fixes it."""
    from crmctl.core.errors import Ambiguous
    from crmctl.core.schemas import get_schema

    wanted = ref.strip().upper()
    by_number = [r for r in book.all(rtype) if str(r.get("number") or "").upper() == wanted] if wanted else []
    if len(by_number) > 1:
        title = get_schema(rtype).title
        ids = ", ".join(sorted(r.id for r in by_number))
        raise Ambiguous(f"{title} number {ref} is on {len(by_number)} {rtype} ({ids}); use the id, "
                        f"and `crmctl {title} renumber ID` one of them")
    if by_number:
        return by_number[0]
    try:
        return book.get(rtype, ref)
    except NotFound:
        if ref.strip() == ref.strip().lower():
            raise
        title = get_schema(rtype).title   # the error of an id lower-cases it: say what was typed
        raise NotFound(f"no {title} numbered or with the id {ref.strip()!r}; `crmctl {title} list` shows them") from None


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
              fields: Sequence[str] | Fields = ()) -> None:
    """Rows filtered, sorted and cut (a bad field in ``where``/``sort`` is an error listing ``columns``,
    ``fields`` and the rows' keys), then shown in ``fmt``.

    ``--where`` values are read by each field's kind (``fields`` when it is a
    :class:`Fields`; otherwise inferred from the rows, numbers under the book's
    decimal mark when a book is open).
    """
    ctx = fields if isinstance(fields, Fields) else _plain_fields(list(fields))
    ctx.names = [*ctx.names, *(columns or ())]
    rows = apply(list(rows), where, sort, limit, ctx)
    click.echo(render_rows(rows, fmt, None if fmt in ("json", "yaml") else columns))


def _plain_fields(names: list[str]) -> Fields:
    """Untyped fields; numbers typed in a filter are read under the open book's rule, if any."""
    ctx = click.get_current_context(silent=True)
    app = ctx.obj if ctx is not None and isinstance(ctx.obj, App) else None
    if app is None or app._book is None:
        return Fields(names)
    return where_fields(app.book, names=names)


def record_fields(app: App, rtype: str, extra: dict[str, Kind] | None = None) -> Fields:
    """What ``--where``/``--sort`` over records of ``rtype`` may name (id, the schema's fields, custom
    fields) and how each field's values are read; ``extra`` adds computed columns' kinds."""
    return where_fields(app.book, rtype, extra=extra)


def where_fields(book: Book, rtype: str = "", names: Sequence[str] = (), extra: dict[str, Kind] | None = None) -> Fields:
    """:class:`Fields` for rows of ``rtype`` (``""``: rows that are not records) in ``book``.

    The kind of each field comes from its schema (money, dates, enums with
    their allowed values from crm.yaml, references that follow merges).
    """
    from crmctl.core.numbers import book_format
    from crmctl.core.schema import custom_fields, field_names
    from crmctl.core.schemas import get_schema

    settings = book.settings
    kinds: dict[str, Kind] = {}
    all_names = list(names)
    if rtype:
        schema = get_schema(rtype)
        all_names = [*field_names(schema, settings), *all_names]
        kinds["id"] = Kind("ref", ref=schema.type)
        for f in [*schema.fields, *custom_fields(settings, schema.type).values()]:
            kinds[f.name] = field_kind(f, settings)
    kinds.update(extra or {})
    return Fields(all_names, kinds, book_format(settings, origin="the book's decimal mark"), settings.currency,
                  follow=book.follow, known=book.exists)


def field_kind(f: Any, settings: Any) -> Kind:
    """How a ``--where`` value for schema field ``f`` is read (see core.query.Kind)."""
    kind = {"decimal": "number", "str": "text", "email": "text", "phone": "text"}.get(f.kind, f.kind)
    if f.kind == "list" and f.ref:
        return Kind("ref", ref=f.ref)
    if kind == "ref":
        return Kind("ref", ref=f.ref)
    if kind == "enum":
        return Kind("enum", tuple(f.allowed(settings)))
    if kind not in ("money", "number", "int", "percent", "date", "datetime", "bool", "currency"):
        return Kind("text")
    return Kind(kind)


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
