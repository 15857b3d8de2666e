"""The book's own checks, beancount-style: small functions that yield problems.

``crmctl check`` runs these and each scenario's checks (``l2c.checks``,
``cpq.checks``, ...) over one loaded book and reports every problem as
``path:line: message``.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator

from crmctl.core.book import Book
from crmctl.core.errors import Problem
from crmctl.core.numbers import stored_problem
from crmctl.core.schema import references, validate
from crmctl.core.schemas import TYPES, get_schema

Check = Callable[[Book], Iterable[Problem]]


def check_files(book: Book) -> Iterator[Problem]:
    """Files that do not load at all (bad YAML, tags, not UTF-8, bad names)."""
    for rtype in TYPES:
        book.records(rtype)
    yield from book.problems


SCHEMA_VIEW = 1  # the version of what schema_problems stores: raise it when validate or screen_numbers change


def schema_problems(book: Book, rtype: str) -> dict[str, list[tuple[str, str]]]:
    """``{id: [(field, message)]}``: :func:`validate` of each record as readers see it (stored numbers screened).

    Kept per file in a view cache named by crm.yaml's content (enums, custom
    fields and the currency decide what is valid), so a warm ``check`` does
    not validate 30,000 unchanged records again. Types changed in this
    process are validated as they are now.
    """
    import hashlib

    from crmctl.core import jsonio
    from crmctl.core.schema import screen_numbers

    settings = book.settings
    schema = get_schema(rtype)
    if book.changed(rtype):
        return {rec.id: list(validate(schema, rec.data, settings)) for rec in book.all(rtype)}
    tag = hashlib.blake2b(jsonio.dumps(settings.data, default=str).encode(), digest_size=8).hexdigest()

    def project(data: dict[str, Any]) -> list[list[str]]:
        clean = screen_numbers(schema, data, settings)[0]  # what Book.screen makes of it
        return [] if clean is None else [[f, m] for f, m in validate(schema, clean, settings)]

    found = book.view(rtype, f"schema{SCHEMA_VIEW}-{tag}", project, raw=True)
    return {rid: [(f, m) for f, m in problems] for rid, problems in found.items()}


def check_schemas(book: Book) -> Iterator[Problem]:
    """Each record against its type's schema and the enums in crm.yaml."""
    for rtype in TYPES:
        found = schema_problems(book, rtype)
        schema = get_schema(rtype)
        for rec in book.all(rtype):
            mine = found.get(rec.id)
            if mine is None:  # written between the two reads: validate it here
                mine = list(validate(schema, rec.data, book.settings))
            for fname, message in mine:
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
                first = records[sorted(ids)[0]]
                for rid in sorted(ids)[1:]:
                    rec = records[rid]
                    hint = f"; give it a new number with `crmctl {rtype[:-1]} renumber {rid}`" if key == "number" else ""
                    if rtype == "orders" and _same_deal(first, rec):
                        hint = "; both are one deal's order: a new number is no fix (see the deal accepted or ordered twice)"
                    yield Problem(rec.path, rec.line(key), f"duplicate {key} {value!r} (also in {sorted(ids)[0]}){hint}", "duplicate")


def _same_deal(a: Any, b: Any) -> bool:
    """Two orders made from the same quote or the same opportunity (``crmctl.l2c.orders.twins`` judges them)."""
    return any(a.get(k) and a.get(k) == b.get(k) for k in ("quote", "opportunity"))


def check_users(book: Book) -> Iterator[Problem]:
    """Users' emails are unique (they identify the acting user), and so are their signing keys (they prove him)."""
    seen: dict[str, str] = {}
    for rec in book.all("users"):
        email = str(rec.get("email", "")).lower()
        if email in seen:
            yield Problem(rec.path, rec.line("email"), f"email {email} is also user {seen[email]}'s", "duplicate")
        seen.setdefault(email, rec.id)
    from crmctl.core.signing import key_holders, key_ids

    users = book.records("users")
    for key, ids in key_holders(users.values()).items():
        for rid in ids[1:]:
            shown = key_ids(users[rid].data)[key]
            field = "signing_keys" if " " in key else "gpg_keys"
            yield Problem(users[rid].path, users[rid].line(field), f"key {shown} is also user {ids[0]}'s: a signature "
                          f"by it proves neither; remove it from the user it is not", "duplicate")


def _decimal_settings(default: Any, own: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` for each value in crm.yaml where the defaults hold a decimal written as text.

    A mapping whose default values are all such decimals (``tax.categories``,
    ``discount_policy.authority.rep``) takes new keys as decimals too.
    """
    if not isinstance(own, dict) or not isinstance(default, dict):
        return
    numeric = bool(default) and all(isinstance(v, str) and stored_problem(v, field="") is None for v in default.values())
    for key, value in own.items():
        dotted = f"{path}.{key}" if path else str(key)
        base = default.get(key)
        if isinstance(value, dict):
            yield from _decimal_settings(base if isinstance(base, dict) else {}, value, dotted)
        elif (isinstance(base, str) and stored_problem(base, field="") is None) or (base is None and numeric):
            yield dotted, value


def check_settings(book: Book) -> Iterator[Problem]:
    """Numbers in crm.yaml as crmctl reads them (``"1000000"``, not ``"1,000,000"``); decimal_mark and price_digits."""
    from crmctl.core.errors import CrmError
    from crmctl.core.numbers import book_format, price_digits
    from crmctl.core.settings import defaults

    settings = book.settings
    for dotted, value in _decimal_settings(defaults(), settings.own, ""):
        problem = stored_problem(value, field=dotted, allow_negative=True)
        if problem:
            yield Problem(settings.path, settings.lines.get(dotted.split(".")[0], 1), problem, "settings")
    from crmctl.core.money import currency_problem

    problem = currency_problem(settings.currency, "currency")
    if problem:
        yield Problem(settings.path, settings.lines.get("currency", 1), problem, "settings")
    for key, read in (("decimal_mark", lambda: book_format(settings).mark), ("price_digits", lambda: price_digits(settings))):
        try:
            read()
        except CrmError as exc:
            key = "locale" if "locale" in str(exc) and key == "decimal_mark" else key
            yield Problem(settings.path, settings.lines.get(key, 1), str(exc), "settings")


CHECKS: tuple[Check, ...] = (check_files, check_settings, check_schemas, check_references, check_unique, check_users)
