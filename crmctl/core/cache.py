"""The index cache: one JSON file per record type under ``.crmctl/cache/``.

Each entry is keyed by the file's name and proven fresh by its stat
(:func:`stamp`: mtime_ns and ctime_ns, size, inode), so a change made by any means — an editor,
``git checkout``, ``git merge`` — is noticed and only that file is parsed
again. Bad files are cached as their problem, so the warning repeats without
re-parsing. A missing or corrupt cache is simply rebuilt.

A *view* (``scan_view``) is a second cache of one type holding a few fields
of each record, for reports over folders too big to load whole.
"""
from __future__ import annotations

import functools
import os
from contextlib import contextmanager
from stat import S_ISLNK
from typing import Any, Callable, Iterator, Mapping

from crmctl.core import jsonio
from crmctl.core.errors import LoadError, Problem
from crmctl.core.ids import ID_PATTERN

VERSION = 5  # 4: 0x/0o integers are kept as text; 5: the ctime is part of a file's stamp
Entry = list[Any]  # [[mtime_ns, ctime_ns], size, ino, data, lines, problem]
MANY_UNSEEN = 500  # a view missing more files than this reads the records cache rather than parse them


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a whole folder's records are read or built.

    Reading 30,000 records makes a million small dicts and lists, none in a
    cycle (reference counting frees them); the collector walked all of them
    again and again, 40% of a warm ``check`` and 10% of a cold build. What
    is still alive at the end is frozen (``gc.freeze``), or the first
    collection after it would walk it all once more (0.4 s of ``check``).
    """
    import gc

    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.freeze()
            gc.enable()


def read_entries(path: str) -> dict[str, Entry]:
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
    files = read_entries(cache_path)
    files.update(entries)
    _write_cache(cache_path, files)


def folder_stats(folder: str) -> list[tuple[str, os.stat_result]]:
    """``(name, lstat)`` of every ``*.yaml`` file in ``folder`` (none when it does not exist).

    One ``fstatat`` per file relative to the folder, through ``map``: a loop
    over 50,000 ``DirEntry`` objects costs twice as much in Python alone.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return []
    try:
        names = [n for n in os.listdir(fd) if n.endswith(".yaml") and not n.startswith(".")]
        out: list[tuple[str, os.stat_result]] = []
        stat = functools.partial(os.stat, dir_fd=fd, follow_symlinks=False)
        try:
            out = list(zip(names, map(stat, names)))
        except FileNotFoundError:  # one was removed while we looked: take the others one by one
            for name in names:
                try:
                    out.append((name, stat(name)))
                except FileNotFoundError:
                    pass
        return out
    finally:
        os.close(fd)


def checked(folder: str, rel: str, stats: list[tuple[str, os.stat_result]], problems: list[Problem],
            known: Mapping[str, Any]) -> Iterator[tuple[str, str, os.stat_result, str]]:
    """``(name, id, stat, path)`` of each of ``stats`` that is a record file; misnamed files and symlinks become problems.

    A name in ``known`` (a cache) passed the name check when it was cached; a
    hot loop over 50,000 visits need not check it again.
    """
    if os.path.islink(folder) or os.path.islink(os.path.dirname(folder)):
        shown = rel if os.path.islink(folder) else os.path.dirname(rel)
        problems.append(Problem(shown, 1, f"{shown}: is a symbolic link; records must be plain folders inside the book"))
        return
    prefix = os.path.join(folder, "")
    for name, st in stats:
        rid = name[:-5]
        if S_ISLNK(st.st_mode):
            problems.append(Problem(f"{rel}/{name}", 1, f"{rel}/{name}: is a symbolic link; replace it with the file itself"))
            continue
        if name not in known and not ID_PATTERN.fullmatch(rid):
            problems.append(Problem(f"{rel}/{name}", 1, f"file name {rid!r} is not a valid id (lowercase letters, digits, - and _)"))
            continue
        yield name, rid, st, prefix + name


Stats = list[tuple[str, os.stat_result]]


def record_files(folder: str, rel: str, problems: list[Problem], known: Mapping[str, Any],
                 stats: Stats | None = None) -> Iterator[tuple[str, str, Any, str]]:
    """``(name, id, stat, path)`` of each record file in ``folder`` (:func:`checked` over ``stats``, default
    :func:`folder_stats`)."""
    return checked(folder, rel, folder_stats(folder) if stats is None else stats, problems, known)


