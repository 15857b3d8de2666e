"""Applying field values from the command line to a record's data.

``add`` and ``edit`` of every record type go through here: option values and
``--set key=value`` are parsed by each field's kind, references are resolved
from unique prefixes to full ids (which also proves they exist), and unknown
or command-owned fields are refused with a line that says what to do.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from crmctl.core.book import Book, now_iso
from crmctl.core.errors import ValidationError
from crmctl.core.money import currency_code
from crmctl.core.schema import Field, Schema, custom_fields, parse_cli_value, records_hint

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
                 sets: Sequence[str] = (), unset: Sequence[str] = (), adds: Sequence[str] = (),
                 removes: Sequence[str] = ()) -> dict[str, Any]:
    """A copy of ``data`` with option values, ``--set``, ``--add``/``--remove`` (one item of a list field) and
    ``--unset`` applied.

    Money is read last, in the currency the record ends up with, so
    ``--currency USD --amount '$1,234.50'`` means USD whichever comes first. A field given twice (``--set k=A
    --set k=B``, or an option and ``--set``) is refused: the second would silently replace the first.
    """
    out = dict(data)
    pairs = [(k, v, f"--{k.replace('_', '-')}") for k, v in values.items() if v is not None]
    pairs += [(*split_set(s), f"--set {split_set(s)[0]}") for s in sets]
    given: dict[str, str] = {}
    for key, _, label in pairs:
        if key in given:
            hint = (f"; a list takes all its items in one --set {key}=A,B (or --add {key}=B)"
                    if _field(book, schema, key.partition(".")[0]).kind == "list" else "")
            raise ValidationError(f"{label} is given twice (also {given[key]}); the second would replace the first"
                                  + hint)
        given[key] = label
    money: list[tuple[Field, str, str]] = []
    for key, text, label in pairs:
        top, _, sub = key.partition(".")
        f = _field(book, schema, top)
        if sub:
            if f.kind == "records":
                raise ValidationError(f"--set {key}: {records_hint(top)}")
            if f.kind != "map":
                raise ValidationError(f"{top} is not a mapping; use --set {top}=VALUE")
            inner = dict(out.get(top) or {})
            if f.item == "price":  # the key is a currency: prices.eur=5 is prices.EUR
                sub = currency_code(sub, label)
                inner[sub] = _price(book, sub, text, label)
            else:
                inner[sub] = _plain_value(text)
            out[top] = inner
        elif f.kind == "money" and text != "":
            money.append((f, text, label))
        else:
            out[top] = _resolve_refs(book, f, parse_cli_value(f, text, book.settings, label=label))
    for expr, adding in [*((a, True) for a in adds), *((r, False) for r in removes)]:
        key, text = split_set(expr)
        out[key] = _list_item(book, schema, out, key, text, adding)
    currency = str(out.get("currency") or book.settings.currency)
    for f, text, label in money:
        out[f.name] = parse_cli_value(f, text, book.settings, currency, label)
    for key in unset:
        f = _field(book, schema, key)
        if f.required:
            raise ValidationError(f"{key} is required and cannot be unset")
        out.pop(key, None)
    return out


def _list_item(book: Book, schema: Schema, data: Mapping[str, Any], key: str, text: str, adding: bool) -> list[Any]:
    """The list field ``key`` with one item added (``--add``) or removed (``--remove``); the item is read as the
    field reads one, so a key is compared as a key. An item already there (adding) or not there (removing) is
    refused."""
    label = f"--{'add' if adding else 'remove'} {key}"
    f = _field(book, schema, key)
    if f.kind != "list":
        raise ValidationError(f"{label}: {key} is not a list; use --set {key}=VALUE")
    items = list(data.get(key) or [])
    parsed = _resolve_refs(book, f, parse_cli_value(f, text, book.settings, label=label))
    if not parsed or len(parsed) != 1:
        raise ValidationError(f"{label}: give one item (use it again for another)")
    item = parsed[0]
    same = [i for i in items if _item_key(f, i) == _item_key(f, item)]
    if adding and same:
        raise ValidationError(f"{label}: {str(item)[:60]!r} is already in {key}")
    if not adding and not same:
        raise ValidationError(f"{label}: {str(item)[:60]!r} is not in {key} ({len(items)} item(s))")
    return [*items, item] if adding else [i for i in items if i not in same]


def _item_key(f: Field, item: Any) -> str:
    """What makes two items of a list field the same: an SSH key without its comment, a fingerprint without
    spaces, else the text."""
    from crmctl.core.signing import normal_fingerprint, ssh_key

    if f.item == "sshkey":
        return ssh_key(str(item))
    if f.item == "gpgkey":
        return normal_fingerprint(str(item))
    return str(item)


def _price(book: Book, currency: str, text: str, label: str) -> str:
    """A unit price typed for ``prices.CNY``-style keys: the key is its currency, ``price_digits`` its decimals."""
    from crmctl.core.numbers import book_format, parse_amount, price_digits

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
