"""The same customer however it is typed (查重): probable and possible duplicates.

Every record is known by keys (:class:`Key`) made through :mod:`crmctl.core.text`:
an account by its tax id, names and phone; a contact by every email and phone
and by its name at its account; a lead by its email, phone, name at its company,
and its company's name (matched against accounts).

Two records are **probable** duplicates when they share a tax id, an email, a
phone, or a name whose places agree (``联创电子(上海)`` = ``上海联创电子``, and a
name without a place matches either; ``联想(北京)`` and ``联想(上海)`` do not).
Two valid tax ids that differ are two legal entities: a shared name or phone
then makes them only **possible** duplicates, as does a name in another place
and a name that is merely similar (a typo; rapidfuzz ratio of the keys at
least ``duplicates.possible_score``). ``account/contact/lead add``, ``lead
convert`` and ``check`` act on probable duplicates only; ``whois`` lists both.
"""
from __future__ import annotations

import re

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from crmctl.core.book import Book, Record, redirect
from crmctl.core.errors import PolicyError
from crmctl.core.limits import read
from crmctl.core.settings import Settings
from crmctl.core.states import lead_is_converted
from crmctl.core.text import default_region, email_key, is_cjk, name_parts, phone_key, tax_key

MIN_PHONE_DIGITS = 7  # shorter keys (extensions, typos) would match unrelated people
PROBABLE, POSSIBLE = "probable", "possible"
ON_CREATE = ("warn", "refuse")


@dataclass(frozen=True)
class Key:
    """One way a record is known: ``kind`` is tax id, email, phone, name or company."""

    kind: str
    value: str
    place: str = ""

    def agrees(self, other: Key) -> bool:
        """Same value, and places that do not contradict each other."""
        return self.value == other.value and (not self.place or not other.place or self.place == other.place)


@dataclass(frozen=True)
class Match:
    """A record that looks like the one in hand: how likely, on what, and who owns it."""

    type: str
    id: str
    name: str
    owner: str
    on: str
    likely: str
    score: int = 100

    def text(self) -> str:
        return f"{self.type} {self.id} ({self.name}, owner {self.owner or 'none'}): same {self.on}"


def _names(data: Mapping[str, Any], fields: Iterable[str], kind: str = "name", at: str = "") -> Iterator[Key]:
    for fname in fields:
        key, place = name_parts(data.get(fname))
        if len(key) >= 2:
            yield Key(kind, f"{key}@{at}" if at else key, place)


def _phones(numbers: Iterable[Any], region: str) -> Iterator[Key]:
    for number in numbers:
        key = phone_key(number, region)
        if len(key) >= MIN_PHONE_DIGITS:
            yield Key("phone", key)


def _emails(emails: Iterable[Any]) -> Iterator[Key]:
    for email in emails:
        key = email_key(email)
        if "@" in key:
            yield Key("email", key)


def record_keys(rtype: str, data: Mapping[str, Any], region: str) -> list[Key]:
    """Every key a record of ``rtype`` is known by (see the module doc)."""
    from crmctl.io.vcard import emails_of, phones_of

    keys: list[Key] = []
    if rtype == "accounts":
        if tax_key(data.get("tax_id")):
            keys.append(Key("tax id", tax_key(data.get("tax_id"))))
        keys += _names(data, ("name", "name_en", "short_name"))
        keys += _phones([data.get("phone")], region)
        keys += _emails([data.get("email")])
    elif rtype == "contacts":
        keys += _emails(emails_of(data))
        keys += _phones((n for _, n in phones_of(data)), region)
        keys += _names(data, ("name", "name_en"), at=str(data.get("account") or ""))  # two 王伟 at two companies are two people
    elif rtype == "leads":
        keys += _emails([data.get("email")])
        keys += _phones([data.get("phone")], region)
        company, _ = name_parts(data.get("company"))
        keys += _names(data, ("name",), at=company)
        keys += _names(data, ("company",), kind="company")
    return list(dict.fromkeys(keys))


def _as_seen_by(rtype: str, keys: list[Key], target: str) -> list[Key]:
    """A record's keys, as comparable with a record of ``target`` type (a lead's company is an account's name)."""
    if rtype == target:
        return keys
    if rtype == "leads" and target == "accounts":
        return [Key("name", k.value, k.place) if k.kind == "company" else k for k in keys if k.kind in ("company", "phone", "email")]
    return [k for k in keys if k.kind in ("email", "phone")]  # people across types: by how to reach them


