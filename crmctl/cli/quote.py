"""``crmctl quote``: versioned, priced quotes — lines, approvals, sending, accepting, PDFs (CPQ).

Each verb is one domain call from :mod:`crmctl.cpq.quotes` inside a
transaction; rendering (:mod:`crmctl.cpq.document`) reads only.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import (App, done, dry_run_option, emit_rows, find_numbered, list_options, output_option, pass_app, record_fields,
                             with_problems)
from crmctl.core.book import Book, Record, today
from crmctl.core.clock import Clock
from crmctl.core.errors import CrmError
from crmctl.core.money import currency_code
from crmctl.core.output import render_record, render_rows

Change = Callable[[Book, Record, Record, Clock], dict[str, Any]]


@click.group("quote")
def cli() -> None:
    """Quotes: lines, approvals, versions, sending, accepting and PDFs (CPQ)."""


def _change(app: App, ref: str, verb: str, fn: Change, *, actor_needed: bool = True,
            dry_run: bool = False) -> tuple[Record, dict[str, Any]]:
    """Load the quote under the lock, apply ``fn``, write it; returns the old record and new data."""
    from crmctl.cpq.signed import signer_needed

    actor = app.require_actor(f"quote {verb}") if actor_needed else app.actor
    with app.transaction(f"quote {verb}") as tx:
        rec = _quote(app.book, ref)
        data = fn(app.book, rec, actor, Clock.read(app.book.settings))  # type: ignore[arg-type]
        tx.sign_as = signer_needed(app.book, rec.data, data)  # an approval decision under policy.signed_approvals
        tx.message = f"quote {verb}: {_label(rec.id, data)}" + (f" by {actor.id}" if actor else "")
        tx.put("quotes", rec.id, data)
        if dry_run:
            tx.pending.clear()
            done(f"would {verb}: quote {rec.id} total {rec.get('total')} -> {data.get('total')} {data.get('currency')}")
            return rec, data
    done(f"quote {rec.id} v{data.get('version', 1)}: {verb} ({data.get('status')})", tx)
    return rec, data


def _quote(book: Book, ref: str) -> Record:
    """The quote ``ref`` — its id, a unique prefix, or its number (``QT-2026-0001``) — once every number its file
    stores reads as crmctl writes it (else one line naming it)."""
    from crmctl.cpq.quotes import readable

    return readable(book, find_numbered(book, "quotes", ref))


def _label(qid: str, data: dict[str, Any]) -> str:
    return f"{data.get('number') or qid} v{data.get('version', 1)}"


@cli.command("new")
@click.option("--opp", metavar="ID", help="Opportunity: account, contact and currency come from it.")
@click.option("--account", metavar="ACCOUNT", help="Account, for a quote without an opportunity.")
@click.option("--contact", metavar="ID", help="Contact (default: the opportunity's first).")
@click.option("--currency", metavar="CUR", help="Currency (default: the opportunity's, else the price book's).")
@click.option("--pricebook", metavar="ID", help="Price book (default: the most specific valid one).")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), help="Document language.")
@click.option("--title", help="Title, printed under the document's heading.")
@pass_app
def new_cmd(app: App, opp: str | None, account: str | None, contact: str | None, currency: str | None,
            pricebook: str | None, lang: str | None, title: str | None) -> None:
    """Start a draft quote for an opportunity (or an account). Prints the new id."""
    from crmctl.cpq.quotes import new_quote

    if not opp and not account:
        raise CrmError("give --opp ID (or --account A for a quote without an opportunity)")
    currency = currency_code(currency) if currency is not None else None
    with app.transaction("quote new") as tx:
        book = app.book
        opp_rec = book.get("opportunities", opp) if opp else None
        if not account and opp_rec is not None and not opp_rec.get("account"):
            raise CrmError(f"opportunity {opp_rec.id} names no account yet; give --account A, or "
                           f"`crmctl opp edit {opp_rec.id} --account A` first")
        acct = book.get("accounts", account or str(opp_rec.get("account")))  # type: ignore[union-attr]
        data = new_quote(book, opportunity=opp_rec, account=acct, owner=app.actor_id, clock=Clock.read(book.settings),
                         currency=currency, pricebook=pricebook, lang=lang,
                         contact=book.resolve("contacts", contact) if contact else None)
        if title:
            data["title"] = title
        qid = book.new_id("quotes")
        tx.message = f"quote new: {qid} for {acct.id}"
        tx.put("quotes", qid, data)
    click.echo(qid)
    done(f"new quote {qid} for {acct.id} in {data['currency']}, price book {data.get('pricebook') or 'none'}", tx)


@cli.command("add-line")
@click.argument("ref", metavar="Q")
@click.argument("sku")
@click.option("--option", "options", multiple=True, metavar="GROUP=VALUE", help="Choose an option; repeatable.")
@click.option("--qty", default="1", show_default=True, metavar="N", help="Quantity (a whole number).")
@click.option("--discount", metavar="PCT", help="Line discount, e.g. 5%.")
@click.option("--group", metavar="NAME", help="Line group (shown with a subtotal).")
@dry_run_option
@pass_app
def add_line_cmd(app: App, ref: str, sku: str, options: tuple[str, ...], qty: str, discount: str | None, group: str | None,
                 dry_run: bool) -> None:
    """Add a configured product line; an invalid configuration is refused with every reason."""
    from crmctl.core.numbers import book_format, parse_quantity
    from crmctl.cpq.configure import parse_choices
    from crmctl.cpq.quotes import add_line

    choices = parse_choices(options)
    units = parse_quantity(qty, fmt=book_format(app.book.settings), field="--qty", minimum=1)
    _change(app, ref, f"add-line {sku}", lambda b, r, a, c: add_line(b, r.data, sku, choices, units, discount, group, c.today),
            actor_needed=False, dry_run=dry_run)


@cli.command("remove-line")
@click.argument("ref", metavar="Q")
@click.argument("number", type=int)
@dry_run_option
@pass_app
def remove_line_cmd(app: App, ref: str, number: int, dry_run: bool) -> None:
    """Remove line NUMBER (as `quote show` numbers them)."""
    from crmctl.cpq.quotes import remove_line

    _change(app, ref, f"remove-line {number}", lambda b, r, a, c: remove_line(b, r.data, number, c.today), actor_needed=False,
            dry_run=dry_run)


@cli.command("edit")
@click.argument("ref", metavar="Q")
@click.option("--discount", metavar="PCT", help="Quote-level discount (0 removes it).")
@click.option("--fee", "fees", multiple=True, metavar="NAME=AMOUNT",
              help="Set a fee (shipping, installation): a new name adds one, a name already on the quote replaces its "
                   "amount; repeatable.")
@click.option("--remove-fee", "remove_fees", multiple=True, metavar="NAME", help="Remove the fee of that NAME; repeatable.")
@click.option("--fee-en", "fees_en", multiple=True, metavar="NAME=ENGLISH",
              help="A fee's English name, printed on English documents (--fee-en 运费=Freight); repeatable.")
@click.option("--clear-fees", is_flag=True, help="Remove all fees first.")
@click.option("--payment-terms", help="Payment terms.")
@click.option("--notes", help="Notes on the document.")
@click.option("--payment-terms-en", help="Payment terms as an English document prints them.")
@click.option("--notes-en", help="Notes as an English document prints them.")
@click.option("--incoterms", metavar="RULE PLACE", help="Incoterms 2020 on the document: 'FOB Shanghai', 'CIF Hamburg', EXW.")
@click.option("--title", help="Title, printed under the document's heading.")
@click.option("--title-en", help="Title as an English document prints it.")
@click.option("--valid-until", metavar="YYYY-MM-DD", help="Valid until.")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), help="Document language.")
@click.option("--contact", metavar="ID", help="Contact.")
@click.option("--tax-exempt", metavar="REASON", help="No tax on this quote, for this reason (printed): export, reverse charge.")
@click.option("--tax-exempt-en", metavar="REASON", help="The exemption reason as an English document prints it "
              "(with --tax-exempt in Chinese: --tax-exempt 出口零税率 --tax-exempt-en \"Zero-rated export\").")
@click.option("--taxed", is_flag=True, help="Remove the quote's own tax exemption (the account's still applies).")
@dry_run_option
@pass_app
def edit_cmd(app: App, ref: str, discount: str | None, fees: tuple[str, ...], remove_fees: tuple[str, ...],
             fees_en: tuple[str, ...], clear_fees: bool,
             payment_terms: str | None,
             notes: str | None, payment_terms_en: str | None, notes_en: str | None, incoterms: str | None,
             title: str | None, title_en: str | None, valid_until: str | None, lang: str | None, contact: str | None,
             tax_exempt: str | None, tax_exempt_en: str | None, taxed: bool, dry_run: bool) -> None:
    """Change quote-level terms: discount, fees, payment terms, notes, validity, tax exemption.

    A negative fee (--fee 特别优惠=-2000) is a discount: it is taken off the lines,
    printed with the discounts and judged by the discount policy like one.
    --fee NAME=AMOUNT for a NAME the quote has replaces that fee (and says so).
    A fee's English name (for --lang en documents) is --fee-en NAME=ENGLISH, for
    a fee added in the same command or earlier: --fee 运费=800 --fee-en 运费=Freight.
    """
    for option, given in (("--tax-exempt", tax_exempt), ("--tax-exempt-en", tax_exempt_en)):
        if given is not None and (taxed or not given.strip()):
            raise CrmError(f"{option} needs a reason (printed on the document); --taxed removes an exemption")
    from crmctl.cpq.quotes import edit, fees_after, name_fees_en, parse_fee

    if valid_until:
        try:
            _dt.date.fromisoformat(valid_until)
        except ValueError:
            raise CrmError(f"--valid-until {valid_until!r}: write YYYY-MM-DD") from None

    def change(book: Book, rec: Record, actor: Record, clock: Clock) -> dict[str, Any]:
        changes: dict[str, Any] = {k: v for k, v in {"discount": discount, "payment_terms": payment_terms, "notes": notes,
                                                     "title": title, "title_en": title_en, "valid_until": valid_until, "lang": lang,
                                                     "payment_terms_en": payment_terms_en, "notes_en": notes_en,
                                                     "incoterms": incoterms,
                                                     "tax_exempt": tax_exempt.strip() if tax_exempt else None,
                                                     "tax_exempt_en": tax_exempt_en.strip() if tax_exempt_en else None}.items()
                                   if v is not None}
        if taxed:
            changes["tax_exempt"] = changes["tax_exempt_en"] = None
        if contact:
            changes["contact"] = book.resolve("contacts", contact)
        if fees or clear_fees or remove_fees or fees_en:
            fees_now, replaced = fees_after(list(rec.get("fees") or []),
                                            [parse_fee(f, str(rec.get("currency")), book.settings) for f in fees],
                                            remove_fees, clear_fees)
            changes["fees"] = name_fees_en(fees_now, fees_en)
            said.extend(replaced)
        return edit(book, rec.data, changes, clock.today)

    said: list[str] = []
    _change(app, ref, "edit", change, actor_needed=False, dry_run=dry_run)
    for note in said:
        click.echo(note, err=True)


def _status_rows(book: Book, day: _dt.date) -> list[dict[str, Any]]:
    from crmctl.core.states import quote_status
    from crmctl.cpq.quotes import readable

    # a quote whose lines `check` refuses stops the list as it stops `show` (its total would be silently wrong)
    return [{**readable(book, rec).row(), "status": str(quote_status(rec.data, day))} for rec in book.all("quotes")]


@cli.command("list")
@list_options
@output_option
@as_of_option
@pass_app
@with_problems
def list_cmd(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List quotes (status is computed: a past-validity open quote shows expired)."""
    emit_rows(_status_rows(app.book, today(app.book.settings)), fmt,
              ("id", "number", "version", "account", "status", "currency", "total", "valid_until", "owner"),
              where, sort or ("id",), limit, record_fields(app, "quotes"))


