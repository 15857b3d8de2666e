"""``crmctl report customers``: customer value, health and RFM segments (MCR)."""
from __future__ import annotations

import click

from crmctl.cli.asof import HELP, use_as_of
from crmctl.cli.base import App, emit_rows, list_options, output_option, pass_app, with_problems


@click.command("customers")
@list_options
@output_option
@click.option("--as-of", "as_of", metavar="DATE", help=HELP)
@pass_app
@with_problems
def customers(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str,
              as_of: str | None) -> None:
    """Customer value: revenue (12 months, growth, lifetime), pipeline, overdue, last touch, health, RFM segment.

    Money is in the book currency. Filter with --where (e.g. segment=at_risk,
    health<50), order with --sort (default: -revenue_12m).
    """
    from crmctl.mcr.value import COLUMNS, customer_rows

    day = use_as_of(app, as_of, exact=False)[0] if as_of else None
    emit_rows(customer_rows(app.book, day=day), fmt, COLUMNS, where, sort or ("-revenue_12m", "id"), limit)
