"""The watcher (crmctl watch): a real inotify daemon per test book, and its bookkeeping as a model.

After every kind of change a user makes — an editor writing in place with the
mtime put back, git checkout and merge, a crmctl command, files removed,
added and renamed, a type's folder replaced, a hard link written through its
other name, the daemon killed — the listing the watcher vouches for must equal
what one stat per file finds (:func:`crmctl.core.cache.stat_all`), and every
report must print what it prints without a watcher. No sleeps: a daemon reads
every queued event before it answers, and the kernel queues an event before
the write that caused it returns.
"""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core import cache, watch
from crmctl.core.watchd import State
from tests.cli.test_read_paths import NOW, REPORTS, generated, write  # noqa: F401 - generated is a fixture
from tests.conftest import git, invoke

pytestmark = pytest.mark.skipif(not hasattr(os, "inotify_init") and not os.path.exists("/proc/sys/fs/inotify"),
                                reason="inotify is Linux's")


def pid_of(book: Path) -> int | None:
    status = watch.ask(str(book), {"status": True})
    return None if status is None else int(status["pid"])


@pytest.fixture
def watched(generated: Path) -> Iterator[Path]:  # noqa: F811 - the fixture imported above
    result = invoke("watch", "start", book=generated)
    assert result.exit_code == 0 and "watching" in result.stdout, result.output
    pid = pid_of(generated)
    assert pid is not None
    try:
        yield generated
    finally:
        invoke("watch", "stop", book=generated)
        try:
            os.kill(pid, signal.SIGKILL)  # a test that killed or stopped it already: nothing to do
        except ProcessLookupError:
            pass


def listing(folder: Path) -> dict[str, tuple[int, ...]]:
    found = cache.folder_stats(str(folder))
    return dict(zip(found.names(), (f[:5] for f in found.fields())))


def truth(folder: Path) -> dict[str, tuple[int, ...]]:
    found = cache.stat_all(str(folder))
    return dict(zip(found.names(), (f[:5] for f in found.fields())))


def assert_vouched(book: Path, *types: str) -> None:
    for rtype in types or ("opportunities", "accounts", "visits", "orders", "leads"):
        folder = book / "records" / rtype
        assert listing(folder) == truth(folder), rtype


