"""Filtering, sorting and limiting rows for list commands (``--where``, ``--sort``, ``--limit``).

A field name or operator that is not there is an error naming it and the
fields there are, never an empty list: ``--where teir=A`` used to print
``(none)``, which reads as "no A accounts".

A ``--where`` value is read by its field's kind (a :class:`Kind`), through the
same parsers as the field's own values: money and numbers by
:mod:`crmctl.core.numbers` under the book's decimal mark (``amount>900,000``
is 900000, ``amount<abc`` is refused); dates only as ISO ``YYYY-MM-DD``
(``03/05/2026`` and ``2026-13-01`` are refused); enums and statuses against
their allowed values, with a did-you-mean; references follow a merged
record's redirect (``account=<merged id>`` filters on the survivor, with a
note). Only ``~`` (contains) compares text as it is.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Sequence

from crmctl.core.errors import CrmError, ValidationError

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


@dataclass(frozen=True)
class Kind:
    """How one field's ``--where`` values are read: ``kind`` is ``money``, ``number``, ``int``, ``percent``,
    ``date``, ``datetime``, ``enum`` (one of ``allowed``), ``ref`` (an id of type ``ref``), ``currency``
    (an ISO 4217 code, upper-cased), ``bool`` or ``text``."""

    kind: str = "text"
    allowed: tuple[str, ...] = ()
    ref: str = ""


@dataclass
class Fields:
    """What ``--where``/``--sort`` over some rows may name, and how each one's values are read.

    ``names``: every field the rows may have (see :func:`check_fields`);
    ``kinds``: the kind of each typed field (others are inferred from the rows:
    all numbers -> ``number``, all ISO dates -> ``date``, else ``text``);
    ``fmt``: the book's :class:`~crmctl.core.numbers.NumberFormat`; ``currency``:
    the one currency whose sign a money value may carry; ``follow(type, id)``:
    the survivor of a merged record (noting the redirect); ``known(type, id)``:
    whether a record exists.
    """

    names: list[str] = field(default_factory=list)
    kinds: dict[str, Kind] = field(default_factory=dict)
    fmt: Any = None
    currency: str = ""
    follow: Callable[[str, str], str] | None = None
    known: Callable[[str, str], bool] | None = None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_KINDS = ("money", "number", "int", "percent", "decimal")
_ORDERED = (">", "<", ">=", "<=")


def _infer(rows: Sequence[dict[str, Any]], name: str) -> Kind:
    """The kind of a computed column from its values: numbers, ISO dates, else text."""
    values = [v for v in (_get(row, name) for row in rows) if v not in (None, "")]
    if values and all((isinstance(v, (int, float, Decimal)) and not isinstance(v, bool))
                      or (isinstance(v, str) and _NUMERIC.match(v)) for v in values):
        return Kind("number")
    if values and all(isinstance(v, str) and _ISO_DATE.match(v) for v in values):
        return Kind("date")
    return Kind("text")


def _read_date(text: str, label: str) -> _dt.date:
    """An ISO date (``2026-03-05``) and nothing else: ``03/05/2026`` could be March or May."""
    if not _ISO_DATE.match(text.strip()):
        raise CrmError(f"{label}: {text!r} is not a date crmctl reads here; write it as YYYY-MM-DD (like 2026-03-05)")
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CrmError(f"{label}: {text!r} is not a date (no such month or day)") from None


def _read_datetime(text: str, label: str) -> _dt.date | _dt.datetime:
    """A date, or an ISO date and time (``2026-03-05T09:30:00+08:00``)."""
    if _ISO_DATE.match(text.strip()):
        return _read_date(text, label)
    try:
        return _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CrmError(f"{label}: {text!r} is not a date or time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+08:00") from None


def _read_number(kind: Kind, text: str, label: str, ctx: Fields) -> Decimal:
    """A number typed in a filter, read like the field's own values (see core.numbers)."""
    from crmctl.core.money import MAX_NUMBER
    from crmctl.core.numbers import NumberFormat, parse_number

    fmt = ctx.fmt or NumberFormat(".")
    body = text.strip()
    if kind.kind == "percent" and body[-1:] in ("%", "％"):
        body = body[:-1]
    currency = ctx.currency or None if kind.kind == "money" else None
    mismatch = ("a filter compares amounts in every currency as plain numbers; drop the sign, and add "
                "--where currency=CODE to keep one currency's records")
    return parse_number(body, fmt=fmt, field=label, digits=0 if kind.kind == "int" else None, limit=MAX_NUMBER,
                        currency=currency, mismatch=mismatch)


