"""Planning a batch import: which rows create, update, duplicate or are rejected, and why.

:func:`plan_import` reads the book once (indexes by id, ext_id, name and the
dedupe keys are built up front, so no row scans the book), maps every row,
resolves references by name, matches duplicates in the book and within the
file, and validates each resulting record against its schema. It writes
nothing: the CLI puts the planned records in one transaction, so an import is
all-or-nothing and a re-run that finds nothing new changes nothing.
"""
from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from crmctl.core.book import Book
from crmctl.core.errors import CrmError
from crmctl.core.ids import ID_PATTERN, new_id, slugify
from crmctl.core.schema import Field, Schema, validate
from crmctl.core.schemas import get_schema
from crmctl.core.states import LeadStatus, is_closed, stage_ids
from crmctl.core.text import default_region, email_key, fold, name_key, phone_key, tax_key
from crmctl.io import dates
from crmctl.io.mapping import Mapping, Ref, apply_row, check_mapping, field_of, resolve_aliases
from crmctl.io.readers import Table
from crmctl.l2c.pipeline import imported_history

ON_DUPLICATE = ("skip", "update", "error")
# what makes two records one, per type, when neither the mapping nor crm.yaml says
DEFAULT_DEDUPE: dict[str, list[str]] = {
    "accounts": ["tax_id", "name"], "contacts": ["email", "phone", "name_account"], "users": ["email", "name"],
    "products": ["name"], "pricebooks": ["name"], "leads": ["email", "phone", "name_company"],
    "payments": ["order_ref"],   # one bank transfer is one receipt of its order (l2c.payments.check_ref)
}
# fields an import fills when the file does not
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {"leads": {"status": LeadStatus.NEW.value}, "products": {"type": "simple"}}


@dataclass
class Action:
    """One record to write: ``create`` or ``update`` (only when a value differs)."""

    op: str
    id: str
    data: dict[str, Any]
    row: int


@dataclass
class Rejected:
    """A row that cannot be imported: its number, its cells and every (column, reason)."""

    row: int
    cells: dict[str, Any]
    reasons: list[tuple[str, str]]


@dataclass
class Plan:
    """What an import would do, with its counts."""

    type: str
    actions: list[Action] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0
    duplicates: int = 0
    unmapped: list[str] = field(default_factory=list)
    # (column, value, otherwise) -> rows: values a translate table did not know, given its `otherwise`
    fallbacks: dict[tuple[str, str, str], int] = field(default_factory=dict)
    kept: list[tuple[str, str]] = field(default_factory=list)  # back links to records not in the book yet
    notes: list[str] = field(default_factory=list)  # said on stderr: how the file was read (its date order)

    @property
    def counts(self) -> dict[str, int]:
        return {"read": self.read, "created": sum(a.op == "create" for a in self.actions),
                "updated": sum(a.op == "update" for a in self.actions), "duplicates": self.duplicates,
                "rejected": len(self.rejected)}


# ------------------------------------------------------------------ keys

def dedupe_keys(rtype: str, mapping: Mapping, book: Book) -> list[str]:
    if mapping.dedupe is not None:
        return mapping.dedupe
    configured = book.settings.get(f"imports.dedupe_on.{rtype}")
    if configured is None and rtype == "leads":
        configured = book.settings.get("lead.dedupe_on")
    return list(configured) if configured is not None else DEFAULT_DEDUPE.get(rtype, [])


def record_keys(data: dict[str, Any], keys: Iterable[str], name_field: str, region: str = "") -> list[tuple[str, str]]:
    """The (key, value) pairs a record is known by, for dedupe; empty values give none.

    ``region``: phone numbers without ``+`` are read there (``core.text.default_region``).
    """
    out = []
    for key in keys:
        if key == "email":
            value = email_key(data.get("email"))
        elif key == "tax_id":
            value = tax_key(data.get("tax_id"))
        elif key == "phone":
            for part in ("phone", "mobile"):
                digits = phone_key(data.get(part), region)
                if len(digits) >= 5:
                    out.append(("phone", digits))
            continue
        elif key == "name":
            value = name_key(data.get(name_field))
        elif key == "order_ref":
            from crmctl.l2c.payments import ref_key

            ref = ref_key(data.get("ref"))
            value = f"{data.get('order')}|{ref}" if ref and data.get("order") else ""
        elif key in ("name_company", "name_account"):
            other = data.get("company" if key == "name_company" else "account")
            name = name_key(data.get(name_field))
            value = f"{name}|{name_key(other)}" if name and other else ""
        else:
            raw = data.get(key)
            value = fold(str(raw)) if raw not in (None, "") else ""
        if value:
            out.append((key, value))
    return out


