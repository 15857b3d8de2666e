"""Git through its command line, with explicit arguments and a clean environment.

The caller's ``GIT_*`` variables (``GIT_DIR`` from a hook, say) are dropped so
crmctl always talks to the book's own repository; an ``index.lock`` left by a
concurrent git process is waited out and retried rather than reported.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

from crmctl.core.errors import CrmError

RETRIES = 30  # about 5 s of waiting for another git process's index.lock


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def available() -> bool:
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
    return env


def run(root: str, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Any:
    """Run ``git -C root ARGS``, retrying while another process holds index.lock."""
    import subprocess  # not needed by read-only commands

    for attempt in range(RETRIES):
        proc = subprocess.run(
            ["git", "-C", root, *args], capture_output=True, text=True, env={**_env(), **(env or {})}, stdin=subprocess.DEVNULL
        )
        if proc.returncode != 0 and "index.lock" in proc.stderr and attempt < RETRIES - 1:
            time.sleep(min(0.02 * (attempt + 1), 0.3))
            continue
        break
    if check and proc.returncode != 0:
        if "index.lock" in proc.stderr:
            raise CrmError(f"git is busy: {root}/.git/index.lock exists; if no git command is running, delete that file and retry")
        message = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise CrmError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
    return proc


def toplevel(path: str) -> str | None:
    """The work tree that holds ``path``, or None when it is not in a git repository."""
    if not available():
        return None
    proc = run(path, "rev-parse", "--show-toplevel", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def config(root: str, key: str) -> str:
    proc = run(root, "config", "--get", key, check=False)
    return proc.stdout.strip()


def commit(root: str, paths: list[str], message: str, author: Author | None) -> bool:
    """Stage exactly ``paths`` (additions and deletions) and commit only them."""
    if not paths:
        return False
    run(root, "add", "-A", "--", *paths)
    if not run(root, "diff", "--cached", "--quiet", "--", *paths, check=False).returncode:
        return False  # nothing changed on disk (an idempotent re-run)
    identity: dict[str, str] = {}
    if author is not None:
        identity = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
        if not config(root, "user.email"):
            # a fresh machine has no git identity; commit as the acting user
            identity.update(GIT_COMMITTER_NAME=author.name, GIT_COMMITTER_EMAIL=author.email)
    elif not config(root, "user.email"):
        identity = {k: v for k, v in (("GIT_AUTHOR_NAME", "crmctl"), ("GIT_AUTHOR_EMAIL", "crmctl@localhost"),
                                        ("GIT_COMMITTER_NAME", "crmctl"), ("GIT_COMMITTER_EMAIL", "crmctl@localhost"))}
    run(root, "commit", "--quiet", "--no-verify", "-m", message, "--", *paths, env=identity)
    return True


def log(root: str, paths: list[str], limit: int = 50) -> list[dict[str, str]]:
    """Commits that touched ``paths``, newest first."""
    fmt = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s"
    proc = run(root, "log", f"-n{limit}", "--follow" if len(paths) == 1 else "--no-merges", f"--format={fmt}", "--", *paths,
               check=False)
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 5:
            rows.append({"commit": parts[0][:10], "author": parts[1], "email": parts[2], "date": parts[3], "message": parts[4]})
    return rows
