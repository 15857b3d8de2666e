"""A three-way merge of two versions of one record, key by key.

Git's line merge conflicts whenever two people change neighbouring lines of a
record (a rep's phone number and a manager's tier, say). Records are
mappings, so merging them key by key is both safer and far more often clean:
a key changed on one side only takes that side; a key changed the same way on
both sides is fine; append-only histories that grew on both sides keep both
sides' new entries. Anything else is a true conflict and is left to git.
"""
from __future__ import annotations

import re
from typing import Any

_MISSING = object()


class Conflict(Exception):
    """Both sides changed one key differently; the message names the key."""


def _merge_lists(base: list[Any], ours: list[Any], theirs: list[Any], key: str) -> list[Any]:
    # append-only histories: both sides kept the base as a prefix and added entries
    if ours[: len(base)] == base and theirs[: len(base)] == base:
        added = ours[len(base):] + [item for item in theirs[len(base):] if item not in ours[len(base):]]
        if all(isinstance(i, dict) and "at" in i for i in added):
            added.sort(key=lambda item: str(item.get("at")))
        return base + added
    raise Conflict(key)


def merge_values(base: Any, ours: Any, theirs: Any, key: str) -> Any:
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return merge_records(base if isinstance(base, dict) else {}, ours, theirs, prefix=f"{key}.")
    if isinstance(ours, list) and isinstance(theirs, list):
        return _merge_lists(base if isinstance(base, list) else [], ours, theirs, key)
    raise Conflict(key)


def merge_records(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The merged mapping, in our key order with their new keys after; raises :class:`Conflict`."""
    out: dict[str, Any] = {}
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        merged = merge_values(base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING), prefix + key)
        if merged is not _MISSING:
            out[key] = merged
    return out


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def _comment_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.lstrip().startswith("#")}


def keep_comments(merged: str, base: str, theirs: str) -> str:
    """``merged`` (written from our text, so it keeps our comments) with the comment lines only their side added.

    Each new comment goes before the top-level key it preceded in their file
    (or at the end): a teammate's note is never dropped because we edited a field.
    """
    known = _comment_lines(base) | _comment_lines(merged)
    before: dict[str | None, list[str]] = {}
    waiting: list[str] = []
    for line in theirs.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if stripped not in known:
                waiting.append(line)
            continue
        key = _TOP_KEY.match(line)
        if key and waiting:
            before.setdefault(key.group(1), []).extend(waiting)
            waiting = []
    out: list[str] = []
    for line in merged.splitlines():
        key = _TOP_KEY.match(line)
        if key:
            out.extend(before.pop(key.group(1), []))
        out.append(line)
    for lines in before.values():  # their key is gone: the note is kept at the end
        out.extend(lines)
    out.extend(waiting)
    return "\n".join(out) + "\n"
