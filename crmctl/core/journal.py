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
import re
import shutil
import signal
import stat
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from crmctl.core import git
from crmctl.core.errors import CrmError, ValidationError
from crmctl.core.ids import check_id

JOURNALS = os.path.join(".crmctl", "journal")
TEMPS = os.path.join(".crmctl", "tmp")
MARKER = os.path.join(".crmctl", "committing")
LOCK_WINDOW = 5.0  # seconds after crmctl started a git command in which a lock it leaves can be that git's
RECOVERED = "finished by crmctl: the command that started this change was interrupted before its commit"
PRIVATE = os.path.join(".crmctl", ".gitignore")  # '*': git never offers .crmctl/ for a commit, whatever the book's .gitignore
TXID = re.compile(r"[0-9a-f]{1,20}-[0-9]{1,10}")  # what Journal.begin names a change: <time ns hex>-<pid>
STEP_PATH = re.compile(r"records/([^/]+)/([^/]+)\.yaml")  # the only files a change writes (Record.path)


class UntrustedJournal(CrmError):
    """A journal crmctl will not replay: shared through git, not this account's, or naming a path no change writes."""


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
    after: str | None = None  # the hash of the new content (None: deleted, or a journal from before crmctl kept it)


class Journal:
    """One change on its way: temporary files, then the sealed journal, then renames and the commit."""

    def __init__(self, book_root: str, txid: str, message: str, author: git.Author | None, commit: bool,
                 sign_as: str = "") -> None:
        self.root = book_root
        self.txid = txid
        self.message = message
        self.author = author
        self.commit = commit
        # a user id: the commit must be signed with that user's key (an approval under policy.signed_approvals);
        # on recovery it is signed only when git here signs as that user (see recover)
        self.sign_as = sign_as
        self.steps: list[Step] = []

    @property
    def sign(self) -> bool:
        return bool(self.sign_as)

    @classmethod
    def begin(cls, book_root: str, message: str, author: git.Author | None, commit: bool, sign_as: str = "") -> Journal:
        txid = f"{time.time_ns():x}-{os.getpid()}"
        return cls(book_root, txid, message, author, commit, sign_as)

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
        blob = {"message": self.message, "commit": self.commit, "sign": self.sign_as or False,
                "author": [self.author.name, self.author.email] if self.author else None,
                "steps": [[s.rel, s.write, s.before, s.after] for s in self.steps]}
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        keep_private(self.root)
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

    def rollback(self, git_root: str) -> None:
        """Undo an interrupted change (not committed): every path gets back the content it had, from HEAD.

        A path's content before the change is HEAD's (crmctl commits hand edits of the
        files it rewrites first); each restored content is checked against the hash the
        journal kept, and a path changed by hand since is refused (nothing undone).
        """
        prefix = os.path.relpath(self.root, git_root)
        restore: list[tuple[str, bytes | None]] = []
        for step in self.steps:
            current = blob_hash(_read(self.target(step.rel)))
            if current == step.before:
                continue  # never renamed (or already restored)
            if step.after is None and step.write or current != step.after:
                raise UntrustedJournal(f"{step.rel}: changed since an interrupted crmctl change ({self.path}) was made; "
                                       "compare, then delete that journal and its folder under .crmctl/tmp/")
            old = None
            if step.before is not None:
                old = _committed(git_root, step.rel if prefix == "." else os.path.join(prefix, step.rel))
                if blob_hash(old) != step.before:
                    raise UntrustedJournal(f"{step.rel}: its content before an interrupted crmctl change ({self.path}) "
                                           "is not the committed one; compare, then delete that journal and its folder "
                                           "under .crmctl/tmp/")
            restore.append((step.rel, old))
        for rel, old in restore:
            target = self.target(rel)
            if old is None:
                os.unlink(target)
                continue
            tmp = self.temp(rel) + ".undo"
            os.makedirs(os.path.dirname(tmp), exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(old)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        self.close()

    @classmethod
    def load(cls, book_root: str, path: str) -> Journal:
        """Read a journal this account's crmctl wrote here; anything else is refused (:class:`UntrustedJournal`)."""
        name = os.path.basename(path)[:-5]
        where = os.path.relpath(path, book_root)
        if not TXID.fullmatch(name):
            raise UntrustedJournal(f"{where}: is not a journal crmctl writes (its name); it is not replayed: delete it")
        _own_plain_file(path, where)
        try:
            with open(path, encoding="utf-8") as handle:
                blob = json.load(handle)
            author = git.Author(*blob["author"]) if blob.get("author") else None
            sign = blob.get("sign") or ""
            journal = cls(book_root, name, str(blob["message"]), author, bool(blob.get("commit")),
                          sign if isinstance(sign, str) else "?")  # "?": an older journal that did not say whose key
            journal.steps = [Step(str(rel), bool(write), before, *rest[:1]) for rel, write, before, *rest in blob["steps"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UntrustedJournal(f"{where}: is not a journal crmctl wrote ({exc}); it is not replayed: delete it and "
                                   f".crmctl/tmp/{name}/") from None
        for step in journal.steps:
            _check_step(book_root, step.rel, where)
        return journal


def _committed(git_root: str, path: str) -> bytes | None:
    """``path``'s bytes in HEAD (None: not there)."""
    import subprocess

    proc = subprocess.run(["git", "-C", git_root, "cat-file", "blob", f"HEAD:{path}"], capture_output=True,
                          env=git._env())
    return proc.stdout if proc.returncode == 0 else None


def _own_plain_file(path: str, where: str) -> None:
    """A journal is a regular file (no symbolic link) of the account running crmctl."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise UntrustedJournal(f"{where}: is not a plain file (a symbolic link?); it is not replayed: delete it")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UntrustedJournal(f"{where}: was written by another account (uid {info.st_uid}); crmctl replays only its "
                               "own interrupted changes: that account's next crmctl finishes it, or delete it")


def _check_step(book_root: str, rel: str, where: str) -> None:
    """A journal step names a record file ``records/<type>/<id>.yaml`` inside the book, reached without a symbolic link."""
    match = STEP_PATH.fullmatch(rel) if isinstance(rel, str) else None
    try:
        if match is None:
            raise ValidationError("not records/<type>/<id>.yaml")
        check_id(match.group(1), "record type")
        check_id(match.group(2))
    except ValidationError as exc:
        raise UntrustedJournal(f"{where}: names the path {str(rel)[:80]!r}, which no crmctl change writes ({exc}); "
                               "it is not replayed: delete it and its folder under .crmctl/tmp/") from None
    for part in ("records", os.path.join("records", match.group(1)), rel):
        if os.path.islink(os.path.join(book_root, part)):
            raise UntrustedJournal(f"{where}: {part} is a symbolic link; the change is not replayed "
                                   "(records must be plain files and folders inside the book)")


def keep_private(book_root: str) -> None:
    """Make sure git ignores all of ``.crmctl/`` (a ``.crmctl/.gitignore`` of ``*``), whatever the book's .gitignore says."""
    path = os.path.join(book_root, PRIVATE)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# crmctl's own state in this clone (journals, caches): never committed\n*\n")


def shared_state(book_root: str, git_root: str | None) -> list[str]:
    """The files under ``.crmctl/`` that git tracks (should be none: that folder is this clone's own)."""
    if git_root is None:
        return []
    proc = git.run(book_root, "-c", "core.quotePath=false", "ls-files", "-z", "--cached", "--", ".crmctl", check=False)
    return [name for name in proc.stdout.split("\0") if name]


def refuse_shared_state(book_root: str, git_root: str | None) -> None:
    """Refuse (one line) a book whose ``.crmctl/`` holds files git tracks: they came from someone else's commit."""
    tracked = shared_state(book_root, git_root)
    if tracked:
        more = f" (and {len(tracked) - 1} more)" if len(tracked) > 1 else ""
        raise UntrustedJournal(f"{tracked[0]}{more}: is tracked by git, but .crmctl/ is this clone's own state (journals "
                               "of interrupted changes, caches) and is never shared; nothing in it is used: "
                               "`git rm -r --cached .crmctl`, commit, and look at who added it")


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


Judge = Callable[[Journal], "str | None"]


def recover(book_root: str, git_root: str | None, do_commit: bool = True, judge: Judge | None = None) -> list[str]:
    """Finish every journalled change and drop unsealed temporary files; call it holding the book lock.

    ``git_root``: the book's git repository (None: not one); ``do_commit``: commit the
    finished changes (false under ``--no-commit``: a change to be signed then waits).
    Returns what was done, one line each ("finished an interrupted change: ..." /
    "rolled back an interrupted change: ...").
    Only this account's own, untracked journals naming record files are replayed
    (:meth:`Journal.load`, :func:`refuse_shared_state`). A change to be signed
    is finished only as its own signer: ``judge(journal)`` says why it cannot
    be (None: git here signs as that user), and then it is rolled back instead.
    A change whose commit git refuses now (busy, mid-merge) stays journalled,
    whole on disk, and is named on stderr; it is committed by a later run.
    """
    refuse_shared_state(book_root, git_root)
    journals = [Journal.load(book_root, path) for path in pending(book_root)]  # all checked before any is replayed
    finished = []
    sealed = set()
    for journal in journals:
        sealed.add(journal.txid)
        if journal.sign:
            if not (journal.commit and git_root and do_commit):  # waits for a run that commits (signed, as its signer)
                sys.stderr.write(f"warning: an interrupted change ({journal.message.splitlines()[0]}) must be a commit "
                                 f"signed by {journal.sign_as}'s key; it waits for a crmctl run that commits\n")
                continue
            why = judge(journal) if judge else "nothing here can tell whose key must sign it"
            if why:
                journal.rollback(git_root)
                finished.append(f"rolled back an interrupted change: {journal.message.splitlines()[0]} (not committed: "
                                f"it must be a commit signed by {journal.sign_as}'s key, and {why}); "
                                f"{journal.sign_as} must do it again")
                continue
        journal.apply()
        if journal.commit and git_root and do_commit:
            try:
                commit(journal, git_root, message=f"{journal.message}\n\n{RECOVERED}")
            except CrmError as exc:
                sys.stderr.write(f"warning: an interrupted change ({journal.message}) is on disk but not committed yet: "
                                 f"{exc}\n")
                continue
        journal.close()
        finished.append(f"finished an interrupted change: {journal.message.splitlines()[0]}")
    temps = os.path.join(book_root, TEMPS)
    try:
        names = os.listdir(temps)
    except FileNotFoundError:
        names = []
    for name in names:
        if name not in sealed:  # never sealed: the change never happened
            shutil.rmtree(os.path.join(temps, name), ignore_errors=True)
    return finished
