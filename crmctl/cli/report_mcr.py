"""``crmctl report customers``: customer value, health and RFM segments (MCR)."""
from __future__ import annotations

from typing import Any

import click

from crmctl.cli.asof import HELP, use_as_of
from crmctl.cli.base import App, done, emit_rows, list_options, output_option, pass_app, where_fields, with_problems

# what the PDF prints (the name instead of the slug; the table view keeps every column)
PDF_COLUMNS = ("name", "tier", "owner", "revenue_12m", "growth", "open_pipeline", "overdue", "last_touch",
               "health", "segment")
PDF_TOTALS = ("revenue_12m", "open_pipeline", "overdue")
CHART_TOP = 12


@click.command("customers")
@list_options
@click.option("--pdf", metavar="FILE", help="Render the report as a PDF with a chart (the book's language).")
@output_option
@click.option("--as-of", "as_of", metavar="DATE", help=HELP)
@pass_app
@with_problems
def customers(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, pdf: str | None, fmt: str,
              as_of: str | None) -> None:
    """Customer value: revenue (12 months, growth, lifetime), pipeline, overdue, last touch, health, RFM segment.

    Money is in the book currency. Filter with --where (e.g. segment=at_risk,
    health<50), order with --sort (default: -revenue_12m).
    """
    from crmctl.mcr.value import COLUMNS, customer_rows

    day, source = use_as_of(app, as_of, exact=False) if as_of is not None else (None, None)
    # the rows are accounts: id, name, tier, lifecycle and owner are read as the account's fields
    # (a merged id is followed); the computed columns by their values
    typed = where_fields(app.book, "accounts").kinds
    fields = where_fields(app.book, names=COLUMNS, extra={k: v for k, v in typed.items() if k in COLUMNS})
    order = sort or ("-revenue_12m", "id")
    rows = customer_rows(app.book, day=day, where=where, sort=order, limit=limit, fields=fields)
    if pdf:
        render(app, rows, pdf, day, source)
        done(f"wrote {pdf}")
        return
    emit_rows(rows, fmt, COLUMNS, where, order, limit, fields)  # applied again (no change): its errors list COLUMNS


def render(app: App, rows: list[dict[str, Any]], out: str, day: Any = None, source: str | None = None) -> None:
    """The customers PDF: the top customers' 12-month revenue as bars, then the table with a total row."""
    from decimal import Decimal

    from crmctl.core.clock import today, wall_now
    from crmctl.core.money import money_str
    from crmctl.io import charts, reportdoc

    book = app.book
    # each customer by its name in the document's language (name_en in an English book), as the other reports print it
    names = reportdoc.Names(book, reportdoc.language(book))
    rows = [{**r, "name": names.record("accounts", r.get("id"), str(r.get("name") or r.get("id")))} for r in rows]
    total: dict[str, Any] = {"name": "total"}
    for column in PDF_TOTALS:
        total[column] = money_str(sum((Decimal(str(r.get(column) or 0)) for r in rows), Decimal(0)), book.settings.currency)
    top = [r for r in rows if Decimal(str(r.get("revenue_12m") or 0)) > 0][:CHART_TOP]

    def draw(fmt: Any, lang: str) -> list[str]:
        title = "近12个月收入（前 {n} 名）" if lang == "zh-CN" else "Revenue, last 12 months (top {n})"
        return [charts.bars([str(r.get("name")) for r in top], [r["revenue_12m"] for r in top],
                            title.format(n=len(top)), [fmt("revenue_12m", r["revenue_12m"]) for r in top]) if top else ""]

    section = reportdoc.Section([*rows, total] if len(rows) > 1 else rows, PDF_COLUMNS)
    reportdoc.render(book, reportdoc.Report("customers", [section], day or today(book.settings),
                                              notes=reportdoc.source_notes(book, source)), out, wall_now(book.settings), draw)
