"""Applying field values from the command line to a record's data.

``add`` and ``edit`` of every record type go through here: option values and
``--set key=value`` are parsed by each field's kind, references are resolved
from unique prefixes to full ids (which also proves they exist), and unknown
or command-owned fields are refused with a line that says what to do.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from crmctl.core.book import Book, now_iso
from crmctl.core.errors import ValidationError
from crmctl.core.schema import Field, Schema, custom_fields, parse_cli_value

Rule = Callable[[Book, str, dict[str, Any]], None]


def follow_chain(book: Book, rtype: str, key: str, origin: str, start: str | None, what: str) -> list[str]:
    """The ids reached from ``start`` by following ``key`` upwards; refuses a loop back.

    Accounts' parents, contacts' ``reports_to`` and users' managers are all such
    chains: a loop would make roll-ups and approval chains never end.
    """
    records = book.records(rtype)
    chain: list[str] = []
    current = start
    while current:
        if current == origin or current in chain:
            path = " -> ".join([origin, *chain, current])
            raise ValidationError(f"{what} {origin}: {key} {start} would make a loop ({path})")
        chain.append(current)
        upper = records.get(current)
        current = upper.get(key) if upper else None
    return chain


def split_set(expr: str) -> tuple[str, str]:
    if "=" not in expr:
        raise ValidationError(f"--set {expr!r}: write FIELD=VALUE")
    key, value = expr.split("=", 1)
    return key.strip(), value.strip()


def _field(book: Book, schema: Schema, name: str) -> Field:
    found = schema.field(name) or custom_fields(book.settings, schema.type).get(name)
    if found is None:
        known = ", ".join(f.name for f in schema.fields if not f.readonly)
        raise ValidationError(f"unknown field {name!r} for {schema.type}; fields are: {known}")
    if found.readonly:
        raise ValidationError(f"{name} is set by crmctl commands, not by hand")
    return found


def _resolve_refs(book: Book, f: Field, value: Any) -> Any:
    if not f.ref or value is None:
        return value
    # a merged record's id means its survivor, as everywhere (``Book.follow`` notes it)
    if isinstance(value, list):
        return list(dict.fromkeys(book.follow(f.ref, book.resolve(f.ref, v)) for v in value))
    return book.follow(f.ref, book.resolve(f.ref, value))


def apply_values(book: Book, schema: Schema, data: dict[str, Any], values: Mapping[str, str | None],
                 sets: Sequence[str] = (), unset: Sequence[str] = ()) -> dict[str, Any]:
    """A copy of ``data`` with option values, ``--set`` and ``--unset`` applied.

    Money is read last, in the currency the record ends up with, so
    ``--currency USD --amount '$1,234.50'`` means USD whichever comes first.
    """
    out = dict(data)
    pairs = [(k, v, f"--{k.replace('_', '-')}") for k, v in values.items() if v is not None]
    pairs += [(*split_set(s), f"--set {split_set(s)[0]}") for s in sets]
    money: list[tuple[Field, str, str]] = []
    for key, text, label in pairs:
        top, _, sub = key.partition(".")
        f = _field(book, schema, top)
        if sub:
            if f.kind != "map":
                raise ValidationError(f"{top} is not a mapping; use --set {top}=VALUE")
            inner = dict(out.get(top) or {})
            inner[sub] = _price(book, sub, text, label) if f.item == "price" else _plain_value(text)
            out[top] = inner
        elif f.kind == "money" and text != "":
            money.append((f, text, label))
        else:
            out[top] = _resolve_refs(book, f, parse_cli_value(f, text, book.settings, label=label))
    currency = str(out.get("currency") or book.settings.currency)
    for f, text, label in money:
        out[f.name] = parse_cli_value(f, text, book.settings, currency, label)
    for key in unset:
        f = _field(book, schema, key)
        if f.required:
            raise ValidationError(f"{key} is required and cannot be unset")
        out.pop(key, None)
    return out


def _price(book: Book, currency: str, text: str, label: str) -> str:
    """A unit price typed for ``prices.CNY``-style keys: the key is its currency, ``price_digits`` its decimals."""
    from crmctl.core.numbers import book_format, parse_amount, price_digits

    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationError(f"{label}: {currency!r} is not a currency code (write it like CNY or USD)")
    return str(parse_amount(text, currency=currency, fmt=book_format(book.settings), field=label,
                            digits=price_digits(book.settings)))


def _plain_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


def require(schema: Schema, data: Mapping[str, Any]) -> None:
    for f in schema.fields:
        if f.required and data.get(f.name) in (None, "", []):
            raise ValidationError(f"missing required --{f.name.replace('_', '-')} for the new {schema.title}")


def new_record(book: Book, schema: Schema, values: Mapping[str, str | None], sets: Sequence[str],
               explicit_id: str | None = None, defaults: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The id and data of a new record of ``schema`` (not yet written)."""
    data = apply_values(book, schema, dict(defaults or {}), values, sets)
    require(schema, data)
    if schema.id_kind == "slug":
        rid = book.new_slug(schema.type, data.get("name_en"), data.get("name"), explicit=explicit_id)
    else:
        if explicit_id:
            raise ValidationError(f"{schema.title} ids are generated; drop --id")
        rid = book.new_id(schema.type)
    data.setdefault("created", now_iso(book.settings))
    return rid, schema.order(data)
