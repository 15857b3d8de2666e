"""``crmctl visit``: plan visits by cadence, do them (check-in, SOP steps, log), check them (coach), export a calendar."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import (App, done, dry_run_option, emit_record, emit_rows, emit_section, list_options, output_option, pass_app,
                             record_fields, with_problems)
from crmctl.cli.records import record_group
from crmctl.core.book import Record, now_iso, today
from crmctl.core.limits import read
from crmctl.core.errors import NotFound, ValidationError
from crmctl.core.states import VISIT_OPEN
from crmctl.sfe import agenda as agenda_mod
from crmctl.sfe import sop, visits
from crmctl.sfe.plan import plan as make_plan
from crmctl.sfe.team import companion, companions_rule, require_user
from crmctl.sfe.when import moment, now_local, parse_clock, parse_date, window

def _edit_rule(book: Any, vid: str, data: dict[str, Any]) -> None:
    for warning in companions_rule(book, vid, data):
        click.echo(f"warning: {warning}", err=True)
    old = book.records("visits").get(vid)
    moved = visits.change_date(old.data if old else None, data, vid, book.settings, by=None, at=now_iso(book.settings))
    if "rescheduled" in moved:
        data["rescheduled"] = moved["rescheduled"]


cli = record_group("visits", "Visit plans, check-ins, SOP steps and coaching (SFE).", rule=_edit_rule)
cli.name = "visit"
PLAN_COLUMNS = ("id", "date", "rep", "account", "due", "cadence", "moves", "was")
LIST_COLUMNS = ("id", "date", "time", "rep", "account", "type", "status", "with", "follow_ups")


def window_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--to", "end", metavar="D", help="Last day (YYYY-MM-DD; default: a week from --from).")(func)
    func = click.option("--from", "start", metavar="D", help="First day (YYYY-MM-DD).")(func)
    return click.option("--week", metavar="YYYY-Www", help="An ISO week, e.g. 2026-W49.")(func)


def _change(app: App, ref: str, verb: str, change: Callable[[Record, str, str | None], dict[str, Any]],
            said: Callable[[dict[str, Any]], str] | None = None) -> Record:
    """Load a visit inside a transaction, apply ``change(visit, now, actor)`` and write it."""
    with app.transaction(f"visit {verb}") as tx:
        rec = app.book.get("visits", ref)
        data = change(rec, now_iso(app.book.settings), app.actor_id)
        tx.message = f"visit {verb}: {rec.id} ({rec.get('account')}, {rec.get('date')})"
        tx.put("visits", rec.id, data)
    done(f"visit {rec.id}: {said(data) if said else verb}", tx)
    return rec


@cli.command("plan")
@click.option("--rep", metavar="USER", help="Plan for this rep only (default: every account owner).")
@window_options
@click.option("--yes", "long_ok", is_flag=True,
              help="Plan a window longer than visits.plan_max_days (default 92, a quarter).")
@dry_run_option
@output_option
@pass_app
def plan_cmd(app: App, rep: str | None, week: str | None, start: str | None, end: str | None, long_ok: bool,
             dry_run: bool, fmt: str) -> None:
    """Create the planned visits the cadence asks for in a week or window (default: this week).

    An account is due a cadence after its last visit done or still planned;
    visits go to working days (holidays and adjusted working days from the
    book's calendar), spread over each rep's week; a missed visit is
    rescheduled rather than duplicated. Planning week by week, in any order,
    gives the same visits as one plan of the month, and running it again adds
    nothing. A window longer than visits.plan_max_days (92) needs --yes.
    """
    book = app.book
    now = today(book.settings)
    win = window(week, start, end, now)
    if win[1] < now:  # nothing can be planned on a day gone by: say so rather than "planned 0 visits"
        said = f"--week {week}" if week else f"--from/--to {win[0]}..{win[1]}"
        raise ValidationError(f"{said} ended on {win[1]}, before today ({now}); plan this week or a later one")
    longest = int(read(book.settings, "visits.plan_max_days", 92))
    length = (win[1] - win[0]).days + 1
    if length > longest and not (long_ok or dry_run):
        raise ValidationError(f"--from {win[0]} --to {win[1]} is {length} days, more than a plan covers "
                              f"(visits.plan_max_days: {longest}); plan a shorter window, see it with --dry-run, "
                              "or pass --yes to write it all")
    with app.transaction("visit plan") as tx:
        rep_id = require_user(book, rep) if rep else None
        result = make_plan(book, win, rep_id, now)
        planned = result.visits
        created = now_iso(book.settings)
        vtype = str(book.settings.get("visits.cadence.default_type", "onsite"))
        tx.batch = True
        rows = []
        for p in planned:
            if p.moves:  # a missed visit, rescheduled
                vid = p.moves
                old = book.get("visits", vid)
                data = visits.reschedule(old.data, vid, p.date, book.settings, by=app.actor_id, at=created, reason="missed")
            else:
                vid = book.new_id("visits")
                data = visits.new_visit(p.account, p.rep, p.date, vtype, book.settings, source="cadence", created=created)
            tx.put("visits", vid, data)
            rows.append({"id": None if dry_run and not p.moves else vid, **vars(p)})
        who = f" for {rep_id}" if rep_id else ""
        moved = sum(1 for p in planned if p.moves)
        tail = f" ({moved} of them missed visits rescheduled)" if moved else ""
        tx.message = f"visit plan: {len(planned)} visits {win[0]}..{win[1]}{who}{tail}"
        if dry_run:
            tx.pending.clear()
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    if fmt == "table":
        # people read the plan per rep and day; scripts get every visit (--format json/csv/yaml)
        emit_rows(plan_summary(planned), fmt, ("date", "rep", "visits", "accounts"))
    else:
        emit_rows(rows, fmt, PLAN_COLUMNS)
    verb = "would plan" if dry_run else "planned"
    done(f"{verb} {len(planned)} visits {win[0]}..{win[1]}{who}{tail}", None if dry_run else tx)


def plan_summary(planned: list[Any]) -> list[dict[str, Any]]:
    """The planned visits grouped by day and rep."""
    groups: dict[tuple[str, str], list[str]] = {}
    for p in planned:
        groups.setdefault((p.date, p.rep), []).append(f"{p.account} (from {p.was})" if p.moves else p.account)
    return [{"date": d, "rep": r, "visits": len(a), "accounts": ", ".join(a[:4]) + (f" (+{len(a) - 4})" if len(a) > 4 else "")}
            for (d, r), a in sorted(groups.items())]


@cli.command("add")
@click.option("--account", required=True, metavar="ACCOUNT", help="The account to visit.")
@click.option("--rep", metavar="USER", help="Who visits (default: the account's owner).")
@click.option("--date", "day", required=True, metavar="D", help="Planned date (YYYY-MM-DD).")
@click.option("--time", "clock", metavar="HH:MM", help="Planned time.")
@click.option("--type", "vtype", metavar="TYPE", help="Visit type from crm.yaml (default: the cadence's).")
@click.option("--with", "with_", multiple=True, metavar="MANAGER", help="A manager on the visit (陪访); repeatable.")
@click.option("--purpose", metavar="TEXT", help="What the visit is for.")
@dry_run_option
@pass_app
def add_cmd(app: App, account: str, rep: str | None, day: str, clock: str | None, vtype: str | None,
            with_: tuple[str, ...], purpose: str | None, dry_run: bool) -> None:
    """Plan a one-off visit; --with MANAGER makes it an accompanied visit (陪访). Prints the new id."""
    book = app.book
    with app.transaction("visit add") as tx:
        acc = book.get("accounts", account)
        rep_id = require_user(book, rep) if rep else acc.get("owner") or app.actor_id
        if not rep_id:
            raise NotFound(f"account {acc.id} has no owner; pass --rep USER")
        companions = []
        for ref in with_:
            uid, warning = companion(book, rep_id, ref)
            if warning:
                click.echo(f"warning: {warning}", err=True)
            companions.append(uid)
        data = visits.new_visit(acc.id, rep_id, parse_date(day, "--date").isoformat(),
                                vtype or str(book.settings.get("visits.cadence.default_type", "onsite")), book.settings,
                                time=parse_clock(clock) if clock else None, with_=companions, purpose=purpose,
                                created=now_iso(book.settings))
        vid = book.new_id("visits")
        tx.message = f"visit add: {vid} ({acc.id}, {data['date']}, {rep_id}{' with ' + ', '.join(companions) if companions else ''})"
        if dry_run:
            tx.pending.clear()
            done(f"would add visit {vid}: {acc.id} on {data['date']}")
            return
        tx.put("visits", vid, data)
    click.echo(vid)
    done(f"added visit {vid}", tx)


def _account(app: App, rec: Record) -> dict[str, Any]:
    found = app.book.lookup("accounts", rec.get("account"))
    return found.data if found else {}


def place_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--at`` and ``--time`` of check-in and check-out."""
    func = click.option("--time", "clock", metavar="T",
                        help="HH:MM today (a check-out: the first HH:MM after the check-in), or YYYY-MM-DDTHH:MM "
                             "for another day (default: now).")(func)
    return click.option("--at", "coords", metavar="LAT,LON", help="Where you are, in decimal degrees.")(func)


@cli.command("checkin")
@click.argument("ref", metavar="ID")
@place_options
@pass_app
def checkin_cmd(app: App, ref: str, coords: str | None, clock: str | None) -> None:
    """Check in: time, place and distance from the account (warns beyond visits.checkin_radius_m)."""
    _do_place(app, ref, coords, clock, visits.checkin, "checkin")


@cli.command("checkout")
@click.argument("ref", metavar="ID")
@place_options
@pass_app
def checkout_cmd(app: App, ref: str, coords: str | None, clock: str | None) -> None:
    """Check out: time, place and the visit's duration."""
    _do_place(app, ref, coords, clock, visits.checkout, "checkout")


def _do_place(app: App, ref: str, coords: str | None, clock: str | None, fn: Callable[..., tuple[dict[str, Any], list[str]]],
              verb: str) -> None:
    """Check in or out (``fn``) at the real time, then say where and how long, and warn when far or entered late."""
    warnings: list[str] = []

    def change(rec: Record, _now: str, actor: str | None) -> dict[str, Any]:
        settings = app.book.settings
        now = now_local(settings)
        started = (rec.get("checkin") or {}).get("at") if verb == "checkout" else None
        at = moment(clock, now, _dt.datetime.fromisoformat(str(started)) if started else None)
        data, said_warnings = fn(rec.data, rec.id, _account(app, rec), settings, at=at, now=now, coords=coords, by=actor)
        warnings.extend(said_warnings)
        return data

    def said(data: dict[str, Any]) -> str:
        place = data.get(verb) or {}
        dist = f", {place['distance_m']} m from the account" if "distance_m" in place else ""
        dur = f", {place['duration_min']} min on site" if "duration_min" in place else ""
        stamp = str(place.get("at"))
        return f"{'checked in' if verb == 'checkin' else 'checked out'} at {stamp[11:16]}" \
               f"{'' if stamp[:10] == str(data.get('date')) else ' on ' + stamp[:10]}{dist}{dur}"

    rec = _change(app, ref, verb, change, said)
    for warning in warnings:
        click.echo(f"warning: visit {rec.id}: {warning}", err=True)


@cli.command("step")
@click.argument("ref", metavar="ID")
@click.argument("step")
@click.option("--done", "is_done", is_flag=True, help="Tick the step.")
@click.option("--undo", is_flag=True, help="Reopen the step.")
@click.option("--note", metavar="TEXT", help="A remark on the step.")
@click.option("--value", metavar="V", help="The value a step needs (photo reference, competitor info, order taken).")
@pass_app
def step_cmd(app: App, ref: str, step: str, is_done: bool, undo: bool, note: str | None, value: str | None) -> None:
    """Tick (--done) or reopen (--undo) a step of the visit type's SOP."""
    if is_done == undo:
        raise click.UsageError("give exactly one of --done or --undo")

    def change(rec: Record, now: str, actor: str | None) -> dict[str, Any]:
        visits.require_status(rec.data, rec.id, VISIT_OPEN, f"change step {step}")
        return sop.tick(rec.data, app.book.settings, step, by=actor or rec.get("rep"), at=now, note=note, value=value, done=is_done)

    _change(app, ref, f"step {step} {'done' if is_done else 'reopened'}", change)


@cli.command("log")
@click.argument("ref", metavar="ID")
@click.option("--outcome", metavar="TEXT", help="What came of the visit.")
@click.option("--next-step", "next_steps", multiple=True, metavar="TEXT", help="A follow-up task; repeatable.")
@click.option("--due", "dues", multiple=True, metavar="D", help="Due date of the next step(s) (default: visits.follow_up_days later).")
@pass_app
def log_cmd(app: App, ref: str, outcome: str | None, next_steps: tuple[str, ...], dues: tuple[str, ...]) -> None:
    """Write up the visit: its outcome and next steps (follow-ups in the rep's agenda and the account's 360° view)."""
    _change(app, ref, "log", lambda rec, now, actor: visits.log(
        rec.data, rec.id, app.book.settings, outcome=outcome, next_steps=list(next_steps), dues=list(dues),
        by=actor or rec.get("rep"), at=now))


@cli.command("done")
@click.argument("ref", metavar="ID")
@pass_app
def done_cmd(app: App, ref: str) -> None:
    """Complete the visit (refused while a required SOP step is open)."""
    _change(app, ref, "done", lambda rec, now, actor: visits.complete(rec.data, rec.id, app.book.settings, at=now))


@cli.command("followup")
@click.argument("ref", metavar="ID")
@click.argument("number", metavar="N", type=int)
@click.option("--done", "is_done", is_flag=True, required=True, help="Close the follow-up.")
@pass_app
def followup_cmd(app: App, ref: str, number: int, is_done: bool) -> None:
    """Close follow-up N (1-based, as `visit show` numbers them) of a visit."""
    _change(app, ref, f"follow-up {number} done",
            lambda rec, now, actor: visits.close_followup(rec.data, rec.id, number, by=actor, at=now))


@cli.command("cancel")
@click.argument("ref", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why the visit is cancelled.")
@pass_app
def cancel_cmd(app: App, ref: str, reason: str) -> None:
    """Cancel a planned visit, with the reason."""
    _change(app, ref, "cancel", lambda rec, now, actor: visits.cancel(rec.data, rec.id, reason, by=actor, at=now))


@cli.command("coach")
@click.argument("ref", metavar="ID")
@click.option("--score", "scores", multiple=True, metavar="STEP=1..5", help="A score for an SOP step; repeatable.")
@click.option("--comment", metavar="TEXT", help="Coaching notes for the rep.")
@pass_app
def coach_cmd(app: App, ref: str, scores: tuple[str, ...], comment: str | None) -> None:
    """Coach an accompanied visit: only a manager listed in the visit's `with` may (use --as)."""
    actor = app.require_actor("coaching").id
    _change(app, ref, f"coach by {actor}", lambda rec, now, _a: visits.coach(
        rec.data, rec.id, app.book.settings, by=actor, at=now, scores=list(scores), comment=comment))


@cli.command("list")
@click.option("--rep", metavar="USER", help="Only this rep's visits.")
@window_options
@click.option("--status", metavar="S", help="planned, in_progress, completed, cancelled or missed.")
@list_options
@output_option
@as_of_option
@pass_app
@with_problems
def list_cmd(app: App, rep: str | None, week: str | None, start: str | None, end: str | None, status: str | None,
             where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """Visits as an agenda per rep by day (filter by --rep, --week or --from/--to, --status)."""
    book = app.book
    now = today(book.settings)
    win = window(week, start, end, now) if (week or start or end) else None
    rep_id = require_user(book, rep) if rep else None
    rows = [agenda_mod.visit_row(rec, now) for rec in agenda_mod.light_visits(book)
            if (rep_id is None or rec.get("rep") == rep_id) and agenda_mod.in_window(rec, win)]
    if status:
        rows = [r for r in rows if r["status"] == status]
    emit_rows(rows, fmt, LIST_COLUMNS, where, sort or ("rep", "date", "time"), limit, record_fields(app, "visits"))


@cli.command("agenda")
@click.option("--rep", metavar="USER", help="Whose agenda (default: you, from --as; else everyone).")
@window_options
@output_option
@pass_app
@with_problems
def agenda_cmd(app: App, rep: str | None, week: str | None, start: str | None, end: str | None, fmt: str) -> None:
    """A rep's agenda: visits and follow-ups due in the window (default: this week), plus overdue follow-ups."""
    book = app.book
    now = today(book.settings)
    rep_id = require_user(book, rep) if rep else app.actor_id if app.as_user else None
    rows = agenda_mod.agenda(agenda_mod.light_visits(book), rep_id, window(week, start, end, now), now)
    emit_rows(rows, fmt, ("date", "time", "rep", "kind", "account", "what", "ref", "status"))


@cli.command("show")
@click.argument("ref", metavar="ID")
@output_option
@as_of_option
@pass_app
@with_problems
def show_cmd(app: App, ref: str, fmt: str) -> None:
    """Show a visit: its SOP checklist (done/open), check-in/out, follow-ups and coaching."""
    book = app.book
    rec = book.get("visits", ref)
    checklist = sop.checklist(rec.data, book.settings)
    row = {**rec.row(), "status": agenda_mod.visit_row(rec, today(book.settings))["status"]}  # planned and past: missed
    if fmt != "table":
        emit_record({**row, "sop": checklist}, fmt)
        return
    head = {k: v for k, v in row.items() if k not in ("steps", "checkin", "checkout", "next_steps", "coaching")}
    emit_record(head, fmt)
    for label, key in (("check-in", "checkin"), ("check-out", "checkout")):
        place = rec.get(key) or {}
        if place:
            where = f" at {place['lat']},{place['lon']}" if "lat" in place else ""
            dist = f", {place['distance_m']} m from the account" if "distance_m" in place else ""
            dur = f", {place['duration_min']} min" if "duration_min" in place else ""
            click.echo(f"{label}: {place.get('at')}{where}{dist}{dur}{' (beyond the radius)' if place.get('far') else ''}")
    emit_section("SOP", checklist, ("n", "step", "name", "required", "status", "value", "note"))
    follow = [{"n": n, **f} for n, f in enumerate(rec.get("next_steps") or [], 1)]
    if follow:
        emit_section("follow-ups", follow, ("n", "text", "due", "done", "owner"))
    coaching = [{"by": c.get("by"), "at": c.get("at"), "scores": ", ".join(f"{k}={v}" for k, v in (c.get("scores") or {}).items()),
                 "comment": c.get("comment", "")} for c in rec.get("coaching") or []]
    if coaching:
        emit_section("coaching", coaching, ("by", "at", "scores", "comment"))


@cli.command("calendar")
@click.option("--rep", required=True, metavar="USER", help="Whose visits: a rep's own, and a manager's accompanied ones.")
@click.option("--out", "out", required=True, metavar="FILE.ics", help="The iCalendar file to write (folders are made).")
@window_options
@pass_app
def calendar_cmd(app: App, rep: str, out: str, week: str | None, start: str | None, end: str | None) -> None:
    """Write a user's visits as an iCalendar (.ics) file that phones and mail clients import.

    The user's own visits and those they accompany (陪访); cancelled visits stay in
    the file as cancelled, so a phone that imported them before removes them.
    """
    import os

    from crmctl.sfe.calendar import to_ics

    book = app.book
    user = require_user(book, rep)
    win = window(week, start, end, today(book.settings)) if (week or start or end) else None
    chosen = [rec for rec in book.all("visits") if (rec.get("rep") == user or user in (rec.get("with") or []))
              and agenda_mod.in_window(rec, win)]
    where = f" {win[0]}..{win[1]}" if win else ""
    if not chosen:
        done(f"no visits for {user}{where}; nothing written to {out}")
        return
    data, warnings = to_ics(book, sorted(chosen, key=lambda r: (str(r.get("date")), str(r.get("time") or ""), r.id)), user,
                            now_local(book.settings))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    with open(out, "wb") as handle:
        handle.write(data)
    done(f"wrote {len(chosen)} visits to {out}")
