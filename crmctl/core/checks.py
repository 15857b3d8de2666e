"""The book's own checks, beancount-style: small functions that yield problems.

``crmctl check`` runs these and each scenario's checks (``l2c.checks``,
``cpq.checks``, ...) over one loaded book and reports every problem as
``path:line: message``.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Iterator

from crmctl.core.book import Book
from crmctl.core.errors import Problem
from crmctl.core.schema import references, validate
from crmctl.core.schemas import TYPES, get_schema

Check = Callable[[Book], Iterable[Problem]]


def check_files(book: Book) -> Iterator[Problem]:
    """Files that do not load at all (bad YAML, tags, not UTF-8, bad names)."""
    for rtype in TYPES:
        book.records(rtype)
    yield from book.problems


def check_schemas(book: Book) -> Iterator[Problem]:
    """Each record against its type's schema and the enums in crm.yaml."""
    settings = book.settings
    for rtype in TYPES:
        schema = get_schema(rtype)
        for rec in book.all(rtype):
            for fname, message in validate(schema, rec.data, settings):
                yield Problem(rec.path, rec.line(fname), message, "schema")


def check_references(book: Book) -> Iterator[Problem]:
    """Every reference names a record that exists."""
    for rtype in TYPES:
        schema = get_schema(rtype)
        for rec in book.all(rtype):
            for fname, target_type, target in references(schema, rec.data):
                if target not in book.records(target_type):
                    yield Problem(rec.path, rec.line(fname),
                                  f"{fname}: no {get_schema(target_type).title} {target!r} (records/{target_type}/{target}.yaml)",
                                  "reference")


def check_unique(book: Book) -> Iterator[Problem]:
    """Document numbers and external ids are unique within their type."""
    for rtype, key in (("quotes", "number"), ("orders", "number"), *((t, "ext_id") for t in TYPES)):
        seen: dict[str, list[str]] = defaultdict(list)
        records = book.records(rtype)
        for rec in records.values():
            value = rec.get(key)
            if value and not rec.merged_into:
                seen[str(value)].append(rec.id)
        for value, ids in seen.items():
            if len(ids) > 1:  # a quote's versions live inside its one record, so they never count twice
                for rid in sorted(ids)[1:]:
                    rec = records[rid]
                    hint = f"; give it a new number with `crmctl {rtype[:-1]} renumber {rid}`" if key == "number" else ""
                    yield Problem(rec.path, rec.line(key), f"duplicate {key} {value!r} (also in {sorted(ids)[0]}){hint}", "duplicate")


def check_users(book: Book) -> Iterator[Problem]:
    """Users' emails are unique (they identify the acting user)."""
    seen: dict[str, str] = {}
    for rec in book.all("users"):
        email = str(rec.get("email", "")).lower()
        if email in seen:
            yield Problem(rec.path, rec.line("email"), f"email {email} is also user {seen[email]}'s", "duplicate")
        seen.setdefault(email, rec.id)


CHECKS: tuple[Check, ...] = (check_files, check_schemas, check_references, check_unique, check_users)
