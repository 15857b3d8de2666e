"""Step 9 numbers: `crmctl sql` and the whole-book commands, this tree against a baseline, in one run.

Generates the bench_mcr book (10,000 accounts, 20,000 contacts, N each of
opportunities, orders and visits, N/2 payments; N = 50,000 by default), or
uses ``--book DIR``. The baseline is the ``crmctl`` package of a git ref
(``--baseline main``), extracted to a temporary folder; both are timed as
subprocesses, best of 3 after one warm-up run (which warms each one's
caches), wall and CPU seconds, side by side, and this tree a third time with
its watcher running (``crmctl watch start``; the ``new`` column runs with
``CRMCTL_WATCH=off``). Then: the next command after
100 records change (as a `git pull` would), a cold build against parsing
the same files with PyYAML's CSafeLoader, `check` on a book of the same
10,000 accounts and 20,000 contacts only, and peak memory of `check` on a
book of 100,000 records.

Both codes run with byte-code caching on (in a temporary
``PYTHONPYCACHEPREFIX``), as an installed crmctl does: with
``PYTHONDONTWRITEBYTECODE=1`` every run compiles every module again (0.14 s).

    .venv/bin/python bench/bench_sql.py [--n 50000] [--accounts 10000] [--book DIR] [--baseline REF] [--quick]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

from bench_mcr import generate  # noqa: E402

NOW = "2026-11-27T10:00:00+08:00"
AGGREGATE = "SELECT stage, count(*), sum(amount_num) FROM opportunities GROUP BY stage"


def extract(ref: str, dest: str) -> str:
    """The ``crmctl`` package of git ``ref`` under ``dest`` (for PYTHONPATH)."""
    os.makedirs(dest, exist_ok=True)
    archive = subprocess.run(["git", "-C", REPO, "archive", ref, "crmctl"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return dest


PYCACHE = tempfile.mkdtemp(prefix="bench-sql-pyc-")


WATCH = {"on": False}  # whether this tree's runs may ask a watcher (baselines never know of one)


def env_for(code: str, root: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": code, "CRMCTL_BOOK": root, "CRMCTL_NOW": NOW,
           "PYTHONPYCACHEPREFIX": os.path.join(PYCACHE, os.path.basename(code)),
           "CRMCTL_WATCH": "on" if WATCH["on"] else "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@contextlib.contextmanager
def watching(code: str, root: str) -> Iterator[None]:
    """This tree's watcher (``crmctl watch start``) runs for ``root`` inside the block."""
    WATCH["on"] = True
    subprocess.run([sys.executable, "-m", "crmctl", "watch", "start"], env=env_for(code, root), cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        subprocess.run([sys.executable, "-m", "crmctl", "watch", "stop"], env=env_for(code, root), cwd=root,
                       stdout=subprocess.DEVNULL)
        WATCH["on"] = False


def once(code: str, root: str, args: list[str]) -> tuple[float, float, int, int]:
    """Wall s, CPU s, peak RSS (KB) and exit code of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # cwd: `python -m` puts the working directory before PYTHONPATH, which would run this tree as the baseline
    proc = subprocess.Popen([sys.executable, "-m", "crmctl", *args], env=env_for(code, root), cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def timed(code: str, root: str, args: list[str], runs: int = 3) -> tuple[float, float] | None:
    """Best wall and CPU seconds after one warm-up; None when the command does not exist there."""
    if once(code, root, args)[3] not in (0, 1):  # check exits 1 on problems; 2 = no such command
        return None
    best = min((once(code, root, args)[:2] for _ in range(runs)), key=lambda r: r[0])
    return best


def touch_records(root: str, rtype: str, count: int, stamp: str) -> None:
    """Change ``count`` records of a type in place, as a pull that brings new versions does."""
    folder = os.path.join(root, "records", rtype)
    for name in sorted(os.listdir(folder))[:count]:
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as handle:
            lines = [line for line in handle if not line.startswith("notes: pulled")]
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines([*lines, f"notes: pulled {stamp}\n"])


def subset(root: str, dest: str, types: tuple[str, ...]) -> None:
    """A git book with the ``types`` folders of ``root`` only (and its crm.yaml)."""
    os.makedirs(os.path.join(dest, "records"))
    shutil.copy(os.path.join(root, "crm.yaml"), dest)
    for rtype in types:
        shutil.copytree(os.path.join(root, "records", rtype), os.path.join(dest, "records", rtype))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "gc.auto=0", "commit", "--no-verify", "-qm", "subset"]):
        subprocess.run(["git", "-C", dest, *argv], check=True, env=env)


def yaml_parse_seconds(root: str, types: list[str]) -> float:
    import yaml

    start = time.perf_counter()
    for rtype in types:
        folder = os.path.join(root, "records", rtype)
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as handle:
                yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start


def fmt(result: tuple[float, float] | None) -> str:
    return "      -        -" if result is None else f"{result[0]:7.2f}  {result[1]:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--book", help="use this bench book (made by bench_mcr --keep) instead of generating one")
    parser.add_argument("--baseline", default="main", help="git ref of the code to compare with")
    parser.add_argument("--quick", action="store_true",
                        help="only the side-by-side table and check (no pulls, no cold build, no 100,000-record book)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-sql-")
    try:
        root = args.book or os.path.join(tmp, "book")
        if not args.book:
            generate(root, args.accounts, args.n)
        base = extract(args.baseline, os.path.join(tmp, "baseline"))
        new = REPO
        commands: list[tuple[str, list[str], str]] = [
            ("crmctl sql <aggregate over opportunities>", ["sql", AGGREGATE], "<= 0.3 s"),
            ("crmctl report customers --limit 20", ["report", "customers", "--limit", "20"], "<= 0.5 s"),
            ("crmctl account merge acct-00001 acct-00002 --dry-run",
             ["account", "merge", "acct-00001", "acct-00002", "--dry-run"], "<= 0.5 s"),
            ("crmctl report sfe", ["report", "sfe"], "<= 0.3 s"),
            ("crmctl account show acct-00005 (a group of 5)", ["account", "show", "acct-00005"], "< 1 s (bench_mcr)"),
        ]
        print(f"book: {root}; baseline {args.baseline}; warm caches, best of 3; wall and CPU seconds; "
              "new = this tree with one stat per file, +watch = this tree with `crmctl watch` running")
        width = max(len(c[0]) for c in commands) + 2
        print(f"{'command':<{width}}  {'base wall':>9}  {'base cpu':>8}  {'new wall':>8}  {'new cpu':>7}  "
              f"{'+watch wall':>11}  {'+watch cpu':>10}  target")
        for what, argv, target in commands:
            b, n = timed(base, root, argv), timed(new, root, argv)
            with watching(new, root):
                w = timed(new, root, argv)
            print(f"{what:<{width}}  {fmt(b)}    {fmt(n)}      {fmt(w)}  {target}", flush=True)

        # check on the same 10,000 accounts and 20,000 contacts, nothing else
        small = os.path.join(tmp, "accounts-contacts")
        subset(root, small, ("users", "accounts", "contacts"))
        b, n = timed(base, small, ["check"]), timed(new, small, ["check"])
        with watching(new, small):
            w = timed(new, small, ["check"])
        print(f"\ncheck, 10,000 accounts + 20,000 contacts, warm: baseline {fmt(b)}   new {fmt(n)}   +watch {fmt(w)}"
              "   (target <= 0.63 s)")
        if args.quick:
            return

        # a pull changes 100 opportunities: the next sql re-reads those (and only those)
        for label, watched in (("new", False), ("+watch", True)):
            with watching(new, root) if watched else contextlib.nullcontext():
                steady = timed(new, root, ["sql", AGGREGATE])
                touch_records(root, "opportunities", 100, f"1{label}")
                after_pull = once(new, root, ["sql", AGGREGATE])
            print(f"{label}: next `sql` after 100 opportunities changed: {after_pull[0]:.2f} s wall, {after_pull[1]:.2f} s cpu "
                  f"(steady {steady[0] if steady else float('nan'):.2f} s)")

        # cold: no .crmctl at all; against the C YAML parser reading the same files
        types = ["accounts", "opportunities"]
        shutil.rmtree(os.path.join(root, ".crmctl"), ignore_errors=True)
        cold = once(new, root, ["sql", "SELECT count(*) FROM accounts a JOIN opportunities o ON o.account = a.id"])
        parse = yaml_parse_seconds(root, types)
        print(f"cold `sql` over accounts + opportunities: {cold[0]:.2f} s wall; PyYAML CSafeLoader on the same files "
              f"{parse:.2f} s: {cold[0] / parse:.2f}x (target <= 1.5x)")

        # after a pull changes 100 records: the next command re-reads those 100 files (and stats the rest, or not)
        for argv in (["report", "sfe"], ["account", "merge", "acct-00001", "acct-00002", "--dry-run"]):
            for label, watched in (("new", False), ("+watch", True)):
                with watching(new, root) if watched else contextlib.nullcontext():
                    steady = timed(new, root, argv)
                    touch_records(root, "opportunities", 100, "-".join(argv[:2]) + label)
                    after_pull = once(new, root, argv)
                print(f"{label}: next `{' '.join(argv)}` after 100 opportunities changed: {after_pull[0]:.2f} s wall, "
                      f"{after_pull[1]:.2f} s cpu (steady {steady[0] if steady else float('nan'):.2f} s)")

        # peak memory of check on a book of 100,000 records (10,000 accounts, 20,000 contacts, 20,000 each of
        # opportunities, orders and visits, 10,000 payments)
        hundred = os.path.join(tmp, "book100k")
        generate(hundred, 10_000, 20_000)
        for code, label in ((base, "baseline"), (new, "new")):
            once(code, hundred, ["check"])
            wall, cpu, rss, _ = once(code, hundred, ["check"])
            print(f"check on 100,000 records, warm, {label}: {wall:.2f} s wall, {cpu:.2f} s cpu, peak {rss / 1024:.0f} MB "
                  "(target <= 300 MB)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(PYCACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
