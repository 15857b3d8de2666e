"""Bench: the book at any date (``--as-of`` from git, ``report changes``) on a year of daily commits.

Generates, in a temporary directory, a book (``crmctl init``) and on top of it,
through one ``git fast-import`` stream, a year of history: 8,000 deals on the
first day, then every day about 2 new deals and 60 changes to amounts, close
dates, stages (with their stage history) and owners — 8,800 deals at the end,
365 commits at 18:00 in the book's zone. Then times, each in a fresh process
(start-up included), with the blob cache removed before each "first":

* baseline: ``git ls-tree -r`` + ``git cat-file --batch`` of every record at mid-year (no parsing)
* baseline: ``report pipeline`` of today (working tree, warm index cache)
* with ``BENCH_BASE=DIR``, every row also with the crmctl in DIR ("before"), in the same run
* ``report pipeline --as-of`` mid-year, first time (target ≤ 2 s) and next (≤ 0.5 s)
* ``report changes`` over a quarter, first time (≤ 3 s)
* peak memory of each (target < 300 MB)

Usage: ``[BENCH_BASE=DIR] [BENCH_REPEAT=3] python bench/bench_asof.py [N_DEALS]``.
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

N_DEALS = int(sys.argv[1]) if len(sys.argv) > 1 else 8800
FIRST_DAY_DEALS = N_DEALS * 10 // 11
CHANGES_PER_DAY = 60
START = _dt.date(2025, 1, 1)
DAYS = 365
STAGES = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
OWNERS = [f"rep-{i:02d}" for i in range(35)]
CRMCTL = os.path.join(os.path.dirname(sys.executable), "crmctl")
TZ = "+0800"


def text(deal: dict) -> bytes:
    lines = [f"{k}: {v}" for k, v in deal.items() if k != "stage_history"]
    if deal.get("stage_history"):
        lines.append("stage_history:")
        for h in deal["stage_history"]:
            lines.append(f"  - {{from: {h['from']}, to: {h['to']}, at: \"{h['at']}\", by: {h['by']}}}")
    return ("\n".join(lines) + "\n").encode()


def new_deal(i: int, day: _dt.date, rng: random.Random) -> dict:
    return {"name": f"Deal {i}", "account": f"acct-{i % 85:02d}", "owner": rng.choice(OWNERS),
            "stage": rng.choice(STAGES[:4]), "amount": f'"{rng.randrange(10, 2000) * 1000}.00"', "currency": "CNY",
            "close_date": (day + _dt.timedelta(days=rng.randrange(20, 200))).isoformat(),
            "created": f'"{day.isoformat()}T09:00:00+08:00"'}


def change(deal: dict, day: _dt.date, rng: random.Random) -> None:
    what = rng.choice(("amount", "close_date", "stage", "owner"))
    if what == "amount":
        deal["amount"] = f'"{rng.randrange(10, 2000) * 1000}.00"'
    elif what == "close_date":
        moved = _dt.date.fromisoformat(deal["close_date"]) + _dt.timedelta(days=rng.randrange(-20, 45))
        deal["close_date"] = moved.isoformat()
    elif what == "owner":
        deal["owner"] = rng.choice(OWNERS)
    elif deal["stage"] not in ("won", "lost"):
        i = STAGES.index(deal["stage"])
        to = "lost" if rng.random() < 0.15 else STAGES[i + 1]
        deal.setdefault("stage_history", []).append({"from": deal["stage"], "to": to, "at": f"{day}T10:00:00+08:00",
                                                     "by": deal["owner"]})
        deal["stage"] = to


def stream(ref: str) -> bytes:
    """The fast-import stream of the year: one commit a day on top of the book's first commit."""
    rng = random.Random(18)
    deals: dict[str, dict] = {}
    out: list[bytes] = []
    for n in range(DAYS):
        day = START + _dt.timedelta(days=n)
        touched: set[str] = set()
        births = FIRST_DAY_DEALS if n == 0 else (N_DEALS - FIRST_DAY_DEALS) // (DAYS - 1) + (n <= (N_DEALS - FIRST_DAY_DEALS) % (DAYS - 1))
        for _ in range(births):
            rid = f"d{len(deals):05d}"
            deals[rid] = new_deal(len(deals), day, rng)
            touched.add(rid)
        if n:
            for rid in rng.sample(sorted(deals), CHANGES_PER_DAY):
                change(deals[rid], day, rng)
                touched.add(rid)
        when = int(_dt.datetime.combine(day, _dt.time(18), _dt.timezone(_dt.timedelta(hours=8))).timestamp())
        msg = f"day {day}".encode()
        out.append(b"commit %s\ncommitter Bench <bench@example.com> %d %s\ndata %d\n%s\n"
                   % (ref.encode(), when, TZ.encode(), len(msg), msg))
        if n == 0:
            out.append(b"from %s^0\n" % ref.encode())
        for rid in sorted(touched):
            blob = text(deals[rid])
            out.append(b"M 100644 inline records/opportunities/%s.yaml\ndata %d\n%s\n" % (rid.encode(), len(blob), blob))
    return b"".join(out)


