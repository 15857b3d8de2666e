"""Reading import files: CSV (any delimiter, any common encoding), JSON arrays and NDJSON.

Everything is read from bytes, so stdin and files behave the same and the
import record can carry the input's sha256. Hostile input is refused with a
clear message instead of exhausting memory or time: cells are capped with
``csv.field_size_limit``, rows with a column cap, and bytes that are not in
the file's encoding are reported with their line and byte offset.

Encodings: UTF-8 (with or without BOM) and UTF-16/32 with a BOM are read at
once; other bytes go to charset-normalizer, which must find exactly one
plausible reading among the code pages spreadsheets write (else the file is
refused with "pass --encoding"). Excel's conventions are honoured: a first
line ``sep=;`` states the delimiter, trailing empty columns are not columns.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
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


# What spreadsheet programs save a "CSV" in when it is not UTF-8 (Excel on Windows writes the system's ANSI
# code page): detection chooses among these, or among crm.yaml `imports.encodings`; others need --encoding.
DETECTED = ("cp1252", "gb18030", "big5", "cp932", "cp949", "cp1250", "cp1251")
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_PLAUSIBLE = 0.1  # readings whose "chaos" (charset-normalizer's mess ratio) is this close to the best one's compete


def _strict(raw: bytes, encoding: str, hint: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CrmError(f"line {_line_of(raw, exc.start)}, byte {exc.start}: not valid {encoding}; {hint}") from None


def decode(raw: bytes, encoding: str | None = None, candidates: tuple[str, ...] = DETECTED) -> tuple[str, str]:
    """The text and the encoding used.

    ``encoding`` if given; else a byte order mark (UTF-8, UTF-16, UTF-32); else
    UTF-8 if the bytes are valid UTF-8; else the one reading charset-normalizer
    finds plausible among ``candidates``. When plausible readings disagree (short
    files, or code pages that differ in a few letters) the file is refused,
    showing the first line that differs under each reading, with "pass --encoding".
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CrmError(f"--encoding {encoding!r}: unknown encoding; try utf-8, gb18030 or cp1252") from None
        return _strict(raw, encoding, "check --encoding or save the file in one encoding"), encoding
    for bom, name in BOMS:
        if raw.startswith(bom):
            text = _strict(raw, name, "the byte order mark says otherwise; save the file in one encoding")
            return text, "utf-8" if name == "utf-8-sig" else name
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Mixed files (UTF-8 with a few GBK bytes pasted in) would decode as GB18030
    # into mojibake: when real UTF-8 multibyte text precedes the bad byte, refuse.
    head = raw[: utf8_error.start]
    if any(b >= 0x80 for b in head):
        raise CrmError(f"line {_line_of(raw, utf8_error.start)}, byte {utf8_error.start}: not UTF-8, although the file "
                       "before it is UTF-8 (mixed encodings); save the file in one encoding or pass --encoding")
    name = detect(raw, candidates)
    return _strict(raw, name, "pass --encoding"), name


def detect(raw: bytes, candidates: tuple[str, ...] = DETECTED) -> str:
    """The one plausible encoding of non-UTF-8 bytes among ``candidates`` (see :func:`decode`); CrmError if not sure."""
    from charset_normalizer import from_bytes  # ~50 ms to import: only for files that are not UTF-8
    from charset_normalizer.utils import iana_name

    order = [iana_name(c, False) for c in candidates]  # the names charset-normalizer reports (windows-1252 -> cp1252)
    results = list(from_bytes(raw, cp_isolation=order))
    if not results:
        raise CrmError(f"the file is not UTF-8 and reads as none of {', '.join(candidates)}; "
                       "pass --encoding (for example --encoding latin-1)")
    best = min(m.chaos for m in results)
    readings: dict[str, list[str]] = {}  # text -> the encodings that give it
    for match in results:
        if match.chaos <= best + _PLAUSIBLE:
            readings.setdefault(str(match), []).extend(e for e in match.could_be_from_charset if e in order)
    names = sorted((min(encs, key=order.index) for encs in readings.values() if encs), key=order.index)
    if len(names) == 1:
        return names[0]
    raise CrmError(f"cannot tell this file's encoding for sure: {_differences(raw, names)}; "
                   f"pass --encoding with the right one (--encoding {names[0]}, --encoding {names[1]}, ...)")


