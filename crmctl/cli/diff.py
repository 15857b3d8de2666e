"""``crmctl diff D1 D2 [TYPE]``: which records were added, changed (which fields) and removed between two days."""
from __future__ import annotations

import click

from crmctl.cli.base import App, emit_rows, list_options, output_option, pass_app, with_problems
from crmctl.core.schemas import TYPES, canonical
from crmctl.core.snapshot import book_on, record_diff
from crmctl.l2c.dates import parse_day


@click.command("diff")
@click.argument("first", metavar="D1")
@click.argument("second", metavar="D2")
@click.argument("rtype", metavar="[TYPE]", required=False)
@list_options
@output_option
@pass_app
@with_problems
def cli(app: App, first: str, second: str, rtype: str | None, where: tuple[str, ...], sort: tuple[str, ...],
        limit: int | None, fmt: str) -> None:
    """Records added, changed (which fields) and removed between the book as committed at the ends of D1 and D2."""
    books = []
    for text, what in ((first, "D1"), (second, "D2")):
        book, _, line = book_on(app.book, parse_day(text, what), what, exact=True)
        click.echo(line, err=True)
        books.append(book)
    types = [canonical(rtype)] if rtype else list(TYPES)
    emit_rows(record_diff(books[0], books[1], types), fmt, ("type", "id", "name", "change", "fields"), where, sort, limit)
