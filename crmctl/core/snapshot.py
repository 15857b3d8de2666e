"""The book as it was committed on a day: read from git objects, nothing checked out.

``book_on(book, day)`` finds the last commit on the current branch's
first-parent history at or before the end of ``day`` in the book's zone
(:mod:`crmctl.core.clock`) and returns a :class:`Snapshot`: a read-only
:class:`~crmctl.core.book.Book` whose records come from that commit's tree
(``git ls-tree -r`` for the file list, ``git cat-file --batch`` for the
contents). Report functions take it in place of the book and run unchanged.

Parsed records are cached by blob id in ``.crmctl/cache/git/<type>.json``
(``{blob: [data, problem]}``): a blob is parsed once ever, and two snapshots
a week apart share every record that did not change between them. The
working tree and the index are never touched.

Where the date is before the branch's first commit (or the book is not in a
git repository) there is no committed book to read; :func:`book_on` then says
so and the caller decides: reports fall back to the records' own stage and
payment histories (:data:`SOURCE_RECORDS`), ``list``/``show``/``diff`` refuse.
"""
from __future__ import annotations

import datetime as _dt
import functools
import os
from dataclasses import dataclass
from typing import Any, Callable

from crmctl.core import cache, git, jsonio, limits
from crmctl.core.book import SETTINGS_FILE, Book, Record
from crmctl.core.clock import book_tz, in_book_zone, now, today
from crmctl.core.errors import CrmError, LoadError, Problem
from crmctl.core.ids import ID_PATTERN
from crmctl.core.schema import check_custom_fields
from crmctl.core.schemas import canonical
from crmctl.core.settings import Settings, screen

STORE_VERSION = 1
SOURCE_GIT = "git"          # the book as committed that day
SOURCE_TODAY = "today"      # the day is today: the book as it is (a later day is refused: AfterToday)
SOURCE_RECORDS = "records"  # before the git history: today's records, replayed from their own histories
Entry = list[Any]           # [data or None, [line, message] or None]
SEED_AFTER = 200            # more unseen blobs than this: first take what the working tree's cache has parsed


@dataclass(frozen=True)
class Commit:
    """One commit: its id and when it was committed (committer date, in the book's zone)."""

    sha: str
    when: _dt.datetime           # effective time (see :class:`Timeline`), in the book's zone
    skewed: tuple[str, ...] = ()  # commits up to this one whose own date is earlier than a parent's

    @property
    def short(self) -> str:
        return self.sha[:10]


class NoHistory(CrmError):
    """There is no committed book for a day (no repository, before the first commit); the message says why."""

    def __init__(self, why: str, reason: str) -> None:
        super().__init__(f"{why}: {reason}")
        self.reason = reason


class AfterToday(CrmError):
    """A day after today: no book has been committed for it yet (one rule for every ``--as-of``, ``diff``, ``changes``)."""

    def __init__(self, why: str, day: _dt.date, current: _dt.date) -> None:
        super().__init__(f"{why}: {day.isoformat()} is after today ({current.isoformat()}); {why} reads the book as it "
                         "was at the end of a past day, or as it is now for today")


def not_after_today(book: Book, day: _dt.date, why: str) -> _dt.date:
    """Today in the book's zone; :class:`AfterToday` if ``day`` is later. Commands reading two days check both first."""
    current = today(book.settings)
    if day > current:
        raise AfterToday(why, day, current)
    return current


def day_end(day: _dt.date, settings: Any) -> int:
    """The last second of ``day`` in the book's zone, as a Unix time (may be negative: any day from 0001-01-01)."""
    start = _dt.datetime.combine(day, _dt.time(0), tzinfo=book_tz(settings)) + _dt.timedelta(days=1)
    return int(start.timestamp()) - 1


def git_root_of(book: Book, why: str) -> str:
    """The repository that holds the book, or :class:`NoHistory` naming ``why`` (what needed it)."""
    root = book.git_root()
    if root is None:
        raise NoHistory(why, f"{book.root} is not in a git repository, so it has no past versions; "
                        "run `git init` and commit, and from then on every day can be read back")
    return root


@dataclass(frozen=True)
class Timeline:
    """HEAD's first-parent history, newest first, each commit with its *effective* time.

    A commit's effective time is the latest committer date among it and its
    first-parent ancestors (Unix seconds): a commit cannot have reached the
    branch before its parent did, so a clock that was behind never lets a
    later commit count on an earlier day. Effective times never decrease along
    the branch, so "the commit on a day" has exactly one answer.
    """

    shas: list[str]
    own: list[int]        # committer dates as written
    effective: list[int]  # max(own, every older first-parent commit's own)


