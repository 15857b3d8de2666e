"""The account index: for each record type, account id → ids of its records.

``account show`` must not parse every record of a big book, yet it must see
every change: an editor that rewrites a record in place (moving a deal to
another account) changes that file's stat and nothing else — not the
folder's. So the index is the read model (:mod:`crmctl.core.readmodel`):
``SELECT id FROM <type> WHERE account = ?`` once the type is fresh by the
per-file stat rule (one ``stat`` per file, and only the files whose stat
changed are parsed again). Each type is refreshed once per process, on first
use. When the read model cannot answer (``CRMCTL_READ_MODEL=off``, a type
this process changed, ``.crmctl/`` not writable) the type's records are
scanned instead — slower, never stale. The records found are still read
from their files and checked against the account asked for
(:class:`crmctl.mcr.related.IndexedRelated`).
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from crmctl.core.book import Book
from crmctl.core.schemas import get_schema

if TYPE_CHECKING:
    from crmctl.core.readmodel import ReadModel


def account_field(rtype: str) -> str | None:
    """The field of ``rtype`` that says which account a record belongs to (its first account ref)."""
    for f in get_schema(rtype).fields:
        if f.ref == "accounts" and f.kind == "ref" and f.name not in ("merged_into", "parent"):
            return f.name
    return None


def key_field(rtype: str, by: str) -> str | None:
    """The field an index lookup ``by`` ("account", "order" for payments, "parent" for accounts) reads; None if none."""
    if by == "account":
        return account_field(rtype)
    if (rtype, by) in (("payments", "order"), ("accounts", "parent")):
        return by
    return None


class AccountIndex:
    """Ids of records by account (payments by order, accounts by parent), always as the files are now."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._model: ReadModel | None = None
        self._usable: dict[str, bool] = {}  # type -> the read model answers for it (fresh) or not (scan)
        self._scanned: dict[tuple[str, str], dict[str, list[str]]] = {}

    def ids(self, rtype: str, key: str, by: str = "account") -> list[str]:
        """The ids of the ``rtype`` records whose ``by`` field is ``key``, sorted."""
        fname = key_field(rtype, by)
        if fname is None:
            return []
        if self._fresh(rtype):
            from crmctl.core.readmodel import quoted

            assert self._model is not None
            rows = self._model.conn.execute(
                f"SELECT id FROM {quoted(rtype)} WHERE {quoted(fname)} = ? ORDER BY id", (key,)).fetchall()
            return [r[0] for r in rows]
        return self._scan(rtype, fname).get(key, [])

    def _fresh(self, rtype: str) -> bool:
        """Bring ``rtype``'s table up to date once; False when the read model cannot answer for it."""
        if rtype not in self._usable:
            from crmctl.core import readmodel

            if self._model is None:
                self._model = readmodel.open_model(self.book)
            self._usable[rtype] = self._model is not None and readmodel.refresh_for(self.book, self._model, [rtype])
        return self._usable[rtype]

    def _scan(self, rtype: str, fname: str) -> dict[str, list[str]]:
        """Every record of the type read through the book: key → sorted ids."""
        if (rtype, fname) not in self._scanned:
            found: dict[str, list[str]] = defaultdict(list)
            for rec in sorted(self.book.live(rtype).values(), key=lambda r: r.id):
                value = rec.data.get(fname)
                if value:
                    found[str(value)].append(rec.id)
            self._scanned[(rtype, fname)] = found
        return self._scanned[(rtype, fname)]

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None
