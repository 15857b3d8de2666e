"""``crmctl report customers``: customer value, health and RFM segments (MCR)."""
from __future__ import annotations

import click

from crmctl.cli.base import App, emit_rows, list_options, output_option, pass_app, where_fields, with_problems


@click.command("customers")
@list_options
@output_option
@pass_app
@with_problems
def customers(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """Customer value: revenue (12 months, growth, lifetime), pipeline, overdue, last touch, health, RFM segment.

    Money is in the book currency. Filter with --where (e.g. segment=at_risk,
    health<50), order with --sort (default: -revenue_12m).
    """
    from crmctl.mcr.value import COLUMNS, customer_rows

    # the rows are accounts: id, name, tier, lifecycle and owner are read as the account's fields
    # (a merged id is followed); the computed columns by their values
    typed = where_fields(app.book, "accounts").kinds
    fields = where_fields(app.book, names=COLUMNS, extra={k: v for k, v in typed.items() if k in COLUMNS})
    emit_rows(customer_rows(app.book), fmt, COLUMNS, where, sort or ("-revenue_12m", "id"), limit, fields)
