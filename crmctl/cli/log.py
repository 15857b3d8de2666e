"""``crmctl log [ID]``: history from git, for the book or for one record."""
from __future__ import annotations

import click

from crmctl.cli.base import App, emit_rows, list_options, output_option, pass_app
from crmctl.core import git
from crmctl.core.clock import in_book_zone
from crmctl.core.errors import Ambiguous, CrmError, NotFound
from crmctl.core.schemas import TYPES, canonical, get_schema


def find_any(app: App, ref: str, rtype: str | None) -> tuple[str, str]:
    """The (type, id) a bare id or prefix names, searching every type."""
    if "/" in ref:
        rtype, ref = ref.split("/", 1)
    types = [canonical(rtype)] if rtype else list(TYPES)
    hits = []
    for t in types:
        try:
            hits.append((t, app.book.resolve(t, ref)))
        except Ambiguous:
            raise
        except NotFound:
            continue
    if not hits:
        hits = _removed(app, ref, types)
    if not hits:
        if rtype:
            raise NotFound(f"no {get_schema(types[0]).title} {ref!r}, now or in the book's git history")
        raise NotFound(f"no record {ref!r} in any type, now or in the book's git history")
    if len(hits) > 1:
        raise Ambiguous(f"{ref!r} names records of several types ({', '.join(f'{t}/{i}' for t, i in hits)}); pass --type")
    return hits[0]


def _removed(app: App, ref: str, types: list[str]) -> list[tuple[str, str]]:
    """The (type, id) of a record that is gone from the book (deleted, merged away) but in its git history, so its
    log — who removed it and when — can still be read. An id or a prefix, as for a live record: the files git ever
    had under each type's folder whose name starts with ``ref`` (Ambiguous when a prefix names several)."""
    import os

    from crmctl.core.ids import check_id

    root = app.book.git_root()
    try:
        check_id(ref)
    except CrmError:
        return []
    if root is None:
        return []
    found = []
    for t in types:
        folder = os.path.relpath(app.book.folder(t), root)
        names = git.run(root, "log", "--format=", "--name-only", "--", f":(glob){folder}/{ref}*.yaml", check=False).stdout
        ids = sorted({os.path.basename(line)[: -len(".yaml")] for line in names.splitlines() if line.strip()})
        exact = [rid for rid in ids if rid == ref]
        if exact or len(ids) == 1:
            found.append((t, (exact or ids)[0]))
        elif ids:
            raise Ambiguous(f"{ref!r} is the start of several removed {t} in the book's git history ({', '.join(ids[:5])}"
                            f"{', ...' if len(ids) > 5 else ''}); give more of the id")
    return found


@click.command("log")
@click.argument("ref", metavar="[ID]", required=False)
@click.option("--type", "rtype", metavar="TYPE", help="Record type of ID (account, opp, quote, ...).")
@click.option("-n", "--max-count", "count", default=50, show_default=True, help="How many commits.")
@click.option("--fields", is_flag=True, help="One row per field a commit changed: when (the date --as-of counts: committed, "
              "or later for a commit dated before its parent or merged later, with a note), who, field, old, new, "
              "commit, authored (the author date); times in the book's zone.")
@list_options
@output_option
@pass_app
def cli(app: App, ref: str | None, rtype: str | None, count: int, fields: bool, where: tuple[str, ...], sort: tuple[str, ...],
        limit: int | None, fmt: str) -> None:
    """Show who changed what and when, from git (the whole book, or one record).

    ``date`` is the date ``--as-of`` counts: the committer date, or a later one for a commit dated before its
    parent or merged from a branch later (a note on stderr names it); ``authored`` the author date; both in the
    book's zone.
    """
    book = app.book
    root = book.git_root()
    if root is None:
        raise CrmError("this book is not in a git repository, so it has no history; run `git init` in it")
    if fields and not ref:
        raise CrmError("log --fields needs a record: crmctl log ID --fields")
    shallow = git.is_shallow(root)
    if shallow and fields:
        raise CrmError("log --fields: this is a shallow clone, its history is cut short, so the oldest commit it has "
                       "would be credited with every field set before it; run `git fetch --unshallow` first")
    if ref:
        t, rid = find_any(app, ref, rtype)
        if fields:
            from crmctl.core.snapshot import field_history

            changes, notes = field_history(book, t, rid, count)
            for note in notes:
                click.echo(f"note: {note}", err=True)
            emit_rows(changes, fmt, ("when", "who", "field", "old", "new", "commit", "authored"), where, sort, limit)
            return
        paths = [book.path_for(t, rid)]
    else:
        paths = [book.root]
    from crmctl.core.snapshot import counted_dates

    rows = [{"commit": c["commit"], "date": c["committed"],
             "authored": in_book_zone(c["date"], book.settings), "author": c["author"], "email": c["email"],
             "message": c["message"]} for c in git.log(root, paths, count)]
    for note in counted_dates(book, root, rows, "commit", "date", "date"):
        click.echo(f"note: {note}", err=True)
    if shallow and rows:
        click.echo(f"warning: shallow clone: history before commit {rows[-1]['commit'][:10]} is cut off, and that commit "
                   "shows everything that came before it; run `git fetch --unshallow` for the whole history", err=True)
    emit_rows(rows, fmt, ("commit", "date", "author", "message", "authored"), where, sort, limit)
