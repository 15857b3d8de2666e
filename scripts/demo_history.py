"""Give a copy of the demo book a few weeks of git history, so `--as-of`, `report changes`, `log --fields` and
`diff` have something to show (`make demo` runs it; the README's "The book at any date" shows its output).

Usage: ``python scripts/demo_history.py DIR`` — DIR must not exist or be empty. The demo book (crm.yaml,
records/, templates/ of this repository) is copied there into a new git repository; this repository's own
history is never touched.

The history is the records' own story, replayed: every record enters on the day of its own date (``created``;
an order's or a payment's ``date`` if later) and changes on the days its own history says — a deal's
``stage_history``, a lead's or an order's ``history``, a quote's ``approvals``, ``status_history`` and frozen
``versions``, a visit's check-in, steps, check-out, cancellation, next steps done and coaching — and EDITS below
adds what a stage history cannot hold (an amount raised, a close date that slipped). The first commit is the
book as of START (every record as it stood that day; none dated later); then one commit per day on which
something happened, at 18:00 in the book's zone (or at the day's last event, if later), authored by the owner
of the first record that changed (from records/users); the last commit, on END or on the day of the book's
last event if that is later, is the demo book exactly as it is in this repository. A record's history event
the script cannot undo stops it with one line naming the file, rather than dating the change wrongly.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import subprocess
import sys
from typing import Any, Callable

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)   # crmctl's own states and approval records, from this checkout

from crmctl.core.clock import parse_timezone  # noqa: E402
from crmctl.core.states import ApprovalStatus, QuoteStatus, VisitStatus  # noqa: E402

START = "2026-10-01"  # the first commit: the book as it stood at the end of this day
END = "2026-11-27"    # the demo's "today": the last commit is the demo book as it is
HOUR = "18:00:00"     # a day's commit time, unless one of its events is later
# (day, deal, field, value before that day): what the deal's stage history cannot tell
EDITS: list[tuple[str, str, str, str]] = [
    ("2026-11-02", "2ndtj4mm3vkw", "amount", "1200000.00"),      # 苏州精密 五轴: raised to 1,480,000 with the proposal
    ("2026-10-28", "2ndtp31w34ra", "close_date", "2026-10-31"),  # 刀柄与备件: slipped a month, to 11-30
    ("2026-11-19", "2ndtj5jdw9r2", "close_date", "2026-12-31"),  # 宁波模具: slipped to 2027-01-31 at its proposal
    ("2026-10-20", "2ndtj3nf9dg7", "amount", "980000.00"),       # 上汽大众零部件: raised to 1,250,000
    ("2026-11-16", "2ndtjts5frdv", "close_date", "2026-12-15"),  # 南京二号线: slipped out of Q4, to 2027-01-15
]
# the keys whose values are moments something happened (not plans like close_date, due or valid_until)
EVENT_KEYS = frozenset({"created", "at", "sent_at", "requested_at", "done_at", "completed", "closed_on"})
# the kinds whose ``date`` is when it happened (issued, paid), not a day planned
DATED_KINDS = frozenset({"orders", "payments", "quotes"})
# a lead's or an order's history event -> how to undo it: (field it set, restore ``from`` or drop the field)
UNDO: dict[str, tuple[str, bool]] = {"status": ("status", True), "renumber": ("number", True),
                                     "plan": ("installments", False)}

Data = dict[str, Any]
ISO = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d)?\S*)?$")   # what moment() reads
TZ: _dt.tzinfo = _dt.timezone(_dt.timedelta(hours=8))   # replaced by crm.yaml's timezone in main()


def load(path: str) -> Data:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def moment(value: Any) -> str:
    """An ISO time or date as ``YYYY-MM-DDTHH:MM:SS`` in the book's zone (a bare date: its first second);
    "" for nothing."""
    text = str(value or "")
    if not text:
        return ""
    if len(text) == 10:
        return f"{text}T00:00:00"
    when = _dt.datetime.fromisoformat(text)
    if when.tzinfo is not None:
        when = when.astimezone(TZ)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def day_of(value: Any) -> str:
    """The day of an ISO time or date in the book's zone, ``YYYY-MM-DD`` ("" for nothing)."""
    return moment(value)[:10]


def after(value: Any, day: str) -> bool:
    """Whether a moment is later than the end of ``day`` (nothing is never later)."""
    return bool(value) and day_of(value) > day


