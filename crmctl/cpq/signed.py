"""Approvals that can be proven: every approval entry came in with a commit signed by its approver.

With crm.yaml ``policy.signed_approvals: true`` a change that adds an
``approved`` or ``rejected`` entry to a quote's ``approvals`` history is
committed signed with the acting user's key (:func:`signer_needed`; the
transaction refuses, nothing written, when git cannot sign as that user).
:func:`unproven` then finds, for each such entry in the quotes as they are
now, the commit that introduced it and what its signature proves:

* one ``git log --no-merges --raw`` over ``records/quotes`` gives, per commit,
  each quote file's blob before and after; an entry in the blob after but not
  in the one before was introduced by that commit (blobs are parsed once and
  cached by id, see :class:`crmctl.core.snapshot.BlobStore`);
* one ``git log --no-walk`` verifies just those commits against the users'
  keys (:func:`crmctl.core.signing.signatures`).

An entry that is in no commit (an uncommitted edit, or brought in by a merge
commit's own hand resolution) is named as unproven too. ``submitted`` entries
ask for an approval; they grant nothing and are not judged.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping

from crmctl.core import git, signing
from crmctl.core.book import Book, Record

DECISIONS = ("approved", "rejected")  # the entries of `approvals` that need their approver's signature


def entry_key(entry: Mapping[str, Any]) -> str:
    """One approval entry as comparable text (every field: a hand edit of any of them is a new entry)."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)


def decisions(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``approved``/``rejected`` entries of a quote's ``approvals`` history."""
    return [e for e in data.get("approvals") or [] if isinstance(e, dict) and e.get("action") in DECISIONS]


def signer_needed(book: Book, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """The user who must sign the commit of a quote change (``""``: no signature needed).

    Signing is needed when the book asks for it and the change adds an approval decision; the signer is
    the user the new entry names.
    """
    if not signing.signed_approvals(book.settings):
        return ""
    old = {entry_key(e) for e in decisions(before)}
    new = [e for e in decisions(after) if entry_key(e) not in old]
    return str(new[-1].get("by") or "") if new else ""


def unproven(book: Book, quotes: Iterable[Record]) -> dict[str, list[str]]:
    """``{quote id: [why, ...]}`` for each approval decision of ``quotes`` no signed commit of its approver proves.

    Each message names the entry (action, approver, time) and the commit that introduced it.
    An empty result when the book does not ask for signed approvals.
    """
    if not signing.signed_approvals(book.settings):
        return {}
    wanted = {rec.id: decisions(rec.data) for rec in quotes}
    wanted = {qid: found for qid, found in wanted.items() if found}
    if not wanted:
        return {}
    root = book.git_root()
    if root is None:
        return {qid: ["policy.signed_approvals is on but the book is not a git repository: no approval can be proven"]
                for qid in wanted}
    introduced = _introductions(book, root, set(wanted))
    users = list(book.records("users").values())
    sigs = signing.signatures(root, users, {c for c in introduced.values() if c},
                              os.path.join(book.root, ".crmctl", "cache", "signatures.json"))
    out: dict[str, list[str]] = {}
    for qid, entries in wanted.items():
        for entry in entries:
            what = f"the {entry.get('action')} entry by {entry.get('by')} at {entry.get('at')}"
            commit = introduced.get((qid, entry_key(entry)))
            if commit is None:
                why = "is in no commit (an uncommitted edit, or written by hand into a merge)"
            else:
                sig = sigs.get(commit)
                why = sig.verdict(str(entry.get("by"))) if sig else f"commit {commit[:10]} could not be read"
                if why:
                    why = f"came in with {why}"
            if why:
                out.setdefault(qid, []).append(f"{what} {why}; it is not proven (policy.signed_approvals)")
    return out


def _introductions(book: Book, root: str, qids: set[str]) -> dict[tuple[str, str], str]:
    """``{(quote id, entry key): commit}``: the oldest non-merge commit that added each decision to each quote file."""
    from crmctl.core.snapshot import BlobStore

    prefix = os.path.relpath(os.path.realpath(book.root), os.path.realpath(root))
    folder = ("" if prefix == "." else prefix + "/") + "records/quotes/"
    paths = [folder + f"{qid}.yaml" for qid in sorted(qids)] if len(qids) <= 50 else [folder]
    proc = git.run(root, "-c", "core.quotePath=false", "log", "--reverse", "--no-merges", "--no-renames", "--raw",
                   "--no-abbrev", "--format=\x1e%H", "--", *paths, check=False)
    changes: list[tuple[str, str, str, str]] = []  # (commit, quote id, blob before, blob after)
    for chunk in proc.stdout.split("\x1e")[1:]:
        head, _, raw = chunk.partition("\n")
        for line in raw.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, path = line.partition("\t")
            fields = meta.split()
            qid = path[len(folder):-5] if path.startswith(folder) and path.endswith(".yaml") else ""
            if qid in qids:
                changes.append((head.strip(), qid, fields[2], fields[3]))
    zero = "0" * 40
    blobs = {sha: f"{folder}{qid}.yaml" for _, qid, *pair in changes for sha in pair if sha != zero}
    parsed = BlobStore(book.root).parsed(root, "quotes", blobs)
    keys: dict[str, set[str]] = {}
    for sha, (data, _problem) in parsed.items():
        keys[sha] = {entry_key(e) for e in decisions(data)} if isinstance(data, dict) else set()
    out: dict[tuple[str, str], str] = {}
    for commit, qid, before, after in changes:
        for key in keys.get(after, set()) - keys.get(before, set()):
            out.setdefault((qid, key), commit)
    return out
