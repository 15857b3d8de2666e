"""``crmctl order``: orders from won deals, their plan, payments and balance — L2C."""
from __future__ import annotations

from typing import Any

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import (App, done, emit_record, emit_rows, emit_section, find_numbered, list_options,
                             output_option, pass_app, record_fields, with_problems)
from crmctl.core.book import Book, Record, now_iso, today
from crmctl.core.limits import read
from crmctl.core.money import money_str
from crmctl.l2c import orders as O
from crmctl.l2c.dates import parse_day
from crmctl.l2c.payments import installment_rows


@click.group("order")
def cli() -> None:
    """Orders: made from won opportunities (or accepted quotes); status follows the money (L2C)."""


def find_order(book: Book, ref: str) -> Record:
    """An order by id (or unique prefix) or by its number (``SO-2026-0007``): :func:`crmctl.cli.base.find_numbered`."""
    return find_numbered(book, "orders", ref)


def grace(book: Book) -> int:
    return int(read(book.settings, "payments.overdue_grace_days", 0))


def order_view(book: Book, order: Record) -> dict[str, Any]:
    """The order with its installments, payments, paid, balance and today's status, from the payments received by
    today (:func:`crmctl.l2c.orders.received_by`; a later-dated one is left out with a note on stderr)."""
    day = today(book.settings)   # a book read --as-of a day: that day
    mine, later = O.received_by((p for p in book.all("payments") if p.get("order") == order.id), day)
    for pay in later:
        click.echo(f"note: order {order.get('number') or order.id}: payment {pay.id} of {pay.get('amount')} is dated "
                   f"{pay.get('date')}, after {day.isoformat()}: not counted as received by then", err=True)
    currency = str(order.get("currency"))
    return {
        **order.row(), "status": O.status(order, mine, day, grace(book)),
        "paid": money_str(O.paid(order, mine), currency), "balance": money_str(O.outstanding(order, mine), currency),
        "overdue": money_str(O.overdue(order, mine, day, grace(book)), currency),
        "installments": installment_rows(order, mine, day),
        "payments": [{"id": p.id, "date": p.get("date"), "amount": p.get("amount"), "ref": p.get("ref") or ""}
                     for p in sorted(mine, key=lambda p: (str(p.get("date")), p.id))],
    }


@cli.command("add")
@click.option("--opp", "opp_ref", required=True, metavar="ID", help="The won opportunity.")
@click.option("--date", "day", metavar="DATE", help="Order date (YYYY-MM-DD; default today).")
@pass_app
def add(app: App, opp_ref: str, day: str | None) -> None:
    """Make the order of a won opportunity that has no quote (amount and currency from it). Prints the new id.

    A deal with quotes gets its order from its accepted quote (`quote accept`); an order no quote priced
    needs a role in crm.yaml orders.manual_roles (default director, admin)."""
    book = app.book
    when = parse_day(day, "--date") if day else today(book.settings)
    with app.transaction("order add") as tx:
        opp = book.get("opportunities", opp_ref)
        oid, data = O.from_opportunity(book, opp, when, None, now_iso(book.settings), app.actor)
        tx.put("orders", oid, data)
        tx.message = f"order add: {data['number']} for {opp.id} ({opp.get('name')}), {data['total']} {data['currency']}"
    click.echo(oid)
    done(f"added order {data['number']} ({oid}): {data['total']} {data['currency']}", tx)


@cli.command("list")
@list_options
@output_option
@as_of_option
@pass_app
@with_problems
def list_cmd(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List orders with what is paid and the balance (status as of today)."""
    book = app.book
    rows = []
    for order in book.all("orders"):
        view = order_view(book, order)
        rows.append({k: v for k, v in view.items() if k not in ("installments", "payments", "lines", "history")})
    emit_rows(rows, fmt, ("id", "number", "account", "date", "currency", "total", "paid", "balance", "status"),
              where, sort or ("number",), limit, record_fields(app, "orders"))


@cli.command("show")
@click.argument("ref", metavar="ID|NUMBER")
@output_option
@as_of_option
@pass_app
@with_problems
def show(app: App, ref: str, fmt: str) -> None:
    """Show an order: its plan (installments), payments, balance and status."""
    view = order_view(app.book, find_order(app.book, ref))
    if fmt != "table":
        emit_record(view, fmt)
        return
    emit_record({k: v for k, v in view.items() if k not in ("installments", "payments", "lines", "totals")}, fmt)
    if view.get("lines"):
        emit_section("lines:", line_rows(view["lines"]), LINE_COLUMNS)
    emit_section("installments:", view["installments"], ("n", "due", "amount", "received", "balance", "state"))
    emit_section("payments:", view["payments"], ("id", "date", "amount", "ref"))


LINE_COLUMNS = ("n", "item", "qty", "unit_price", "net", "quote_discount", "ex_tax", "tax", "amount")


def line_rows(lines: list[Any]) -> list[dict[str, Any]]:
    """An order's lines as ``order show`` prints them: what (SKU, fee or description), how many, and the money of
    each (from an accepted quote: its net, its share of the quote discount, ex tax, tax and what the customer pays)."""
    rows = []
    for n, line in enumerate(line for line in lines if isinstance(line, dict)):
        item = line.get("sku") or (f"fee {line['fee']}" if line.get("fee") else line.get("description") or "")
        rows.append({"n": n + 1, "item": item, **{k: line.get(k, "") for k in LINE_COLUMNS[2:]}})
    return rows


@cli.command("renumber")
@click.argument("ref", metavar="ID")
@pass_app
def renumber(app: App, ref: str) -> None:
    """Give an order a fresh number of its year (fixes duplicate numbers after a git merge)."""
    with app.transaction("order renumber") as tx:
        order = find_order(app.book, ref)
        data = O.renumber(app.book, order, app.actor_id, now_iso(app.book.settings))
        tx.put("orders", order.id, data)
        tx.message = f"order renumber: {order.id} {order.get('number')} -> {data['number']}"
    click.echo(data["number"])
    done(f"order {order.id}: {order.get('number')} -> {data['number']}", tx)


