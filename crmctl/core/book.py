"""The book: a directory of YAML records, its settings, reads and atomic writes.

Reads go through the index cache. Writes happen only inside a
:class:`Transaction`, which holds the book-wide lock, re-reads what it is
about to change (so two writers never lose each other's update), validates
every record against its schema, writes each file atomically and commits
exactly the files it wrote.
"""
from __future__ import annotations

import bisect
import os
import re
import sys
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Callable, Iterable

from crmctl.core import cache, git, journal, limits
from crmctl.core.clock import now, now_iso, today  # noqa: F401 - the clock's home is core.clock; re-exported for callers
from crmctl.core.errors import Ambiguous, CrmError, LoadError, LockTimeout, NotFound, Problem, ValidationError
from crmctl.core.ids import check_id, new_id, slugify
from crmctl.core.lock import BookLock, timeout_from_env
from crmctl.core.money import padded
from crmctl.core.schema import check_custom_fields, screen_numbers, validate
from crmctl.core.schemas import canonical, get_schema
from crmctl.core.settings import Settings, defaults

SETTINGS_FILE = "crm.yaml"
WRITE_THROUGH = 50  # a batch writing this many new files also updates the read cache
_TOP_KEY = re.compile(r"^([A-Za-z_][\w]*):", re.MULTILINE)


def redirect(rid: str, data: dict[str, Any]) -> str | None:
    """The survivor's id when record ``rid`` (its ``data``) was merged into another, else None (:attr:`Record.merged_into`)."""
    target = data.get("merged_into")
    return str(target) if target and target != rid else None


@dataclass
class Record:
    """One record: its type (folder), id (file stem), data and key lines."""

    type: str
    id: str
    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    stored: dict[str, Any] | None = None  # what the file says, when ``data`` leaves a bad stored number out
    bad: dict[str, str] = field(default_factory=dict)  # field -> why its stored number was left out of ``data``
    bad_at: dict[str, tuple[str | int, ...]] = field(default_factory=dict)  # field -> where its first bad value is

    @property
    def path(self) -> str:
        return f"records/{self.type}/{self.id}.yaml"

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)

    def row(self) -> dict[str, Any]:
        """The record as list, show and export print it: money padded to its currency's decimals."""
        out = {"id": self.id, **self.data}
        schema = get_schema(self.type)
        currency = self.data.get("currency")
        if currency:
            for name in schema.money_fields:
                if out.get(name) is not None:
                    out[name] = padded(out[name], str(currency))
            for name, keys in schema.nested_amounts:
                if isinstance(out.get(name), list):
                    out[name] = [{k: padded(v, str(currency)) if k in keys and v is not None else v for k, v in e.items()}
                                 if isinstance(e, dict) else e for e in out[name]]
        for name in schema.price_maps:  # prices: {CNY: "450"} -> "450.00"; "0.333" stays (price_digits)
            if isinstance(out.get(name), dict):
                out[name] = {cur: padded(v, str(cur)) for cur, v in out[name].items()}
        return out

    @property
    def merged_into(self) -> str | None:
        """The survivor's id when this record was merged into another (a redirect), else None."""
        return redirect(self.id, self.data)

    @property
    def name(self) -> str:
        schema = get_schema(self.type)
        return str(self.data.get(schema.name_field) or self.id)


def value_line(root: str, path: str, where: tuple[str | int, ...], lines: dict[str, int]) -> int:
    """The 1-based line of the value at ``where`` (keys and list indexes: ``("installments", 3, "amount")``) in the
    record file ``path`` (``records/TYPE/ID.yaml``) under ``root``; its top-level key's line (``lines``, as
    :attr:`Record.lines`) when ``where`` is one key or the file cannot tell. It reads and composes the file again:
    for messages only, on the way to a problem, never per record."""
    if len(where) > 1:
        from crmctl.core.yamlio import line_of

        try:
            with open(os.path.join(root, path), encoding="utf-8") as handle:
                found = line_of(handle.read(), where)
        except (OSError, ValueError):
            found = None
        if found:
            return found
    return lines.get(str(where[0]), 1)


