"""The book's own checks, beancount-style: small functions that yield problems.

``crmctl check`` runs these and each scenario's checks (``l2c.checks``,
``cpq.checks``, ...) over one loaded book and reports every problem as
``path:line: message``.
"""
from __future__ import annotations

from collections import defaultdict
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator
from weakref import WeakKeyDictionary

from crmctl.core.book import Book, Record, redirect
from crmctl.core.errors import Problem
from crmctl.core.schema import references, validate
from crmctl.core.schemas import TYPES, get_schema

Check = Callable[[Book], Iterable[Problem]]


# each scenario may contribute checks (``CHECKS``) and checks of one record alone (``RECORD_CHECKS``);
# a missing module contributes none
SCENARIO_CHECKS = ("crmctl.mcr.checks", "crmctl.l2c.checks", "crmctl.cpq.checks", "crmctl.sfe.checks")

RecordCheck = Callable[[dict[str, Any]], Iterable[tuple[str, str, str]]]
"""A check of one record's data alone: yields ``(field, message, code)``, the problem shown at that field's line."""


def scenario_modules() -> list[ModuleType]:
    """The scenario check modules that are installed."""
    import importlib

    modules = []
    for name in SCENARIO_CHECKS:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def record_checks(rtype: str) -> tuple[RecordCheck, ...]:
    """The checks of one record of ``rtype`` alone, from every scenario's ``RECORD_CHECKS``."""
    return tuple(c for m in scenario_modules() for c in getattr(m, "RECORD_CHECKS", {}).get(rtype, ()))


RecordView = Callable[[Any], Callable[[dict[str, Any]], Any]]
"""``make(settings)`` -> ``project(data)``: something a scenario's check across records needs of each record
(``mcr.checks``: its duplicate keys), as JSON; kept in the facts (:attr:`Facts.extra`)."""


def record_views(rtype: str) -> dict[str, RecordView]:
    """``{name: make}`` from every scenario's ``RECORD_VIEWS``."""
    return {n: v for m in scenario_modules() for n, v in getattr(m, "RECORD_VIEWS", {}).get(rtype, {}).items()}


def facts_name(tag: str) -> str:
    """The facts view's name: its version, each scenario's ``VIEW_VERSION`` (what its ``RECORD_CHECKS`` and
    ``RECORD_VIEWS`` return), and ``tag``."""
    versions = "-".join(str(getattr(m, "VIEW_VERSION", 0)) for m in scenario_modules())
    return f"check{FACTS_VIEW}-{versions}-{tag}"


FACTS_VIEW = 4  # the version of what a facts view stores: raise it when _project, validate, screen_numbers,
#                 references or any RECORD_CHECKS function change what they return
SKELETON = ("merged_into", "parent", "created", "number", "ext_id", "quote", "opportunity")  # what checks across
#           records read of each record (with its name field)
SKELETON_LINES = (*SKELETON, "name", "email", "phone", "tax_id")  # lines they point at (mcr.checks.FIELD_OF)


