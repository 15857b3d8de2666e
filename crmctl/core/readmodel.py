"""The read model: the book as an SQLite database under ``.crmctl/book.sqlite``.

Every record type is a table named after its folder (``accounts``,
``opportunities``, ...) with one row per record file, merge redirects
included (``merged_into`` is a column): ``id`` and one column per field of
the type's schema, then the custom fields crm.yaml declares for it.

* money, decimal and percent fields keep the exact text of the file
  (``amount = '125000.00'``) and add ``<field>_num``, a REAL for arithmetic
  (``sum(amount_num)``); ``dsum(amount)`` adds the exact texts as decimals;
* booleans are 0/1; lists and maps are JSON text (``json_each`` reads them);
* every list field is also a *child table* ``<singular>_<field>``
  (``quote_lines``, ``opportunity_stage_history``, ``order_installments``,
  ``visit_steps``, ``opportunity_contacts``...) with ``<singular>_id`` (the
  parent's id), ``n`` (1-based position) and one column per key of its entries
  (``value`` for a list of plain values); an entry's text that reads as a
  decimal number gets a ``<key>_num`` too.

It is kept fresh by the per-file stat rule of :mod:`crmctl.core.cache`: the
``_files`` table holds each file's stamp (mtime, ctime, size, inode:
:func:`crmctl.core.cache.stamp`) and ``_stamps`` per type the digest of the
folder's listing the rows were made at; a file whose stat differs (an editor, ``git checkout``,
``git merge``, a crmctl write) is parsed again and only its rows are
replaced, and a folder whose stats hash to the stored digest costs nothing
more than the stats. A type is refreshed only when a query reads it. A bad
file has no rows; its problem is kept with its stat and warned about, as
every read command does. The database is a cache: deleting
``.crmctl/`` is always safe, and a database of another version or column
layout (a custom field added to crm.yaml) is rebuilt.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from crmctl.core import cache, jsonio
from crmctl.core.errors import CrmError, Problem
from crmctl.core.schema import NUMERIC, SINGULAR, Field, child_table, custom_fields, field_number, left_out_entries
from crmctl.core.schemas import TYPES, get_schema
from crmctl.core.settings import Settings

if TYPE_CHECKING:
    from crmctl.core.book import Book

VERSION = 9  # 4: the ctime is part of a file's stamp; 5: folder digests by cache.Listing; 6: _num by plain_decimal;
# 7: each file's stamp a row of _files (a pull of 100 files rewrites 100 rows, not the folder's whole list);
# 8: _num by the reports' own rule (schema.field_number, numbers.stored_number), never a regex of its own
# 9: int fields have _num too; custom number fields screened like core ones
INDEXED = ("account", "order", "parent")  # what the account index (crmctl.mcr.index) looks records up by
FILE_NAME = "book.sqlite"
NUMERIC_KINDS = NUMERIC
ChildRow = tuple[str, tuple[str, ...], tuple[Any, ...]]  # (child table, its columns, their values): one entry of a list


def path_of(root: str) -> str:
    """Where a book's read model lives."""
    return os.path.join(root, ".crmctl", FILE_NAME)


def quoted(name: str) -> str:
    """An SQL identifier, quoted (``with``, ``from`` and ``to`` are field names here)."""
    return '"' + name.replace('"', '""') + '"'


def real(amount: Decimal | None) -> float | None:
    """A counted decimal as the REAL of a ``_num`` column; None stays NULL."""
    return None if amount is None else float(amount)


def column_number(f: Field, amount: Decimal | None) -> float | int | None:
    """A field's counted value as its ``_num`` column holds it: an INTEGER for an ``int`` field (``sum(qty_num)`` is
    a count), else :func:`real`."""
    return int(amount) if f.kind == "int" and amount is not None else real(amount)


@functools.lru_cache(maxsize=1 << 16)
def _stored(value: str | int) -> Decimal | None:
    """:func:`crmctl.core.numbers.stored_number` without a field's context, remembered (a book repeats its texts)."""
    from crmctl.core.numbers import stored_number

    return stored_number(value)


def cell(value: Any) -> Any:
    """A value as SQLite stores it: text, numbers and NULL as they are, booleans 0/1, the rest JSON."""
    if value is None or isinstance(value, (str, int, float)):
        return value  # bool is an int: sqlite3 stores True as 1
    if isinstance(value, (list, dict)):
        return jsonio.dumps(value, default=str)
    return str(value)


# ---------------------------------------------------------------- the layout


class Layout:
    """The tables and columns of one book's read model (its schemas plus crm.yaml's custom fields)."""

    def __init__(self, settings: Settings) -> None:
        self.fields: dict[str, list[Field]] = {}
        for rtype in TYPES:
            schema = get_schema(rtype)
            extra = custom_fields(settings, rtype)
            self.fields[rtype] = [*schema.fields, *(f for name, f in extra.items() if name not in schema.fields_by_name)]
        self.children: dict[str, tuple[str, str]] = {}  # child table -> (type, field)
        for rtype, fields in self.fields.items():
            for f in fields:
                if f.kind in ("list", "records"):
                    self.children[child_table(rtype, f.name)] = (rtype, f.name)

    def columns(self, rtype: str) -> list[str]:
        """The columns of a type's table, in order."""
        out = ["id"]
        for f in self.fields[rtype]:
            out.append(f.name)
            if f.kind in NUMERIC_KINDS:
                out.append(f"{f.name}_num")
        return out

    def signature(self) -> str:
        """Changes when any table's fixed columns change: the database is then rebuilt."""
        text = repr([(t, self.columns(t)) for t in TYPES]) + repr(sorted(self.children))
        return hashlib.sha1(f"{VERSION}:{text}".encode()).hexdigest()

    def type_of(self, table: str) -> str | None:
        """The record type whose rows fill ``table`` (a type table or a child table); None for others."""
        if table in self.fields:
            return table
        child = self.children.get(table)
        return child[0] if child else None

    def tables(self) -> list[str]:
        """Every table a user may query, types first."""
        return [*TYPES, *sorted(self.children)]


def parent_column(rtype: str) -> str:
    return f"{SINGULAR[rtype]}_id"


# ---------------------------------------------------------------- building and refreshing


