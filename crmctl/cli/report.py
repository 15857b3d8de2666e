"""``crmctl report``: every report, each living in its scenario's module."""
from __future__ import annotations

import click

from crmctl.cli import LazyGroup

REPORTS: dict[str, tuple[str, ...]] = {
    "pipeline": ("crmctl.cli.report_l2c", "Open opportunities by stage: count, amount, weighted amount.", "pipeline"),
    "funnel": ("crmctl.cli.report_l2c", "Conversion between stages and from lead to won.", "funnel"),
    "forecast": ("crmctl.cli.report_l2c", "Commit, best case, pipeline and closed against quota.", "forecast"),
    "velocity": ("crmctl.cli.report_l2c", "Average days in each stage; lead-to-cash cycle time.", "velocity"),
    "receivables": ("crmctl.cli.report_l2c", "Receivables aging per account and owner.", "receivables"),
    "customers": ("crmctl.cli.report_mcr", "Customer value: revenue, growth, pipeline, overdue, health, RFM.", "customers"),
    "changes": ("crmctl.cli.report_changes", "How the open pipeline moved between two dates (a waterfall).", "changes"),
    "sfe": ("crmctl.cli.report_sfe", "Sales force effectiveness: plan vs actual, cadence, SOP, coaching.", "sfe"),
}


@click.group("report", cls=LazyGroup, lazy=REPORTS)
def cli() -> None:
    """Reports over the whole book; each takes --format (and most --pdf)."""
