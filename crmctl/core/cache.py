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
import hashlib
import marshal
import os
from collections import namedtuple
from collections.abc import Sequence
from contextlib import contextmanager
from operator import attrgetter, itemgetter
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import Any, Callable, Iterable, Iterator, Mapping

from crmctl.core import jsonio
from crmctl.core.errors import LoadError, Problem
from crmctl.core.ids import ID_PATTERN

VERSION = 7  # 4: 0x/0o integers are kept as text; 5: the ctime is part of a file's stamp; 6: rows and stamps apart;
# 7: +7 and 007 kept as text
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
    return read_blob(path)[0]


def _segments(path: str) -> tuple[dict[str, Any], bytes, bytes] | None:
    """A cache file's header and its two undecoded parts, rows then stamps (see :func:`_write_cache`)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        head_end = raw.index(b"\n")
        head = jsonio.loads(raw[:head_end])
        if not isinstance(head, dict) or head.get("version") != VERSION:
            return None
        rows_end = head_end + 1 + int(head["rows"])
        return head, raw[head_end + 1:rows_end], raw[rows_end:]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_blob(path: str) -> tuple[dict[str, Entry], str | None, list[Problem]]:
    """A cache file's entries, the folder digest they were all proven fresh against (None when unknown) and the
    problems of that folder's misnamed files and symbolic links (which have no entries)."""
    parts = _segments(path)
    if parts is None:
        return {}, None, []
    head, rows_raw, stamps_raw = parts
    try:
        rows, stamps = jsonio.loads(rows_raw), jsonio.loads(stamps_raw)
        files = {name: [*stamps[name], *row] for name, row in rows.items()}
        return files, head.get("digest"), [Problem(*p) for p in head.get("named", [])]
    except (ValueError, KeyError, TypeError):
        return {}, None, []


def read_rows(path: str, digest: str) -> tuple[dict[str, list[Any]], list[Problem]] | None:
    """``({name: [data, lines, problem]}, named problems)`` of a cache made at ``digest``; None for any other.

    An unchanged folder needs no stamps: only the rows part of the file is decoded (half of a view's bytes).
    """
    parts = _segments(path)
    if parts is None or parts[0].get("digest") != digest:
        return None
    try:
        return jsonio.loads(parts[1]), [Problem(*p) for p in parts[0].get("named", [])]
    except (ValueError, TypeError):
        return None


def save_bytes(path: str, data: bytes) -> None:
    """Write a cache file atomically (a temporary file renamed into place); best effort, so a read-only book still
    works: the next read finds the old file or none and rebuilds."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def save_json(path: str, blob: Any) -> None:
    """Write a cache file of JSON atomically (:func:`save_bytes`)."""
    save_bytes(path, jsonio.dump_bytes(blob))


def _write_cache(path: str, files: dict[str, Entry], listing: Listing | None = None,
                 named: list[Problem] | None = None) -> None:
    """Write entries as a header line and two JSON parts: ``{name: [data, lines, problem]}`` then
    ``{name: [times, size, inode]}``.

    ``listing``: the folder as every entry was proven fresh against; the next read of an unchanged folder (same
    digest) then decodes the rows only and looks at no entry's stamp (see :func:`scan`).
    """
    rows = jsonio.dump_bytes({name: item[3:] for name, item in files.items()})
    stamps = jsonio.dump_bytes({name: item[:3] for name, item in files.items()})
    head: dict[str, Any] = {"version": VERSION, "rows": len(rows)}
    if listing is not None:
        head["digest"] = listing.digest
        head["named"] = [[p.path, p.line, p.message] for p in named or []]
    save_bytes(path, jsonio.dump_bytes(head) + b"\n" + rows + stamps)


def remember(cache_path: str, entries: dict[str, Entry]) -> None:
    """Add entries for files just written (a batch), keyed by their stat like any other."""
    files = read_entries(cache_path)
    files.update(entries)
    _write_cache(cache_path, files)


STAT_FIELDS = ("st_mtime_ns", "st_ctime_ns", "st_size", "st_ino", "st_mode")  # what a folder's digest covers
_fields_of = attrgetter(*STAT_FIELDS)
# what callers read of a file's stat (stamp, checked, digests), as a watcher's stored listing gives it back
FileStat = namedtuple("FileStat", (*STAT_FIELDS, "st_nlink"))


def stat_fields(st: Any) -> tuple[int, ...]:
    """The fields of a :class:`FileStat` from any stat result: ``(mtime_ns, ctime_ns, size, inode, mode, nlink)``."""
    return (*_fields_of(st), st.st_nlink)


def merge_steps(steps: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``{name: fields after the last step that named it, None when gone}`` of a listing's steps (the watcher's
    ``(digest after, {name: fields | None})``, oldest first)."""
    merged: dict[str, Any] = {}
    for _, diff in steps:
        merged.update(diff)
    return merged


