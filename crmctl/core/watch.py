"""The watcher: a folder proven unchanged without a ``stat`` per file.

Every read of a record type first proves which files changed since the
caches were made: one ``lstat`` per file (:func:`crmctl.core.cache.folder_stats`),
about 3 µs each here, so 0.6 s before any work on a book of 200,000 files.
Git has the same floor and the same answer (``core.fsmonitor``): a daemon
that the kernel tells about every change as it happens.

``crmctl watch start`` runs one (:mod:`crmctl.core.watchd`) for a book. It
holds an inotify watch on ``records/`` and on each ``records/<type>/`` and
answers one question over a Unix socket: *which file names of these types
changed since token T?* A token is ``[instance, generation]``: every answer
first reads all events the kernel has queued (a write is queued before its
system call returns, so anything done before the question is in the answer),
then returns the names changed since T and a new token. Where the daemon
cannot vouch — another daemon instance, a type whose folder it began to
watch after T, an overflowed event queue, a folder replaced — it answers
``None`` and the caller stats every file as without a daemon.

The caller keeps, per type, the folder's last listing (names and stats)
with its token under ``.crmctl/stats/`` and stats only the names the daemon
reports (and any file with more than one hard link: a change made through
its other name is reported on the other folder). A listing can never claim
more than the rule it replaces: each stored stat was taken after the answer
whose token it is stored with, so any later change has a later generation
and is reported next time.

Not seen by inotify, so not covered (as for git's fsmonitor): writes through
a shared memory map, and changes made on another machine to a network file
system. ``crmctl watch stop`` (or never starting one) returns to the stat rule.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import socket
import struct
from typing import Any

from crmctl.core import jsonio
from crmctl.core.cache import FileStat, Listing, save_bytes, stat_all, stat_fields

PROTOCOL = 1
LISTING_VERSION = 2
TIMEOUT = 5.0  # seconds a caller waits for an answer before it stats every file itself



def address(root: str) -> bytes:
    """The daemon's socket for a book: an abstract Unix socket named after the book's real path and the user.

    Abstract (Linux): no file under ``.crmctl/`` (whose path may pass the 108-byte limit of socket paths) and
    nothing left behind by a killed daemon. Another user could bind the name first: callers check the peer's uid.
    """
    key = hashlib.sha1(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"\0crmctl-watch-{os.getuid()}-{key}".encode()


class Hung(Exception):
    """The daemon took the connection and did not answer in time."""


def ask(root: str, request: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any] | None:
    """One request to the book's daemon; None when none runs or it is not this user's.

    :class:`Hung` when one took the request and did not answer within ``timeout`` seconds.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(address(root))
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _, uid, _ = struct.unpack("3i", creds)
            if uid != os.getuid():
                return None
            conn.sendall(jsonio.dump_bytes({"protocol": PROTOCOL, **request}) + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return None
                data += chunk
        answer = jsonio.loads(data)
        return answer if isinstance(answer, dict) and answer.get("protocol") == PROTOCOL else None
    except socket.timeout:
        raise Hung() from None
    except (OSError, ValueError):
        return None


_hung: set[str] = set()  # books whose daemon did not answer: this process stats every file rather than wait again


def changes(root: str, since: dict[str, Any]) -> tuple[Any, dict[str, list[str] | None]] | None:
    """``(token now, {type: names changed since since[type], or None when unknown})``; None without a daemon.

    Asked on every read of a type (a refused connection costs microseconds), so a daemon started or stopped
    between two commands of one process (tests) is seen.
    """
    if root in _hung:
        return None
    try:
        answer = ask(root, {"since": since})
    except Hung:
        _hung.add(root)
        return None
    if answer is None or not isinstance(answer.get("changes"), dict):
        return None
    return answer["token"], answer["changes"]


# ---------------------------------------------------------------- listings


def listing_path(root: str, rtype: str) -> str:
    return os.path.join(root, ".crmctl", "stats", f"{rtype}.bin")


def _read_listing(path: str) -> tuple[Any, str, list[str], Any] | None:
    """``(token, digest, names with more than one link, load)`` of a stored listing; ``load()`` decodes its names and
    stat fields, which a caller of an unchanged folder never needs (the digest says it all)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        size = int.from_bytes(raw[:4], "big")
        version, token, digest, links = marshal.loads(raw[4:4 + size])
        if version != LISTING_VERSION:
            return None
    except (OSError, ValueError, EOFError, TypeError):
        return None

    def load() -> tuple[list[str], list[tuple[int, ...]]]:
        names, fields = marshal.loads(raw[4 + size:])
        return names, fields

    return token, digest, links, load


def _write_listing(path: str, token: Any, listing: Listing) -> None:
    links = [n for n, f in zip(listing.names(), listing.fields()) if f[5] > 1]
    head = marshal.dumps((LISTING_VERSION, token, listing.digest, links))
    # a read-only book: the next command asks again from its old listing or stats every file
    save_bytes(path, len(head).to_bytes(4, "big") + head + marshal.dumps((listing.names(), listing.fields())))


def folder_stats(folder: str) -> Listing | None:
    """The folder's record files (:class:`crmctl.core.cache.Listing`), proven by the book's daemon; None without one.

    ``folder`` is ``<book>/records/<type>``. Where the daemon cannot vouch, every file is stat'ed
    (:func:`crmctl.core.cache.stat_all`) and the listing stored for next time.
    """
    rtype = os.path.basename(folder)
    root = os.path.dirname(os.path.dirname(folder))
    path = listing_path(root, rtype)
    stored = _read_listing(path)
    asked = changes(root, {rtype: stored[0] if stored else None})
    if asked is None:
        return None
    token, changed = asked
    names_changed = changed.get(rtype)
    if stored is None or names_changed is None:  # the daemon cannot vouch: every file, as without it
        found = stat_all(folder)
        _write_listing(path, token, found)
        return found
    _, digest, links, load = stored
    recheck = {n for n in names_changed if n.endswith(".yaml") and not n.startswith(".")}
    recheck.update(links)  # hard links: a write through the other name is reported on the other folder
    if not recheck:
        return Listing(digest=digest, load=load)
    names, fields = load()
    current = dict(zip(names, fields))
    before = dict(current)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):  # removed since the answer: the stat rule says what is there
        return None
    try:
        for name in recheck:
            try:
                current[name] = stat_fields(os.stat(name, dir_fd=fd, follow_symlinks=False))
            except FileNotFoundError:
                current.pop(name, None)
    finally:
        os.close(fd)
    if current == before:  # the stored token still holds: nothing it lists has changed
        return Listing(names=names, fields=fields, digest=digest)
    names = sorted(current)  # in the order stat_all gives
    listing = Listing(names=names, fields=[current[n] for n in names])
    listing.delta = (digest, {n: FileStat._make(current[n]) if n in current else None
                              for n in recheck if current.get(n) != before.get(n)})
    _write_listing(path, token, listing)
    return listing
