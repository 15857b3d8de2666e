"""``crmctl lead``: leads and the lead pool (公海) — L2C.

add/list/show/edit come from the schema (record_group); the verbs below
each call one function of :mod:`crmctl.l2c.leads` inside a transaction.
"""
from __future__ import annotations

from typing import Any, Callable

import click

from crmctl.cli.base import App, done, dry_run_option, emit_rows, output_option, pass_app
from crmctl.cli.history_show import history_show
from crmctl.cli.import_ import import_command
from crmctl.cli.records import record_group
from crmctl.core.book import Book, now_iso
from crmctl.core.errors import PolicyError
from crmctl.core.schemas import get_schema
from crmctl.l2c import leads as L
from crmctl.core.states import LEAD_SET_BY_VERB, LeadStatus
from crmctl.l2c import pipeline


def _defaults(app: App) -> dict[str, Any]:
    ctx = click.get_current_context()
    pool = bool(ctx.params.get("pool"))
    now = now_iso(app.book.settings)
    out: dict[str, Any] = {"status": LeadStatus.NEW.value, "last_touched": now}
    if not pool and not ctx.params.get("owner") and app.actor_id:
        out["owner"] = app.actor_id
    return out


def _rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    """Keep converted leads read-only, status changes to the verbs that own them, and the history."""
    old = book.records("leads").get(rid)
    ctx = click.get_current_context()
    app = ctx.find_object(App)
    by = app.actor_id if app else None
    now = now_iso(book.settings)
    if old is None:  # add
        if ctx.params.get("pool"):
            if ctx.params.get("owner"):
                raise PolicyError("--pool puts the lead in the pool, --owner gives it to someone: choose one")
            data.pop("owner", None)
        if data.get("status") in LEAD_SET_BY_VERB:
            raise PolicyError(f"a new lead cannot start as {data['status']}")
        if data.get("owner"):
            L.check_cap(book.all("leads"), str(data["owner"]), book.settings)
        return
    L.ensure_editable(rid, old.data)
    if data.get("status") != old.get("status") and data.get("status") in LEAD_SET_BY_VERB:
        verb = "convert" if data["status"] == LeadStatus.CONVERTED else "disqualify --reason R"
        raise PolicyError(f"use `crmctl lead {verb} {rid}` to make a lead {data['status']}")
    if data.get("owner") != old.get("owner"):
        raise PolicyError(f"use `crmctl lead assign {rid} --to USER` (or claim/release) to change the owner")
    if data == old.data:
        return
    new = dict(data)
    if data.get("status") != old.get("status"):
        new = L.set_status({**data, "status": old.get("status")}, str(data["status"]), by, now)
    new = L.touch(new, now)
    data.clear()
    data.update(new)


cli = record_group("leads", "Leads and the lead pool (公海): claim, assign, qualify, convert (L2C).",
                   rule=_rule, defaults=_defaults, duplicates=True)
cli.name = "lead"
cli.commands["add"].params.append(click.Option(["--pool"], is_flag=True, help="Put the new lead in the pool (no owner)."))
cli.commands["add"].help = ("Add a lead: yours (the acting user), --owner U's, or in the pool with --pool "
                            "(also when crmctl does not know who you are). Prints the new id.")


def _change(app: App, ref: str, verb: str, change: Callable[[str, dict[str, Any]], dict[str, Any]], what: str) -> None:
    """Load a lead, apply ``change`` and write it, with one commit message."""
    with app.transaction(f"lead {verb}") as tx:
        rec = app.book.get("leads", ref)
        data = change(rec.id, rec.data)
        tx.message = f"lead {verb}: {rec.id} ({rec.get('name')}) {what}".rstrip()
        tx.put("leads", rec.id, data)
    done(f"lead {rec.id} ({rec.get('name')}): {what}", tx)


@cli.command("claim")
@click.argument("ref", metavar="ID")
@pass_app
def claim(app: App, ref: str) -> None:
    """Take a lead from the pool (counts against lead.pool.max_open_per_rep)."""
    me = app.require_actor("claiming a lead").id
    now = now_iso(app.book.settings)
    _change(app, ref, "claim", lambda rid, d: L.claim(rid, d, me, app.book.all("leads"), app.book.settings, now),
            f"claimed by {me}")


@cli.command("release")
@click.argument("ref", metavar="ID")
@pass_app
def release(app: App, ref: str) -> None:
    """Give a lead back to the pool."""
    now = now_iso(app.book.settings)
    _change(app, ref, "release", lambda rid, d: L.release(rid, d, app.actor_id, now), "back in the pool")


@cli.command("assign")
@click.argument("ref", metavar="ID")
@click.option("--to", "to", required=True, metavar="USER", help="The user who gets the lead.")
@pass_app
def assign(app: App, ref: str, to: str) -> None:
    """Give a lead (from the pool or from another rep) to USER."""
    user = app.book.get("users", to).id
    now = now_iso(app.book.settings)
    _change(app, ref, "assign", lambda rid, d: L.assign(rid, d, user, app.actor_id, app.book.all("leads"),
                                                         app.book.settings, now), f"assigned to {user}")


@cli.command("qualify")
@click.argument("ref", metavar="ID")
@pass_app
def qualify(app: App, ref: str) -> None:
    """Mark a lead qualified (ready to convert)."""
    now = now_iso(app.book.settings)
    _change(app, ref, "qualify", lambda rid, d: L.qualify(rid, d, app.actor_id, now), LeadStatus.QUALIFIED.value)