class Listing(Sequence[tuple[str, Any]]):
    """A folder's record files as ``(name, stat)`` pairs, with :attr:`digest`: a hash of the names and each
    file's (mtime_ns, ctime_ns, size, inode, mode) — equal digests mean nothing changed.

    Built from ``lstat`` results (:func:`stat_all`) or from a watcher's stored listing (:mod:`crmctl.core.watch`),
    whose pairs are made only when a caller iterates: a caller that only compares the digest (the read model of an
    unchanged folder) never pays for 50,000 stat objects.
    """

    def __init__(self, pairs: list[tuple[str, Any]] | None = None, names: list[str] | None = None,
                 fields: list[tuple[int, ...]] | None = None, digest: str | None = None,
                 load: Callable[[], tuple[list[str], list[tuple[int, ...]]]] | None = None) -> None:
        self._pairs = pairs
        self._names = names
        self._fields = fields
        self._digest = digest
        self._load = load  # gives (names, fields) when first needed: an unchanged folder's callers need the digest only
        # (digest of a whole listing, [(digest after, {name: fields now, None when gone}), ...]): the steps from
        # that listing to this one (set by the watcher; see changes_since)
        self.history: tuple[str, list[tuple[str, dict[str, Any]]]] | None = None

    def _loaded(self) -> None:
        if self._load is not None:
            self._names, self._fields = self._load()
            self._load = None

    @property
    def pairs(self) -> list[tuple[str, Any]]:
        if self._pairs is None:
            self._loaded()
            self._pairs = list(zip(self._names or [], map(FileStat._make, self._fields or [])))
        return self._pairs

    def names(self) -> list[str]:
        self._loaded()
        return self._names if self._names is not None else [n for n, _ in self.pairs]

    def fields(self) -> list[tuple[int, ...]]:
        """Per file ``(mtime_ns, ctime_ns, size, inode, mode, nlink)``."""
        self._loaded()
        if self._fields is None:
            self._fields = [stat_fields(st) for _, st in self.pairs]
        return self._fields

    @property
    def digest(self) -> str:
        """blake2b of the names and the stat fields; marshal format 2 (no back-references), so equal values
        always give equal bytes however the objects were made."""
        if self._digest is None:
            h = hashlib.blake2b(digest_size=20)
            h.update("/".join(self.names()).encode("utf-8", "surrogateescape"))
            if self._pairs is None:
                values = [f[:5] for f in self.fields()]
            else:  # map keeps the 50,000-file loop in C
                values = list(map(_fields_of, map(itemgetter(1), self.pairs)))
            h.update(marshal.dumps(values, 2))
            self._digest = h.hexdigest()
        return self._digest

    def changes_since(self, digest: str) -> dict[str, Any] | None:
        """``{name: FileStat now, or None when gone}`` of every file that differs from the listing whose digest is
        ``digest``, when this listing knows its way from that one (the watcher's steps); else None, and a caller
        compares every file. A name may appear whose file is as it was (changed and changed back)."""
        if digest == self.digest:
            return {}
        if self.history is None:
            return None
        body, steps = self.history
        digests = [body, *(d for d, _ in steps)]
        if digest not in digests:
            return None
        merged = merge_steps(steps[digests.index(digest):])
        return {name: None if f is None else FileStat._make(f) for name, f in merged.items()}

    def __len__(self) -> int:
        return len(self.names())

    def __getitem__(self, index: Any) -> Any:
        return self.pairs[index]

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.pairs)


def folder_stats(folder: str) -> Listing:
    """``(name, lstat)`` of every ``*.yaml`` file in ``folder`` (none when it does not exist).

    When the book's watcher runs (``crmctl watch start``), it names the files
    changed since the folder was last listed and only those are stat'ed
    (:func:`crmctl.core.watch.folder_stats`); else :func:`stat_all`.
    """
    if watch_enabled():
        from crmctl.core import watch

        found = watch.folder_stats(folder)
        if found is not None:
            return found
    return stat_all(folder)


WATCH_SWITCH = "CRMCTL_WATCH"  # "off": never ask the watcher (tests compare both ways)


