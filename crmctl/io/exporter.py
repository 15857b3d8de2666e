"""Exporting records: rows for every record of a type, as CSV, JSON, NDJSON or YAML.

CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``
...) are neutralised with :func:`crmctl.core.output.safe_cell`; the importer
undoes that on the way back in, so an export re-imports as it was.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from crmctl.core.book import Book
from crmctl.core.output import render_rows
from crmctl.core.schema import custom_fields
from crmctl.core.schemas import get_schema

FORMATS = ("csv", "json", "ndjson", "yaml")


def export_rows(book: Book, rtype: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns (id, the schema's fields, custom fields, then any others) and one row per record."""
    schema = get_schema(rtype)
    rows = [rec.row() for rec in sorted(book.all(rtype), key=lambda r: r.id)]
    present = {key for row in rows for key in row}
    order = ["id", *(f.name for f in schema.fields), *custom_fields(book.settings, rtype)]
    columns = [c for c in order if c in present]
    columns += sorted(present - set(columns))
    return columns, rows


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """The export's text, ending with a newline."""
    if fmt == "ndjson":
        # record data is JSON-native (money and dates are strings), so the C encoder takes it as it is
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if fmt == "csv":
        return render_rows(list(rows), "csv", list(columns)) + "\n"
    return render_rows(list(rows), fmt) + "\n"
