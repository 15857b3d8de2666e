"""The change journal: every change lands whole (files and commit) or not at all.

A transaction's new contents are written to temporary files under
``.crmctl/tmp/<txid>/`` (git-ignored), then a journal ``.crmctl/journal/<txid>.json``
naming every path, the content it replaces (a hash) and the commit message
is written and synced, then the temporary files are renamed into ``records/``
and the paths are committed; only then is the journal removed.

The journal is the point of no return. A crmctl killed before it was sealed
left nothing visible (its temporary folder is removed); one killed after it
left a change that the next crmctl, under the book lock, finishes: the
renames still to do are done and the change is committed under its own
message, never swept into another command's commit. See DESIGN.md, "The
change journal".
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from crmctl.core import git
from crmctl.core.errors import CrmError

JOURNALS = os.path.join(".crmctl", "journal")
TEMPS = os.path.join(".crmctl", "tmp")
MARKER = os.path.join(".crmctl", "committing")
LOCK_WINDOW = 5.0  # seconds after crmctl started a git command in which a lock it leaves can be that git's
RECOVERED = "finished by crmctl: the command that started this change was interrupted before its commit"


def kill_point(name: str) -> None:
    """Test hook: ``CRMCTL_TEST_KILL_AT=name`` SIGKILLs this process here (``rename:3``, ``journal``, ``commit``)."""
    if os.environ.get("CRMCTL_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def blob_hash(content: bytes | None) -> str | None:
    """The hash a journal keeps of a file's content (None: the file did not exist)."""
    return None if content is None else hashlib.sha1(content).hexdigest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class Step:
    """One path of a change: write its temporary file (``write``) or delete it; ``before`` is the hash it replaces."""

    rel: str
    write: bool
    before: str | None