def own_day(kind: str, data: Data) -> str:
    """The day a record came to be: its ``created``, or an order's or a payment's ``date`` if that is later."""
    days = [day_of(data.get("created"))]
    if kind in ("orders", "payments"):
        days.append(day_of(data.get("date")))
    return max(days)


def events(kind: str, data: Any, top: bool = True) -> list[str]:
    """Every moment in a record at which something happened to it (``moment`` form), nested lists included."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                found += events(kind, value, False)
            elif not ISO.match(str(value)):
                continue   # the same key may mean something else (a quote's field digests)
            elif key in EVENT_KEYS or (key == "date" and kind in DATED_KINDS and (top or "version" in data)):
                found.append(moment(value))
    elif isinstance(data, list):
        for item in data:
            found += events(kind, item, False)
    return [m for m in found if m]


def kept(entries: Any, day: str) -> list[Any]:
    """The entries of a history list that happened by the end of ``day``."""
    return [e for e in entries or [] if not (isinstance(e, dict) and after(e.get("at"), day))]


def deal_on(final: Data, rid: str, day: str) -> Data:
    """The deal as it stood at the end of ``day``, from its own stage history and EDITS."""
    data = dict(final)
    moves = kept(final.get("stage_history"), day)
    if len(moves) < len(final.get("stage_history") or []):
        data["stage"] = final["stage_history"][len(moves)]["from"]  # where it was before its next move
        data["stage_history"] = moves
        if not moves:
            data.pop("stage_history")
        for closed in ("closed_on", "lost_reason"):
            data.pop(closed, None)
    for when, deal, field, before in EDITS:
        if deal == rid and when > day:
            data[field] = before
    return data


def history_on(final: Data, rid: str, day: str) -> Data:
    """A lead or an order at the end of ``day``: each later ``history`` event undone, newest first (UNDO)."""
    data = dict(final)
    history = list(final.get("history") or [])
    while history and after(history[-1].get("at"), day):
        event = history.pop()
        if event.get("event") not in UNDO:
            sys.exit(f"{rid}: history event {event.get('event')!r} at {event.get('at')}: demo_history.py cannot "
                     "undo it; add it to UNDO")
        field, restore = UNDO[event["event"]]
        if restore:
            data[field] = event.get("from")
        else:
            data.pop(field, None)
    if len(history) < len(final.get("history") or []):
        data["history"] = history
        if not history:
            data.pop("history")
        if "last_touched" in data:
            data["last_touched"] = max([final["created"], *(e["at"] for e in history)], key=moment)
    return data


def quote_event_status(source: str, action: str) -> QuoteStatus:
    """The status a quote's approvals or status_history entry left it in."""
    if source == "approvals":
        return {"approved": QuoteStatus.APPROVED, "submitted": QuoteStatus.PENDING_APPROVAL,
                "rejected": QuoteStatus.REJECTED}[action]
    return {"sent": QuoteStatus.SENT, "accepted": QuoteStatus.ACCEPTED, "declined": QuoteStatus.DECLINED,
            "revised": QuoteStatus.DRAFT}[action]


def approval_after(entries: list[Data], data: Data) -> Data | None:
    """The ``approval`` map the last of a version's ``approvals`` entries wrote (as submit/approve write it)."""
    from crmctl.cpq import policy

    if not entries:
        return None
    last = entries[-1]
    asked = next((e for e in reversed(entries) if e.get("action") == "submitted"), None)
    common = {"hash": last.get("hash"), "fields": policy.field_digests(data)}
    if last["action"] == "submitted":
        return policy.approval_record(status=ApprovalStatus.PENDING.value, required_role=last.get("needs"),
                                      requested_by=last.get("by"), requested_at=last.get("at"), **common)
    if last["action"] == "rejected":
        return {**(approval_after(entries[:-1], data) or {}), "status": ApprovalStatus.REJECTED.value,
                "by": last.get("by"), "at": last.get("at"), "reason": last.get("reason")}
    extra = {"requested_by": asked.get("by")} if asked else {"auto": True}
    return policy.approval_record(status=ApprovalStatus.APPROVED.value,
                                  required_role=asked.get("needs") if asked else last.get("role"),
                                  by=last.get("by"), role=last.get("role"), at=last.get("at"), **common, **extra)


