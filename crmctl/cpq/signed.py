"""Approvals that can be proven: every approval entry came in with a commit signed by its approver.

With crm.yaml ``policy.signed_approvals: true`` a change that adds an
``approved`` or ``rejected`` entry to a quote's ``approvals`` history is
committed signed with the acting user's key (:func:`signer_needed`; the
transaction refuses, nothing written, when git cannot sign as that user).
:func:`unproven` then finds, for each such entry in the quotes as they are
now, the commit that introduced it and what its signature proves:

* the ``approvals`` history is an append-only ledger: an entry's identity is
  its content *and its position after the same predecessors*
  (:func:`_position`), so a copy of an old signed entry appended later is a new
  entry, introduced by the later commit;
* one ``git log --no-merges --raw`` over ``records/quotes`` gives, per commit,
  each quote file's blob before and after; a decision whose position the blob
  after has and the blob before lacks was placed by that commit (blobs are
  parsed once and cached by id, see :class:`crmctl.core.snapshot.BlobStore`);
* one ``git log --no-walk`` verifies just those commits against the users'
  keys (:func:`crmctl.core.signing.signatures`);
* a decision a commit signed by its approver placed, and that the history no
  longer holds at its position (a revert, a restored old version), is named:
  a signed rejection cannot be erased.

An entry that is in no commit (an uncommitted edit, or brought in by a merge
commit's own hand resolution) is named as unproven too. ``submitted`` entries
ask for an approval; they grant nothing and are not judged.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from crmctl.core import git, signing
from crmctl.core.book import Book, Record
from crmctl.core.errors import CrmError

DECISIONS = ("approved", "rejected")


class ShallowClone(CrmError):
    """Approval decisions cannot be proven in a shallow clone: its oldest commit seems to introduce everything."""  # the entries of `approvals` that need their approver's signature


def entry_key(entry: Mapping[str, Any]) -> str:
    """One approval entry as comparable text (every field: a hand edit of any of them is a new entry)."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)