def sql(book: Path, statement: str) -> list[dict]:
    result = invoke("sql", statement, "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def amount(book: Path, rid: str) -> str | None:
    rows = sql(book, f"SELECT amount FROM opportunities WHERE id = '{rid}'")
    return rows[0]["amount"] if rows else None


def edit_in_place(path: Path, old: str, new: str) -> None:
    """What an editor that writes in place does, then the mtime put back (``touch -r``): same size, same mtime."""
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text and len(old) == len(new)
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_an_unchanged_folder_is_vouched_for_without_a_stat_per_file(watched: Path) -> None:
    folder = watched / "records" / "opportunities"
    assert listing(folder) == truth(folder)  # the first read lists every file (the daemon cannot vouch yet)
    again = cache.folder_stats(str(folder))
    assert again._pairs is None, "an unchanged folder is answered from the stored listing, no stat objects made"
    assert again.digest == cache.Listing(names=again.names(), fields=again.fields()).digest


def test_every_kind_of_change_is_seen_with_the_watcher(watched: Path) -> None:
    book = watched
    opps = book / "records" / "opportunities"
    assert amount(book, "op0001") is not None
    assert_vouched(book)
    before = amount(book, "op0001")
    # an editor writing in place, size and mtime put back
    path = opps / "op0001.yaml"
    text = path.read_text(encoding="utf-8")
    old = f'amount: "{before}"' if f'amount: "{before}"' in text else f"amount: {before}"
    new = old.replace(before, "9" * len(before.split(".")[0]) + before[len(before.split(".")[0]):])
    edit_in_place(path, old, new)
    assert amount(book, "op0001") != before
    assert_vouched(book, "opportunities")
    # git: back to the commit, a branch with a new deal, checkout away and back, merge
    git(book, "checkout", "--", ".")
    assert amount(book, "op0001") == before
    git(book, "checkout", "-qb", "side")
    write(book, "opportunities", "late", {"name": "Late", "account": "acme", "owner": "rex", "stage": "won",
                                          "amount": "123.45", "close_date": "2026-11-20", "closed_on": "2026-11-20"})
    git(book, "add", "-A")
    git(book, "commit", "--no-verify", "-qm", "late")
    assert amount(book, "late") == "123.45"
    git(book, "checkout", "-q", "main")
    assert amount(book, "late") is None
    git(book, "merge", "-q", "--no-edit", "side")
    assert amount(book, "late") == "123.45"
    assert_vouched(book)
    # removed, renamed, added by a crmctl command
    (opps / "late.yaml").rename(opps / "late2.yaml")
    assert amount(book, "late") is None and amount(book, "late2") == "123.45"
    (opps / "late2.yaml").unlink()
    assert amount(book, "late2") is None
    result = invoke("opp", "add", "--name", "Fresh", "--account", "acme", "--amount", "77.00",
                    "--owner", "rex", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    assert sql(book, "SELECT amount FROM opportunities WHERE name = 'Fresh'") == [{"amount": "77.00"}]
    assert_vouched(book)


def test_a_folder_replaced_or_removed_and_a_hard_link_are_seen(watched: Path, tmp_path: Path) -> None:
    book = watched
    assert sql(book, "SELECT count(*) AS n FROM leads") == [{"n": 0}]
    leads = book / "records" / "leads"
    if leads.exists():
        for f in leads.iterdir():
            f.unlink()
        leads.rmdir()
    write(book, "leads", "ld1", {"name": "Lead one", "company": "X", "status": "new"})
    assert sql(book, "SELECT id FROM leads") == [{"id": "ld1"}]
    assert_vouched(book, "leads")
    os.rename(leads, tmp_path / "old-leads")  # moved away: its watch goes with it, the daemon must not follow
    write(book, "leads", "ld2", {"name": "Lead two", "company": "Y", "status": "new"})
    (tmp_path / "old-leads" / "ld1.yaml").write_text("name: changed elsewhere\n", encoding="utf-8")
    assert sql(book, "SELECT id FROM leads") == [{"id": "ld2"}]
    assert_vouched(book, "leads")
    # a hard link: a change made through the other name is reported on the other folder only
    other = tmp_path / "linked.yaml"
    os.link(book / "records" / "opportunities" / "op0002.yaml", other)
    before = amount(book, "op0002")
    text = other.read_text(encoding="utf-8")
    old = f'amount: "{before}"' if f'amount: "{before}"' in text else f"amount: {before}"
    edit_in_place(other, old, old.replace(before[0], "9" if before[0] != "9" else "8", 1))
    assert amount(book, "op0002") != before
    assert_vouched(book, "opportunities")


def test_a_killed_or_restarted_watcher_leaves_every_answer_right(watched: Path) -> None:
    book = watched
    assert amount(book, "op0003") is not None
    pid = pid_of(book)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    path = book / "records" / "opportunities" / "op0003.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Deal 3", "Deal X"), encoding="utf-8")
    assert sql(book, "SELECT name FROM opportunities WHERE id = 'op0003'") == [{"name": "Deal X"}]
    result = invoke("watch", "start", book=book)
    assert result.exit_code == 0 and "watching" in result.stdout, result.output
    path.write_text(path.read_text(encoding="utf-8").replace("Deal X", "Deal Y"), encoding="utf-8")
    assert sql(book, "SELECT name FROM opportunities WHERE id = 'op0003'") == [{"name": "Deal Y"}]
    (book / ".crmctl" / "stats" / "opportunities.bin").write_bytes(b"not a listing")
    path.write_text(path.read_text(encoding="utf-8").replace("Deal Y", "Deal Z"), encoding="utf-8")
    assert sql(book, "SELECT name FROM opportunities WHERE id = 'op0003'") == [{"name": "Deal Z"}]
    assert_vouched(book)


def test_reports_print_the_same_with_and_without_the_watcher(watched: Path) -> None:
    for args in REPORTS:
        off = invoke(*args, book=watched, env={**NOW, "CRMCTL_WATCH": "off"})
        on = invoke(*args, book=watched, env=NOW)
        assert (on.exit_code, on.stdout, on.stderr) == (off.exit_code, off.stdout, off.stderr), args
    edit_in_place(watched / "records" / "accounts" / "ac001.yaml", "tier: B", "tier: Z")
    on = invoke("check", book=watched, env=NOW)
    assert "ac001.yaml:2: tier: 'Z'" in on.stdout and on.exit_code == 1