class RefIndex:
    """Records of one type findable by id, ext_id, name or email — built once per import."""

    def __init__(self, book: Book, rtype: str) -> None:
        self.type = rtype
        self.schema = get_schema(rtype)
        self.ids: set[str] = set()
        self.by: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.memo: dict[tuple[str, str], str | CrmError] = {}  # the same names recur on thousands of rows
        for rec in book.live(rtype).values():
            self.add(rec.id, rec.data)

    def add(self, rid: str, data: dict[str, Any]) -> None:
        self.memo.clear()
        self.ids.add(rid)
        for f in (self.schema.name_field, "name_en", "name_zh", "short_name"):
            if data.get(f):
                self.by["name"][name_key(str(data[f]))].add(rid)
        if data.get("ext_id"):
            self.by["ext_id"][fold(str(data["ext_id"]))].add(rid)
        if data.get("email"):
            self.by["email"][email_key(str(data["email"]))].add(rid)

    def find(self, ref: Ref) -> str:
        """The id ``ref`` names; CrmError says why there is none or more than one."""
        key = (ref.by, ref.text)
        if key not in self.memo:
            try:
                self.memo[key] = self._find(ref)
            except CrmError as exc:
                self.memo[key] = exc
        found = self.memo[key]
        if isinstance(found, CrmError):
            raise CrmError(str(found))
        return found

    def _find(self, ref: Ref) -> str:
        title = self.schema.title
        text = ref.text.strip()
        if ref.by in ("", "id") and text.lower() in self.ids:
            return text.lower()
        order = [ref.by] if ref.by and ref.by != "id" else [] if ref.by == "id" else ["ext_id", "name", "email"]
        for by in order:
            key = name_key(text) if by == "name" else email_key(text) if by == "email" else fold(text)
            found = self.by.get(by, {}).get(key)
            if found:
                if len(found) > 1:
                    raise CrmError(f"{text!r} matches {len(found)} {self.type} ({', '.join(sorted(found)[:3])}); use the id")
                return next(iter(found))
        how = f" by {ref.by}" if ref.by else ""
        raise CrmError(f"no {title} {text!r}{how}; import the {self.type} first or fix the name")


# ------------------------------------------------------------------ planning

@dataclass
class _Row:
    number: int
    cells: dict[str, Any]
    data: dict[str, Any]
    origin: dict[str, str]
    reasons: list[tuple[str, str]]
    id: str = ""
    action: Action | None = None
    kept: list[tuple[str, str]] = field(default_factory=list)  # (type, id) back links to records still to come


def _resolve(value: Any, indexes: dict[str, RefIndex], only: str | None, skip: str | None,
             kept: list[tuple[str, str]]) -> Any:
    """Replace Ref placeholders (of type ``only``, or all but ``skip``) by ids; ``kept`` gets the back links
    left as given because their record is not in the book yet."""
    if isinstance(value, list):
        return [_resolve(v, indexes, only, skip, kept) for v in value]
    if isinstance(value, Ref) and (only is None or value.type == only) and value.type != skip:
        try:
            return indexes[value.type].find(value)
        except CrmError:
            if value.missing == "blank":
                return None
            if value.missing == "keep" and ID_PATTERN.match(value.text.strip()):
                kept.append((value.type, value.text.strip()))
                return value.text.strip()
            raise
    return value


def _resolve_row(row: _Row, indexes: dict[str, RefIndex], only: str | None = None, skip: str | None = None) -> None:
    for name in list(row.data):
        try:
            resolved = _resolve(row.data[name], indexes, only, skip, row.kept)
        except CrmError as exc:
            row.reasons.append((row.origin.get(name, name), f"{name}: {exc}"))
            continue
        if resolved is None or resolved == []:
            row.data.pop(name)
        else:
            row.data[name] = resolved


def _has_ref(value: Any, rtype: str) -> bool:
    return isinstance(value, Ref) and value.type == rtype or isinstance(value, list) and any(_has_ref(v, rtype) for v in value)


