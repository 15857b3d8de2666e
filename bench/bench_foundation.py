"""Foundation numbers: start-up, reading and checking large books (issue 2).

Generates books of N accounts and 2N contacts in a temporary folder and
prints a table of wall-clock times (best of several runs) for:
  * `crmctl --help` against a bare Click group with one command;
  * `crmctl account list --format json` with a warm cache, against `cat` of
    all the account files;
  * the same with no cache, against reading the same files with PyYAML's
    CSafeLoader in a bare script;
  * `crmctl check` (cold) against that baseline, with its peak memory.
Usage: python bench/bench_foundation.py [N ...]   (default: 1000 10000)
"""
from __future__ import annotations

import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crmctl.core import yamlio  # noqa: E402
from crmctl.core.ids import new_id  # noqa: E402

# measure crmctl as installed: with its bytecode cached (some sandboxes set this variable)
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
PY = sys.executable
BIN = os.path.join(os.path.dirname(PY), "crmctl")
TIERS = ["A", "B", "C"]
CITIES = ["上海", "苏州", "杭州", "Houston", "München", "宁波"]


def make_book(root: str, n: int) -> None:
    subprocess.run([BIN, "init", root, "--no-git"], check=True, capture_output=True)
    rnd = random.Random(n)
    acc_dir = os.path.join(root, "records", "accounts")
    con_dir = os.path.join(root, "records", "contacts")
    for i in range(n):
        slug = f"acct-{i:06d}"
        data = {"name": f"测试客户 {i} 有限公司", "name_en": f"Test Customer {i}", "tier": rnd.choice(TIERS),
                "lifecycle": "customer", "industry": "machinery", "city": rnd.choice(CITIES),
                "phone": f"+86 21 {rnd.randint(1000, 9999)} {rnd.randint(1000, 9999)}", "created": "2026-01-01T09:00:00+08:00"}
        with open(os.path.join(acc_dir, slug + ".yaml"), "w", encoding="utf-8") as fh:
            fh.write(yamlio.dumps_fast(data))
        for j in range(2):
            cdata = {"name": f"联系人 {i}-{j}", "account": slug, "title": "采购经理", "role": "influencer",
                     "email": f"c{i}.{j}@example.com", "created": "2026-01-01T09:00:00+08:00"}
            with open(os.path.join(con_dir, new_id() + ".yaml"), "w", encoding="utf-8") as fh:
                fh.write(yamlio.dumps_fast(cdata))


def timed(cmd: list[str], runs: int = 3, env: dict[str, str] | None = None, before: object = None) -> tuple[float, int]:
    """Best wall time of ``runs`` and the peak RSS (MB) of the last run."""
    best = float("inf")
    peak = 0
    for _ in range(runs):
        if callable(before):
            before()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        best = min(best, time.perf_counter() - start)
        peak = usage.ru_maxrss // 1024
    return best, peak


BARE_CLICK = "import click\n@click.group()\ndef g(): pass\n@g.command()\ndef one(): pass\ng()\n"
BASELINE = (
    "import os, sys, yaml\n"
    "d = sys.argv[1]\n"
    "out = [yaml.load(open(os.path.join(d, f), encoding='utf-8'), Loader=yaml.CSafeLoader) for f in os.listdir(d)]\n"
)
BASELINE_ALL = (
    "import os, sys, yaml\n"
    "for t in ('accounts', 'contacts'):\n"
    "    d = os.path.join(sys.argv[1], 'records', t)\n"
    "    out = [yaml.load(open(os.path.join(d, f), encoding='utf-8'), Loader=yaml.CSafeLoader) for f in os.listdir(d) if f.endswith('.yaml')]\n"
)


def main(sizes: list[int]) -> None:
    rows = []
    h, _ = timed([BIN, "--help"], 7)
    bare, _ = timed([PY, "-c", BARE_CLICK, "--help"], 7)
    rows.append(("--help", "-", f"{h:.3f}", f"{bare:.3f} (bare click)", f"{h / bare:.2f}x", "≤1.5x"))
    for n in sizes:
        tmp = tempfile.mkdtemp(prefix=f"crmctl-bench-{n}-")
        try:
            t0 = time.perf_counter()
            make_book(tmp, n)
            gen = time.perf_counter() - t0
            acc = os.path.join(tmp, "records", "accounts")
            cache = os.path.join(tmp, ".crmctl", "cache")
            drop = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
            listing = [BIN, "--book", tmp, "account", "list", "--format", "json"]
            cold, cold_mem = timed(listing, 3, before=drop)
            subprocess.run(listing, stdout=subprocess.DEVNULL)
            warm, warm_mem = timed(listing, 5)
            # find|xargs, not a shell glob: 100,000 names overflow one command line
            cat, _ = timed(["sh", "-c", f"find {acc} -name '*.yaml' -print0 | xargs -0 cat"], 5)
            base, _ = timed([PY, "-c", BASELINE, acc], 3)
            check, check_mem = timed([BIN, "--book", tmp, "check"], 2, before=drop)
            base_all, _ = timed([PY, "-c", BASELINE_ALL, tmp], 2)
            rows.append((f"account list json, warm cache", n, f"{warm:.3f}", f"{cat:.3f} (cat)", f"{warm / cat:.2f}x",
                         f"≤2x, <0.5s; {warm_mem} MB"))
            rows.append((f"account list json, no cache", n, f"{cold:.3f}", f"{base:.3f} (CSafeLoader)", f"{cold / base:.2f}x",
                         f"≤1.5x; {cold_mem} MB"))
            rows.append((f"check, no cache ({3 * n} records)", n, f"{check:.3f}", f"{base_all:.3f} (CSafeLoader)",
                         f"{check / base_all:.2f}x", f"≤2x; peak {check_mem} MB (<300)"))
            print(f"# generated {3 * n} records in {gen:.1f}s", file=sys.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    from tabulate import tabulate

    print(tabulate(rows, headers=["what", "accounts", "seconds", "baseline", "ratio", "target / memory"]))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