def test_start_stop_and_status_say_what_they_did(generated: Path) -> None:  # noqa: F811
    status = invoke("watch", "status", book=generated)
    assert status.exit_code == 0 and status.stdout.startswith("no watcher runs for")
    assert invoke("watch", "stop", book=generated).stdout.startswith("no watcher runs for")
    first = invoke("watch", "start", book=generated)
    try:
        assert first.exit_code == 0 and first.stdout.startswith("watching"), first.output
        second = invoke("watch", "start", book=generated)
        assert second.exit_code == 0 and "already runs" in second.stdout
        status = invoke("watch", "status", book=generated)
        assert "folders under records/" in status.stdout
    finally:
        stopped = invoke("watch", "stop", book=generated)
    assert stopped.stdout.startswith("stopped watching")
    assert pid_of(generated) is None


# ---------------------------------------------------------------- the bookkeeping, as a model

EVENTS = st.lists(st.one_of(
    st.tuples(st.just("note"), st.sampled_from(["a", "b"]), st.sampled_from(["x.yaml", "y.yaml", "z.yaml"])),
    st.tuples(st.just("answer"), st.integers(0, 5), st.sampled_from(["a", "b"])),
    st.tuples(st.just("reset"), st.sampled_from(["a", "b"]), st.just("")),
    st.tuples(st.just("overflow"), st.just(""), st.just("")),
), max_size=40)


@given(EVENTS)
def test_a_token_is_answered_with_exactly_the_names_changed_since_it_or_not_at_all(events: list) -> None:
    state = State("inst")
    state.watched("a")
    state.watched("b")
    tokens: list[list] = []
    since_token: list[dict[str, set[str]]] = []  # per token: names noted per type after it was issued
    reset_after: list[set[str]] = []             # per token: types reset after it was issued
    for op, x, y in events:
        if op == "note":
            state.note(x, y)
            for seen in since_token:
                seen[x].add(y)
        elif op == "reset":
            state.watched(x)
            for gone in reset_after:
                gone.add(x)
        elif op == "overflow":
            state.overflow()
            for gone in reset_after:
                gone.update(("a", "b"))
        else:
            asked = tokens[x % len(tokens)] if tokens else None
            index = x % len(tokens) if tokens else None
            answer = state.answer({y: asked})
            got = answer["changes"][y]
            if asked is None or y in reset_after[index]:
                assert got is None
            else:
                assert got is not None and set(got) == since_token[index][y]
            tokens.append(answer["token"])
            since_token.append({"a": set(), "b": set()})
            reset_after.append(set())
    assert State("other").answer({"a": ["inst", 2]})["changes"]["a"] is None  # another instance's token


MOUNTINFO = """\
22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:35 / /home/team rw,relatime shared:20 - nfs4 nas:/export/team rw,vers=4.2
41 40 0:36 / /home/team/local\\040disk rw,relatime shared:21 - ext4 /dev/vdb rw
"""


def test_a_book_on_a_network_file_system_is_found_and_refused() -> None:
    from crmctl.cli.watch import REMOTE_FILE_SYSTEMS, file_system

    assert file_system("/home/team/crm/records", MOUNTINFO) == "nfs4" in REMOTE_FILE_SYSTEMS
    assert file_system("/home/team/local disk/crm/records", MOUNTINFO) == "ext4"  # a local disk mounted inside
    assert file_system("/home/teammate/crm", MOUNTINFO) == "ext4"  # a longer name is not inside /home/team


def test_after_a_pull_the_read_model_redoes_only_the_files_the_watcher_names_and_ends_as_a_rebuild_would(
        watched: Path) -> None:
    book = watched
    query = "SELECT id, name, amount, owner FROM opportunities ORDER BY id"
    sql(book, query)  # the listing and the rows are made at the same digest
    opps = book / "records" / "opportunities"
    edit_in_place(opps / "op0004.yaml", "Deal 4", "Deal Q")
    (opps / "op0005.yaml").write_text("name: [unclosed\n", encoding="utf-8")       # now a bad file
    (opps / "op0006.yaml").unlink()
    (opps / "op0006.yaml").symlink_to(opps / "op0007.yaml")                        # now a symbolic link
    (opps / "op0008.yaml").unlink()
    write(book, "opportunities", "op9999", {"name": "New", "account": "acme", "owner": "ria", "stage": "proposal",
                                           "amount": "5.00", "close_date": "2026-12-01"})
    on = invoke("sql", query, "--format", "json", book=book, env=NOW)
    (book / ".crmctl" / "book.sqlite").unlink()
    off = invoke("sql", query, "--format", "json", book=book, env={**NOW, "CRMCTL_WATCH": "off"})
    assert on.exit_code == off.exit_code == 0
    assert on.stdout == off.stdout and on.stderr == off.stderr
    ids = [row["id"] for row in json.loads(on.stdout)]
    assert "op0005" not in ids and "op0006" not in ids and "op0008" not in ids and "op9999" in ids
    assert "op0005.yaml" in on.stderr and "op0006.yaml: is a symbolic link" in on.stderr
    again = invoke("sql", query, "--format", "json", book=book, env=NOW)  # the rows (and warnings) stay
    assert (again.stdout, again.stderr) == (on.stdout, on.stderr)