def _read_enum(kind: Kind, text: str, label: str) -> str:
    """One of the field's values; a typo is refused with the closest value and all of them."""
    if not kind.allowed or text in kind.allowed:
        return text
    close = difflib.get_close_matches(text, kind.allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise CrmError(f"{label}: {text!r} is not a value of this field{hint}; it is one of {', '.join(kind.allowed)}")


def _read_ref(kind: Kind, text: str, label: str, ctx: Fields) -> str:
    """An id as the field holds it; a merged record's id becomes its survivor's (noted), an unknown id is refused."""
    if not text or ctx.known is None:
        return text
    if not ctx.known(kind.ref, text):
        from crmctl.core.schemas import get_schema

        raise CrmError(f"{label}: no {get_schema(kind.ref).title} {text!r} (ids are exact here)")
    return ctx.follow(kind.ref, text) if ctx.follow else text


def _wanted(kind: Kind, op: str, text: str, label: str, ctx: Fields) -> Any:
    """The value a filter compares with, read by the field's kind; refuses what the kind cannot mean."""
    if kind.kind in ("enum", "ref", "bool", "currency") and op in _ORDERED:
        raise CrmError(f"{label}: {op!r} does not order this field; use = or != (or ~ for contains)")
    if kind.kind in _NUMBER_KINDS:
        return _read_number(kind, text, label, ctx)
    if kind.kind == "date":
        return _read_date(text, label)
    if kind.kind == "datetime":
        return _read_datetime(text, label)
    if kind.kind == "enum":
        return _read_enum(kind, text, label)
    if kind.kind == "currency":  # eur is EUR, as the records store it; EURO is refused
        from crmctl.core.money import currency_code

        return currency_code(text, label)
    if kind.kind == "ref":
        return _read_ref(kind, text, label, ctx)
    if kind.kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no"):
            raise CrmError(f"{label}: {text!r} is not true or false")
        return "true" if lowered in ("true", "yes") else "false"
    return text


def _cell(kind: Kind, value: Any) -> Any:
    """A row's value as the kind compares it; None when it is missing or not of the kind (it matches nothing)."""
    if value is None or value == "":
        return None
    try:
        if kind.kind in _NUMBER_KINDS:
            from crmctl.core.money import to_decimal

            return to_decimal(str(value).rstrip("%") if kind.kind == "percent" else value)
        if kind.kind == "date":
            return _dt.date.fromisoformat(str(value)[:10])
        if kind.kind == "datetime":
            return _dt.datetime.fromisoformat(str(value))
    except (ValueError, ValidationError):
        return None
    return value


def _typed_compare(value: Any, op: str, wanted: Any) -> bool:
    """``value op wanted`` for typed values; a missing or unreadable value matches only ``!=``."""
    if value is None:
        return op == "!="
    if isinstance(wanted, _dt.datetime) and isinstance(value, _dt.datetime) and \
            (wanted.tzinfo is None) != (value.tzinfo is None):
        value = value.replace(tzinfo=None)  # a wall time typed without an offset: compare wall times
    elif isinstance(wanted, _dt.date) and not isinstance(wanted, _dt.datetime) and isinstance(value, _dt.datetime):
        value = value.date()
    return {"=": value == wanted, "!=": value != wanted, ">": value > wanted, "<": value < wanted,
            ">=": value >= wanted, "<=": value <= wanted}[op]


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


def parse_where(exprs: Sequence[str], ctx: Fields | None = None,
                rows: Sequence[dict[str, Any]] = ()) -> Callable[[dict[str, Any]], bool]:
    """``field=value``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` or ``~`` (contains); all must hold.

    Each value is read by its field's kind (``ctx.kinds``, else inferred from
    ``rows``) and refused with one line when the kind cannot mean it.
    """
    ctx = ctx or Fields()
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for expr in exprs:
        name, op, text = parse_condition(expr)
        kind = ctx.kinds.get(name) or _infer(rows, name)
        if op == "~" or kind.kind == "text":
            tests.append(lambda row, n=name, o=op, t=text: _compare(_get(row, n), o, t))
            continue
        wanted = _wanted(kind, op, text, f"--where {expr!r}", ctx)
        if kind.kind in ("enum", "ref", "bool", "currency"):
            tests.append(lambda row, n=name, o=op, w=wanted: _compare(_get(row, n), o, w))
            continue
        tests.append(lambda row, n=name, o=op, w=wanted, k=kind: _typed_compare(_cell(k, _get(row, n)), o, w))
    return lambda row: all(test(row) for test in tests)


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


def sort_name(key: str) -> str:
    """The field of one ``--sort`` key: ``tier`` or ``-tier`` (descending); ``--tier`` is refused."""
    if key.startswith("--"):
        raise CrmError(f"--sort {key!r}: one '-' before a field sorts it descending; write -{key.lstrip('-')}")
    return key[1:] if key.startswith("-") else key


def apply(rows: list[dict[str, Any]], where: Sequence[str] = (), sort: Sequence[str] = (), limit: int | None = None,
          fields: Iterable[str] | Fields = ()) -> list[dict[str, Any]]:
    """``rows`` filtered by ``where``, sorted by ``sort`` and cut to ``limit``.

    ``fields`` are the names the rows may have beyond their keys (see :func:`check_fields`),
    or a :class:`Fields` that also says how each field's values are read;
    ``where`` and ``sort`` on any other name are an error, not an empty list.
    """
    ctx = fields if isinstance(fields, Fields) else Fields(list(fields))
    names = [(parse_condition(expr)[0], f"--where {expr!r}") for expr in where]
    names += [(sort_name(key), f"--sort {key!r}") for key in sort]
    check_fields(names, rows, ctx.names)
    if where:
        keep = parse_where(where, ctx, rows)
        rows = [r for r in rows if keep(r)]
    for key in reversed(list(sort)):
        desc = key.startswith("-")
        name = sort_name(key)
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