def _free_slug(data: dict[str, Any], schema: Schema, taken: set[str]) -> str:
    names = (data.get("name_en"), data.get(schema.name_field), data.get("name"))
    base = next((s for s in (slugify(str(n or "")) for n in names) if s), "") or new_id()
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def plan_import(book: Book, rtype: str, table: Table, mapping: Mapping, file: str, *, on_duplicate: str = "skip",
                now: str = "", progress: Callable[[int], None] | None = None) -> Plan:
    """Plan importing ``table`` into ``book`` as records of ``rtype`` (nothing is written)."""
    if on_duplicate not in ON_DUPLICATE:
        raise CrmError(f"--on-duplicate {on_duplicate!r}: use one of {', '.join(ON_DUPLICATE)}")
    schema = get_schema(rtype)
    settings = book.settings
    mapping = resolve_aliases(mapping, table.columns)
    check_mapping(mapping, schema, settings, table.columns, file)
    fields: dict[str, Field] = {}
    for rule in mapping.rules:
        found = field_of(schema, settings, rule.field)
        assert found is not None  # check_mapping refused unknown fields
        fields[rule.field] = found
    settled = dates.settle(mapping, table.rows, fields, file)  # one date order for the whole file, or refused
    plan = Plan(rtype, read=len(table.rows))
    if len(mapping.date_formats) > 1:
        plan.notes.append(f"dates read as {settled.date_formats[0]}, the one date_format of the mapping that reads "
                          "every row")
    mapping = settled
    used = mapping.columns() | set(mapping.ignore)
    plan.unmapped = [c for c in table.columns if c not in used]

    # indexes, once: every referenced type, and this type for matching
    ref_types = {r.ref or fields[r.field].ref for r in mapping.rules if (r.ref or fields[r.field].ref)}
    indexes = {t: RefIndex(book, t) for t in ref_types | {rtype}}
    keys = dedupe_keys(rtype, mapping, book)
    region = default_region(book.settings)
    existing = book.records(rtype)
    book_index: dict[tuple[str, str], str] = {}
    for rec in book.live(rtype).values():
        for pair in record_keys(rec.data, ["ext_id", *keys], schema.name_field, region):
            book_index.setdefault(pair, rec.id)
    taken = set(existing)
    defaults = TYPE_DEFAULTS.get(rtype, {})

    # a field's column, to name it when the cell was empty ("row 3, column 姓名: name is required")
    columns_of: dict[str, str] = {}
    for rule in mapping.rules:
        columns_of.setdefault(rule.top, rule.column)

    # pass 1: map each row and resolve references to other types
    rows: list[_Row] = []
    for n, (number, cells) in enumerate(table.rows, start=1):
        data, origin, reasons = apply_row(mapping, cells, schema, settings, fields, plan.fallbacks)
        row = _Row(number, cells, data, {**columns_of, **origin}, reasons)
        _resolve_row(row, indexes, skip=rtype)
        if rtype == "opportunities":
            _deal_dates(row, mapping, settings)
        if row.reasons:
            _more_reasons(row, schema, settings, defaults)
        rows.append(row)
        if progress and n % 200 == 0:
            progress(200)
    if progress:
        progress(len(table.rows) % 200)

    # pass 2: match each row to a record in the book or an earlier row, or give it a new id
    in_file: dict[tuple[str, str], _Row] = {}
    claimed: dict[str, _Row] = {}  # record id -> the row that creates or updates it in this run
    index = indexes[rtype]
    for row in rows:
        if row.reasons:
            continue
        explicit = str(row.data.pop("id", "") or "").strip().lower()
        if explicit and not ID_PATTERN.fullmatch(explicit):
            row.reasons.append((row.origin.get("id", "id"), _bad_id(explicit)))
            continue
        pairs = record_keys(row.data, ["ext_id", *keys], schema.name_field, region)
        ext = fold(str(row.data.get("ext_id") or ""))
        match_id, earlier = "", None
        if explicit:
            earlier, match_id = claimed.get(explicit), explicit if explicit in existing else ""
        else:
            for pair in pairs:
                hit = in_file.get(pair)
                if hit is not None and _same_source(ext, hit.data):
                    earlier = hit
                    break
                rid = book_index.get(pair)
                if rid and _same_source(ext, existing[rid].data):
                    match_id = rid
                    break
        if earlier is None and match_id in claimed:
            earlier = claimed[match_id]
        if earlier is not None or match_id:
            if on_duplicate == "error":
                where = f"row {earlier.number}" if earlier is not None else f"{schema.title} {match_id}"
                row.reasons.append(("", f"duplicate of {where} (--on-duplicate error)"))
                continue
            plan.duplicates += 1
            if on_duplicate == "skip":
                continue
            if earlier is not None and earlier.action is not None:
                earlier.action.data.update({k: v for k, v in row.data.items() if k != "created"})
                earlier.origin.update(row.origin)
            elif earlier is None:
                merged = {**existing[match_id].data, **{k: v for k, v in row.data.items() if k != "created"}}
                row.id = match_id
                row.action = Action("update", match_id, merged, row.number)
                claimed[match_id] = row
            continue
        rid = explicit or (_free_slug(row.data, schema, taken) if schema.id_kind == "slug" else new_id())
        taken.add(rid)
        row.id = rid
        data = {**defaults, **row.data}
        if "created" in schema.fields_by_name and now:
            data.setdefault("created", now)
        row.action = Action("create", rid, data, row.number)
        row.data = data
        claimed[rid] = row
        for pair in pairs:
            in_file.setdefault(pair, row)
        index.add(rid, data)

    # pass 3: references to this same type (an account's parent in the same file), then the schema
    for row in rows:
        if row.action is None:
            continue
        if any(_has_ref(v, rtype) for v in row.action.data.values()):
            row.data = row.action.data
            _resolve_row(row, indexes, only=rtype)
            row.action.data = row.data
        for fname, message in validate(schema, {k: v for k, v in row.action.data.items() if v is not None}, settings):
            row.reasons.append((row.origin.get(fname, fname), message))
        too_big = _oversize(schema, row.action.data)
        if too_big:
            row.reasons.append(("", too_big))
    _reject_dangling(rows, rtype, schema)
    for row in rows:
        if row.reasons:
            plan.rejected.append(Rejected(row.number, row.cells, row.reasons))
        elif row.action is not None and not (row.action.op == "update" and row.action.data == existing[row.id].data):
            plan.actions.append(row.action)  # an update that changes no value is no update
            plan.kept.extend(row.kept)
    return plan


