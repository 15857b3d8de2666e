"""Orders and what has been paid on them — shared by L2C, CPQ (quote accept) and MCR (360° view).

Functions here are pure: they take records and settings and return data; the
caller writes. Order status follows the money: open, partially_paid, paid,
overdue (the values are :class:`crmctl.core.states.OrderStatus`; :func:`status`
is the one place that derives them). The clock is passed in.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Iterable

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.core.money import minor_unit, money_str, to_decimal
from crmctl.core.numbers import stored_problem
from crmctl.core.states import OrderStatus, opp_is_won, order_is_cancelled, quote_is_accepted


def order_number(book: Book, day: _dt.date) -> str:
    """The next order number of the year (``SO-2026-0007``)."""
    return book.next_number("orders", str(book.settings.get("orders.number_format", "SO-{year}-{seq:04d}")), day.year)


def build_order(book: Book, *, account: str, currency: str, total: Decimal, lines: list[dict[str, Any]],
                day: _dt.date, created: str, opportunity: str | None = None, quote: str | None = None,
                owner: str | None = None, totals: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """A new order's id and data (number given now), not yet written; ``created`` is the ISO timestamp of now.

    ``totals``: an accepted quote's totals (subtotal, reductions, fees, net, tax by rate, total), kept with the order.
    A negative total means nothing and is refused.
    """
    source = f"opportunity {opportunity}" if opportunity else f"quote {quote}" if quote else "the order"
    problem = stored_problem(total, field=f"{source}: total", currency=currency, digits=minor_unit(currency))
    if problem:
        raise ValidationError(f"{problem}; fix it before ordering (`crmctl check` lists such values)")
    data: dict[str, Any] = {
        "number": order_number(book, day), "account": account, "opportunity": opportunity, "quote": quote,
        "owner": owner, "date": day.isoformat(), "currency": currency, "lines": lines,
        "total": money_str(total, currency), "totals": totals or None, "status": OrderStatus.OPEN.value,
        "created": created,
    }
    return book.new_id("orders"), {k: v for k, v in data.items() if v is not None}


def payments_for(order_id: str, payments: Iterable[Record]) -> list[Record]:
    return [p for p in payments if p.get("order") == order_id]


def received_by(payments: Iterable[Record], day: _dt.date) -> tuple[list[Record], list[Record]]:
    """``(counted, later)``: the payments dated on or before ``day``, and those dated after it.

    What an order has received on a day — its paid, balance, status and installments in ``order show``/``list``
    and the 360° view — counts only the first, as ``report receivables`` does: a book read ``--as-of`` a day may
    hold a payment entered that day (or imported, hand edited) with a later date, which was not received then.
    """
    counted, later = [], []
    for pay in payments:
        (later if str(pay.get("date") or "")[:10] > day.isoformat() else counted).append(pay)
    return counted, later


def paid(order: Record, payments: Iterable[Record]) -> Decimal:
    return sum((to_decimal(p.get("amount")) for p in payments_for(order.id, payments)), Decimal(0))


def outstanding(order: Record, payments: Iterable[Record]) -> Decimal:
    return to_decimal(order.get("total")) - paid(order, payments)


def schedule(order: Record | dict[str, Any]) -> list[dict[str, Any]]:
    """What is due when: the payment plan (``installments: [{due, amount}]``), or for an order without one
    the whole total on the order's date. ``order show``, the 360° view and ``report receivables`` all read this.

    (An order's payment terms are free text — "30% on order, 70% before delivery" — so they give no day;
    set a plan with ``crmctl payment plan`` when the money is due later.)
    """
    plan = order.get("installments") or []
    if plan:
        return list(plan)
    return [{"due": str(order.get("date")), "amount": order.get("total")}]


def days_overdue(due: Any, day: _dt.date, grace_days: int = 0) -> int:
    """How many days past its due date (plus ``payments.overdue_grace_days``) an installment is on ``day``; <= 0: not yet."""
    return (day - _dt.date.fromisoformat(str(due)[:10])).days - grace_days


def overdue(order: Record, payments: Iterable[Record], today: _dt.date, grace_days: int = 0) -> Decimal:
    """What should have been paid by ``today`` (see :func:`schedule`) and was not."""
    if order_is_cancelled(order):
        return Decimal(0)
    received = paid(order, payments)
    due = sum((to_decimal(i["amount"]) for i in schedule(order) if days_overdue(i["due"], today, grace_days) > 0),
              Decimal(0))
    return max(due - received, Decimal(0))


def status(order: Record, payments: Iterable[Record], today: _dt.date, grace_days: int = 0) -> str:
    """open, partially_paid, paid or overdue (cancelled stays cancelled): an :class:`OrderStatus` value, plain text."""
    return _status(order, payments, today, grace_days).value


def _status(order: Record, payments: Iterable[Record], today: _dt.date, grace_days: int) -> OrderStatus:
    if order_is_cancelled(order):
        return OrderStatus.CANCELLED
    payments = list(payments)
    received = paid(order, payments)
    if received >= to_decimal(order.get("total")):
        return OrderStatus.PAID
    if overdue(order, payments, today, grace_days) > 0:
        return OrderStatus.OVERDUE
    return OrderStatus.PARTIALLY_PAID if received > 0 else OrderStatus.OPEN


def orders_of_opportunity(book: Book, opp_id: str) -> list[Record]:
    """The opportunity's orders that are not cancelled."""
    return [o for o in book.all("orders") if o.get("opportunity") == opp_id and not order_is_cancelled(o)]