@cli.command("show")
@click.argument("ref", metavar="Q")
@click.option("--version", "ver", type=int, metavar="N", help="Show an earlier version.")
@output_option
@as_of_option
@pass_app
@with_problems
def show_cmd(app: App, ref: str, ver: int | None, fmt: str) -> None:
    """Show a quote priced: lines, group subtotals, discount, fees, tax, total, approval."""
    from crmctl.cpq.document import view

    rec = _quote(app.book, ref)
    data = view(app.book, rec, ver, today(app.book.settings))
    if fmt != "table":
        click.echo(render_record(data, fmt))
        return
    head = {k: data.get(k) for k in ("id", "title", "number", "version", "status", "account", "contact", "owner",
                                      "opportunity", "currency", "pricebook", "date", "valid_until", "lang",
                                      "payment_terms", "notes", "order") if data.get(k) not in (None, "")}
    head["approval"] = data["approval_summary"]
    click.echo(render_record(head, "table"))
    click.echo()
    rows = [{"#": ln["n"], "group": ln.get("group") or "", "sku": ln["sku"], "configuration": "; ".join(ln["configuration"]),
             "qty": ln["qty"], "unit_price": ln["unit_price_shown"], "tier": ln["tier_shown"], "disc%": ln.get("discount") or "",
             "net": ln["net"]} for ln in data["lines_view"]]
    tier = ("tier",) if any(r["tier"] for r in rows) else ()
    click.echo(render_rows(rows, "table", ("#", "group", "sku", "configuration", "qty", "unit_price", *tier, "disc%", "net")))
    click.echo()
    click.echo(render_rows(data["totals_view"], "table", ("total", "amount")))
    for problem in data["problems"]:
        click.echo(f"warning: {problem}", err=True)


