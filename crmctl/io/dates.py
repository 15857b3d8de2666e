"""Dates in import files: one date order per file, stated rather than guessed, and Excel serial dates.

A mapping's ``date_format`` (or ``crmctl import --date-format``) is one of:

* a strptime format (``"%d/%m/%Y"``): every date cell is read with it;
* ``excel`` or ``excel1904``: cells are Excel serial day numbers (``45778`` is
  2025-05-01 in the 1900 date system Excel for Windows uses; ``excel1904`` is
  the system of old Mac workbooks); a fraction is the time of day;
* a list of strptime formats (the Salesforce preset lists month-first and
  day-first, since the export follows each user's locale): the import picks
  the ONE format that reads every date of the file, and refuses the file when
  more than one does and they disagree on a row (all days 12 or less) or when
  none does (both orders in one file).

ISO 8601 dates (``2026-05-03``) are always read, whatever the format. Without
a format nothing else is: a file with ``03/05/2026`` is refused naming the
first such row, because it could be 3 May or 5 March.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from crmctl.core.clock import book_tz, localize
from crmctl.core.errors import CrmError
from crmctl.core.schema import Field

EXCEL_SYSTEMS = {"excel": "1900", "excel1904": "1904"}
_EXCEL_MAX = 2958465  # 9999-12-31 in the 1900 system
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})(?:[ T].*)?$")
_SERIAL = re.compile(r"^\d+(?:\.\d+)?$")


def check_formats(value: Any, where: str) -> tuple[str, ...]:
    """A mapping's ``date_format`` as a tuple (empty: ISO only); CrmError naming ``where`` if malformed."""
    if value in (None, ""):
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str) or not (item in EXCEL_SYSTEMS or "%" in item):
            raise CrmError(f"{where}: date_format takes strptime formats like \"%d/%m/%Y\", or excel "
                           "(Excel serial dates, 1900 system) or excel1904")
        if item in EXCEL_SYSTEMS and len(items) > 1:
            raise CrmError(f"{where}: date_format {item} stands alone; a file has serial dates or text dates")
    return tuple(items)


def excel_date(serial: Any, system: str = "excel") -> _dt.datetime:
    """The date and time (naive) of an Excel serial day number; ValueError if there is none.

    In the 1900 system day 1 is 1900-01-01 and Excel counts a 29 February 1900
    that never was (day 60, a bug kept from Lotus 1-2-3): days 1-59 are
    1899-12-31 + n, day 60 is refused, from day 61 on it is 1899-12-30 + n.
    In the 1904 system day 0 is 1904-01-01.
    """
    text = str(serial).strip()
    try:
        number = Decimal(text) if not isinstance(serial, float) else Decimal(repr(serial))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an Excel serial date (a day number like 45778)") from None
    days = int(number)
    if not number.is_finite() or number < 0 or days > _EXCEL_MAX:
        raise ValueError(f"{text!r} is not an Excel serial date (a day number like 45778)")
    if system == "excel1904":
        base = _dt.datetime(1904, 1, 1)
    elif days == 60:
        raise ValueError(f"{text!r} is 29 February 1900 in Excel's 1900 date system, a day that never was; "
                         "fix the cell")
    elif days == 0:
        raise ValueError(f"{text!r} is day 0 (1900-01-00) in Excel's 1900 date system; fix the cell")
    else:
        base = _dt.datetime(1899, 12, 31) if days < 60 else _dt.datetime(1899, 12, 30)
    seconds = int(((number - days) * 86400).to_integral_value())
    return base + _dt.timedelta(days=days, seconds=seconds)


def _iso(text: str) -> _dt.datetime | None:
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _read(text: Any, fmt: str) -> _dt.datetime | None:
    """``text`` read with one format (an ISO text is read as ISO), or None."""
    if fmt in EXCEL_SYSTEMS:
        if isinstance(text, (int, float)) and not isinstance(text, bool) or _SERIAL.match(str(text).strip()):
            try:
                return excel_date(text, fmt)
            except ValueError:
                return None
        return _iso(str(text).strip())
    try:
        return _dt.datetime.strptime(str(text).strip(), fmt)
    except ValueError:
        return _iso(str(text).strip())


def _parse(value: Any, formats: tuple[str, ...], what: str) -> _dt.datetime:
    """``value`` read with the one format in force (ValueError naming the formats if not)."""
    text = str(value).strip()
    readings = {r for r in (_read(value, f) for f in formats) if r is not None}
    if len(readings) > 1:
        raise ValueError(f"{text!r} reads differently with {' and '.join(formats)}; give one date_format")
    if readings:
        return readings.pop()
    iso = _iso(text)
    if iso is not None:
        return iso
    if any(f in EXCEL_SYSTEMS for f in formats):
        if _SERIAL.match(text) or isinstance(value, (int, float)):
            excel_date(value, formats[0])  # raises with the reason (day 60, out of range)
        raise ValueError(f"{text!r} is not {what}: give an Excel serial day number or YYYY-MM-DD")
    if not formats and _SERIAL.match(text) and len(text) <= 7:
        raise ValueError(f"{text!r} is not {what}; if it is an Excel serial date, pass --date-format excel "
                         "or set date_format: excel")
    shown = " or ".join([*formats, "YYYY-MM-DD"])
    raise ValueError(f"{text!r} is not {what} ({shown})")


