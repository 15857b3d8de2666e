"""The watcher daemon: ``python -m crmctl.core.watchd BOOK`` (started by ``crmctl watch start``).

One process per book, single-threaded: it waits on the inotify descriptor
(reading events as they come, so the kernel's queue rarely overflows) and on
its socket (:func:`crmctl.core.watch.address`). Each request is answered
after every queued event has been read (see :mod:`crmctl.core.watch` for the
protocol and what a token proves). :class:`State` holds the bookkeeping and
does no I/O, so its rules are tested with made-up events.

It ends on ``{"stop": true}``, when the book's ``crm.yaml`` is gone, or when
inotify fails; callers then stat every file again.
"""
from __future__ import annotations

import os
import secrets
import select
import socket
import sys
import time
from stat import S_ISDIR, S_ISREG
from typing import Any

from crmctl.core import jsonio
from crmctl.core.watch import PROTOCOL, address

CHECK_SECONDS = 60.0  # how often an idle daemon looks whether its book still exists
NAME_TAKEN = 4  # exit status: the socket name is held (by a watcher of this user, or by another process)
PID_FILE = "watch.pid"  # under .crmctl/: the daemon's pid, so a hung one can be ended


class State:
    """Which names changed in which type's folder, by generation; the answers a token gets.

    Generations: events read are recorded at the current generation ``gen``;
    an answer first moves ``gen`` on and returns it in the token, so every event
    read before an answer is below its token and every later one is at or
    above it. A token ``[instance, T]`` is good for a type when this instance
    issued it after it began to watch the type (``T > reset[type]``).
    """

    def __init__(self, instance: str | None = None) -> None:
        self.instance = instance or secrets.token_hex(8)
        self.gen = 1
        self.reset: dict[str, int] = {}            # watched type -> the generation its watch began
        self.changed: dict[str, dict[str, int]] = {}  # watched type -> {file name: generation of its last change}
        self.relisted: tuple[int, str] = (0, "")  # how many times no token could vouch for anything, and the last why

    def watched(self, rtype: str) -> None:
        """A watch on the type's folder began now: no earlier token vouches for it."""
        self.reset[rtype] = self.gen
        self.changed[rtype] = {}

    def unwatched(self, rtype: str) -> None:
        self.reset.pop(rtype, None)
        self.changed.pop(rtype, None)

    def note(self, rtype: str, name: str) -> None:
        if rtype in self.changed:
            self.changed[rtype][name] = self.gen

    def overflow(self, why: str = "the kernel's event queue overflowed") -> None:
        """The kernel dropped events (or ``why`` else): no earlier token vouches for anything."""
        for rtype in self.reset:
            self.watched(rtype)
        self.relisted = (self.relisted[0] + 1, why)

    def answer(self, since: dict[str, Any]) -> dict[str, Any]:
        """``{"token": [instance, T], "changes": {type: [names] | None}}`` for ``since`` = ``{type: token | None}``."""
        self.gen += 1
        changes: dict[str, list[str] | None] = {}
        for rtype, token in since.items():
            rtype = str(rtype)
            good = (isinstance(token, list) and len(token) == 2 and token[0] == self.instance
                    and isinstance(token[1], int) and rtype in self.reset and token[1] > self.reset[rtype])
            changes[rtype] = [n for n, g in self.changed[rtype].items() if g >= token[1]] if good else None
        return {"token": [self.instance, self.gen], "changes": changes}


DIR_MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800  # MODIFY ATTRIB CLOSE_WRITE MOVED_* CREATE DELETE *_SELF
ONLYDIR, DONT_FOLLOW = 0x01000000, 0x02000000
Q_OVERFLOW, IGNORED, ISDIR = 0x4000, 0x8000, 0x40000000
SELF_GONE = 0x400 | 0x800 | IGNORED  # DELETE_SELF MOVE_SELF IGNORED
DIR_ARRIVED, DIR_LEFT = 0x100 | 0x80, 0x200 | 0x40  # CREATE MOVED_TO; DELETE MOVED_FROM