@cli.command("submit")
@click.argument("ref", metavar="Q")
@pass_app
def submit_cmd(app: App, ref: str) -> None:
    """Submit for approval: approved at once within your authority, else it waits for the right role."""
    from crmctl.cpq.lifecycle import submit

    said: list[str] = []

    def change(book: Book, rec: Record, actor: Record, clock: Clock) -> dict[str, Any]:
        data, message = submit(book, rec.data, actor, clock, rec.id)
        said.append(message)
        return data

    _change(app, ref, "submit", change)
    click.echo(said[0])


@cli.command("approve")
@click.argument("ref", metavar="Q")
@pass_app
def approve_cmd(app: App, ref: str) -> None:
    """Approve a pending quote (only a user whose role covers its discount and margin)."""
    from crmctl.cpq.lifecycle import decide

    _change(app, ref, "approve", lambda b, r, a, c: decide(b, r.data, a, True, None, c, r.id))


@cli.command("reject")
@click.argument("ref", metavar="Q")
@click.option("--reason", required=True, help="Why (shown to the submitter).")
@pass_app
def reject_cmd(app: App, ref: str, reason: str) -> None:
    """Reject a pending quote with a reason (only a user whose role may approve it)."""
    from crmctl.cpq.lifecycle import decide

    _change(app, ref, "reject", lambda b, r, a, c: decide(b, r.data, a, False, reason, c, r.id))


