"""``crmctl sql STATEMENT``: read-only SQL over the book's read model (:mod:`crmctl.core.readmodel`)."""
from __future__ import annotations

from typing import Any

import click

from crmctl.cli.base import App, output_option, pass_app, with_problems
from crmctl.core.errors import CrmError
from crmctl.core.output import render_rows


def _shown(value: Any) -> Any:
    """A result value every format can show: a BLOB as hex, everything else as SQLite gave it."""
    return value.hex() if isinstance(value, bytes) else value


@click.command("sql")
@click.argument("statement")
@output_option
@pass_app
@with_problems
def cli(app: App, statement: str, fmt: str) -> None:
    """Run one read-only SQL STATEMENT over the book and print its rows.

    Every record type is a table (accounts, opportunities, orders, ...), every
    list field a child table (quote_lines, opportunity_stage_history,
    order_installments, visit_steps, ...) joined by <type>_id. Money is exact
    text (amount) plus a REAL (amount_num); dsum(amount) adds exactly.
    Only reading is allowed. Example:

      crmctl sql "SELECT owner, sum(amount_num) FROM opportunities WHERE stage='won' GROUP BY owner"
    """
    from crmctl.core import readmodel

    if not statement.strip():
        raise CrmError("sql: no statement given; e.g. crmctl sql \"SELECT stage, count(*) FROM opportunities GROUP BY stage\"")
    book = app.book
    columns, rows, problems = readmodel.query(book.root, book.settings, statement)
    book.problems.extend(p for p in problems if p not in book.problems)
    out = [{c: _shown(v) for c, v in zip(columns, row)} for row in rows]
    click.echo(render_rows(out, fmt, columns))
