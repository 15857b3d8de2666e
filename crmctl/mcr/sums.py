"""The customers report's sums from the read model: one grouped SQL statement per figure instead of 185,000 records.

:func:`figures_by_account` gives, per account id, a :class:`~crmctl.mcr.figures.Figures`
holding the same sums :func:`crmctl.mcr.figures.compute` makes from records
(each account's own records, not rolled up), ready for
:func:`~crmctl.mcr.figures.finish`. SQLite groups by account and adds money
as whole minor units (:class:`Cents`: exact INTEGER sums) for book-currency
rows on real days:

* orders that are not cancelled: count, revenue over the spans, first and
  last order day;
* what is still owed: per order, its total less its payments and what its
  plan (or its total on its day) had due before today less the grace days,
  each at least 0 (:func:`crmctl.l2c.orders.outstanding` / ``overdue``);
* open deals — the pipeline; done visits — the last one, those in the window;
* the last touch: the latest day among done visits, orders, dated quotes,
  deals' stage moves and creation days, at or before today.

Rows in another currency (converted at their day's rate, :class:`~crmctl.l2c.rates.Rates`)
or with an odd day go through Python per (account, currency, day) with the
helpers ``compute`` uses. None when SQL cannot give exactly what the records
give: the read model is off or cannot answer, a record has a stored number
readers leave out (it is warned about and read without it: the records path
does that), an amount the records path reads one by one is missing or not
text, a sum would not be a whole number of units, or the latest touch day is
not a plain ISO day. Money stays Decimal throughout.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal
from typing import Any, Callable, Iterable

from crmctl.core import memo
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

        def compute() -> dict[str, dict[str, Any]] | None:
            found = _sums(model.conn, ctx)
            return None if found is None else {aid: dump_figures(fig) for aid, fig in found.items()}

        # the same folders, crm.yaml, rates, day and code give the same sums (crmctl.core.memo)
        stored = memo.remembered(book, "customers-sums", TYPES,
                                 [ctx.today, ctx.currency, ctx.rounding, ctx.rates.book_currency, ctx.rates.table], compute)
        return None if stored is None else (ctx, {aid: load_figures(fig) for aid, fig in stored.items()})
    except (sqlite3.Error, Inexact):
        return None
    finally:
        model.close()


_DECIMALS = {f.name for f in dataclasses.fields(figs.Figures) if str(f.type) in ("Decimal", "Decimal | None")}
_DECIMAL_MAPS = {f.name for f in dataclasses.fields(figs.Figures) if str(f.type) == "dict[str, Decimal]"}


def _default(f: dataclasses.Field) -> Any:  # type: ignore[type-arg]
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]


_DEFAULTS = {f.name: repr(_default(f)) for f in dataclasses.fields(figs.Figures)}


def dump_figures(fig: figs.Figures) -> dict[str, Any]:
    """A :class:`~crmctl.mcr.figures.Figures` as JSON: every Decimal as its exact text, a field still at its
    default (the same ``repr``: ``Decimal('0')`` is not ``Decimal('0.00')``) left out."""
    out: dict[str, Any] = {}
    for name, default in _DEFAULTS.items():
        value = getattr(fig, name)
        if repr(value) == default:
            continue
        if name in _DECIMALS:
            value = None if value is None else str(value)
        elif name in _DECIMAL_MAPS:
            value = {k: str(v) for k, v in value.items()}
        out[name] = value
    return out


def load_figures(data: dict[str, Any]) -> figs.Figures:
    """The :class:`~crmctl.mcr.figures.Figures` :func:`dump_figures` wrote (Decimals from their exact text)."""
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DECIMALS:
            value = None if value is None else Decimal(value)
        elif name in _DECIMAL_MAPS:
            value = {k: Decimal(v) for k, v in value.items()}
        values[name] = value
    return figs.Figures(**values)


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
    money = Cents.of(conn)
    if money is None:
        return None
    book = _book_currencies(conn, ctx)
    _revenue(conn, ctx, spans, found, money, book, cancelled)
    _owed(conn, ctx, found, money, book, cancelled)
    _pipeline(conn, ctx, spans, found, money, book)
    _visits(conn, spans, found)
    last = _last_touches(conn, spans.now, cancelled, _visited())
    if last is None:
        return None
    for aid, day in last.items():
        found[aid].last_touch = day
    return found


# ------------------------------------------------------------ exact money in SQL

# the amounts added up, each read from its own table (a UNION of the columns would be copied first)
_AMOUNTS = (("orders", "total"), ("payments", "amount"), ("opportunities", "amount"), ("order_installments", "amount"))
_MAX_DIGITS = 18  # an INTEGER holds every 18-digit number; a longer text would be cut (CAST saturates)


class Inexact(Exception):
    """SQLite gave a sum that is not a whole number of units (an overflowed subtraction became a REAL)."""


class Cents:
    """Exact money in SQLite: each amount as a whole number of its smallest unit (``10 ** -places``).

    ``"125000.5"`` with ``places`` 2 is 12500050: the text's digits with zeros
    appended, read as an INTEGER, so ``sum()`` adds exactly (and fails loudly
    on an overflow rather than rounding). :meth:`of` makes one only when every
    amount the report adds is such plain decimal text or a whole number that
    fits; :meth:`value` turns a sum back into a Decimal and refuses anything
    SQLite made a REAL (an overflowed subtraction).
    """

    def __init__(self, places: int) -> None:
        self.places = places

    @classmethod
    def of(cls, conn: Any) -> Cents | None:
        """For the orders, payments, instalments and deals of the book; None when an amount is neither text nor a
        whole number, or has too many digits.

        The texts are screened (the caller checks :meth:`~crmctl.core.readmodel.ReadModel.unscreened`): digits,
        at most one ``.`` and a leading ``-`` (:func:`crmctl.core.numbers.stored_problem`), which is what
        :meth:`sql` reads."""
        from crmctl.core.readmodel import quoted

        columns = [(t, c) for t, c in _AMOUNTS if _child(conn, t, "x", c) != "NULL"]  # no plan yet: no column
        per_table = " UNION ALL ".join(
            f"SELECT max({_decimals(quoted(c))}), max(length(replace({quoted(c)}, '.', ''))), "
            f"sum(typeof({quoted(c)}) NOT IN ('text', 'integer', 'null')) FROM {quoted(t)}" for t, c in columns)
        found = conn.execute(per_table).fetchall()
        if any(bad for _, _, bad in found):
            return None
        money = cls(max((p or 0 for p, _, _ in found), default=0))
        longest = max((n or 0 for _, n, _ in found), default=0)
        return money if longest + money.places <= _MAX_DIGITS else None

    def _digits(self, expr: str) -> str:
        return (f"(replace({expr}, '.', '') || substr('{'0' * self.places}', 1, {self.places} - {_decimals(expr)}))")

    def sql(self, expr: str) -> str:
        """SQL: the amount ``expr`` as an INTEGER count of smallest units."""
        return f"CAST({self._digits(expr)} AS INTEGER)"

    def value(self, units: Any) -> Decimal:
        """A sum of :meth:`sql` values (None: nothing added) as a Decimal; :class:`Inexact` for one SQLite did not keep whole."""
        if units is None:
            return figs.ZERO
        if not isinstance(units, int):
            raise Inexact(f"not a whole number of units: {units!r}")
        return Decimal(units).scaleb(-self.places)


def _decimals(expr: str) -> str:
    """SQL: how many digits follow the ``.`` of a decimal text (0 without one)."""
    return f"(CASE instr({expr}, '.') WHEN 0 THEN 0 ELSE length({expr}) - instr({expr}, '.') END)"


def _valid_day(expr: str) -> str:
    """SQL: 1 when ``expr`` is a real ``YYYY-MM-DD`` day, read by Python as itself (``date()`` keeps 2026-02-30 as
    it is; a modifier makes it 2026-03-02, so it differs); 0 otherwise, NULL included (never NULL: a row whose
    flag were NULL would be in neither the SQL sums nor the Python ones)."""
    return f"coalesce({expr} GLOB '{_ISO_DAY}' AND {expr} >= '0001' AND date({expr}, '+0 days') = {expr}, 0)"


def _book_currencies(conn: Any, ctx: figs.Context) -> list[str]:
    """The ``currency`` values of orders and deals that are the book currency (rate 1 on every day); NULL is too."""
    found = conn.execute("SELECT DISTINCT currency FROM orders UNION SELECT DISTINCT currency FROM opportunities")
    return [c for (c,) in found if isinstance(c, str) and ctx.rates.is_book(c)]


def _in_book(column: str, book: list[str]) -> str:
    """SQL: ``column`` holds the book currency (NULL or one of ``book``, :func:`_book_currencies`)."""
    return f"({column} IS NULL OR {column} IN ({', '.join(map(_text, book))}))"


def _text(value: str) -> str:
    """An SQL text literal."""
    return "'" + value.replace("'", "''") + "'"


def _visited() -> list[str]:
    return sorted(str(s.value) if hasattr(s, "value") else str(s) for s in VISITED)


# ------------------------------------------------------------ the sums


def _revenue(conn: Any, ctx: figs.Context, spans: figs.Spans, found: dict[str, figs.Figures], money: Cents, book: list[str],
             cancelled: str) -> None:
    """Orders that are not cancelled: count, revenue over the spans, first and last order day.

    Book-currency orders of a real day are added up per account in SQL; the others (another currency: its rate
    is the day's; an odd day) are added in Python per (account, currency, day), as the records path does.
    """
    acct = _col("orders")
    live = f"{acct} <> '' AND status IS NOT :cancelled"
    orders = (f"SELECT {acct} AS a, substr(date, 1, 10) AS d, {money.sql('total')} AS u, "
              f"{_in_book('currency', book)} AND {_valid_day('substr(date, 1, 10)')} AS s FROM orders NOT INDEXED WHERE {live}")
    span_12m, span_prev = "d > :start_12m AND d <= :now", "d > :start_prev AND d <= :start_12m"
    rows = conn.execute(
        "SELECT a, s, count(*), sum(u), sum(CASE WHEN substr(d, 1, 4) = :year THEN u END), "
        f"sum(CASE WHEN substr(d, 1, 4) = :last_year THEN u END), sum(CASE WHEN {span_12m} THEN u END), "
        f"sum({span_12m}), sum(CASE WHEN {span_prev} THEN u END), min(d), max(d) FROM ({orders}) GROUP BY a, s",
        {"year": spans.year, "last_year": spans.last_year, "start_12m": spans.start_12m, "now": spans.now,
         "start_prev": spans.start_prev, "cancelled": cancelled})
    odd = False
    for aid, simple, count, total, this_year, last_year, last_12m, count_12m, prev_12m, first, last in rows:
        if not simple:  # the group by s computes it once per order
            odd = True
            continue
        fig = found[aid]
        fig.orders += count
        fig.orders_12m += count_12m
        fig.revenue_lifetime += money.value(total)
        fig.revenue_this_year += money.value(this_year)
        fig.revenue_last_year += money.value(last_year)
        fig.revenue_12m += money.value(last_12m)
        fig.revenue_prev_12m += money.value(prev_12m)
        fig.first_order = min(fig.first_order or first, first)
        fig.last_order = max(fig.last_order or last, last)
    if not odd:
        return
    for aid, cur, raw_day, count, total in conn.execute(
            f"SELECT {acct}, currency, substr(date, 1, 10), count(*), dsum(total) FROM orders "
            f"WHERE {live} AND id IN (SELECT id FROM orders NOT INDEXED WHERE {live} AND NOT "
            f"({_in_book('currency', book)} AND {_valid_day('substr(date, 1, 10)')})) GROUP BY 1, 2, 3",
            {"cancelled": cancelled}):
        day = figs.day_of(raw_day)
        figs.add_orders(found[aid], spans, day, figs.converted(ctx, total or 0, cur, day), count)


def _owed(conn: Any, ctx: figs.Context, found: dict[str, figs.Figures], money: Cents, book: list[str], cancelled: str) -> None:
    """Outstanding and overdue per account (what :func:`crmctl.l2c.orders.outstanding` and ``overdue`` give).

    Per order: outstanding is its total less its payments, at least 0; overdue is what its plan (or, without
    one, its total on its day) had due before today less the grace days, less the payments, at least 0. A
    book-currency order whose days are all real is worked out in SQL; the others (another currency, an odd
    day) go through the l2c functions themselves.
    """
    import datetime as _dt
    import json

    cutoff = (ctx.today - _dt.timedelta(days=ctx.grace_days)).isoformat()  # due before it: days_overdue > 0
    amount, due = (_child(conn, "order_installments", "i", k) for k in ("amount", "due"))
    acct, day = _col("orders"), "substr(o.date, 1, 10)"
    orders = (
        f"SELECT o.id, o.{acct} AS a, o.currency, {day} AS d, o.total, o.installments AS plan, "
        f"{money.sql('o.total')} AS t, coalesce(p.units, 0) AS r, "
        f"CASE WHEN i.oid IS NULL THEN (CASE WHEN {day} < :cutoff THEN {money.sql('o.total')} ELSE 0 END) "
        f"ELSE i.due END AS owing, "
        f"coalesce({_in_book('o.currency', book)} AND (i.oid IS NULL AND coalesce(o.installments, '[]') = '[]' "
        f"AND {_valid_day(day)} OR i.odd = 0), 0) AS s "
        "FROM orders o NOT INDEXED "
        # the payments received by today, as l2c.orders.received_by counts them (a later-dated one is not yet)
        f"LEFT JOIN (SELECT \"order\" AS oid, sum({money.sql('amount')}) AS units "
        "FROM payments NOT INDEXED WHERE \"order\" <> '' AND (date IS NULL OR substr(date, 1, 10) <= :today) "
        "GROUP BY 1) p ON p.oid = o.id "
        f"LEFT JOIN (SELECT i.order_id AS oid, sum(CASE WHEN substr({due}, 1, 10) < :cutoff THEN {money.sql(amount)} "
        f"ELSE 0 END) AS due, sum(NOT {_valid_day(f'substr({due}, 1, 10)')}) AS odd "
        "FROM order_installments i GROUP BY 1) i ON i.oid = o.id "
        f"WHERE o.{acct} <> '' AND o.status IS NOT :cancelled")
    params = {"cutoff": cutoff, "cancelled": cancelled, "today": ctx.today.isoformat()}
    odd = False
    for aid, simple, outstanding, overdue in conn.execute(
            f"SELECT a, s, sum(max(t - r, 0)), sum(max(owing - r, 0)) FROM ({orders}) GROUP BY a, s", params):
        if not simple:
            odd = True
            continue
        fig = found[aid]
        fig.outstanding += money.value(outstanding)
        fig.overdue += money.value(overdue)
    if not odd:
        return
    for oid, aid, cur, raw_day, total, plan, received in conn.execute(
            f"SELECT id, a, currency, d, total, plan, r FROM ({orders}) WHERE NOT s", params):
        data = {"total": total, "date": raw_day, "status": None, "installments": json.loads(plan) if plan else None}
        order = Record("orders", oid, data)
        payments = [Record("payments", "", {"order": oid, "amount": money.value(received)})]
        rate = figs.converted(ctx, 1, cur, figs.day_of(raw_day))
        fig = found[aid]
        fig.outstanding += max(l2c_orders.outstanding(order, payments), figs.ZERO) * rate
        fig.overdue += l2c_orders.overdue(order, payments, ctx.today, ctx.grace_days) * rate


def _pipeline(conn: Any, ctx: figs.Context, spans: figs.Spans, found: dict[str, figs.Figures], money: Cents,
              book: list[str]) -> None:
    """The open pipeline: deals not in a closed stage, book-currency ones added in SQL, the others converted at
    their close date's rate (today's without one)."""
    closed = sorted(ctx.closed_stages)
    marks = ", ".join("?" * len(closed)) or "NULL"
    acct, in_book = _col("opportunities"), _in_book("currency", book)
    open_deals = f"{acct} <> '' AND (stage IS NULL OR CAST(stage AS TEXT) NOT IN ({marks}))"
    odd = False
    for aid, simple, units in conn.execute(
            f"SELECT a, s, sum(u) FROM (SELECT {acct} AS a, {money.sql('amount')} AS u, "
            f"{in_book} AS s FROM opportunities NOT INDEXED WHERE {open_deals}) GROUP BY a, s", closed):
        if not simple:
            odd = True
            continue
        found[aid].open_pipeline += money.value(units)
    if not odd:
        return
    for aid, cur, close, amount in conn.execute(
            f"SELECT {acct}, currency, close_date, dsum(amount) FROM opportunities "
            f"WHERE {open_deals} AND NOT {in_book} GROUP BY 1, 2, 3", closed):
        found[aid].open_pipeline += figs.converted(ctx, amount or 0, cur, close or spans.now)


def _visits(conn: Any, spans: figs.Spans, found: dict[str, figs.Figures]) -> None:
    """Done visits: the last one (at or before today) and how many in the window, per account."""
    acct = _col("visits")
    visited = _visited()
    done = f"{acct} <> '' AND status IN ({', '.join('?' * len(visited))})"
    d = "substr(date, 1, 10)"
    odd = False
    for aid, simple, last, recent in conn.execute(
            "SELECT a, s, max(CASE WHEN d <= ? THEN d END), sum(d > ? AND d <= ?) "
            f"FROM (SELECT {acct} AS a, {d} AS d, {_valid_day(d)} AS s FROM visits NOT INDEXED WHERE {done}) GROUP BY a, s",
            (spans.now, spans.window, spans.now, *visited)):
        if not simple:
            odd = True
            continue
        fig = found[aid]
        if last is not None:
            fig.last_visit = max(fig.last_visit or last, last)
        fig.visits_90d += recent
    if not odd:
        return
    # a day that is not YYYY-MM-DD but that Python reads as one (20261105) counts as the records path counts it
    for aid, raw_day, count in conn.execute(
            f"SELECT {acct}, {d}, count(*) FROM visits WHERE {done} AND NOT {_valid_day(d)} GROUP BY 1, 2", visited):
        day = figs.day_of(raw_day)
        if day:
            figs.add_done_visits(found[aid], spans, day, count)


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
