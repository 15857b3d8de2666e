"""Customer value over all accounts: the rows of ``crmctl report customers``.

One :class:`~crmctl.mcr.related.Related` index serves every account, so the
report is one pass per record type plus constant work per account. Each row
carries the account's own figures (not rolled up, so a group and its
subsidiaries are not counted twice) and an RFM segment.

RFM: among accounts with at least one order, each gets a 1–5 score (5 best)
for Recency (days since the last order, fewer is better), Frequency (orders
in the last 12 months) and Monetary (revenue in the last 12 months), by
quintile of rank (ties share the lower score). Segments, first match wins:

    champions    R ≥ 4 and F ≥ 4 and M ≥ 4
    new          R ≥ 4 and F = 1 (first order lately) and only one order ever
    loyal        R ≥ 3 and (F + M) / 2 ≥ 3
    promising    R ≥ 3
    at_risk      R ≤ 2 and (F + M) / 2 ≥ 3  (were good, gone quiet)
    hibernating  everything else
    prospect     no orders yet (no scores)
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Callable, Sequence

from crmctl.core.book import Book
from crmctl.core.percent import round_half_up
from crmctl.mcr import figures as figs
from crmctl.mcr.related import VIEW_TYPES, AccountTree, Related

COLUMNS = ("id", "name", "tier", "lifecycle", "owner", "revenue_12m", "growth", "revenue_lifetime", "open_pipeline",
           "overdue", "last_touch", "days_since_touch", "health", "rfm", "segment")


# what a row from the read model holds before it is finished: the account's fields and what RFM ranks by
RANKED = ("id", "name", "tier", "lifecycle", "owner", "parent", "currency", "revenue_12m", "orders", "orders_12m",
          "last_order", "last_touch", "rfm", "segment")


def customer_rows(book: Book, related: Related | None = None, day: _dt.date | None = None, where: Sequence[str] = (),
                  sort: Sequence[str] = (), limit: int | None = None, fields: Any = ()) -> list[dict[str, Any]]:
    """One row per live account as of ``day`` (default today): revenue, growth, pipeline, overdue, last touch, health, RFM;
    then filtered by ``where``, sorted by ``sort`` and cut to ``limit`` (:func:`crmctl.core.query.apply`, ``fields``).

    Today's figures come from the read model's sums (:mod:`crmctl.mcr.sums`) when it can give them exactly;
    otherwise (and for a past day or a given index) from the records. From the read model, when ``where`` and
    ``sort`` read only :data:`RANKED` columns, only the rows kept are finished (rounded, growth, health: the
    same figures :func:`crmctl.mcr.figures.finish` gives every row): ``--limit 20`` finishes 20 accounts.
    """
    from crmctl.core.query import apply

    found = _sums_from_model(book) if related is None and day is None else None
    if found is None:
        # contacts carry no money and no touches: a report over 10,000 accounts need not read 20,000 of them
        related = related or Related(book, [t for t in VIEW_TYPES if t != "contacts"])
        ctx = figs.Context.build(book, related, day)
        accounts = sorted((a for a in related.accounts.values() if not a.merged_into), key=lambda a: a.id)
        rows = [_row(ctx, account, figs.compute(ctx, account, [account.id])) for account in accounts]
        return apply(_ranked(rows), where, sort, limit, fields)
    ctx, live, sums = found
    if not _reads_only(where, sort, RANKED):
        rows = [_row(ctx, account, figs.finish(ctx, sums.get(account.id) or figs.Figures(), account)) for account in live]
        return apply(_ranked(rows), where, sort, limit, fields)
    early = _ranked([_early_row(ctx, account, sums.get(account.id)) for account in live])
    kept = apply(early, where, sort, limit, fields)
    by_id = {account.id: account for account in live}
    return [_finished(ctx, by_id[row["id"]], sums.get(row["id"]), row) for row in kept]


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their RFM scores and segment (``_recency`` used and removed)."""
    add_rfm(rows)
    for row in rows:
        row.pop("_recency")
    return rows


def _reads_only(where: Sequence[str], sort: Sequence[str], columns: Sequence[str]) -> bool:
    from crmctl.core.query import parse_condition, sort_name

    names = [parse_condition(expr)[0] for expr in where] + [sort_name(key) for key in sort]
    return all(name.split(".")[0] in columns for name in names)


