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

START_SECONDS = 10.0  # how long `start` waits for the daemon's first answer


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
        raise CrmError(f"watch: the watcher of {root} does not answer; end it with `pkill -f crmctl.core.watchd`") from None


@cli.command("start")
@pass_app
def start(app: App) -> None:
    """Start watching this book's records (does nothing when a watcher runs)."""
    root = os.path.realpath(app.book.root)
    running = _status(root)
    if running is not None:
        click.echo(f"a watcher already runs for {root} (pid {running.get('pid')})")
        return
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
        raise CrmError(f"watch: the watcher of {root} does not answer; end it with `pkill -f crmctl.core.watchd`") from None
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
    click.echo(f"watching {root} (pid {running.get('pid')}) since {since}")
    for rtype in running.get("types", []):
        click.echo(f"  records/{rtype}: {changed.get(rtype, 0)} file(s) changed since it began")
