"""SFE timings: `visit plan` for 20 reps over 5,000 accounts for a month; `report sfe` over a year of 50,000 visits.

The data is generated in a temporary directory with ``yamlio.dumps_fast``
(the same writer batch imports use); each command runs as a subprocess, the
way a user runs it; the domain logic alone is also timed in-process, to tell
it apart from reading and writing files. Targets (issue 6): plan < 5 s,
report < 2 s with a warm cache.
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Callable

from crmctl.core.book import Book
from crmctl.core.yamlio import dumps_fast
from crmctl.sfe.pdca import report
from crmctl.sfe.plan import plan

CRMCTL = [sys.executable, "-m", "crmctl"]
REPS = 20


def run(book: str, *args: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([*CRMCTL, "--book", book, *args], check=True, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def in_process(book: str, work: Callable[[Book], object], preload: tuple[str, ...]) -> float:
    """The domain logic alone: ``preload`` records loaded first (from the warm cache), then ``work`` timed."""
    loaded = Book(book)
    for rtype in preload:
        loaded.records(rtype)
    start = time.perf_counter()
    work(loaded)
    return time.perf_counter() - start


def write(book: str, rtype: str, rid: str, data: dict) -> None:
    with open(os.path.join(book, "records", rtype, f"{rid}.yaml"), "w", encoding="utf-8") as handle:
        handle.write(dumps_fast(data))


def make_book(root: str, accounts: int) -> str:
    book = os.path.join(root, "book")
    subprocess.run([*CRMCTL, "init", book, "--company", "Bench"], check=True, capture_output=True)
    write(book, "users", "boss", {"name": "Boss", "email": "boss@example.com", "role": "manager"})
    for r in range(REPS):
        write(book, "users", f"rep{r:02d}", {"name": f"Rep {r}", "email": f"rep{r}@example.com", "role": "rep", "manager": "boss"})
    rng = random.Random(12)
    for a in range(accounts):
        tier = rng.choices("ABC", weights=(1, 3, 6))[0]
        write(book, "accounts", f"acc{a:05d}", {"name": f"Account {a}", "tier": tier, "lifecycle": "customer",
                                                "owner": f"rep{a % REPS:02d}", "lat": "31.2304", "lon": "121.4737"})
    return book


def commit_all(book: str) -> None:
    subprocess.run(["git", "-C", book, "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "-C", book, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "data"],
                   check=True, capture_output=True)


def bench_plan(root: str) -> list[tuple[str, float, str]]:
    book = make_book(os.path.join(root, "plan"), 5000)
    commit_all(book)
    cold = run(book, "visit", "plan", "--from", "2026-12-01", "--to", "2026-12-31", "--dry-run")
    logic = in_process(book, lambda b: plan(b, (_dt.date(2026, 12, 1), _dt.date(2026, 12, 31)), None, _dt.date(2026, 11, 27)),
                       ("users", "accounts", "visits"))
    took = run(book, "visit", "plan", "--from", "2026-12-01", "--to", "2026-12-31")
    count = sum(name.endswith(".yaml") for name in os.listdir(os.path.join(book, "records", "visits")))
    again = run(book, "visit", "plan", "--from", "2026-12-01", "--to", "2026-12-31")
    return [(f"visit plan --dry-run, 20 reps x 5,000 accounts, 1 month (cold cache)", cold, ""),
            ("  of which the plan itself (in-process, records already loaded)", logic, ""),
            (f"visit plan, writes and commits {count:,} visits", took, "< 5 s"),
            ("visit plan again (adds nothing)", again, "")]


def bench_report(root: str) -> list[tuple[str, float, str]]:
    os.makedirs(os.path.join(root, "report"))
    book = make_book(os.path.join(root, "report"), 2000)
    rng = random.Random(7)
    first = _dt.date(2026, 1, 1)
    for n in range(50_000):
        day = first + _dt.timedelta(days=rng.randrange(365))
        rep = f"rep{rng.randrange(REPS):02d}"
        data: dict = {"account": f"acc{rng.randrange(2000):05d}", "rep": rep, "type": "onsite", "date": day.isoformat(),
                      "status": "planned", "source": "cadence"}
        if rng.random() < 0.8:
            at = f"{day.isoformat()}T10:00:00+08:00"
            data.update(status="completed", checkin={"at": at, "lat": "31.2304", "lon": "121.4737", "distance_m": 0},
                        checkout={"at": f"{day.isoformat()}T11:00:00+08:00", "duration_min": 60},
                        steps=[{"id": s, "done": True, "at": at, "by": rep} for s in
                               ("prepare", "checkin", "discover", "next_steps", "checkout", "writeup")],
                        outcome="ok", next_steps=[{"text": "follow up", "due": day.isoformat(), "done": rng.random() < 0.7, "owner": rep}])
            if rng.random() < 0.1:
                data.update({"with": ["boss"], "coaching": [{"by": "boss", "at": at, "scores": {"discover": rng.randint(1, 5)}}]})
        write(book, "visits", f"v{n:06d}", data)
    env = {"CRMCTL_NOW": "2026-12-31T18:00:00+08:00"}
    cold = run(book, "report", "sfe", "--period", "2026", env=env)
    warm = min(run(book, "report", "sfe", "--period", "2026", env=env) for _ in range(3))
    # the visits come from their compact view (Book.view), so reading them is part of the report
    logic = in_process(book, lambda b: report(b, (_dt.date(2026, 1, 1), _dt.date(2026, 12, 31)), None, _dt.date(2026, 12, 31), "2026"),
                       ("users", "accounts", "opportunities"))
    team = min(run(book, "report", "sfe", "--period", "2026-Q4", "--rep", "rep03", env=env) for _ in range(3))
    return [("report sfe over a year of 50,000 visits (cold cache)", cold, ""),
            ("report sfe, the same, warm cache", warm, "< 2 s"),
            ("  of which the report in-process (visits view read + logic)", logic, ""),
            ("report sfe --period 2026-Q4 --rep rep03, warm", team, "")]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="crmctl-bench-sfe-") as root:
        rows = bench_plan(root) + bench_report(root)
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'seconds':>8}  target")
    for what, seconds, target in rows:
        print(f"{what:<{width}}  {seconds:8.2f}  {target}")


if __name__ == "__main__":
    main()
