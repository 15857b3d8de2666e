"""Mapping files: how the columns of an import file become a record's fields.

A mapping is a small YAML file (loaded with :mod:`crmctl.core.yamlio`)::

    type: opportunities              # optional; must match `crmctl import TYPE`
    date_format: "%d/%m/%Y"          # the file's date order, or excel; ISO dates always read (see io/dates.py)
    decimal_mark: ","                # how the file writes numbers (default: the book's; --decimal-mark wins)
    columns:                         # column -> field, or a list of targets, or a spec
      opportunity_id: ext_id
      close_date: [close_date, closed_on]
      product: {field: product, translate: {GTXPro: GTX Pro}}      # then by name -> SKU
      sales_agent: {field: owner, ref: users, by: name}
      Phone: {field: phone, optional: true}                        # may be absent from the file
    constants: {currency: USD}
    templates: {name: ["{product} for {account}", "{product}"]}   # {column} or {column|filter}; the first
                                                                   # whose columns are all filled is used
    dedupe: [ext_id]                                               # keys that make two rows one record
    stage_dates: {engage_date: qualification}   # opportunities: column -> the stage the deal entered that day
    aliases: {Opportunity Name: [Name, NAME]}    # other spellings of a column header (API names, exports)

This module only turns one row into field values (pure functions, no book);
references come out as :class:`Ref` placeholders that the importer resolves
against indexes it builds once.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from crmctl.core import yamlio
from crmctl.core.errors import CrmError, LoadError, ValidationError
from crmctl.core.ids import slugify
from crmctl.core.money import currency_code, money_str
from crmctl.core.numbers import NumberFormat, book_format, parse_amount, parse_number, parse_percent, price_digits
from crmctl.core.schema import Field, Schema, custom_fields
from crmctl.core.schemas import canonical
from crmctl.core.settings import Settings
from crmctl.core.text import fold
from crmctl.io.dates import check_formats, parse_date, parse_datetime

PRESETS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates", "mappings")
PRESETS = ("salesforce", "hubspot")
IGNORED_COLUMNS = ("row", "reason")  # what a rejected-rows CSV adds; re-importing it must work
_SPEC_KEYS = {"field", "kind", "translate", "otherwise", "date_format", "ref", "by", "missing", "required",
              "default", "split", "optional"}
_TOP_KEYS = {"type", "description", "date_format", "decimal_mark", "columns", "constants", "templates", "dedupe", "ignore",
             "stage_dates", "aliases"}
_TEMPLATE = re.compile(r"\{([^{}|]+)(?:\|([a-z_]+))?\}")
_TRUE = {"true", "yes", "y", "1", "t", "是", "x"}
_FALSE = {"false", "no", "n", "0", "f", "否", ""}
_NOTHING = object()


class RowError(Exception):
    """A cell that cannot become its field's value: the column and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Ref:
    """A reference still to be resolved: a record of ``type`` named ``text`` (by ``by``)."""

    type: str
    text: str
    by: str = ""
    missing: str = "reject"


@dataclass
class Rule:
    """One column -> one field, with how to read the cell."""

    column: str
    field: str
    kind: str = ""
    translate: dict[str, Any] = field(default_factory=dict)
    otherwise: Any = _NOTHING
    date_formats: tuple[str, ...] = ()
    ref: str = ""
    by: str = ""
    missing: str = "reject"
    required: bool = False
    default: Any = None
    split: str = ""
    optional: bool = False

    @property
    def top(self) -> str:
        return self.field.split(".", 1)[0]


@dataclass
class Mapping:
    """A whole mapping: rules, constants, templates and dedupe keys."""

    rules: list[Rule]
    constants: dict[str, Any] = field(default_factory=dict)
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> templates, first filled wins
    dedupe: list[str] | None = None
    date_formats: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    type: str = ""
    source: str = ""   # the file, "preset:NAME" or "" (columns named as fields)
    sha256: str = ""   # of the mapping file's bytes ("" for none): which mapping it was, whatever its name
    decimal_mark: str = ""      # "." or ","; "" = the book's
    decimal_origin: str = ""    # where decimal_mark was stated ("--decimal-mark", "FILE decimal_mark")
    stage_dates: dict[str, str] = field(default_factory=dict)   # column -> stage entered on the cell's day
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # header -> other spellings of it

    def columns(self) -> set[str]:
        used = {r.column for r in self.rules} | set(self.stage_dates)
        for template in (t for ts in self.templates.values() for t in ts):
            used.update(m.group(1).strip() for m in _TEMPLATE.finditer(template))
        return used