def timeline(root: str) -> Timeline:
    """Read HEAD's first-parent history (``git log --first-parent --format='%H %ct'``) as a :class:`Timeline`."""
    proc = git.run(root, "log", "--first-parent", "--format=%H %ct", "HEAD", check=False)
    pairs = [line.split() for line in proc.stdout.splitlines() if line.strip()] if proc.returncode == 0 else []
    shas, own = [sha for sha, _ in pairs], [int(ct) for _, ct in pairs]
    effective: list[int] = [0] * len(own)
    latest: int | None = None
    for i in range(len(own) - 1, -1, -1):  # oldest first
        latest = own[i] if latest is None else max(latest, own[i])
        effective[i] = latest
    return Timeline(shas, own, effective)


def counted_at(root: str) -> dict[str, int]:
    """Every commit reachable from HEAD -> the Unix time from which ``--as-of`` counts its content.

    A first-parent commit counts from its effective time (:class:`Timeline`: never before its parent); a commit
    merged in from a side branch from the effective time of the first-parent commit that brought it in (the
    merge). ``log`` shows this time as a commit's ``date``, so "the date --as-of counts" is true of every row.
    One ``git log`` besides the timeline's.
    """
    line = timeline(root)
    proc = git.run(root, "log", "--format=%H %P", "HEAD", check=False)
    parents = {sha: rest for sha, *rest in (row.split() for row in proc.stdout.splitlines() if row.strip())}
    out: dict[str, int] = {}
    for sha, eff in zip(reversed(line.shas), reversed(line.effective)):  # oldest first
        out[sha] = eff
        stack = list(parents.get(sha, [])[1:])   # what its merge brought in, not yet on the branch
        while stack:
            side = stack.pop()
            if side not in out:
                out[side] = eff
                stack.extend(parents.get(side, []))
    return out


def counted_dates(book: Book, root: str, rows: list[dict[str, Any]], sha: str, own: str, shown: str) -> list[str]:
    """Set each row's ``shown`` to the time ``--as-of`` counts its commit (``row[sha]``, a full or 10-character id,
    committed at ``row[own]``, ISO), in the book's zone; return a note per commit counted later than its own
    date (dated before a parent, or merged later), once each, for stderr."""
    counted = {full[:10]: when for full, when in counted_at(root).items()}
    tz, notes, seen = book_tz(book.settings), [], set()
    for row in rows:
        own_at = _dt.datetime.fromisoformat(row[own])
        when = counted.get(str(row[sha])[:10])
        later = when is not None and when > int(own_at.timestamp())
        row[shown] = (_dt.datetime.fromtimestamp(when, tz) if later else own_at.astimezone(tz)).isoformat()  # type: ignore[arg-type]
        if later and row[sha] not in seen:
            seen.add(row[sha])
            notes.append(f"commit {str(row[sha])[:10]} was committed {own_at.astimezone(tz).isoformat()}, before a "
                         f"commit it follows (a clock behind, or a branch merged later): --as-of counts it from "
                         f"{row[shown]}, the date shown")
    return notes


