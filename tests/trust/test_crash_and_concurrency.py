"""SIGKILL at random moments and parallel writers: no record is ever half-written or lost.

These start real crmctl processes, kill them with SIGKILL at random points
and run several writers against one book at once. The counts they run are
printed (pytest -s shows them) and asserted.
"""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import yaml

from crmctl.core.book import Book
from tests.conftest import git, invoke
from tests.trust.kill import kill_after

PY = sys.executable
KILLS = 40
WRITERS = 6
OPS = 8

WRITER = """
import sys
from crmctl.core.book import Book
book, tag, n = Book(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    with book.transaction(f"batch {tag} {i}") as tx:
        acme = book.get("accounts", "acme")
        tx.put("accounts", "acme", {**acme.data, "tags": [*acme.get("tags", []), f"{tag}-{i}"]})
        for j in range(15):
            # letters between the numbers: the duplicate check compares names without spaces
            tx.put("contacts", f"c-{tag}-{i}-{j}", {"name": f"Contact {tag} b{i} n{j} 联系人", "account": "acme",
                                                   "notes": "x" * 2000})
"""


def assert_whole(book: Path) -> int:
    """Every record file parses and check is clean; returns how many records there are."""
    b = Book(str(book))
    count = sum(len(b.records(t)) for t in ("accounts", "contacts", "users"))
    assert b.problems == []
    r = invoke("check", book=book)
    assert r.exit_code == 0, r.output
    for path in (book / "records").rglob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path
    return count


def test_sigkill_at_random_moments_never_leaves_half_a_record(book: Path) -> None:
    rnd = random.Random(20261127)
    kills = 0
    for round_ in range(KILLS):
        if round_ % 2:
            cmd = [PY, "-c", WRITER, str(book), f"k{round_}", "50"]
        else:
            cmd = [PY, "-m", "crmctl", "--book", str(book), "account", "edit", "acme", "--set", f"notes=round {round_} " + "y" * 3000]
        kills += kill_after(cmd, rnd.uniform(0.05, 0.6))
        assert_whole(book)
    print(f"\n{kills} SIGKILLs in {KILLS} rounds; every record whole, check clean")
    assert kills >= KILLS // 2
    # the book still works afterwards, git included (a stale index.lock is cleaned up)
    r = invoke("account", "edit", "acme", "--city", "After the storm", book=book)
    assert r.exit_code == 0, r.output
    assert "account edit: acme (" in git(book, "log", "-1", "--format=%s")


def test_parallel_writers_lose_no_update(book: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRMCTL_LOCK_TIMEOUT", "300")  # a loaded CI machine may be slow; waiting is the behaviour under test
    procs = [subprocess.Popen([PY, "-c", WRITER, str(book), f"w{i}", str(OPS)], stderr=subprocess.PIPE, text=True)
             for i in range(WRITERS)]
    clis = [subprocess.Popen([PY, "-m", "crmctl", "--book", str(book), "contact", "add", "--name", f"CLI writer {i}",
                              "--account", "baosteel"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(WRITERS)]
    for proc in procs + clis:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "index.lock" not in err
    acme = Book(str(book)).get("accounts", "acme")
    assert sorted(acme.get("tags")) == sorted(f"w{i}-{j}" for i in range(WRITERS) for j in range(OPS))
    assert assert_whole(book) >= 6 + WRITERS * OPS * 15 + WRITERS
    log = git(book, "log", "--format=%s")
    assert sum(line.startswith("batch w") for line in log.splitlines()) == WRITERS * OPS
    assert sum(line.startswith("contact add:") for line in log.splitlines()) == WRITERS
    assert git(book, "status", "--porcelain", "records") == ""
    print(f"\n{WRITERS} API writers x {OPS} transactions + {WRITERS} CLI writers in parallel: nothing lost")