def parse_date(value: Any, formats: tuple[str, ...]) -> str:
    """An import cell as an ISO date (``2026-05-03``); a time part is dropped. ValueError says why not."""
    return _parse(value, formats, "a date").date().isoformat()


def parse_datetime(value: Any, formats: tuple[str, ...], settings: Any) -> str:
    """An import cell as an ISO timestamp in the book's zone; a time without offset is a wall time there."""
    return localize(_parse(value, formats, "a date and time"), book_tz(settings)).isoformat()


# ------------------------------------------------------------------ one order per file

def _cells(rows: Iterable[tuple[int, dict[str, Any]]], column: str, split: str) -> Iterable[tuple[int, Any]]:
    for number, row in rows:
        value = row.get(column)
        if value in (None, ""):
            continue
        parts = [p.strip() for p in re.split(split, value) if p.strip()] if split and isinstance(value, str) else [value]
        for part in parts:
            yield number, part


def _refuse_unstated(file: str, column: str, number: int, value: Any) -> None:
    """Without a date format, a day/month/year cell stops the import (the order is not known)."""
    text = str(value).strip()
    m = _NUMERIC_DATE.match(text)
    if not m or _iso(text) is not None:
        return
    a, b = int(m.group(1)), int(m.group(2))
    day_first_ok, month_first_ok = 1 <= b <= 12 and 1 <= a <= 31, 1 <= a <= 12 and 1 <= b <= 31
    if not (day_first_ok or month_first_ok):
        return  # no reading at all: the row is rejected as not a date
    sep = text[len(m.group(1))]
    year = "%Y" if len(m.group(3)) == 4 else "%y"
    clock = text[m.end(3):].strip()
    clock_fmt = (" %H:%M:%S" if clock.count(":") == 2 else " %H:%M") if clock else ""
    day_first, month_first = f"%d{sep}%m{sep}{year}{clock_fmt}", f"%m{sep}%d{sep}{year}{clock_fmt}"
    if day_first_ok and month_first_ok:
        why = f"could be {a} {_month(b)} or {_month(a)} {b}" if a != b else "is not an ISO date (YYYY-MM-DD)"
        hint = f"--date-format '{day_first}' (day first) or '{month_first}' (month first)"
    else:
        why = "is not an ISO date (YYYY-MM-DD)"
        hint = f"--date-format '{day_first if day_first_ok else month_first}'"
    raise CrmError(f"{file}: row {number}, column {column}: {text!r} {why}; the file's date order is not stated, "
                   f"so nothing was imported: pass {hint}, or set date_format in the mapping")


def _month(n: int) -> str:
    return _dt.date(2000, n, 1).strftime("%B") if 1 <= n <= 12 else str(n)


def _settle(file: str, cells: list[tuple[str, int, Any]], formats: tuple[str, ...]) -> str:
    """The one format of ``formats`` that reads every readable cell; CrmError when none or two disagree."""
    fits = list(formats)
    failed: dict[str, tuple[str, int, Any]] = {}
    for column, number, value in cells:
        readings = {f: _read(value, f) for f in formats}
        if not any(r is not None for r in readings.values()):
            continue  # read by no format: that row is rejected on its own
        for f in list(fits):
            if readings[f] is None:
                fits.remove(f)
                failed.setdefault(f, (column, number, value))
    if not fits:
        shown = "; ".join(f"{f} cannot read row {n}, column {c} ({v!r})" for f, (c, n, v) in failed.items())
        raise CrmError(f"{file}: no one date order reads every row ({shown}); a file has one date order: "
                       "fix those rows, or pass --date-format and reject them with --skip-invalid")
    for column, number, value in cells:
        readings = {_read(value, f) for f in fits}
        if len(readings) > 1:
            raise CrmError(f"{file}: row {number}, column {column}: {str(value).strip()!r} reads differently with "
                           f"{' and '.join(fits)} and no row tells which; pass --date-format "
                           f"'{fits[0]}' (or another), or set one date_format in the mapping")
    return fits[0]


def settle(mapping: Any, rows: list[tuple[int, dict[str, Any]]], fields: dict[str, Field], file: str) -> Any:
    """``mapping`` (a :class:`crmctl.io.mapping.Mapping`) with each date column's formats narrowed to the
    one this file uses; ``fields`` maps each rule's field name to its :class:`Field`.

    Raises :class:`CrmError` naming the first row that leaves the order open
    (see the module docstring); nothing has been written by then.
    """
    groups: dict[tuple[str, ...], list[tuple[str, int, Any]]] = {}
    for rule in mapping.rules:
        f = fields[rule.field]
        kind = rule.kind or f.kind
        split = ""
        if kind == "list":
            kind, split = f.item, rule.split or "[,;]"
        if kind not in ("date", "datetime"):
            continue
        formats = rule.date_formats or mapping.date_formats
        for number, value in _cells(rows, rule.column, split):
            if not formats:
                _refuse_unstated(file, rule.column, number, value)
            groups.setdefault(formats, []).append((rule.column, number, value))
    chosen = {formats: (_settle(file, cells, formats),) for formats, cells in groups.items() if len(formats) > 1}
    if not chosen:
        return mapping
    rules = [replace(r, date_formats=chosen[r.date_formats]) if r.date_formats in chosen else r for r in mapping.rules]
    return replace(mapping, rules=rules, date_formats=chosen.get(mapping.date_formats, mapping.date_formats))
