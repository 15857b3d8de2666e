"""What signed approvals cost `crmctl check`: N quotes, each approved in its own SSH-signed commit.

Builds the demo book in a temporary git repository, adds N copies of the
demo's approved quote (their approvals left out) in one commit, then gives
each quote its approval in a commit of its own, signed with li-na's key
(``git commit -S``, gpg.format ssh). Prints `crmctl check` with
``policy.signed_approvals`` off, on with nothing cached (every historical
quote blob parsed, every approval commit verified by git) and on again (blobs
and verdicts cached under .crmctl/cache/).

    python bench/bench_signed.py [N]      # N defaults to 1000
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CRMCTL = os.path.join(os.path.dirname(sys.executable), "crmctl")
TEMPLATE = "2ndtq9q28r0p"  # the demo's quote approved by li-na within her authority


def sh(cwd: str, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def timed(book: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([CRMCTL, "--book", book, "check"], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main(n: int) -> None:
    tmp = tempfile.mkdtemp(prefix="crmctl-bench-signed-")
    env = {**os.environ, "CRMCTL_NOW": "2026-11-20T10:00:00+08:00", "GIT_CONFIG_GLOBAL": os.path.join(tmp, "gitconfig"),
           "GIT_CONFIG_NOSYSTEM": "1"}
    with open(env["GIT_CONFIG_GLOBAL"], "w") as handle:
        handle.write("[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n")
    try:
        book = os.path.join(tmp, "book")
        os.makedirs(book)
        for part in ("crm.yaml", "records", "templates"):
            (shutil.copytree if os.path.isdir(os.path.join(REPO, part)) else shutil.copy)(
                os.path.join(REPO, part), os.path.join(book, part))
        key = os.path.join(tmp, "li-na")
        sh(tmp, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        with open(os.path.join(book, "records/users/li-na.yaml"), "a", encoding="utf-8") as handle:
            handle.write(f"signing_keys:\n- \"{open(key + '.pub').read().strip()}\"\n")
        full = open(os.path.join(book, f"records/quotes/{TEMPLATE}.yaml"), encoding="utf-8").read()
        head, _, rest = full.partition("approvals:\n")
        tail = rest[rest.index("\nnumber:") + 1:]
        bare = head + tail
        quotes = os.path.join(book, "records/quotes")
        for i in range(n):
            with open(os.path.join(quotes, f"bq{i:05d}.yaml"), "w", encoding="utf-8") as handle:
                handle.write(bare.replace("QT-2026-0004", f"BQ-2026-{i:05d}"))
        sh(book, "git", "init", "-q", env=env)
        sh(book, "git", "add", "-A", env=env)
        sh(book, "git", "commit", "-q", "-m", "quotes", env=env)
        sh(book, "git", "config", "gpg.format", "ssh", env=env)
        sh(book, "git", "config", "user.signingkey", key, env=env)
        start = time.perf_counter()
        for i in range(n):
            path = os.path.join(quotes, f"bq{i:05d}.yaml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(full.replace("QT-2026-0004", f"BQ-2026-{i:05d}").replace(
                    "2026-10-15T10:00:00+08:00", f"2026-10-15T10:{i // 60 % 60:02d}:{i % 60:02d}+08:00"))
            sh(book, "git", "commit", "-q", "-S", "-m", f"quote approve: bq{i:05d}", "--", path, env=env)
        built = time.perf_counter() - start
        print(f"{n} quotes, {n} signed approval commits (built in {built:.1f} s)")
        settings = os.path.join(book, "crm.yaml")
        base = open(settings, encoding="utf-8").read()
        rows = []
        for label, on, cold in (("signed_approvals off", False, True), ("signed_approvals on, nothing cached", True, True),
                                ("signed_approvals on, cached", True, False)):
            with open(settings, "w", encoding="utf-8") as handle:
                handle.write(base + f"\npolicy:\n  signed_approvals: {'true' if on else 'false'}\n")
            if cold:
                shutil.rmtree(os.path.join(book, ".crmctl"), ignore_errors=True)
                timed(book, env)  # the record caches, so only the git side is cold
                shutil.rmtree(os.path.join(book, ".crmctl", "cache", "git"), ignore_errors=True)
                try:
                    os.unlink(os.path.join(book, ".crmctl", "cache", "signatures.json"))
                except FileNotFoundError:
                    pass
            seconds, last = timed(book, env)
            rows.append((label, seconds, last))
        for label, seconds, last in rows:
            print(f"  check, {label:36s} {seconds:6.2f} s   ({last})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
