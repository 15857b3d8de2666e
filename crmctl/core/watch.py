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
import sys
from typing import Any

from crmctl.core import jsonio
from crmctl.core.cache import Listing, merge_steps, save_bytes, stat_all, stat_fields

PROTOCOL = 1
LISTING_VERSION = 3  # 3: a body and a head of steps, each naming its type
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


def daemon_pid(root: str) -> int | None:
    """The pid in ``.crmctl/watch.pid`` if that process is this book's watcher (its command line says so)."""
    from crmctl.core.watchd import PID_FILE

    try:
        with open(os.path.join(root, ".crmctl", PID_FILE), encoding="utf-8") as handle:
            pid = int(handle.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"crmctl.core.watchd" in argv and os.fsencode(root) in argv else None


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
        pid = daemon_pid(root)
        # said once per command: the wait (TIMEOUT) is never again in this process, and every file is checked
        sys.stderr.write(f"warning: the watcher of {root}{f' (pid {pid})' if pid else ''} does not answer; this command "
                         "checks every file instead (`crmctl watch stop` ends it)\n")
        return None
    if answer is None or not isinstance(answer.get("changes"), dict):
        return None
    return answer["token"], answer["changes"]


# ---------------------------------------------------------------- listings
#
# Per type, two files under .crmctl/stats/ (each written whole and renamed into place, :func:`save_bytes`):
#   <type>.bin   the body: a whole listing — marshal (LISTING_VERSION, type, digest, names, fields), fields as
#                cache.stat_fields gives them; written when every file was stat'ed, and when the steps grow long
#   <type>.head  small: marshal (LISTING_VERSION, type, body digest, token, steps, links) — steps are the changes
#                since the body, oldest first, each (digest after it, {name: fields, or None when gone}); links
#                are the fields of the files with more than one hard link, as the last step left them
# A pull that changes 100 files rewrites the head, not a 50,000-file body: the next command pays for what
# changed. A listing's digest after a step is blake2b(digest before, the step): equal digests still mean equal
# listings (the digest before says the rest), though not every equal listing has the same digest — a cache
# made at another digest is only remade, never trusted wrongly.

COMPACT_AT = 2000  # names in the steps after which the body is rewritten (and the steps emptied)


def listing_path(root: str, rtype: str) -> str:
    return os.path.join(root, ".crmctl", "stats", f"{rtype}.bin")


def _head_path(root: str, rtype: str) -> str:
    return os.path.join(root, ".crmctl", "stats", f"{rtype}.head")


class _Stored:
    """A type's stored listing: the head decoded, the body read but decoded only when a caller needs names."""

    def __init__(self, body_digest: str, token: Any, steps: list[tuple[str, dict[str, Any]]],
                 links: dict[str, tuple[int, ...]], body: bytes) -> None:
        self.body_digest, self.token, self.steps, self.links, self._body = body_digest, token, steps, links, body

    @property
    def digest(self) -> str:
        return self.steps[-1][0] if self.steps else self.body_digest

    def pending(self) -> dict[str, Any]:
        """Each name changed since the body: its fields now, None when gone."""
        return merge_steps(self.steps)

    def load(self, steps: list[tuple[str, dict[str, Any]]] | None = None) -> tuple[list[str], list[tuple[int, ...]]]:
        """The whole listing after ``steps`` (default the stored ones): the body with every step applied."""
        names, fields = marshal.loads(self._body)
        merged = merge_steps(self.steps if steps is None else steps)
        if not merged:
            return names, fields
        current = dict(zip(names, fields))
        for name, value in merged.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        names = sorted(current)  # in the order stat_all gives
        return names, [current[n] for n in names]

    def listing(self, steps: list[tuple[str, dict[str, Any]]] | None = None, digest: str | None = None) -> Listing:
        """The listing after ``steps`` (default the stored ones), built only when iterated, knowing its history."""
        steps = self.steps if steps is None else steps
        found = Listing(digest=digest or self.digest, load=lambda: self.load(steps))
        found.history = (self.body_digest, steps)
        return found


def _read_stored(root: str, rtype: str) -> _Stored | None:
    """The stored listing of ``rtype``, or None when there is none, it is another version's, or head and body
    do not belong together (a crash between the two writes: the body is written first)."""
    try:
        with open(_head_path(root, rtype), "rb") as handle:
            version, kind, body_digest, token, steps, links = marshal.loads(handle.read())
        if (version, kind) != (LISTING_VERSION, rtype):  # another version's, or another type's copied over it
            return None
        with open(listing_path(root, rtype), "rb") as handle:
            raw = handle.read()
        size = int.from_bytes(raw[:4], "big")
        if marshal.loads(raw[4:4 + size]) != (LISTING_VERSION, rtype, body_digest):
            return None
        return _Stored(body_digest, token, steps, links, raw[4 + size:])
    except (OSError, ValueError, EOFError, TypeError):
        return None


def _write_head(root: str, rtype: str, body_digest: str, token: Any, steps: list[tuple[str, dict[str, Any]]],
                links: dict[str, tuple[int, ...]]) -> None:
    save_bytes(_head_path(root, rtype), marshal.dumps((LISTING_VERSION, rtype, body_digest, token, steps, links)))


def _write_whole(root: str, rtype: str, token: Any, listing: Listing) -> None:
    """A whole listing as the body, then a head with no steps (a read-only book: the next command asks again from
    the old files, or stats every file)."""
    names, fields = listing.names(), listing.fields()
    head = marshal.dumps((LISTING_VERSION, rtype, listing.digest))
    save_bytes(listing_path(root, rtype), len(head).to_bytes(4, "big") + head + marshal.dumps((names, fields)))
    links = {n: f for n, f in zip(names, fields) if f[5] > 1}
    _write_head(root, rtype, listing.digest, token, [], links)


def _step_digest(before: str, diff: dict[str, Any]) -> str:
    """The digest of a listing one step after the listing ``before``: a hash of that digest and the step."""
    h = hashlib.blake2b(before.encode(), digest_size=20)
    h.update(marshal.dumps(sorted(diff.items()), 2))
    return h.hexdigest()


_UNKNOWN = object()  # a name's fields in the body, which is not decoded to compare a few names


def folder_stats(folder: str) -> Listing | None:
    """The folder's record files (:class:`crmctl.core.cache.Listing`), proven by the book's daemon; None without one.

    ``folder`` is ``<book>/records/<type>``. Where the daemon cannot vouch, every file is stat'ed
    (:func:`crmctl.core.cache.stat_all`) and the listing stored for next time. Else only the names it reports
    (and the files with more than one hard link) are stat'ed: a name whose fields differ from the stored ones —
    or that is not among the steps, whose fields in the body are not looked up — makes a step; the listing
    returned knows the steps since its body (:meth:`Listing.changes_since`) and is decoded only when iterated.
    """
    rtype = os.path.basename(folder)
    root = os.path.dirname(os.path.dirname(folder))
    stored = _read_stored(root, rtype)
    asked = changes(root, {rtype: stored.token if stored else None})
    if asked is None:
        return None
    token, changed = asked
    names_changed = changed.get(rtype)
    if stored is None or names_changed is None:  # the daemon cannot vouch: every file, as without it
        found = stat_all(folder)
        _write_whole(root, rtype, token, found)
        return found
    recheck = {n for n in names_changed if n.endswith(".yaml") and not n.startswith(".")}
    recheck.update(stored.links)  # hard links: a write through the other name is reported on the other folder
    if not recheck:
        return stored.listing()
    pending = stored.pending()
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):  # removed since the answer: the stat rule says what is there
        return None
    diff: dict[str, Any] = {}
    try:
        for name in sorted(recheck):
            try:
                now: Any = stat_fields(os.stat(name, dir_fd=fd, follow_symlinks=False))
            except FileNotFoundError:
                now = None
            before = pending[name] if name in pending else stored.links.get(name, _UNKNOWN)
            if now != before:
                diff[name] = now
    finally:
        os.close(fd)
    if not diff:  # the stored token still holds: nothing it lists has changed
        return stored.listing()
    digest = _step_digest(stored.digest, diff)
    steps = [*stored.steps, (digest, diff)]
    links = {**stored.links}
    for name, now in diff.items():
        if now is not None and now[5] > 1:
            links[name] = now
        else:
            links.pop(name, None)
    if len(pending.keys() | diff.keys()) > COMPACT_AT:  # a long history: one whole body again
        names, fields = stored.load(steps)
        whole = Listing(names=names, fields=fields, digest=digest)
        _write_whole(root, rtype, token, whole)
        whole.history = (stored.body_digest, steps)
        return whole
    _write_head(root, rtype, stored.body_digest, token, steps, links)
    return stored.listing(steps, digest)
