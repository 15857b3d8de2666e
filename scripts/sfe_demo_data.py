"""Generate the SFE part of the demo book: a quarter (Sep-Nov 2026) of plans and visits.

Runs real crmctl commands in-process with a moving fixed clock (CRMCTL_NOW),
so the records are exactly what the commands write. Deterministic apart from
the generated ids. Usage: .venv/bin/python scripts/sfe_demo_data.py [BOOK]
(then `git add records/` — it writes with --no-commit).
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import sys

from click.testing import CliRunner

from crmctl.cli import cli

BOOK = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TODAY = _dt.date(2026, 11, 27)
rng = random.Random(6)


def crm(*args: str, at: str, actor: str | None = None) -> str:
    os.environ["CRMCTL_NOW"] = at
    argv = ["--book", BOOK, "--no-commit", *(["--as", actor] if actor else []), *args]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"crmctl {' '.join(args)}: {result.output}")
    return result.stdout.strip()


def stamp(day: _dt.date, hh: int, mm: int = 0) -> str:
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}:00+08:00"


def planned(day_from: _dt.date, day_to: _dt.date) -> list[dict]:
    import json

    rows = json.loads(crm("visit", "list", "--from", day_from.isoformat(), "--to", day_to.isoformat(), "--format", "json",
                          at=stamp(TODAY, 20)))
    return [r for r in rows if r["status"] in ("planned", "missed")]


def do(vid: str, day: _dt.date, account: dict, skill: float) -> None:
    """Carry a visit out; ``skill`` (0..1) is how thoroughly the rep follows the SOP."""
    start_h, start_m = rng.choice([9, 10, 10, 14, 15]), rng.choice([0, 15, 30])
    late = rng.random() < 0.1
    when = day + _dt.timedelta(days=1 if late else 0)
    coords = []
    if account.get("lat"):
        far = rng.random() < 0.12
        jitter = 0.02 if far else 0.002
        coords = ["--at", f"{float(account['lat']) + rng.uniform(-jitter, jitter):.5f},{float(account['lon']) + rng.uniform(-jitter, jitter):.5f}"]
    crm("visit", "checkin", vid, "--time", stamp(when, start_h, start_m), *coords, at=stamp(when, start_h, start_m))
    for step in ("prepare", "discover"):
        crm("visit", "step", vid, step, "--done", at=stamp(when, start_h, start_m))
    if rng.random() < skill:
        crm("visit", "step", vid, "present", "--done", at=stamp(when, start_h, start_m))
    if rng.random() < skill * 0.6:
        crm("visit", "step", vid, "competitor", "--done", "--value", rng.choice(
            ["DMG Mori quoted 8% lower", "Haas offered free training", "local supplier, 60-day terms"]), at=stamp(when, start_h, start_m))
    if rng.random() < skill * 0.5:
        crm("visit", "step", vid, "photo", "--done", "--value", f"photos/{vid}-1.jpg", at=stamp(when, start_h, start_m))
    if rng.random() < 0.15:
        crm("visit", "step", vid, "order", "--done", "--value", rng.choice(["spare parts SO pending", "1 x VMC-850"]), at=stamp(when, start_h, start_m))
    minutes = rng.choice([45, 60, 75, 90, 120])
    end = _dt.datetime.fromisoformat(stamp(when, start_h, start_m)) + _dt.timedelta(minutes=minutes)
    crm("visit", "checkout", vid, "--time", end.isoformat(), *coords, at=end.isoformat())
    text = rng.choice(["send the updated quotation", "arrange a demo at the Pudong showroom", "confirm spare-parts list",
                       "introduce the service engineer", "check budget timing with purchasing"])
    due = when + _dt.timedelta(days=rng.choice([3, 5, 7, 10]))
    crm("visit", "log", vid, "--outcome", rng.choice(["good meeting, interest confirmed", "needs more technical detail",
                                                      "price is the main concern", "positive; decision next month"]),
        "--next-step", text, "--due", due.isoformat(), at=end.isoformat())
    crm("visit", "done", vid, at=end.isoformat())
    if due < TODAY and rng.random() < 0.75:
        crm("visit", "followup", vid, "1", "--done", at=stamp(min(due, TODAY), 17))


def main() -> None:
    import yaml

    accounts = {}
    for name in os.listdir(os.path.join(BOOK, "records", "accounts")):
        with open(os.path.join(BOOK, "records", "accounts", name), encoding="utf-8") as handle:
            accounts[name[:-5]] = yaml.safe_load(handle)
    for rep, q3, q4 in (("li-na", ("400000", 45), ("500000", 50)), ("zhou-tao", ("300000", 35), ("350000", 40)),
                        ("tom-baker", ("250000", 35), ("300000", 40))):
        crm("user", "quota", rep, "--period", "2026-Q3", "--amount", q3[0], "--visits", str(q3[1]), at=stamp(_dt.date(2026, 8, 28), 9))
        crm("user", "quota", rep, "--period", "2026-Q4", "--amount", q4[0], "--visits", str(q4[1]), at=stamp(_dt.date(2026, 9, 28), 9))
    skill = {"li-na": 0.8, "zhou-tao": 0.5, "tom-baker": 0.35}
    miss = {"li-na": 0.06, "zhou-tao": 0.15, "tom-baker": 0.25}
    manager = {"li-na": "chen-jing", "zhou-tao": "chen-jing", "tom-baker": "chen-jing"}
    monday = _dt.date(2026, 8, 31)
    week = 0
    while monday <= _dt.date(2026, 11, 30):
        week += 1
        crm("visit", "plan", "--week", f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}", at=stamp(monday - _dt.timedelta(days=3), 17))
        if monday > TODAY:
            break
        # every other week one rep gets an accompanied visit (陪访) with their manager
        rep = ("li-na", "zhou-tao", "tom-baker")[week % 3]
        if week % 2 == 0:
            mine = [a for a, d in sorted(accounts.items()) if d.get("owner") == rep and d.get("lifecycle") != "churned"]
            crm("visit", "add", "--account", rng.choice(mine), "--date", (monday + _dt.timedelta(days=3)).isoformat(), "--time", "10:00",
                "--with", manager[rep], "--purpose", "accompanied visit (陪访): coaching on discovery", at=stamp(monday, 8))
        for row in planned(monday, min(monday + _dt.timedelta(days=6), TODAY - _dt.timedelta(days=1))):
            day = _dt.date.fromisoformat(row["date"])
            if rng.random() < miss[row["rep"]]:
                continue  # missed: stays planned, the report counts it
            if rng.random() < 0.04:
                crm("visit", "cancel", row["id"], "--reason", "customer rescheduled", at=stamp(day, 8))
                continue
            do(row["id"], day, accounts[row["account"]], skill[row["rep"]])
            if row["with"]:
                growth = min(week / 13, 1)  # scores improve over the quarter: coaching works
                scores = [f"{step}={max(1, min(5, round(2 + 2.5 * growth + rng.uniform(-0.6, 0.6))))}"
                          for step in ("prepare", "discover", "present", "next_steps")]
                args = [a for s in scores for a in ("--score", s)]
                crm("visit", "coach", row["id"], *args, "--comment", rng.choice(
                    ["ask open questions before presenting", "good preparation; close with a clear next step",
                     "let the customer talk more", "strong discovery; confirm the budget owner"]),
                    at=stamp(day, 18), actor=row["with"][0])
        monday += _dt.timedelta(days=7)
    # a visit for today, ready for the README's check-in tour
    os.environ.pop("CRMCTL_NOW", None)


if __name__ == "__main__":
    main()
