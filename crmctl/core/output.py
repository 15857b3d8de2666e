"""Showing rows: a table for people, JSON, CSV or YAML for scripts.

Reports and list commands return rows (dicts); this module is the only place
that turns rows into text. JSON is stable for scripts: ``Decimal`` becomes a
string with its fixed decimals, never a float.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from crmctl.core import jsonio

FORMATS = ("table", "json", "csv", "yaml")
_FORMULA_START = ("=", "+", "@", "\t", "\r", "\n")


def _default(value: Any) -> Any:
    """What json cannot write itself; record data is JSON-native, so this is rare."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _jsonable(value: Any) -> Any:
    return jsonio.loads(jsonio.dumps(value, default=_default))


def to_json(value: Any) -> str:
    return jsonio.dumps(value, default=_default, indent=True)


def rows_json(rows: Sequence[dict[str, Any]]) -> str:
    """A JSON array with one record per line, written by one call of the C encoder."""
    text = jsonio.dumps(list(rows), default=_default)
    # `{"id":` with bare quotes cannot occur inside a JSON string, and a newline
    # between tokens is valid JSON, so this only adds line breaks between records
    return text.replace('},{"id":', '},\n{"id":')


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will show, never run as a formula."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) and _plain_list(value):
        value = ", ".join(item_text(v) for v in value)
    elif isinstance(value, (list, tuple, dict)):
        value = jsonio.dumps(value, default=_default)  # structured cells are JSON, which `crmctl import` reads back
    text = str(value)
    if text.startswith(_FORMULA_START) or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text


def _plain_list(items: Sequence[Any]) -> bool:
    """A list a person reads as ``a, b``: plain strings with no separator in them (else it is written as JSON)."""
    return all(isinstance(v, str) and not any(c in v for c in ",;[") for v in items)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except Exception:  # noqa: BLE001 - any parse failure means "not a number"
        return False


def item_text(value: Any) -> str:
    """One entry of a list as a person reads it: ``true``, ``false`` and ``null`` as the file and SQL spell them,
    never Python's ``True`` or ``None``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(item_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Rows as text in ``fmt``; ``columns`` picks and orders the table/CSV columns."""
    if fmt == "json":
        return rows_json(rows)
    if fmt == "yaml":
        return _yaml(_jsonable(list(rows)))
    cols = list(columns) if columns else _columns(rows)
    if fmt == "csv":
        return "".join(stream_rows(rows, "csv", cols)).rstrip("\n")
    from tabulate import tabulate

    if not rows:
        return "(none)"
    return tabulate([[_cell(row.get(c)) for c in cols] for row in rows], headers=cols, disable_numparse=True)


def stream_rows(rows: Iterable[dict[str, Any]], fmt: str, columns: Sequence[str]) -> Iterator[str]:
    """Rows as ``fmt`` text (json, csv or yaml), a piece at a time, so a result of millions of rows is never held
    whole: the same text as :func:`render_rows` gives (JSON: one record a line), each piece ending in a newline."""
    if fmt == "table":
        raise ValueError("a table is laid out whole: use render_rows")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([safe_cell(row.get(c)) for c in columns])
            if buf.tell() > 1 << 16:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()
        return
    first = True
    for row in rows:
        if fmt == "json":
            yield ("[" if first else ",\n") + jsonio.dumps(row, default=_default)
        else:
            yield _yaml(_jsonable([row])) + "\n"
        first = False
    if fmt == "json":
        yield "[]\n" if first else "]\n"
    elif first:
        yield "[]\n"


def render_record(data: dict[str, Any], fmt: str) -> str:
    """One record: key/value pairs for people, an object for scripts."""
    if fmt == "json":
        return to_json(data)
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
    from crmctl.core.yamlio import dump_data  # the record files' quoting: `y`, `no`, `0777` stay text to any reader

    return dump_data(data).rstrip("\n")