class ReadModel:
    """A read-write connection that keeps ``book.sqlite`` fresh; :func:`query` reads it read-only."""

    def __init__(self, root: str, settings: Settings, path: str | None = None,
                 stats: Callable[[str], cache.Stats] | None = None) -> None:
        self.root = root
        self._stats = stats  # the stats of a type's files, shared with a Book that also reads them (Book.stats)
        self.path = path or path_of(root)
        self.settings = settings
        self.layout = Layout(settings)
        self.problems: list[Problem] = []
        self._child_columns: dict[str, list[str]] = {}
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        signature = self.layout.signature()
        try:
            conn = self._connect()
            found = conn.execute("SELECT value FROM _meta WHERE key = 'signature'").fetchone()
            if found and found[0] == signature:
                self._load_child_columns(conn)
                self._index(conn)
                return conn
            conn.close()
        except sqlite3.DatabaseError:  # missing tables, a corrupt or foreign file: it is only a cache
            pass
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass
        conn = self._connect()
        self._create(conn, signature)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # a reader never waits for a refresh
        conn.execute("PRAGMA synchronous=OFF")   # a cache: a crash at worst loses it, and it is rebuilt
        return conn

    def _create(self, conn: sqlite3.Connection, signature: str) -> None:
        statements = [
            "CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT)",
            # per type: a digest of its folder's names and stats and the problems found in it (JSON [[path, line,
            # message]])
            "CREATE TABLE _stamps (type TEXT PRIMARY KEY, digest TEXT, problems TEXT)",
            # each file's stamp, as the rows of its record were made from it (line and problem: a bad file's)
            "CREATE TABLE _files (type TEXT, name TEXT, mtime_ns INTEGER, ctime_ns INTEGER, size INTEGER, "
            "ino INTEGER, line INTEGER, problem TEXT, PRIMARY KEY (type, name)) WITHOUT ROWID",
            # each record's data as JSON, for commands that read records back (merge, check)
            "CREATE TABLE _records (type TEXT, id TEXT, data TEXT, PRIMARY KEY (type, id)) WITHOUT ROWID",
        ]
        for rtype in TYPES:
            cols = ", ".join(f"{quoted(c)} TEXT PRIMARY KEY" if c == "id" else quoted(c) for c in self.layout.columns(rtype))
            statements.append(f"CREATE TABLE {quoted(rtype)} ({cols})")
        for table, (rtype, _) in sorted(self.layout.children.items()):
            parent = parent_column(rtype)
            statements.append(f"CREATE TABLE {quoted(table)} ({quoted(parent)} TEXT, n INTEGER)")
            statements.append(f"CREATE INDEX {quoted(table + '_parent')} ON {quoted(table)} ({quoted(parent)})")
        conn.execute("BEGIN IMMEDIATE")
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO _meta VALUES ('signature', ?)", (signature,))
        conn.execute("COMMIT")
        self._load_child_columns(conn)
        self._index(conn)

    def _index(self, conn: sqlite3.Connection) -> None:
        """The lookup indexes (:data:`INDEXED`) and the screening tables; made when missing, so a database built
        without them (an older crmctl) keeps its rows."""
        # per type: the files whose stored numbers readers leave out (schema.screen_numbers), and what that
        # list was made for (the type's folder digest and crm.yaml's screening key): see unscreened()
        conn.execute("CREATE TABLE IF NOT EXISTS _screen (type TEXT, id TEXT, PRIMARY KEY (type, id)) WITHOUT ROWID")
        conn.execute("CREATE TABLE IF NOT EXISTS _screen_state (type TEXT PRIMARY KEY, digest TEXT, settings TEXT)")
        have = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        for rtype in TYPES:
            for name in INDEXED:
                index = f"{rtype}_{name}"
                if index not in have and name in self.layout.columns(rtype):
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {quoted(index)} ON {quoted(rtype)} ({quoted(name)})")

    def _load_child_columns(self, conn: sqlite3.Connection) -> None:
        for table in self.layout.children:
            self._child_columns[table] = [row[1] for row in conn.execute(f"PRAGMA table_info({quoted(table)})")]

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ freshness

    def refresh(self, types: Iterable[str] = TYPES) -> int:
        """Bring the tables of ``types`` up to date with the files; the number of files (re)read or dropped."""
        changed = 0
        for rtype in types:
            self.conn.execute("BEGIN IMMEDIATE")  # one writer at a time; readers see the old rows until COMMIT
            try:
                changed += self._refresh_type(rtype)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return changed

    def _refresh_type(self, rtype: str) -> int:
        """Compare the folder with what the tables were made from; re-read what changed.

        The stats of a folder that has not changed hash to the digest stored
        with them, so a fresh type costs one ``stat`` per file and one hash.
        """
        folder = os.path.join(self.root, "records", rtype)
        rel = f"records/{rtype}"
        # a folder (or records/) that is a symbolic link or not a folder at all is read by no one: every row goes and
        # its problem stays, as every other read path says (cache.checked names it). Its listing's digest is its
        # problem, not an empty folder's: rows and problems stored for an empty or missing folder are not its own
        wrong = cache.folder_problem(folder, rel)
        stats = self.folder_stats(rtype) if wrong is None else cache.Listing([], digest=f"!{wrong}")
        digest = stats.digest
        stored = self.conn.execute("SELECT digest, problems FROM _stamps WHERE type = ?", (rtype,)).fetchone()
        if stored and stored[0] == digest:  # the same names and stats: the same rows and the same problems
            self._note([Problem(*p) for p in jsonio.loads(stored[1])])
            self._screen_all(rtype, digest)
            return 0
        stale: list[tuple[str, str, os.stat_result, str]] = []
        problems: list[Problem] = []
        delta = stats.changes_since(stored[0]) if stored else None
        if delta is not None:
            # the watcher names the files that differ from the listing these rows were made at: only those are
            # looked at, and only their stamps are read and written (a pull of 100 records costs 100 files, not a
            # loop over the folder)
            known = self._stamps_of(rtype, list(delta))
            shown = {f"{rel}/{name}" for name in delta}
            problems = [Problem(*p) for p in jsonio.loads(stored[1]) if p[0] not in shown]
            pairs = [(name, st) for name, st in delta.items() if st is not None]
            seen: set[str] = set()
            checked_known: Mapping[str, Any] = {}  # a changed name is checked again (a file may now be a link)
        else:
            known = self._stamps_of(rtype)
            pairs, seen, checked_known = stats, set(), known
        for name, rid, st, path in cache.checked(folder, rel, pairs, problems, checked_known):
            seen.add(name)
            item = known.get(name)
            if not cache.is_fresh(item, st):
                stale.append((name, rid, st, path))
            elif item[4] is not None:
                problems.append(Problem(f"{rel}/{name}", item[3], item[4]))
        gone = [name for name in known if name not in seen]
        # nothing stored: _apply makes every row, and screens each, now
        screened = not known or self._screened_state(rtype, stored[0] if stored else None)
        self._apply(rtype, rel, stale, gone, known, problems)
        self._store_stamps(rtype, known, None if delta is None else list(delta))
        problems.sort(key=lambda p: p.path)  # in the folder's order, however they were found (as a rebuild gives)
        self.conn.execute("INSERT OR REPLACE INTO _stamps VALUES (?, ?, ?)",
                          (rtype, digest, jsonio.dumps([[p.path, p.line, p.message] for p in problems])))
        if screened:  # the rows just replaced were screened in _apply: the list is as current as the rows
            self._set_screen_state(rtype, digest)
        else:
            self._screen_all(rtype, digest)
        self._note(problems)
        return len(stale) + len(gone)

    def _stamps_of(self, rtype: str, names: list[str] | None = None) -> dict[str, list[Any]]:
        """``{name: [[mtime_ns, ctime_ns], size, inode, line, problem]}`` of the files of ``rtype`` the rows were made
        from: every file's, or those of ``names`` only."""
        sql = "SELECT name, mtime_ns, ctime_ns, size, ino, line, problem FROM _files WHERE type = ?"
        if names is None:
            rows: Iterable[tuple[Any, ...]] = self.conn.execute(sql, (rtype,))
        else:
            rows = [row for part in range(0, len(names), 500) for row in self.conn.execute(
                f"{sql} AND name IN ({', '.join('?' * len(names[part:part + 500]))})", (rtype, *names[part:part + 500]))]
        return {name: [[m, c], size, ino, line, problem] for name, m, c, size, ino, line, problem in rows}

    def _store_stamps(self, rtype: str, known: dict[str, list[Any]], names: list[str] | None) -> None:
        """Store ``known`` as the stamps of ``rtype``'s files: all of them, or (``names``) those names' only —
        a name not in ``known`` has no file now."""
        if names is None:
            self.conn.execute("DELETE FROM _files WHERE type = ?", (rtype,))
            entries: Iterable[str] = known
        else:
            self.conn.executemany("DELETE FROM _files WHERE type = ? AND name = ?", ((rtype, n) for n in names))
            entries = [n for n in names if n in known]
        self.conn.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              ((rtype, n, *known[n][0], *known[n][1:5]) for n in entries))

    def folder_stats(self, rtype: str) -> cache.Stats:
        """One stat per file of ``rtype``'s folder (:func:`crmctl.core.cache.folder_stats`); when the model was
        opened for a book, the book's own (:meth:`crmctl.core.book.Book.stats`), so a command that reads a
        type's records and refreshes its table stats the folder once."""
        if self._stats is not None:
            return self._stats(rtype)
        return cache.folder_stats(os.path.join(self.root, "records", rtype))

    def _screen_key(self) -> str:
        """What decides a stored number's screening besides the record: crm.yaml (the book currency, price digits)."""
        return hashlib.blake2b(jsonio.dumps(self.settings.data, default=str).encode(), digest_size=8).hexdigest()

    def _screened_state(self, rtype: str, digest: str | None) -> bool:
        """True when ``_screen`` describes the rows of ``rtype`` as they were at ``digest`` under this crm.yaml."""
        state = self.conn.execute("SELECT digest, settings FROM _screen_state WHERE type = ?", (rtype,)).fetchone()
        return digest is not None and state is not None and tuple(state) == (digest, self._screen_key())

    def _set_screen_state(self, rtype: str, digest: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO _screen_state VALUES (?, ?, ?)", (rtype, digest, self._screen_key()))

    def _screen_all(self, rtype: str, digest: str) -> None:
        """Screen every stored record of ``rtype`` again when ``_screen`` was not made for these rows and this crm.yaml
        (built by an older crmctl, crm.yaml edited, or rows refreshed by one that does not screen); the rows are made
        again from the stored data too, as their ``_num`` follow the same rule (the book currency, price digits)."""
        if self._screened_state(rtype, digest):
            return
        from crmctl.core.schema import screen_numbers

        schema = get_schema(rtype)
        self.conn.execute("DELETE FROM _screen WHERE type = ?", (rtype,))
        self.conn.execute(f"DELETE FROM {quoted(rtype)}")
        for table, (owner, _) in self.layout.children.items():
            if owner == rtype:
                self.conn.execute(f"DELETE FROM {quoted(table)}")
        row, add_children = self._row_maker(rtype), self._children_maker(rtype)
        rows: list[tuple[Any, ...]] = []
        children: list[ChildRow] = []
        for rid, text in self.conn.execute("SELECT id, data FROM _records WHERE type = ?", (rtype,)).fetchall():
            data = jsonio.loads(text)
            rows.append(row(rid, data))
            add_children(rid, data, children)
            if screen_numbers(schema, data, self.settings)[1]:
                self.conn.execute("INSERT INTO _screen VALUES (?, ?)", (rtype, rid))
        cols = self.layout.columns(rtype)
        self.conn.executemany(f"INSERT INTO {quoted(rtype)} VALUES ({', '.join('?' * len(cols))})", rows)
        self._insert_children(children)
        self._set_screen_state(rtype, digest)

    def unscreened(self, types: Iterable[str]) -> bool:
        """True when no record of ``types`` has a stored number readers leave out (call after :meth:`refresh`).

        Such a record is warned about and read without that number by every
        report; a command answering from SQL reads the records instead then,
        so it warns and counts exactly as they do.
        """
        return all(self.conn.execute("SELECT 1 FROM _screen WHERE type = ? LIMIT 1", (t,)).fetchone() is None
                   for t in types)

    def left_out(self, types: Iterable[str]) -> frozenset[Any]:
        """The stored values of ``types`` (their tables and child tables) whose ``_num`` is NULL: what the reports
        leave out for its field (a negative amount, ``1234.5`` in CNY), so ``dsum`` leaves it out too (call after
        :meth:`refresh`)."""
        wanted = set(types)
        tables = [t for t in TYPES if t in wanted] + [c for c, (t, _) in sorted(self.layout.children.items()) if t in wanted]
        found: set[Any] = set()
        for table in tables:
            names = set(self.layout.columns(table)) if table in self.layout.fields else set(self._child_columns[table])
            for num in sorted(n for n in names if n.endswith("_num") and n[:-4] in names):
                found.update(v for (v,) in self.conn.execute(
                    f"SELECT DISTINCT {quoted(num[:-4])} FROM {quoted(table)} "
                    f"WHERE {quoted(num)} IS NULL AND {quoted(num[:-4])} IS NOT NULL"))
        return frozenset(found)

    def _note(self, problems: list[Problem]) -> None:
        self.problems.extend(p for p in problems if p not in self.problems)

    def _apply(self, rtype: str, rel: str, stale: list[tuple[str, str, os.stat_result, str]], gone: list[str],
               known: dict[str, list[Any]], problems: list[Problem]) -> None:
        """Replace the rows of the ``stale`` files and drop those of the ``gone`` ones (``known`` follows).

        Each file is parsed once and its rows are collected, then written with one ``executemany``
        per table (per run of child entries with the same keys, so rows keep their order), with the
        cycle collector paused (:func:`crmctl.core.cache.collector_paused`).
        """
        with cache.collector_paused():
            self._replace(rtype, rel, stale, gone, known, problems)

    def _replace(self, rtype: str, rel: str, stale: list[tuple[str, str, os.stat_result, str]], gone: list[str],
                 known: dict[str, list[Any]], problems: list[Problem]) -> None:
        base: dict[str, Any] = {}
        if len(stale) > cache.MANY_UNSEEN:  # a cold book: the JSON cache may already hold the parsed records
            base = cache.read_entries(os.path.join(self.root, ".crmctl", "cache", f"{rtype}.json"))
        from crmctl.core.schema import screen_numbers

        schema = get_schema(rtype)
        for name in gone:
            self._delete(rtype, name[:-5])
            del known[name]
        row = self._row_maker(rtype)
        rows: list[tuple[Any, ...]] = []
        records: list[tuple[str, str, str]] = []
        screened: list[tuple[str, str]] = []
        children: list[ChildRow] = []
        add_children = self._children_maker(rtype)
        for name, rid, st, path in stale:
            entry = base.get(name)
            if not cache.is_fresh(entry, st):
                entry = cache.parse_entry(path, f"{rel}/{name}", st)
            if name in known:
                self._delete(rtype, rid)
            problem = entry[5]
            known[name] = [*cache.stamp(st), *(problem or (None, None))]
            if problem is not None:
                problems.append(Problem(f"{rel}/{name}", problem[0], problem[1]))
                continue
            data = entry[3]
            rows.append(row(rid, data))
            records.append((rtype, rid, jsonio.dumps(data, default=str)))
            if screen_numbers(schema, data, self.settings)[1]:
                screened.append((rtype, rid))
            add_children(rid, data, children)
        cols = self.layout.columns(rtype)
        self.conn.executemany(f"INSERT INTO {quoted(rtype)} VALUES ({', '.join('?' * len(cols))})", rows)
        self.conn.executemany("INSERT INTO _records VALUES (?, ?, ?)", records)
        self.conn.executemany("INSERT OR REPLACE INTO _screen VALUES (?, ?)", screened)
        self._insert_children(children)

    def _delete(self, rtype: str, rid: str) -> None:
        self.conn.execute(f"DELETE FROM {quoted(rtype)} WHERE id = ?", (rid,))
        self.conn.execute("DELETE FROM _records WHERE type = ? AND id = ?", (rtype, rid))
        self.conn.execute("DELETE FROM _screen WHERE type = ? AND id = ?", (rtype, rid))
        for table, (owner, _) in self.layout.children.items():
            if owner == rtype:
                self.conn.execute(f"DELETE FROM {quoted(table)} WHERE {quoted(parent_column(rtype))} = ?", (rid,))

    def _row_maker(self, rtype: str) -> Callable[[str, dict[str, Any]], tuple[Any, ...]]:
        """``row(id, data)``: a record's row of its type's table (:meth:`Layout.columns`: each field's
        :func:`cell`, a numeric field's ``_num`` after it: :func:`crmctl.core.schema.field_number`, NULL where the
        reports leave the value out). Only the fields a record has are converted: most records fill a few of their
        type's columns."""
        width = len(self.layout.columns(rtype))
        place: dict[str, tuple[int, Field | None]] = {}
        at = 1
        for f in self.layout.fields[rtype]:
            numeric = f.kind in NUMERIC_KINDS
            place[f.name] = (at, f if numeric else None)  # column names are unique (Layout)
            at += 2 if numeric else 1
        book_currency = self.settings.currency
        # (field, currency, value) -> _num: a book repeats its amounts, and the rule's answer depends on these only
        known: dict[tuple[str, str, Any], float | int | None] = {}

        def num(f: Field, currency: str, value: Any) -> float | int | None:
            """The reports' own rule: NULL exactly where they leave the value out."""
            if type(value) is not str and type(value) is not int:  # a bool, a list...: nothing to remember
                return column_number(f, field_number(f, value, currency))
            memo = (f.name, currency, value)
            if memo not in known:
                if len(known) > 100_000:
                    known.clear()
                known[memo] = column_number(f, field_number(f, value, currency))
            return known[memo]

        def row(rid: str, data: dict[str, Any]) -> tuple[Any, ...]:
            out: list[Any] = [None] * width
            out[0] = rid
            currency = str(data.get("currency") or book_currency)
            for key, value in data.items():
                spot = place.get(key)
                if spot is not None and value is not None:
                    out[spot[0]] = cell(value)
                    if spot[1] is not None:
                        out[spot[0] + 1] = num(spot[1], currency, value)
            return tuple(out)

        return row

    def _children_maker(self, rtype: str) -> Callable[[str, dict[str, Any], list[ChildRow]], None]:
        """``children(id, data, out)``: append a :data:`ChildRow` for each entry of the record's list fields to
        ``out``, in order; an entry the reports leave out (:func:`crmctl.core.schema.left_out_entries`) or a quote
        line's number they refuse (:func:`_entry_problems`) has a NULL ``_num``."""
        lists = [(f, child_table(rtype, f.name)) for f in self.layout.fields[rtype] if f.kind in ("list", "records")]
        parent = parent_column(rtype)
        book_currency = self.settings.currency
        settings = self.settings

        def children(rid: str, data: dict[str, Any], out: list[ChildRow]) -> None:
            currency = str(data.get("currency") or book_currency)
            bad_keys = _entry_problems(rtype, data, settings)
            for f, table in lists:
                items = data.get(f.name)
                if not isinstance(items, list):
                    continue
                dropped = left_out_entries(f, items, currency)
                for n, item in enumerate(items, 1):
                    left_out = True if n in dropped else bad_keys.get((f.name, n), frozenset())
                    values = dict(_child_values(item, left_out))
                    out.append((table, (parent, "n", *values), (rid, n, *values.values())))

        return children

    def _insert_children(self, entries: list[ChildRow]) -> None:
        """Insert the child rows ``entries`` (:meth:`_children_maker`) in their order: one ``executemany`` per run of
        entries of one table with the same columns."""
        for (table, names), run in groupby(entries, key=itemgetter(0, 1)):
            self._ensure_columns(table, dict.fromkeys(names[2:]))
            self.conn.executemany(f"INSERT INTO {quoted(table)} ({', '.join(map(quoted, names))}) "
                                  f"VALUES ({', '.join('?' * len(names))})", map(itemgetter(2), run))

    def _ensure_columns(self, table: str, values: dict[str, Any]) -> None:
        known = self._child_columns[table]
        for name in values:
            if name not in known:
                self.conn.execute(f"ALTER TABLE {quoted(table)} ADD COLUMN {quoted(name)}")
                known.append(name)

    # ------------------------------------------------------------ export

    def counts(self) -> dict[str, int]:
        """Rows per record type, in the registry's order."""
        return {t: self.conn.execute(f"SELECT count(*) FROM {quoted(t)}").fetchone()[0] for t in TYPES}

    def copy_to(self, out: str, money: "BookMoney | None" = None) -> None:
        """Write the user's tables (every type and child table, no bookkeeping) to a new SQLite file ``out``; with
        ``money``, each money field's ``<field>_book`` and ``<field>_book_num`` (as ``crmctl sql`` shows them,
        converted now) are added at the end of its table."""
        tmp = f"{out}.{os.getpid()}.tmp"
        try:
            if os.path.exists(tmp):
                os.unlink(tmp)
            target = sqlite3.connect(tmp)
            try:
                self.conn.backup(target)
                target.execute("DROP TABLE _meta")
                target.execute("DROP TABLE _stamps")
                target.execute("DROP TABLE _files")
                target.execute("DROP TABLE _records")
                target.execute("DROP TABLE IF EXISTS _screen")
                target.execute("DROP TABLE IF EXISTS _screen_state")
                if money is not None:
                    _add_book_columns(target, self.layout, money)
                target.execute("PRAGMA journal_mode=DELETE")
                target.execute("VACUUM")
            finally:
                target.close()
            os.replace(tmp, out)
        except (OSError, sqlite3.Error) as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise CrmError(f"--out {out}: cannot write: {getattr(exc, 'strerror', None) or exc}") from None


def _add_book_columns(conn: sqlite3.Connection, layout: Layout, money: "BookMoney") -> None:
    """Each money field's ``_book`` pair as stored columns of an exported copy (see :func:`book_views`)."""
    from crmctl.core.schema import sql_columns

    conn.create_function("_book", 2, money.text, deterministic=True)
    conn.create_function("_book_num", 2, money.real, deterministic=True)
    for rtype in TYPES:
        fields = layout.fields[rtype]
        currency = quoted("currency") if any(f.name == "currency" for f in fields) else "NULL"
        for f in fields:
            if f.kind != "money":
                continue
            text, real = sql_columns(f)[2:]
            conn.execute(f"ALTER TABLE {quoted(rtype)} ADD COLUMN {quoted(text)} TEXT")
            conn.execute(f"ALTER TABLE {quoted(rtype)} ADD COLUMN {quoted(real)} REAL")
            conn.execute(f"UPDATE {quoted(rtype)} SET {quoted(text)} = _book({quoted(f.name)}, {currency}), "
                         f"{quoted(real)} = _book_num({quoted(f.name)}, {currency})")
    conn.commit()  # the UPDATEs opened a transaction; VACUUM runs outside one


def _entry_problems(rtype: str, data: dict[str, Any], settings: Settings) -> dict[tuple[str, int], frozenset[str]]:
    """``{(field, n): keys}``: the numbers of a record's list entries that its type's own reader refuses beyond
    the rule without context — a quote line's (:func:`crmctl.cpq.quotes.stored_numbers`: a discount over 100%,
    a price with too many decimals, a qty of 1.5)."""
    if rtype != "quotes" or not data.get("lines"):
        return {}
    from crmctl.core.numbers import price_digits
    from crmctl.cpq.quotes import stored_numbers

    found: dict[tuple[str, int], set[str]] = {}
    for where, _ in stored_numbers(data, price_digits(settings)):
        if len(where) >= 3 and isinstance(where[2], str):
            found.setdefault((str(where[0]), int(where[1]) + 1), set()).add(where[2])
    return {k: frozenset(v) for k, v in found.items()}


def _child_values(item: Any, left_out: bool | frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
    """The columns of one entry of a list field: its keys (or ``value``), each number (a text or int the rule
    without context counts: :func:`_stored`) with a ``_num``. ``left_out``: the whole entry (True) or the keys
    whose value the reports leave out — their ``_num`` is NULL (the column is still made, so ``dsum`` can tell)."""
    pairs = item.items() if isinstance(item, dict) else [("value", item)]
    for key, value in pairs:
        key = str(key)
        if key in ("n",) or key.endswith("_id") and key[:-3] in SINGULAR.values():
            key = f"entry_{key}"  # never hides the position or the parent's id
        yield key, cell(value)
        if type(value) in (str, int):
            amount = _stored(value)
            if amount is not None:
                yield f"{key}_num", None if left_out is True or key in left_out else float(amount)


# ---------------------------------------------------------------- commands reading through it

SWITCH = "CRMCTL_READ_MODEL"  # "off": every command reads the records themselves (tests compare both paths)


def enabled() -> bool:
    """Whether commands may answer from the read model (``$CRMCTL_READ_MODEL`` is not ``off``)."""
    return os.environ.get(SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


def answers_for(book: "Book") -> bool:
    """Whether the read model may answer for ``book`` at all: it is switched on (:func:`enabled`) and ``book`` is the
    files as they are now. The read model holds today's files only, so a book read as of a past day
    (:class:`crmctl.core.snapshot.Snapshot`, ``reads_files`` False) is never answered from it (nor from
    :mod:`crmctl.core.memo`, which asks here): every reader of it reads that day's records. The one place this is
    decided; :func:`open_model`, :func:`refresh_for` and :func:`select` all ask it."""
    return enabled() and book.reads_files


def open_model(book: "Book") -> ReadModel | None:
    """The book's read model, open for reading and refreshing; None when it cannot answer for ``book``
    (:func:`answers_for`: switched off, a past day's book) or cannot be opened (SQLite failing)."""
    if not answers_for(book):
        return None
    try:
        return ReadModel(book.root, book.settings, stats=book.stats)
    except (sqlite3.Error, OSError):
        return None


def refresh_for(book: "Book", model: ReadModel, types: Sequence[str]) -> bool:
    """Make the tables of ``types`` fresh; their bad files join ``book.problems``.

    False when the read model cannot answer for them — a book it does not
    answer for (:func:`answers_for`), a type this process has changed (the
    files may not say so yet), ``.crmctl/`` not writable, SQLite failing —
    and the caller reads the records instead.
    """
    if not answers_for(book) or any(book.changed(t) for t in types):
        return False
    try:
        model.refresh(types)
    except (sqlite3.Error, OSError):
        return False
    book.problems.extend(p for p in model.problems if p not in book.problems)
    return True


def select(book: "Book", types: Sequence[str], statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
    """The rows of one internal ``statement`` once the tables of ``types`` are fresh; its bad files join ``book.problems``.

    None when the read model cannot answer (:func:`open_model`, :func:`refresh_for`): the caller reads the records.
    """
    model = open_model(book)
    if model is None:
        return None
    try:
        if not refresh_for(book, model, types):
            return None
        return model.conn.execute(statement, tuple(params)).fetchall()
    except (sqlite3.Error, OSError):
        return None
    finally:
        model.close()


# ---------------------------------------------------------------- money in SQL


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # adds with no rounding, however many digits


class DecimalSum:
    """``dsum(x)``: the exact decimal sum of the values the reports would count (:func:`counted`: NULL and
    anything else skipped), as plain decimal text (``'125000.00'``, never ``'1E+3'``)."""

    left_out: frozenset[Any] = frozenset()  # values a _num of the tables read leaves out (Notes.aggregates)

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        amount = counted(value, self.left_out)
        if amount is not None:
            self.total = amount if self.total is None else _EXACT.add(self.total, amount)

    def finalize(self) -> str | None:
        return None if self.total is None else format(self.total, "f")


def counted(value: Any, left_out: frozenset[Any] = frozenset()) -> Decimal | None:
    """The decimal ``dsum`` adds for an SQLite value: a stored text or integer by the reports' rule without a
    field's context (:func:`crmctl.core.numbers.stored_number`: ``-?digits(.digits)?``, no leading zero, no ``-0``,
    below 10^15) that no ``_num`` of the tables read leaves out (``left_out``: a negative amount, ``1234.5`` in CNY,
    a percentage over 100), or a finite REAL an expression made. None for NULL and every other text — ``'1e6'``,
    ``' 1.00'``, ``'0002600000.00'``, ``'12.5%'``, ``'1,000.00'``, digits of other scripts — which the reports
    leave out too."""
    if value is None or isinstance(value, (bool, bytes)):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if value in left_out:
        return None
    return _stored(value)


class Notes:
    """What one ``crmctl sql`` statement met that its rows cannot say: texts ``dsum`` left out, currencies with no
    rate for ``<money>_book``; and the one error that stops it (``dsum(amount, currency)`` over two currencies)."""

    def __init__(self) -> None:
        self.skipped: list[str] = []
        self.no_rate: dict[str, str] = {}
        self.failure: str | None = None
        self.left_out: frozenset[Any] = frozenset()  # values whose _num is NULL in the tables read (see counted)
        self.quoted_names: list[str] = []  # the statement's double-quoted names (names_only)

    def warnings(self) -> list[str]:
        out = []
        if self.skipped:
            shown = ", ".join(repr(t) for t in self.skipped[:3]) + (", ..." if len(self.skipped) > 3 else "")
            out.append(f"sql: dsum left out {len(self.skipped)} value{'s' if len(self.skipped) > 1 else ''} that "
                       f"{'are' if len(self.skipped) > 1 else 'is'} not a number: {shown}")
        out.extend(f"sql: {why}; its <money>_book columns are NULL" for why in self.no_rate.values())
        return out

    def aggregates(self, book_currency: str | None = None) -> tuple[type, type]:
        """``dsum(x)`` noting the texts it leaves out, and ``dsum(x, currency)`` refusing to add two currencies;
        a NULL or empty currency is ``book_currency`` (a record without ``currency:`` is in the book currency for
        every report), or "no currency" when that is not known."""
        notes = self

        class Noted(DecimalSum):
            def step(self, value: Any) -> None:
                self.left_out = notes.left_out
                if counted(value, notes.left_out) is None and value is not None and len(notes.skipped) < 1000:
                    notes.skipped.append(str(value))
                super().step(value)

        class InOneCurrency(Noted):
            def __init__(self) -> None:
                super().__init__()
                self.currency: tuple[str | None, bool] | None = None  # (the code, whether the row named it)

            def step(self, value: Any, currency: Any = None) -> None:  # type: ignore[override]
                if counted(value, notes.left_out) is None:
                    super().step(value)  # skipped (and noted): its currency adds nothing
                    return
                named = str(currency or "") or None
                code = (named or book_currency, named is not None)
                if self.currency is not None and code[0] != self.currency[0]:
                    met = " and ".join(sorted(_currency_label(*c, book_currency) for c in (self.currency, code)))
                    notes.failure = (f"sql: dsum(x, currency) met {met} in one group; "
                                     "GROUP BY currency, or add the <money>_book column (the book currency)")
                    raise ValueError(notes.failure)
                self.currency = self.currency if self.currency is not None and self.currency[1] else code
                super().step(value)

        return Noted, InOneCurrency


def _currency_label(code: str | None, named: bool, book_currency: str | None) -> str:
    """How a dsum refusal names a row's currency: ``EUR``; ``CNY (no currency: the book's)``; ``no currency``."""
    if named or code is None:
        return code or "no currency"
    return f"{code} (no currency: the book's)"


class BookMoney:
    """A money field in the book currency as the L2C reports convert it: :meth:`Rates.convert
    <crmctl.l2c.rates.Rates.convert>` at the rate of ``day`` (today; the reports' as-of day), rounded to the book
    currency. NULL (None) for a value the reports leave out (:func:`crmctl.core.schema.number_problem`) and for a
    currency with no rate on or before ``day`` — never a guess. ``rates`` is loaded on first use."""

    def __init__(self, settings: Settings, day: Any, load_rates: Any, notes: Notes) -> None:
        self.settings, self.day, self.notes = settings, day, notes
        self._load_rates = load_rates
        self._rates: Any = None
        self._field = Field("amount", "money")

    @classmethod
    def of(cls, book: "Book", notes: Notes) -> "BookMoney":
        """The book's money as of today (``CRMCTL_NOW``), with the rates of ``records/rates.yaml``."""
        from crmctl.core.clock import today
        from crmctl.l2c.rates import Rates

        settings = book.settings
        return cls(settings, today(settings), lambda: Rates.load(book, settings.currency, settings.rounding), notes)

    def text(self, value: Any, currency: Any) -> str | None:
        """``_book(amount, currency)``: the exact text in the book currency (``'371760.00'``), or NULL."""
        converted = self._converted(value, currency)
        return None if converted is None else str(converted)

    def real(self, value: Any, currency: Any) -> float | None:
        """``_book_num(amount, currency)``: the same as a REAL."""
        converted = self._converted(value, currency)
        return None if converted is None else float(converted)

    def _converted(self, value: Any, currency: Any) -> Decimal | None:
        from crmctl.core.errors import ValidationError
        from crmctl.core.money import money_str, to_decimal
        from crmctl.core.schema import number_problem

        if value is None or isinstance(value, (bytes, float)):
            return None
        book = self.settings.currency
        code = str(currency or "") or book
        if number_problem(self._field, value, code):
            return None  # the reports leave this value out (and `crmctl sql` warns about its record)
        if self._rates is None:
            self._rates = self._load_rates()
        try:
            return Decimal(money_str(self._rates.convert(to_decimal(value), code, self.day), book))
        except ValidationError as exc:
            self.notes.no_rate.setdefault(code, str(exc))
            return None


def table_list(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' "
                                       "ESCAPE '\\' ORDER BY name")]


def column_names(description: Sequence[Sequence[Any]]) -> list[str]:
    """The result's column names, a repeated name numbered (``id``, ``id:2``) so no column hides another."""
    out: list[str] = []
    for col in description:
        name, n = str(col[0]), 2
        while name in out:
            name, n = f"{col[0]}:{n}", n + 1
        out.append(name)
    return out


def book_views(layout: Layout) -> list[str]:
    """``CREATE TEMP VIEW`` statements that show each type table with ``<money>_book`` and ``<money>_book_num``
    beside each money field (a temp view of the same name hides the stored table for unqualified names)."""
    from crmctl.core.schema import sql_columns

    out = []
    for rtype in TYPES:
        fields = layout.fields[rtype]
        if not any(f.kind == "money" for f in fields):
            continue
        currency = quoted("currency") if any(f.name == "currency" for f in fields) else "NULL"
        parts = ["id"]
        for f in fields:
            names = sql_columns(f)
            parts.extend(quoted(c) for c in names[:2])
            if f.kind == "money":
                parts.append(f"_book({quoted(f.name)}, {currency}) AS {quoted(names[2])}")
                parts.append(f"_book_num({quoted(f.name)}, {currency}) AS {quoted(names[3])}")
        out.append(f"CREATE TEMP VIEW {quoted(rtype)} AS SELECT {', '.join(parts)} FROM main.{quoted(rtype)}")
    return out


# ---------------------------------------------------------------- queries

# what a read-only statement may do (sqlite3's authorizer action codes); anything else is refused
# functions a read may not call: fts3_tokenizer gives out a pointer into this process (and, where enabled, takes
# one to run; load_extension is off in the connection); the shell's file functions, should a build have them, touch files
_UNSAFE_FUNCTIONS = {"fts3_tokenizer", "readfile", "writefile", "edit", "fts5"}
MAX_VALUE_BYTES = 64 * 1024 * 1024  # one text or blob a statement makes (zeroblob(1e9)): SQLite refuses it at once
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
# pragmas that only read: with an argument naming a table or index ...
_READ_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                 "foreign_key_list"}
# ... or with none (``PRAGMA user_version`` reads it; ``PRAGMA user_version = 1`` would set it)
_QUERY_PRAGMAS = {"user_version", "schema_version", "application_id", "encoding", "page_size", "page_count",
                  "freelist_count", "database_list", "collation_list", "function_list", "module_list", "pragma_list",
                  "compile_options", "data_version", "foreign_keys", "case_sensitive_like", "query_only"}
# tables SQLite itself reads (and, for a table-valued pragma like pragma_table_info('x'), names as UPDATEd while
# preparing it: nothing is written, the connection is read-only; a CREATE is refused by its own action)
_SCHEMA_TABLES = {"sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"}
_AUTHORIZER_ACTIONS = ("CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
                       "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
                       "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
                       "DROP_VIEW", "INSERT", "PRAGMA", "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE",
                       "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "SAVEPOINT")
_ACTIONS = {getattr(sqlite3, f"SQLITE_{name}"): name.lower().replace("_", " ")
            for name in _AUTHORIZER_ACTIONS if hasattr(sqlite3, f"SQLITE_{name}")}
TABLE_ROWS = 10_000  # a table is laid out whole; more rows than this are for --format csv/json/yaml (streamed)


class Refused(CrmError):
    """A statement that would change the read model (only reading is allowed)."""


class BadQuery(CrmError):
    """A statement SQLite cannot run."""


class Guard:
    """An authorizer that lets a statement read and nothing else, and notes the tables it reads."""

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.refused: str | None = None
        self.internal: str | None = None  # a bookkeeping table (``_stamps``) the statement tried to read

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
        if action == sqlite3.SQLITE_READ and arg1 and arg1.startswith("_") and not trigger:
            self.internal = self.internal or arg1  # crmctl's bookkeeping, not a table of the book
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_READ and arg1:
            self.tables.add(arg1)
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _UNSAFE_FUNCTIONS:
            self.refused = self.refused or f"function {arg2}"
            return sqlite3.SQLITE_DENY
        if action in _ALLOWED or self._reading_pragma(action, arg1, arg2):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 in _SCHEMA_TABLES and self.refused is None:
            return sqlite3.SQLITE_OK
        if self.refused is None or self.refused.split()[-1] in _SCHEMA_TABLES:  # name the CREATE, not its bookkeeping
            what = _ACTIONS.get(action, f"action {action}")
            self.refused = f"{what} {arg1}" if arg1 else what
        return sqlite3.SQLITE_DENY

    @staticmethod
    def _reading_pragma(action: int, name: str | None, argument: str | None) -> bool:
        if action != sqlite3.SQLITE_PRAGMA:
            return False
        name = (name or "").lower()
        return name in _READ_PRAGMAS or (name in _QUERY_PRAGMAS and argument is None)


def _reader(path: str, layout: Layout | None = None, money: BookMoney | None = None,
            notes: Notes | None = None) -> sqlite3.Connection:
    """The read model opened read-only twice over: a ``mode=ro`` URI and ``PRAGMA query_only``; with ``money``, each
    type table is seen through a temp view adding its ``<money>_book`` columns (:func:`book_views`)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    noted, in_one_currency = (notes or Notes()).aggregates(money.settings.currency if money is not None else None)
    conn.create_aggregate("dsum", 1, noted)  # type: ignore[arg-type]
    conn.create_aggregate("dsum", 2, in_one_currency)  # type: ignore[arg-type]
    if money is not None and layout is not None:
        conn.create_function("_book", 2, money.text, deterministic=True)
        conn.create_function("_book_num", 2, money.real, deterministic=True)
        for statement in book_views(layout):  # in the temp schema, before query_only: nothing of the file changes
            conn.execute(statement)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _refused(guard: Guard) -> CrmError:
    if guard.internal is not None:
        return BadQuery(f"sql: {guard.internal} is crmctl's bookkeeping, not a table of the book; "
                        "`crmctl sql --tables` lists the tables")
    return Refused(f"sql: refused ({guard.refused}): `crmctl sql` only reads (SELECT, WITH ... SELECT); "
                   "change records with crmctl commands or by editing their files")


def _bad_query(exc: Exception, reader: sqlite3.Connection, layout: Layout, notes: Notes, statement: str) -> CrmError:
    """SQLite's error as one line, with the names close to a missing table or column (never the whole list)."""
    import difflib

    message = str(exc)
    if notes.failure:
        return BadQuery(notes.failure)
    if message.startswith("no such table:"):
        from crmctl.core.schemas import ALIASES

        wanted = message.split(":", 1)[1].strip().split(".")[-1].lower()
        names = table_list(reader)
        close = ([ALIASES[wanted]] if wanted in ALIASES else []) or [n for n in names if n.startswith(wanted)][:3] or \
            difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        return BadQuery(f"sql: {message}{hint} (`crmctl sql --tables` lists the tables and their columns)")
    if message.startswith("no such column:"):
        missing = message.split(":", 1)[1].strip()
        if missing in notes.quoted_names:  # "won": SQL names a column in double quotes, text goes in single ones
            text = missing.replace("'", "''")
            return BadQuery(f'sql: no column is named "{missing}": double quotes name a column; text is written '
                            f"in single quotes ('{text}')")
        return BadQuery(_no_such_column(missing, statement, reader, layout))
    if message.startswith("cannot modify ") and message.endswith(" because it is a view"):
        guard = Guard()  # a type table with money is a temp view (book_views): SQLite stops before the authorizer
        guard.refused = f"change {message.split()[2]}"
        return _refused(guard)
    if message == "string or blob too big":
        return BadQuery(f"sql: a value the statement makes is over {MAX_VALUE_BYTES // (1024 * 1024)} MB (string or "
                        "blob too big); no field of a book is near that, so `crmctl sql` stops there")
    if message == "not authorized":
        return Refused("sql: not authorized: `crmctl sql` reads the book's tables and nothing else "
                       "(no extensions, no other files)")
    return BadQuery(f"sql: {message}")


_WORD = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def _no_such_column(missing: str, statement: str, reader: sqlite3.Connection, layout: Layout) -> str:
    """The line for a column no table the statement reads has: ``missing`` (``owner`` or ``v.owner``), the
    tables it was looked for in, and the names it may have meant — only those tables' columns (never the
    missing name itself): close spellings, and a column referring to what the name refers to in other types
    (visits call their owner ``rep``)."""
    import difflib

    from crmctl.core.schemas import get_schema

    qualifier, _, wanted = missing.rpartition(".")
    named = {w.lower() for w in _WORD.findall(statement)}
    tables = [t for t in table_list(reader) if t.lower() in named]
    if qualifier:  # a table, or an alias given to one: `visits v`, `visits AS v`
        aliased = [t for t in tables if t.lower() == qualifier.lower()
                   or re.search(rf"\b{re.escape(t)}\s+(?:AS\s+)?{re.escape(qualifier)}\b", statement, re.IGNORECASE)]
        if not aliased:  # `SELECT o.amount FROM opportunities`: the name before the dot names nothing
            given = f" (write `FROM {tables[0]} {qualifier}` to name it)" if len(tables) == 1 else ""
            return (f"sql: no such column: {missing}: no table or alias in the statement is named {qualifier}{given} "
                    "(`crmctl sql --tables` lists the tables and their columns)")
        tables = aliased
    columns: list[str] = []
    for table in tables:
        columns += [c for c in (r[1] for r in reader.execute(f"PRAGMA table_info({quoted(table)})")) if c not in columns]
    refers = {f.ref for t in TYPES for f in get_schema(t).fields if f.name == wanted.lower() and f.ref}
    alike = [f.name for t in tables if (rtype := layout.type_of(t)) == t for f in get_schema(rtype).fields
             if f.kind == "ref" and f.ref in refers and f.name in columns]
    close = [c for c in [*alike, *difflib.get_close_matches(wanted.lower(), columns, n=3, cutoff=0.6)]
             if c.lower() != wanted.lower()]
    close = list(dict.fromkeys(close))[:3]
    where = f" ({' and '.join(tables)} {'has' if len(tables) == 1 else 'have'} none)" if tables else ""
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"sql: no such column: {missing}{where}{hint} (`crmctl sql --tables` lists the tables and their columns)"


def table_columns(layout: Layout, rtype: str) -> list[str]:
    """The columns ``crmctl sql`` shows for a type table: :meth:`Layout.columns` and each money field's ``_book`` pair."""
    from crmctl.core.schema import sql_columns

    return ["id", *(c for f in layout.fields[rtype] for c in sql_columns(f))]


def one_statement(statement: str) -> str:
    """``statement`` without the semicolons and blanks after it (``SELECT 1;;`` is one statement)."""
    return statement.rstrip().rstrip(";").rstrip() if statement.rstrip().endswith(";") else statement


# the parts of a statement that are not SQL words: '...' text ('' inside), "..." names ("" inside), [...] and `...`
# names, -- and /* */ comments
_SQL_PARTS = re.compile(r"'(?:[^']|'')*'|\"((?:[^\"]|\"\")*)\"|\[[^\]]*\]|`(?:[^`]|``)*`|--[^\n]*|/\*.*?(?:\*/|$)", re.S)


def names_only(statement: str) -> tuple[str, list[str]]:
    """``statement`` with every double-quoted name written in brackets (``"won"`` -> ``[won]``), and those names.

    SQL's double quotes name a column or table; SQLite, for old programs' sake, takes a double-quoted word that
    names nothing for text — so ``stage = "won"`` was a comparison with the text while ``stage = "stage"``
    compared the column with itself, one spelling meaning two things (attack 8). A bracketed name is never taken
    for text: a name that names nothing is an error (:func:`_bad_query` says to write text in single quotes).
    A name holding ``]`` keeps its double quotes (brackets cannot hold it).
    """
    names: list[str] = []

    def bracket(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None or "]" in name:
            return match.group(0)
        names.append(name.replace('""', '"'))
        return f"[{names[-1]}]"

    return _SQL_PARTS.sub(bracket, statement), names


@dataclass
class Answer:
    """What a query gives: its ``columns``, its ``rows`` (read lazily from SQLite, so a big result is never held
    whole), the ``problems`` of bad files, the ``screened`` records (``(type, id)``: a stored number the reports
    leave out) of the tables read, and ``notes`` filled while the rows are read."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]
    problems: list[Problem]
    screened: list[tuple[str, str]]
    notes: Notes


@contextmanager
def query(root: str, settings: Settings, statement: str, money: BookMoney | None = None,
          notes: Notes | None = None) -> Iterator[Answer]:
    """Run one read-only SQL ``statement`` over the book: an :class:`Answer` while the context is open.

    Only the types the statement reads are refreshed. Errors (each one line):
    :class:`Refused` for a statement that would write, :class:`BadQuery` with
    SQLite's message (and the names close to a missing table or column) for one SQLite cannot run;
    also while the rows are read.
    """
    statement, quoted_names = names_only(one_statement(statement))
    notes = notes or Notes()
    notes.quoted_names = quoted_names
    model = ReadModel(root, settings)
    try:
        guard = Guard()
        reader = _reader(model.path, model.layout, money, notes)
        try:
            reader.set_authorizer(guard)
            try:
                reader.execute(f"EXPLAIN {statement}").fetchall()  # compiles it: the authorizer sees every table read
                types = {t for t in map(model.layout.type_of, guard.tables) if t} if guard.refused is None else set()
            except sqlite3.Error:
                if guard.refused is not None or guard.internal is not None:
                    raise _refused(guard) from None
                types = set(TYPES)  # a child column not seen yet, or a statement EXPLAIN cannot take: read them all
            model.refresh(t for t in TYPES if t in types)
            screened = [(t, i) for t, i in model.conn.execute("SELECT type, id FROM _screen ORDER BY type, id")
                        if t in types]
            if "dsum" in statement.lower():
                notes.left_out = model.left_out(types)
        finally:
            reader.close()
    finally:
        model.close()
    guard = Guard()
    reader = _reader(model.path, model.layout, money, notes)
    try:
        with _stopped_by_ctrl_c(reader) as stop:
            reader.set_authorizer(guard)
            try:
                cursor = reader.execute(statement)
            except (sqlite3.Error, sqlite3.Warning) as exc:
                if stop.requested:
                    raise KeyboardInterrupt from None
                if guard.refused is not None or guard.internal is not None:
                    raise _refused(guard) from None
                raise _bad_query(exc, reader, model.layout, notes, statement) from None
            columns = column_names(cursor.description or ())

            def rows() -> Iterator[tuple[Any, ...]]:
                try:
                    while batch := cursor.fetchmany(1000):
                        yield from batch
                except (sqlite3.Error, sqlite3.Warning) as exc:
                    if stop.requested:
                        raise KeyboardInterrupt from None
                    raise _bad_query(exc, reader, model.layout, notes, statement) from None

            yield Answer(columns, rows(), model.problems, screened, notes)
    finally:
        reader.close()


PROGRESS_STEPS = 10_000  # SQLite VM steps between two calls back into Python while a statement runs


class _Stop:
    """Whether Ctrl-C came while a statement ran (the SIGINT handler of :func:`_stopped_by_ctrl_c` says so)."""

    def __init__(self) -> None:
        self.requested = False


@contextmanager
def _stopped_by_ctrl_c(conn: sqlite3.Connection) -> Iterator[_Stop]:
    """Ctrl-C stops ``conn``'s statement, even inside one long SQLite step (an aggregate over a recursive CTE):
    a progress handler lets Python run its signal handlers every :data:`PROGRESS_STEPS` VM steps, and the SIGINT
    handler here interrupts the statement; the caller sees :class:`KeyboardInterrupt` (exit 130), never an SQL
    error. Ctrl-C during the block raises KeyboardInterrupt at its end if nothing else did. Outside the main
    thread (where no signal handler can be set) only the progress handler is installed."""
    import signal
    import threading

    stop = _Stop()

    def on_sigint(signum: int, frame: Any) -> None:
        stop.requested = True
        conn.interrupt()

    conn.set_progress_handler(lambda: 0, PROGRESS_STEPS)  # no Python call per step: only a chance to run handlers
    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        yield stop
    finally:
        if main and before is not None:
            signal.signal(signal.SIGINT, before)
    if stop.requested:
        raise KeyboardInterrupt


def note_screened(book: "Book", screened: Iterable[tuple[str, str]]) -> None:
    """Add to ``book.problems`` the warning every report gives about these records' stored numbers
    (:meth:`crmctl.core.book.Book.screen`: ``path:line: ... (its value is left out of figures)``)."""
    from crmctl.core import yamlio
    from crmctl.core.errors import LoadError

    for rtype, rid in screened:
        try:
            data, lines = yamlio.load_path(book.path_for(rtype, rid), f"records/{rtype}/{rid}.yaml")
        except (LoadError, CrmError):
            continue  # changed since it was read: the next query reads it again
        book.screen(rtype, rid, data, lines)
