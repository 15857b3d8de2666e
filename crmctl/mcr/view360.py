"""The 360° view of an account: a list of small section functions.

Each section takes a :class:`View` (the account, its group of subsidiaries,
the shared index and the computed figures) and returns plain data: a mapping
whose scalar values are shown as ``key: value`` lines and whose lists of
mappings are shown as tables. ``--format json`` emits the same data.

Adding a section is one function::

    @section("contracts", "Contracts")
    def contracts(view: View) -> dict[str, Any]:
        return {"rows": [r.row() for r in view.related.of("contracts", view.ids)]}

Sections appear in the order they are defined; a section shows what exists
and an empty list when there is nothing, never an error.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Callable, Iterator

from crmctl.core import git
from crmctl.core.book import Book, Record
from crmctl.core.money import quantize, to_decimal
from crmctl.core.percent import round_half_up
from crmctl.core.states import order_is_cancelled, quote_is_open, quote_status
from crmctl.core.schema import custom_fields
from crmctl.l2c import orders as l2c_orders
from crmctl.mcr import figures as figs
from crmctl.mcr.figures import Context, Figures
from crmctl.mcr.related import AccountTree, IndexedRelated, Related

TIMELINE_LIMIT = 20
GIT_PATHS_LIMIT = 200  # a huge group's timeline reads git for its newest records only


@dataclass
class View:
    """What every section reads: computed once, shared by all of them."""

    ctx: Context
    account: Record
    timeline_limit: int = TIMELINE_LIMIT

    @property
    def book(self) -> Book:
        return self.ctx.book

    @property
    def related(self) -> AccountTree:
        return self.ctx.related

    @cached_property
    def ids(self) -> list[str]:
        return self.related.group(self.account.id)

    @cached_property
    def figures(self) -> Figures:
        return figs.compute(self.ctx, self.account, self.ids)

    def records(self, rtype: str) -> list[Record]:
        return self.related.of(rtype, self.ids)

    def name_of(self, rtype: str, rid: str | None) -> str | None:
        rec = self.related.record(rtype, rid) if rid else None
        return rec.name if rec else rid


Section = Callable[[View], dict[str, Any]]
SECTIONS: list[tuple[str, str, Section]] = []


def section(name: str, title: str) -> Callable[[Section], Section]:
    """Register a section of the 360° view under ``name`` (its JSON key) and ``title``."""
    def register(func: Section) -> Section:
        SECTIONS.append((name, title, func))
        return func
    return register


def build(book: Book, account_ref: str, related: AccountTree | None = None,
          timeline_limit: int = TIMELINE_LIMIT) -> dict[str, Any]:
    """The whole view: ``{"id": ..., section name: section data, ...}``.

    By default related records are found through the account index and read
    file by file, so the view costs the same on a book of any size; a book
    read as of a past day (``reads_files`` False) is read through the book.
    """
    ctx = Context.build(book, related or (IndexedRelated(book) if book.reads_files else Related(book)))
    view = View(ctx, ctx.related.find(account_ref), timeline_limit)
    out: dict[str, Any] = {"id": view.account.id, "name": view.account.name}
    for name, _, func in SECTIONS:
        out[name] = func(view)
    return out


def titles() -> dict[str, str]:
    return {name: title for name, title, _ in SECTIONS}


# ------------------------------------------------------------------ sections
PROFILE_FIELDS = ("name", "name_en", "short_name", "industry", "tier", "lifecycle", "owner", "team", "phone", "email",
                  "website", "tax_id", "address", "city", "country", "lat", "lon", "source", "tags")


@section("profile", "Profile")
def profile(view: View) -> dict[str, Any]:
    data = view.account.data
    out = {k: data[k] for k in PROFILE_FIELDS if data.get(k) not in (None, "", [])}
    if out.get("owner"):
        out["owner"] = f"{out['owner']} ({view.name_of('users', out['owner'])})"
    for name in custom_fields(view.book.settings, "accounts"):
        if name in data:
            out[name] = data[name]
    if data.get("addresses"):
        out["addresses"] = [dict(a) for a in data["addresses"]]
    return out


@section("key_figures", "Key figures")
def key_figures(view: View) -> dict[str, Any]:
    fig = view.figures
    return {
        "currency": view.ctx.currency,
        "lifetime_revenue": fig.revenue_lifetime,
        "open_pipeline": fig.open_pipeline,
        "days_since_last_touch": fig.days_since_touch,
        "last_touch": fig.last_touch,
        "health": fig.health,
        "health_parts": dict(fig.health_parts),
        "rolled_up_over": len(view.ids),
    }


@section("hierarchy", "Hierarchy")
def hierarchy(view: View) -> dict[str, Any]:
    rel = view.related
    parents = [{"id": a, "name": view.name_of("accounts", a)} for a in rel.ancestors(view.account.id)]
    rows = []
    for depth, aid in _tree(rel, view.account.id):
        rec = rel.account(aid)
        if rec is None:
            continue
        fig = figs.compute(view.ctx, rec)
        rows.append({"id": aid, "name": "  " * depth + rec.name, "tier": rec.get("tier"), "lifecycle": rec.get("lifecycle"),
                     "revenue_lifetime": fig.revenue_lifetime, "open_pipeline": fig.open_pipeline, "health": fig.health})
    return {"parents": parents, "subsidiaries": rows}


def _tree(rel: AccountTree, root: str, depth: int = 0, seen: set[str] | None = None) -> list[tuple[int, str]]:
    seen = seen if seen is not None else {root}
    out = []
    for kid in rel.children_of(root):
        if kid not in seen:
            seen.add(kid)
            out.append((depth, kid))
            out.extend(_tree(rel, kid, depth + 1, seen))
    return out


@section("contacts", "Contacts by role")
def contacts(view: View) -> dict[str, Any]:
    order = {r: i for i, r in enumerate(view.book.settings.values("contact.roles"))}
    people = sorted(view.records("contacts"), key=lambda c: (order.get(str(c.get("role")), 99), c.name))
    rows = [{"role": c.get("role"), "id": c.id, "name": c.name, "title": c.get("title"), "account": c.get("account"),
             "reports_to": view.name_of("contacts", c.get("reports_to")) if c.get("reports_to") else None,
             "channel": c.get("channel"), "reach": c.get("email") or c.get("mobile") or c.get("phone")} for c in people]
    roles = view.book.settings.values("contact.roles")
    present = {r["role"] for r in rows}
    return {"roles_missing": ", ".join(r for r in roles if r not in present) or None, "rows": rows}


@section("opportunities", "Open opportunities")
def opportunities(view: View) -> dict[str, Any]:
    fig = view.figures
    open_opps = sorted((o for o in view.records("opportunities") if figs.is_open(view.ctx, o)),
                       key=lambda o: (str(o.get("close_date") or "9999"), o.id))
    rows = [{"id": o.id, "name": o.name, "account": o.get("account"), "stage": o.get("stage"), "amount": o.get("amount"),
             "currency": o.get("currency") or view.ctx.currency, "close_date": o.get("close_date"), "owner": o.get("owner")}
            for o in open_opps]
    return {"count": fig.open_opportunities, "pipeline_value": fig.open_pipeline, "weighted": fig.weighted_pipeline,
            "rows": rows}


@section("quotes", "Quotes")
def quotes(view: View) -> dict[str, Any]:
    items = sorted(view.records("quotes"), key=lambda q: (str(q.get("date") or q.get("created") or ""), q.id), reverse=True)
    rows = [{"id": q.id, "number": q.get("number"), "version": q.get("version"), "status": str(quote_status(q, view.ctx.today)),
             "date": q.get("date"), "total": q.get("total"), "currency": q.get("currency"), "valid_until": q.get("valid_until")}
            for q in items]
    return {"open": sum(1 for q in items if quote_is_open(q, view.ctx.today)), "rows": rows}


@section("orders", "Orders and revenue")
def orders(view: View) -> dict[str, Any]:
    fig = view.figures
    items = sorted(view.records("orders"), key=lambda o: (str(o.get("date")), o.id), reverse=True)
    rows = [{"id": o.id, "number": o.get("number"), "account": o.get("account"), "date": o.get("date"),
             "total": o.get("total"), "currency": o.get("currency"), "status": _status(view, o)} for o in items]
    return {"currency": view.ctx.currency, "this_year": fig.revenue_this_year, "last_year": fig.revenue_last_year,
            "lifetime": fig.revenue_lifetime, "orders": fig.orders, "rows": rows}


def _status(view: View, order: Record) -> str:
    return l2c_orders.status(order, view.related.payments_of(order), view.ctx.today, view.ctx.grace_days)


@section("receivables", "Receivables")
def receivables(view: View) -> dict[str, Any]:
    fig = view.figures
    rows = []
    for o in sorted(view.records("orders"), key=lambda o: (str(o.get("date")), o.id)):
        if order_is_cancelled(o):
            continue
        pays = view.related.payments_of(o)
        left = l2c_orders.outstanding(o, pays)
        if left <= 0:
            continue
        cur = str(o.get("currency"))
        late = l2c_orders.overdue(o, pays, view.ctx.today, view.ctx.grace_days)
        rows.append({"number": o.get("number"), "date": o.get("date"), "currency": cur,
                     "total": quantize(to_decimal(o.get("total")), cur), "paid": quantize(l2c_orders.paid(o, pays), cur),
                     "outstanding": quantize(left, cur), "overdue": quantize(late, cur), "status": _status(view, o)})
    return {"currency": view.ctx.currency, "outstanding": fig.outstanding, "overdue": fig.overdue, "rows": rows}


@section("visits", "Visits")
def visits(view: View) -> dict[str, Any]:
    fig = view.figures
    due = None
    if fig.cadence_days and fig.last_visit:
        due = (_dt.date.fromisoformat(fig.last_visit) + _dt.timedelta(days=fig.cadence_days)).isoformat()
    expected = Decimal(figs.WINDOW_DAYS) / fig.cadence_days if fig.cadence_days else None
    if not fig.cadence_days:
        state = "no cadence"
    elif not fig.last_visit and not fig.next_visit:
        state = "never visited"
    elif fig.next_visit and (due is None or fig.next_visit <= due):
        state = "planned in time"
    elif due and due >= view.ctx.today.isoformat():
        state = "on track"
    else:
        state = "behind"
    follow = []
    for v in sorted(view.records("visits"), key=lambda v: (str(v.get("date")), v.id)):
        for step in v.get("next_steps") or []:
            if step.get("done") is not True:
                follow.append({"visit": v.id, "date": v.get("date"), "account": v.get("account"),
                               "text": step.get("text"), "due": step.get("due"), "owner": step.get("owner") or v.get("rep")})
    return {"last": fig.last_visit, "next": fig.next_visit, "done_last_90_days": fig.visits_90d,
            "cadence_days": fig.cadence_days,
            "expected_in_90_days": None if expected is None else round_half_up(expected, 1),
            "next_due": due, "cadence": state, "open_follow_ups": follow}


@section("timeline", "Timeline")
def timeline(view: View) -> dict[str, Any]:
    events = list(_record_events(view))
    events.extend(_git_events(view))
    events.sort(key=lambda e: (str(e["at"]), e["what"]), reverse=True)
    return {"rows": events[: view.timeline_limit]}


def _event(at: Any, what: str, record: str, by: Any = None) -> dict[str, Any]:
    return {"at": str(at or "")[:19].replace("T", " "), "what": what, "record": record, "by": by}


def _record_events(view: View) -> Iterator[dict[str, Any]]:
    group = [a for a in (view.related.account(i) for i in view.ids) if a is not None]
    for acc in group:
        for h in acc.get("history") or []:
            yield _event(h.get("at"), f"{h.get('action', 'change')}: {h.get('from') or '-'} -> {h.get('to') or '-'}",
                         f"accounts/{acc.id}", h.get("by"))
    for c in view.records("contacts"):
        for h in c.get("history") or []:
            yield _event(h.get("at"), f"contact {c.name} {h.get('action', 'moved')}: {h.get('from') or '-'} -> {h.get('to') or '-'}",
                         f"contacts/{c.id}", h.get("by"))
    for o in view.records("opportunities"):
        for h in o.get("stage_history") or []:
            yield _event(h.get("at"), f"opp {o.name}: {h.get('from')} -> {h.get('to')}", f"opportunities/{o.id}", h.get("by"))
    for q in view.records("quotes"):
        for key in ("approvals", "status_history"):
            for h in q.get(key) or []:
                what = h.get("decision") or h.get("to") or h.get("status") or key
                yield _event(h.get("at"), f"quote {q.get('number') or q.id}: {what}", f"quotes/{q.id}", h.get("by"))
    for o in view.records("orders"):
        yield _event(o.get("date"), f"order {o.get('number')}: {o.get('total')} {o.get('currency')}", f"orders/{o.id}", o.get("owner"))
    for p in view.records("payments"):
        yield _event(p.get("date"), f"payment {p.get('amount')} {p.get('currency')}", f"payments/{p.id}", p.get("by"))
    for v in view.records("visits"):
        yield _event(v.get("date"), f"visit ({v.get('type')}) {v.get('status')}: {v.get('purpose') or ''}".rstrip(": "),
                     f"visits/{v.id}", v.get("rep"))


def _git_events(view: View) -> list[dict[str, Any]]:
    root = view.book.git_root()
    if not root:
        return []
    paths = [f"records/accounts/{a}.yaml" for a in view.ids]
    for rtype in ("contacts", "opportunities", "quotes", "orders", "payments", "visits"):
        paths.extend(r.path for r in view.records(rtype))
    rel = [os.path.relpath(os.path.join(view.book.root, p), root) for p in paths[:GIT_PATHS_LIMIT]]
    return [_event(c["date"], f"git: {_short(c['message'])}", c["commit"], c["author"])
            for c in git.log(root, rel, view.timeline_limit, view.book.revision())]


def _short(text: str, width: int = 72) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