@cli.command("revise")
@click.argument("ref", metavar="Q")
@pass_app
def revise_cmd(app: App, ref: str) -> None:
    """Start the next version (v2, v3, ...) as a draft; earlier versions stay readable."""
    from crmctl.cpq.quotes import revise

    _change(app, ref, "revise", lambda b, r, a, c: revise(b, r.data, a, c))


@cli.command("send")
@click.argument("ref", metavar="Q")
@pass_app
def send_cmd(app: App, ref: str) -> None:
    """Send an approved quote: give it its number and freeze its priced lines."""
    from crmctl.cpq.lifecycle import send

    _, data = _change(app, ref, "send", lambda b, r, a, c: send(b, r.id, r.data, a, c))
    click.echo(data["number"])


@cli.command("accept")
@click.argument("ref", metavar="Q")
@pass_app
def accept_cmd(app: App, ref: str) -> None:
    """The customer accepted: create the order and (if configured) win the opportunity."""
    from crmctl.cpq.lifecycle import accept

    actor = app.require_actor("quote accept")
    with app.transaction("quote accept") as tx:
        book = app.book
        rec = _quote(book, ref)
        data, (order_id, order), opp = accept(book, rec.id, rec.data, actor, Clock.read(book.settings))
        tx.put("quotes", rec.id, data)
        tx.put("orders", order_id, order)
        if opp is not None:
            tx.put("opportunities", str(data["opportunity"]), opp)
        tx.message = f"quote accept: {_label(rec.id, data)} -> order {order['number']} by {actor.id}"
    click.echo(order_id)
    done(f"quote {rec.id} accepted: order {order['number']} ({order_id})" + (", opportunity won" if opp else ""), tx)