def watch_enabled() -> bool:
    return os.environ.get(WATCH_SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


def stat_all(folder: str) -> Listing:
    """The stat rule: ``(name, lstat)`` of every ``*.yaml`` file in ``folder``, one ``fstatat`` each.

    Through ``map``: a loop over 50,000 ``DirEntry`` objects costs twice as much in Python alone.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return Listing([])
    try:
        # sorted: every way of listing a folder gives its records in one order (the watcher's too), so nothing a
        # command prints can depend on the order a file system returns names in
        names = sorted(n for n in os.listdir(fd) if n.endswith(".yaml") and not n.startswith("."))
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
        return Listing(out)
    finally:
        os.close(fd)


def checked(folder: str, rel: str, stats: list[tuple[str, os.stat_result]], problems: list[Problem],
            known: Mapping[str, Any]) -> Iterator[tuple[str, str, os.stat_result, str]]:
    """``(name, id, stat, path)`` of each of ``stats`` that is a record file; misnamed files and symlinks become problems.

    A name in ``known`` (a cache) passed the name check when it was cached; a
    hot loop over 50,000 visits need not check it again.
    """
    wrong = folder_problem(folder, rel)
    if wrong is not None:
        problems.append(Problem(wrong.split(":", 1)[0], 1, wrong))
        return
    prefix = os.path.join(folder, "")
    for name, st in stats:
        rid = name[:-5]
        if S_ISLNK(st.st_mode):
            problems.append(Problem(f"{rel}/{name}", 1, f"{rel}/{name}: is a symbolic link; replace it with the file itself"))
            continue
        if not S_ISREG(st.st_mode):  # a folder, a named pipe (reading one waited forever), a socket or a device
            problems.append(Problem(f"{rel}/{name}", 1, f"{rel}/{name}: is not a plain file; records are plain YAML files"))
            continue
        if name not in known and not ID_PATTERN.fullmatch(rid):
            problems.append(Problem(f"{rel}/{name}", 1, f"file name {rid!r} is not a valid id (lowercase letters, digits, - and _)"))
            continue
        yield name, rid, st, prefix + name


Stats = Listing


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
        data, lines = yamlio.load_path(path, shown, st.st_size)
        return [*key, data, lines, None]
    except LoadError as exc:
        return [*key, None, None, [exc.problem.line, exc.problem.message]]


def scan(folder: str, rel: str, cache_path: str | None, stats: Stats | None = None,
         ) -> tuple[dict[str, tuple[dict[str, Any], dict[str, int]]], list[Problem]]:
    """Load every ``*.yaml`` record in ``folder`` (as ``stats`` found them, default now): ``{id: (data, lines)}``
    and the problems (misnamed files first, then bad files, in the folder's order)."""
    listing = folder_stats(folder) if stats is None else stats
    out: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
    known = read_rows(cache_path, listing.digest) if cache_path and plain(folder) else None
    if known is not None:
        return out, known[1] + _rows_into(out, known[0], rel, lambda row: (row[0], row[1]))
    cached = read_entries(cache_path) if cache_path else {}
    fresh: dict[str, Entry] = {}
    named: list[Problem] = []
    for name, _, st, path in checked(folder, rel, listing, named, cached):
        item = cached.get(name)
        if not is_fresh(item, st):
            item = parse_entry(path, f"{rel}/{name}", st)
        fresh[name] = item
    if cache_path:
        _write_cache(cache_path, fresh, listing, named)
    return out, named + _rows_into(out, {n: e[3:] for n, e in fresh.items()}, rel, lambda row: (row[0], row[1]))


def folder_problem(folder: str, rel: str) -> str | None:
    """The one line that says why ``folder`` (shown as ``rel``, ``records/<type>``) holds no records: it or
    ``records/`` is a symbolic link, or is not a folder (a plain file, a pipe, ...); None when both are plain
    folders or are not there at all (a type with no records yet).

    Every reader of a type's folder (the JSON caches, the read model, check) and every writer
    (:meth:`crmctl.core.book.Book.path_for`) asks here, so each names such a folder in the same words.
    """
    for path, shown in ((os.path.dirname(folder), os.path.dirname(rel)), (folder, rel)):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None
        if not S_ISDIR(mode):
            return not_a_folder(shown, S_ISLNK(mode))
    return None


def not_a_folder(shown: str, link: bool) -> str:
    """The line for ``records/`` or a type's folder that is a symbolic link (``link``) or something else than a
    folder: on disk (:func:`folder_problem`) and in a commit (:class:`crmctl.core.snapshot.Snapshot`)."""
    return f"{shown}: {'is a symbolic link' if link else 'is not a folder'}; records must be plain folders inside the book"


def plain(folder: str) -> bool:
    """True when the folder and ``records/`` are plain folders, or absent (a cache may then answer for it);
    :func:`folder_problem` says why not."""
    return folder_problem(folder, "") is None


def _rows_into(out: dict[str, Any], rows: dict[str, list[Any]], rel: str, value: Callable[[list[Any]], Any]) -> list[Problem]:
    """Put ``value(row)`` of each good row (``[data, lines, problem]``) into ``out`` by id; the problems of the bad ones."""
    problems: list[Problem] = []
    for name, row in rows.items():
        if row[2] is not None:
            problems.append(Problem(f"{rel}/{name}", row[2][0], row[2][1]))
        else:
            out[name[:-5]] = value(row)
    return problems


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
    listing = folder_stats(folder) if stats is None else stats
    out: dict[str, Any] = {}
    known = read_rows(view_path, listing.digest) if plain(folder) else None
    if known is not None:
        return out, known[1] + _rows_into(out, known[0], rel, itemgetter(0))
    cached = read_entries(view_path)
    fresh: dict[str, Entry] = {}
    named: list[Problem] = []
    unseen: list[tuple[str, Any, str]] = []
    for name, _, st, path in checked(folder, rel, listing, named, cached):
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
    _write_cache(view_path, fresh, listing, named)
    return out, named + _rows_into(out, {n: e[3:] for n, e in fresh.items()}, rel, itemgetter(0))
