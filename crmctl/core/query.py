"""Filtering, sorting and limiting rows for list commands (``--where``, ``--sort``, ``--limit``)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Sequence

from crmctl.core.errors import CrmError

_NUMERIC = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_WHERE = re.compile(r"^([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*)$")


def _get(row: dict[str, Any], key: str) -> Any:
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _num(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _compare(value: Any, op: str, wanted: str) -> bool:
    if op == "~":
        return wanted.lower() in ("" if value is None else str(value)).lower()
    if isinstance(value, list):
        hit = wanted in [str(v) for v in value]
        return hit if op == "=" else not hit if op == "!=" else False
    text = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
    if op == "=":
        return text == wanted
    if op == "!=":
        return text != wanted
    left, right = _num(text), _num(wanted)
    a: Any = left if left is not None and right is not None else text
    b: Any = right if left is not None and right is not None else wanted
    if text == "":
        return False
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


def parse_where(exprs: Sequence[str]) -> Callable[[dict[str, Any]], bool]:
    """``field=value``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` or ``~`` (contains); all must hold."""
    tests = []
    for expr in exprs:
        m = _WHERE.match(expr)
        if not m:
            raise CrmError(f"--where {expr!r}: write FIELD=VALUE (or !=, >, <, >=, <=, ~ for contains)")
        tests.append((m.group(1), m.group(2), m.group(3)))
    return lambda row: all(_compare(_get(row, k), op, v) for k, op, v in tests)


def apply(rows: list[dict[str, Any]], where: Sequence[str] = (), sort: Sequence[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
    if where:
        keep = parse_where(where)
        rows = [r for r in rows if keep(r)]
    for key in reversed(list(sort)):
        desc = key.startswith("-")
        name = key.lstrip("-")
        if name == "id":  # ids are text and always present: the common case, kept cheap
            rows = sorted(rows, key=lambda row: str(row.get("id", "")), reverse=desc)
            continue

        def sort_key(row: dict[str, Any], name: str = name) -> tuple[int, Any, str]:
            # numbers (also numeric strings such as money) sort as numbers, before text; missing values last
            value = _get(row, name)
            if isinstance(value, int) and not isinstance(value, bool):
                return (0, Decimal(value), "")
            if isinstance(value, str) and _NUMERIC.match(value):
                return (0, Decimal(value), "")
            return (1 if value is not None else 2, Decimal(0), "" if value is None else str(value))

        rows = sorted(rows, key=sort_key, reverse=desc)
    if limit is not None:
        if limit < 0:
            raise CrmError("--limit must be 0 or more")
        rows = rows[:limit]
    return rows