class Facts:
    """What ``check`` needs of every record of one type, without loading the records: ``{id: entry}`` as
    :func:`_project` makes each entry, read through the methods below (no per-record objects are made
    for the 30,000 records that have nothing to report).

    ``kept``: ``{id: the SKELETON fields}`` of each loadable record (a record left out whole, see
    :meth:`Book.screen`, is not there); :meth:`record` makes one a *skeleton* :class:`Record` (those
    fields and their lines) to report it.
    """

    def __init__(self, rtype: str, entries: dict[str, list[Any]]) -> None:
        self.type = rtype
        self.entries = entries
        self.kept: dict[str, dict[str, Any]] = {rid: e[3] for rid, e in entries.items() if e[3] is not None}

    def record(self, rid: str) -> Record:
        return Record(self.type, rid, self.entries[rid][3], self.entries[rid][4])

    def _path(self, rid: str) -> str:
        return f"records/{self.type}/{rid}.yaml"

    def loading(self, root: str) -> list[Problem]:
        """The problems reading the records gave: a bad stored number, as :meth:`Book.screen` notes it (at the value's
        own line in the file under the book's ``root``: a list entry's, not its list's key)."""
        from crmctl.core.book import value_line

        out = []
        for rid, e in self.entries.items():
            if e[0] is not None:
                line, message, code, where = e[0]
                if len(where) > 1:
                    line = value_line(root, self._path(rid), tuple(where), {str(where[0]): line})
                out.append(Problem(self._path(rid), line, message, code))
        return out

    def own(self) -> list[Problem]:
        """The problems of each record alone: schema, :data:`RecordCheck` s."""
        return [Problem(self._path(rid), *p) for rid, e in self.entries.items() if e[1] for p in e[1]]

    def refs(self) -> Iterator[tuple[str, str, str, str, int]]:
        """``(id, field, type, target id, line)`` of every reference of the loadable records."""
        for rid, e in self.entries.items():
            for ref in e[2]:
                yield (rid, *ref)

    def stopped(self) -> list[tuple[str, str]]:
        """``(check, message)`` of each record check that raised."""
        return [(name, message) for e in self.entries.values() if e[5] for name, message in e[5]]

    def extra(self, name: str) -> dict[str, Any]:
        """``{id: value}`` of the :data:`RecordView` ``name`` for each loadable record."""
        return {rid: e[6][name] for rid, e in self.entries.items() if e[3] is not None}


def _project(rtype: str, settings: Any, screen: bool) -> Callable[[dict[str, Any], dict[str, int]], list[Any]]:
    """One record's facts as a view stores them: ``[loading, own, refs, skeleton, lines, stopped, extra]`` (JSON).

    ``loading`` is ``[line, message, code, where]`` (``where``: :attr:`crmctl.core.schema.Bad.where`) or None;
    ``own`` ``[[line, message, code]]``; ``refs`` ``[[field, type, id, line]]``; ``stopped`` ``[[check, message]]``;
    ``extra`` ``{name: value}`` of each :data:`RecordView`. With ``screen`` the data is a file's as
    written and is screened here (``Book.screen``); a record left out whole has only its ``loading``.
    """
    from crmctl.core.errors import CrmError
    from crmctl.core.schema import screen_numbers

    schema = get_schema(rtype)
    checks = record_checks(rtype)
    views = {name: make(settings) for name, make in record_views(rtype).items()}
    kept, kept_lines = (*SKELETON, schema.name_field), (*SKELETON_LINES, schema.name_field)

    def project(data: dict[str, Any], lines: dict[str, int]) -> list[Any]:
        loading = None
        if screen:
            clean, bad = screen_numbers(schema, data, settings)
            if bad:   # the value's own line is found from its file when reported (Facts.loading)
                loading = [lines.get(bad[0].field, 1), "; ".join(b.problem for b in bad),
                           "number" if clean is not None else "unreadable", list(bad[0].where)]
            if clean is None:
                return [loading, [], [], None, None, [], {}]
            data = clean
        own = [[lines.get(f, 1), m, "schema"] for f, m in validate(schema, data, settings)]
        stopped = []
        for check in checks:
            try:
                own.extend([lines.get(f, 1), m, code] for f, m, code in check(data))
            except CrmError as exc:
                stopped.append([check.__name__, str(exc)])
        refs = [[f, t, target, lines.get(f, 1)] for f, t, target in references(schema, data)]
        return [loading, own, refs, {k: data[k] for k in kept if k in data},
                {k: lines[k] for k in kept_lines if k in lines}, stopped, {n: v(data) for n, v in views.items()}]

    return project


_FACTS: "WeakKeyDictionary[Book, dict[str, Facts]]" = WeakKeyDictionary()


def facts(book: Book, rtype: str) -> Facts:
    """The :class:`Facts` of ``rtype``, kept per file in a view named by crm.yaml's content (enums, custom
    fields, the currency and the phone region decide them), so a warm ``check`` neither loads nor validates
    30,000 unchanged records. A type changed in this process is read as it is now. Taken once per book.
    """
    memo = _FACTS.setdefault(book, {})
    if rtype in memo and not book.changed(rtype):
        return memo[rtype]
    import hashlib

    from crmctl.core import jsonio

    settings = book.settings
    if book.changed(rtype):  # its records as this process left them (their loading problems are noted by now)
        project = _project(rtype, settings, screen=False)
        found = {rec.id: project(rec.data, rec.lines) for rec in book.all(rtype)}
    else:
        tag = hashlib.blake2b(jsonio.dumps(settings.data, default=str).encode(), digest_size=8).hexdigest()
        found = book.view(rtype, facts_name(tag), _project(rtype, settings, screen=True), raw=True, with_lines=True)
    out = Facts(rtype, found)
    if not book.changed(rtype):
        memo[rtype] = out
    return out


