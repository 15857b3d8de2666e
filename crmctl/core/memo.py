"""Results of pure computations over the book, remembered by everything they were computed from.

A report can end in work that is the same every time the book is the same:
``report sfe``'s Act list runs a whole week's visit plan (every account's
cadence against 50,000 visits) to say how many missed visits it would move.
:func:`remembered` keeps such a result under ``.crmctl/cache/memo/<name>.json``
with a key made of:

* the digest of each record type's folder the computation reads
  (:attr:`crmctl.core.cache.Listing.digest`: every file's name and stat), so
  any change to one of its files, by any means, is a new key;
* crm.yaml's merged settings, the caller's own ``parts`` (dates, options);
* crmctl's own code (every module's size, mtime, ctime and inode) and the named libraries'
  (``chinese_calendar`` holidays change with its releases).

It answers nothing it cannot key: a type this process has changed, or a book
the read model does not answer for (:func:`crmctl.core.readmodel.answers_for`:
a book read as of another day, :class:`crmctl.core.snapshot.Snapshot`, or the
read model switched off, ``CRMCTL_READ_MODEL=off``, which tests use to compare
both ways) compute afresh. Deleting ``.crmctl/`` stays safe.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

from crmctl.core import cache, jsonio

if TYPE_CHECKING:
    from crmctl.core.book import Book

VERSION = 1
_code: list[str] = []  # this process's fingerprint of crmctl's modules, made once


def code_fingerprint() -> str:
    """A hash of every crmctl module's path and stamp — size, mtime, ctime and inode, as a record file's
    (:func:`crmctl.core.cache.stamp`): an upgrade or an edit is a new fingerprint even when it keeps the size and
    puts the mtime back (``rsync -a``, ``tar x``, ``cp -p``). Made once per process."""
    if not _code:
        _code.append(tree_fingerprint(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return _code[0]


def tree_fingerprint(top: str) -> str:
    """A hash of the path, size, mtime, ctime and inode of every ``*.py`` file under ``top``."""
    h = hashlib.blake2b(digest_size=16)
    for folder, dirs, files in sorted(os.walk(top)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}\n"
                         .encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def library_fingerprint(name: str) -> str:
    """Where a library's package is and its ``__init__``'s size and mtime, without importing it ("absent" if none)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return f"{name}:absent"
    try:
        st = os.stat(spec.origin)
    except OSError:
        return f"{name}:{spec.origin}"
    return f"{name}:{spec.origin}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def key(book: "Book", name: str, types: Sequence[str], parts: Any, libraries: Sequence[str] = ()) -> str | None:
    """The key of ``name``'s result for the book as it is now; None when it cannot be keyed (see the module)."""
    from crmctl.core import readmodel

    if not readmodel.answers_for(book) or any(book.changed(t) for t in types):
        return None
    h = hashlib.blake2b(digest_size=20)
    h.update(jsonio.dump_bytes([VERSION, name, code_fingerprint(), [library_fingerprint(n) for n in libraries],
                                {t: book.stats(t).digest for t in types}]))
    h.update(jsonio.dumps(book.settings.data, default=str).encode())
    h.update(jsonio.dumps(parts, default=str).encode())
    return h.hexdigest()


def remembered(book: "Book", name: str, types: Sequence[str], parts: Any, compute: Callable[[], Any],
               libraries: Sequence[str] = ()) -> Any:
    """``compute()``, or what it returned last time for the same key (:func:`key`). The result must be JSON
    (it is returned as JSON gives it back: lists, dicts, strings, numbers)."""
    found = key(book, name, types, parts, libraries)
    if found is None:
        return compute()
    path = os.path.join(book.root, ".crmctl", "cache", "memo", f"{name}.json")
    try:
        with open(path, "rb") as handle:
            blob = jsonio.loads(handle.read())
        if isinstance(blob, dict) and blob.get("key") == found:
            return blob["value"]
    except (OSError, ValueError, KeyError):
        pass
    value = compute()
    cache.save_json(path, {"key": found, "value": value})
    return jsonio.loads(jsonio.dump_bytes(value))  # the same shape a remembered one comes back in
