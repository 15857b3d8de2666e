"""``crmctl payment``: payment plans and receipts (回款) — L2C."""
from __future__ import annotations

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import App, done, emit_rows, list_options, output_option, pass_app, record_fields, with_problems
from crmctl.cli.order import find_order, grace
from crmctl.core.book import Record, now_iso, today
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.money import money_str, to_decimal
from crmctl.core.numbers import book_format, parse_amount, parse_quantity
from crmctl.l2c import orders as O
from crmctl.l2c import payments as P
from crmctl.l2c.dates import parse_day

MAX_INSTALLMENTS = 360  # thirty years of monthly instalments


@click.group("payment")
def cli() -> None:
    """Payment plans and receipts against orders (回款, L2C)."""


@cli.command("plan")
@click.argument("ref", metavar="ORDER")
@click.option("--installments", metavar="N", help="Split the total into N equal installments (1 to 360).")
@click.option("--every", default="1m", show_default=True, metavar="INTERVAL", help="Between installments: 30d, 2w, 1m, 1q, 1y.")
@click.option("--first", metavar="DATE", help="First due date (default: the order date).")
@click.option("--at", "at", multiple=True, metavar="DATE=AMOUNT|PCT%", help="An explicit installment; repeatable.")
@pass_app
def plan(app: App, ref: str, installments: str | None, every: str, first: str | None, at: tuple[str, ...]) -> None:
    """Set an order's payment plan: N equal installments, or explicit --at dates.

    The plan sums exactly to the order total; the last installment absorbs the rounding remainder.
    """
    if (installments is not None) == bool(at):
        raise ValidationError("give either --installments N or one or more --at DATE=AMOUNT|PCT%")
    book = app.book
    count = parse_quantity(installments, fmt=book_format(book.settings), field="--installments", minimum=1,
                           limit=MAX_INSTALLMENTS + 1) if installments is not None else 0
    with app.transaction("payment plan") as tx:
        order = find_order(book, ref)
        mine = [p for p in book.all("payments") if p.get("order") == order.id]
        if mine:
            raise PolicyError(f"order {order.get('number')} already has {len(mine)} payment(s); its plan is fixed")
        total, currency = to_decimal(order.get("total")), str(order.get("currency"))
        if at:
            rows = P.explicit_plan(total, currency, at, book.settings.rounding, book_format(book.settings))
        else:
            start = parse_day(first, "--first") if first else parse_day(str(order.get("date")), "order date")
            rows = P.equal_plan(total, currency, count, start, every)
        data = dict(order.data)
        data["installments"] = rows
        data["status"] = O.status(Record("orders", order.id, data), [], today(book.settings), grace(book))
        data["history"] = [*(order.get("history") or []), {"at": now_iso(book.settings), "by": app.actor_id,
                                                            "event": "plan", "installments": len(rows)}]
        tx.put("orders", order.id, data)
        tx.message = f"payment plan: {order.get('number')} in {len(rows)} installment(s)"
    emit_rows(rows, "table", ("due", "amount"))
    done(f"order {order.get('number')}: {len(rows)} installment(s), {order.get('total')} {currency}", tx)


@cli.command("record")
@click.argument("ref", metavar="ORDER")
@click.option("--amount", required=True, metavar="MONEY", help="Amount received, in the order's currency.")
@click.option("--date", "day", required=True, metavar="DATE", help="Date received (YYYY-MM-DD).")
@click.option("--ref", "bank_ref", metavar="REF",
              help="Bank reference: unique on the order, so a retry with the same --ref never records twice.")
@click.option("--prepayment", is_flag=True, help="Accept more than is due.")
@pass_app
def record(app: App, ref: str, amount: str, day: str, bank_ref: str | None, prepayment: bool) -> None:
    """Record a receipt; it pays installments oldest first. Prints the payment id."""
    book = app.book
    when = parse_day(day, "--date")
    with app.transaction("payment record") as tx:
        order = find_order(book, ref)
        currency = str(order.get("currency"))
        received = parse_amount(amount, currency=currency, fmt=book_format(book.settings), field="--amount",
                                allow_negative=True)  # check_receipt: "a payment must be more than zero"
        payments = book.all("payments")
        mine = [p for p in payments if p.get("order") == order.id]
        P.check_receipt(order, mine, received, prepayment, when, today(book.settings))
        P.check_ref(order, mine, bank_ref)
        pid = book.new_id("payments")
        data = {"order": order.id, "account": order.get("account"), "date": when.isoformat(),
                "amount": money_str(received, currency), "currency": currency, "ref": bank_ref,
                "prepayment": True if prepayment else None,
                "applied": P.applied(order.get("installments") or [], mine, received, currency),
                "by": app.actor_id, "created": now_iso(book.settings)}
        new = tx.put("payments", pid, data)
        tx.put("orders", order.id, O.with_status(order, [*mine, new], today(book.settings), grace(book)))
        left = O.outstanding(order, [*mine, new])
        tx.message = f"payment record: {data['amount']} {currency} on {order.get('number')} ({when})"
    click.echo(pid)
    done(f"recorded {data['amount']} {currency} on {order.get('number')}; balance {money_str(left, currency)}", tx)


@cli.command("list")
@click.option("--order", "order_ref", metavar="ORDER", help="Only this order's payments.")
@list_options
@output_option
@as_of_option
@pass_app
@with_problems
def list_cmd(app: App, order_ref: str | None, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List payments received (newest last)."""
    book = app.book
    order_id = find_order(book, order_ref).id if order_ref else None
    numbers = {o.id: o.get("number") for o in book.all("orders")}
    rows = [{**p.row(), "number": numbers.get(str(p.get("order")), "")} for p in book.all("payments")
            if order_id is None or p.get("order") == order_id]
    emit_rows(rows, fmt, ("id", "date", "number", "account", "amount", "currency", "ref"), where, sort or ("date", "id"), limit,
              record_fields(app, "payments"))
