"""Git through its command line, with explicit arguments and a clean environment.

The caller's ``GIT_*`` variables (``GIT_DIR`` from a hook, say) are dropped so
crmctl always talks to the book's own repository; an ``index.lock`` left by a
concurrent git process is waited out and retried rather than reported.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from crmctl.core.errors import CrmError

RETRIES = 30  # about 5 s of waiting for another git process's index.lock
_LOCKED = re.compile(r"Unable to create '([^']+\.lock)': File exists")  # another git process holds this lock
BATCH_PATHS = 200  # more paths than this are committed through fast-import (see _commit_batch)
SPAWNED: Callable[[int], None] | None = None  # told 0, then each git process's id, while a commit is marked (journal.committing)
# files whose presence means git is in the middle of something a commit must not interrupt
_MIDWAY = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "REBASE_HEAD", "rebase-merge", "rebase-apply")


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def available() -> bool:
    import shutil  # imported here: most commands never ask, and it costs 6 ms

    return shutil.which("git") is not None


# variables a git hook or a parent git process sets that would point us at another
# repository, index or identity; the user's own config (GIT_CONFIG_GLOBAL, ...) is kept
_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
         "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_CEILING_DIRECTORIES", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
         "GIT_AUTHOR_DATE", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE", "GIT_EDITOR", "GIT_REFLOG_ACTION")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    # git fast-import frees and regrows its heap for every blob; where growing the
    # heap is a slow system call (virtual machines), a batch's pack took 1.3 s
    # instead of 0.16 s. Keeping freed memory is harmless for a short-lived git.
    env.setdefault("MALLOC_TRIM_THRESHOLD_", "67108864")
    env.setdefault("MALLOC_TOP_PAD_", "16777216")
    return env


def run(root: str, *args: str, check: bool = True, env: dict[str, str] | None = None, input: str | None = None) -> Any:
    """Run ``git -C root ARGS``, retrying while another process holds index.lock."""

    for attempt in range(RETRIES):
        proc = _spawn(["git", "-C", root, *args], {**_env(), **(env or {})}, input)
        busy = _LOCKED.search(proc.stderr) if proc.returncode != 0 else None
        if busy and attempt < RETRIES - 1:
            time.sleep(min(0.02 * (attempt + 1), 0.3))
            continue
        break
    if check and proc.returncode != 0:
        if busy:
            raise CrmError(f"git is busy: {busy.group(1)} exists; if no git command is running, delete that file and retry")
        message = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise CrmError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
    return proc


def _spawn(argv: list[str], env: dict[str, str], input: str | None) -> Any:
    """Run one git command to its end; :data:`SPAWNED` (when set) learns its process id first."""
    import subprocess

    if SPAWNED is None:
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(argv, capture_output=True, text=True, env=env, **stdin)  # type: ignore[call-overload]
    SPAWNED(0)  # about to start one: a crash before its id is written still leaves its start time
    popen = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    SPAWNED(popen.pid)
    out, err = popen.communicate(input)
    return subprocess.CompletedProcess(argv, popen.returncode, out, err)


def git_dir(root: str) -> str:
    """The repository's git folder (``.git``, or the one a worktree's ``.git`` file names)."""
    gitdir = os.path.join(root, ".git")
    if os.path.isdir(gitdir):
        return gitdir
    return str(run(root, "rev-parse", "--absolute-git-dir").stdout.strip())


def ready(root: str, wait: float) -> None:
    """Refuse (nothing written yet) unless a commit can happen now.

    A merge, rebase or cherry-pick in progress is refused at once; a lock
    file of another git command (an editor waiting for a commit message,
    ``git add -p``) is waited for up to ``wait`` seconds, then named. crmctl
    never deletes another git's lock.
    """
    gitdir = git_dir(root)
    for name in _MIDWAY:
        if os.path.exists(os.path.join(gitdir, name)):
            raise CrmError(f"git is in the middle of a merge, rebase or cherry-pick ({os.path.join(gitdir, name)} exists); "
                           "finish it (`git status` says how) or abort it, then retry; nothing was written")
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        held = lock_files(root)
        if not held:
            return
        if time.monotonic() >= deadline:
            raise CrmError(f"git is busy: {held[0]} is held by another git command (a commit waiting for its message, "
                           "`git add -p`, ...); finish it and retry; nothing was written. If no git command is running, "
                           "a crashed one left it: remove that file")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def dirty(root: str, paths: list[str]) -> list[str]:
    """Which of ``paths`` differ from the last commit (edited, staged, untracked or deleted by hand)."""
    if not paths:
        return []
    proc = run(root, "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths,
               check=False)
    found = []
    for entry in proc.stdout.split("\0"):
        if len(entry) > 3 and entry[2] == " ":
            found.append(entry[3:])
    return found


def lock_files(root: str) -> list[str]:
    """The lock files a git commit takes that exist now: the index's, HEAD's and the refs'."""
    gitdir = git_dir(root)
    found = [os.path.join(gitdir, name) for name in ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "packed-refs.lock")]
    found = [path for path in found if os.path.exists(path)]
    for folder, _, names in os.walk(os.path.join(gitdir, "refs")):
        found += [os.path.join(folder, name) for name in names if name.endswith(".lock")]
    return found


