"""``crmctl watch start|stop|status``: the book's watcher daemon (:mod:`crmctl.core.watch`)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from crmctl.cli.base import App, pass_app
from crmctl.core import watch
from crmctl.core.errors import CrmError
from crmctl.core.watchd import NAME_TAKEN

START_SECONDS = 10.0  # how long `start` waits for the daemon's first answer
# file systems where changes can be made by another machine, which this machine's inotify never hears of
REMOTE_FILE_SYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs",
                       "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "davfs", "fuse.davfs", "virtiofs")


def file_system(path: str, mountinfo: str | None = None) -> str | None:
    """The type of the file system ``path`` is on (``ext4``, ``nfs4``...), from ``/proc/self/mountinfo`` (or the
    text ``mountinfo``); None when unknown (not Linux)."""
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
                mountinfo = handle.read()
        except OSError:
            return None
    lines = mountinfo.splitlines()
    best, kind = "", None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def remote_file_system(root: str) -> str | None:
    """The type of a network file system the book's ``records/`` is on (``nfs4``, ``cifs``...), where a watcher
    cannot vouch for files (`watch start` refuses); None on a local disk or when unknown."""
    kind = file_system(os.path.join(root, "records"))
    return kind if kind in REMOTE_FILE_SYSTEMS else None


def running_watcher(root: str) -> dict | None:
    """What this book's watcher says about itself (``pid``, ``since``, ...), None when none runs; a watcher that
    does not answer raises CrmError naming its pid."""
    return _status(root)


@click.group("watch")
def cli() -> None:
    """A watcher that tells commands which record files changed (Linux inotify).

    Without it every command that reads a record type proves each of its
    files unchanged with one stat (0.2 s per 50,000 files). With it, a
    command stats only the files changed since it last looked. Like git's
    fsmonitor it is a daemon per book, this user's only; if it stops or is
    killed, commands stat every file again. Not seen by it: writes through a
    shared memory map and changes on network file systems from another machine.
    """


def _status(root: str) -> dict | None:
    try:
        return watch.ask(root, {"status": True}, timeout=2.0)
    except watch.Hung:
        pid = watch.daemon_pid(root)
        raise CrmError(f"watch: the watcher of {root}{f' (pid {pid})' if pid else ''} does not answer; "
                       "`crmctl watch stop` ends it (commands meanwhile check every file)") from None


def _end(pid: int) -> bool:
    """SIGTERM, then SIGKILL after 2 s (a stopped process ignores SIGTERM until continued); True once it is gone."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
                return True
            time.sleep(0.02)
    return False


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


@cli.command("start")
@pass_app
def start(app: App) -> None:
    """Start watching this book's records (does nothing when a watcher runs)."""
    root = os.path.realpath(app.book.root)
    running = _status(root)
    if running is not None:
        click.echo(f"a watcher already runs for {root} (pid {running.get('pid')})")
        return
    kind = remote_file_system(root)
    if kind:
        raise CrmError(f"watch: {root} is on a {kind} file system; changes made there by another machine are never "
                       "reported to this one, so a watcher could vouch for files that changed. Commands keep "
                       "checking every file; keep the book on a local disk to use a watcher")
    log = os.path.join(root, ".crmctl", "watch.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    package = os.path.dirname(os.path.dirname(os.path.abspath(watch.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.path.dirname(package), os.environ.get("PYTHONPATH")) if p)}
    with open(log, "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "crmctl.core.watchd", root], cwd="/", env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        running = _status(root)
        if running is not None:
            click.echo(f"watching {root} (pid {running.get('pid')}); `crmctl watch stop` ends it")
            return
        if proc.poll() is not None:
            if proc.returncode == NAME_TAKEN and _status(root) is None:  # the socket name is taken, not by this user's watcher
                raise CrmError(f"watch: cannot start: another process (not a watcher of yours) holds the name of "
                               f"{root}'s watcher socket; commands keep checking every file")
            reason = _last_line(log) or f"it ended with status {proc.returncode}"
            raise CrmError(f"watch: the watcher could not start: {reason}")
        time.sleep(0.02)
    proc.kill()
    raise CrmError(f"watch: the watcher did not answer within {START_SECONDS:.0f} s (see {log})")


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


@cli.command("stop")
@pass_app
def stop(app: App) -> None:
    """Stop this book's watcher; commands then stat every file again."""
    root = os.path.realpath(app.book.root)
    try:
        answer = watch.ask(root, {"stop": True}, timeout=2.0)
    except watch.Hung:
        pid = watch.daemon_pid(root)
        if pid is None or not _end(pid):
            raise CrmError(f"watch: the watcher of {root} does not answer and its process could not be ended"
                           f"{f' (pid {pid})' if pid else ''}; commands meanwhile check every file") from None
        click.echo(f"ended the watcher of {root} (pid {pid}), which did not answer")
        return
    if answer is None:
        click.echo(f"no watcher runs for {root}")
        return
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and _status(root) is not None:
        time.sleep(0.02)
    click.echo(f"stopped watching {root} (pid {answer.get('stopping')})")


@cli.command("status")
@pass_app
def status(app: App) -> None:
    """Say whether a watcher runs for this book, since when, and what it watches."""
    root = os.path.realpath(app.book.root)
    running = _status(root)
    if running is None:
        click.echo(f"no watcher runs for {root}: every command stats each record file it reads "
                   "(`crmctl watch start` starts one)")
        return
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(running.get("since", 0))))
    changed = running.get("changed") or {}
    types = running.get("types", [])
    counts = ", ".join(f"{t} {n}" for t, n in changed.items() if n)
    click.echo(f"watching {root} (pid {running.get('pid')}) since {since}")
    times, why = (running.get("relisted") or [0, ""])[:2]
    click.echo(f"{len(types)} folders under records/; {sum(changed.values())} file(s) changed since"
               + (f" ({counts})" if counts else "") + (" the last full listing" if times else ""))
    if times:  # the changed count starts again then: say so, rather than a bare "0 changed"
        click.echo(f"every folder was listed again {times} time(s) (the last: {why}); each command then stats "
                   "every file once")