def commit_on(book: Book, day: _dt.date, why: str) -> Commit:
    """The newest first-parent commit of HEAD whose effective time (:class:`Timeline`) is at or before
    ``day``'s end; :class:`NoHistory` when there is none.

    Compared in Python on Unix seconds (never through ``git --before``, which reads small numbers as
    other dates), so any day from 0001-01-01 on has one answer. ``Commit.skewed`` names commits whose
    own date is out of order and that the choice had to pass over or date later.
    """
    root = git_root_of(book, why)
    settings = book.settings
    tz = book_tz(settings)
    line = timeline(root)
    if not line.shas:
        raise NoHistory(why, "the repository has no commits yet; commit the book and read back from then on")
    end = day_end(day, settings)
    for i, eff in enumerate(line.effective):
        if eff <= end:
            skewed = tuple(line.shas[j] for j in range(i + 1) if line.own[j] < line.effective[j] and line.own[j] <= end)
            return Commit(line.shas[i], _dt.datetime.fromtimestamp(eff, tz), skewed)
    first = _dt.datetime.fromtimestamp(line.effective[-1], tz)
    shallow = git.run(root, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"
    if shallow:
        raise NoHistory(why, f"{day.isoformat()} is before {first.date().isoformat()}, the oldest commit of this "
                        "shallow clone; run `git fetch --unshallow` to read earlier days")
    raise NoHistory(why, f"{day.isoformat()} is before the book's first commit ({first.date().isoformat()})")


def book_on(book: Book, day: _dt.date, why: str = "--as-of", exact: bool = False) -> tuple[Book, str, str]:
    """The book as it stood at the end of ``day``: ``(book, source, one line saying which)``.

    ``source`` is :data:`SOURCE_TODAY` (today: the book as it is,
    uncommitted changes included), :data:`SOURCE_GIT` (a :class:`Snapshot`) or
    :data:`SOURCE_RECORDS` (no commit that old: the book as it is, which
    reports replay from the records' own histories). ``exact`` (list, show,
    diff, changes: commands that need every field as it was) refuses the last
    with :class:`NoHistory` instead.
    A day after today is refused with :class:`AfterToday`: there is no book of
    that day yet, and reading today's under its name would judge some figures on
    that day and others on today.
    """
    if not_after_today(book, day, why) == day:
        return book, SOURCE_TODAY, f"as of {day.isoformat()}: the book as it is now"
    try:
        commit = commit_on(book, day, why)
    except NoHistory as exc:
        if exact:
            raise NoHistory(why, f"{exc.reason}; only the reports (`crmctl report pipeline --as-of {day.isoformat()}`, "
                                 "funnel, forecast, ...) can go further back, from the records' own histories") from None
        return book, SOURCE_RECORDS, (f"as of {day.isoformat()}: from the records' own stage and payment histories, "
                                      f"other fields as they are today ({exc.reason})")
    shown = commit.when.strftime("%Y-%m-%d %H:%M %z")
    skew = ""
    if commit.skewed:
        names = ", ".join(sha[:10] for sha in commit.skewed)
        skew = (f"; commit dates out of order ({names} dated before a parent): "
                "each commit counted from its parent's date or its own, whichever is later")
    return (Snapshot(book, commit, day), SOURCE_GIT,
            f"as of {day.isoformat()}: the book as committed in {commit.short} ({shown}); statuses as on that day{skew}")


# ---------------------------------------------------------------- git objects
def tree(root: str, commit: str, prefix: str) -> dict[str, str]:
    """``{path relative to the book: blob id}`` of the book's settings and records in ``commit``.

    Symlinks (mode 120000) are kept with a ``!`` before the id so a reader can refuse them as the disk reader does.
    """
    proc = git.run(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", f"{prefix}{SETTINGS_FILE}",
                   f"{prefix}records")
    out: dict[str, str] = {}
    for item in proc.stdout.split("\0"):
        if not item:
            continue
        meta, _, path = item.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":
            out[path[len(prefix):]] = ("!" if mode == "120000" else "") + sha
    return out


def cat(root: str, shas: list[str]) -> dict[str, bytes]:
    """The contents of blobs, all through one ``git cat-file --batch``.

    The ids go in through a temporary file, so the output is read in one
    piece: with both ends on pipes, ``subprocess`` polls and writes 512
    bytes at a time (0.15 s for 12,000 blobs).
    """
    if not shas:
        return {}
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as ids, tempfile.TemporaryFile() as err:
        ids.write("\n".join(shas).encode() + b"\n")
        ids.seek(0)
        proc = subprocess.run(["git", "-C", root, "cat-file", "--batch"], stdin=ids, stdout=subprocess.PIPE,
                              stderr=err, env=git._env(), check=False)
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise CrmError(f"git cat-file failed: {stderr.decode(errors='replace').strip()[-200:]}")
    out: dict[str, bytes] = {}
    data, pos = proc.stdout, 0
    for sha in shas:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        if len(header) < 3 or header[1] != b"blob":
            raise CrmError(f"git object {sha} is missing from the repository (a partial or broken clone); "
                           "run `git fsck` or fetch the history again")
        size = int(header[2])
        out[sha] = data[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return out


def worktree_parsed(book: Book, root: str, rtype: str, missing: set[str]) -> dict[str, Entry]:
    """``{blob: entry}`` for the blobs of ``missing`` whose parse the working tree's index cache already holds.

    ``git ls-files -s`` names the file each blob is staged as; the file counts
    only when its content now hashes to that blob id (so an edit, staged or
    not, never passes for the committed version) and crmctl's cache entry for
    it is fresh by its stat: then the cached data is that blob's parse, and
    the past snapshot needs no parse. Best effort: anything odd leaves a file
    out, never in.
    """
    import hashlib

    folder = os.path.relpath(book.folder(rtype), root).replace(os.sep, "/")
    staged = git.run(root, "ls-files", "-s", "-z", "--", folder, check=False)
    if staged.returncode != 0:
        return {}
    names: dict[str, str] = {}  # file name -> blob, for the blobs wanted
    for item in staged.stdout.split("\0"):
        meta, _, path = item.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] == "100644" and parts[2] == "0" and parts[1] in missing \
                and path.startswith(folder + "/") and "/" not in path[len(folder) + 1:]:
            names[path[len(folder) + 1:]] = parts[1]
    if not names:
        return {}
    known = cache.read_entries(os.path.join(book.root, ".crmctl", "cache", f"{rtype}.json"))
    out: dict[str, Entry] = {}
    base = book.folder(rtype)
    for name, sha in names.items():
        item = known.get(name)
        if item is None or item[5] is not None:
            continue
        try:
            with open(os.path.join(base, name), "rb") as handle:
                st = os.fstat(handle.fileno())
                raw = handle.read()
        except OSError:
            continue
        if cache.is_fresh(item, st) and not os.path.islink(os.path.join(base, name)) \
                and hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == sha:
            out[sha] = [item[3], None]
    return out


class BlobStore:
    """Parsed records by blob id, one JSON file per type under ``.crmctl/cache/git/``; shared by every snapshot."""

    _open: dict[str, dict[str, Entry]] = {}  # path -> entries, for this process
    _saved: dict[str, int] = {}  # path -> how many entries its file holds, as this process last saw it

    def __init__(self, book_root: str) -> None:
        self.folder = os.path.join(book_root, ".crmctl", "cache", "git")

    def _load(self, name: str) -> dict[str, Entry]:
        path = os.path.join(self.folder, f"{name}.json")
        if path not in self._open:
            entries: dict[str, Entry] = {}
            try:
                with open(path, "rb") as handle:
                    blob = jsonio.loads(handle.read())
                if blob.get("version") == STORE_VERSION:
                    entries = blob["blobs"]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass
            self._open[path] = entries
            self._saved[path] = len(entries)
        return self._open[path]

    def parsed(self, root: str, name: str, wanted: dict[str, str],
               seed: Callable[[set[str]], dict[str, Entry]] | None = None) -> dict[str, Entry]:
        """``{blob: entry}`` for ``wanted`` (``{blob: path shown in problems}``); unseen blobs are read and parsed.

        ``seed`` (when more than :data:`SEED_AFTER` are unseen) gives parses
        known elsewhere (:func:`worktree_parsed`), taken before parsing.
        """
        from crmctl.core import yamlio

        entries = self._load(name)
        missing = [sha for sha in wanted if sha not in entries]
        if len(missing) > SEED_AFTER and seed is not None:
            known = seed(set(missing))
            entries.update((sha, known[sha]) for sha in missing if sha in known)
            missing = [sha for sha in missing if sha not in known]
        if missing:
            for sha, raw in cat(root, missing).items():
                try:
                    text = yamlio.decode(raw, wanted[sha])
                    entries[sha] = [yamlio.loads(text, wanted[sha])[0], None]
                except LoadError as exc:
                    entries[sha] = [None, [exc.problem.line, exc.problem.message]]
        path = os.path.join(self.folder, f"{name}.json")
        if len(entries) != self._saved.get(path):
            cache.save_json(path, {"version": STORE_VERSION, "blobs": entries})
            self._saved[path] = len(entries)
        return {sha: entries[sha] for sha in wanted}


# ---------------------------------------------------------------- the snapshot
class Snapshot(Book):
    """A read-only book: the records and settings of one commit.

    Everything a report reads (``records``, ``view``, ``live``, ``get``,
    ``settings``, ``text``) answers from the commit; anything that would write
    is refused. ``commit`` says which commit it is. Given ``day``, the clock
    of its settings stands at that day's last second (:func:`crmctl.core.clock.now`).
    """

    def __init__(self, book: Book, commit: Commit, day: _dt.date | None = None) -> None:
        super().__init__(book.root)
        self.commit = commit
        self.day = day  # the day asked for: "today" for statuses (its last second is the clock's now)
        self.current = book
        self._git_root = git_root_of(book, "--as-of")
        rel = os.path.relpath(self.root, self._git_root)
        self._prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        self._tree: dict[str, str] | None = None
        self.store = BlobStore(self.root)

    reads_files = False

    def git_root(self) -> str | None:
        return self._git_root

    def revision(self) -> str:
        return self.commit.sha

    @property
    def files(self) -> dict[str, str]:
        """``{path in the book: blob id}`` of the commit's settings and records."""
        if self._tree is None:
            self._tree = tree(self._git_root, self.commit.sha, self._prefix)
        return self._tree

    def shown(self, rel: str) -> str:
        return f"{rel}@{self.commit.short}"

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            sha = self.files.get(SETTINGS_FILE)
            if sha is None or sha.startswith("!"):
                raise CrmError(f"{SETTINGS_FILE} is not in commit {self.commit.short}: the book did not exist then")
            data, problem = self.store.parsed(self._git_root, "_settings", {sha: self.shown(SETTINGS_FILE)})[sha]
            if problem is not None:
                raise CrmError(f"{self.shown(SETTINGS_FILE)}:{problem[0]}: {problem[1]}")
            # a section of the wrong shape is refused as today's would be; unknown keys of a past crm.yaml are not told
            screen(data, self.shown(SETTINGS_FILE), {}, lambda: self.text(SETTINGS_FILE))
            settings = Settings(data, self.shown(SETTINGS_FILE))
            limits.check(settings.data, settings.path, settings.lines, lambda: self.text(SETTINGS_FILE))
            check_custom_fields(settings, lambda: self.text(SETTINGS_FILE))
            now(settings)
            if self.day is not None:
                settings.pinned_now = _dt.datetime.fromtimestamp(day_end(self.day, settings), book_tz(settings))
            self._settings = settings
        return self._settings

    def blobs(self, rtype: str) -> dict[str, str]:
        """``{file name: blob id}`` of one type's folder in the commit (symlinks marked ``!``)."""
        folder = f"records/{canonical(rtype)}/"
        return {path[len(folder):]: sha for path, sha in self.files.items()
                if path.startswith(folder) and "/" not in path[len(folder):]}

    def records(self, rtype: str) -> dict[str, Record]:
        rtype = canonical(rtype)
        if rtype not in self._records:
            # bad stored numbers are left out and warned about, as the disk reader does (Book._screened)
            self._records[rtype] = self._screened(rtype, {rid: (data, {}) for rid, data in self._read(rtype).items()})
        return self._records[rtype]

    def _read(self, rtype: str) -> dict[str, dict[str, Any]]:
        """``{id: data}`` of one type, bad files noted as problems (as the disk reader does)."""
        rel = f"records/{rtype}"
        wanted: dict[str, str] = {}
        ids: dict[str, str] = {}
        problems: list[Problem] = []
        for folder in ("records", rel):  # ls-tree lists a file or symlink there as a blob: the type has no folder
            if folder in self.files:
                shown = self.shown(folder)
                problems.append(Problem(shown, 1, cache.not_a_folder(shown, self.files[folder].startswith("!"))))
        for name, sha in self.blobs(rtype).items():
            if not name.endswith(".yaml") or name.startswith("."):
                continue
            if sha.startswith("!"):
                problems.append(Problem(self.shown(f"{rel}/{name}"), 1, "symlinks are not allowed in records/"))
            elif not ID_PATTERN.match(name[:-5]):
                problems.append(Problem(self.shown(f"{rel}/{name}"), 1, f"file name {name[:-5]!r} is not a valid id"))
            else:
                wanted.setdefault(sha, self.shown(f"{rel}/{name}"))
                ids[name[:-5]] = sha
        seed = functools.partial(worktree_parsed, self.current, self._git_root, rtype)
        entries = self.store.parsed(self._git_root, rtype, wanted, seed)
        out: dict[str, dict[str, Any]] = {}
        for rid, sha in ids.items():
            data, problem = entries[sha]
            if problem is not None:
                problems.append(Problem(self.shown(f"{rel}/{rid}.yaml"), problem[0], problem[1]))
            else:
                out[rid] = data
        self._note(problems)
        return out

    def view(self, rtype: str, name: str, project: Callable[..., Any], raw: bool = False,
             with_lines: bool = False) -> dict[str, Any]:
        if with_lines:  # as Book.view
            return {rid: project(rec.data, rec.lines) for rid, rec in self.records(rtype).items()}
        return {rid: project(rec.data) for rid, rec in self.records(rtype).items()}  # raw: the same answer (Book.view)

    def text(self, rel: str) -> str | None:
        sha = self.files.get(rel)
        if sha is None or sha.startswith("!"):
            return None
        from crmctl.core import yamlio

        return yamlio.decode(cat(self._git_root, [sha])[sha], self.shown(rel), rel)

    def forget(self) -> None:
        """A snapshot never changes: what was read stays."""

    def transaction(self, message: str, author: git.Author | None = None, commit: bool = True) -> Any:
        raise CrmError(f"this is the book as committed in {self.commit.short} (--as-of); it cannot be changed")


# ---------------------------------------------------------------- field changes
def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{field path: value}``: mappings by key (``prices.USD``), lists of mappings by position from 1
    (``lines[2].discount``); a list of plain values (``tags``) is one value."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and any(isinstance(item, (dict, list)) for item in data):
        out = {}
        for i, item in enumerate(data, 1):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """``(field path, old, new)`` for every field that differs (None where a side lacks it), in field order.

    An absent field and an empty one (``""``, ``[]``, ``{}``) are the same: a change between them shows nothing
    a reader could see, so it is no row (before, ``log --fields`` printed rows with empty old and new)."""
    before, after = flatten(old or {}), flatten(new or {})
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, before.get(k), after.get(k)) for k in keys
            if before.get(k) != after.get(k) and not (_blank(before.get(k)) and _blank(after.get(k)))]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


