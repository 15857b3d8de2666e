"""``crmctl sql STATEMENT``: read-only SQL over the book's read model (:mod:`crmctl.core.readmodel`)."""
from __future__ import annotations

import re
import sys
from itertools import islice
from typing import Any, Iterable, Iterator

import click

from crmctl.cli.base import App, output_option, pass_app, with_problems
from crmctl.core.errors import CrmError
from crmctl.core.output import render_rows, stream_rows


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.S)


def _shown(value: Any) -> Any:
    """A result value every format can show: a BLOB as hex, everything else as SQLite gave it."""
    return value.hex() if isinstance(value, bytes) else value


# a statement may start with an SQL comment (`-- pipeline by stage`), which Click would take for an option
@click.command("sql", context_settings={"ignore_unknown_options": True})
@click.argument("statement", required=False)
@click.option("--tables", is_flag=True, help="List the tables and their columns instead of running a statement.")
@output_option
@pass_app
@with_problems
def cli(app: App, statement: str | None, tables: bool, fmt: str) -> None:
    """Run one read-only SQL STATEMENT over the book and print its rows.

    Every record type is a table (accounts, opportunities, orders, ...), every
    list field a child table (quote_lines, opportunity_stage_history,
    order_installments, visit_steps, ...) joined by <type>_id. Money is exact
    text (amount) plus a REAL (amount_num), and in the book currency at today's
    rate as the reports convert it (amount_book, amount_book_num; NULL without
    a rate). dsum(amount) adds exactly; dsum(amount, currency) refuses to add
    two currencies. Only reading is allowed. csv, json and yaml print rows as
    they come; a table holds at most 10,000. Example:

      crmctl sql "SELECT owner, dsum(amount_book) FROM opportunities WHERE stage='won' GROUP BY owner"
    """
    from crmctl.core import readmodel

    book = app.book
    if tables:
        if statement:
            raise CrmError("sql --tables lists the tables; give it no STATEMENT")
        click.echo(render_rows(_tables(book), fmt, ["table", "columns"]))
        return
    if not statement or not statement.strip():
        raise CrmError("sql: no statement given; e.g. crmctl sql \"SELECT stage, count(*) FROM opportunities GROUP BY stage\"")
    if not _COMMENTS.sub("", statement).strip():  # `crmctl sql --tabels`: an option mistyped reads as an SQL comment
        raise CrmError(f"sql: {statement[:40]!r} is only an SQL comment, no statement; a mistyped option? "
                       "(`crmctl sql --help` lists them)")
    notes = readmodel.Notes()
    with readmodel.query(book.root, book.settings, statement, readmodel.BookMoney.of(book, notes), notes) as answer:
        book.problems.extend(p for p in answer.problems if p not in book.problems)
        readmodel.note_screened(book, answer.screened)
        rows = ({c: _shown(v) for c, v in zip(answer.columns, row)} for row in answer.rows)
        if fmt == "table":
            shown = list(islice(rows, readmodel.TABLE_ROWS + 1))
            if len(shown) > readmodel.TABLE_ROWS:
                raise CrmError(f"sql: more than {readmodel.TABLE_ROWS:,} rows are too many to lay out as a table; "
                               "add LIMIT, or use --format csv (json, yaml), which prints rows as they come")
            click.echo(render_rows(shown, fmt, answer.columns))
        else:
            for text in _batched(stream_rows(rows, fmt, answer.columns)):
                sys.stdout.write(text)
            sys.stdout.flush()
    for line in notes.warnings():
        click.echo(f"warning: {line}", err=True)


def _batched(pieces: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """Text pieces joined into chunks of about ``size`` characters (one write per chunk, not per row)."""
    chunk: list[str] = []
    length = 0
    for piece in pieces:
        chunk.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(chunk)
            chunk, length = [], 0
    if chunk:
        yield "".join(chunk)


def _tables(book: Any) -> list[dict[str, str]]:
    """``crmctl sql --tables``: each table ``crmctl sql`` reads with its columns (child tables' entry keys as found)."""
    from crmctl.core import readmodel
    from crmctl.core.schemas import TYPES

    model = readmodel.ReadModel(book.root, book.settings)
    try:
        model.refresh()  # child tables gain a column per key their entries hold
        book.problems.extend(p for p in model.problems if p not in book.problems)
        out = [{"table": t, "columns": ", ".join(readmodel.table_columns(model.layout, t))} for t in TYPES]
        for table in sorted(model.layout.children):
            columns = [r[1] for r in model.conn.execute(f"PRAGMA table_info({readmodel.quoted(table)})")]
            out.append({"table": table, "columns": ", ".join(columns)})
    finally:
        model.close()
    return out