@cli.command("disqualify")
@click.argument("ref", metavar="ID")
@click.option("--reason", required=True, metavar="REASON", help="One of lead.disqualify_reasons in crm.yaml.")
@pass_app
def disqualify(app: App, ref: str, reason: str) -> None:
    """Mark a lead disqualified, with a reason from crm.yaml."""
    now = now_iso(app.book.settings)
    _change(app, ref, "disqualify", lambda rid, d: L.disqualify(rid, d, reason, app.actor_id, now, app.book.settings),
            f"disqualified ({reason})")


@cli.command("recycle")
@dry_run_option
@output_option
@pass_app
def recycle(app: App, dry_run: bool, fmt: str) -> None:
    """Send owned leads untouched for lead.pool.recycle_after_days back to the pool.

    Run it daily (cron or CI); --dry-run lists what it would recycle.
    """
    book = app.book
    with app.transaction("lead recycle") as tx:
        from crmctl.core.book import today

        now = now_iso(book.settings)
        found = L.recyclable(book.all("leads"), book.settings, today(book.settings))
        rows = [{"id": r.id, "name": r.get("name"), "owner": r.get("owner"),
                 "last_touched": str(r.get("last_touched") or r.get("created"))[:10]} for r in found]
        for rec in found:
            days = book.settings.get("lead.pool.recycle_after_days")
            tx.put("leads", rec.id, L.release(rec.id, rec.data, app.actor_id, now, note=f"recycled: untouched {days} days"))
        tx.message = f"lead recycle: {len(found)} lead(s) back to the pool"
        if dry_run:
            tx.pending.clear()
    emit_rows(rows, fmt, ("id", "name", "owner", "last_touched"))
    done(f"{'would recycle' if dry_run else 'recycled'} {len(found)} lead(s)", None if dry_run else tx)


@cli.command("convert")
@click.argument("ref", metavar="ID")
@click.option("--account", "account_ref", metavar="ACCOUNT", help="Link this existing account instead of creating one.")
@click.option("--new-account", "--allow-duplicate", "new_account", is_flag=True,
              help="Create a new account (and contact) even if one looks like a duplicate.")
@click.option("--account-id", metavar="SLUG", help="The new account's id (default: from the company name).")
@click.option("--opp/--no-opp", "make_opp", default=True, show_default=True, help="Also create an opportunity.")
@click.option("--opp-name", metavar="NAME", help="The opportunity's name (default: the company's).")
@click.option("--amount", metavar="MONEY", help="The opportunity's amount.")
@click.option("--close-date", metavar="DATE", help="The opportunity's expected close date (YYYY-MM-DD).")
@output_option
@pass_app
def convert(app: App, ref: str, account_ref: str | None, new_account: bool, account_id: str | None, make_opp: bool, opp_name: str | None,
            amount: str | None, close_date: str | None, fmt: str) -> None:
    """Turn a lead into an account (new or linked), a contact and optionally an opportunity.

    The lead keeps links to them under `converted:` and is read-only afterwards.
    """
    from crmctl.core.edit import apply_values
    from crmctl.mcr import dupes

    book = app.book
    wanted_id = account_id
    with app.transaction("lead convert") as tx:
        lead = book.get("leads", ref)
        now = now_iso(book.settings)
        account = book.get("accounts", account_ref) if account_ref else None
        acc_data, contact = L.conversion(lead.id, lead.data, account=account, new_account=new_account, settings=book.settings,
                                         duplicates=lambda data: dupes.matches(book, "accounts", data))
        if account is None:
            assert acc_data is not None
            account_id = book.new_slug("accounts", acc_data.get("name"), explicit=wanted_id)
            tx.put("accounts", account_id, {**acc_data, "created": now})
        else:
            account_id = account.id
        contact_id = book.new_id("contacts")
        for line in dupes.guard(book, "contacts", {**contact, "account": account_id}, allow=new_account):
            click.echo(f"warning: {line}", err=True)
        tx.put("contacts", contact_id, {**contact, "account": account_id, "created": now})
        links = {"account": account_id, "contact": contact_id}
        if make_opp:
            opp_id = book.new_id("opportunities")
            base = {"name": opp_name or f"{lead.get('company') or account_id} — {lead.get('name')}", "account": account_id,
                    "contacts": [contact_id], "owner": lead.get("owner") or app.actor_id,
                    "stage": pipeline.first_stage(book.settings), "currency": book.settings.currency,
                    "source": lead.get("source"), "lead": lead.id, "created": now}
            values = {"amount": amount, "close_date": close_date}
            opp = apply_values(book, get_schema("opportunities"), {k: v for k, v in base.items() if v}, values)
            tx.put("opportunities", opp_id, opp)
            links["opportunity"] = opp_id
        tx.put("leads", lead.id, L.mark_converted(lead.data, links, app.actor_id, now))
        tx.message = f"lead convert: {lead.id} ({lead.get('name')}) -> " + ", ".join(f"{k} {v}" for k, v in links.items())
    emit_rows([{"lead": lead.id, **links}], fmt, ("lead", "account", "contact", "opportunity"))
    done(f"converted lead {lead.id}: " + ", ".join(f"{k} {v}" for k, v in links.items()), tx)


cli.add_command(history_show("leads", "history", ("at", "by", "event", "from", "to", "reason", "note"), "lead"))

# `lead import FILE` is `import leads FILE`: one implementation, two spellings
cli.add_command(import_command("leads"))
