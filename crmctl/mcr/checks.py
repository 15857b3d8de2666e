"""MCR's checks for ``crmctl check``: probable duplicates, parent loops, broken redirects, coordinates.

Duplicates are found by bucketing every record under its normalised keys
(``core.text``: full-width and half-width forms, case, punctuation, legal
suffixes, phone formatting), so the check is linear in the size of the book,
never pairwise.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Iterator

from crmctl.core.book import Book, Record
from crmctl.core.errors import Problem
from crmctl.core.text import email_key, name_key, phone_key
from crmctl.mcr.rules import coordinate_problems

MIN_PHONE_DIGITS = 7  # shorter keys (extensions, typos) would match unrelated people
KeyFunc = Callable[[Record], Iterable[tuple[str, str]]]


def account_keys(rec: Record) -> Iterator[tuple[str, str]]:
    for fname in ("name", "name_en", "short_name"):
        key = name_key(rec.get(fname))
        if len(key) >= 2:
            yield "name", key
    phone = phone_key(rec.get("phone"))
    if len(phone) >= MIN_PHONE_DIGITS:
        yield "phone", phone
    if rec.get("tax_id"):
        yield "tax id", name_key(rec.get("tax_id"))


def contact_keys(rec: Record) -> Iterator[tuple[str, str]]:
    if rec.get("email"):
        yield "email", email_key(rec.get("email"))
    for fname in ("phone", "mobile"):
        phone = phone_key(rec.get(fname))
        if len(phone) >= MIN_PHONE_DIGITS:
            yield "phone", phone
    name = name_key(rec.get("name"))
    if name:
        # the same name at the same account, not two people called 王伟 anywhere
        yield "name", f"{name}@{rec.get('account')}"


def duplicates(book: Book, rtype: str, keys: KeyFunc) -> Iterator[Problem]:
    """One problem per probable duplicate, naming the older record and the merge command."""
    buckets: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for rec in book.all(rtype):
        if rec.get("merged_into"):
            continue
        for kind, key in set(keys(rec)):
            buckets[(kind, key)].append(rec)
    reported: set[tuple[str, str]] = set()
    noun = rtype[:-1]
    for (kind, _), recs in sorted(buckets.items()):
        if len(recs) < 2:
            continue
        recs = sorted(recs, key=lambda r: (str(r.get("created") or ""), r.id))
        first = recs[0]
        for rec in recs[1:]:
            if (first.id, rec.id) in reported:
                continue
            reported.add((first.id, rec.id))
            field = {"name": "name", "phone": "phone", "email": "email", "tax id": "tax_id"}[kind]
            yield Problem(rec.path, rec.line(field),
                          f"probable duplicate of {noun} {first.id} ({first.name}): same {kind}; "
                          f"merge it with `crmctl {noun} merge {first.id} {rec.id}`", "duplicate")


def check_duplicates(book: Book) -> Iterator[Problem]:
    yield from duplicates(book, "accounts", account_keys)
    yield from duplicates(book, "contacts", contact_keys)


def check_parent_loops(book: Book) -> Iterator[Problem]:
    """Accounts whose parent chain comes back to them (hand edits or a git merge can do it)."""
    accounts = book.records("accounts")
    for rec in accounts.values():
        seen = [rec.id]
        current = rec.get("parent")
        while current and current in accounts:
            if current == rec.id:
                yield Problem(rec.path, rec.line("parent"), f"parent loop: {' -> '.join([*seen, current])}; "
                              f"fix it with `crmctl account edit {rec.id} --unset parent`", "loop")
                break
            if current in seen:
                break  # a loop above this account; reported on its own members
            seen.append(current)
            current = accounts[current].get("parent")


def check_redirects(book: Book) -> Iterator[Problem]:
    """A merged record's ``merged_into`` must lead to a live record, without going round in a circle."""
    for rtype in ("accounts", "contacts"):
        records = book.records(rtype)
        for rec in records.values():
            target = rec.get("merged_into")
            seen = [rec.id]
            while target:
                if target not in records:
                    yield Problem(rec.path, rec.line("merged_into"),
                                  f"redirect points nowhere: merged_into {target!r} does not exist", "redirect")
                    break
                if target in seen:
                    yield Problem(rec.path, rec.line("merged_into"),
                                  f"redirect loop: {' -> '.join([*seen, target])}", "redirect")
                    break
                seen.append(target)
                target = records[target].get("merged_into")


def check_coordinates(book: Book) -> Iterator[Problem]:
    for rec in book.all("accounts"):
        for message in coordinate_problems(rec.data):
            yield Problem(rec.path, rec.line("lat"), message, "schema")


CHECKS = (check_duplicates, check_parent_loops, check_redirects, check_coordinates)