class Book:
    """A book on disk. Cheap to create; reads records type by type on demand."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._settings: Settings | None = None
        self._records: dict[str, dict[str, Record]] = {}
        self._sorted: dict[str, list[str]] = {}
        # records changed in this process but not loaded (a plan adds 10,000 visits to a folder it only viewed)
        self._changed: dict[str, dict[str, Record | None]] = {}
        self._dirty: set[str] = set()  # types with such changes, loaded or not
        self._stat_memo: dict[str, cache.Stats] = {}  # see _stats
        self.read: set[str] = set()  # every record type this book has listed (what a remembered result depends on)
        self.problems: list[Problem] = []
        self.notes: list[str] = []  # for the user, once each (a merged id that was followed); kept across forget()
        self.lock = BookLock(os.path.join(self.root, ".crmctl", "lock"), timeout_from_env() or 0)
        self.autocommit = True
        self.warn_settings = True  # crm.yaml's unknown keys: one warning on stderr (`check` reports them instead)

    # ------------------------------------------------------------ discovery
    @classmethod
    def discover(cls, explicit: str | None = None, cwd: str | None = None) -> Book:
        """``--book``, else ``$CRMCTL_BOOK``, else the nearest ``crm.yaml`` upwards."""
        chosen = explicit or os.environ.get("CRMCTL_BOOK")
        if chosen:
            if not os.path.isfile(os.path.join(chosen, SETTINGS_FILE)):
                raise CrmError(f"{chosen}: no {SETTINGS_FILE} here; run `crmctl init {chosen}` to make a book")
            return cls(chosen)
        here = os.path.abspath(cwd or os.getcwd())
        while True:
            if os.path.isfile(os.path.join(here, SETTINGS_FILE)):
                return cls(here)
            parent = os.path.dirname(here)
            if parent == here:
                raise CrmError("no book found: no crm.yaml here or above; use --book DIR, set CRMCTL_BOOK, or run `crmctl init DIR`")
            here = parent

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            settings = Settings.load(os.path.join(self.root, SETTINGS_FILE),
                                     cache_path=os.path.join(self.root, ".crmctl", "cache", "settings.json"))
            # a number crm.yaml holds that breaks its rule (crmctl.core.limits), an unknown zone or a bad $CRMCTL_NOW
            # stops every command here, with one line; `check` (warn_settings off) reports each bad number instead
            # and checks the rest of the book with the default in its place
            text = lambda: self.text(SETTINGS_FILE)  # noqa: E731
            bad = limits.problems(settings.data)
            if bad and self.warn_settings:
                limits.check(settings.data, settings.path, settings.lines, text)
            if bad:
                settings.number_problems = [list(limits.place(p, settings.path, settings.lines, text)) for p in bad]
                settings.data = limits.screened(settings.data, bad, defaults())
            check_custom_fields(settings, lambda: self.text(SETTINGS_FILE))
            now(settings)
            warning = settings.unknown_warning() if self.warn_settings else None
            if warning:
                sys.stderr.write(warning + "\n")
            if not self.lock.timeout:
                self.lock.timeout = float(limits.read(settings, "limits.lock_timeout_seconds", 10))
            self._settings = settings
        return self._settings

    # ------------------------------------------------------------ reading
    def folder(self, rtype: str) -> str:
        return os.path.join(self.root, "records", canonical(rtype))

    def path_for(self, rtype: str, rid: str) -> str:
        """The file of a record; the id is checked and no symbolic link is followed, so it can never leave the book."""
        check_id(rid)
        folder = self.folder(rtype)
        wrong = cache.folder_problem(folder, f"records/{canonical(rtype)}")
        if wrong is not None:
            raise CrmError(wrong)
        return os.path.join(folder, f"{rid}.yaml")

    def records(self, rtype: str) -> dict[str, Record]:
        """All loadable records of a type, by id; bad files become :attr:`problems`."""
        rtype = canonical(rtype)
        if rtype not in self._records:
            found, problems = cache.scan(self.folder(rtype), f"records/{rtype}",
                                         os.path.join(self.root, ".crmctl", "cache", f"{rtype}.json"), self._stats(rtype))
            self._note(problems)
            loaded = self._screened(rtype, found)
            self._records[rtype] = self._with_changes(rtype, loaded, lambda rec: rec)
            self._changed.pop(rtype, None)  # from now on _change writes into the loaded records
        return self._records[rtype]

    def _screened(self, rtype: str, found: dict[str, tuple[dict[str, Any], dict[str, int]]]) -> dict[str, Record]:
        """The records of ``found`` as readers may add them up (see :meth:`screen`); left-out ones dropped."""
        schema = get_schema(rtype)
        out: dict[str, Record] = {}
        for rid, (data, lines) in found.items():
            rec = self.screen(rtype, rid, data, lines, schema)
            if rec is not None:
                out[rid] = rec
        return out

    def screen(self, rtype: str, rid: str, data: dict[str, Any], lines: dict[str, int],
               schema: Any = None) -> Record | None:
        """One record as readers may add it up: a bad stored number is a problem (one per file, at its
        ``path:line``) and left out of the record's data (see schema.screen_numbers); the record keeps
        what its file says in :attr:`Record.stored`, so no write can drop the bad value unseen.
        None when the record is left out whole (a required amount is bad)."""
        clean, bad = screen_numbers(schema or get_schema(rtype), data, self.settings)
        rec = Record(rtype, rid, data if clean is None else clean, lines)
        if bad:  # code "number": its value is left out of figures; "unreadable": the whole record is
            self._note([Problem(rec.path, value_line(self.root, rec.path, bad[0].where, lines),
                                "; ".join(b.problem for b in bad), "number" if clean is not None else "unreadable")])
            rec.stored = data
            for name, message, where in bad:
                rec.bad_at.setdefault(name, where)
                rec.bad[name] = f"{rec.bad[name]}; {message}" if name in rec.bad else message
        return rec if clean is not None else None

    def view(self, rtype: str, name: str, project: Callable[..., Any], raw: bool = False,
             with_lines: bool = False) -> dict[str, Any]:
        """``{id: project(data)}`` for every loadable record of a type, from a cache of its own
        (``project(data, lines)`` ``with_lines``: lines as :attr:`Record.lines`).

        ``name`` names the cache file; change it when ``project`` changes what it
        returns. Records already loaded (or changed in this process) are used as they are;
        with ``raw`` (``project`` reads no stored number, so the file's data as written gives the
        same answer as the screened record) only records changed in this process are.
        """
        rtype = canonical(rtype)
        of_record: Callable[[Record], Any] = (lambda rec: project(rec.data, rec.lines)) if with_lines else (
            lambda rec: project(rec.data))
        if rtype in self._records and (not raw or rtype in self._dirty):
            return {rid: of_record(rec) for rid, rec in self._records[rtype].items()}
        cache_dir = os.path.join(self.root, ".crmctl", "cache")
        found, problems = cache.scan_view(self.folder(rtype), f"records/{rtype}", os.path.join(cache_dir, f"{rtype}.{name}.json"),
                                          os.path.join(cache_dir, f"{rtype}.json"), project, self._stats(rtype), with_lines)
        self._note(problems)
        return self._with_changes(rtype, found, of_record)

    def stats(self, rtype: str) -> cache.Stats:
        """The stats of a type's files as :meth:`_stats` keeps them: the read model refreshes its table from
        these too (:func:`crmctl.core.readmodel.open_model`), so one command stats a folder once."""
        return self._stats(canonical(rtype))

    def _stats(self, rtype: str) -> cache.Stats:
        """The stats of a type's files, taken once per read of the book: the records and every view of them
        (``check`` reads three) then describe the same files, and 30,000 files are not stat'ed three times.
        :meth:`forget` and any change this process makes to the type take them again."""
        if rtype not in self._stat_memo:
            self._stat_memo[rtype] = cache.folder_stats(self.folder(rtype))
            self.read.add(rtype)
        return self._stat_memo[rtype]

    def _with_changes(self, rtype: str, found: dict[str, Any], convert: Callable[[Record], Any]) -> dict[str, Any]:
        """``found`` (read from disk) with this process's changes to a type not loaded yet."""
        for rid, rec in self._changed.get(rtype, {}).items():
            if rec is None:
                found.pop(rid, None)
            else:
                found[rid] = convert(rec)
        return found

    def changed(self, rtype: str) -> bool:
        """True when this process has put or deleted records of ``rtype`` (the files may not say so yet)."""
        return rtype in self._dirty

    def _note(self, problems: list[Problem]) -> None:
        """Keep each bad file's problem once, however many reads found it."""
        self.problems.extend(p for p in problems if p not in self.problems)

    def text(self, rel: str) -> str | None:
        """A file of the book other than a record (``records/rates.yaml``) as text, None when absent.

        :class:`crmctl.core.snapshot.Snapshot` answers from a commit instead; read such files through here.
        """
        path = os.path.join(self.root, rel)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        from crmctl.core import yamlio  # only for a file that is there: YAML is 20 ms of a command's start

        return yamlio.decode(raw, rel, rel)

    def all(self, rtype: str) -> list[Record]:
        """Every record of a type, merge redirects included (``check``, ``export``, merges read these)."""
        return list(self.records(rtype).values())

    def live(self, rtype: str) -> dict[str, Record]:
        """The records of a type that are not merge redirects, by id: what lists, reports and plans read."""
        return {rid: rec for rid, rec in self.records(rtype).items() if not rec.merged_into}

    def lookup(self, rtype: str, rid: str | None) -> Record | None:
        """The record an exact id (a reference in another record) names, following merge redirects; None if absent.

        Unlike :meth:`get` it takes no prefix and raises nothing: a dangling reference is ``check``'s to report.
        """
        recs = self.records(rtype)
        rec = recs.get(str(rid)) if rid else None
        seen: set[str] = set()
        while rec is not None and rec.merged_into and rec.id not in seen:
            seen.add(rec.id)
            rec = recs.get(rec.merged_into)
        return rec

    def forget(self) -> None:
        """Drop what was read, so the next read sees the disk as it is now."""
        self._records.clear()
        self._stat_memo.clear()
        self._sorted.clear()
        self._changed.clear()
        self._dirty.clear()
        self.problems.clear()

    def _change(self, rtype: str, rid: str, rec: Record | None) -> None:
        """What later reads in this process see of a record a transaction put (or deleted, None)."""
        self._dirty.add(rtype)
        self._stat_memo.pop(rtype, None)
        loaded = self._records.get(rtype)
        if loaded is None:
            self._changed.setdefault(rtype, {})[rid] = rec  # merged in when the type is loaded or viewed
        elif rec is None:
            loaded.pop(rid, None)
        else:
            loaded[rid] = rec
        self._sorted.pop(rtype, None)

    def resolve(self, rtype: str, ref: str) -> str:
        """An id from an exact id or a unique prefix (as git does)."""
        rtype = canonical(rtype)
        recs = self.records(rtype)
        ref = (ref or "").strip().lower()
        if ref in recs:
            return ref
        if not ref:
            raise NotFound(f"no {get_schema(rtype).title} id given")
        ids = self._sorted.get(rtype)
        if ids is None:
            ids = self._sorted[rtype] = sorted(recs)
        start = bisect.bisect_left(ids, ref)
        matches = []
        for rid in ids[start:]:
            if not rid.startswith(ref):
                break
            matches.append(rid)
        title = get_schema(rtype).title
        if not matches:
            broken = [p for p in self.problems if p.path.startswith(f"records/{rtype}/")
                      and p.path[len(f"records/{rtype}/"):].startswith(ref)]
            if len(broken) == 1:  # its file is there but does not load: say why, not "no such record"
                rid = broken[0].path[len(f"records/{rtype}/"):].removesuffix(".yaml")
                raise LoadError(Problem(broken[0].path, broken[0].line,
                                        f"{broken[0].message}; {title} {rid} cannot be read until this is fixed"))
            raise NotFound(f"no {title} {ref!r}; `crmctl {title.split()[0].replace('opportunity', 'opp')} list` shows them")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
            raise Ambiguous(f"{title} prefix {ref!r} matches {len(matches)} records ({shown}); type more of the id")
        return matches[0]

    def get(self, rtype: str, ref: str) -> Record:
        """A record by id or unique prefix; a merged one's survivor (said in :attr:`notes`)."""
        rtype = canonical(rtype)
        rec = self.lookup(rtype, self.follow(rtype, self.resolve(rtype, ref)))
        if rec is None or rec.merged_into:
            raise NotFound(f"{get_schema(rtype).title} {ref!r} was merged into a record that does not exist; "
                           "`crmctl check` lists the broken redirect")
        return rec

    def follow(self, rtype: str, rid: str) -> str:
        """The id a merged record redirects to (through any chain), else ``rid``; a redirect adds a note."""
        survivor = self.lookup(canonical(rtype), rid)
        if survivor is not None and survivor.id != rid:
            note = f"{get_schema(rtype).title} {rid} was merged into {survivor.id}; using {survivor.id}"
            if note not in self.notes:
                self.notes.append(note)
        return survivor.id if survivor is not None else rid

    def exists(self, rtype: str, rid: str) -> bool:
        return rid in self.records(rtype)

    def new_slug(self, rtype: str, *names: str | None, explicit: str | None = None) -> str:
        """A free slug for master data: ``explicit``, or derived from the first usable name."""
        if explicit:
            slug = check_id(explicit.lower(), f"{get_schema(rtype).title} id")
            if self.exists(rtype, slug):
                raise ValidationError(f"{get_schema(rtype).title} {slug!r} already exists; choose another --id")
            return slug
        base = next((s for s in (slugify(n or "") for n in names) if s), "") or new_id()
        slug, n = base, 2
        while self.exists(rtype, slug):
            slug, n = f"{base}-{n}", n + 1
        return slug

    def new_id(self, rtype: str) -> str:
        return new_id()

    # ------------------------------------------------------------ writing
    def transaction(self, message: str, author: git.Author | None = None, commit: bool = True) -> Transaction:
        return Transaction(self, message, author, commit and self.autocommit)

    def git_root(self) -> str | None:
        if not hasattr(self, "_git_root"):
            self._git_root = git.toplevel(self.root)
        return self._git_root

    # a book read as of a past day (crmctl.core.snapshot.Snapshot) says False and names its commit: code that
    # would read record files or git history directly (an index, `git log`) reads through the book instead
    reads_files = True

    def revision(self) -> str:
        """The git revision this book's records are: ``HEAD`` (and the working tree) here; a commit for a snapshot."""
        return "HEAD"

    def recover(self, write: bool = False) -> list[str]:
        """Finish the changes an interrupted crmctl journalled (see core/journal.py); cheap when there are none.

        Readers try the lock without waiting (a live writer finishes its own
        change); a writer already holds it, and is refused while a finished
        change still waits for its commit, so commits stay in order.
        """
        if not journal.leftovers(self.root):
            return []
        if write:
            done = self._recover()
        else:
            saved = self.lock.timeout
            self.lock.timeout = 0
            try:
                with self.lock:
                    done = self._recover()
            except LockTimeout:
                return []
            finally:
                self.lock.timeout = saved
        for line in done:
            sys.stderr.write(f"note: {line}\n")
        if write and journal.pending(self.root):
            raise CrmError("an earlier change is on disk but not committed yet (see the warning above); "
                           "nothing was written; retry when git is free")
        return done

    def _recover(self) -> list[str]:
        """journal.recover for this book; a change to be signed is judged by :func:`crmctl.cpq.signed.replay_problem`."""
        def judge(tx: journal.Journal) -> str | None:
            from crmctl.cpq.signed import replay_problem

            return replay_problem(self, tx)

        return journal.recover(self.root, self.git_root(), self.autocommit, judge)

    def next_number(self, rtype: str, fmt: str, year: int, taken: Iterable[str] = ()) -> str:
        """The next document number of the year (``QT-2026-0007``) in a per-year sequence."""
        prefix = fmt.split("{seq", 1)[0].format(year=year)
        pattern = re.compile(re.escape(prefix) + r"(\d+)")
        highest = 0
        for value in [*(str(r.data.get("number") or "") for r in self.all(rtype)), *taken]:
            m = pattern.match(value)
            if m:
                highest = max(highest, int(m.group(1)))
        return fmt.format(year=year, seq=highest + 1)