def quotes_of_opportunity(book: Book, opp_id: str) -> list[Record]:
    """The quotes made for the opportunity (any status), oldest id first."""
    return sorted((q for q in book.all("quotes") if q.get("opportunity") == opp_id), key=lambda q: q.id)


def quotes_named(book: Book, opp_id: str) -> str | None:
    """``"quote Q1 (pending_approval)"`` (or ``"quotes Q1 (sent), Q2 (declined)"``) for the deal's quotes; None: none."""
    quotes = quotes_of_opportunity(book, opp_id)
    if not quotes:
        return None
    return ("quote " if len(quotes) == 1 else "quotes ") + ", ".join(f"{q.id} ({q.get('status')})" for q in quotes)


def require_manual_order(book: Book, actor: Record | None, opp: Record, total: Decimal, currency: str) -> None:
    """Refuse an order no quote priced unless the deal has no quote and the acting user's role is one of
    crm.yaml ``orders.manual_roles`` (default director, admin; while no user holds one of them, anyone's).
    Raises PolicyError."""
    from crmctl.core.errors import PolicyError
    from crmctl.cpq import authority

    named = quotes_named(book, opp.id)
    if named:
        accepted = [q for q in quotes_of_opportunity(book, opp.id) if quote_is_accepted(q)]
        todo = (f"its order is {accepted[0].get('order') or 'missing (`crmctl check`)'}" if accepted
                else "accept the approved, sent quote (`crmctl quote accept ID`)")
        raise PolicyError(f"opportunity {opp.id} has {named}; a quoted deal's order comes from its accepted quote, "
                          f"not from the deal's amount: {todo}")
    roles = authority.maintainers(book.settings, authority.MANUAL_ORDER_KEY)
    if any(u.get("role") in roles for u in book.all("users")):
        authority.require_maintainer(book.settings, actor, f"an order no quote priced ({opp.id}, "
                                     f"{money_str(total, currency)} {currency} from the deal's amount)",
                                     authority.MANUAL_ORDER_KEY)


