"""L2C's checks for ``crmctl check``: histories, conversions, plans, payments, order status.

Each check yields :class:`Problem` values (``path:line: message``) saying
what is inconsistent and how to fix it.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Iterator

from crmctl.core.book import Book, Record
from crmctl.core.errors import NOTE, CrmError, Problem
from crmctl.core.money import to_decimal
from crmctl.core.states import LeadStatus, account_gate, opp_is_open, order_is_cancelled, quote_is_accepted
from crmctl.l2c import orders as O
from crmctl.l2c import payments as P
from crmctl.l2c import pipeline
from crmctl.l2c.rates import Rates


def check_stage_history(book: Book) -> Iterator[Problem]:
    """The last move of a deal's history ends in its current stage, and moves chain up."""
    known = {str(s["id"]) for s in pipeline.stages(book.settings)}
    for opp in book.all("opportunities"):
        moves = opp.get("stage_history") or []
        for i, move in enumerate(moves):
            if not isinstance(move, dict) or not move.get("at") or move.get("to") not in known:
                yield Problem(opp.path, opp.line("stage_history"), f"stage_history entry {i + 1} needs at and a known to-stage")
                break
            if i and move.get("from") != moves[i - 1].get("to"):
                yield Problem(opp.path, opp.line("stage_history"),
                              f"stage_history entry {i + 1} moves from {move.get('from')} but the deal was in {moves[i - 1].get('to')}")
                break
        else:
            if moves and moves[-1].get("to") != opp.get("stage"):
                yield Problem(opp.path, opp.line("stage"), f"stage is {opp.get('stage')} but the stage_history ends in "
                              f"{moves[-1].get('to')}; change stages with `crmctl opp advance`")


def check_deals_without_account(book: Book) -> Iterator[Problem]:
    """Notes, not errors: open deals with no account yet, which need one before stage pipeline.account_required_from."""
    settings = book.settings
    for opp in book.live("opportunities").values():
        if not opp.get("account") and opp_is_open(settings, opp):
            yield Problem(opp.path, opp.line("stage"), f"open deal in stage {opp.get('stage')} has no account yet; it needs "
                          f"one from stage {account_gate(settings)} on (`crmctl opp edit {opp.id} --account A`)", NOTE)


def check_converted_leads(book: Book) -> Iterator[Problem]:
    """A converted lead links to the account, contact (and opportunity) it became."""
    for lead in book.all("leads"):
        links = lead.get("converted") or {}
        if lead.get("status") == LeadStatus.CONVERTED and not links:
            yield Problem(lead.path, lead.line("status"), "status is converted but the lead has no converted: links")
        for kind, rtype in (("account", "accounts"), ("contact", "contacts"), ("opportunity", "opportunities")):
            target = links.get(kind) if isinstance(links, dict) else None
            if target and target not in book.records(rtype):
                yield Problem(lead.path, lead.line("converted"), f"converted.{kind}: no {kind} {target!r}")


def check_plans(book: Book) -> Iterator[Problem]:
    """A payment plan sums exactly to its order's total."""
    for order in book.all("orders"):
        plan = order.get("installments") or []
        if not plan:
            continue
        try:
            planned = sum((to_decimal(i.get("amount")) for i in plan), Decimal(0))
        except (CrmError, AttributeError):
            yield Problem(order.path, order.line("installments"), "installments: each needs due and amount")
            continue
        if planned != to_decimal(order.get("total")):
            yield Problem(order.path, order.line("installments"), f"the payment plan sums to {planned} but the total is "
                          f"{order.get('total')}; set it again with `crmctl payment plan {order.id}`")


def check_payments(book: Book) -> Iterator[Problem]:
    """Payments name an existing order, in its currency, for more than zero."""
    orders = book.records("orders")
    for pay in book.all("payments"):
        order = orders.get(str(pay.get("order")))
        if order is None:
            continue  # the core reference check already reports it
        if pay.get("currency") != order.get("currency"):
            yield Problem(pay.path, pay.line("currency"), f"currency {pay.get('currency')} differs from order "
                          f"{order.get('number')}'s {order.get('currency')}")
        if to_decimal(pay.get("amount")) <= 0:
            yield Problem(pay.path, pay.line("amount"), "amount must be more than zero")
        if pay.get("date") and order.get("date") and str(pay.get("date")) < str(order.get("date")):
            yield Problem(pay.path, pay.line("date"), f"date {pay.get('date')} is before order {order.get('number')}'s "
                          f"date {order.get('date')}")


def check_payment_refs(book: Book) -> Iterator[Problem]:
    """Two payments of one order with the same bank reference: one transfer recorded twice (two clones, a retry)."""
    by_order: dict[str, list[Record]] = defaultdict(list)
    for pay in book.all("payments"):
        by_order[str(pay.get("order"))].append(pay)
    for mine in by_order.values():
        seen: set[str] = set()
        for pay in sorted(mine, key=lambda p: (str(p.get("date")), p.id)):
            key = P.ref_key(pay.get("ref"))
            if key in seen:
                first = P.same_ref(mine, pay.get("ref"))[0]
                yield Problem(pay.path, pay.line("ref"), f"ref {pay.get('ref')!r} is also payment {first.id}'s on the "
                              f"same order ({first.get('amount')} {first.get('currency')} on {first.get('date')}): one "
                              "transfer recorded twice? delete the duplicate payment's file", "money")
            elif key:
                seen.add(key)