class Transaction:
    """Changes that land together: validated, written atomically, committed once."""

    def __init__(self, book: Book, message: str, author: git.Author | None, commit: bool) -> None:
        self.book = book
        self.message = message
        self.author = author
        self.do_commit = commit
        self.pending: dict[str, tuple[Record, str | None]] = {}
        self.batch = False  # batch imports skip the per-file fsync and sync once
        self.written: list[str] = []
        self.committed = False
        self.commit_pending = ""  # why git refused the commit of a change that is whole on disk (journalled)
        self.sign_as = ""  # a user id: the commit must be signed with that user's key (policy.signed_approvals)

    def __enter__(self) -> Transaction:
        _ = self.book.settings  # the lock's timeout comes from crm.yaml
        self.book.lock.__enter__()
        try:
            self.book.recover(write=True)
        except BaseException:
            self.book.lock.__exit__(None, None, None)
            raise
        # what we read before the lock may be stale: re-read under it
        self.book.forget()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._flush()
        finally:
            self.book.lock.__exit__(exc_type, exc, tb)

    def put(self, rtype: str, rid: str, data: dict[str, Any], *, check: bool = True) -> Record:
        """Queue a record to be written (validated now, written at the end)."""
        rtype = canonical(rtype)
        self.book.path_for(rtype, rid)
        schema = get_schema(rtype)
        clean = {k: v for k, v in data.items() if v is not None and v != [] and v != {}}
        self._keep_bad_numbers(rtype, rid, clean)
        if check:
            for fname, message in validate(schema, clean, self.book.settings):
                raise ValidationError(f"{schema.title} {rid}: {message}")
        rec = Record(rtype, rid, clean)
        self.pending[rec.path] = (rec, "put")
        self.book._change(rtype, rid, rec)
        return rec

    def _keep_bad_numbers(self, rtype: str, rid: str, clean: dict[str, Any]) -> None:
        """Refuse a write that would silently drop a bad stored number readers were not shown.

        A field whose bad value was left out on reading (see Book._screened) must be
        given a new value by the change; otherwise the file has to be fixed first.
        """
        old = self.book.records(rtype).get(rid)
        if old is None or old.stored is None:
            return
        for name, why in old.bad.items():
            if clean.get(name) == old.data.get(name):
                line = value_line(self.book.root, old.path, old.bad_at.get(name, (name,)), old.lines)
                raise ValidationError(f"{old.path}:{line}: {why}; fix it in the file first "
                                      f"(or give {name} a new value), then retry")

    def delete(self, rtype: str, rid: str) -> None:
        rtype = canonical(rtype)
        rec = self.book.records(rtype).pop(rid)
        self.book._sorted.pop(rtype, None)
        self.book._dirty.add(rtype)
        self.pending[rec.path] = (rec, None)

    def _flush(self) -> None:
        if not self.pending:
            return
        from crmctl.core import yamlio

        changes: list[tuple[str, bytes | None, bytes | None]] = []  # (rel, content it replaces, new content or None to delete)
        fresh: list[tuple[Record, str, str, dict[str, int] | None]] = []  # new files of a batch, for the read cache
        for rel, (rec, op) in self.pending.items():
            target = os.path.join(self.book.root, rel)
            original = _read_record(target, rel)
            if op is None:
                changes.append((rel, original, None))
                continue
            text_before = original.decode("utf-8") if original is not None else None
            schema = get_schema(rec.type)
            if original is None and self.batch:
                text, lines = yamlio.dumps_fast_lines(schema.order(rec.data))
                fresh.append((rec, target, text, lines))
            else:
                text = yamlio.dumps(schema.order(rec.data), text_before)
            if text != text_before:
                blob = text.encode("utf-8")
                if len(blob) > yamlio.MAX_FILE_BYTES:  # every reader would refuse it: write nothing of the change
                    raise ValidationError(f"{rel}: the record would be {len(blob)} bytes; records are limited to "
                                          f"{yamlio.MAX_FILE_BYTES} bytes")
                changes.append((rel, original, blob))
        if not changes:
            return
        git_root = self.book.git_root() if self.do_commit else None
        if self.sign_as:
            self._can_sign(git_root)
        if git_root:
            # whether the commit can happen is known before anything is written
            journal.remove_stale_locks(os.path.join(self.book.root, journal.MARKER), git_root)
            git.ready(git_root, float(limits.read(self.book.settings, "limits.git_wait_seconds", 5)))
            self._commit_hand_edits(git_root, [rel for rel, before, _ in changes if before is not None])
        tx = journal.Journal.begin(self.book.root, self.message, self.author, bool(git_root), self.sign_as)
        tx.steps = [journal.Step(rel, blob is not None, journal.blob_hash(before), journal.blob_hash(blob))
                     for rel, before, blob in changes]
        stats = self._write_temps(tx, changes)
        journal.kill_point("journal")
        tx.seal()  # the point of no return: from here on a crash is finished by the next crmctl
        tx.apply()
        self.written.extend(rel for rel, _, _ in changes)
        if len(fresh) >= WRITE_THROUGH:
            self._remember(fresh, {os.path.join(self.book.root, rel): st for rel, st in stats.items()})
        journal.kill_point("commit")
        if git_root:
            # a batch hands git what it wrote, so thousands of files are not read back
            prefix = os.path.relpath(self.book.root, git_root)
            contents = {rel if prefix == "." else os.path.join(prefix, rel): blob
                        for rel, _, blob in changes if blob is not None} if self.batch else {}
            try:
                self.committed = journal.commit(tx, git_root, contents)
            except CrmError as exc:
                # the change is whole on disk and journalled: never report it as failed
                self.commit_pending = str(exc)
                return
        journal.kill_point("committed")
        tx.close()

    def _can_sign(self, git_root: str | None) -> None:
        """A change that must be signed is refused, nothing written, unless git can sign it with ``sign_as``'s key."""
        from crmctl.core import signing

        if not git_root:
            raise signing.SigningError("crm.yaml policy.signed_approvals is on: this change must be a signed commit, but "
                                       + ("the book is not a git repository" if self.book.git_root() is None else
                                          "committing is off (--no-commit or git.autocommit: false)")
                                       + "; nothing was written")
        signing.probe(git_root, self.book.records("users").values(), self.sign_as)

    def _commit_hand_edits(self, git_root: str, existing: list[str]) -> None:
        """Commit uncommitted hand edits of the files this change rewrites on their own, naming them.

        crmctl's commit names only crmctl's change; a hand edit underneath it
        gets a commit (and a note on stderr) of its own first.
        """
        prefix = os.path.relpath(self.book.root, git_root)
        paths = existing if prefix == "." else [os.path.join(prefix, p) for p in existing]
        edited = git.dirty(git_root, paths)
        if not edited:
            return
        shown = ", ".join(edited)
        git.commit(git_root, edited, f"hand edit of {shown}\n\ncommitted by crmctl on its own before: {self.message}", None)
        sys.stderr.write(f"note: {shown} had uncommitted edits; committed them on their own before this change\n")

    def _write_temps(self, tx: journal.Journal, changes: list[tuple[str, bytes | None, bytes | None]]) -> dict[str, os.stat_result]:
        """Write every new content to its temporary file under ``.crmctl/tmp``; all of them, or none."""
        written = [(rel, blob) for rel, _, blob in changes if blob is not None]
        try:
            # a batch creates thousands of files: one sync at the end replaces a fsync per file
            # (threads do not help: creating files in one folder is serialised by the kernel)
            stats = {rel: _write_temp(tx.temp(rel), blob, fsync=not self.batch) for rel, blob in written}
            if self.batch and written:
                os.sync()
            return stats
        except BaseException:
            tx.close()
            raise

    def _remember(self, fresh: list[tuple[Record, str, str, dict[str, int] | None]], stats: dict[str, os.stat_result]) -> None:
        """Put a batch's new files into the read cache, so the next read need not parse them again."""
        by_type: dict[str, dict[str, list[Any]]] = {}
        for rec, target, text, known in fresh:
            st = stats[target]  # a rename keeps the inode and the mtime
            lines = known or {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _TOP_KEY.finditer(text)}
            by_type.setdefault(rec.type, {})[os.path.basename(target)] = \
                [*cache.stamp(st), rec.data, lines, None]
        for rtype, entries in by_type.items():
            cache.remember(os.path.join(self.book.root, ".crmctl", "cache", f"{rtype}.json"), entries)


def _read_record(target: str, rel: str) -> bytes | None:
    """A record file's bytes as they are now (None: no such file); a symbolic link is refused."""
    try:
        if os.path.islink(target):
            raise CrmError(f"{rel}: is a symbolic link; records must be plain files inside the book")
        with open(target, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _write_temp(tmp: str, blob: bytes, fsync: bool) -> os.stat_result:
    """Write ``blob`` to the temporary file ``tmp``; return its stat.

    Plain ``os`` calls: a batch writes thousands of files, and a buffered file
    object costs three more system calls each (fstat, ioctl, lseek) for nothing.
    """
    try:
        fd = os.open(tmp, _CREATE, 0o666)  # the umask decides, as for any new file
    except FileNotFoundError:  # the first record of its type
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        fd = os.open(tmp, _CREATE, 0o666)  # the umask decides, as for any new file
    try:
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
        return os.fstat(fd)
    finally:
        os.close(fd)