NULL_BLOB = "0" * 40


def field_history(book: Book, rtype: str, rid: str, limit: int = 50) -> tuple[list[dict[str, Any]], list[str]]:
    """A record's field changes from git, newest first: ``{field, old, new, when, authored, who, commit}`` per field,
    and the notes of :func:`counted_dates`.

    ``when`` is the date ``--as-of`` counts (the committer date, or a later one: :func:`counted_dates`; the
    notes are printed by ``log``), ``authored`` the author date, both in the book's zone; they differ after a
    rebase, a cherry-pick or ``git commit --date``.

    ``limit`` commits at most. A commit that could not be parsed shows one row with field ``(unreadable)``.
    """
    root = git_root_of(book, "log --fields")
    path = os.path.relpath(book.path_for(rtype, rid), root)
    proc = git.run(root, "log", f"-n{limit}", "--format=%x1e%H%x1f%an <%ae>%x1f%cI%x1f%aI", "--raw", "--no-abbrev",
                   "--no-renames", "--", path, check=False)
    commits: list[tuple[str, str, str, str, str, str]] = []  # sha, who, committed, authored, old blob, new blob
    for chunk in proc.stdout.split("\x1e")[1:]:
        head, _, raw = chunk.partition("\n")
        sha, who, when, authored = head.split("\x1f")
        for line in raw.splitlines():
            if line.startswith(":"):
                meta = line.split("\t", 1)[0].split()
                commits.append((sha, who, when, authored, meta[2], meta[3]))
    shown = f"records/{canonical(rtype)}/{rid}.yaml"
    wanted = {b: shown for c in commits for b in c[4:] if b != NULL_BLOB}
    entries = BlobStore(book.root).parsed(root, canonical(rtype), wanted)
    rows: list[dict[str, Any]] = []
    for sha, who, when, authored, old, new in commits:
        base = {"when": when, "authored": in_book_zone(authored, book.settings), "who": who, "commit": sha[:10]}
        sides = [entries[b] if b != NULL_BLOB else [None, None] for b in (old, new)]
        if any(side[1] is not None for side in sides):
            rows.append({"field": "(unreadable)", "old": None, "new": None, **base})
            continue
        rows.extend({"field": f, "old": a, "new": b, **base} for f, a, b in changed_fields(sides[0][0], sides[1][0]))
    notes = counted_dates(book, root, rows, "commit", "when", "when")
    return rows, notes


def record_diff(first: Book, second: Book, types: list[str]) -> list[dict[str, Any]]:
    """Records added, changed (which fields) and removed from ``first`` to ``second``, by type and id."""
    rows: list[dict[str, Any]] = []
    for rtype in types:
        before, after = first.records(rtype), second.records(rtype)
        for rid in sorted(set(before) | set(after)):
            old, new = before.get(rid), after.get(rid)
            if old is not None and new is not None and old.data == new.data:
                continue
            change = "added" if old is None else "removed" if new is None else "changed"
            fields = sorted({f.split(".")[0].split("[")[0] for f, _, _ in changed_fields(old and old.data, new and new.data)})
            rows.append({"type": rtype, "id": rid, "name": (new or old).name, "change": change,  # type: ignore[union-attr]
                         "fields": ", ".join(fields) if change == "changed" else ""})
    return rows