def check_order_status(book: Book) -> Iterator[Problem]:
    """An order's stored status fits the money received (paid only when fully paid, and so on)."""
    by_order: dict[str, list[Record]] = defaultdict(list)
    for pay in book.all("payments"):
        by_order[str(pay.get("order"))].append(pay)
    for order in book.all("orders"):
        if not O.status_fits_money(order, by_order[order.id]):
            received = O.paid(order, by_order[order.id])
            yield Problem(order.path, order.line("status"), f"status is {order.get('status')} but {received} of "
                          f"{order.get('total')} is paid")


def check_rates(book: Book) -> Iterator[Problem]:
    """records/rates.yaml loads, and every currency used has a rate."""
    try:
        rates = Rates.load(book, book.settings.currency)
    except CrmError as exc:
        yield Problem("records/rates.yaml", 1, str(exc), "rates")
        return
    book_cur = book.settings.currency.upper()
    for rtype in ("opportunities", "orders"):
        for rec in book.all(rtype):
            cur = str(rec.get("currency") or book_cur).upper()
            if cur != book_cur and cur not in rates.table:
                yield Problem(rec.path, rec.line("currency"), f"no {cur} rate in records/rates.yaml; reports cannot convert it")


def check_overpaid(book: Book) -> Iterator[Problem]:
    """Payments above an order's total are a prepayment someone chose, never an accident (two clones recording one receipt)."""
    by_order: dict[str, list[Record]] = defaultdict(list)
    for pay in book.all("payments"):
        by_order[str(pay.get("order"))].append(pay)
    for order in book.all("orders"):
        mine = by_order.get(order.id, [])
        if not mine or any(p.get("prepayment") for p in mine):
            continue
        try:
            received, total = O.paid(order, mine), to_decimal(order.get("total"))
        except CrmError:
            continue  # the schema check names the bad amount
        if received > total:
            ids = ", ".join(sorted(p.id for p in mine))
            yield Problem(order.path, order.line("total"), f"payments sum to {received} but the total is {total} "
                          f"(overpaid by {received - total}; payments {ids}); a receipt recorded twice (two clones, "
                          "a retry)? delete the duplicate payment, or mark a real prepayment `prepayment: true`", "money")


def check_quote_orders(book: Book) -> Iterator[Problem]:
    """An accepted quote has its order, and an order (of a won deal) made from a quote has that accepted quote."""
    quotes, orders = book.records("quotes"), book.records("orders")
    for quote in quotes.values():
        if quote.get("status") != "accepted":
            continue
        order = orders.get(str(quote.get("order") or ""))
        if order is None or order.get("quote") != quote.id:
            yield Problem(quote.path, quote.line("status"), f"accepted quote without its order "
                          f"({'order ' + repr(quote.get('order')) + ' is missing' if quote.get('order') else 'no order: link'}); "
                          "the acceptance was lost in a merge or an edit: accept it again or restore the order", "money")
    opps = book.records("opportunities")
    for order in orders.values():
        qid = order.get("quote")
        if not qid:
            continue
        quote = quotes.get(str(qid))
        if quote is not None and quote.get("status") == "accepted":
            continue
        opp = opps.get(str(order.get("opportunity") or ""))
        what = f"won deal {opp.id}'s " if opp is not None and opp.get("stage") == "won" else ""
        state = "missing" if quote is None else f"{quote.get('status')}, not accepted"
        yield Problem(order.path, order.line("quote"), f"{what}order {order.get('number')} comes from quote {qid}, "
                      f"which is {state}; restore the accepted quote from git history (`crmctl log`)", "money")


def check_order_prices(book: Book) -> Iterator[Problem]:
    """An order of a deal that has quotes comes from its accepted quote, at that quote's total: an order made from
    the deal's amount (``order add --opp``) beside a quote is a price no approval saw."""
    quotes = book.records("quotes")
    for order in book.all("orders"):
        if order_is_cancelled(order) or not order.get("opportunity"):
            continue
        qid = str(order.get("quote") or "")
        if not qid:
            named = O.quotes_named(book, str(order.get("opportunity")))
            if named:
                yield Problem(order.path, order.line("total"), f"order {order.get('number')} was made from the deal's "
                              f"amount ({order.get('total')} {order.get('currency')}) but opportunity "
                              f"{order.get('opportunity')} has {named}: a price no approval saw; cancel it (`status: cancelled` in its file) "
                              "and accept the quote (`crmctl quote accept`)", "money")
            continue
        quote = quotes.get(qid)
        if quote is None or not quote_is_accepted(quote):
            continue  # check_quote_orders names it
        try:
            differs = to_decimal(order.get("total")) != to_decimal(quote.get("total"))
        except CrmError:
            continue  # the schema check names the bad amount
        if differs:
            yield Problem(order.path, order.line("total"), f"total {order.get('total')} differs from accepted quote "
                          f"{qid}'s total {quote.get('total')} {quote.get('currency')}; an order is the quote's price: "
                          "restore the order's total from git history (`crmctl log`)", "money")


def check_deals_ordered_twice(book: Book) -> Iterator[Problem]:
    """One quote (or one deal) with two standing orders — two clones accepted it, or a merge kept both — doubles the
    receivable whatever their numbers; named once per deal, at each order but the first."""
    for order in book.all("orders"):
        others = O.twins(book, order, order.id)
        if others and order.id > others[0].id:
            line = order.line("quote") if order.get("quote") else order.line("opportunity")
            yield Problem(order.path, line, O.twice_ordered(book, order, order.id, others), "money")


CHECKS = (check_stage_history, check_deals_without_account, check_converted_leads, check_plans, check_payments, check_payment_refs, check_order_status, check_rates,
          check_overpaid, check_quote_orders, check_order_prices,
          check_deals_ordered_twice)
