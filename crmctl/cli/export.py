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
@click.argument("rtype", metavar="TYPE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True, help="Output format.")
@click.option("--out", "out", type=click.Path(dir_okay=False), metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--where", multiple=True, metavar="FIELD=VALUE",
              help="Keep records where FIELD=VALUE (also !=, >, <, >=, <=, ~ contains); repeatable.")
@click.option("--sort", multiple=True, metavar="FIELD", help="Sort by FIELD (-FIELD for descending); repeatable.")
@click.option("--limit", type=int, metavar="N", help="Export at most N records.")
@pass_app
@with_problems
def cli(app: App, rtype: str, fmt: str, out: str | None, where: tuple[str, ...], sort: tuple[str, ...],
        limit: int | None, **_: Any) -> None:
    """Export every record of TYPE (all fields, with its id).

    CSV cells that a spreadsheet would run as a formula are written with a
    leading ' so they show as text; `crmctl import` reads them back as they
    were. JSON and NDJSON keep money as strings and lists as lists.
    """
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