def verdict(mine: list[Key], theirs: list[Key]) -> tuple[str, str] | None:
    """(probable|possible, what they share), or None when nothing is shared."""
    tax_a = {k.value for k in mine if k.kind == "tax id"}
    tax_b = {k.value for k in theirs if k.kind == "tax id"}
    if tax_a & tax_b:
        return PROBABLE, "tax id"
    two_entities = bool(tax_a and tax_b)  # different valid tax ids: two legal entities
    loose: str | None = None
    for kind in ("email", "phone", "name"):
        for a in (k for k in mine if k.kind == kind):
            for b in (k for k in theirs if k.kind == kind and k.value == a.value):
                if a.agrees(b) and not two_entities:
                    return PROBABLE, kind
                loose = loose or (f"{kind} (other tax id)" if two_entities else f"{kind} (in {a.place or '?'} / {b.place or '?'})")
    return (POSSIBLE, loose) if loose else None


def region_of(book: Book) -> str:
    return default_region(book.settings)


def owner_of(book: Book, rtype: str, rec: Record) -> str:
    """Who to talk to: the record's owner; a contact without one belongs to its account's; a lead without one is in the pool."""
    owner = rec.get("owner")
    if not owner and rtype == "contacts":
        account = book.records("accounts").get(str(rec.get("account") or ""))
        owner = account.get("owner") if account is not None else None
    return str(owner or ("(pool)" if rtype == "leads" else ""))


TARGETS = {"accounts": ("accounts",), "contacts": ("contacts",), "leads": ("leads", "contacts", "accounts")}


def matches(book: Book, rtype: str, data: Mapping[str, Any], exclude: str | None = None) -> list[Match]:
    """Live records that look like ``data`` (a new or changed record of ``rtype``), probable ones first."""
    region = region_of(book)
    mine = record_keys(rtype, data, region)
    found: list[Match] = []
    for target in TARGETS.get(rtype, ()):
        seen_as = _as_seen_by(rtype, mine, target)
        if not seen_as:
            continue
        for rec in book.live(target).values():
            if rec.id == exclude and target == rtype or (target == "leads" and lead_is_converted(rec.data)):
                continue
            judged = verdict(seen_as, _as_seen_by(target, record_keys(target, rec.data, region), target))
            if judged:
                found.append(Match(target[:-1], rec.id, rec.name, owner_of(book, target, rec), judged[1], judged[0]))
    return sorted(found, key=lambda m: (m.likely != PROBABLE, m.type, m.id))


def on_create(settings: Settings) -> str:
    mode = str(settings.get("duplicates.on_create", "warn") or "warn")
    if mode not in ON_CREATE:
        raise PolicyError(f"duplicates.on_create in crm.yaml is {mode!r}; use one of {', '.join(ON_CREATE)}")
    return mode


def guard(book: Book, rtype: str, data: Mapping[str, Any], allow: bool, exclude: str | None = None) -> list[str]:
    """Warnings for a record about to be created; refuses (``duplicates.on_create: refuse``) unless ``allow``.

    Returns one line per probable duplicate, naming it and its owner.
    """
    probable = [m for m in matches(book, rtype, data, exclude) if m.likely == PROBABLE]
    if not probable:
        return []
    shown = "; ".join(m.text() for m in probable[:3]) + (f"; and {len(probable) - 3} more" if len(probable) > 3 else "")
    if not allow and on_create(book.settings) == "refuse":
        raise PolicyError(f"probable duplicate of {shown}; pass --allow-duplicate to add it anyway "
                          "(duplicates.on_create is refuse in crm.yaml)")
    return [f"probable duplicate of {m.text()}" for m in probable]


KEYS_VIEW = 1  # the version of record_keys' output: raise it when record_keys (or name_parts) changes what it returns


def _raw_keys(rtype: str, region: str) -> Callable[[Mapping[str, Any]], list[list[str]]]:
    """``project(data)`` -> ``[[kind, value, place], ...]``: :func:`record_keys` as views store them."""
    return lambda data: [[k.kind, k.value, k.place] for k in record_keys(rtype, data, region)]


def keys_view(rtype: str) -> Callable[[Settings], Callable[[Mapping[str, Any]], list[list[str]]]]:
    """``make(settings)`` -> :func:`_raw_keys` in the book's phone region (a ``core.checks.RecordView``)."""
    return lambda settings: _raw_keys(rtype, default_region(settings))


