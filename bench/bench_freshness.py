"""Ways to learn which record files changed since the last read, timed on one book (docs/DESIGN.md, step 9).

Each way is timed best of 3 over the given record folders of a book made by
``bench_mcr.py --keep`` (or any git book). Only the per-file stat sees an
editor's in-place save in every case; the others are listed with what they
miss in DESIGN.md.

    .venv/bin/python bench/bench_freshness.py BOOK [accounts,opportunities,orders,visits,payments,quotes]
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crmctl.core import cache  # noqa: E402


def best(label: str, fn: Callable[[], Any], runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"{label:<48} {min(times) * 1000:8.0f} ms", flush=True)


def main() -> None:
    root = sys.argv[1]
    types = (sys.argv[2] if len(sys.argv) > 2 else "accounts,opportunities,orders,visits,payments,quotes").split(",")
    folders = [os.path.join(root, "records", t) for t in types]
    paths = [f"records/{t}" for t in types]
    files = sum(len(os.listdir(f)) for f in folders)
    print(f"{root}: {files} files in {', '.join(types)}")
    pool = ThreadPoolExecutor(4)

    def threaded() -> None:
        for folder in folders:
            names = os.listdir(folder)
            step = (len(names) + 3) // 4 or 1
            stat = functools.partial(os.stat, follow_symlinks=False)
            list(pool.map(lambda part: [stat(os.path.join(folder, n)) for n in part],
                          [names[i:i + step] for i in range(0, len(names), step)]))

    def git(*argv: str) -> None:
        subprocess.run(["git", "-C", root, *argv, "--", *paths], capture_output=True, check=False)

    best("fstatat per file through map (crmctl)", lambda: [cache.folder_stats(f) for f in folders])
    best("the same in 4 threads", threaded)
    best("listdir only", lambda: [os.listdir(f) for f in folders])
    best("folder mtimes", lambda: [os.stat(f).st_mtime_ns for f in folders])
    best("git diff-files --name-only", lambda: git("diff-files", "--name-only"))
    best("git status --porcelain --untracked-files=all", lambda: git("status", "--porcelain", "--untracked-files=all"))
    best("git ls-files -s", lambda: git("ls-files", "-s"))
    best("git ls-files --others --exclude-standard", lambda: git("ls-files", "--others", "--exclude-standard"))
    pool.shutdown()


if __name__ == "__main__":
    main()