def _deal_dates(row: _Row, mapping: Mapping, settings: Any) -> None:
    """An imported deal's past from its dates: ``closed_on`` (won and lost deals only), ``created``, and with
    the mapping's ``stage_dates`` the ``stage_history`` (see :func:`crmctl.l2c.pipeline.imported_history`).

    Without a ``created`` column a deal exists from the first day the row gives (not from the import),
    so ``report forecast --as-of`` a past day sees the deals closed before it.
    """
    stage_now = str(row.data.get("stage") or "")
    if stage_now not in stage_ids(settings):
        return  # the schema check says so
    if row.data.get("stage_history"):
        return  # the file brings the history itself (a crmctl export): it is kept as it is
    entered: dict[str, str] = {}
    for column, stage_id in mapping.stage_dates.items():
        cell = str(row.cells.get(column) or "").strip()
        if cell:
            try:
                entered[stage_id] = dates.parse_date(cell, mapping.date_formats)
            except ValueError as exc:
                row.reasons.append((column, f"stage_dates: {exc}"))
    if not is_closed(settings, stage_now):
        row.data.pop("closed_on", None)  # an open deal's close date is expected, and kept as close_date
    closed_on = row.data.get("closed_on")
    created = row.data.get("created")
    try:
        history, created = imported_history(stage_now, entered, closed_on, created, settings)
    except ValueError as exc:
        row.reasons.append((row.origin.get("stage", "stage"), str(exc)))
        return
    if history:
        row.data["stage_history"] = history
    if created:
        row.data["created"] = created


def _oversize(schema: Schema, data: dict[str, Any]) -> str | None:
    """Why a row's record would be too big for every reader to load (None when it fits)."""
    from crmctl.core import yamlio

    if sum(len(str(v)) for v in data.values()) * 4 < yamlio.MAX_FILE_BYTES:  # UTF-8 is at most 4 bytes a character
        return None
    size = len(yamlio.dumps_fast(schema.order({k: v for k, v in data.items() if v is not None})).encode("utf-8"))
    if size <= yamlio.MAX_FILE_BYTES:
        return None
    return f"the record would be {size} bytes; records are limited to {yamlio.MAX_FILE_BYTES} bytes (shorten the long cells)"


def _bad_id(explicit: str) -> str:
    return f"{explicit!r} is not a valid id (lowercase letters, digits, - and _)"


def _more_reasons(row: _Row, schema: Schema, settings: Any, defaults: dict[str, Any]) -> None:
    """A row already rejected: also say what else is wrong with it, so one fix round is enough."""
    reported = {column for column, _ in row.reasons}
    known = {**defaults, **{k: v for k, v in row.data.items() if not _has_ref(v, schema.type) and not isinstance(v, Ref)}}
    explicit = str(known.pop("id", "") or "").strip().lower()  # a mapped id column is the record's id, not a field
    if explicit and not ID_PATTERN.fullmatch(explicit) and row.origin.get("id", "id") not in reported:
        row.reasons.append((row.origin.get("id", "id"), _bad_id(explicit)))
    for fname, message in validate(schema, known, settings):
        column = row.origin.get(fname, fname)
        if column not in reported and not (message.endswith("is required") and
                                           any(r.startswith(f"{fname}:") for _, r in row.reasons)):
            row.reasons.append((column, message))