def release_facts(book: Book) -> None:
    """Drop the :class:`Facts` kept for ``book``: ``check`` does so once the checks that read them have run, so they
    are not held beside the records the later checks load (100,000 records' facts are 110 MB)."""
    _FACTS.pop(book, None)


READS_FACTS = True  # run_checks releases the facts after the last check of a module that says so


def check_files(book: Book) -> Iterator[Problem]:
    """Files that do not load at all (bad YAML, tags, not UTF-8, bad names), and stored numbers readers leave out."""
    for rtype in TYPES:
        book.problems.extend(p for p in facts(book, rtype).loading(book.root) if p not in book.problems)
    yield from book.problems


def check_schemas(book: Book) -> Iterator[Problem]:
    """Each record against its type's schema and the enums in crm.yaml, and the scenarios' ``RECORD_CHECKS``."""
    stopped: dict[str, str] = {}
    for rtype in TYPES:
        found = facts(book, rtype)
        yield from found.own()
        for name, message in found.stopped():
            stopped.setdefault(name, message)
    for name, message in stopped.items():  # as run_checks reports a check that raised
        yield Problem("crmctl check", 0, f"{name} stopped: {message}", "unreadable")


def check_references(book: Book) -> Iterator[Problem]:
    """Every reference names a record that exists."""
    present = {rtype: facts(book, rtype).kept for rtype in TYPES}
    for rtype in TYPES:
        for rid, fname, target_type, target, line in facts(book, rtype).refs():
            if target not in present[target_type]:
                yield Problem(f"records/{rtype}/{rid}.yaml", line,
                              f"{fname}: no {get_schema(target_type).title} {target!r} (records/{target_type}/{target}.yaml)",
                              "reference")


def check_unique(book: Book) -> Iterator[Problem]:
    """Document numbers and external ids are unique within their type."""
    for rtype, key in (("quotes", "number"), ("orders", "number"), *((t, "ext_id") for t in TYPES)):
        seen: dict[str, list[str]] = defaultdict(list)
        found = facts(book, rtype)
        for rid, data in found.kept.items():
            value = data.get(key)
            if value and not redirect(rid, data):
                seen[str(value)].append(rid)
        for value, ids in seen.items():
            if len(ids) > 1:  # a quote's versions live inside its one record, so they never count twice
                first = found.record(sorted(ids)[0])
                for rid in sorted(ids)[1:]:
                    rec = found.record(rid)
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


def check_settings(book: Book) -> Iterator[Problem]:
    """Keys crmctl does not read; numbers in crm.yaml that break their rule (``crmctl.core.limits``: ``"1000000"``,
    not ``"1,000,000"`` or ``"01000000"``; within range); the currency; decimal_mark."""
    from crmctl.core.errors import CrmError
    from crmctl.core.numbers import book_format

    settings = book.settings
    for line, message in settings.unknown:  # a key crmctl does not read (crmctl.core.settings_keys): refused here
        yield Problem(settings.path, line, message, "settings")
    for line, message in settings.number_problems:  # crmctl.core.limits: each once, the default checked in its place
        yield Problem(settings.path, line or 1, message, "settings")
    from crmctl.core.money import currency_problem

    problem = currency_problem(settings.currency, "currency")
    if problem:
        yield Problem(settings.path, settings.lines.get("currency", 1), problem, "settings")
    try:
        book_format(settings).mark
    except CrmError as exc:
        key = "locale" if "locale" in str(exc) else "decimal_mark"
        yield Problem(settings.path, settings.lines.get(key, 1), str(exc), "settings")


CHECKS: tuple[Check, ...] = (check_files, check_settings, check_schemas, check_references, check_unique, check_users)