def _stored_raw(book: Book, rtype: str, region: str) -> dict[str, list[list[str]]]:
    """``{id: [[kind, value, place], ...]}``: :func:`record_keys` of every record of ``rtype`` as the view stores them."""
    name = f"keys{KEYS_VIEW}-" + re.sub(r"[^A-Za-z0-9]", "_", region or "none")
    return book.view(rtype, name, _raw_keys(rtype, region), raw=True)


def stored_keys(book: Book, rtype: str, region: str) -> dict[str, list[Key]]:
    """``{id: record_keys(...)}`` of every record of ``rtype``, kept in a view cache by each file's stamp.

    Normalizing 30,000 names took three quarters of ``check``; a record's keys change only with its file
    (or the phone region, which names the view).
    """
    return {rid: [Key(*k) for k in keys] for rid, keys in _stored_raw(book, rtype, region).items()}


def book_duplicates(book: Book, rtype: str, kept: Mapping[str, Mapping[str, Any]] | None = None,
                    record: Callable[[str], Record] | None = None, raw: Mapping[str, list[list[str]]] | None = None,
                    ) -> Iterator[tuple[Record, Record, str]]:
    """(older, newer, what they share) for every probable pair of live records, found through key buckets (linear).

    By default it reads the type's records; ``check`` gives what it keeps instead (``core.checks.Facts``):
    ``kept``, each record's data (``created`` and ``merged_into`` are all this reads of it), ``record``,
    the record of an id, and ``raw``, the keys of each as :func:`_stored_raw` gives them.
    Records and :class:`Key` objects are made only for those that share a bucket (a few among 30,000).
    """
    if kept is None or record is None:
        records = book.records(rtype)
        kept, record = {rid: rec.data for rid, rec in records.items()}, records.__getitem__
    raw = _stored_raw(book, rtype, region_of(book)) if raw is None else raw
    buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rid, data in kept.items():
        if not redirect(rid, data):
            for key in {(k[0], k[1]) for k in raw[rid]}:
                buckets[key].append(rid)
    keys: dict[str, list[Key]] = {}

    def keys_of(rid: str) -> list[Key]:
        if rid not in keys:
            keys[rid] = [Key(*k) for k in raw[rid]]
        return keys[rid]

    def age(rid: str) -> tuple[str, str]:  # oldest first
        return str(kept[rid].get("created") or ""), rid

    reported: set[tuple[str, str]] = set()
    pairs: list[tuple[Record, Record, str]] = []
    for _, ids in sorted((k, v) for k, v in buckets.items() if len(v) > 1):
        ids = sorted(ids, key=age)
        for j, rid in enumerate(ids):
            for first in ids[:j]:  # the oldest record it probably duplicates
                judged = verdict(keys_of(rid), keys_of(first))
                if judged and judged[0] == PROBABLE:
                    if (first, rid) not in reported:
                        reported.add((first, rid))
                        pairs.append((record(first), record(rid), judged[1]))
                    break
    yield from pairs


def similar(book: Book, text: str, threshold: int | None = None) -> list[tuple[str, Record, int]]:
    """(type, record, score) of live leads, contacts and accounts whose name key is similar to ``text``'s.

    Similar: a rapidfuzz ratio of the keys of at least ``duplicates.possible_score`` (a typo), or, for a
    Chinese/Japanese/Korean query of two characters or more, a key that contains it or is contained in it
    (``华为`` and ``华为技术``: CJK names are short, and the brand is part of the full name); the score is then
    the ratio itself, whatever the threshold.
    """
    from rapidfuzz import fuzz

    query, _ = name_parts(text)
    cjk = is_cjk(query)
    if len(query) < (2 if cjk else 3):
        return []
    cutoff = int(threshold if threshold is not None else read(book.settings, "duplicates.possible_score", 80))
    found: list[tuple[str, Record, int]] = []
    for rtype in ("leads", "contacts", "accounts"):
        fields = ("name", "name_en", "short_name", "company") if rtype != "contacts" else ("name", "name_en")
        for rec in book.live(rtype).values():
            keys = [name_parts(rec.get(f))[0] for f in fields if rec.get(f)]
            best = max((fuzz.ratio(query, key) for key in keys), default=0)
            part = cjk and any(len(key) >= 2 and (query in key or key in query) for key in keys)
            if best >= cutoff or part:
                found.append((rtype, rec, int(round(best))))
    return found