class Watcher:
    """The inotify side: watches on ``records/`` and each ``records/<type>/``, kept equal to the folders there."""

    def __init__(self, root: str, state: State) -> None:
        from inotify_simple import INotify  # only the daemon needs it (import ~10 ms)

        self.root = root
        self.records = os.path.join(root, "records")
        self.state = state
        self.inotify = INotify()
        self.top: tuple[int, tuple[int, int]] | None = None   # records/: (wd, (dev, inode))
        self.types: dict[str, tuple[int, tuple[int, int]]] = {}  # type -> (wd, (dev, inode))
        self.by_wd: dict[int, str] = {}

    def fileno(self) -> int:
        return self.inotify.fileno()

    def _identity(self, path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_dev, st.st_ino) if S_ISDIR(st.st_mode) else None  # a symlink is no folder

    def _drop(self, rtype: str) -> None:
        wd, _ = self.types.pop(rtype)
        self.by_wd.pop(wd, None)
        try:
            self.inotify.rm_watch(wd)
        except OSError:
            pass
        self.state.unwatched(rtype)

    def sync(self) -> None:
        """Read every queued event, then make the watches match the folders as they are now."""
        self.drain()
        top = self._identity(self.records)
        if self.top is not None and self.top[1] != top:  # records/ removed or replaced: start over
            for rtype in list(self.types):
                self._drop(rtype)
            try:
                self.inotify.rm_watch(self.top[0])
            except OSError:
                pass
            self.top = None
        if top is None:
            return
        if self.top is None:
            self.top = (self.inotify.add_watch(self.records, 0x100 | 0x200 | 0x40 | 0x80 | 0x400 | 0x800 | ONLYDIR | DONT_FOLLOW), top)
        for rtype in list(self.types):
            if self._identity(os.path.join(self.records, rtype)) != self.types[rtype][1]:
                self._drop(rtype)  # removed, renamed away or replaced: its old watch says nothing of the new one
        with os.scandir(self.records) as entries:
            names = [e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
        for rtype in names:
            if rtype in self.types:
                continue
            folder = os.path.join(self.records, rtype)
            try:
                wd = self.inotify.add_watch(folder, DIR_MASK | ONLYDIR | DONT_FOLLOW)
            except OSError:
                continue
            ident = self._identity(folder)
            if ident is None:
                self.inotify.rm_watch(wd)
                continue
            self.types[rtype] = (wd, ident)
            self.by_wd[wd] = rtype
            self.state.watched(rtype)

    def drain(self) -> None:
        while True:
            events = self.inotify.read(timeout=0)
            if not events:
                return
            for event in events:
                self.apply(event.wd, event.mask, event.name)

    def apply(self, wd: int, mask: int, name: str) -> None:
        if mask & Q_OVERFLOW:
            self.state.overflow()
            return
        rtype = self.by_wd.get(wd)
        if rtype is not None:
            if mask & SELF_GONE and not name:
                self._drop(rtype)
            elif name.endswith(".yaml") and not name.startswith("."):  # record files only (not an editor's temp file)
                self.state.note(rtype, name)
                if mask & DIR_ARRIVED and self._another_name(rtype, name):
                    # a hard link: the file's other name is told nothing when it is written through this one (and
                    # no event says a file gained a name). No earlier token vouches for anything: every folder is
                    # listed again, and a listing stats every file with more than one link at every command.
                    self.state.overflow(f"{rtype}/{name} arrived with a second name (a hard link)")
            return
        if self.top is not None and wd == self.top[0] and mask & ISDIR and name in self.types and mask & DIR_LEFT:
            self._drop(name)  # a watch follows its folder when it is moved away: drop it now


    def _another_name(self, rtype: str, name: str) -> bool:
        """True when the file that just arrived as ``records/<rtype>/<name>`` has more than one link."""
        try:
            st = os.stat(os.path.join(self.records, rtype, name), follow_symlinks=False)
        except OSError:  # gone again already: nothing to follow
            return False
        return S_ISREG(st.st_mode) and st.st_nlink > 1


def _handle(conn: socket.socket, watcher: Watcher, started: float) -> bool:
    """Answer one request; False when the daemon should stop."""
    conn.settimeout(2.0)
    data = b""
    while not data.endswith(b"\n") and len(data) < 1 << 20:
        chunk = conn.recv(65536)
        if not chunk:
            return True
        data += chunk
    try:
        request = jsonio.loads(data)
    except ValueError:
        return True
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
        conn.sendall(jsonio.dump_bytes({"protocol": PROTOCOL, "error": "unknown protocol"}) + b"\n")
        return True
    watcher.sync()
    state = watcher.state
    if request.get("stop"):
        conn.sendall(jsonio.dump_bytes({"protocol": PROTOCOL, "stopping": os.getpid()}) + b"\n")
        return False
    if request.get("status"):
        reply = {"pid": os.getpid(), "root": watcher.root, "since": started, "instance": state.instance,
                 "generation": state.gen, "types": sorted(state.reset),
                 "changed": {t: len(v) for t, v in sorted(state.changed.items())},
                 "relisted": list(state.relisted)}
    else:
        since = request.get("since")
        reply = state.answer(since if isinstance(since, dict) else {})
    conn.sendall(jsonio.dump_bytes({"protocol": PROTOCOL, **reply}) + b"\n")
    return True


def serve(root: str) -> int:
    """Watch ``root`` until stopped; 0 when stopped, 1 when it lost its book, :data:`NAME_TAKEN` when it could not
    take its socket name."""
    root = os.path.realpath(root)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(address(root))
    except OSError:
        print(f"a watcher already runs for {root}", file=sys.stderr)
        return NAME_TAKEN
    server.listen(64)
    pid_file = os.path.join(root, ".crmctl", PID_FILE)
    try:
        with open(pid_file, "w", encoding="utf-8") as handle:  # for `watch stop` when this process hangs
            handle.write(f"{os.getpid()}\n")
    except OSError:
        pass
    try:
        return _serve(root, server)
    finally:
        try:
            with open(pid_file, encoding="utf-8") as handle:
                if handle.read().strip() == str(os.getpid()):
                    os.unlink(pid_file)
        except OSError:
            pass


def _serve(root: str, server: socket.socket) -> int:
    settings = os.path.join(root, "crm.yaml")
    watcher = Watcher(root, State())
    watcher.sync()  # the watches exist before the first answer
    started = time.time()
    while os.path.isfile(settings):
        ready, _, _ = select.select([server, watcher], [], [], CHECK_SECONDS)
        if watcher in ready:
            watcher.drain()
        if server in ready:
            conn, _ = server.accept()
            with conn:
                try:
                    if not _handle(conn, watcher, started):
                        return 0
                except OSError:
                    pass
    return 1


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
