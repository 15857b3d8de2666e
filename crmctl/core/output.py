"""Showing rows: a table for people, JSON, CSV or YAML for scripts.

Reports and list commands return rows (dicts); this module is the only place
that turns rows into text. JSON is stable for scripts: ``Decimal`` becomes a
string with its fixed decimals, never a float.
"""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any, Iterable, Sequence

FORMATS = ("table", "json", "csv", "yaml")
_FORMULA_START = ("=", "+", "@", "\t", "\r", "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will show, never run as a formula."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(_jsonable(value), ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START) or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except Exception:  # noqa: BLE001 - any parse failure means "not a number"
        return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Rows as text in ``fmt``; ``columns`` picks and orders the table/CSV columns."""
    if fmt == "json":
        return json.dumps(_jsonable(list(rows)), ensure_ascii=False, indent=2)
    if fmt == "yaml":
        return _yaml(_jsonable(list(rows)))
    cols = list(columns) if columns else _columns(rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([safe_cell(row.get(c)) for c in cols])
        return buf.getvalue().rstrip("\n")
    from tabulate import tabulate

    if not rows:
        return "(none)"
    return tabulate([[_cell(row.get(c)) for c in cols] for row in rows], headers=cols, disable_numparse=True)


def render_record(data: dict[str, Any], fmt: str) -> str:
    """One record: key/value pairs for people, an object for scripts."""
    if fmt == "json":
        return json.dumps(_jsonable(data), ensure_ascii=False, indent=2)
    if fmt == "yaml":
        return _yaml(_jsonable(data))
    if fmt == "csv":
        return render_rows([data], "csv")
    from tabulate import tabulate

    flat = [[k, _cell(v) if not isinstance(v, list) or not v or not isinstance(v[0], dict) else f"{len(v)} entries"]
            for k, v in data.items()]
    return tabulate(flat, tablefmt="plain", disable_numparse=True)


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        for key in row:
            if key not in cols:
                cols.append(key)
    return cols


def _yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096).rstrip("\n")
