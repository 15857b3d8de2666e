"""Reading import files: CSV (any delimiter, UTF-8 or GB18030), JSON arrays and NDJSON.

Everything is read from bytes, so stdin and files behave the same and the
import record can carry the input's sha256. Hostile input is refused with a
clear message instead of exhausting memory or time: cells are capped with
``csv.field_size_limit``, rows with a column cap, and bytes that are not in
the file's encoding are reported with their line and byte offset.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from crmctl.core.errors import CrmError

FORMATS = ("csv", "json", "ndjson", "yaml")
MAX_COLUMNS = 500
MAX_CELL_BYTES = 1024 * 1024
DELIMITERS = ",;\t|"
_SNIFF_BYTES = 4096  # csv.Sniffer's regexes are quadratic on hostile samples; the first lines tell enough


@dataclass
class Table:
    """Rows read from one input: the columns in file order and each row with its number."""

    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    format: str
    encoding: str = "utf-8"
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def guess_format(name: str, raw: bytes) -> str:
    """``csv``, ``json`` or ``ndjson`` from the file name, else from the first character."""
    lowered = name.lower()
    if lowered.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return "json"
    if head.startswith(b"{"):
        return "ndjson"
    return "csv"


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding used: ``encoding`` if given, else UTF-8 (BOM or not), else GB18030."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CrmError(f"--encoding {encoding!r}: unknown encoding; try utf-8, gb18030 or latin-1") from None
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise CrmError(f"line {_line_of(raw, exc.start)}, byte {exc.start}: not valid {encoding}; "
                           "check --encoding or save the file in one encoding") from None
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Mixed files (UTF-8 with a few GBK bytes pasted in) would decode as GB18030
    # into mojibake: when real UTF-8 multibyte text precedes the bad byte, refuse.
    head = raw[: utf8_error.start]
    if any(b >= 0x80 for b in head):
        raise CrmError(f"line {_line_of(raw, utf8_error.start)}, byte {utf8_error.start}: not UTF-8, although the file "
                       "before it is UTF-8 (mixed encodings); save the file in one encoding or pass --encoding")
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise CrmError(f"line {_line_of(raw, exc.start)}, byte {exc.start}: neither UTF-8 nor GB18030; "
                       "pass --encoding (for example latin-1)") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: csv.Sniffer on the first lines, else the commonest in the header."""
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    header = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if found in header:
            return found
    except csv.Error:
        pass
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unneutralise(cell: str) -> str:
    # our CSV export writes '=... for a cell that starts like a formula; undo it
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r\n":
        return cell[1:]
    return cell


def read_csv(text: str, delimiter: str | None = None, max_columns: int = MAX_COLUMNS,
             max_cell: int = MAX_CELL_BYTES) -> tuple[list[str], list[tuple[int, dict[str, Any]]], str]:
    """Columns, rows ``(row number as a spreadsheet shows it, {column: text or None})`` and the delimiter."""
    delim = delimiter or sniff_delimiter(text)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max_cell)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        rows: list[tuple[int, dict[str, Any]]] = []
        columns: list[str] = []
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                if len(cells) > max_columns:
                    raise CrmError(f"row {number}: {len(cells)} columns; at most {max_columns} are accepted "
                                   "(a wrong --delimiter or a damaged file?)")
                if number == 1:
                    columns = [c.strip() for c in cells]
                    _check_header(columns)
                    continue
                if not any(c.strip() for c in cells):
                    continue  # blank lines are not rows
                if len(cells) > len(columns):
                    raise CrmError(f"row {number}: {len(cells)} cells but the header has {len(columns)} columns")
                row = {col: (_unneutralise(cell.strip()) or None) for col, cell in zip(columns, cells, strict=False)}
                rows.append((number, row))
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a cell larger than {max_cell} bytes"
            raise CrmError(f"row {number + 1}: cannot read CSV: {reason}") from None
    finally:
        csv.field_size_limit(old_limit)
    if not columns:
        raise CrmError("the file is empty: a CSV import needs a header row naming the columns")
    return columns, rows, delim