def quote_on(final: Data, rid: str, day: str) -> Data:
    """The quote at the end of ``day``: the version then current (``versions`` frozen at each revision), with
    the approvals and status moves made by then, and its status, approval and sent time as they left it."""
    from crmctl.cpq.quotes import FROZEN_ALL, QUOTE_WIDE

    history = final.get("status_history") or []
    approvals = final.get("approvals") or []
    if len(kept(history, day)) == len(history) and len(kept(approvals, day)) == len(approvals):
        return dict(final)
    data = dict(final)
    versions = list(final.get("versions") or [])
    revisions = [e for e in kept(history, day) if e.get("action") == "revised"]
    if len(revisions) < len(versions):   # an earlier version was current then
        frozen = versions[len(revisions)]
        base = {k: final[k] for k in QUOTE_WIDE if k in final} if frozen.get("frozen") == FROZEN_ALL else final
        data = {**base, **frozen}
        data.pop("frozen", None)
        data["versions"] = versions[:len(revisions)]
        if not data["versions"]:
            data.pop("versions")
    data["status_history"] = kept(history, day)
    data["approvals"] = kept(approvals, day)
    for key in ("status_history", "approvals"):
        if not data[key]:
            data.pop(key)
    # at one moment a revision comes first, then its approval, then its sending (as the commands run)
    moves = sorted([(moment(e["at"]), 1, i, quote_event_status("approvals", e["action"]))
                    for i, e in enumerate(data.get("approvals") or [])]
                   + [(moment(e["at"]), 0 if e["action"] == "revised" else 2, i,
                       quote_event_status("status_history", e["action"]))
                      for i, e in enumerate(data.get("status_history") or [])])
    status = moves[-1][3] if moves else QuoteStatus.DRAFT
    data["status"] = status.value
    since = moment(revisions[-1]["at"]) if revisions else ""
    ours = [e for e in data.get("approvals") or [] if moment(e["at"]) >= since]
    approval = approval_after(ours, data)
    if approval is None:
        data.pop("approval", None)
    elif (data.get("approval") or {}).get("at") != approval.get("at") or \
            (data.get("approval") or {}).get("status") != approval.get("status"):
        data["approval"] = approval
    if after(data.get("sent_at"), day) or status in (QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL,
                                                       QuoteStatus.APPROVED, QuoteStatus.REJECTED):
        for key in ("sent_at", "as_sent"):
            data.pop(key, None)
    if status != QuoteStatus.ACCEPTED:
        data.pop("order", None)
    if status != QuoteStatus.DECLINED:
        data.pop("decline_reason", None)
    return data


def visit_on(final: Data, rid: str, day: str) -> Data:
    """The visit at the end of ``day``: planned until its check-in (or cancellation), in progress until its
    check-out, its steps, next steps done and coaching as far as they had come."""
    data = dict(final)
    if after((final.get("cancelled") or {}).get("at"), day):
        data.pop("cancelled")
        data["status"] = VisitStatus.PLANNED.value
    if after((final.get("checkin") or {}).get("at"), day):
        data.pop("checkin")
        data["status"] = VisitStatus.PLANNED.value
    if after((final.get("checkout") or {}).get("at"), day):
        for key in ("checkout", "completed", "outcome", "next_steps"):
            data.pop(key, None)
        if "checkin" in data:
            data["status"] = VisitStatus.IN_PROGRESS.value
    for key in ("steps", "coaching"):
        if key in data:
            data[key] = kept(final[key], day)
            if not data[key]:
                data.pop(key)
    if data.get("next_steps"):
        data["next_steps"] = [{k: v for k, v in {**step, "done": False}.items() if k != "done_at"}
                              if after(step.get("done_at"), day) else step for step in data["next_steps"]]
    return data


# a kind -> the record at the end of a day on or after it came to be
REPLAY: dict[str, Callable[[Data, str, str], Data]] = {
    "opportunities": deal_on, "leads": history_on, "orders": history_on, "quotes": quote_on, "visits": visit_on}


def state_on(kind: str, final: Data, rid: str, day: str) -> Data | None:
    """The record as it stood at the end of ``day`` (None: it did not exist yet)."""
    if own_day(kind, final) > day:
        return None
    replay = REPLAY.get(kind)
    return replay(final, rid, day) if replay else dict(final)


Book = dict[tuple[str, str], Data]   # (kind, id) -> the record as it is in this repository