# ------------------------------------------------------------------ loading

def _rule(column: str, spec: Any, where: str) -> list[Rule]:
    if isinstance(spec, str):
        return [Rule(column, spec)]
    if isinstance(spec, list):
        return [r for item in spec for r in _rule(column, item, where)]
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
        raise CrmError(f"{where}: column {column!r}: give a field name, a list of them, or {{field: NAME, ...}}")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise CrmError(f"{where}: column {column!r}: unknown key {sorted(unknown)[0]!r}; "
                       f"keys are {', '.join(sorted(_SPEC_KEYS))}")
    translate = spec.get("translate") or {}
    if not isinstance(translate, dict):
        raise CrmError(f"{where}: column {column!r}: translate is a mapping of file value: book value")
    missing = str(spec.get("missing", "reject"))
    if missing not in ("reject", "blank"):
        raise CrmError(f"{where}: column {column!r}: missing is reject or blank")
    return [Rule(
        column=column, field=spec["field"], kind=str(spec.get("kind") or ""),
        translate={str(k): v for k, v in translate.items()}, otherwise=spec.get("otherwise", _NOTHING),
        date_formats=check_formats(spec.get("date_format"), where), ref=str(spec.get("ref") or ""),
        by=str(spec.get("by") or ""), missing=missing, required=bool(spec.get("required", False)),
        default=spec.get("default"), split=str(spec.get("split") or ""), optional=bool(spec.get("optional", False)),
    )]


def parse_mapping(data: dict[str, Any], source: str) -> Mapping:
    """A :class:`Mapping` from a mapping file's data (errors name the file)."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise CrmError(f"{source}: unknown key {sorted(unknown)[0]!r}; a mapping has {', '.join(sorted(_TOP_KEYS))}")
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise CrmError(f"{source}: columns is a mapping of column: field")
    rules = [r for col, spec in columns.items() for r in _rule(str(col), spec, source)]
    for key in ("constants", "templates"):
        if not isinstance(data.get(key) or {}, dict):
            raise CrmError(f"{source}: {key} is a mapping of field: value")
    stage_dates = data.get("stage_dates") or {}
    if not isinstance(stage_dates, dict) or not all(isinstance(v, str) for v in stage_dates.values()):
        raise CrmError(f"{source}: stage_dates is a mapping of column: stage id (the stage the deal entered that day)")
    aliases = data.get("aliases") or {}
    if not isinstance(aliases, dict) or not all(isinstance(v, (str, list)) for v in aliases.values()):
        raise CrmError(f"{source}: aliases is a mapping of column: [other spellings of its header]")
    if data.get("decimal_mark") not in (None, "", ".", ","):
        raise CrmError(f"{source}: decimal_mark is \".\" (1,234.50) or \",\" (1.234,50), not {data['decimal_mark']!r}")
    dedupe = data.get("dedupe")
    if dedupe is not None and not (isinstance(dedupe, list) and all(isinstance(k, str) for k in dedupe)):
        raise CrmError(f"{source}: dedupe is a list of keys (email, phone, name, name_company, name_account, ext_id or a field)")
    return Mapping(
        rules=rules, constants=dict(data.get("constants") or {}),
        templates={str(k): tuple(str(t) for t in (v if isinstance(v, list) else [v]))
                   for k, v in (data.get("templates") or {}).items()},
        dedupe=list(dedupe) if dedupe is not None else None, date_formats=check_formats(data.get("date_format"), source),
        ignore=tuple(str(c) for c in data.get("ignore") or ()), type=str(data.get("type") or ""), source=source,
        stage_dates={str(k): v for k, v in stage_dates.items()},
        aliases={str(k): tuple(str(x) for x in (v if isinstance(v, list) else [v])) for k, v in aliases.items()},
        decimal_mark=str(data.get("decimal_mark") or ""), decimal_origin=f"{source} decimal_mark",
    )


MAPPING_FILE = "a mapping file"  # what yamlio's messages call it
STDIN = "stdin"


def load_mapping(path: str, raw: bytes | None = None) -> Mapping:
    """The mapping in the file at ``path`` (the user's: it may be a pipe, ``--mapping <(...)``), or in ``raw`` (its
    bytes, read from stdin: ``path`` is then :data:`STDIN`). Its :attr:`Mapping.source` names it for the import
    record — ``"/dev/fd/63 (a pipe)"``, ``"stdin"`` when the path means nothing once the command ends — and
    :attr:`Mapping.sha256` is the hash of its bytes, which says which mapping it was whatever its name."""
    import hashlib

    try:
        if raw is None:
            raw = yamlio.read_path(path, path, plain=False)
        data, _ = yamlio.load_raw(raw, path, MAPPING_FILE, None if path == STDIN else path)
    except LoadError as exc:
        raise CrmError(f"mapping {exc}") from None
    mapping = parse_mapping(data, path)
    mapping.sha256 = hashlib.sha256(raw).hexdigest()
    mapping.source = path if path == STDIN else f"{path}{_not_a_file(path)}"
    return mapping


def _not_a_file(path: str) -> str:
    """``" (a pipe)"`` for a pipe (``<(...)``) and the like, whose name says nothing once the command ends; ``""``
    for a plain file."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return " (gone)"
    if stat.S_ISREG(mode):
        return ""
    return " (a pipe)" if stat.S_ISFIFO(mode) else " (not a plain file)"


