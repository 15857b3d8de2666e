"""``crmctl git``: the record-aware merge driver, the pre-commit hook, signers and CODEOWNERS.

``crmctl git setup`` (run by ``crmctl init``; run it once in every clone)
registers the merge driver in ``.git/config`` and routes ``records/**.yaml``
to it through ``.gitattributes``; git then calls ``crmctl git merge-driver``
for every record both sides changed. It also writes the users' signing keys
as git's allowed-signers file (``.crmctl/allowed_signers``) and points
``gpg.ssh.allowedSignersFile`` at it, so ``git verify-commit`` and ``git log
--show-signature`` name the book user who signed. ``--codeowners`` writes
``CODEOWNERS`` so the git host requires the pricing maintainers' review.
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
    done.extend(_signers(top, root))
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


SIGNERS = os.path.join(".crmctl", "allowed_signers")


def _signers(top: str, root: str) -> list[str]:
    """Write the users' SSH keys as git's allowed-signers file and point the clone's git config at it."""
    from crmctl.core.book import Book
    from crmctl.core.signing import allowed_signers

    book = Book(root)
    text = allowed_signers(book.records("users").values()) if os.path.isdir(os.path.join(book.root, "records")) else ""
    path = os.path.join(book.root, SIGNERS)
    _write_plain(path, text)
    git.run(top, "config", "gpg.ssh.allowedSignersFile", path)
    count = text.count("\n")
    return [f"{SIGNERS}: {count} signing key{'s' if count != 1 else ''} of the book's users; "
            "gpg.ssh.allowedSignersFile points at it (run `crmctl git setup` again when keys change)"]


def _write_plain(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file; never through a symbolic link (nor one on the way)."""
    _refuse_link(os.path.dirname(path))
    _refuse_link(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def codeowners(top: str, root: str) -> tuple[str, str]:
    """``(path, text)`` of the CODEOWNERS file that makes the git host ask the pricing maintainers' review.

    Owners are the ``git_handle`` of every active user whose role is in crm.yaml
    ``discount_policy.maintainers``; a maintainer without a handle is refused
    (an owner line without owners would require nobody's review).
    """
    from crmctl.core.book import Book
    from crmctl.cpq.authority import maintainers

    book = Book(root)
    roles = maintainers(book.settings)
    people = sorted((u for u in book.records("users").values() if u.get("role") in roles and u.get("active") is not False),
                    key=lambda u: u.id)
    missing = [u.id for u in people if not u.get("git_handle")]
    if missing or not people:
        raise CrmError(f"CODEOWNERS needs the git host handle of every {' or '.join(roles)}: "
                       + (f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} none; "
                          f"`crmctl user edit {missing[0]} --git-handle @name`" if missing else
                          "the book has no active user with those roles (crm.yaml discount_policy.maintainers)")
                       + "; nothing was written")
    owners = " ".join(dict.fromkeys(str(u.get("git_handle")) for u in people))
    prefix = os.path.relpath(os.path.realpath(book.root), os.path.realpath(top))
    base = "/" if prefix == "." else f"/{prefix}/"
    guarded = [("records/pricebooks/", "price books are discounts decided once for many quotes"),
               ("records/products/", "list prices and costs (CODEOWNERS is per file: every product change)"),
               ("crm.yaml", "discount_policy, policy.signed_approvals, roles"),
               ("records/users/", "roles and signing keys: who may approve and how it is proven")]
    lines = ["# Written by `crmctl git setup --codeowners` from crm.yaml discount_policy.maintainers",
             f"# ({', '.join(roles)}) and their git_handle in records/users/. Re-run it when the team changes.",
             "# The git host must protect the branch and require code owners' review for this to bind."]
    for path, why in guarded:
        lines += [f"# {why}", f"{base}{path} {owners}"]
    lines += ["# this file itself", "/CODEOWNERS " + owners]
    return os.path.join(top, "CODEOWNERS"), "\n".join(lines) + "\n"


def _refuse_link(path: str) -> None:
    """``git setup`` never writes through a symbolic link (a committed one could point anywhere)."""
    if os.path.islink(path):
        raise CrmError(f"{path}: is a symbolic link; crmctl will not write through it. Replace it with a plain file")


@click.group("git")
def cli() -> None:
    """Git integration: the record-aware merge driver and the check hook."""


@cli.command("setup")
@click.option("--no-hook", is_flag=True, help="Do not install the pre-commit hook.")
@click.option("--codeowners", "owners", is_flag=True,
              help="Also write CODEOWNERS: price books, products, crm.yaml and users need a pricing maintainer's review.")
@click.option("--book", "book_dir", metavar="DIR", help="The book's folder (default: crmctl's --book, else this folder).")
@click.pass_context
def setup(ctx: click.Context, no_hook: bool, owners: bool, book_dir: str | None) -> None:
    """Install the merge driver, the check hook and the users' signing keys (allowed signers) in this clone."""
    # `crmctl --book B git setup` sets up B, not the folder it was typed in
    book_dir = book_dir or getattr(ctx.find_root().obj, "book_option", None) or os.environ.get("CRMCTL_BOOK") or "."
    if owners:  # worked out first: a refusal writes nothing
        top = git.toplevel(book_dir)
        if top is None:
            raise CrmError(f"{book_dir} is not in a git repository; run `git init` first")
        path, text = codeowners(top, book_dir)
        _refuse_link(path)
    for line in install(book_dir, hook=not no_hook):
        click.echo(line, err=True)
    if owners:
        _write_plain(path, text)
        click.echo("CODEOWNERS: price books, products, crm.yaml and users need a review by "
                   f"{text.splitlines()[-1].split(' ', 1)[1]} (commit it; protect the branch on the git host)", err=True)


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