def write_book(book: str, records: Book, day: str) -> list[tuple[str, str]]:
    """Write every record as of ``day`` (as it is in this repository, byte for byte, once it has reached its
    final state); the (kind, id) of those that changed since the last write."""
    changed = []
    for (kind, rid), final in sorted(records.items()):
        path = os.path.join(book, "records", kind, f"{rid}.yaml")
        state = state_on(kind, final, rid, day)
        if state is None:
            text = None
        elif state == final:
            with open(os.path.join(ROOT, "records", kind, f"{rid}.yaml"), encoding="utf-8") as handle:
                text = handle.read()
        else:
            text = yaml.safe_dump(state, allow_unicode=True, sort_keys=False)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                old = handle.read()
        if text != old:
            changed.append((kind, rid))
            if text is None:
                os.unlink(path)
            else:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    return changed


def event_days(records: Book) -> dict[str, str]:
    """Every day after START on which a record appeared, changed or was edited -> its commit time (``HOUR``,
    or the day's last event if later), ``YYYY-MM-DDTHH:MM:SS`` in the book's zone."""
    times: dict[str, str] = {}
    moments = [m for (kind, _), data in records.items() for m in events(kind, data)]
    moments += [f"{kind_day}T00:00:00" for kind_day in (e[0] for e in EDITS)]
    moments += [f"{own_day(kind, data)}T00:00:00" for (kind, _), data in records.items() if own_day(kind, data)]
    for when in moments:
        day = when[:10]
        if day > START:
            times[day] = max(times.get(day, f"{day}T{HOUR}"), when)
    return dict(sorted(times.items()))


def commit(book: str, when: str, message: str, author: tuple[str, str]) -> None:
    """Commit everything at ``when`` (``YYYY-MM-DDTHH:MM:SS`` in the book's zone)."""
    stamp = _dt.datetime.fromisoformat(when).replace(tzinfo=TZ).isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": author[0],
           "GIT_AUTHOR_EMAIL": author[1], "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1]}
    subprocess.run(["git", "-C", book, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", book, "commit", "-q", "--allow-empty", "-m", message], check=True, env=env)


SINGULAR = {"opportunities": "deal", "leads": "lead", "orders": "order", "payments": "payment", "quotes": "quote",
            "visits": "visit"}


def describe(kind: str, data: Data) -> str:
    """A record as a commit message names it."""
    name = data.get("name") or data.get("title") or data.get("number") or data.get("account") or ""
    return f"{SINGULAR.get(kind, kind)} {name}".strip()


def main(book: str) -> None:
    global TZ
    if os.path.exists(book) and os.listdir(book):
        sys.exit(f"{book}: not empty; give a new folder")
    os.makedirs(book, exist_ok=True)
    for name in ("crm.yaml", "records", "templates"):
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(book, name))
        elif os.path.exists(source):
            shutil.copy2(source, os.path.join(book, name))
    TZ = parse_timezone(str(load(os.path.join(book, "crm.yaml")).get("timezone") or "+00:00"))
    subprocess.run(["git", "-C", book, "init", "-q"], check=True)
    folder = os.path.join(book, "records")
    records: Book = {(kind, name[:-5]): load(os.path.join(folder, kind, name))
                     for kind in sorted(os.listdir(folder)) if os.path.isdir(os.path.join(folder, kind))
                     for name in sorted(os.listdir(os.path.join(folder, kind))) if name.endswith(".yaml")}
    users = {rid: data for (kind, rid), data in records.items() if kind == "users"}

    def who(kind: str, data: Data) -> tuple[str, str]:
        user = users.get(str(data.get("owner") or data.get("rep") or data.get("by") or ""), {})
        return str(user.get("name_en") or user.get("name") or "Demo"), str(user.get("email") or "demo@example.com")

    chen = ("Chen Jing", "chen.jing@hdpm.example.cn")
    write_book(book, records, START)
    commit(book, f"{START}T{HOUR}", f"the book as of {START}", chen)
    days = event_days(records)
    last = max([END, *days])
    for day, when in days.items():
        if day >= last:
            break
        changed = write_book(book, records, day)
        if changed:
            names = ", ".join(describe(kind, records[kind, rid]) for kind, rid in changed[:4])
            more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
            commit(book, when, f"{names}{more}", who(*changed[0][:1], records[changed[0]]))
    shutil.rmtree(folder)
    shutil.copytree(os.path.join(ROOT, "records"), folder)  # the demo book exactly
    commit(book, days.get(last, f"{last}T{HOUR}"), "the demo book as it is", chen)
    count = subprocess.run(["git", "-C", book, "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
    print(f"{book}: the demo book with {count} commits from {START} to {last}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):   # an option is never a folder name (`--help` made one)
        sys.exit(__doc__.split("\n\n")[1])
    main(sys.argv[1])