def _same_source(ext: str, other: dict[str, Any]) -> bool:
    # two rows with different external ids are different records, whatever their names say
    theirs = fold(str(other.get("ext_id") or ""))
    return not ext or not theirs or ext == theirs


def _reject_dangling(rows: list[_Row], rtype: str, schema: Schema) -> None:
    """A row that points at a rejected row of this file (its parent) cannot be created either."""
    ref_fields = [f.name for f in schema.fields if f.ref == rtype]
    while True:
        bad = {r.id for r in rows if r.reasons and r.action is not None and r.action.op == "create"}
        changed = False
        for row in rows:
            if row.reasons or row.action is None:
                continue
            for name in ref_fields:
                value = row.action.data.get(name)
                if any(v in bad for v in (value if isinstance(value, list) else [value])):
                    row.reasons.append((row.origin.get(name, name), f"{name}: the row it refers to was rejected"))
                    changed = True
                    break
        if not changed:
            return


# ------------------------------------------------------------------ results

def import_record(plan: Plan, *, file: str, sha256: str, mapping: Mapping, by: str | None, at: str,
                  rejected_file: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """The data of the import's record in records/imports/ (the mapping by its source and the sha256 of its file)."""
    return {"type": plan.type, "file": file, "mapping": mapping.source or None,
            "mapping_sha256": mapping.sha256 or None, "sha256": sha256, "at": at, "by": by,
            "counts": plan.counts, "rejected_file": rejected_file,
            "options": {k: v for k, v in options.items() if v not in (None, False, "")}}


# The lines a Salesforce Classic report export appends after its rows (each one cell, after a blank line)
_SALESFORCE_FOOTER = ("copyright (c)", "salesforce.com")


def strip_report_footer(table: Table) -> list[int]:
    """Drop the footer of a Salesforce Classic report export from ``table``; the row numbers dropped.

    The footer is the run of one-cell rows at the end (report title, "Copyright (c) 2000-2024
    salesforce.com, inc. ...", "Confidential Information - Do Not Distribute", "Generated By: ...",
    the company) that holds the copyright line. Any other one-cell rows are data and stay.
    """
    first = table.columns[0] if table.columns else ""
    tail = 0
    for _, cells in reversed(table.rows):
        if not cells.get(first) or any(v not in (None, "") for k, v in cells.items() if k != first):
            break
        tail += 1
    footer = table.rows[len(table.rows) - tail:] if tail else []
    if not any(all(mark in str(cells.get(first)).lower() for mark in _SALESFORCE_FOOTER) for _, cells in footer):
        return []
    del table.rows[len(table.rows) - tail:]
    return [number for number, _ in footer]


def fallback_notes(plan: Plan) -> list[str]:
    """One line per column whose values a translate table did not know: what they became, with counts."""
    by_column: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (column, value, otherwise), count in sorted(plan.fallbacks.items(), key=lambda kv: (kv[0][0], -kv[1])):
        by_column[(column, otherwise)].append(f"{value!r} ({count})")
    return [f"column {column}: {len(values)} value(s) not in the mapping's translate table became {otherwise!r} "
            f"(its otherwise): {', '.join(values[:10])}{' ...' if len(values) > 10 else ''}; add them to translate "
            "to keep their meaning" for (column, otherwise), values in by_column.items()]


def rejected_path(file: str) -> str:
    """``data.csv`` -> ``data.rejected.csv`` beside it; stdin -> ``stdin.rejected.csv`` here."""
    if file == "-":
        return "stdin.rejected.csv"
    stem = os.path.basename(file)
    for ext in (".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return os.path.join(os.path.dirname(file), f"{stem}.rejected.csv")


def reason_text(rejected: Rejected) -> str:
    return "; ".join(f"{col}: {why}" if col and not why.startswith(col) else why for col, why in rejected.reasons)


def write_rejected(path: str, columns: list[str], rejected: list[Rejected]) -> None:
    """The rejected rows as CSV (their cells, then ``row`` and ``reason``), ready to fix and re-import."""
    cols = [c for c in columns if c not in ("row", "reason")]
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*cols, "row", "reason"])
        for item in rejected:
            cells = [_cell(item.cells.get(c)) for c in cols]
            writer.writerow([*cells, item.row, reason_text(item)])
    os.replace(tmp, path)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
