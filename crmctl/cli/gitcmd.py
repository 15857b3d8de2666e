"""``crmctl git``: the record-aware merge driver and the pre-commit hook.

``crmctl git setup`` (run by ``crmctl init``; run it once in every clone)
registers the merge driver in ``.git/config`` and routes ``records/**.yaml``
to it through ``.gitattributes``; git then calls ``crmctl git merge-driver``
for every record both sides changed.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys

import click

from crmctl.core import git
from crmctl.core.errors import CrmError

ATTRIBUTES = "records/**/*.yaml merge=crmctl\n"
HOOK = "#!/bin/sh\n# installed by `crmctl git setup`: refuse to commit a book that fails `crmctl check`\nexec {cmd} --book \"$(git rev-parse --show-toplevel)\" check\n"


def _self_command() -> str:
    return f"{shlex.quote(sys.executable)} -m crmctl"


def install(root: str, hook: bool = True) -> list[str]:
    """Register the driver (and hook) in the repository at ``root``; return what was done."""
    top = git.toplevel(root)
    if top is None:
        raise CrmError(f"{root} is not in a git repository; run `git init` first")
    done = []
    git.run(top, "config", "merge.crmctl.name", "crmctl record-aware merge (three-way by key)")
    git.run(top, "config", "merge.crmctl.driver", f"{_self_command()} git merge-driver %O %A %B %P")
    done.append("merge driver registered in .git/config")
    attributes = os.path.join(top, ".gitattributes")
    _refuse_link(attributes)
    existing = open(attributes, encoding="utf-8").read() if os.path.exists(attributes) else ""
    if "merge=crmctl" not in existing:
        with open(attributes, "a", encoding="utf-8") as handle:
            handle.write(("" if not existing or existing.endswith("\n") else "\n") + ATTRIBUTES)
        done.append(".gitattributes routes records/**/*.yaml to it (commit this file)")
    if hook:
        hooks = git.run(top, "rev-parse", "--git-path", "hooks").stdout.strip()
        path = os.path.join(top, hooks) if not os.path.isabs(hooks) else hooks
        os.makedirs(path, exist_ok=True)
        target = os.path.join(path, "pre-commit")
        _refuse_link(target)
        if not os.path.exists(target):
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(HOOK.format(cmd=_self_command()))
            os.chmod(target, 0o755)
            done.append("pre-commit hook runs `crmctl check`")
    return done


def _refuse_link(path: str) -> None:
    """``git setup`` never writes through a symbolic link (a committed one could point anywhere)."""
    if os.path.islink(path):
        raise CrmError(f"{path}: is a symbolic link; crmctl will not write through it. Replace it with a plain file")


@click.group("git")
def cli() -> None:
    """Git integration: the record-aware merge driver and the check hook."""


@cli.command("setup")
@click.option("--no-hook", is_flag=True, help="Do not install the pre-commit hook.")
@click.option("--book", "book_dir", default=".", show_default=True, metavar="DIR", help="The book's folder.")
def setup(no_hook: bool, book_dir: str) -> None:
    """Install the merge driver (and a pre-commit hook running check) in this clone."""
    for line in install(book_dir, hook=not no_hook):
        click.echo(line, err=True)


@cli.command("merge-driver", hidden=False)
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("path", required=False, default="")
def merge_driver(base: str, ours: str, theirs: str, path: str) -> None:
    """Merge one record three ways by key (git calls this; exit 1 on a true conflict)."""
    from crmctl.core import yamlio
    from crmctl.core.errors import LoadError
    from crmctl.core.merge import Conflict, keep_comments, merge_records

    try:
        versions = [yamlio.load_path(p, path or p)[0] if os.path.getsize(p) else {} for p in (base, ours, theirs)]
        merged = merge_records(*versions)
        original = open(ours, encoding="utf-8").read()
        base_text, their_text = (open(p, encoding="utf-8").read() for p in (base, theirs))
    except (LoadError, Conflict, OSError, UnicodeDecodeError) as exc:
        # not ours to decide: an ordinary line merge with conflict markers
        proc = subprocess.run(["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs", ours, base, theirs])
        if proc.returncode:
            why = f"both sides changed {exc}" if isinstance(exc, Conflict) else str(exc)
            click.echo(f"crmctl merge: {path}: {why}; resolve the conflict markers, then run `crmctl check`", err=True)
        raise SystemExit(1 if proc.returncode else 0) from None
    text = yamlio.dumps(merged, original) if original.strip() else yamlio.dumps(merged)
    text = keep_comments(text, base_text, their_text)
    with open(ours, "w", encoding="utf-8") as handle:
        handle.write(text)