def toplevel(path: str) -> str | None:
    """The work tree that holds ``path``, or None when it is not in a git repository."""
    if not available():
        return None
    proc = run(path, "rev-parse", "--show-toplevel", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def is_shallow(root: str) -> bool:
    """True in a shallow clone (``git clone --depth N``, CI's default ``fetch-depth: 1``): its history is cut short."""
    return run(root, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"


def config(root: str, key: str) -> str:
    proc = run(root, "config", "--get", key, check=False)
    return proc.stdout.strip()


def commit(root: str, paths: list[str], message: str, author: Author | None,
           contents: dict[str, bytes] | None = None, sign: bool = False) -> bool:
    """Stage exactly ``paths`` (additions and deletions) and commit only them.

    ``contents`` may carry what was just written to some of the paths, so a
    batch of thousands of files is not read back from disk. ``sign``: the
    commit is signed (``git commit -S``, the user's ``user.signingkey``).
    """
    if not paths:
        return False
    if len(paths) > BATCH_PATHS and not sign:
        return _commit_batch(root, paths, message, _identity(root, author), contents or {})
    run(root, "add", "-A", "--", *paths)
    if not run(root, "diff", "--cached", "--quiet", "--", *paths, check=False).returncode:
        return False  # nothing changed on disk (an idempotent re-run)
    run(root, "commit", "--quiet", "--no-verify", *(["-S"] if sign else []), "-m", message, "--", *paths,
        env=_identity(root, author))
    return True


def _identity(root: str, author: Author | None) -> dict[str, str]:
    identity: dict[str, str] = {}
    if author is not None:
        identity = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
        if not config(root, "user.email"):
            # a fresh machine has no git identity; commit as the acting user
            identity.update(GIT_COMMITTER_NAME=author.name, GIT_COMMITTER_EMAIL=author.email)
    elif not config(root, "user.email"):
        identity = {k: v for k, v in (("GIT_AUTHOR_NAME", "crmctl"), ("GIT_AUTHOR_EMAIL", "crmctl@localhost"),
                                        ("GIT_COMMITTER_NAME", "crmctl"), ("GIT_COMMITTER_EMAIL", "crmctl@localhost"))}
    return identity


def _commit_batch(root: str, paths: list[str], message: str, identity: dict[str, str], contents: dict[str, bytes]) -> bool:
    """Commit thousands of files (a batch import) in about the time it takes to read them.

    ``git add -- PATHS`` matches every path against every pathspec (seconds for
    10,000 files), the paths may exceed the command line's limit, and each new
    file becomes a loose object: one more file created per record, which costs
    as much as writing the record. Here the blobs go into one pack through
    ``git fast-import``, the index learns exactly these paths, and when nothing
    else is staged a plain commit is the same commit as ``commit -- PATHS``.
    Records are plain UTF-8 files with LF line ends, so no clean filter applies.
    """
    import hashlib

    stream: list[bytes] = []
    entries: list[str] = []
    for path in paths:
        try:
            content = contents.get(path)
            if content is None:
                with open(os.path.join(root, path), "rb") as handle:
                    content = handle.read()
        except FileNotFoundError:
            entries.append(f"0 {'0' * 40}\t{path}")  # deleted: drop it from the index
            continue
        sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        stream.append(b"blob\ndata %d\n%s\n" % (len(content), content))
        entries.append(f"100644 {sha}\t{path}")
    if stream:
        import subprocess

        proc = subprocess.run(["git", "-C", root, "fast-import", "--quiet"], input=b"".join(stream), capture_output=True,
                              env=_env())
        if proc.returncode != 0:
            raise CrmError(f"git fast-import failed: {proc.stderr.decode(errors='replace').strip()[-200:]}")
    run(root, "update-index", "-z", "--index-info", input="\0".join(entries) + "\0")
    run(root, "update-index", "-q", "--refresh", check=False)  # record the files' stat, so status stays fast
    staged = run(root, "diff", "--cached", "--name-only", "-z", check=False)
    names = set(staged.stdout.split("\0")) - {""}
    ours = set(paths)
    if staged.returncode == 0 and not names & ours:
        return False  # nothing changed on disk (an idempotent re-run)
    if staged.returncode == 0 and names <= ours:
        run(root, "commit", "--quiet", "--no-verify", "-m", message, env=identity)
    else:  # someone staged other files, or there is no HEAD yet: commit only ours
        run(root, "commit", "--quiet", "--no-verify", "-m", message, "--pathspec-from-file=-", "--pathspec-file-nul",
            env=identity, input="\0".join(paths) + "\0")
    return True


def log(root: str, paths: list[str], limit: int = 50, rev: str = "HEAD") -> list[dict[str, str]]:
    """Commits up to ``rev`` that touched ``paths``, newest first.

    Each ``{commit, author, email, date (author date), committed (committer date), message}``; dates ISO 8601
    with the offset the commit carries.
    """
    fmt = "%H%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%s"
    proc = run(root, "log", f"-n{limit}", "--follow" if len(paths) == 1 else "--no-merges", f"--format={fmt}", rev,
               "--", *paths, check=False)
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 6:
            rows.append({"commit": parts[0][:10], "author": parts[1], "email": parts[2], "date": parts[3],
                         "committed": parts[4], "message": parts[5]})
    return rows