def _differences(raw: bytes, names: list[str]) -> str:
    """The first line the readings disagree on, as each reads it (``line 2 reads 'Wang,宝钢' in gb18030, ...``)."""
    for number, line in enumerate(raw.splitlines(), start=1):
        shown = {name: line.decode(name, errors="replace") for name in names}
        if len(set(shown.values())) > 1:
            return f"line {number} reads " + ", ".join(f"{text[:40]!r} in {name}" for name, text in shown.items())
    return "the readings disagree"


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
                    columns = _trim([c.strip() for c in cells])  # Excel writes empty trailing columns
                    _check_header(columns)
                    continue
                if not any(c.strip() for c in cells):
                    continue  # blank lines are not rows
                if len(cells) > len(columns):
                    cells = _trim(cells, len(columns))
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


def _trim(cells: list[str], keep: int = 0) -> list[str]:
    """``cells`` without the empty ones at the end (but at least ``keep`` cells)."""
    end = len(cells)
    while end > keep and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


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
         max_columns: int = MAX_COLUMNS, max_cell: int = MAX_CELL_BYTES, candidates: tuple[str, ...] = DETECTED) -> Table:
    """Read an import input (the file's bytes; ``name`` is for messages and format guessing).

    ``candidates`` are the encodings detection chooses among (see :func:`decode`).
    The table's ``notes`` say how the file was read when that is not plain
    UTF-8 (the encoding and how it was chosen, an Excel ``sep=`` line).
    """
    try:
        return _read(raw, name, fmt, encoding, delimiter, max_columns, max_cell, candidates)
    except CrmError as exc:  # every refusal names the file (an empty one, a UTF-16 one without a BOM...)
        message = str(exc)
        raise CrmError(message if message.startswith(f"{name}:") else f"{name}: {message}") from None


def _read(raw: bytes, name: str, fmt: str | None, encoding: str | None, delimiter: str | None,
          max_columns: int, max_cell: int, candidates: tuple[str, ...]) -> Table:
    fmt = fmt or guess_format(name, raw)
    if fmt not in FORMATS:
        raise CrmError(f"unknown input format {fmt!r}; use one of {', '.join(FORMATS)}")
    if b"\x00" in raw[: 1 << 20] and not encoding and not raw.startswith(tuple(bom for bom, _ in BOMS)):
        # UTF-16 files without a byte order mark are full of NULs
        raise CrmError(f"line {_line_of(raw, raw.index(bytes(1)))}: NUL byte (UTF-16 without a byte order mark?); "
                       "save the file as UTF-8 CSV (or pass --encoding utf-16)")
    text, used = decode(raw, encoding, candidates)
    notes = [] if used == "utf-8" else [f"{name}: read as {used} ({_how(raw, encoding)})"]
    if fmt == "csv":
        text, stated = _excel_sep(text, _delimiter(delimiter))
        if stated:
            notes.append(f"{name}: delimiter {stated!r} from the file's first line sep={stated}")
        columns, rows, delim = read_csv(text, stated or _delimiter(delimiter), max_columns, max_cell)
        return Table(columns, rows, fmt, used, delim, notes)
    rows = read_json(text, max_columns) if fmt == "json" else read_yaml(text, name, max_columns) if fmt == "yaml" \
        else read_ndjson(text, max_columns)
    return Table(_columns_of(rows), rows, fmt, used, notes=notes)


def _how(raw: bytes, option: str | None) -> str:
    if option:
        return "--encoding"
    if raw.startswith(tuple(bom for bom, _ in BOMS)):
        return "its byte order mark"
    return "detected, the only plausible reading; pass --encoding if that is wrong"


def _excel_sep(text: str, option: str | None) -> tuple[str, str]:
    """Excel's ``sep=;`` first line: the text without it and the delimiter it states ("" if none)."""
    m = re.match(r"sep=(.)\r?\n", text)
    if not m:
        return text, ""
    stated = m.group(1)
    if option and option != stated:
        raise CrmError(f"the file's first line says sep={stated} but --delimiter is {option!r}; drop one of them")
    return text[m.end():], stated


def _delimiter(option: str | None) -> str | None:
    if option is None or option == "":
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(option.lower(), option)
    if len(value) != 1:
        raise CrmError(f"--delimiter {option!r}: give one character (or tab, comma, semicolon, pipe)")
    return value