@cli.command("decline")
@click.argument("ref", metavar="Q")
@click.option("--reason", required=True, help="Why the customer declined.")
@pass_app
def decline_cmd(app: App, ref: str, reason: str) -> None:
    """The customer declined the quote."""
    from crmctl.cpq.lifecycle import decline

    _change(app, ref, "decline", lambda b, r, a, c: decline(r.data, a, reason, c))


@cli.command("verify")
@click.argument("ref", metavar="Q", required=False)
@click.option("--all", "every", is_flag=True, help="Every open quote.")
@output_option
@pass_app
@with_problems
def verify_cmd(app: App, ref: str | None, every: bool, fmt: str) -> None:
    """Re-price quoted lines with today's rules; list every difference (exit 1 when any)."""
    from crmctl.core.states import quote_is_open
    from crmctl.cpq.quotes import readable
    from crmctl.cpq.review import verify

    if bool(ref) == every:
        raise CrmError("give a quote id or --all")
    day = today(app.book.settings)
    recs = [_quote(app.book, ref)] if ref else [readable(app.book, r) for r in app.book.all("quotes") if quote_is_open(r.data, day)]
    rows = [{"quote": rec.id, "number": rec.get("number") or "", **diff} for rec in recs for diff in verify(app.book, rec.data)]
    emit_rows(rows, fmt, ("quote", "number", "line", "sku", "field", "quoted", "today"))
    click.echo(f"{len(rows)} difference(s) in {len({r['quote'] for r in rows})} of {len(recs)} quote(s)" if rows
               else f"ok: {len(recs)} quote(s) price the same today", err=True)
    if rows:
        raise SystemExit(1)


@cli.command("suggest")
@click.argument("ref", metavar="Q")
@output_option
@pass_app
@with_problems
def suggest_cmd(app: App, ref: str, fmt: str) -> None:
    """Cross-sell and upsell: related products, and products often bought together."""
    from crmctl.cpq.review import suggest

    rows = suggest(app.book, _quote(app.book, ref).data)
    emit_rows(rows, fmt, ("sku", "name", "kind", "because", "reason", "orders"))


@cli.command("renumber")
@click.argument("ref", metavar="Q")
@pass_app
def renumber_cmd(app: App, ref: str) -> None:
    """Give a quote a fresh document number (a duplicate brought in by a merge)."""
    from crmctl.cpq.quotes import renumber

    _, data = _change(app, ref, "renumber", lambda b, r, a, c: renumber(b, r.data, c.today), actor_needed=False)
    click.echo(data["number"])


@cli.command("render")
@click.argument("ref", metavar="Q")
@click.option("--out", "out", metavar="FILE", help="Output file (default: out/<number or id>-v<N>.pdf).")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), help="Language (default: the quote's).")
@click.option("--template", metavar="NAME", help="Template file (default: quote.html; the book's templates/ first).")
@click.option("--version", "ver", type=int, metavar="N", help="Render an earlier version.")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of a PDF.")
@pass_app
def render_cmd(app: App, ref: str, out: str | None, lang: str | None, template: str | None, ver: int | None, as_html: bool) -> None:
    """Render the quote document as a PDF (or HTML) in Chinese or English.

    Only a sent quote, or an approved one whose approval still holds, prints as an offer; anything else carries the
    DRAFT / 草稿 mark, and a warning says why."""
    from crmctl.cpq.document import render

    rec = _quote(app.book, ref)

    def warn(lang: str, found: list[str]) -> None:
        if found and lang == "zh-CN":
            click.echo(f"warning: the Chinese document prints {len(found)} text(s) of the quote in English, with no "
                       "Chinese form: " + "; ".join(found), err=True)
        elif found:
            click.echo(f"warning: the English document prints {len(found)} text(s) with no English form (`quote send` "
                       "refuses an English quote like this): " + "; ".join(found), err=True)

    path, why = render(app.book, rec, today(app.book.settings), out=out, lang=lang, template=template, version=ver,
                       html=as_html, warn=warn)
    click.echo(path)
    if why:
        click.echo(f"warning: {path} is marked DRAFT (not an offer): {'; '.join(why)}", err=True)