def signer_needed(book: Book, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """The user who must sign the commit of a quote change (``""``: no signature needed).

    Signing is needed when the book asks for it and the change adds an approval decision; the signer is
    the user the new entry names.
    """
    if not signing.signed_approvals(book.settings):
        return ""
    old, new = ledger(before), ledger(after)
    added = [json.loads(key) for index, key in enumerate(new) if old[:index + 1] != new[:index + 1]]
    placed = [e for e in added if isinstance(e, dict) and e.get("action") in DECISIONS]
    return str(placed[-1].get("by") or "") if placed else ""


def ledger(data: Mapping[str, Any]) -> list[str]:
    """A quote's ``approvals`` history as comparable entries, in order (every kind: positions count)."""
    entries = data.get("approvals")
    return [entry_key(e) if isinstance(e, dict) else json.dumps(e, default=str) for e in entries] \
        if isinstance(entries, list) else []


def _position(entries: list[str], index: int) -> str:
    """The identity of the entry at ``index`` *with all its predecessors*: the same entry elsewhere is another."""
    return hashlib.sha1("\x1e".join(entries[:index + 1]).encode("utf-8")).hexdigest()


def unproven(book: Book, quotes: Iterable[Record]) -> dict[str, list[str]]:
    """``{quote id: [why, ...]}`` for each approval decision of ``quotes`` no signed commit of its approver proves.

    The ``approvals`` history is an append-only ledger: a decision at position *i*
    is proven only by a commit, signed by its approver, that put it at position
    *i* after the same predecessors (a copy of an old entry appended later is
    introduced by the later commit). A decision that a commit signed by its
    approver once put in the ledger and that is no longer there at its position
    (reverted, restored from an older version, reordered) is named too.
    Each message names the entry (action, approver, time) and the commit.
    An empty result when the book does not ask for signed approvals.
    """
    if not signing.signed_approvals(book.settings):
        return {}
    current = {rec.id: ledger(rec.data) for rec in quotes}
    current = {qid: entries for qid, entries in current.items() if entries}
    if not current:
        return {}
    root = book.git_root()
    if root is None:
        return {qid: ["policy.signed_approvals is on but the book is not a git repository: no approval can be proven"]
                for qid in current}
    from crmctl.core.journal import refuse_shared_state

    refuse_shared_state(book.root, root)  # a verdict cache under .crmctl/ that came through git is never read
    if git.is_shallow(root):  # the cut-off commit would seem to introduce every entry
        raise ShallowClone("shallow clone: approvals cannot be proven from a cut-short history "
                           "(policy.signed_approvals); run git fetch --unshallow (in CI: a full clone, fetch-depth: 0)")
    placed = _placements(book, root, set(current))
    held = {qid: {_position(entries, i) for i in range(len(entries))} for qid, entries in current.items()}
    gone = [p for p in placed.values() if p.position not in held[p.qid]]
    users = list(book.records("users").values())
    sigs = signing.signatures(root, users, {p.commit for p in placed.values()},
                              os.path.join(book.root, ".crmctl", "cache", "signatures.json"))
    users_by_id = {user.id: user for user in users}
    stamps = _stamps(root, {p.commit for p in placed.values()})
    out: dict[str, list[str]] = {}
    for qid, entries in current.items():
        for index, key in enumerate(entries):
            entry = json.loads(key)
            if not isinstance(entry, dict) or entry.get("action") not in DECISIONS:
                continue
            found = placed.get((qid, _position(entries, index)))
            if found is None:
                why = "is in no commit at its place in the history (an uncommitted edit, or written by hand into a merge)"
            else:
                sig = sigs.get(found.commit)
                why = sig.verdict(str(entry.get("by"))) if sig else f"commit {found.commit[:10]} could not be read"
                why = why or _rewritten(stamps.get(found.commit), users_by_id.get(str(entry.get("by"))))
                if why:
                    why = f"came in with {why}"
            if why:
                out.setdefault(qid, []).append(f"{_what(entry)} {why}; it is not proven (policy.signed_approvals)")
    for lost in sorted(gone, key=lambda p: (p.qid, p.index)):
        sig = sigs.get(lost.commit)
        if sig is not None and sig.verdict(str(lost.entry.get("by"))) is None:  # a proven decision, since removed
            out.setdefault(lost.qid, []).append(
                f"{_what(lost.entry)} (entry {lost.index + 1}, signed in commit {lost.commit[:10]}) is no longer in the "
                "approvals history: a later change removed, replaced or reordered it, and approvals are append-only; "
                f"restore the history from commit {lost.commit[:10]} (policy.signed_approvals)")
    return out


REWRITE_SECONDS = 60  # a commit made in one go has its author and committer dates within this of each other


@dataclass(frozen=True)
class Stamp:
    """A commit's author email and its author and committer dates (seconds since the epoch)."""

    commit: str
    email: str
    authored: int
    committed: int


def _stamps(root: str, commits: set[str]) -> dict[str, Stamp]:
    """``{commit: Stamp}`` from one ``git log --no-walk``."""
    if not commits:
        return {}
    proc = git.run(root, "log", "--no-walk=unsorted", "--stdin", "--format=%H%x1f%ae%x1f%at%x1f%ct",
                   input="\n".join(sorted(commits)) + "\n", check=False)
    out = {}
    for line in proc.stdout.splitlines():
        fields = line.split("\x1f")
        if len(fields) == 4 and fields[2].isdigit() and fields[3].isdigit():
            out[fields[0]] = Stamp(fields[0], fields[1].lower(), int(fields[2]), int(fields[3]))
    return out


def _rewritten(stamp: Stamp | None, approver: Record | None) -> str | None:
    """Why a decision's signed commit is not the approver's own ``quote approve``/``reject`` (None when it may be).

    crmctl commits a decision in one go, authored as the approver: author and committer
    dates agree. A rebase, cherry-pick or amend keeps the author date and re-signs with
    whoever rewrites, so a director who signs a rewritten commit of a rep's does not
    turn the rep's entry into his decision (attack 17 #6).
    """
    if stamp is None:
        return None
    email = str(approver.get("email") or "").lower() if approver is not None else ""
    if email and stamp.email != email:
        return (f"commit {stamp.commit[:10]}, authored by {stamp.email}, not {approver.id} "  # type: ignore[union-attr]
                f"({email}): a decision is committed by its approver's own crmctl")
    if abs(stamp.committed - stamp.authored) > REWRITE_SECONDS:
        return (f"commit {stamp.commit[:10]}, rewritten {abs(stamp.committed - stamp.authored)} s after it was authored "
                "(a rebase, cherry-pick or amend): signing a rewritten commit does not make its entries the signer's "
                "decisions")
    return None


def _what(entry: Mapping[str, Any]) -> str:
    return f"the {entry.get('action')} entry by {entry.get('by')} at {entry.get('at')}"


@dataclass(frozen=True)
class Placement:
    """The oldest non-merge commit that put decision ``entry`` at ``index`` of quote ``qid``'s ledger, after the
    predecessors ``position`` hashes."""

    qid: str
    index: int
    position: str
    entry: dict[str, Any]
    commit: str


def _placements(book: Book, root: str, qids: set[str]) -> dict[tuple[str, str], Placement]:
    """``{(quote id, position): Placement}`` for every decision any non-merge commit placed in each quote's ledger."""
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
    ledgers = {sha: ledger(data) if isinstance(data, dict) else [] for sha, (data, _problem) in parsed.items()}
    out: dict[tuple[str, str], Placement] = {}
    for commit, qid, before, after in changes:
        old, new = ledgers.get(before, []), ledgers.get(after, [])
        for index, key in enumerate(new):
            if old[:index + 1] == new[:index + 1]:
                continue
            entry = json.loads(key)
            if isinstance(entry, dict) and entry.get("action") in DECISIONS:
                position = _position(new, index)
                out.setdefault((qid, position), Placement(qid, index, position, entry, commit))
    return out


def replay_problem(book: Book, tx: Any) -> str | None:
    """Why the interrupted change ``tx`` (a :class:`crmctl.core.journal.Journal` to be signed by ``tx.sign_as``)
    cannot be finished here as its own signer; None when git here signs as that user.

    Raises :class:`crmctl.core.journal.UntrustedJournal` when the change it holds is not an approval decision
    by ``tx.sign_as`` that the book's policy asks to be signed (a journal asking for a signature nothing needs).
    """
    from crmctl.core import journal, yamlio

    root = book.git_root()
    prefix = os.path.relpath(book.root, root) if root else "."
    needed = ""
    for step in tx.steps:
        if not step.rel.startswith("records/quotes/"):
            continue
        before = journal._committed(root, step.rel if prefix == "." else os.path.join(prefix, step.rel)) \
            if root and step.before is not None else None
        after = journal._read(tx.temp(step.rel)) if os.path.exists(tx.temp(step.rel)) else journal._read(tx.target(step.rel))
        if journal.blob_hash(before) != step.before or (step.after and journal.blob_hash(after) != step.after):
            return f"{step.rel} is not what the change was made from and to"
        old = yamlio.loads(before.decode("utf-8"), step.rel)[0] if before else {}
        new = yamlio.loads(after.decode("utf-8"), step.rel)[0] if after else {}
        needed = signer_needed(book, old, new) or needed
    if needed != tx.sign_as:
        holds = f"a decision by {needed}" if needed else "nothing the book's policy asks to be signed"
        raise journal.UntrustedJournal(
            f"{os.path.relpath(tx.path, book.root)}: asks for a commit signed by {tx.sign_as}'s key, but the change it "
            f"holds is {holds}; it is not replayed: delete it and .crmctl/tmp/{tx.txid}/, then `git status` shows "
            "what it left in records/")
    try:
        signing.probe(root or book.root, book.records("users").values(), tx.sign_as)
    except signing.SigningError:
        return f"git here does not sign with {tx.sign_as}'s key"
    return None