def test_code_changed_with_its_size_and_mtime_kept_is_new_code_to_the_memo(tmp_path: Path) -> None:
    """rsync -a / tar x / cp -p of a release whose changed module has the same size: the mtime says nothing."""
    from crmctl.core.memo import tree_fingerprint

    module = tmp_path / "pkg" / "sums.py"
    module.parent.mkdir()
    module.write_text("total += amount\n", encoding="utf-8")
    before = tree_fingerprint(str(tmp_path))
    st = module.stat()
    module.write_text("total -= amount\n", encoding="utf-8")
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert module.stat().st_size == st.st_size and module.stat().st_mtime_ns == st.st_mtime_ns
    assert tree_fingerprint(str(tmp_path)) != before


@pytest.mark.parametrize("watching", [False, True])
def test_a_folder_turned_into_a_symbolic_link_is_read_by_no_path(generated: Path, tmp_path: Path,  # noqa: F811
                                                                 watching: bool) -> None:
    if watching:
        assert invoke("watch", "start", book=generated).exit_code == 0
    try:
        assert sql(generated, "SELECT count(*) AS n FROM accounts") == [{"n": 42}]
        accounts = generated / "records" / "accounts"
        os.rename(accounts, tmp_path / "accx")
        accounts.symlink_to(tmp_path / "accx")  # the very same files, now through a link
        for _ in range(2):  # the first read and the next (answered from what the first stored)
            result = invoke("sql", "SELECT count(*) AS n FROM accounts", "--format", "json", book=generated, env=NOW)
            assert json.loads(result.stdout) == [{"n": 0}] and "records/accounts: is a symbolic link" in result.stderr
        listed = invoke("account", "list", book=generated, env=NOW)
        assert "records/accounts: is a symbolic link" in listed.stderr
    finally:
        invoke("watch", "stop", book=generated)


def test_a_hung_watcher_is_named_and_ended_by_watch_stop(generated: Path) -> None:  # noqa: F811
    assert invoke("watch", "start", book=generated).exit_code == 0
    pid = pid_of(generated)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # hung: it holds the socket and answers nothing
    try:
        status = invoke("watch", "status", book=generated)
        assert status.exit_code == 1 and f"(pid {pid}) does not answer; `crmctl watch stop` ends it" in status.stderr
        # attack 8: every command waited 5 s for it with nothing said; now one line says why and what is done
        import subprocess
        import sys

        ran = subprocess.run([sys.executable, "-m", "crmctl", "--book", str(generated), "sql",
                              "SELECT count(*) AS n FROM opportunities"], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **NOW})
        assert ran.returncode == 0 and ran.stderr.count("does not answer") == 1, ran.stderr
        assert f"(pid {pid}) does not answer; this command checks every file instead" in ran.stderr
        assert amount(generated, "op0001") is not None  # commands meanwhile check every file (after one wait)
        stopped = invoke("watch", "stop", book=generated)
        assert stopped.exit_code == 0 and stopped.stdout.startswith("ended the watcher of ") and str(pid) in stopped.stdout
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    finally:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(os.getuid() != 0, reason="needs a second user to hold the socket name")
def test_another_users_process_on_the_socket_name_is_said_as_such(generated: Path) -> None:  # noqa: F811
    import socket

    name = watch.address(str(generated))  # this user's watcher name for the book
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # another user binds it first, then waits to be killed
        try:
            os.setuid(65534)
            holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            holder.bind(name)
            holder.listen(1)
            os.write(write_end, b"ok")
            signal.pause()
        finally:
            os._exit(0)
    try:
        assert os.read(read_end, 2) == b"ok"
        started = invoke("watch", "start", book=generated)
        assert started.exit_code == 1 and "another process (not a watcher of yours) holds the name" in started.stderr
        assert invoke("watch", "status", book=generated).stdout.startswith("no watcher runs for")
        assert amount(generated, "op0001") is not None  # its answers are refused (another uid): every file is read
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


