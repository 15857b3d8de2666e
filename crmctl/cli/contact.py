"""``crmctl contact``: contacts, the buying committee, moves, consent, merges and vCards (MCR)."""
from __future__ import annotations

import click

from crmctl.cli.account import run_merge
from crmctl.cli.base import App, done, dry_run_option, emit_rows, output_option, pass_app
from crmctl.cli.records import record_group
from crmctl.core.book import now_iso
from crmctl.core.errors import CrmError
from crmctl.mcr.rules import contact_rule

cli = record_group("contacts", "Contacts: people at accounts and their role in the buying committee (MCR).", rule=contact_rule, duplicates=True)
cli.name = "contact"

YES_NO = click.Choice(["yes", "no"], case_sensitive=False)
CONSENT_CHANNELS = ("email", "phone", "wechat", "video", "visit")  # the default contact.channels; others: --set consent.X=true on edit


@cli.command("move")
@click.argument("ref", metavar="ID")
@click.option("--to", "account", required=True, metavar="ACCOUNT", help="The account the contact now works for.")
@dry_run_option
@pass_app
def move(app: App, ref: str, account: str, dry_run: bool) -> None:
    """Move a contact to another account; the move is kept in the contact's history."""
    from crmctl.mcr.contacts import moved

    with app.transaction("contact move") as tx:
        contact = app.book.get("contacts", ref)
        data = moved(app.book, contact, account, app.actor_id, now_iso(app.book.settings))
        contact_rule(app.book, contact.id, data)
        tx.message = f"contact move: {contact.id} ({contact.name}) {contact.get('account')} -> {data['account']}"
        if dry_run:
            tx.pending.clear()
            done(f"would move contact {contact.id} from {contact.get('account')} to {data['account']}")
            return
        tx.put("contacts", contact.id, data)
    done(f"moved contact {contact.id} from {contact.get('account')} to {data['account']}", tx)


def _consent_options(func: click.decorators.FC) -> click.decorators.FC:
    for channel in reversed(CONSENT_CHANNELS):
        func = click.option(f"--{channel}", channel, type=YES_NO, help=f"Consent to be contacted by {channel}.")(func)
    return func


@cli.command("consent")
@click.argument("ref", metavar="ID")
@_consent_options
@pass_app
def consent(app: App, ref: str, **channels: str | None) -> None:
    """Record consent per channel (--email yes --phone no ...); the change is kept in history."""
    from crmctl.mcr.contacts import with_consent

    changes = {k: v.lower() == "yes" for k, v in channels.items() if v is not None}
    with app.transaction("contact consent") as tx:
        contact = app.book.get("contacts", ref)
        data = with_consent(contact, changes, app.actor_id, now_iso(app.book.settings))
        contact_rule(app.book, contact.id, data)
        tx.message = f"contact consent: {contact.id} ({', '.join(f'{k}={v}' for k, v in changes.items())})"
        tx.put("contacts", contact.id, data)
    done(f"consent of contact {contact.id}: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in data["consent"].items()), tx)


@cli.command("merge")
@click.argument("survivor", metavar="A")
@click.argument("merged", metavar="B")
@dry_run_option
@output_option
@pass_app
def merge(app: App, survivor: str, merged: str, dry_run: bool, fmt: str) -> None:
    """Merge contact B into A: every reference moves to A, B becomes a redirect (one commit)."""
    run_merge(app, "contacts", survivor, merged, dry_run, fmt)


@cli.command("import-vcf")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--account", metavar="ACCOUNT", help="Account for cards whose ORG matches none.")
@dry_run_option
@output_option
@pass_app
def import_vcf(app: App, path: str, account: str | None, dry_run: bool, fmt: str) -> None:
    """Import contacts from a vCard file (2.1, 3.0 or 4.0; all or nothing).

    A card whose UID came in before updates that contact; a card whose email or
    phone is already a contact's is skipped; what a card carries that crmctl
    does not keep is listed under not_kept.
    """
    from crmctl.io.vcard import read_vcards
    from crmctl.mcr.contacts import from_vcards

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CrmError(f"{path}: cannot read it ({exc})") from None
    try:
        cards = read_vcards(text, app.book.settings.values("contact.roles"))
    except CrmError as exc:
        raise CrmError(f"{path}: {exc}") from None
    if not cards:
        raise CrmError(f"{path}: no vCards in it (BEGIN:VCARD ... END:VCARD)")
    with app.transaction(f"contact import-vcf: {path}") as tx:
        results = from_vcards(app.book, cards, account, now_iso(app.book.settings), app.actor_id)
        counts = {op: sum(r.op == op for r in results) for op in ("add", "update", "unchanged", "skip")}
        tx.message = (f"contact import-vcf: {counts['add']} added, {counts['update']} updated "
                      f"from {path.rsplit('/', 1)[-1]}")
        if dry_run:
            tx.pending.clear()
        else:
            tx.batch = counts["add"] > 50
            for result in results:
                if result.op in ("add", "update"):
                    tx.put("contacts", result.id, result.data)
    emit_rows([r.row(dry_run) for r in results], fmt, ("card", "id", "name", "account", "result", "not_kept"))
    not_kept = sum(1 for r in results if r.not_kept)
    verb = "would import" if dry_run else "imported"
    done(f"{verb} {counts['add']} new, {counts['update']} updated, {counts['unchanged']} unchanged, "
         f"skipped {counts['skip']} contact(s)" + (f"; {not_kept} card(s) carry fields not kept (see not_kept)" if not_kept else "")
         + ("; nothing written" if dry_run else ""), None if dry_run else tx)


@cli.command("export-vcf")
@click.option("--account", metavar="ACCOUNT", help="Only this account's contacts.")
@click.option("--out", "out", metavar="FILE", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
@pass_app
def export_vcf(app: App, account: str | None, out: str | None) -> None:
    """Export contacts as vCard 3.0 (ORG = account name, UID = the card's own UID or the contact id)."""
    from crmctl.io.vcard import write_vcards

    book = app.book
    wanted = book.get("accounts", account).id if account else None
    people = sorted((c for c in book.live("contacts").values() if (wanted is None or c.get("account") == wanted)),
                    key=lambda c: c.id)
    contacts = book.records("contacts")

    def uid_of(rid: str) -> str:
        rec = contacts.get(rid)
        return str(rec.get("uid") or rid) if rec is not None else rid

    text = write_vcards(people, book.records("accounts"), uid_of)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        done(f"wrote {len(people)} contact(s) to {out}")
    else:
        click.echo(text, nl=False)
