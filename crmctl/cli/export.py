"""``crmctl export TYPE``: every record of a type as CSV, JSON, NDJSON or YAML, to stdout or a file."""
from __future__ import annotations

import os
from typing import Any

import click

from crmctl.cli.base import App, done, pass_app, record_fields, with_problems
from crmctl.core.errors import CrmError
from crmctl.core.query import apply
from crmctl.core.schemas import canonical
from crmctl.io.exporter import FORMATS, export_rows, render


@click.command("export")
@click.argument("rtype", metavar="TYPE", required=False)
@click.option("--format", "fmt", type=click.Choice((*FORMATS, "sqlite")), default="csv", show_default=True, help="Output format.")
@click.option("--out", "out", type=click.Path(dir_okay=False), metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--where", multiple=True, metavar="FIELD=VALUE",
              help="Keep records where FIELD=VALUE (also !=, >, <, >=, <=, ~ contains); repeatable.")
@click.option("--sort", multiple=True, metavar="FIELD", help="Sort by FIELD (-FIELD for descending); repeatable.")
@click.option("--limit", type=int, metavar="N", help="Export at most N records.")
@pass_app
@with_problems
def cli(app: App, rtype: str | None, fmt: str, out: str | None, where: tuple[str, ...], sort: tuple[str, ...],
        limit: int | None, **_: Any) -> None:
    """Export every record of TYPE (all fields, with its id).

    CSV cells that a spreadsheet would run as a formula are written with a
    leading ' so they show as text; `crmctl import` reads them back as they
    were. JSON and NDJSON keep money as strings and lists as lists.

    `--format sqlite --out FILE` (no TYPE) writes the whole book as one SQLite
    database, the tables `crmctl sql` reads, for Datasette or any BI tool.
    """
    if fmt == "sqlite":
        _export_sqlite(app, rtype, out, bool(where or sort or limit is not None))
        return
    if rtype is None:
        raise CrmError("export: name the TYPE to export (e.g. `crmctl export accounts`), or use --format sqlite --out FILE "
                       "for the whole book")
    rtype = canonical(rtype)
    columns, rows = export_rows(app.book, rtype)
    rows = apply(rows, where, sort, limit, record_fields(app, rtype))
    text = render(rows, columns, fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    tmp = f"{out}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, out)
    except OSError as exc:
        raise CrmError(f"--out {out}: cannot write: {exc.strerror}") from None
    done(f"exported {len(rows)} {rtype} to {out}")


def _export_sqlite(app: App, rtype: str | None, out: str | None, filtered: bool) -> None:
    """The whole read model, refreshed, copied to ``out`` (a new file; an old one is replaced whole)."""
    from crmctl.core.readmodel import BookMoney, Notes, ReadModel, note_screened

    if rtype is not None or filtered:
        raise CrmError("export --format sqlite writes the whole book (every type a table): drop TYPE, --where, --sort "
                       "and --limit, and filter in SQL")
    if not out:
        raise CrmError("export --format sqlite needs --out FILE (a database is not text for a terminal)")
    book = app.book
    notes = Notes()
    money = BookMoney.of(book, notes)
    model = ReadModel(book.root, book.settings)
    try:
        model.refresh()
        book.problems.extend(p for p in model.problems if p not in book.problems)
        note_screened(book, model.conn.execute("SELECT type, id FROM _screen ORDER BY type, id").fetchall())
        model.copy_to(out, money)
        counts = {t: n for t, n in model.counts().items() if n}
    finally:
        model.close()
    for line in notes.warnings():
        click.echo(f"warning: {line.replace('sql: ', 'export: ', 1)}", err=True)
    shown = ", ".join(f"{n} {t}" for t, n in counts.items()) or "no records"
    done(f"exported {shown} to {out}")
