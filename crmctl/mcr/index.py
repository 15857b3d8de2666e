"""The account index: for each record type, account id → ids of its records.

``account show`` on a book of 10,000 accounts and 150,000 related records
must not read them all: that alone costs seconds (even from the JSON cache,
which has to stat every file to prove itself fresh). This index lives under
``.crmctl/cache/mcr-<type>-<shard>.json``, split into shards by key so one
account's lookup parses a small file, and is proven fresh by the stat of the
type's *folder*: every crmctl write, ``git checkout``/``merge`` and most
editors replace files by rename, which changes the folder. A stale type is
rebuilt from the book's own cache in one pass. An editor that rewrites a file
in place leaves the folder alone; the records are still read fresh from
their files and checked against the account asked for, so the view never
shows stale data — at worst it misses a record moved *to* the account by such
an edit until the folder next changes.
"""
from __future__ import annotations

import os
import zlib
from collections import defaultdict

from crmctl.core import jsonio
from crmctl.core.book import Book
from crmctl.core.cache import save_json
from crmctl.core.schemas import get_schema

VERSION = 2
SHARDS = 32


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % SHARDS


def account_field(rtype: str) -> str | None:
    """The field of ``rtype`` that says which account a record belongs to (its first account ref)."""
    for f in get_schema(rtype).fields:
        if f.ref == "accounts" and f.kind == "ref" and f.name not in ("merged_into", "parent"):
            return f.name
    return None


class AccountIndex:
    """Ids of records by account (payments by order, accounts by parent), read shard by shard."""

    def __init__(self, book: Book) -> None:
        self.book = book
        # (type, shard) -> {kind: {key: "id id id"}}
        self._shards: dict[tuple[str, int], dict[str, dict[str, str]]] = {}
        self._fresh: dict[str, bool] = {}

    def _path(self, rtype: str, shard: int) -> str:
        return os.path.join(self.book.root, ".crmctl", "cache", f"mcr-{rtype}-{shard:02d}.json")

    def _stamp(self, rtype: str) -> list[int] | None:
        try:
            st = os.stat(self.book.folder(rtype))
        except FileNotFoundError:
            return None
        return [st.st_mtime_ns, st.st_ino]

    def _shard(self, rtype: str, shard: int) -> dict[str, dict[str, str]]:
        if (rtype, shard) in self._shards:
            return self._shards[(rtype, shard)]
        stamp = self._stamp(rtype)
        try:
            with open(self._path(rtype, shard), "rb") as handle:
                blob = jsonio.loads(handle.read())
            if blob.get("version") == VERSION and blob.get("stamp") == stamp and stamp is not None:
                self._shards[(rtype, shard)] = blob["keys"]
                return blob["keys"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        self._rebuild(rtype, stamp)
        return self._shards[(rtype, shard)]

    def _rebuild(self, rtype: str, stamp: list[int] | None) -> None:
        """One pass over the type (through the book's cache); every shard is rewritten."""
        fields = {"account": account_field(rtype), "order": "order" if rtype == "payments" else None,
                  "parent": "parent" if rtype == "accounts" else None}
        found: dict[str, dict[str, list[str]]] = {k: defaultdict(list) for k, f in fields.items() if f}
        for rec in self.book.live(rtype).values():
            for kind, fname in fields.items():
                if fname and rec.data.get(fname):
                    found[kind][str(rec.data[fname])].append(rec.id)
        shards: list[dict[str, dict[str, str]]] = [{kind: {} for kind in found} for _ in range(SHARDS)]
        for kind, by_key in found.items():
            for key, ids in by_key.items():
                shards[shard_of(key)][kind][key] = " ".join(ids)  # a string parses faster than a list
        for n, keys in enumerate(shards):
            self._shards[(rtype, n)] = keys
        if stamp is not None and stamp == self._stamp(rtype):  # nothing changed while we read
            for n, keys in enumerate(shards):
                save_json(self._path(rtype, n), {"version": VERSION, "stamp": stamp, "keys": keys})

    def ids(self, rtype: str, key: str, by: str = "account") -> list[str]:
        found = self._shard(rtype, shard_of(key)).get(by, {}).get(key, "")
        return found.split() if found else []

