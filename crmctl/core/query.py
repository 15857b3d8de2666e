"""Filtering, sorting and limiting rows for list commands (``--where``, ``--sort``, ``--limit``).

A field name or operator that is not there is an error naming it and the
fields there are, never an empty list: ``--where teir=A`` used to print
``(none)``, which reads as "no A accounts".
"""
from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Sequence

from crmctl.core.errors import CrmError

_NUMERIC = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_WHERE = re.compile(r"^([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*)$")
_OPERATOR_CHARS = "=!<>~"
OPERATORS = "=, !=, >, <, >=, <= and ~ for contains"
_MEANT = {"==": "=", "===": "=", "=>": ">=", "=<": "<=", "<>": "!=", "!==": "!=", "=~": "~", "~=": "~"}  # other tools' spellings


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


def parse_condition(expr: str) -> tuple[str, str, str]:
    """``FIELD OP VALUE`` from one ``--where``; refuses a missing or doubled operator (``tier==A``, ``tier=>A``)."""
    m = _WHERE.match(expr)
    if not m:
        raise CrmError(f"--where {expr!r}: write FIELD=VALUE (or FIELD OP VALUE with OP one of {OPERATORS})")
    name, op, value = m.group(1), m.group(2), m.group(3)
    if value and value[0] in _OPERATOR_CHARS:
        rest = value.lstrip(_OPERATOR_CHARS)
        typed = op + value[: len(value) - len(rest)]
        meant = _MEANT.get(typed)
        fix = f"write '{name}{meant}{rest}' (operators: {OPERATORS})" if meant else f"the operators are {OPERATORS}"
        raise CrmError(f"--where {expr!r}: {typed!r} is not an operator; {fix}")
    return name, op, value


def parse_where(exprs: Sequence[str]) -> Callable[[dict[str, Any]], bool]:
    """``field=value``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` or ``~`` (contains); all must hold."""
    tests = [parse_condition(expr) for expr in exprs]
    return lambda row: all(_compare(_get(row, k), op, v) for k, op, v in tests)


def check_fields(names: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], declared: Iterable[str] = ()) -> None:
    """Refuse any ``(name, option)`` whose field (``a`` of ``a.b``) is neither declared nor a key of a row.

    ``declared`` are the names rows may have even when none has them (a type's schema
    and custom fields, a list's computed columns). Raises CrmError naming the option,
    the bad field, the closest field and every field there is.
    """
    fields = list(dict.fromkeys(declared))
    known = set(fields)
    for name, option in names:
        top = name.split(".", 1)[0]
        if top in known or any(top in row for row in rows):
            continue
        fields += sorted({key for row in rows for key in row} - known)
        close = difflib.get_close_matches(top, fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CrmError(f"{option}: no field {top!r}{hint}; fields are: {', '.join(fields)}")


def apply(rows: list[dict[str, Any]], where: Sequence[str] = (), sort: Sequence[str] = (), limit: int | None = None,
          fields: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``rows`` filtered by ``where``, sorted by ``sort`` and cut to ``limit``.

    ``fields`` are the names the rows may have beyond their keys (see :func:`check_fields`);
    ``where`` and ``sort`` on any other name are an error, not an empty list.
    """
    names = [(parse_condition(expr)[0], f"--where {expr!r}") for expr in where]
    names += [(key.lstrip("-"), f"--sort {key!r}") for key in sort]
    check_fields(names, rows, fields)
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
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):   # report rows carry Decimals
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