def preset_path(name: str, rtype: str) -> str:
    return os.path.join(PRESETS_DIR, name, f"{canonical(rtype)}.yaml")


def load_preset(name: str, rtype: str) -> Mapping:
    path = preset_path(name, rtype)
    if name not in PRESETS:
        raise CrmError(f"--preset {name!r}: unknown; presets are {', '.join(PRESETS)}")
    if not os.path.exists(path):
        have = sorted(f[:-5] for f in os.listdir(os.path.dirname(path)) if f.endswith(".yaml"))
        raise CrmError(f"--preset {name} has no mapping for {canonical(rtype)}; it covers {', '.join(have)}")
    mapping = load_mapping(path)
    mapping.source = f"preset:{name}"
    return mapping


def identity_mapping(columns: list[str], schema: Schema, settings: Settings) -> Mapping:
    """Without a mapping file, each column names a field (``Close Date`` means close_date)."""
    known = {f.name for f in schema.fields} | set(custom_fields(settings, schema.type)) | {"id"}
    rules = []
    for col in columns:
        head, dot, part = col.strip().partition(".")  # prices.USD: the field is lowercase, the currency is not
        name = re.sub(r"[\s\-]+", "_", head.lower()) + dot + part
        top = name.split(".", 1)[0]
        if col in IGNORED_COLUMNS:
            continue
        if top not in known:
            raise CrmError(f"column {col!r} is not a field of {schema.type}; map it with --mapping FILE "
                           f"(fields: {', '.join(sorted(known))})")
        rules.append(Rule(col, name, missing="keep" if _back_link(schema, top) else "reject"))
    return Mapping(rules=rules)


def _back_link(schema: Schema, name: str) -> bool:
    """A read-only reference whose target points back (a quote's ``order``, written when the order was made
    from it): in an export the two records name each other, so one of them must come in first."""
    from crmctl.core.schemas import get_schema

    f = schema.field(name)
    return bool(f and f.readonly and f.ref and any(g.ref == schema.type for g in get_schema(f.ref).fields))


def field_of(schema: Schema, settings: Settings, name: str) -> Field | None:
    """The schema or custom field a target name (``prices.USD`` -> prices) writes."""
    top = name.split(".", 1)[0]
    if top == "id":
        return Field("id", "str")
    return schema.field(top) or custom_fields(settings, schema.type).get(top)


