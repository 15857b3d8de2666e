"""``show`` for records with an append-only history (leads, opportunities).

The table view prints the record and then its history as a table, instead of
"4 entries"; the other formats carry the history inside the record as usual.
"""
from __future__ import annotations

from typing import Sequence

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import App, emit_record, emit_section, output_option, pass_app, with_problems


def history_show(rtype: str, field: str, columns: Sequence[str], title: str) -> click.Command:
    @click.command("show")
    @click.argument("ref", metavar="ID")
    @output_option
    @as_of_option
    @pass_app
    @with_problems
    def show(app: App, ref: str, fmt: str) -> None:
        rec = app.book.get(rtype, ref)
        if fmt != "table":
            emit_record(rec.row(), fmt)
            return
        emit_record({k: v for k, v in rec.row().items() if k != field}, fmt)
        entries = rec.get(field) or []
        if entries:
            emit_section(f"{field}:", entries, columns)

    show.help = f"Show one {title} and its {field.replace('_', ' ')} (ID or a unique prefix)."
    return show
