"""MCR's checks for ``crmctl check``: probable duplicates, parent loops, broken redirects, coordinates.

Duplicates are found by bucketing every record under its keys (``mcr.dupes``:
tax id, names without legal form or place, phones through phonenumbers,
emails), so the check is linear in the size of the book, never pairwise; only
probable duplicates are reported (``whois`` also lists possible ones).
"""
from __future__ import annotations

from typing import Any, Iterator

from crmctl.core.book import Book
from crmctl.core.checks import facts
from crmctl.core.errors import Problem
from crmctl.mcr.dupes import KEYS_VIEW, book_duplicates, keys_view
from crmctl.mcr.rules import coordinate_problems, phone_entry_problems

FIELD_OF = {"name": "name", "phone": "phone", "email": "email", "tax id": "tax_id"}


def duplicates(book: Book, rtype: str) -> Iterator[Problem]:
    """One problem per probable duplicate (``mcr.dupes``), naming the older record and the merge command."""
    noun = rtype[:-1]
    found = facts(book, rtype)
    for first, rec, kind in book_duplicates(book, rtype, found.kept, found.record, found.extra("keys")):
        yield Problem(rec.path, rec.line(FIELD_OF.get(kind, "name")),
                      f"probable duplicate of {noun} {first.id} ({first.name}): same {kind}; "
                      f"merge it with `crmctl {noun} merge {first.id} {rec.id}`", "duplicate")


def check_duplicates(book: Book) -> Iterator[Problem]:
    yield from duplicates(book, "accounts")
    yield from duplicates(book, "contacts")


def check_phone_entries(data: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """A contact's extra phones (a check of one record: ``RECORD_CHECKS``)."""
    for problem in phone_entry_problems(data):
        yield "phones", problem, "schema"


def check_parent_loops(book: Book) -> Iterator[Problem]:
    """Accounts whose parent chain comes back to them (hand edits or a git merge can do it)."""
    found = facts(book, "accounts")
    accounts = found.kept
    for rid, data in accounts.items():
        seen = [rid]
        current = data.get("parent")
        while current and current in accounts:
            if current == rid:
                rec = found.record(rid)
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
        found = facts(book, rtype)
        records = found.kept
        for rid, data in records.items():
            target = data.get("merged_into")
            seen = [rid]
            while target:
                if target not in records:
                    rec = found.record(rid)
                    yield Problem(rec.path, rec.line("merged_into"),
                                  f"redirect points nowhere: merged_into {target!r} does not exist", "redirect")
                    break
                if target in seen:
                    rec = found.record(rid)
                    yield Problem(rec.path, rec.line("merged_into"),
                                  f"redirect loop: {' -> '.join([*seen, target])}", "redirect")
                    break
                seen.append(target)
                target = records[target].get("merged_into")


def check_coordinates(data: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """An account's coordinates (a check of one record: ``RECORD_CHECKS``)."""
    for message in coordinate_problems(data):
        yield "lat", message, "schema"


CHECKS = (check_duplicates, check_parent_loops, check_redirects)
READS_FACTS = True  # these read core.checks.facts (see run_checks)
RECORD_CHECKS = {"accounts": (check_coordinates,), "contacts": (check_phone_entries,)}
RECORD_VIEWS = {rtype: {"keys": keys_view(rtype)} for rtype in ("accounts", "contacts")}
VIEW_VERSION = f"m1k{KEYS_VIEW}"  # raise m when RECORD_CHECKS change what they return