class Journal:
    """One change on its way: temporary files, then the sealed journal, then renames and the commit."""

    def __init__(self, book_root: str, txid: str, message: str, author: git.Author | None, commit: bool,
                 sign: bool = False) -> None:
        self.root = book_root
        self.txid = txid
        self.message = message
        self.author = author
        self.commit = commit
        self.sign = sign  # the commit is signed (an approval under policy.signed_approvals), also when recovered
        self.steps: list[Step] = []

    @classmethod
    def begin(cls, book_root: str, message: str, author: git.Author | None, commit: bool, sign: bool = False) -> Journal:
        txid = f"{time.time_ns():x}-{os.getpid()}"
        return cls(book_root, txid, message, author, commit, sign)

    # ---------------------------------------------------------------- paths
    @property
    def path(self) -> str:
        return os.path.join(self.root, JOURNALS, f"{self.txid}.json")

    @property
    def folder(self) -> str:
        return os.path.join(self.root, TEMPS, self.txid)

    def temp(self, rel: str) -> str:
        """Where ``rel``'s new content waits (same file system as the book, so the rename is atomic)."""
        return os.path.join(self.folder, rel)

    def target(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    # ---------------------------------------------------------------- writing
    def seal(self) -> None:
        """Write the journal (synced): from here on the change is finished, never lost."""
        blob = {"message": self.message, "commit": self.commit, "sign": self.sign,
                "author": [self.author.name, self.author.email] if self.author else None,
                "steps": [[s.rel, s.write, s.before] for s in self.steps]}
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".part"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(blob, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(os.path.dirname(self.path))

    def apply(self) -> None:
        """Rename every waiting file into place and delete what the change deletes (idempotent)."""
        for number, step in enumerate(self.steps, 1):
            kill_point(f"rename:{number}")
            if step.write:
                temp = self.temp(step.rel)
                if os.path.exists(temp):
                    self._still_before(step)
                    target = self.target(step.rel)
                    try:
                        os.replace(temp, target)
                    except FileNotFoundError:  # the first record of its type
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        os.replace(temp, target)
            else:
                try:
                    os.unlink(self.target(step.rel))
                except FileNotFoundError:
                    pass

    def _still_before(self, step: Step) -> None:
        """A file about to be replaced on recovery must still be what the change was made from."""
        current = blob_hash(_read(self.target(step.rel)))
        if current != step.before:
            raise CrmError(f"{step.rel}: changed by hand since an interrupted crmctl change ({self.path}) was made; "
                           "compare the two, then delete that journal and its folder under .crmctl/tmp/")

    def close(self) -> None:
        """The change is whole and committed: forget it."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    @classmethod
    def load(cls, book_root: str, path: str) -> Journal:
        with open(path, encoding="utf-8") as handle:
            blob = json.load(handle)
        author = git.Author(*blob["author"]) if blob.get("author") else None
        journal = cls(book_root, os.path.basename(path)[:-5], blob["message"], author, bool(blob.get("commit")),
                      bool(blob.get("sign")))
        journal.steps = [Step(rel, bool(write), before) for rel, write, before in blob["steps"]]
        return journal


# -------------------------------------------------------------------- committing

def commit(journal: Journal, git_root: str, contents: dict[str, bytes] | None = None, message: str | None = None) -> bool:
    """Commit exactly the journal's paths under its message, marking the commit so a crash inside git is known."""
    prefix = os.path.relpath(journal.root, git_root)
    paths = [s.rel if prefix == "." else os.path.join(prefix, s.rel) for s in journal.steps]
    with committing(journal.root, git_root):
        return git.commit(git_root, paths, message or journal.message, journal.author, contents, journal.sign)


class committing:  # noqa: N801 - used as a context manager
    """``.crmctl/committing`` says crmctl is inside git; it names the git processes it started and when.

    A crmctl killed inside git (with its git) leaves this marker. The next one
    removes a git lock file only when the marker says crmctl's own git, now
    dead, may have made it: the lock was last written within
    :data:`LOCK_WINDOW` seconds of that git's start. Any other lock file
    belongs to a live git command and is waited for, then named.
    """

    def __init__(self, book_root: str, git_root: str) -> None:
        self.path = os.path.join(book_root, MARKER)
        self.git_root = git_root

    def __enter__(self) -> committing:
        remove_stale_locks(self.path, self.git_root)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        git.SPAWNED = self._spawned
        return self

    def _spawned(self, pid: int) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"{pid} {time.time():.3f}\n")

    def __exit__(self, *exc: Any) -> None:
        git.SPAWNED = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_locks(marker: str, git_root: str) -> list[str]:
    """Remove the git lock files a killed crmctl's own git left (see :class:`committing`); return them."""
    try:
        with open(marker, encoding="utf-8") as handle:
            spawned = [line.split() for line in handle if line.strip()]
    except FileNotFoundError:
        return []
    removed = []
    starts = []
    for fields in spawned:
        try:
            pid, started = int(fields[0]), float(fields[1])
        except (ValueError, IndexError):
            continue
        if pid == 0 or not _alive(pid):  # 0: crmctl died before it could write the id of the git it started
            starts.append(started)
    for lock in git.lock_files(git_root):
        try:
            written = os.path.getmtime(lock)
        except FileNotFoundError:
            continue
        if any(started - 1 <= written <= started + LOCK_WINDOW for started in starts):
            try:
                os.unlink(lock)
                removed.append(lock)
            except FileNotFoundError:
                pass
    try:
        os.unlink(marker)
    except FileNotFoundError:
        pass
    return removed


# -------------------------------------------------------------------- recovery

def pending(book_root: str) -> list[str]:
    """The journals of changes not finished yet, oldest first (cheap: one listdir)."""
    try:
        names = os.listdir(os.path.join(book_root, JOURNALS))
    except FileNotFoundError:
        return []
    return sorted(os.path.join(book_root, JOURNALS, n) for n in names if n.endswith(".json"))


def leftovers(book_root: str) -> bool:
    """True when an earlier crmctl left a journal or temporary files behind."""
    if pending(book_root):
        return True
    try:
        return bool(os.listdir(os.path.join(book_root, TEMPS)))
    except FileNotFoundError:
        return False


def recover(book_root: str, git_root: str | None) -> list[str]:
    """Finish every journalled change and drop unsealed temporary files; call it holding the book lock.

    Returns the messages of the changes that were finished. A change whose
    commit git refuses now (busy, mid-merge) stays journalled, whole on disk,
    and is named on stderr; it is committed by a later run.
    """
    finished = []
    sealed = set()
    for path in pending(book_root):
        journal = Journal.load(book_root, path)
        sealed.add(journal.txid)
        journal.apply()
        if journal.commit and git_root:
            try:
                commit(journal, git_root, message=f"{journal.message}\n\n{RECOVERED}")
            except CrmError as exc:
                sys.stderr.write(f"warning: an interrupted change ({journal.message}) is on disk but not committed yet: "
                                 f"{exc}\n")
                continue
        journal.close()
        finished.append(journal.message)
    temps = os.path.join(book_root, TEMPS)
    try:
        names = os.listdir(temps)
    except FileNotFoundError:
        names = []
    for name in names:
        if name not in sealed:  # never sealed: the change never happened
            shutil.rmtree(os.path.join(temps, name), ignore_errors=True)
    return finished
