"""Merging duplicates: every reference moves to the survivor, the other becomes a redirect.

References are found from the schemas, not from a list kept here: every field
whose ``Field.ref`` names the merged type (single refs and lists of refs), and
inside structured fields (maps and lists of mappings, at any depth) every key
that names the type, singular or plural, holding an id or a list of ids: a
lead's ``converted: {account: ..}``, a price book's ``applies_to: {accounts:
[..]}``. crm.yaml holds no record ids (its ``accounts:`` keys name fields). Audit
trails (``*history``) are left as they were written. So a new record type that
references accounts or contacts is covered without touching this module.

``plan`` is pure: it returns the new data of every record that changes; the
caller writes them all in one transaction (one commit) or, for ``--dry-run``,
only shows the moves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.core.schema import Field
from crmctl.core.schemas import ALIASES, TYPES, get_schema
from crmctl.mcr.history import appended
from crmctl.mcr.rules import account_rule

KEEP_ON_SURVIVOR = ("merged_into", "history", "created", "ext_id")


@dataclass(frozen=True)
class Move:
    """One reference that moves: ``record``'s ``field`` from the merged id to the survivor."""

    record: str
    field: str
    old: Any
    new: Any

    def row(self) -> dict[str, Any]:
        return {"record": self.record, "field": self.field, "from": self.old, "to": self.new}


@dataclass
class Plan:
    rtype: str
    survivor: str
    merged: str
    moves: list[Move] = field(default_factory=list)
    writes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def raw(book: Book, rtype: str, ref: str) -> Record:
    """A record by id or prefix, *without* following a merge redirect."""
    return book.records(rtype)[book.resolve(rtype, ref)]


