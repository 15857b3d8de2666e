"""A rep's agenda: planned visits and open follow-ups (next steps) by day, for `visit list` and `visit agenda`."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

from crmctl.core.book import Book, Record
from crmctl.core.states import visit_is_cancelled, visit_status
from crmctl.sfe.visits import open_followups
from crmctl.sfe.when import Window


VIEW = "agenda1"  # the name of the view below; change it when ``agenda_data`` changes
_KEPT = ("account", "rep", "with", "type", "status", "date", "time", "purpose")
_KEPT_STEPS = ("text", "due", "done", "owner")


def agenda_data(data: dict[str, Any]) -> dict[str, Any]:
    """A visit with only what lists, agendas and plans read (no check-in, SOP steps or coaching)."""
    out = {k: data[k] for k in _KEPT if k in data}
    if data.get("next_steps"):
        out["next_steps"] = [{k: v for k, v in item.items() if k in _KEPT_STEPS} if isinstance(item, dict) else item
                             for item in data["next_steps"]]
    return out


def light_visits(book: Book) -> list[Record]:
    """Every visit as :func:`agenda_data`, from its view: a rep's week need not read a year of whole visits."""
    return [Record("visits", rid, data) for rid, data in book.view("visits", VIEW, agenda_data).items()]


def visit_row(rec: Record, today: _dt.date) -> dict[str, Any]:
    """A visit as a list row; a planned visit whose day has passed shows as missed."""
    status = str(visit_status(rec, today))
    follow = open_followups(rec.data)
    return {"id": rec.id, "date": rec.get("date"), "time": rec.get("time", ""), "rep": rec.get("rep"),
            "account": rec.get("account"), "type": rec.get("type"), "status": status,
            "with": rec.get("with") or [], "purpose": rec.get("purpose", ""), "follow_ups": len(follow)}


def in_window(rec: Record, win: Window | None) -> bool:
    return win is None or win[0].isoformat() <= str(rec.get("date")) <= win[1].isoformat()


def followups(visits: Iterable[Record], today: _dt.date, rep: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
    """Every open follow-up as a row, with how many days it is overdue (one rep's, or one account's for its 360° view)."""
    rows = []
    for rec in visits:
        if visit_is_cancelled(rec) or (account and rec.get("account") != account):
            continue
        for n, item in open_followups(rec.data):
            owner = item.get("owner") or rec.get("rep")
            if rep and owner != rep:
                continue
            due = str(item.get("due") or "")
            late = (today - _dt.date.fromisoformat(due)).days if due else 0
            rows.append({"visit": rec.id, "n": n, "owner": owner, "account": rec.get("account"),
                         "text": item.get("text", ""), "due": due, "days_overdue": max(late, 0)})
    return sorted(rows, key=lambda r: (r["due"], r["visit"], r["n"]))


def agenda(visits: list[Record], rep: str | None, win: Window, today: _dt.date) -> list[dict[str, Any]]:
    """Visits in the window plus follow-ups due in it or overdue, sorted by day."""
    rows: list[dict[str, Any]] = []
    end = win[1].isoformat()
    for rec in visits:
        if (rep is None or rec.get("rep") == rep) and in_window(rec, win) and not visit_is_cancelled(rec):
            row = visit_row(rec, today)
            rows.append({"date": row["date"], "time": row["time"], "rep": row["rep"], "kind": "visit",
                         "account": row["account"], "what": row["purpose"] or row["type"], "ref": rec.id,
                         "status": row["status"]})
    for f in followups(visits, today, rep):
        if f["due"] and f["due"] <= end and (f["due"] >= win[0].isoformat() or f["days_overdue"] > 0):
            rows.append({"date": f["due"], "time": "", "rep": f["owner"], "kind": "follow-up", "account": f["account"],
                         "what": f["text"], "ref": f"{f['visit']} {f['n']}",
                         "status": f"overdue {f['days_overdue']}d" if f["days_overdue"] else "open"})
    return sorted(rows, key=lambda r: (str(r["rep"]), r["date"], r["time"] or "99", r["kind"]))
