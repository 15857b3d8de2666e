"""``crmctl diff D1 D2 [TYPE]``: which records were added, changed (which fields) and removed between two days."""
from __future__ import annotations

import click

from crmctl.cli.base import App, emit_rows, list_options, output_option, pass_app, with_problems
from crmctl.core.errors import ValidationError
from crmctl.core.schemas import TYPES, canonical
from crmctl.core.snapshot import book_on, not_after_today, record_diff
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
    days = [parse_day(first, "D1"), parse_day(second, "D2")]
    if days[0] > days[1]:
        raise ValidationError(f"diff: D1 {days[0].isoformat()} is after D2 {days[1].isoformat()}; "
                              "give the earlier day first (added/removed are read from D1 to D2)")
    for day, what in zip(days, ("D1", "D2")):
        not_after_today(app.book, day, what)  # both days refused before either book is read
    books = []
    for day, what in zip(days, ("D1", "D2")):
        book, _, line = book_on(app.book, day, what, exact=True)
        click.echo(line, err=True)
        books.append(book)
    types = [canonical(rtype)] if rtype else list(TYPES)
    emit_rows(record_diff(books[0], books[1], types), fmt, ("type", "id", "name", "change", "fields"), where, sort, limit)