def from_opportunity(book: Book, opp: Record, day: _dt.date, owner: str | None,
                     created: str, actor: Record | None = None) -> tuple[str, dict[str, Any]]:
    """A new order for a won opportunity without quotes, its amount and currency taken from the deal; ``actor``
    must be allowed to make an order no quote priced (:func:`require_manual_order`)."""
    from crmctl.core.errors import PolicyError

    if not opp_is_won(book.settings, opp):
        raise PolicyError(f"opportunity {opp.id} is in stage {opp.get('stage')}; only a won deal becomes an order "
                          f"(`crmctl opp win {opp.id}`)")
    existing = orders_of_opportunity(book, opp.id)
    if existing:
        raise PolicyError(f"opportunity {opp.id} already has order {existing[0].get('number')} ({existing[0].id})")
    if "amount" in opp.bad:  # a hand edit readers leave out: never an order of it
        raise ValidationError(f"opportunity {opp.id}: {opp.bad['amount']}; fix it before ordering "
                              "(`crmctl check` lists such values)")
    if opp.get("amount") in (None, ""):
        raise PolicyError(f"opportunity {opp.id} has no amount; `crmctl opp edit {opp.id} --amount ...` first")
    currency = str(opp.get("currency") or book.settings.currency)
    total = to_decimal(opp.get("amount"))
    require_manual_order(book, actor, opp, total, currency)
    lines = [{"description": str(opp.get("name")), "qty": 1, "amount": money_str(total, currency)}]
    return build_order(book, account=str(opp.get("account")), currency=currency, total=total, lines=lines, day=day,
                       created=created, opportunity=opp.id, owner=owner or opp.get("owner"))


def twins(book: Book, order: Record | dict[str, Any], oid: str) -> list[Record]:
    """The other standing (not cancelled) orders of the same quote, or else of the same opportunity: one deal
    ordered twice (two clones accepting one quote, a merge), not two deals that share a number."""
    if order_is_cancelled(order):
        return []
    for key in ("quote", "opportunity"):
        value = order.get(key)
        if value:
            others = [o for o in book.all("orders") if o.id != oid and o.get(key) == value and not order_is_cancelled(o)]
            if others:
                return sorted(others, key=lambda o: o.id)
    return []


def twice_ordered(book: Book, order: Record | dict[str, Any], oid: str, others: list[Record]) -> str:
    """One line naming a deal ordered twice and the fix: keep the order its quote's ``order:`` names (else the
    oldest id), delete the others."""
    ids = sorted([oid, *(o.id for o in others)])
    if order.get("quote") and others[0].get("quote") == order.get("quote"):
        quote = book.records("quotes").get(str(order.get("quote")))
        named = str(quote.get("order") or "") if quote is not None else ""
        what = f"quote {order.get('quote')} was accepted"
    else:
        named, what = "", f"opportunity {order.get('opportunity')} was ordered"
    keep = named if named in ids else ids[0]
    times = "twice" if len(ids) == 2 else f"{len(ids)} times"
    drop = ", ".join(i for i in ids if i != keep)
    why = " (the quote's `order:`)" if keep == named else ""
    return (f"{what} {times}: orders {', '.join(ids)}; one deal, one order: keep {keep}{why} and delete {drop} "
            "(`git rm records/orders/ID.yaml`, its payments moved to the kept order first); a new number would "
            "keep the deal ordered twice")


def renumber(book: Book, order: Record, by: str | None, at: str) -> dict[str, Any]:
    """The order with a fresh number of its year (the fix for duplicates a git merge brought in). An order whose
    deal has another standing order (:func:`twins`) is refused: renumbering would hide a deal ordered twice."""
    from crmctl.core.errors import PolicyError

    others = twins(book, order, order.id)
    if others:
        raise PolicyError(f"order {order.id} not renumbered: {twice_ordered(book, order, order.id, others)}")
    day = _dt.date.fromisoformat(str(order.get("date")))
    data = dict(order.data)
    data["number"] = order_number(book, day)
    data["history"] = [*(order.get("history") or []),
                       {"at": at, "by": by, "event": "renumber", "from": order.get("number"), "to": data["number"]}]
    return data


def with_status(order: Record, payments: Iterable[Record], today: _dt.date, grace_days: int = 0) -> dict[str, Any]:
    """The order's data with ``status`` as the money says today."""
    data = dict(order.data)
    data["status"] = status(order, payments, today, grace_days)
    return data


def status_fits_money(order: Record, payments: Iterable[Record]) -> bool:
    """Whether a stored status can be true for what was received (overdue depends on the day, so it is lenient)."""
    stored = order.get("status")
    if order_is_cancelled(order):
        return True
    received, total = paid(order, payments), to_decimal(order.get("total"))
    if received >= total:
        return stored == OrderStatus.PAID
    started = OrderStatus.PARTIALLY_PAID if received > 0 else OrderStatus.OPEN
    return stored in (started, OrderStatus.OVERDUE)
