"""``crmctl price SKU``: is this configuration valid, and how is its price made, step by step."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from crmctl.cli.base import App, output_option, pass_app, with_problems
from crmctl.core.book import today
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.money import currency_code
from crmctl.core.numbers import book_format, parse_percent, parse_quantity
from crmctl.core.output import render_record, render_rows

if TYPE_CHECKING:
    from crmctl.cpq.catalog import Priced


def amount(value: object) -> str:
    """Money for people: thousands separated, fixed decimals kept."""
    return f"{value:,f}" if not isinstance(value, str) else value


@click.command("price")
@click.argument("sku")
@click.option("--option", "options", multiple=True, metavar="GROUP=VALUE", help="Choose an option; repeatable (GROUP=A,B for several).")
@click.option("--qty", default="1", show_default=True, metavar="N", help="Quantity (a whole number).")
@click.option("--account", metavar="ACCOUNT", help="Price for this account (chooses its price book).")
@click.option("--pricebook", metavar="ID", help="Use this price book instead of the most specific one.")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="Price as of this day (default: today).")
@click.option("--discount", metavar="PCT", help="Line discount, e.g. 5%.")
@click.option("--currency", metavar="CUR", help="Currency (default: the price book's, else the book's).")
@output_option
@pass_app
@with_problems
def cli(app: App, sku: str, options: tuple[str, ...], qty: str, account: str | None, pricebook: str | None,
        on: str | None, discount: str | None, currency: str | None, fmt: str) -> None:
    """Price a product configuration step by step; exit 1 when it breaks a rule.

    Every step names the rule that produced it: list price, options, the price
    book's price or discount, the volume tier, the line discount, net, tax, total.
    """
    from crmctl.cpq.catalog import choose_pricebook, price_sku
    from crmctl.cpq.configure import parse_choices
    from crmctl.cpq.pricing import price_str, quote_totals, tax_rules
    from crmctl.cpq.quotes import priced_line, tax_exemption

    book = app.book
    currency = currency_code(currency) if currency is not None else None
    try:
        day = _dt.date.fromisoformat(on) if on else today(book.settings)
    except ValueError:
        raise ValidationError(f"--date {on!r}: write YYYY-MM-DD") from None
    acct = book.get("accounts", account) if account else None
    chosen = choose_pricebook(book, acct, day, currency, pricebook, [(sku, parse_choices(options), qty)])
    cur = currency or (str(chosen.get("currency")) if chosen else book.settings.currency)
    if chosen is not None and str(chosen.get("currency")) != cur:
        raise PolicyError(f"price book {chosen.id} is in {chosen.get('currency')}, not {cur}; drop --currency or choose another --pricebook")
    rule = book_format(book.settings)
    pct = parse_percent(discount or "0", fmt=rule, field="--discount")
    units = parse_quantity(qty, fmt=rule, field="--qty", minimum=1)
    priced = price_sku(book, sku, parse_choices(options), units, cur, chosen, pct)
    line = priced.line
    # the figures a quote of this one line would show: the quote's own totals path (rates, exemption, rounding)
    exempt = tax_exemption(book, {"account": acct.id}) if acct is not None else None
    totals = quote_totals([priced_line(priced, {})], Decimal(0), [], cur, tax_rules(book.settings), exempt)
    mode = "included" if totals["tax_mode"] == "inclusive" else "added"
    rows = [s.as_dict(cur) for s in line.steps]
    summary = {"sku": line.sku, "qty": line.qty, "currency": cur, "valid": not priced.problems, "problems": priced.problems,
               "pricebook": priced.pricebook, "configuration": priced.config.selected, "date": day.isoformat(),
               "unit_price": price_str(line.unit_price, cur), "net": str(line.net), "tax_rate": str(line.tax_rate),
               "tax_by_rate": {str(r): str(a) for r, a in totals["tax_by_rate"].items()}, "tax": str(totals["tax"]),
               "total": str(totals["total"]), "steps": rows}
    if exempt:
        summary["tax_exempt"] = exempt
    if fmt in ("json", "yaml"):
        click.echo(render_record(summary, fmt))
    else:
        config = ", ".join(f"{g}={','.join(v)}" for g, v in priced.config.selected.items()) or "no options"
        head = f"{line.sku} x {line.qty} ({config}) in {cur}, price book {priced.pricebook or 'none (list prices)'}, {day}"
        if fmt == "table":
            click.echo(head)
        table = [{"step": r["step"], "rule": r["rule"], "amount": amount(Decimal(r["amount"])),
                  "running": amount(Decimal(r["running"]))} for r, s in zip(rows, line.steps)]
        table += [{"step": "net", "rule": "", "amount": "", "running": amount(line.net)}]
        table += [{"step": f"tax {rate}% ({mode})", "rule": _tax_rule(priced, Decimal(rate), exempt),
                   "amount": amount(tax), "running": ""} for rate, tax in totals["tax_by_rate"].items()]
        table += [{"step": "total", "rule": "", "amount": "", "running": amount(totals["total"])}]
        click.echo(render_rows(table, fmt, ("step", "rule", "amount", "running")))
        if fmt == "table":
            click.echo("valid configuration" if not priced.problems else "INVALID configuration:")
    for problem in priced.problems:
        click.echo(f"error: {problem}", err=True)
    if priced.problems:
        raise SystemExit(1)


def _tax_rule(priced: Priced, rate: Decimal, exempt: str | None) -> str:
    """Where a tax rate comes from: the exemption, the product's own category, or its bundle components'."""
    if exempt:
        return f"tax exempt: {exempt}"
    own = priced.product.get("tax_category") or "default"
    return f"tax category {own}" if rate == priced.line.tax_rate else "bundle components' own tax category"
