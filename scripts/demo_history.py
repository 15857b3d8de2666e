"""Give a copy of the demo book a few weeks of git history, so `--as-of`, `report changes`, `log --fields` and
`diff` have something to show (`make demo` runs it; the README's "The book at any date" shows its output).

Usage: ``python scripts/demo_history.py DIR`` — DIR must not exist or be empty. The demo book (crm.yaml,
records/, templates/ of this repository) is copied there into a new git repository; this repository's own
history is never touched.

The history is the deals' own story, replayed: each opportunity's ``created`` and ``stage_history`` say on which
day it appeared and moved, and EDITS below adds what a stage history cannot hold (an amount raised, a close
date that slipped). The first commit is the book as of START (every deal as it stood that day); then one commit
per day on which something happened, at 18:00 in the book's zone, authored by the deal's owner (from
records/users); the last commit, on END, is the demo book exactly as it is in this repository.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = "2026-10-01"  # the first commit: the book as it stood at the end of this day
END = "2026-11-27"    # the demo's "today": the last commit is the demo book as it is
ZONE = "+08:00"
# (day, deal, field, value before that day): what the deal's stage history cannot tell
EDITS: list[tuple[str, str, str, str]] = [
    ("2026-11-02", "2ndtj4mm3vkw", "amount", "1200000.00"),      # 苏州精密 五轴: raised to 1,480,000 with the proposal
    ("2026-10-28", "2ndtp31w34ra", "close_date", "2026-10-31"),  # 刀柄与备件: slipped a month, to 11-30
    ("2026-11-19", "2ndtj5jdw9r2", "close_date", "2026-12-31"),  # 宁波模具: slipped to 2027-01-31 at its proposal
    ("2026-10-20", "2ndtj3nf9dg7", "amount", "980000.00"),       # 上汽大众零部件: raised to 1,250,000
    ("2026-11-16", "2ndtjts5frdv", "close_date", "2026-12-15"),  # 南京二号线: slipped out of Q4, to 2027-01-15
]


def load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def day_of(value: Any) -> str:
    return str(value or "")[:10]


def deal_on(final: dict[str, Any], rid: str, day: str) -> dict[str, Any] | None:
    """The deal as it stood at the end of ``day`` (None: not created yet), from its own history and EDITS."""
    if day_of(final.get("created")) > day:
        return None
    data = dict(final)
    moves = [m for m in final.get("stage_history") or [] if day_of(m.get("at")) <= day]
    if len(moves) < len(final.get("stage_history") or []):
        history = final["stage_history"]
        data["stage"] = history[len(moves)]["from"]  # where it was before its next move
        data["stage_history"] = moves
        if not moves:
            data.pop("stage_history")
        for closed in ("closed_on", "lost_reason"):
            data.pop(closed, None)
    for when, deal, field, before in EDITS:
        if deal == rid and when > day:
            data[field] = before
    return data


def event_days(deals: dict[str, dict[str, Any]]) -> list[str]:
    """Every day between START and END on which a deal appeared, moved or was edited."""
    days = {day_of(d.get("created")) for d in deals.values()}
    days |= {day_of(m.get("at")) for d in deals.values() for m in d.get("stage_history") or []}
    days |= {e[0] for e in EDITS}
    return sorted(d for d in days if START < d < END)


def write_deals(book: str, deals: dict[str, dict[str, Any]], day: str) -> list[str]:
    """Write every deal as of ``day``; the ids of those that changed since the last write."""
    folder = os.path.join(book, "records", "opportunities")
    changed = []
    for rid, final in sorted(deals.items()):
        path = os.path.join(folder, f"{rid}.yaml")
        state = deal_on(final, rid, day)
        text = None if state is None else yaml.safe_dump(state, allow_unicode=True, sort_keys=False)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                old = handle.read()
        if text != old:
            changed.append(rid)
            if text is None:
                os.unlink(path)
            else:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    return changed


def commit(book: str, day: str, message: str, author: tuple[str, str]) -> None:
    stamp = f"{day}T18:00:00{ZONE}"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": author[0],
           "GIT_AUTHOR_EMAIL": author[1], "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1]}
    subprocess.run(["git", "-C", book, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", book, "commit", "-q", "--allow-empty", "-m", message], check=True, env=env)


def main(book: str) -> None:
    if os.path.exists(book) and os.listdir(book):
        sys.exit(f"{book}: not empty; give a new folder")
    os.makedirs(book, exist_ok=True)
    for name in ("crm.yaml", "records", "templates"):
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(book, name))
        elif os.path.exists(source):
            shutil.copy2(source, os.path.join(book, name))
    subprocess.run(["git", "-C", book, "init", "-q"], check=True)
    folder = os.path.join(book, "records", "opportunities")
    deals = {name[:-5]: load(os.path.join(folder, name)) for name in sorted(os.listdir(folder)) if name.endswith(".yaml")}
    users = {name[:-5]: load(os.path.join(book, "records", "users", name))
             for name in os.listdir(os.path.join(book, "records", "users")) if name.endswith(".yaml")}

    def who(rid: str) -> tuple[str, str]:
        user = users.get(str(deals[rid].get("owner")), {})
        return str(user.get("name_en") or user.get("name") or "Demo"), str(user.get("email") or "demo@example.com")

    write_deals(book, deals, START)
    commit(book, START, f"the book as of {START}", ("Chen Jing", "chen.jing@hdpm.example.cn"))
    for day in event_days(deals):
        changed = write_deals(book, deals, day)
        if changed:
            names = ", ".join(str(deals[r].get("name")) for r in changed)
            commit(book, day, f"deals: {names}", who(changed[0]))
    shutil.rmtree(folder)
    shutil.copytree(os.path.join(ROOT, "records", "opportunities"), folder)  # the demo book exactly
    commit(book, END, "the demo book as it is", ("Chen Jing", "chen.jing@hdpm.example.cn"))
    count = subprocess.run(["git", "-C", book, "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
    print(f"{book}: the demo book with {count} commits from {START} to {END}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):   # an option is never a folder name (`--help` made one)
        sys.exit(__doc__.split("\n\n")[1])
    main(sys.argv[1])
