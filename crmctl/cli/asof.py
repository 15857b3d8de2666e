"""``--as-of DATE`` for reports, ``list`` and ``show``: the command reads the book as it was that day.

The book is swapped for the committed one (:func:`crmctl.core.snapshot.book_on`)
before the command runs, so the command itself is unchanged; one line on stderr
says which book it read.
"""
from __future__ import annotations

import datetime as _dt
import functools
from typing import Any, Callable, TypeVar

import click

from crmctl.cli.base import App
from crmctl.core.snapshot import book_on
from crmctl.l2c.dates import parse_day

F = TypeVar("F", bound=Callable[..., Any])
HELP = "Read the book as committed at the end of DATE (YYYY-MM-DD, in the book's time zone; today or earlier)."


def use_as_of(app: App, text: str, exact: bool) -> tuple[_dt.date, str]:
    """Point ``app`` at the book of ``text``'s day; return the day and its source (``git``, ``today``, ``records``).

    ``exact``: refuse a day with no commit rather than replay the records' own histories.
    """
    day = parse_day(text, "--as-of")
    book, source, line = book_on(app.book, day, "--as-of", exact)
    click.echo(line, err=True)
    app._book = book
    return day, source


def as_of_option(func: F) -> F:
    """``--as-of DATE`` on a ``list`` or ``show``: every field exactly as committed that day."""
    @functools.wraps(func)
    def wrapper(*args: Any, as_of: str | None = None, **kwargs: Any) -> Any:
        if as_of is not None:
            use_as_of(click.get_current_context().find_object(App), as_of, exact=True)
        return func(*args, **kwargs)
    return click.option("--as-of", "as_of", metavar="DATE", help=HELP)(wrapper)  # type: ignore[return-value]