def timed(book: str, code: str | None, *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system: steadier on a shared machine) and peak MB of one command in a
    fresh process; ``code``: the crmctl source folder to run (PYTHONPATH)."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024)")
    env = {**os.environ, "CRMCTL_NOW": "2025-12-31T20:00:00+08:00"}
    if code:
        env["PYTHONPATH"] = code
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True, env=env,
                         cwd=book).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


MID = "2025-07-01"
CHANGES = ("report", "changes", "--from", "2025-04-01", "--to", "2025-06-30")
# (what, command, remove the blob cache first, target)
ROWS = [
    ("report pipeline (today, warm)", ("report", "pipeline"), False, ""),
    (f"report pipeline --as-of {MID}, first", ("report", "pipeline", "--as-of", MID), True, "<= 2 s"),
    (f"report pipeline --as-of {MID}, next", ("report", "pipeline", "--as-of", MID), False, "<= 0.5 s"),
    ("report pipeline --as-of 2025-07-08 (a week on)", ("report", "pipeline", "--as-of", "2025-07-08"), False, ""),
    ("report changes 2025-04-01..2025-06-30, first", CHANGES, True, "<= 3 s"),
    ("report changes 2025-04-01..2025-06-30, next", CHANGES, False, ""),
]


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    """Build the book, then time every row ``BENCH_REPEAT`` times (default 3; the median is shown).

    ``BENCH_BASE=DIR`` (a folder holding an older ``crmctl`` package, e.g. from
    ``git archive OLD crmctl | tar -x -C DIR``) adds a "before" column: each
    row runs the old and the new code one after the other on two copies of the
    book, so both see the same machine load.
    """
    tmp = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="crmctl-asof-")
    book = os.path.join(tmp, "book")
    base_code = os.environ.get("BENCH_BASE")
    new_code = os.environ.get("PYTHONPATH") or None
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    try:
        t0 = time.perf_counter()
        subprocess.run([CRMCTL, "init", book, "--company", "Bench"], check=True, capture_output=True)
        ref = subprocess.run(["git", "-C", book, "symbolic-ref", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        subprocess.run(["git", "-C", book, "fast-import", "--quiet"], input=stream(ref), check=True)
        subprocess.run(["git", "-C", book, "reset", "--hard", "-q"], check=True)
        built = time.perf_counter() - t0
        commits = subprocess.run(["git", "-C", book, "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        print(f"book: {N_DEALS} deals, {commits} commits, built in {built:.1f} s ({tmp}); median of {repeat} runs")
        sha = subprocess.run(["git", "-C", book, "rev-list", "-n1", "--first-parent", f"--before={MID}T23:59:59+08:00",
                              "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        plumbing = f"git ls-tree -r {sha} records | awk '{{print $3}}' | git cat-file --batch > /dev/null"
        variants = [("after", book, new_code)]
        if base_code:
            copy = os.path.join(tmp, "book-before")
            subprocess.run(["git", "clone", "-q", "--no-local", book, copy], check=True)
            variants.insert(0, ("before", copy, base_code))
        for _, where, code in variants:
            timed(where, code, sys.executable, "-m", "crmctl", "report", "pipeline")  # warm the working tree's cache
        results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for _ in range(repeat):
            results.setdefault(("plumbing", "after"), []).append(timed(book, None, "sh", "-c", plumbing))
            for what, args, cold, _target in ROWS:
                for name, where, code in variants:
                    if cold:
                        shutil.rmtree(os.path.join(where, ".crmctl", "cache", "git"), ignore_errors=True)
                    results.setdefault((what, name), []).append(timed(where, code, sys.executable, "-m", "crmctl", *args))
        names = [v[0] for v in variants]
        rows = [("baseline: git ls-tree + cat-file --batch, mid-year (no parsing)", "")] + [(r[0], r[3]) for r in ROWS]
        width = max(len(r[0]) for r in rows)
        head = "  ".join(f"{n + ' s':>9}  {n + ' cpu':>10}  {n + ' MB':>9}" for n in names)
        print(f"{'what':<{width}}  {head}  target")
        for what, target in rows:
            cells = []
            for name in names:
                got = results.get(("plumbing" if what.startswith("baseline: git") else what, name))
                cells.append(f"{median([g[0] for g in got]):9.2f}  {median([g[1] for g in got]):10.2f}  "
                             f"{max(g[2] for g in got):9.0f}" if got else f"{'':>9}  {'':>10}  {'':>9}")
            print(f"{what:<{width}}  {'  '.join(cells)}  {target}")
    finally:
        if not os.environ.get("BENCH_DIR"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
