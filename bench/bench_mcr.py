"""MCR numbers: `account show` (the 360° view) and `report customers` on a big book, warm cache.

Generates, in a temporary directory, a git book of 10,000 accounts (groups of
one parent and four subsidiaries), 20,000 contacts and N opportunities, N
orders (with a payment each for half of them) and N visits (N = 50,000 by
default; ``--n``), written with the foundation's fast dumper. Then times each
command as a subprocess, best of 3 after one warm-up run, and prints a table.

    .venv/bin/python bench/bench_mcr.py [--n 50000] [--accounts 10000] [--keep]
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from crmctl.core.yamlio import dumps_fast  # noqa: E402

CRMCTL = [sys.executable, "-m", "crmctl"]
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")


def write(root: str, rtype: str, rid: str, data: dict) -> None:
    with open(os.path.join(root, "records", rtype, f"{rid}.yaml"), "w", encoding="utf-8") as handle:
        handle.write(dumps_fast(data))


def generate(root: str, n_accounts: int, n: int) -> None:
    rnd = random.Random(7)
    subprocess.run([*CRMCTL, "init", root, "--company", "Bench"], check=True, capture_output=True)
    users = [f"rep-{i}" for i in range(20)]
    for u in users:
        write(root, "users", u, {"name": u, "email": f"{u}@example.com", "role": "rep"})
    accounts = [f"acct-{i:05d}" for i in range(n_accounts)]
    for i, aid in enumerate(accounts):
        data = {"name": f"Account {i} Ltd", "tier": "ABC"[i % 3], "owner": users[i % 20], "lifecycle": "customer"}
        if i % 5:
            data["parent"] = accounts[i - i % 5]  # groups of five: one parent, four subsidiaries
        write(root, "accounts", aid, data)
    for i in range(n_accounts * 2):
        write(root, "contacts", f"c{i:07d}", {"name": f"Person {i}", "account": accounts[i % n_accounts],
                                             "role": "user", "email": f"p{i}@example.com"})
    for i in range(n):
        aid = accounts[rnd.randrange(n_accounts)]
        year, month, day = rnd.choice((2025, 2026)), rnd.randint(1, 11), rnd.randint(1, 28)
        date = f"{year}-{month:02d}-{day:02d}"
        write(root, "opportunities", f"op{i:07d}", {"name": f"Deal {i}", "account": aid, "stage": rnd.choice(STAGES),
                                                   "amount": f"{rnd.randint(1, 500) * 1000}.00", "close_date": "2026-12-31"})
        total = f"{rnd.randint(1, 300) * 1000}.00"
        write(root, "orders", f"or{i:07d}", {"number": f"SO-{year}-{i:06d}", "account": aid, "date": date, "currency": "CNY",
                                            "total": total, "status": "open",
                                            "installments": [{"due": date, "amount": total}]})
        if i % 2:
            write(root, "payments", f"pa{i:07d}", {"order": f"or{i:07d}", "account": aid, "date": date, "amount": total,
                                                  "currency": "CNY"})
        write(root, "visits", f"vi{i:07d}", {"account": aid, "rep": users[i % 20], "type": "onsite",
                                            "status": rnd.choice(("completed", "planned")), "date": date,
                                            "next_steps": [{"text": "follow up", "done": bool(i % 3)}]})
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run(["git", "-C", root, "add", "-A"], check=True, env=env)
    # --no-verify: the book's check hook would judge generated data (visits "completed" without SOP steps)
    subprocess.run(["git", "-C", root, "-c", "gc.auto=0", "commit", "--no-verify", "-qm", "bench data"], check=True, env=env)


def timed(root: str, *args: str, runs: int = 3) -> tuple[float, float]:
    """Best wall and CPU (user + sys) time of ``runs`` subprocess runs after one warm-up (which warms the caches).

    CPU time is shown too because these machines are shared: under load the
    wall time stretches while the work done does not.
    """
    env = {**os.environ, "CRMCTL_BOOK": root, "CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
    cmd = [*CRMCTL, *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.strip()}")
    best, best_cpu = float("inf"), float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=50_000, help="opportunities, orders and visits (each)")
    parser.add_argument("--keep", action="store_true", help="keep the generated book and print its path")
    args = parser.parse_args()
    root = os.path.join(tempfile.mkdtemp(prefix="bench-mcr-"), "book")
    try:
        start = time.perf_counter()
        generate(root, args.accounts, args.n)
        made = time.perf_counter() - start
        rows = [
            ("generate the book (fast dumper + git commit)", (made, float("nan")), "-"),
            ("crmctl account show acct-00006 (a subsidiary)", timed(root, "account", "show", "acct-00006"), "< 1 s"),
            ("crmctl account show acct-00005 (a group of 5)", timed(root, "account", "show", "acct-00005"), "< 1 s"),
            ("crmctl account show acct-00005 --format json", timed(root, "account", "show", "acct-00005", "--format", "json"), "< 1 s"),
            ("crmctl report customers --limit 20", timed(root, "report", "customers", "--limit", "20"), "-"),
            ("crmctl account merge acct-00001 acct-00002 --dry-run",
             timed(root, "account", "merge", "acct-00001", "acct-00002", "--dry-run"), "-"),
        ]
        print(f"book: {args.accounts:,} accounts, {args.accounts * 2:,} contacts, {args.n:,} opportunities, "
              f"{args.n:,} orders, {args.n // 2:,} payments, {args.n:,} visits; warm cache, best of 3")
        width = max(len(r[0]) for r in rows)
        print(f"{'what':<{width}}  {'wall s':>7}  {'cpu s':>6}  target")
        for what, (secs, cpu), target in rows:
            print(f"{what:<{width}}  {secs:7.2f}  {'-' if cpu != cpu else f'{cpu:6.2f}':>6}  {target}")
        if args.keep:
            print(f"book kept at {root}")
    finally:
        if not args.keep:
            shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    main()
