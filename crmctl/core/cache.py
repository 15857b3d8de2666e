"""The index cache: one JSON file per record type under ``.crmctl/cache/``.

Each entry is keyed by the file's name and proven fresh by its stat
(mtime_ns, size, inode), so a change made by any means — an editor,
``git checkout``, ``git merge`` — is noticed and only that file is parsed
again. Bad files are cached as their problem, so the warning repeats without
re-parsing. A missing or corrupt cache is simply rebuilt.
"""
from __future__ import annotations

import os
from typing import Any

from crmctl.core import jsonio
from crmctl.core.errors import LoadError, Problem
from crmctl.core.ids import ID_PATTERN

VERSION = 3
Entry = list[Any]  # [mtime_ns, size, ino, data, lines, problem]


def _read_cache(path: str) -> dict[str, Entry]:
    try:
        with open(path, "rb") as handle:
            blob = jsonio.loads(handle.read())
        if blob.get("version") == VERSION:
            return blob["files"]  # type: ignore[no-any-return]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return {}


def save_json(path: str, blob: Any) -> None:
    """Write a cache file atomically; best effort, so a read-only book still works."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(jsonio.dump_bytes(blob))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _write_cache(path: str, files: dict[str, Entry]) -> None:
    save_json(path, {"version": VERSION, "files": files})


def remember(cache_path: str, entries: dict[str, Entry]) -> None:
    """Add entries for files just written (a batch), keyed by their stat like any other."""
    files = _read_cache(cache_path)
    files.update(entries)
    _write_cache(cache_path, files)


def scan(folder: str, rel: str, cache_path: str | None) -> tuple[dict[str, tuple[dict[str, Any], dict[str, int]]], list[Problem]]:
    """Load every ``*.yaml`` record in ``folder``: ``{id: (data, lines)}`` and the problems."""
    cached = _read_cache(cache_path) if cache_path else {}
    fresh: dict[str, Entry] = {}
    out: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
    problems: list[Problem] = []
    changed = False
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        name = entry.name
        if not name.endswith(".yaml") or name.startswith("."):
            continue
        shown = f"{rel}/{name}"
        rid = name[:-5]
        if entry.is_symlink():
            problems.append(Problem(shown, 1, "symlinks are not allowed in records/; replace it with the file itself"))
            continue
        if not ID_PATTERN.match(rid):
            problems.append(Problem(shown, 1, f"file name {rid!r} is not a valid id (lowercase letters, digits, - and _)"))
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # removed while we looked
        key = [st.st_mtime_ns, st.st_size, st.st_ino]
        hit = cached.get(name)
        if hit is not None and hit[:3] == key:
            item = hit
        else:
            changed = True
            from crmctl.core import yamlio  # only a file that changed is parsed; a warm read never imports YAML

            try:
                data, lines = yamlio.load_path(entry.path, shown)
                item = [*key, data, lines, None]
            except LoadError as exc:
                p = exc.problem
                item = [*key, None, None, [p.line, p.message]]
        fresh[name] = item
        if item[5] is not None:
            problems.append(Problem(shown, item[5][0], item[5][1]))
        else:
            out[rid] = (item[3], item[4])
    if cache_path and (changed or len(fresh) != len(cached)):
        _write_cache(cache_path, fresh)
    return out, problems