# ---------------------------------------------------------------- a pull costs the files it changed

_FILE_OPS = st.lists(st.tuples(st.sampled_from(["write", "grow", "remove", "link", "chmod", "touch_back"]),
                               st.integers(0, 7)), min_size=1, max_size=6)


@given(st.lists(st.tuples(_FILE_OPS, st.booleans()), min_size=1, max_size=6), st.integers(1, 6))
def test_stored_steps_give_the_listing_one_stat_per_file_gives(rounds: list, compact_at: int) -> None:
    """The listing kept as a body and steps (watch.folder_stats) equals stat_all after any changes; from any
    digest a command saw before, changes_since names every file that differs; steps fold into the body.

    The daemon is simulated: it names every file changed (and, when ``extra``, some that were not)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        folder = Path(tmp) / "records" / "leads"
        folder.mkdir(parents=True)
        outside = Path(tmp) / "outside"
        outside.mkdir()
        touched: set[str] = set()
        generation = [0]

        def changes(root: str, since: dict) -> tuple:
            generation[0] += 1
            token = ["sim", generation[0]]
            if since["leads"] is None:
                return token, {"leads": None}
            names = sorted(touched)
            touched.clear()
            return token, {"leads": names}

        mp.setattr(watch, "changes", changes)
        mp.setattr(watch, "COMPACT_AT", compact_at)
        seen: list[tuple[str, dict]] = []  # (digest, {name: fields[:5]}) of every listing returned
        for ops, extra in rounds:
            for op, n in ops:
                path = folder / f"l{n}.yaml"
                touched.add(path.name)
                if op == "write":
                    path.write_text(f"name: L{n}\n")
                elif op == "grow" and path.exists():
                    with open(path, "a") as handle:
                        handle.write("notes: more\n")
                elif op == "remove" and path.exists():
                    path.unlink()
                elif op == "link" and path.exists() and not (outside / path.name).exists():
                    os.link(path, outside / path.name)  # a second name, outside the watched folder
                elif op == "chmod" and path.exists():
                    path.chmod(0o600 if path.stat().st_mode & 0o044 else 0o644)
                elif op == "touch_back" and path.exists():
                    st_ = path.stat()
                    path.write_text(path.read_text() + "#\n")
                    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns))
            for name in list(os.listdir(outside)):  # a write through the other name: reported on no folder here
                with open(outside / name, "a") as handle:
                    handle.write("#x\n")
            if extra:
                touched.add("l0.yaml")  # named though unchanged (or absent): must cost nothing wrong
            found = watch.folder_stats(str(folder))
            assert found is not None
            now = {n: f[:5] for n, f in zip(found.names(), found.fields())}
            truth = cache.stat_all(str(folder))
            assert now == {n: f[:5] for n, f in zip(truth.names(), truth.fields())}
            for digest, then in seen:  # a cache made at any earlier listing learns what differs, or is told to look
                delta = found.changes_since(digest)
                if delta is None:
                    continue
                caught_up = dict(then)
                for name, stat in delta.items():
                    if stat is None:
                        caught_up.pop(name, None)
                    else:
                        caught_up[name] = cache.stat_fields(stat)[:5]
                assert caught_up == now, "changes_since left out a file that differs"
            seen.append((found.digest, now))
            stored = watch._read_stored(str(Path(tmp)), "leads")
            assert stored is not None and len(stored.pending()) <= compact_at
            assert {n: f[:5] for n, f in zip(*stored.load())} == now


def test_after_a_pull_only_the_head_and_the_changed_stamps_are_written(watched: Path) -> None:
    """A pull that changes 3 of the folder's files: the stored listing's body is not rewritten, nothing decodes it,
    and the read model reads and writes the stamps of those 3 names only — yet ends as a rebuild would."""
    from crmctl.core import readmodel

    book = watched
    query = "SELECT id, name FROM opportunities ORDER BY id"
    sql(book, query)
    sql(book, query)
    body = book / ".crmctl" / "stats" / "opportunities.bin"
    before = body.stat()
    opps = book / "records" / "opportunities"
    for rid in ("op0002", "op0003", "op0004"):
        path = opps / f"{rid}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("Deal", "Pulled"), encoding="utf-8")
    asked: list = []
    original = readmodel.ReadModel._stamps_of

    def spy(self: readmodel.ReadModel, rtype: str, names: list[str] | None = None) -> dict:
        asked.append((rtype, None if names is None else sorted(names)))
        return original(self, rtype, names)

    decoded: list = []
    load = watch._Stored.load

    def spy_load(self: watch._Stored, steps: list | None = None) -> tuple:
        decoded.append(steps)
        return load(self, steps)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readmodel.ReadModel, "_stamps_of", spy)
        mp.setattr(watch._Stored, "load", spy_load)
        rows = sql(book, query)
    assert ("opportunities", ["op0002.yaml", "op0003.yaml", "op0004.yaml"]) in asked
    assert ("opportunities", None) not in asked, "every stamp was read"
    assert decoded == [], "the whole listing was decoded"
    after = body.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the body was rewritten"
    assert [r["name"] for r in rows if r["id"] in ("op0002", "op0003", "op0004")] == ["Pulled 2", "Pulled 3", "Pulled 4"]
    (book / ".crmctl" / "book.sqlite").unlink()
    assert sql(book, query) == rows  # as a rebuild gives
    off = invoke("sql", query, "--format", "json", book=book, env={**NOW, "CRMCTL_WATCH": "off"})
    assert json.loads(off.stdout) == rows


def test_a_hard_link_made_inside_records_while_watching_is_followed_through_either_name(watched: Path,
                                                                                          tmp_path: Path) -> None:
    # attack 7 F5: ln accounts/a.yaml accounts/b.yaml while the watcher ran, then a write through b: a stayed stale
    # (the kernel tells a's folder nothing when the file is written through b) in sql and account list, forever
    book = watched
    query = "SELECT id, tier FROM accounts WHERE id IN ('ac001', 'ac001-copy', 'ac002') ORDER BY id"
    accounts = book / "records" / "accounts"
    assert sql(book, query) == [{"id": "ac001", "tier": "B"}, {"id": "ac002", "tier": "C"}]
    os.link(accounts / "ac001.yaml", accounts / "ac001-copy.yaml")
    assert sql(book, query) == [{"id": "ac001", "tier": "B"}, {"id": "ac001-copy", "tier": "B"}, {"id": "ac002", "tier": "C"}]
    edit_in_place(accounts / "ac001-copy.yaml", "tier: B", "tier: A")
    assert sql(book, query) == [{"id": "ac001", "tier": "A"}, {"id": "ac001-copy", "tier": "A"}, {"id": "ac002", "tier": "C"}]
    said = invoke("watch", "status", book=book).stdout
    assert "every folder was listed again 1 time(s) (the last: accounts/ac001-copy.yaml arrived with a second name" in said
    # and a file of the book given a name inside records/ from outside it: written through the outside name
    outside = tmp_path / "ac002.yaml"
    os.link(accounts / "ac002.yaml", outside)  # from outside: not seen (README) until ...
    (accounts / "ac002.yaml").rename(accounts / "ac002-moved.yaml")  # ... it arrives under a new name here
    edit_in_place(outside, "tier: C", "tier: A")
    rows = sql(book, "SELECT id, tier FROM accounts WHERE id LIKE 'ac002%'")
    assert rows == [{"id": "ac002-moved", "tier": "A"}]
    for rtype in ("accounts", "contacts", "opportunities"):
        folder = book / "records" / rtype
        assert listing(folder) == truth(folder)
    off = invoke("account", "list", "--format", "csv", book=book, env={**NOW, "CRMCTL_WATCH": "off"})
    on = invoke("account", "list", "--format", "csv", book=book, env=NOW)
    assert on.stdout == off.stdout


def test_a_listing_copied_from_another_type_is_not_believed(watched: Path) -> None:
    # attack 7 F6: accounts' listing copied over the visits' one was believed until .crmctl/stats was deleted
    book = watched
    count = "SELECT count(*) AS n FROM visits"
    truth_n = sql(book, count)
    sql(book, "SELECT count(*) AS n FROM accounts")
    stats = book / ".crmctl" / "stats"
    for suffix in (".bin", ".head"):
        (stats / f"visits{suffix}").write_bytes((stats / f"accounts{suffix}").read_bytes())
    visit = book / "records" / "visits" / "vi0001.yaml"
    visit.write_text(visit.read_text(encoding="utf-8") + "notes: touched\n", encoding="utf-8")
    assert sql(book, count) == truth_n
    assert_vouched(book, "visits")
