"""The customers report's sums from the read model: one SQL pass per type instead of 185,000 parsed records.

:func:`figures_by_account` gives, per account id, a :class:`~crmctl.mcr.figures.Figures`
holding the same sums :func:`crmctl.mcr.figures.compute` makes from records
(each account's own records, not rolled up), ready for
:func:`~crmctl.mcr.figures.finish`. SQLite groups and adds; Python converts
currencies (:class:`~crmctl.l2c.rates.Rates`, by day) and files each group
under its spans with the same helpers ``compute`` uses:

* orders that are not cancelled: grouped by (account, currency, day), the
  totals added exactly (``dsum``, decimal text) — revenue and order counts;
* what is still owed: per order, its payments and plan added in SQL; an
  order paid at least its total and its whole plan owes nothing, the others
  go through :func:`crmctl.l2c.orders.outstanding` / ``overdue`` themselves;
* open deals grouped by (account, currency, close date) — the pipeline;
* done visits grouped by (account, day) — last visit, visits in the window;
* the last touch: the latest day among done visits, orders, dated quotes,
  deals' stage moves and creation days, at or before today.

None when SQL cannot give exactly what the records give: the read model is
off or cannot answer, a record has a stored number readers leave out (it is
warned about and read without it: the records path does that), an amount
the records path reads one by one is missing or not text, or the latest
touch day is not a plain ISO day. Money stays Decimal throughout.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, Callable, Iterable

from crmctl.core.book import Book, Record
from crmctl.core.states import VISITED, OrderStatus
from crmctl.l2c import orders as l2c_orders
from crmctl.mcr import figures as figs
from crmctl.mcr.index import account_field

# what the report reads besides accounts, in the order the records path reads them (its warnings' order)
TYPES = ("opportunities", "quotes", "orders", "visits", "payments")
_ISO_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


def figures_by_account(book: Book, context: Callable[[], figs.Context]) -> tuple[figs.Context, dict[str, figs.Figures]] | None:
    """Each account's own sums (unrounded, before :func:`~crmctl.mcr.figures.finish`) and the context they were
    made in (``context()``, called once the tables are fresh: the records path reads rates after the records);
    None: read the records."""
    import sqlite3

    from crmctl.core import readmodel

    model = readmodel.open_model(book)
    if model is None:
        return None
    try:
        if not readmodel.refresh_for(book, model, TYPES) or not model.unscreened(TYPES):
            return None
        model.conn.create_aggregate("dsum", 1, readmodel.DecimalSum)  # type: ignore[arg-type]
        ctx = context()
        found = _sums(model.conn, ctx)
        return None if found is None else (ctx, found)
    except sqlite3.Error:
        return None
    finally:
        model.close()


def _child(conn: Any, table: str, alias: str, column: str) -> str:
    """``alias.column`` of a child table, or NULL when no entry has that key yet (child columns come from the entries)."""
    from crmctl.core.readmodel import quoted

    names = {row[1] for row in conn.execute(f"PRAGMA table_info({quoted(table)})")}
    return f"{alias}.{quoted(column)}" if column in names else "NULL"


def _col(rtype: str) -> str:
    from crmctl.core.readmodel import quoted

    return quoted(account_field(rtype) or "account")


def _incomplete(conn: Any, cancelled: str) -> bool:
    """True when an amount the records path reads one by one is missing or not text (an order without a total, a
    payment without an amount, an instalment without an amount or a due day): it stops or reads it differently."""
    plan = [_child(conn, "order_installments", "i", k) for k in ("amount", "due")]
    checks = [
        (f"SELECT 1 FROM orders WHERE {_col('orders')} <> '' AND status IS NOT ? "
         "AND (total IS NULL OR typeof(total) <> 'text') LIMIT 1", (cancelled,)),
        ("SELECT 1 FROM payments WHERE \"order\" <> '' AND (amount IS NULL OR typeof(amount) <> 'text') LIMIT 1", ()),
        (f"SELECT 1 FROM order_installments i WHERE {plan[0]} IS NULL OR typeof({plan[0]}) <> 'text' "
         f"OR {plan[1]} IS NULL LIMIT 1", ()),
    ]
    return any(conn.execute(sql, params).fetchone() for sql, params in checks)


def _sums(conn: Any, ctx: figs.Context) -> dict[str, figs.Figures] | None:
    spans = figs.Spans.of(ctx.today)
    found: dict[str, figs.Figures] = defaultdict(figs.Figures)
    cancelled = OrderStatus.CANCELLED.value
    if _incomplete(conn, cancelled):
        return None
    # revenue: orders that are not cancelled, by account, currency and day
    for aid, cur, raw_day, count, total in conn.execute(
            f"SELECT {_col('orders')}, currency, substr(date, 1, 10), count(*), dsum(total) FROM orders "
            f"WHERE {_col('orders')} <> '' AND status IS NOT ? GROUP BY 1, 2, 3", (cancelled,)):
        day = figs.day_of(raw_day)
        figs.add_orders(found[aid], spans, day, figs.converted(ctx, total or 0, cur, day), count)
    _owed(conn, ctx, found, cancelled)
    # open pipeline: deals not in a closed stage, by account, currency and close date
    closed = sorted(ctx.closed_stages)
    marks = ", ".join("?" * len(closed)) or "NULL"
    for aid, cur, close, amount in conn.execute(
            f"SELECT {_col('opportunities')}, currency, close_date, dsum(amount) FROM opportunities "
            f"WHERE {_col('opportunities')} <> '' AND (stage IS NULL OR CAST(stage AS TEXT) NOT IN ({marks})) "
            f"GROUP BY 1, 2, 3", closed):
        found[aid].open_pipeline += figs.converted(ctx, amount or 0, cur, close or spans.now)
    # done visits by account and day
    visited = sorted(str(s.value) if hasattr(s, "value") else str(s) for s in VISITED)
    for aid, raw_day, count in conn.execute(
            f"SELECT {_col('visits')}, substr(date, 1, 10), count(*) FROM visits WHERE {_col('visits')} <> '' "
            f"AND status IN ({', '.join('?' * len(visited))}) GROUP BY 1, 2", visited):
        day = figs.day_of(raw_day)
        if day:
            figs.add_done_visits(found[aid], spans, day, count)
    last = _last_touches(conn, spans.now, cancelled, visited)
    if last is None:
        return None
    for aid, day in last.items():
        found[aid].last_touch = day
    return found


def _owed(conn: Any, ctx: figs.Context, found: dict[str, figs.Figures], cancelled: str) -> None:
    """Outstanding and overdue per account: orders that may still owe go through the l2c functions themselves.

    An order whose payments add up to at least its total and its whole plan owes nothing and can have nothing
    overdue (plan amounts are never negative once screened), so only the others are looked at one by one.
    """
    import json

    amount = _child(conn, "order_installments", "i", "amount")
    rows = conn.execute(
        f"SELECT o.id, o.{_col('orders')}, o.currency, substr(o.date, 1, 10), o.total, p.paid, i.planned, o.installments "
        "FROM orders o "
        # the payments received by today, as l2c.orders.received_by counts them (a later-dated one is not yet)
        "LEFT JOIN (SELECT \"order\" AS oid, dsum(amount) AS paid FROM payments WHERE \"order\" <> '' "
        "AND (date IS NULL OR substr(date, 1, 10) <= ?) GROUP BY 1) p "
        "ON p.oid = o.id "
        f"LEFT JOIN (SELECT i.order_id AS oid, dsum({amount}) AS planned FROM order_installments i GROUP BY 1) i "
        f"ON i.oid = o.id WHERE o.{_col('orders')} <> '' AND o.status IS NOT ?", (ctx.today.isoformat(), cancelled))
    exact = Decimal  # the texts are clean (screened): Decimal reads them as to_decimal does
    for oid, aid, cur, raw_day, total, paid, planned, plan in rows:
        received = exact(paid) if paid is not None else figs.ZERO
        owed = exact(total)
        if planned is not None and exact(planned) > owed:
            owed = exact(planned)
        if received >= owed:
            continue
        data = {"total": total, "date": raw_day, "status": None, "installments": json.loads(plan) if plan else None}
        order = Record("orders", oid, data)
        payments = [Record("payments", "", {"order": oid, "amount": paid})] if paid is not None else []
        day = figs.day_of(raw_day)
        rate = figs.converted(ctx, 1, cur, day)
        fig = found[aid]
        fig.outstanding += max(l2c_orders.outstanding(order, payments), figs.ZERO) * rate
        fig.overdue += l2c_orders.overdue(order, payments, ctx.today, ctx.grace_days) * rate


def _last_touches(conn: Any, now: str, cancelled: str, visited: Iterable[str]) -> dict[str, str] | None:
    """The latest touch day per account (see :func:`crmctl.mcr.figures.touches`); None when a day is not plain ISO."""
    visited = list(visited)
    at = _child(conn, "opportunity_stage_history", "h", "at")
    days = (
        f"SELECT {_col('visits')} AS a, substr(date, 1, 10) AS d FROM visits "
        f"WHERE status IN ({', '.join('?' * len(visited))})",
        f"SELECT {_col('orders')}, substr(date, 1, 10) FROM orders WHERE status IS NOT ?",
        f"SELECT {_col('quotes')}, substr(date, 1, 10) FROM quotes WHERE date IS NOT NULL AND date <> '' AND date <> 0",
        f"SELECT o.{_col('opportunities')}, substr({at}, 1, 10) FROM opportunity_stage_history h "
        f"JOIN opportunities o ON o.id = h.opportunity_id WHERE {at} IS NOT NULL AND {at} <> '' AND {at} <> 0",
        f"SELECT {_col('opportunities')}, substr(created, 1, 10) FROM opportunities "
        "WHERE created IS NOT NULL AND created <> '' AND created <> 0",
    )
    union = " UNION ALL ".join(days)
    params = [*visited, cancelled]
    # a day that is not YYYY-MM-DD but that Python reads as one (20261105) would count there: read the records
    for (odd,) in conn.execute(f"SELECT DISTINCT d FROM ({union}) WHERE a <> '' AND d NOT GLOB '{_ISO_DAY}'", params):
        if figs.day_of(odd):
            return None
    out: dict[str, str] = {}
    for aid, day in conn.execute(f"SELECT a, max(d) FROM ({union}) WHERE a <> '' AND d GLOB '{_ISO_DAY}' "
                                 "AND d <= ? GROUP BY a", [*params, now]):
        if figs.day_of(day) != day:  # 2026-02-30: not a day; an earlier one may be the touch
            return None
        out[aid] = day
    return out