def resolve_aliases(mapping: Mapping, columns: list[str]) -> Mapping:
    """The mapping with each header it names replaced by the spelling ``columns`` use.

    A header missing from the file is read from the column spelled like it in another case (Data
    Loader's ``COMPANY`` for ``Company``) or from one of its aliases (``Name`` for ``Opportunity Name``,
    case ignored too); otherwise nothing changes and :func:`check_mapping` says what is missing.
    """
    by_fold = {c.casefold(): c for c in columns}
    rename: dict[str, str] = {}
    for header in sorted(mapping.columns() | set(mapping.ignore) | set(mapping.aliases)):
        if header in columns:
            continue
        others = mapping.aliases.get(header, ())
        found = next((by_fold[o.casefold()] for o in (header, *others) if o.casefold() in by_fold), None)
        if found is not None:
            rename[header] = found
    if not rename:
        return mapping

    def fill(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        return "{" + rename.get(name, name) + (f"|{m.group(2)}" if m.group(2) else "") + "}"

    return replace(mapping, rules=[replace(r, column=rename.get(r.column, r.column)) for r in mapping.rules],
                   templates={k: tuple(_TEMPLATE.sub(fill, t) for t in ts) for k, ts in mapping.templates.items()},
                   stage_dates={rename.get(c, c): s for c, s in mapping.stage_dates.items()},
                   ignore=tuple(rename.get(c, c) for c in mapping.ignore))


def check_mapping(mapping: Mapping, schema: Schema, settings: Settings, columns: list[str], file: str) -> None:
    """Refuse a mapping that names a column the file lacks or a field the type lacks."""
    where = mapping.source or "mapping"
    if mapping.type and canonical(mapping.type) != schema.type:
        raise CrmError(f"{where} maps {mapping.type}, not {schema.type}")
    present = set(columns)
    for rule in mapping.rules:
        if rule.column not in present and not rule.optional:
            raise CrmError(f"{where}: column {rule.column!r} is not in {file} (its columns: {', '.join(columns)})")
    if mapping.stage_dates:
        if schema.type != "opportunities":
            raise CrmError(f"{where}: stage_dates is for opportunities, not {schema.type}")
        ids = [str(s["id"]) for s in settings.get("pipeline.stages", []) or []]
        for column, stage_id in mapping.stage_dates.items():
            if column not in present:
                raise CrmError(f"{where}: stage_dates column {column!r} is not in {file} (its columns: {', '.join(columns)})")
            if stage_id not in ids:
                raise CrmError(f"{where}: stage_dates.{column}: {stage_id!r} is not a stage; stages are {', '.join(ids)}")
    for name, template in ((n, t) for n, ts in mapping.templates.items() for t in ts):
        for m in _TEMPLATE.finditer(template):
            if m.group(1).strip() not in present:
                raise CrmError(f"{where}: template for {name} uses column {m.group(1).strip()!r}, which is not in {file}")
            if m.group(2) and m.group(2) not in FILTERS:
                raise CrmError(f"{where}: template for {name}: unknown filter {m.group(2)!r}; filters are {', '.join(FILTERS)}")
    targets = [r.field for r in mapping.rules] + list(mapping.constants) + list(mapping.templates)
    for name in targets:
        f = field_of(schema, settings, name)
        if f is None:
            known = ", ".join(sorted({x.name for x in schema.fields} | set(custom_fields(settings, schema.type))))
            raise CrmError(f"{where}: unknown field {name!r} for {schema.type} (fields: {known}; "
                           f"declare others under custom_fields.{schema.type} in crm.yaml)")
        if "." in name and f.kind != "map":
            raise CrmError(f"{where}: {name!r}: {f.name} is not a mapping field, so it has no parts")


# ------------------------------------------------------------------ one row

FILTERS = {
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "title": lambda s: s.title(),
    "slug": slugify,
    "dots": lambda s: slugify(s).replace("-", "."),   # "Anna Snelling" -> anna.snelling (email local parts)
}


def first_filled(templates: tuple[str, ...], row: dict[str, Any]) -> str:
    """The first template whose columns all have a value in ``row`` (else the last one)."""
    for template in templates:
        if all(str(row.get(m.group(1).strip()) or "").strip() for m in _TEMPLATE.finditer(template)):
            return template
    return templates[-1]


def render_template(template: str, row: dict[str, Any]) -> str:
    """``{column}`` or ``{column|filter}`` filled from the row's raw cells; spaces tidied."""
    def fill(m: re.Match[str]) -> str:
        value = row.get(m.group(1).strip())
        text = "" if value is None else str(value)
        return FILTERS[m.group(2)](text) if m.group(2) and text else text
    return re.sub(r"\s+", " ", _TEMPLATE.sub(fill, template)).strip()


def _spelling(text: str) -> str:
    # "IN_PROGRESS", "In Progress" and "in-progress" are one value (HubSpot writes internal names and labels)
    return re.sub(r"[\s_\-]+", " ", fold(text)).strip()


def _lookup(rule: Rule, text: str) -> Any:
    """The book value ``text`` translates to: exact, then however cased or separated; else _NOTHING."""
    if text in rule.translate:
        return rule.translate[text]
    wanted = _spelling(text)
    return next((target for key, target in rule.translate.items() if _spelling(key) == wanted), _NOTHING)


def translate(rule: Rule, value: Any) -> Any:
    """A cell through the rule's ``translate`` table; a value not in it stays, or becomes ``otherwise``."""
    if not rule.translate or value is None:
        return value
    found = _lookup(rule, str(value))
    if found is not _NOTHING:
        return found
    return value if rule.otherwise is _NOTHING else rule.otherwise


def fell_back(rule: Rule, value: Any) -> bool:
    """Whether ``value`` is unknown to the rule's table and so became its ``otherwise`` (imports report it)."""
    return bool(rule.translate) and rule.otherwise is not _NOTHING and value is not None and \
        _lookup(rule, str(value)) is _NOTHING


def number_format(mapping: Mapping, settings: Settings) -> NumberFormat:
    """The rule an import reads numbers by: ``--decimal-mark``, else the mapping's, else the book's."""
    switch = "pass --decimal-mark {mark}"
    if mapping.decimal_mark:
        return NumberFormat(mapping.decimal_mark, origin=mapping.decimal_origin, switch=switch)
    return book_format(settings, switch=switch)


def convert(value: Any, kind: str, f: Field, rule: Rule, settings: Settings, formats: tuple[str, ...],
            fmt: NumberFormat = NumberFormat(".")) -> Any:
    """One cell's value as field ``f`` stores it; ValueError/ValidationError say why not.

    Numbers are read under ``fmt``; money is left as text here and read by
    :func:`_read_money` once the row's currency is known.
    """
    if kind in ("str", "text", "phone", "taxid"):
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind == "email":
        return str(value).strip().lower()
    if kind == "currency":  # eur -> EUR; EURO, ¥ and ZZZ are refused (ISO 4217)
        return currency_code(str(value), f.name)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        return int(parse_number(value, fmt=fmt, field=f.name, digits=0))
    if kind == "money":
        return value
    if kind == "percent":
        return str(parse_percent(value, fmt=fmt, field=f.name))
    if kind == "decimal":
        return str(parse_number(value, fmt=fmt, field=f.name))
    if kind == "date":
        return parse_date(value, rule.date_formats or formats)
    if kind == "datetime":
        return parse_datetime(value, rule.date_formats or formats, settings)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        lowered = fold(str(value))
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ValueError(f"{value!r} is not true or false (yes/no, 1/0)")
    if kind == "enum":
        allowed = f.allowed(settings)
        text = str(value)
        if allowed and text not in allowed:
            wanted = re.sub(r"[\s\-]+", "_", fold(text))
            for option in allowed:
                if re.sub(r"[\s\-]+", "_", fold(option)) == wanted:
                    return option
        return text
    if kind == "ref":
        return Ref(rule.ref or f.ref, str(value), rule.by, rule.missing)
    if kind in ("map", "records"):
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError(f"not valid JSON for {f.name}") from None
        return value
    return value


def _list_cell(text: str, split: str) -> list[Any]:
    """A list cell: a JSON array (as ``crmctl export`` writes lists of values with separators in them), else
    parts split on ``split`` (default ``,`` or ``;``)."""
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("starts with [ but is not a JSON array") from None
        if isinstance(parsed, list):
            return parsed
    return [part.strip() for part in re.split(split or "[,;]", text) if part.strip()]


def _set(data: dict[str, Any], name: str, value: Any) -> None:
    top, _, sub = name.partition(".")
    if sub:
        inner = data.setdefault(top, {})
        if isinstance(inner, dict):
            inner[sub] = value
    else:
        data[top] = value


def apply_row(mapping: Mapping, row: dict[str, Any], schema: Schema, settings: Settings,
              fields: dict[str, Field], fallbacks: dict[tuple[str, str, str], int] | None = None
              ) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str]]]:
    """One row's data, which column each field came from, and every (column, reason) wrong with it.

    ``fallbacks`` counts each (column, value, otherwise) where a value not in a ``translate`` table
    became the rule's ``otherwise``, so the import can say so.

    ``fields`` maps each target name to its Field (see :func:`field_of`), looked up once per import.
    """
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    fmt = number_format(mapping, settings)
    for name, value in mapping.constants.items():
        _set(data, name, value)
        origin[name.split(".")[0]] = f"constants.{name}"
    if mapping.templates:
        # templates see the translated values (GTXPro -> GTX Pro), not the typos
        shown = dict(row)
        for rule in mapping.rules:
            if rule.translate and isinstance(row.get(rule.column), str):
                shown[rule.column] = translate(rule, row[rule.column].strip())
    for name, choices in mapping.templates.items():
        text = render_template(first_filled(choices, shown), shown)
        if text:
            _set(data, name, text)
            origin[name.split(".")[0]] = name
    for rule in mapping.rules:
        value = row.get(rule.column)
        if isinstance(value, str):
            value = value.strip() or None
        if fallbacks is not None and fell_back(rule, value):
            key = (rule.column, str(value), str(rule.otherwise))
            fallbacks[key] = fallbacks.get(key, 0) + 1
        value = translate(rule, value)
        if value in (None, "") and rule.default is not None:
            value = rule.default
        if value in (None, "", []):
            if rule.required:
                errors.append((rule.column, f"{rule.column} is empty"))
            continue
        f = fields[rule.field]
        kind = rule.kind or f.kind
        try:
            if kind == "list" and not isinstance(value, list):
                value = _list_cell(str(value), rule.split)
            if kind == "list":
                inner = Field(f.name, f.item, enum=f.enum, enum_setting=f.enum_setting, ref=f.ref)
                converted: Any = [convert(v, f.item, inner, rule, settings, mapping.date_formats, fmt) for v in value]
            else:
                converted = convert(value, kind, f, rule, settings, mapping.date_formats, fmt)
        except (ValueError, ValidationError) as exc:
            # our number parser names the field itself; the others say only what is wrong
            errors.append((rule.column, str(exc) if isinstance(exc, ValidationError) else f"{f.name}: {exc}"))
            continue
        _set(data, rule.field, converted)
        origin[rule.top] = rule.column
    errors += _read_money(mapping, data, fields, settings, fmt)
    return data, origin, errors