def _check_header(columns: list[str]) -> None:
    seen: set[str] = set()
    for col in columns:
        if not col:
            raise CrmError("row 1: a column has no name; every column needs a header")
        if col in seen:
            raise CrmError(f"row 1: column {col!r} appears twice; rename one")
        seen.add(col)


def _object_row(obj: Any, number: int, what: str, max_columns: int) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise CrmError(f"{what} {number}: expected an object of field: value, got {type(obj).__name__}")
    if len(obj) > max_columns:
        raise CrmError(f"{what} {number}: {len(obj)} keys; at most {max_columns} are accepted")
    return {str(k): (v.strip() or None) if isinstance(v, str) else v for k, v in obj.items()}


def _columns_of(rows: list[tuple[int, dict[str, Any]]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def read_json(text: str, max_columns: int = MAX_COLUMNS) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CrmError(f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise CrmError("JSON nested too deeply") from None
    if not isinstance(data, list):
        raise CrmError("a JSON import is an array of objects: [{...}, {...}]")
    return [(n, _object_row(obj, n, "item", max_columns)) for n, obj in enumerate(data, start=1)]


def read_yaml(text: str, name: str, max_columns: int = MAX_COLUMNS) -> list[tuple[int, dict[str, Any]]]:
    """A YAML list of records (what ``crmctl export --format yaml`` writes), read as record files are."""
    from crmctl.core import yamlio
    from crmctl.core.errors import LoadError

    try:
        data = yamlio.loads_value(text, name)
    except LoadError as exc:
        raise CrmError(str(exc)) from None
    if not isinstance(data, list):
        raise CrmError("a YAML import is a list of records: - {field: value, ...}")
    return [(n, _object_row(_iso(obj), n, "item", max_columns)) for n, obj in enumerate(data, start=1)]


def _iso(value: Any) -> Any:
    """Dates a YAML reader made into objects, back to the ISO text records keep."""
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def read_ndjson(text: str, max_columns: int = MAX_COLUMNS) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CrmError(f"line {n}, column {exc.colno}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise CrmError(f"line {n}: JSON nested too deeply") from None
        rows.append((n, _object_row(obj, n, "line", max_columns)))
    return rows


def read(raw: bytes, name: str, fmt: str | None = None, encoding: str | None = None, delimiter: str | None = None,
         max_columns: int = MAX_COLUMNS, max_cell: int = MAX_CELL_BYTES) -> Table:
    """Read an import input (the file's bytes; ``name`` is for messages and format guessing)."""
    fmt = fmt or guess_format(name, raw)
    if fmt not in FORMATS:
        raise CrmError(f"unknown input format {fmt!r}; use one of {', '.join(FORMATS)}")
    if b"\x00" in raw[: 1 << 20] and not encoding:
        # UTF-16 files (Excel's "Unicode text") are full of NULs
        raise CrmError(f"line {_line_of(raw, raw.index(bytes(1)))}: NUL byte; save the file as UTF-8 CSV "
                       "(or pass --encoding utf-16)")
    text, used = decode(raw, encoding)
    if fmt == "csv":
        columns, rows, delim = read_csv(text, _delimiter(delimiter), max_columns, max_cell)
        return Table(columns, rows, fmt, used, delim)
    rows = read_json(text, max_columns) if fmt == "json" else read_yaml(text, name, max_columns) if fmt == "yaml" \
        else read_ndjson(text, max_columns)
    return Table(_columns_of(rows), rows, fmt, used)


def _delimiter(option: str | None) -> str | None:
    if option is None or option == "":
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(option.lower(), option)
    if len(value) != 1:
        raise CrmError(f"--delimiter {option!r}: give one character (or tab, comma, semicolon, pipe)")
    return value
