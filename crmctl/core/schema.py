"""Record schemas: what fields each record type has and how values are checked.

A schema is data (a tuple of :class:`Field`); ``validate`` returns messages
rather than raising, so ``crmctl check`` can report every problem at once and
commands can refuse a change with the first one.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
import weakref
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from crmctl.core.errors import ValidationError
from crmctl.core.ids import DOC_NUMBER, ID_PATTERN
from crmctl.core.money import currency_code, currency_problem, minor_unit
from crmctl.core.numbers import (MAX_AMOUNT, book_format, parse_amount, parse_number, parse_percent, price_digits,
                                 stored_problem)
from crmctl.core.settings import Settings
from crmctl.core.text import tax_id_problem

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HANDLE = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?")  # GitHub/GitLab @user or @org/team
PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,24}(?:\s*(?:ext|x|转)\s*[0-9]{1,6})?$")


@dataclass(frozen=True)
class Field:
    """One field of a record type."""

    name: str
    kind: str = "str"
    required: bool = False
    help: str = ""
    enum: tuple[str, ...] = ()          # fixed values
    enum_setting: str = ""              # or values from crm.yaml (dotted path)
    ref: str = ""                       # record type a ref (or list of refs) points to
    item: str = "str"                   # item kind of a list; "price" for a map of currency -> unit price
    option: bool = False                # exposed as --name on add/edit
    readonly: bool = False              # set by commands, not by --set
    amounts: tuple[str, ...] = ()       # records: the keys of each entry that hold money in the record's currency
    number: bool = False                # a document number: it names output files, so DOC_NUMBER only
    # required only in some states: (record data, settings) -> why it is required there, or "" when it is not
    required_if: Callable[[Mapping[str, Any], Settings], str] | None = None

    def allowed(self, settings: Settings) -> list[str]:
        return list(self.enum) if self.enum else settings.values(self.enum_setting) if self.enum_setting else []


@dataclass(frozen=True)
class Schema:
    """A record type: its folder, how ids are made, its fields and list columns."""

    type: str
    title: str
    id_kind: str                        # "slug" (master data) or "generated"
    fields: tuple[Field, ...]
    columns: tuple[str, ...] = ("id", "name")
    name_field: str = "name"
    # names people write that are not fields, and what to do instead (said in place of "unknown field")
    instead: tuple[tuple[str, str], ...] = ()
    fields_by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    # the fields :func:`screen_numbers` looks at, in schema order (reading 185,000 records walked every field of each)
    numeric: tuple[Field, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields_by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "numeric", tuple(f for f in self.fields if f.kind in NUMBER_KINDS
                                                  or f.amounts or (f.kind == "map" and f.item == "price")))

    @property
    def money_fields(self) -> tuple[str, ...]:
        """The names of the fields that hold an amount in the record's currency."""
        return tuple(f.name for f in self.fields if f.kind == "money")

    @property
    def nested_amounts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(field, keys)`` for lists of entries holding money (a quote's fees, an order's lines)."""
        return tuple((f.name, f.amounts) for f in self.fields if f.amounts)

    @property
    def price_maps(self) -> tuple[str, ...]:
        """The names of the fields that map a currency to a unit price (``prices``, ``cost``)."""
        return tuple(f.name for f in self.fields if f.kind == "map" and f.item == "price")

    def field(self, name: str) -> Field | None:
        return self.fields_by_name.get(name)

    def order(self, data: dict[str, Any]) -> dict[str, Any]:
        """The canonical key order for a new file: schema order, then the rest."""
        out = {f.name: data[f.name] for f in self.fields if f.name in data}
        out.update((k, v) for k, v in data.items() if k not in out)
        return out


# the kinds of a single stored number: :func:`number_problem` screens them (check, readers, ``_num`` alike)
NUMBER_KINDS = ("money", "decimal", "percent", "int")


# a type's name in its child tables' names (``quote_lines``) and their parent column (``quote_id``)
SINGULAR = {"users": "user", "accounts": "account", "contacts": "contact", "leads": "lead",
            "opportunities": "opportunity", "products": "product", "pricebooks": "pricebook", "quotes": "quote",
            "orders": "order", "payments": "payment", "visits": "visit", "imports": "import"}


def child_table(rtype: str, fname: str) -> str:
    """The SQL table of list field ``fname`` of ``rtype``: ``quote_lines``, ``opportunity_stage_history``."""
    return f"{SINGULAR[rtype]}_{fname}"


# the types a custom field may have in crm.yaml (``name: TYPE``), or ``{type: enum, values: [...]}``
CUSTOM_KINDS = ("str", "text", "int", "decimal", "money", "percent", "date", "datetime", "bool", "email", "phone",
                "currency", "list")
NUMERIC = ("money", "decimal", "percent", "int")  # the kinds with a ``_num`` column in SQL


def sql_columns(f: Field) -> tuple[str, ...]:
    """The columns field ``f`` has in SQL (``crmctl sql``, ``export --format sqlite``): its own, ``<name>_num`` for a
    number, and ``<name>_book`` / ``<name>_book_num`` (the amount in the book currency) for money."""
    if f.kind == "money":
        return f.name, f"{f.name}_num", f"{f.name}_book", f"{f.name}_book_num"
    if f.kind in NUMERIC:
        return f.name, f"{f.name}_num"
    return (f.name,)


def check_custom_fields(settings: Settings, source: Callable[[], str | None] | None = None) -> None:
    """Refuse crm.yaml's ``custom_fields`` unless each means exactly one thing: a known record type, a known field
    type, and a name no other column or table of the book has in SQL (``id``, a schema field, ``amount_num``,
    ``total_book``, another custom field's generated column or child table; SQLite names ignore case).

    One :class:`CrmError` naming ``crm.yaml:LINE`` (the line of ``custom_fields.TYPE.NAME`` in the text ``source()``
    gives, read only on the way to the error; the top-level key's line without it) and the valid choices.
    """
    from crmctl.core.errors import CrmError
    from crmctl.core.schemas import TYPES, get_schema

    declared = settings.get("custom_fields", {})
    if declared in (None, {}):
        return

    def where(*keys: str) -> str:
        from crmctl.core.yamlio import line_of  # only on the way to an error: a warm command imports no YAML

        text = source() if source else None
        line = (line_of(text, ("custom_fields", *keys)) if text else None) or settings.lines.get("custom_fields")
        return f"{settings.path}:{line}" if line else settings.path

    if not isinstance(declared, dict):
        raise CrmError(f"{where()}: custom_fields must be a mapping of record type to {{name: type}}")
    tables: dict[str, str] = {t: f"the table of {t}" for t in TYPES}
    for rtype in TYPES:  # the schemas' own child tables (one per list field)
        for f in get_schema(rtype).fields:
            if f.kind in ("list", "records"):
                tables[child_table(rtype, f.name).lower()] = f"the child table of {rtype}.{f.name}"
    for rtype, fields in declared.items():
        if rtype not in TYPES:
            raise CrmError(f"{where(str(rtype))}: custom_fields.{rtype}: {rtype!r} is not a record type; "
                           f"use one of {', '.join(TYPES)}")
        if not fields:
            continue
        if not isinstance(fields, dict):
            raise CrmError(f"{where(rtype)}: custom_fields.{rtype} must be a mapping of field name to type")
        schema = get_schema(rtype)
        taken = {"id": "the record's id"}
        for f in schema.fields:
            taken.update((c.lower(), f"the column {c} of {rtype}" if c != f.name else f"the field {c} of {rtype}")
                         for c in sql_columns(f))
        for name, spec in fields.items():
            here, key = where(rtype, str(name)), f"custom_fields.{rtype}.{name}"
            kind = spec.get("type") if isinstance(spec, dict) else spec
            if kind == "enum":
                values = spec.get("values") if isinstance(spec, dict) else None
                if not isinstance(values, list) or not values:
                    raise CrmError(f"{here}: {key}: an enum needs its values, e.g. {{type: enum, values: [a, b]}}")
            elif not isinstance(kind, str) or kind not in CUSTOM_KINDS:
                raise CrmError(f"{here}: {key}: {kind!r} is not a field type; use one of {', '.join(CUSTOM_KINDS)} "
                               "or {type: enum, values: [...]}")
            f = Field(str(name), "enum" if kind == "enum" else kind)
            for column in sql_columns(f):
                if column.lower() in taken:
                    what = "the name" if column == f.name else "its SQL column"
                    raise CrmError(f"{here}: {key}: {what} {column!r} is already {taken[column.lower()]} "
                                   "(SQL names ignore case); choose another name")
            for column in sql_columns(f):
                taken[column.lower()] = f"the column {column} of custom field {name}"
            if f.kind == "list":
                table = child_table(rtype, str(name))
                if table.lower() in tables:
                    raise CrmError(f"{here}: {key}: its child table {table!r} is already {tables[table.lower()]}; "
                                   "choose another name")
                tables[table.lower()] = f"the child table of custom field {rtype}.{name}"


def custom_fields(settings: Settings, rtype: str) -> dict[str, Field]:
    """crm.yaml's ``custom_fields.<rtype>`` as fields, by name."""
    declared = settings.get(f"custom_fields.{rtype}", {}) or {}
    out: dict[str, Field] = {}
    for name, spec in declared.items():
        if isinstance(spec, dict):
            out[name] = Field(name, str(spec.get("type", "str")), enum=tuple(str(v) for v in spec.get("values", [])))
        else:
            out[name] = Field(name, str(spec))
    return out


_NUMBER_FIELDS: "weakref.WeakKeyDictionary[Settings, dict[str, tuple[Field, ...]]]" = weakref.WeakKeyDictionary()


def number_fields(schema: Schema, settings: Settings) -> tuple[Field, ...]:
    """The fields :func:`screen_numbers` looks at in a record of ``schema``: the schema's own
    (:attr:`Schema.numeric`), then crm.yaml's custom fields of a number kind (:data:`NUMBER_KINDS`), so a custom
    ``qty: int`` or ``fee: money`` is screened by the very rule a core ``amount`` is. Remembered per settings
    (a whole-book read asks it once per record)."""
    memo = _NUMBER_FIELDS.setdefault(settings, {})
    if schema.type not in memo:
        extra = tuple(f for f in custom_fields(settings, schema.type).values()
                      if f.kind in NUMBER_KINDS and f.name not in schema.fields_by_name)
        memo[schema.type] = schema.numeric + extra
    return memo[schema.type]


def field_names(schema: Schema, settings: Settings) -> list[str]:
    """Every field a record of ``schema`` may have: ``id``, the schema's fields, then crm.yaml's custom fields."""
    return ["id", *schema.fields_by_name, *custom_fields(settings, schema.type)]


def check_value(f: Field, value: Any, settings: Settings, currency: str | None = None, country: str | None = None) -> str | None:
    """Why ``value`` is not fit for field ``f``, or None when it is.

    ``currency`` is the record's (default: the book's); money is held to its decimals. ``country`` is the
    record's: a tax id (kind ``taxid``) is checked against that country's schemes
    (:func:`crmctl.core.text.tax_id_problem`).
    """
    if value is None:
        return f"{f.name} is required" if f.required else None
    kind = f.kind
    try:
        if kind in ("str", "text"):
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                return f"{f.name} must be text"
        elif kind in NUMBER_KINDS:
            if isinstance(value, bool):
                return f"{f.name} must be a number"
            return number_problem(f, value, currency or settings.currency)
        elif kind == "date":
            _dt.date.fromisoformat(str(value))
        elif kind == "datetime":
            _dt.datetime.fromisoformat(str(value))
        elif kind == "bool":
            if not isinstance(value, bool):
                return f"{f.name} must be true or false"
        elif kind == "email":
            if not EMAIL.match(str(value)):
                return f"{f.name}: {value!r} is not an email address"
        elif kind == "phone":
            if not PHONE.match(str(value)):
                return f"{f.name}: {value!r} is not a phone number"
        elif kind == "taxid":
            return tax_id_problem(str(value), country)
        elif kind == "sshkey":
            from crmctl.core.signing import ssh_key_problem
            return ssh_key_problem(value, f.name)
        elif kind == "gpgkey":
            from crmctl.core.signing import gpg_key_problem
            return gpg_key_problem(value, f.name)
        elif kind == "handle":
            if not isinstance(value, str) or not HANDLE.fullmatch(value):
                return (f"{f.name}: {str(value)[:40]!r} is not a git host handle; write @name (or @org/team), "
                        "as CODEOWNERS names owners")
        elif kind == "currency":
            return currency_problem(value, f.name)
        elif kind == "enum":
            allowed = f.allowed(settings)
            if allowed and str(value) not in allowed:
                return f"{f.name}: {value!r} is not one of {', '.join(allowed)}"
        elif kind == "ref":
            if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
                return f"{f.name}: {value!r} is not a valid id"
        elif kind == "list":
            if not isinstance(value, list):
                return f"{f.name} must be a list"
            inner = Field(f.name, f.item, enum=f.enum, enum_setting=f.enum_setting, ref=f.ref)
            for n, item in enumerate(value, 1):
                problem = check_value(inner, item, settings)
                if problem:
                    return _entry_problem(f, n, item, problem)
        elif kind == "map":
            if not isinstance(value, dict):
                return f"{f.name} must be a mapping of key: value"
            if f.item == "price":
                bad_code = next((p for cur in value if (p := currency_problem(cur, f"{f.name}.{cur}"))), None)
                if bad_code:
                    return bad_code
                return next((p for cur, v in value.items() if (p := stored_problem(
                    v, field=f"{f.name}.{cur}", currency=str(cur), digits=price_digits(settings)))), None)
        elif kind == "records":
            if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
                return f"{f.name} must be a list of mappings"
    except (ValueError, ValidationError):
        return f"{f.name}: {value!r} is not a valid {kind}" + (" (use YYYY-MM-DD)" if kind == "date" else "")
    if f.number and not DOC_NUMBER.fullmatch(str(value)):
        return (f"{f.name}: {value!r} is not a document number (letters, digits and '-', like QT-2026-0007); "
                "it names the document's file")
    return None


def _entry_problem(f: Field, n: int, item: Any, problem: str) -> str:
    """What ``check`` says about entry ``n`` of list field ``f`` (``tags: [007, true, ~]``): the entry named, as the
    file spells it, and the fix."""
    from crmctl.core.output import item_text

    if item is None:
        return f"{f.name}: entry {n} is empty (~ or null); remove it"
    if f.item in ("str", "text") and problem == f"{f.name} must be text":
        return f'{f.name}: entry {n} ({item_text(item)}) is not text; write it quoted: "{item_text(item)}"'
    return f"{f.name}: entry {n}: {problem}"


_remembered_problem = functools.lru_cache(maxsize=1 << 16, typed=True)(stored_problem)


def _stored_problem(value: Any, **how: Any) -> str | None:
    """:func:`~crmctl.core.numbers.stored_problem`, remembered for texts and ints: a book repeats its amounts,
    and the answer depends on the value and ``how`` only (a whole-book read asked it 175,000 times)."""
    if type(value) is str or type(value) is int:
        return _remembered_problem(value, **how)  # type: ignore[no-any-return]
    return stored_problem(value, **how)


def number_problem(f: Field, value: Any, currency: str) -> str | None:
    """What ``check`` says about a stored number: money in ``currency`` (its decimals, not negative),
    a percentage (0 to 100), a plain decimal (signed) or a whole number (:func:`whole_number_problem`), all within
    :data:`MAX_AMOUNT`."""
    if isinstance(value, bool):
        return f"{f.name}: {value!r} is true/false, not a number"
    if f.kind == "int":
        return whole_number_problem(f.name, value)
    if f.kind == "money":
        return _stored_problem(value, field=f.name, currency=currency, digits=minor_unit(currency))
    if f.kind == "percent":
        return _stored_problem(value, field=f.name, limit=Decimal(101)) or (
            f"{f.name}: {value!r} must be between 0% and 100%" if Decimal(str(value).rstrip("%")) > 100 else None)
    return _stored_problem(value, field=f.name, allow_negative=True, limit=MAX_AMOUNT)


_WHOLE_TEXT = re.compile(r"[-+]?[0-9]+")


def whole_number_problem(name: str, value: Any) -> str | None:
    """Why the stored value of a whole-number field ``name`` is not one as crmctl writes it (a plain YAML integer:
    ``7``, ``-3``, below :data:`MAX_AMOUNT`), with what to write instead; None when it is. ``"7"`` (quoted),
    ``007`` (the YAML loader keeps a leading zero as text) and ``+7`` are refused ("write 7"), as money refuses
    ``"+1480000.00"`` and ``"0002600000.00"``: one value, one spelling."""
    if type(value) is int:
        return _stored_problem(value, field=name, allow_negative=True, limit=MAX_AMOUNT, digits=0)
    if isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip()):
        meant = int(value)
        why = ("has spaces around it" if value != value.strip() else "has a sign" if value.startswith("+")
               else "has leading zeros" if value.lstrip("-") != str(abs(meant)) else "is text (quoted)")
        return f"{name}: {value!r} {why}; write {meant}"
    if not isinstance(value, str):
        return f"{name} must be a whole number (write it like 12)"
    try:
        whole = Decimal(value.strip())
    except ArithmeticError:
        whole = Decimal("NaN")
    if not whole.is_finite():
        return f"{name}: {value!r} is not a whole number (write it like 12)"
    problem = _stored_problem(value, field=name, allow_negative=True, limit=MAX_AMOUNT)  # spaces, 1e6, too big
    if problem:
        return problem
    return (f"{name}: {value!r} is not a whole number (write {int(whole)})" if whole == whole.to_integral_value()
            else f"{name}: {value!r} is not a whole number (no decimals here)")


def field_number(f: Field, value: Any, currency: str) -> Decimal | None:
    """The decimal readers count of field ``f``'s stored ``value`` in a record in ``currency``; None when the reports
    leave it out (:func:`number_problem`, the rule :func:`screen_numbers` applies): ``crmctl sql``'s ``_num``."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or number_problem(f, value, currency):
        return None
    return Decimal(value)


class Bad(NamedTuple):
    """One stored number readers leave out (:func:`screen_numbers`): the record's ``field``, the one-line
    ``problem``, and ``where`` the value is, down to a list entry's key (``("installments", 3, "amount")``) so a
    message can name the value's own line (:func:`crmctl.core.yamlio.line_of`), not its list's key."""
    field: str
    problem: str
    where: tuple[str | int, ...]


def left_out_entries(f: Field, entries: Any, currency: str) -> set[int]:
    """The positions (from 1) of the entries of list field ``f`` (fees, instalments, payments applied) that
    :func:`screen_numbers` leaves out: an amount in one of them is bad. Empty for other fields."""
    if not f.amounts or not isinstance(entries, list):
        return set()
    scratch: list[Bad] = []
    return {n for n, e in enumerate(entries, 1) if _bad_entry(f, n, e, currency, scratch)}


def screen_numbers(schema: Schema, data: dict[str, Any], settings: Settings) -> tuple[dict[str, Any] | None, list[Bad]]:
    """What readers may add up of one record's stored numbers: ``(data, [Bad])``.

    A bad stored number (``"¥100"``, ``NaN``, ``0x10``, a negative or 3-decimal
    CNY amount, one beyond 10^15, a whole number written ``007``; see :func:`number_problem`)
    in a field of the schema or a custom number field of crm.yaml (:func:`number_fields`) is left out of the returned copy: the field, the fee or instalment entry
    holding it, or the currency of a price map. ``data`` is None when a
    required amount is bad (an order's total, a payment's amount): such a
    record is left out whole, like a file that does not parse. ``data`` is
    returned as it is when nothing is wrong (the common case costs no copy).
    """
    currency = str(data.get("currency") or settings.currency)
    bad: list[Bad] = []
    out: dict[str, Any] | None = None
    for f in number_fields(schema, settings):
        value = data.get(f.name)
        if value is None:
            continue
        if f.kind in NUMBER_KINDS:
            problem = number_problem(f, value, currency)
            if problem:
                bad.append(Bad(f.name, problem, (f.name,)))
                if f.required:
                    return None, bad
                out = dict(out or data)
                out.pop(f.name)
        elif f.amounts and isinstance(value, list):
            kept = [e for n, e in enumerate(value, 1) if not _bad_entry(f, n, e, currency, bad)]
            if len(kept) != len(value):
                out = {**(out or data), f.name: kept}
        elif f.kind == "map" and f.item == "price" and isinstance(value, dict):
            kept_prices = {}
            for cur, price in value.items():
                problem = _stored_problem(price, field=f"{f.name}.{cur}", currency=str(cur), digits=price_digits(settings))
                if problem:
                    bad.append(Bad(f.name, problem, (f.name, cur)))
                else:
                    kept_prices[cur] = price
            if len(kept_prices) != len(value):
                out = {**(out or data), f.name: kept_prices}
    return (out if out is not None else data), bad


def _bad_entry(f: Field, n: int, entry: Any, currency: str, bad: list[Bad]) -> bool:
    """Whether entry ``n`` of a list of money entries (fees, instalments) holds a bad amount (added to ``bad``)."""
    if not isinstance(entry, dict):
        return False
    found = False
    for key in f.amounts:
        if entry.get(key) is None:
            continue
        problem = _stored_problem(entry[key], field=f"{f.name} {n} {key}", currency=currency, digits=minor_unit(currency),
                                 allow_negative=f.name == "fees")  # a fee may lower the price (the policy decides)
        if problem:
            bad.append(Bad(f.name, problem, (f.name, n - 1, key)))
            found = True
    return found


def validate(schema: Schema, data: dict[str, Any], settings: Settings) -> Iterator[tuple[str, str]]:
    """Yield ``(field, message)`` for each problem in one record's data."""
    currency = str(data.get("currency") or settings.currency)
    country = str(data.get("country") or "") or None
    for f in schema.fields:
        if f.name in data or f.required:
            problem = check_value(f, data.get(f.name), settings, currency, country)
            if problem:
                yield f.name, problem
        elif f.required_if is not None:
            why = f.required_if(data, settings)
            if why:
                yield f.name, f"{f.name} is required {why}"
    extra: dict[str, Field] | None = None  # read from crm.yaml only when a record has a field beyond the schema
    for key, value in data.items():
        if key in schema.fields_by_name:
            continue
        if extra is None:
            extra = custom_fields(settings, schema.type)
        if key in extra:
            problem = check_value(extra[key], value, settings, currency, country)
            if problem:
                yield key, problem
        elif key in dict(schema.instead):
            yield key, f"{key!r} is not a field of {schema.type}: {dict(schema.instead)[key]}"
        else:
            yield key, f"unknown field {key!r} for {schema.type} (declare it under custom_fields.{schema.type} in crm.yaml)"


def references(schema: Schema, data: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Yield ``(field, type, id)`` for every reference the record makes."""
    for f in schema.fields:
        if not f.ref or f.name not in data or data[f.name] in (None, ""):
            continue
        value = data[f.name]
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield f.name, f.ref, item


def records_hint(name: str) -> str:
    """What to do instead of ``--set`` on a list of entries (a price book's entries, a quote's lines)."""
    return (f"{name} is a list of entries, which --set cannot reach into; edit them in the record's file "
            f"(records/TYPE/ID.yaml; numbers as crmctl writes them, like \"1.50\"), then run `crmctl check`")


def list_items(text: str) -> list[str]:
    """A list field's items from command-line text: ``a,b``, ``[a, b]`` or one item a line."""
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return [part.strip() for part in inner.replace("\n", ",").split(",") if part.strip()]


def parse_cli_value(f: Field, text: str, settings: Settings, currency: str | None = None, label: str = "") -> Any:
    """Turn command-line text into the value stored for field ``f`` (and check it).

    Numbers are read by :mod:`crmctl.core.numbers` under the book's rule; money
    in ``currency`` (default: the book's) comes back with its fixed decimals
    (``"1250000.00"``). ``label`` names the option in messages (``--amount``).
    """
    value: Any = text
    label = label or f.name
    if text == "":
        value = None
    elif f.kind == "int":
        value = int(parse_number(text, fmt=book_format(settings), field=label, digits=0))
    elif f.kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0"):
            raise ValidationError(f"{f.name}: {text!r} is not true or false")
        value = lowered in ("true", "yes", "1")
    elif f.kind == "money":
        value = str(parse_amount(text, currency=currency or settings.currency, fmt=book_format(settings), field=label))
    elif f.kind == "percent":
        value = str(parse_percent(text, fmt=book_format(settings), field=label))
    elif f.kind == "decimal":
        value = str(parse_number(text, fmt=book_format(settings), field=label))
    elif f.kind == "list":
        value = list_items(text)
    elif f.kind == "map":
        raise ValidationError(f"{f.name} is structured; set its parts as {f.name}.KEY=VALUE or edit the file")
    elif f.kind == "records":
        raise ValidationError(records_hint(f.name))
    elif f.kind == "email":
        value = text.strip().lower()
    elif f.kind == "currency":
        value = currency_code(text, label)
    if value is not None:
        problem = check_value(f, value, settings, currency)
        if problem:
            raise ValidationError(problem)
    return value