def _read_money(mapping: Mapping, data: dict[str, Any], fields: dict[str, Field], settings: Settings,
                fmt: NumberFormat) -> list[tuple[str, str]]:
    """Money cells as files keep them, once the row's currency is known; ``(column, reason)`` for each refused.

    ``amount`` is in the row's ``currency`` (default: the book's) with its fixed
    decimals; ``prices.USD`` is a unit price in USD with up to ``price_digits``.
    A cell that had a column-to-field kind of its own (``kind: money``) counts too.
    """
    errors: list[tuple[str, str]] = []
    for rule in mapping.rules:
        f = fields[rule.field]
        top, _, sub = rule.field.partition(".")
        price = f.item == "price" and bool(sub)
        if (rule.kind or f.kind) != "money" and not price:
            continue
        holder = data.get(top) if sub else data
        key = sub or top
        if not isinstance(holder, dict) or holder.get(key) is None:
            continue
        currency = sub if re.fullmatch(r"[A-Z]{3}", sub) else str(data.get("currency") or settings.currency)
        try:
            value = parse_amount(holder[key], currency=currency, fmt=fmt, field=rule.field,
                                 digits=price_digits(settings) if price else None)
        except ValidationError as exc:
            holder.pop(key)
            errors.append((rule.column, str(exc)))
            continue
        holder[key] = str(value) if price else money_str(value, currency)
    return errors
