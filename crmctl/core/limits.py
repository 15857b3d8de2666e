"""The numeric settings in crm.yaml: the one place they are judged and read.

A negative lock timeout, a cadence of a million days or ``validity_days: soon``
used to surface as "internal error (ValueError ...)" deep inside whichever
command first did arithmetic with it, and ``overdue_grace_days: 007`` or
``tax.categories.standard: "013"`` was read as 7 and 13 by the commands while
``check`` refused (or passed) it. Every number crm.yaml holds is listed in
:data:`NUMBERS` once, with its range; :func:`number` is the one rule a value
must meet (written as crmctl writes numbers: ``7``, ``"13"``, ``"12.5"`` — no
leading zeros, signs, spaces or separators — and within range).

* :func:`problems` lists each such setting that breaks the rule, with its line;
  the book's settings refuse the first with one line
  (``crm.yaml:LINE: key: ...``) for every command, and ``crmctl check`` reports
  each once and checks the rest of the book with the default in its place
  (:func:`screened`);
* :func:`read` is how code reads one of them (``read(settings,
  "payments.overdue_grace_days")``): the value, judged by the same rule.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, NamedTuple, Union

from crmctl.core.errors import CrmError


class Limit(NamedTuple):
    """The range of one numeric setting: ``low`` to ``high`` ``unit``; whole numbers unless ``fraction``
    (``exact``: read as a Decimal, for percentages and money; else a float)."""

    low: float
    high: float
    unit: str
    fraction: bool = False
    empty_ok: bool = False  # null or "" means "off" for this key
    exact: bool = False


PERCENT = Limit(0, 100, "percent", fraction=True, exact=True)

# dotted key (``*``: every key of that mapping) -> its limit
NUMBERS: dict[str, Limit] = {
    "price_digits": Limit(0, 8, "decimals"),
    "limits.lock_timeout_seconds": Limit(0, 3600, "seconds", fraction=True),
    "limits.git_wait_seconds": Limit(0, 3600, "seconds", fraction=True),
    "limits.render_seconds": Limit(1, 3600, "seconds", fraction=True),
    "lead.pool.recycle_after_days": Limit(0, 36500, "days", empty_ok=True),
    "lead.pool.max_open_per_rep": Limit(1, 1_000_000, "leads", empty_ok=True),
    "duplicates.possible_score": Limit(0, 100, "points"),
    "payments.overdue_grace_days": Limit(0, 3650, "days"),
    "imports.max_columns": Limit(1, 100_000, "columns"),
    "imports.max_cell_bytes": Limit(1, 1 << 30, "bytes"),
    "quotes.validity_days": Limit(1, 3650, "days"),
    "pipeline.stages.*.probability": PERCENT,
    "tax.categories.*": PERCENT,
    "discount_policy.min_margin_percent": PERCENT,
    "discount_policy.authority.*.*": PERCENT,
    "account.lifecycle_rules.key_account_revenue_12m": Limit(0, 10 ** 15, "in the book's currency",
                                                            fraction=True, exact=True),
    "account.lifecycle_rules.dormant_after_days": Limit(1, 36500, "days"),
    "account.lifecycle_rules.churned_after_days": Limit(1, 36500, "days"),
    "visits.checkin_radius_m": Limit(1, 100_000, "metres"),
    "visits.entry_tolerance_min": Limit(0, 1440, "minutes"),
    "visits.types.*.duration_min": Limit(1, 1440, "minutes"),
    "visits.cadence.by_tier.*": Limit(0, 3650, "days"),
    "visits.cadence.by_lifecycle.*": Limit(0, 3650, "days"),
    "visits.cadence.default_days": Limit(0, 3650, "days"),
    "visits.follow_up_days": Limit(0, 3650, "days"),
    "visits.plan_max_days": Limit(1, 3660, "days"),
}

Number = Union[int, float, Decimal]


def _text(bound: float) -> str:
    """A range's bound as a user writes it: ``1000000000000000``, ``0.5``."""
    return str(int(bound)) if bound == int(bound) else f"{bound:g}"
_WRITTEN = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")  # 7, "13", "12.5": as crmctl writes numbers


