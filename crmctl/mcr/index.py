"""The account index: for each record type, account id → ids of its records.

``account show`` on a book of 10,000 accounts and 150,000 related records
must not read them all: that alone costs seconds (even from the JSON cache,
which has to stat every file to prove itself fresh). This index is one JSON
file per type under ``.crmctl/cache/mcr-<type>.json``, proven fresh by the
stat of the type's *folder*: every crmctl write, ``git checkout``/``merge``
and most editors replace files by rename, which changes the folder. A stale
type is rebuilt from the book's own cache in one pass. An editor that
rewrites a file in place leaves the folder alone; the records are still read
fresh from their files and checked against the account asked for, so the
view never shows stale data — at worst it misses a record moved *to* the
account by such an edit until the folder next changes.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any

from crmctl.core.book import Book
from crmctl.mcr.related import account_field

VERSION = 1


class AccountIndex:
    """Ids of each type's records by account (and payments by order), loaded lazily per type."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._types: dict[str, dict[str, dict[str, list[str]]]] = {}

    def _path(self, rtype: str) -> str:
        return os.path.join(self.book.root, ".crmctl", "cache", f"mcr-{rtype}.json")

    def _stamp(self, rtype: str) -> list[int] | None:
        try:
            st = os.stat(self.book.folder(rtype))
        except FileNotFoundError:
            return None
        return [st.st_mtime_ns, st.st_ino]

    def _load(self, rtype: str) -> dict[str, dict[str, list[str]]]:
        if rtype in self._types:
            return self._types[rtype]
        stamp = self._stamp(rtype)
        try:
            with open(self._path(rtype), encoding="utf-8") as handle:
                blob = json.load(handle)
            if blob.get("version") == VERSION and blob.get("stamp") == stamp and stamp is not None:
                self._types[rtype] = blob["keys"]
                return blob["keys"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        keys = self._build(rtype)
        self._types[rtype] = keys
        if stamp is not None and stamp == self._stamp(rtype):  # nothing changed while we read
            _write(self._path(rtype), {"version": VERSION, "stamp": stamp, "keys": keys})
        return keys

    def _build(self, rtype: str) -> dict[str, dict[str, list[str]]]:
        """One pass over the type (through the book's cache)."""
        fname = account_field(rtype)
        keys: dict[str, dict[str, list[str]]] = {"account": defaultdict(list), "order": defaultdict(list)}
        for rec in self.book.all(rtype):
            if rec.get("merged_into"):
                continue
            if fname and rec.data.get(fname):
                keys["account"][str(rec.data[fname])].append(rec.id)
            if rtype == "payments" and rec.get("order"):
                keys["order"][str(rec.data["order"])].append(rec.id)
        return {k: dict(v) for k, v in keys.items()}

    def ids(self, rtype: str, key: str, by: str = "account") -> list[str]:
        return self._load(rtype).get(by, {}).get(key, [])


def _write(path: str, blob: dict[str, Any]) -> None:
    # best effort, like the book's cache: a read-only book still works
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(blob, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