def times(st: Any) -> list[int]:
    """The times in a file's stamp: ``[mtime_ns, ctime_ns]``.

    The mtime alone can be put back (``touch -d``, ``os.utime``, ``cp -p``,
    ``rsync -t``) after an in-place edit of the same size; the ctime cannot —
    every write, rename or ``chmod`` sets it to the clock — so with both, an
    in-place change is seen even when the size and the mtime are restored.
    """
    return [st.st_mtime_ns, st.st_ctime_ns]


def stamp(st: Any) -> list[Any]:
    """What proves a file unchanged since it was read: ``[[mtime_ns, ctime_ns], size, inode]``."""
    return [times(st), st.st_size, st.st_ino]


def is_fresh(item: Entry | None, st: Any) -> bool:
    """True when a cache entry was made from the file as it is now."""
    return item is not None and item[1] == st.st_size and item[2] == st.st_ino and item[0] == times(st)


def parse_entry(path: str, shown: str, st: Any) -> Entry:
    from crmctl.core import yamlio  # only a file that changed is parsed; a warm read never imports YAML

    key = stamp(st)
    try:
        data, lines = yamlio.load_path(path, shown)
        return [*key, data, lines, None]
    except LoadError as exc:
        return [*key, None, None, [exc.problem.line, exc.problem.message]]


def scan(folder: str, rel: str, cache_path: str | None, stats: Stats | None = None,
         ) -> tuple[dict[str, tuple[dict[str, Any], dict[str, int]]], list[Problem]]:
    """Load every ``*.yaml`` record in ``folder`` (as ``stats`` found them, default now): ``{id: (data, lines)}``
    and the problems."""
    cached = read_entries(cache_path) if cache_path else {}
    fresh: dict[str, Entry] = {}
    out: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
    problems: list[Problem] = []
    changed = False
    for name, rid, st, path in record_files(folder, rel, problems, cached, stats):
        item = cached.get(name)
        if not is_fresh(item, st):
            changed = True
            item = parse_entry(path, f"{rel}/{name}", st)
        fresh[name] = item
        if item[5] is not None:
            problems.append(Problem(f"{rel}/{name}", item[5][0], item[5][1]))
        else:
            out[rid] = (item[3], item[4])
    if cache_path and (changed or len(fresh) != len(cached)):
        _write_cache(cache_path, fresh)
    return out, problems


def scan_view(folder: str, rel: str, view_path: str, base_path: str, project: Callable[..., Any],
              stats: Stats | None = None, with_lines: bool = False) -> tuple[dict[str, Any], list[Problem]]:
    """``{id: project(data)}`` (``project(data, lines)`` ``with_lines``) for every record in ``folder``, cached in
    ``view_path`` by each file's stat.

    A report over 50,000 visits needs a few fields of each; turning the whole
    records cache into Python objects took longer than the report itself.
    A view keeps only what ``project`` returns. Files the view has not seen
    are parsed; when there are many (a batch just wrote them), they are taken
    from the records cache at ``base_path`` where that is fresh for them.
    """
    cached = read_entries(view_path)
    fresh: dict[str, Entry] = {}
    problems: list[Problem] = []
    unseen: list[tuple[str, Any, str]] = []
    for name, _, st, path in record_files(folder, rel, problems, cached, stats):
        item = cached.get(name)
        if is_fresh(item, st):
            fresh[name] = item  # type: ignore[assignment]
        else:
            unseen.append((name, st, path))
    if unseen:
        many = len(unseen) > MANY_UNSEEN
        base = read_entries(base_path) if many else {}
        parsed: dict[str, Entry] = {}
        for name, st, path in unseen:
            full = base.get(name)
            if not is_fresh(full, st):
                full = parsed[name] = parse_entry(path, f"{rel}/{name}", st)
            value = None if full[5] is not None else project(full[3], full[4]) if with_lines else project(full[3])
            fresh[name] = [*full[:3], value, None, full[5]]  # type: ignore[index]
        if many and parsed:
            # a cold book: what took minutes to parse goes into the records cache too
            base.update(parsed)
            _write_cache(base_path, base)
    if unseen or len(fresh) != len(cached):
        _write_cache(view_path, fresh)
    out: dict[str, Any] = {}
    for name, item in fresh.items():
        if item[5] is not None:
            problems.append(Problem(f"{rel}/{name}", item[5][0], item[5][1]))
        else:
            out[name[:-5]] = item[3]
    return out, problems