def descendants(book: Book, account_id: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for rec in book.all("accounts"):
        if rec.get("parent"):
            children.setdefault(rec.data["parent"], []).append(rec.id)
    found: set[str] = set()
    frontier = [account_id]
    while frontier:
        for kid in children.get(frontier.pop(), ()):
            if kid not in found and kid != account_id:
                found.add(kid)
                frontier.append(kid)
    return found


def refuse(book: Book, rtype: str, a: Record, b: Record) -> None:
    title = get_schema(rtype).title
    if a.id == b.id:
        raise ValidationError(f"cannot merge {title} {a.id} into itself")
    if b.get("merged_into"):
        raise ValidationError(f"{title} {b.id} was already merged into {b.get('merged_into')}; nothing to merge")
    if a.get("merged_into"):
        raise ValidationError(f"{title} {a.id} was merged into {a.get('merged_into')}; merge into {a.get('merged_into')} instead")
    if rtype == "accounts" and a.id in descendants(book, b.id):
        raise ValidationError(f"cannot merge account {b.id} into its own subsidiary {a.id}; "
                              f"merge the subsidiary into the group instead: `crmctl account merge {b.id} {a.id}`")


def _names_type(key: str, rtype: str) -> bool:
    return ALIASES.get(key, key) == rtype


def _swap_list(items: list[Any], old: str, new: str) -> list[Any]:
    """A list of ids with ``old`` replaced by ``new``; a list that named both keeps the survivor once."""
    if old not in items:
        return items
    out: list[Any] = []
    for item in items:
        item = new if item == old else item
        if item not in out:
            out.append(item)
    return out


def _swap(value: Any, f: Field, rtype: str, old: str, new: str) -> Any:
    """``value`` of field ``f`` with references to ``old`` pointing at ``new`` (same object if none)."""
    if f.ref == rtype and f.kind == "ref":
        return new if value == old else value
    if f.ref == rtype and f.kind == "list" and isinstance(value, list):
        return _swap_list(value, old, new)
    if f.kind in ("map", "records") and not f.name.endswith("history"):
        return _swap_nested(value, rtype, old, new, names_type=False)
    return value


def _swap_nested(value: Any, rtype: str, old: str, new: str, names_type: bool) -> Any:
    """Inside structured fields: under any key that names the type (``account:``, ``accounts: [..]``,
    at any depth), ids move; everything else is walked. Unchanged values come back as the same object."""
    if isinstance(value, dict):
        swapped = {k: _swap_nested(v, rtype, old, new, _names_type(str(k), rtype)) for k, v in value.items()}
        return value if all(swapped[k] is value[k] for k in value) else swapped
    if isinstance(value, list):
        if names_type and all(isinstance(i, str) for i in value):
            return _swap_list(value, old, new)
        items = [_swap_nested(i, rtype, old, new, names_type) for i in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if names_type and value == old:
        return new
    return value


def mentioning(book: Book, rid: str, read_model: bool = True) -> Callable[[str], list[Record]]:
    """``holders(type)``: the records of a type, by id, that may name ``rid`` anywhere in their data.

    From the read model (:mod:`crmctl.core.readmodel`) when it can be used:
    only the records whose data holds the string ``"rid"`` at all (a superset
    of those that reference it), so a merge in a book of 200,000 records reads
    the few that matter. Types changed in this process, or a book whose
    ``.crmctl/`` cannot be written, are read whole.
    """
    from crmctl.core import jsonio, readmodel

    found: dict[str, list[Record]] | None = None
    hits = readmodel.select(book, TYPES, "SELECT type, id, data FROM _records WHERE instr(data, ?) > 0 ORDER BY type, id",
                            (jsonio.dumps(rid),)) if read_model else None
    if hits is not None:
        found = {t: [] for t in TYPES}
        for rtype, rec_id, data in hits:
            found[rtype].append(Record(rtype, rec_id, jsonio.loads(data)))

    def holders(rtype: str) -> list[Record]:
        if found is None or book.changed(rtype):
            return sorted(book.all(rtype), key=lambda r: r.id)
        return found[rtype]
    return holders


def plan(book: Book, rtype: str, a_ref: str, b_ref: str, by: str | None, at: str, read_model: bool = True) -> Plan:
    """What merging ``b`` into ``a`` changes (nothing is written here).

    ``read_model=False`` reads every record rather than those the read model says may name ``b``
    (the same plan; tests compare the two).
    """
    a, b = raw(book, rtype, a_ref), raw(book, rtype, b_ref)
    refuse(book, rtype, a, b)
    result = Plan(rtype, a.id, b.id)
    holders = mentioning(book, b.id, read_model)
    for other_type in TYPES:
        fields = get_schema(other_type).fields
        for rec in holders(other_type):
            if other_type == rtype and rec.id == b.id:
                continue  # the redirect keeps what it said
            data = rec.data
            new_data: dict[str, Any] | None = None
            for f in fields:
                if f.name not in data or f.name == "merged_into":
                    continue
                swapped = _swap(data[f.name], f, rtype, b.id, a.id)
                if swapped is not data[f.name] and swapped != data[f.name]:
                    new_data = new_data or dict(data)
                    new_data[f.name] = swapped
                    result.moves.append(Move(f"{other_type}/{rec.id}", f.name, data[f.name], swapped))
            if new_data is not None:
                result.writes[(other_type, rec.id)] = new_data
    survivor = result.writes.get((rtype, a.id), dict(a.data))
    # a contact that reported to the merged one would now report to itself
    if survivor.get("reports_to") == a.id:
        survivor.pop("reports_to")
    for key, value in b.data.items():
        if key in KEEP_ON_SURVIVOR or value in (None, "", [], {}):
            continue
        if key not in survivor:
            survivor[key] = value
            result.moves.append(Move(f"{rtype}/{a.id}", key, None, value))
        elif key == "tags" and isinstance(value, list):
            merged = [*survivor[key], *(t for t in value if t not in survivor[key])]
            if merged != survivor[key]:
                result.moves.append(Move(f"{rtype}/{a.id}", key, survivor[key], merged))
                survivor[key] = merged
        elif key == "consent" and isinstance(value, dict):
            survivor[key] = {**value, **survivor[key]}
    if rtype == "contacts":
        _keep_every_way_to_reach(survivor, b.data, result, f"{rtype}/{a.id}")
    if rtype == "accounts" and survivor.get("parent") and survivor.get("parent") != a.data.get("parent"):
        try:
            account_rule(book, a.id, survivor)
        except ValidationError:
            survivor.pop("parent")  # the merged one's parent would make a loop: keep the survivor's place
    if survivor.get("reports_to") in (a.id, b.id):
        survivor.pop("reports_to")
    survivor["history"] = appended(survivor, "merge", at, by, **{"from": b.id})
    result.writes[(rtype, a.id)] = survivor
    redirect = dict(b.data)
    redirect["merged_into"] = a.id
    redirect["history"] = appended(b.data, "merged_into", at, by, to=a.id)
    result.writes[(rtype, b.id)] = redirect
    result.moves.append(Move(f"{rtype}/{b.id}", "merged_into", None, a.id))
    return result


def _keep_every_way_to_reach(survivor: dict[str, Any], merged: dict[str, Any], result: Plan, where: str) -> None:
    """The merged contact's emails and phones that the survivor lacks join its ``emails`` and ``phones``."""
    from crmctl.io.vcard import emails_of, phones_of

    emails = [e for e in emails_of(merged) if e not in emails_of(survivor)]
    if emails:
        before = survivor.get("emails")
        survivor["emails"] = [*(before or []), *emails]
        result.moves.append(Move(where, "emails", before, survivor["emails"]))
    numbers = {n for _, n in phones_of(survivor)}
    phones = [{"type": k, "number": n} for k, n in phones_of(merged) if n not in numbers]
    if phones:
        before = survivor.get("phones")
        survivor["phones"] = [*(before or []), *phones]
        result.moves.append(Move(where, "phones", before, survivor["phones"]))