def number(value: Any, limit: Limit, where: str) -> Number:
    """``value`` (a YAML number, or its text as crmctl writes it) as a number within ``limit``; CrmError naming
    ``where`` if not. ``007``, ``"013"``, ``"+7"``, ``" 7"`` and ``"1,000"`` are refused: each could be read
    more than one way, and ``check`` and the commands must read it one way."""
    shown = f"{where}: {str(value)!r}"
    wanted = (f"give {'a number' if limit.fraction else 'a whole number'} {'' if limit.unit.startswith('in ') else 'of '}"
              f"{limit.unit} from {_text(limit.low)} to {_text(limit.high)}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise CrmError(f"{shown} is not a number; {wanted}")
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise CrmError(f"{shown} is not a number; {wanted}") from None
    if not parsed.is_finite() or not math.isfinite(float(parsed)):
        raise CrmError(f"{shown} is not a finite number; {wanted}")
    if not limit.fraction and parsed != parsed.to_integral_value():
        raise CrmError(f"{shown} is not a whole number; {wanted}")
    if not limit.low <= parsed <= limit.high:
        raise CrmError(f"{shown} is out of range; {wanted}")
    if isinstance(value, str) and not _WRITTEN.fullmatch(value):
        raise CrmError(f"{shown} is not written as crmctl reads numbers (write {parsed.normalize():f}: "
                       f"no leading zeros, signs, spaces or separators)")
    return (parsed if limit.exact else float(parsed)) if limit.fraction else int(parsed)


Keys = tuple[Union[str, int], ...]  # mapping keys and list indexes, as yamlio.line_of takes them


def _values(data: Any, parts: list[str], path: Keys) -> Iterator[tuple[Keys, Any]]:
    """(keys, value) of every setting matching ``parts`` (``*`` matches each key of a mapping, each item of a list)."""
    if not parts:
        yield path, data
        return
    head, rest = parts[0], parts[1:]
    if isinstance(data, list) and head == "*":
        for i, item in enumerate(data):
            yield from _values(item, rest, (*path, i))
        return
    if not isinstance(data, dict):
        return
    keys = list(data) if head == "*" else [head] if head in data else []
    for key in keys:
        yield from _values(data[key], rest, (*path, str(key)))


def _child(node: Any, key: str | int) -> Any:
    """``node``'s item ``key`` (a list's index, or a mapping's key read as text: YAML's ``13:`` is ``"13"``), or None."""
    if isinstance(node, list):
        index = int(key) if str(key).isdigit() else len(node)
        return node[index] if index < len(node) else None
    if isinstance(node, dict):
        return node[key] if key in node else next((v for k, v in node.items() if str(k) == str(key)), None)
    return None


def _limit(dotted: str) -> Limit:
    """The limit of the setting ``dotted`` (``tax.categories.service``: ``tax.categories.*``'s)."""
    parts = dotted.split(".")
    for pattern, limit in NUMBERS.items():
        shape = pattern.split(".")
        if len(shape) == len(parts) and all(a in ("*", b) for a, b in zip(shape, parts)):
            return limit
    raise KeyError(f"{dotted} is not a numeric setting (crmctl.core.limits.NUMBERS)")


class Problem(NamedTuple):
    """One numeric setting that breaks its rule: ``keys`` its path in crm.yaml, ``message`` one line (no place)."""

    keys: Keys
    message: str


def problems(data: dict[str, Any]) -> list[Problem]:
    """Each numeric setting of ``data`` (crm.yaml merged with the defaults) that :func:`number` refuses."""
    found = []
    for pattern, limit in NUMBERS.items():
        for keys, value in _values(data, pattern.split("."), ()):
            if limit.empty_ok and value in (None, ""):
                continue
            try:
                number(value, limit, ".".join(map(str, keys)))
            except CrmError as exc:
                found.append(Problem(keys, str(exc)))
    return found


def place(problem: Problem, file: str, lines: dict[str, int] | None, text: Any = None) -> tuple[int | None, str]:
    """``(line, message)`` of ``problem`` in ``file``: the value's own line when ``text()`` gives crm.yaml's text,
    else its top-level key's."""
    line = None
    if text is not None:
        from crmctl.core.yamlio import line_of

        source = text()
        line = line_of(source, problem.keys) if source else None
    return line or (lines or {}).get(str(problem.keys[0])), problem.message


def check(data: dict[str, Any], file: str = "crm.yaml", lines: dict[str, int] | None = None, text: Any = None) -> None:
    """Refuse the first numeric setting of ``data`` (merged crm.yaml) that breaks its rule, with its line."""
    found = problems(data)
    if found:
        line, message = place(found[0], file, lines, text)
        more = f" ({len(found) - 1} more: `crmctl check` lists them)" if len(found) > 1 else ""
        raise CrmError(f"{file}:{line}: {message}{more}" if line else f"{file}: {message}{more}")


def screened(data: dict[str, Any], found: list[Problem], default: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each refused setting of ``found`` replaced by its ``default`` (left out where there is none, or
    where it is inside a list),
    so ``crmctl check`` reports each once and checks the rest of the book as if it were not there."""
    import copy

    out = copy.deepcopy(data)
    for keys, _ in found:
        node, base = out, default
        for key in keys[:-1]:
            node, base = _child(node, key), _child(base, key)
        last = next(k for k in node if str(k) == str(keys[-1]))
        # a list's items are the book's own (its stages): the template's item at that index is another
        fallback = None if any(isinstance(k, int) for k in keys) else _child(base, keys[-1])
        if fallback is not None:
            node[last] = fallback
        else:
            del node[last]
    return out


def read(settings: Any, dotted: str, default: Any = None) -> Any:
    """The numeric setting ``dotted`` (a key of :data:`NUMBERS`, ``*`` filled in: a mapping's key or a list's
    index, ``pipeline.stages.2.probability``) as a number its rule allows:
    int for whole numbers, Decimal for percentages and money, float for seconds; ``default`` when unset (or
    empty where that means "off"). CrmError naming crm.yaml and the key when the value breaks the rule."""
    limit = _limit(dotted)
    value: Any = settings.data
    for part in dotted.split("."):
        value = _child(value, part)
    if value is None or (limit.empty_ok and value == ""):
        return default
    path = getattr(settings, "path", "crm.yaml")
    line = (getattr(settings, "lines", None) or {}).get(dotted.split(".", 1)[0])
    return number(value, limit, f"{path}:{line}: {dotted}" if line else f"{path}: {dotted}")