def _sums_from_model(book: Book) -> tuple[figs.Context, list[Any], dict[str, figs.Figures]] | None:
    """Today's context, the live accounts by id and their unfinished sums from the read model; None when it cannot
    give them exactly (read the records)."""
    from crmctl.mcr import sums

    accounts = book.records("accounts")  # first, as the records path reads them (the order of its warnings)
    found = sums.figures_by_account(book, lambda: figs.Context.build(book, AccountTree(book)))
    if found is None:
        return None
    ctx, by_account = found
    live = sorted((a for a in accounts.values() if not a.merged_into), key=lambda a: a.id)
    return ctx, live, by_account


def _early_row(ctx: figs.Context, account: Any, fig: figs.Figures | None) -> dict[str, Any]:
    """The :data:`RANKED` columns of an account's row from its unfinished sums (and ``_recency``)."""
    fig = fig or figs.Figures()
    return {
        "id": account.id, "name": account.name, "tier": account.get("tier"), "lifecycle": account.get("lifecycle"),
        "owner": account.get("owner"), "parent": account.get("parent"), "currency": ctx.currency,
        "revenue_12m": ctx.money(fig.revenue_12m), "orders": fig.orders, "orders_12m": fig.orders_12m,
        "last_order": fig.last_order, "last_touch": fig.last_touch, "_recency": ctx.days_ago(fig.last_order),
    }


def _finished(ctx: figs.Context, account: Any, fig: figs.Figures | None, early: dict[str, Any]) -> dict[str, Any]:
    """The whole row of an account kept from its early row: as :func:`_row` and RFM make it, keys in that order."""
    row = _row(ctx, account, figs.finish(ctx, fig or figs.Figures(), account))
    row.pop("_recency")
    row["rfm"], row["segment"] = early["rfm"], early["segment"]
    return row


def _row(ctx: figs.Context, account: Any, fig: figs.Figures) -> dict[str, Any]:
    """One account's row (``_recency`` is for the RFM scores and removed after)."""
    return {
        "id": account.id, "name": account.name, "tier": account.get("tier"), "lifecycle": account.get("lifecycle"),
        "owner": account.get("owner"), "parent": account.get("parent"), "currency": ctx.currency,
        "revenue_12m": fig.revenue_12m, "revenue_prev_12m": fig.revenue_prev_12m,
        "growth": None if fig.growth is None else round_half_up(fig.growth * 100, 1),
        "revenue_lifetime": fig.revenue_lifetime, "orders": fig.orders, "orders_12m": fig.orders_12m,
        "open_pipeline": fig.open_pipeline, "outstanding": fig.outstanding, "overdue": fig.overdue,
        "last_order": fig.last_order, "last_touch": fig.last_touch, "days_since_touch": fig.days_since_touch,
        "health": fig.health,
        "_recency": ctx.days_ago(fig.last_order),
    }


def quintiles(values: Sequence[Any], better: Callable[[Any], Any]) -> list[int]:
    """A 1–5 score per value by rank (5 = best quintile); equal values share the lower score."""
    n = len(values)
    order = sorted(range(n), key=lambda i: better(values[i]))  # worst first
    scores = [0] * n
    first_rank: dict[Any, int] = {}
    for rank, i in enumerate(order):
        key = better(values[i])
        start = first_rank.setdefault(key, rank)
        scores[i] = 1 + (5 * start) // n
    return scores


def segment(r: int, f: int, m: int, orders_ever: int) -> str:
    fm = Decimal(f + m) / 2
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 4 and f == 1 and orders_ever == 1:
        return "new"
    if r >= 3 and fm >= 3:
        return "loyal"
    if r >= 3:
        return "promising"
    if fm >= 3:
        return "at_risk"
    return "hibernating"


def add_rfm(rows: list[dict[str, Any]]) -> None:
    """Give each row ``rfm`` ("R-F-M" scores) and ``segment`` (see the module docstring)."""
    buyers = [row for row in rows if row["orders"]]
    r = quintiles([row["_recency"] for row in buyers], lambda d: -d)
    f = quintiles([row["orders_12m"] for row in buyers], lambda x: x)
    m = quintiles([row["revenue_12m"] for row in buyers], lambda x: x)
    for row, rs, fs, ms in zip(buyers, r, f, m):
        row["rfm"] = f"{rs}{fs}{ms}"
        row["segment"] = segment(rs, fs, ms, row["orders"])
    for row in rows:
        row.setdefault("rfm", None)
        row.setdefault("segment", "prospect")
