"""``report changes``: how the open pipeline moved between two days, as a waterfall.

Both ends are the pipeline report's open deals (:func:`crmctl.l2c.reports.open_deals`)
read from the book as it was committed on each day, so ``open_start`` is
``report pipeline --as-of FROM``'s total and ``open_end`` is ``--as-of TO``'s.
Each deal that was open at either end falls in exactly these figures, so

    open_start + moved_in − moved_out + new_deals + increased − decreased − won − lost
               − slipped_out + slipped_in + reopened − removed ± fx = open_end

holds per group, to the cent:

* ``moved_in`` / ``moved_out`` (only with ``--by``): open at both ends but in another group at TO than at
  FROM (reassigned to another owner, advanced to another stage, another product): out of its FROM group and
  into its TO group at its FROM amount, so each group's ``open_start`` is its ``pipeline --as-of FROM``;
* ``new_deals``: did not exist at FROM, open at TO (its amount at TO);
* ``increased`` / ``decreased``: the change of its amount in its own currency,
  valued at TO's rates, for a deal that existed at both ends;
* ``fx``: what the rate moved (its FROM amount at TO's rate minus at FROM's);
* ``won`` / ``lost``: open at FROM, closed won / lost at TO (at its TO amount);
* ``slipped_out``: open at FROM, still open at TO but its close date left the period;
* ``slipped_in``: open at FROM outside the period, inside it at TO (at its FROM amount);
* ``reopened``: closed at FROM, open at TO (at its FROM amount);
* ``removed``: open at FROM, gone at TO (deleted, merged away, or in a stage crm.yaml no longer has).

Without ``--period`` every open deal counts and nothing can slip. A deal opens in
its group at FROM; its movements and its exit are counted in its group at TO
(:func:`_group_at_end`): the owner and product of its record at TO — so a deal
reassigned and then won is ``moved_out`` of the old owner and ``moved_in`` to and
``won`` by the new one, as ``report forecast`` credits the win — and its stage at
TO if that stage is open, else its stage at FROM (won and lost are not pipeline
stages). Only a removed deal, which has no record at TO, leaves from its FROM group.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.core.states import is_won
from crmctl.l2c import history
from crmctl.l2c.dates import parse_period
from crmctl.l2c.reports import Context, Query, open_deals

BY = ("all", "owner", "stage", "product")
# the figures in waterfall order, with the sign each adds to the open pipeline
FIGURES: tuple[tuple[str, int], ...] = (
    ("open_start", 1), ("moved_in", 1), ("moved_out", -1), ("new_deals", 1), ("increased", 1), ("decreased", -1), ("won", -1), ("lost", -1),
    ("slipped_out", -1), ("slipped_in", 1), ("reopened", 1), ("removed", -1), ("fx", 1), ("open_end", 1),
)
SIGN = dict(FIGURES)
MOVES = ("moved_in", "moved_out")   # between groups: always zero (and not shown) without --by


@dataclass
class Figure:
    """One bar of the waterfall: its total (a magnitude; :data:`SIGN` says which way) and its deals."""

    amount: Decimal = Decimal(0)
    deals: list[dict[str, Any]] = field(default_factory=list)

    def add(self, amount: Decimal, deal: dict[str, Any]) -> None:
        if amount or deal.get("always"):
            self.amount += amount
            self.deals.append({k: v for k, v in deal.items() if k != "always"} | {"amount": amount})


@dataclass(frozen=True)
class End:
    """One end of the comparison: its day, book and report context."""

    day: _dt.date
    book: Book
    ctx: Context

    @classmethod
    def of(cls, day: _dt.date, book: Book, period: tuple[_dt.date, _dt.date, str] | None) -> End:
        return cls(day, book, Context(book, Query(day, "stage", period)))


def changes(start: End, end: End, by: str) -> dict[str, dict[str, Figure]]:
    """``{group: {figure: Figure}}``; amounts are magnitudes in the book currency of ``end``."""
    if by not in BY:
        raise ValidationError(f"report changes --by {by!r}: choose one of {', '.join(BY)}")
    open1 = {opp.id: (opp, stage) for opp, stage in open_deals(start.ctx)}
    open2 = {opp.id: (opp, stage) for opp, stage in open_deals(end.ctx)}
    deals1, deals2 = start.book.live("opportunities"), end.book.live("opportunities")
    out: dict[str, dict[str, Figure]] = {}

    def figure(group: str, name: str) -> Figure:
        return out.setdefault(group, {n: Figure() for n, _ in FIGURES})[name]

    for rid in sorted(set(open1) | set(open2)):
        was, now = deals1.get(rid), deals2.get(rid)
        stage1 = open1[rid][1] if rid in open1 else (history.stage_on(was, start.day) if was else None)
        stage2 = open2[rid][1] if rid in open2 else (history.stage_on(now, end.day) if now else None)
        shown = now if now is not None else was
        assert shown is not None  # it is open at one end at least
        group = _group_at_end(end.ctx, was, now, stage1, stage2, by)
        row = {"id": rid, "name": shown.name,
               "owner_start": was.get("owner") if was else None, "owner_end": now.get("owner") if now else None,
               "stage_start": stage1, "stage_end": stage2,
               "close_date_start": was.get("close_date") if was else None,
               "close_date_end": now.get("close_date") if now else None}
        a1 = start.ctx.amount(was) if was else Decimal(0)
        a2 = end.ctx.amount(now) if now else Decimal(0)
        if rid in open1:
            home = _key(was, stage1, by)  # where it was open at FROM: the group whose pipeline it was in then
            figure(home, "open_start").add(a1, {**row, "always": True})
            if home != group:
                figure(home, "moved_out").add(a1, {**row, "always": True})
                figure(group, "moved_in").add(a1, {**row, "always": True})
        if rid in open2:
            figure(group, "open_end").add(a2, {**row, "always": True})
        if was is None:
            figure(group, "new_deals").add(a2, {**row, "always": True})
            continue
        if now is None:
            figure(group, "removed").add(a1, {**row, "always": True})
            continue
        if rid not in open1:  # it comes in: from outside the period, or from closed
            name = "slipped_in" if stage1 in start.ctx.stage_info and not start.ctx.closed(stage1) else "reopened"
            figure(group, name).add(a1, {**row, "always": True})
        x = end.ctx.amount(was)  # its FROM amount at TO's rates
        change = a2 - x
        figure(group, "increased" if change > 0 else "decreased").add(abs(change), row)
        figure(group, "fx").add(x - a1, row)
        if rid not in open2:  # it goes out
            figure(group, _exit(end.ctx, stage2)).add(a2, {**row, "always": True})
    return out


def _exit(ctx: Context, stage: str | None) -> str:
    """Why a deal that is still there left the open pipeline: won, lost, slipped_out or removed."""
    if stage is None or stage not in ctx.stage_info:
        return "removed"
    if not ctx.closed(stage):
        return "slipped_out"
    return "won" if is_won(ctx.settings, stage) else "lost"


def _group_at_end(ctx: Context, was: Record | None, now: Record | None, stage1: str | None, stage2: str | None,
                  by: str) -> str:
    """The group a deal's movements and exit count in: its record at TO (owner, product), its TO stage when that
    stage is open (a closed stage is no pipeline group: a won deal leaves from the stage it was in at FROM); a
    removed deal (no record at TO) its FROM group."""
    if now is None:
        assert was is not None
        return _key(was, stage1, by)
    open_at_end = stage2 in ctx.stage_info and not ctx.closed(stage2) if stage2 else False
    return _key(now, stage2 if open_at_end or was is None else stage1, by)


def _key(rec: Record, stage: str | None, by: str) -> str:
    if by == "all":
        return "all"
    value = stage if by == "stage" else rec.get(by)
    return str(value) if value else "(none)"


def period_of(text: str | None) -> tuple[_dt.date, _dt.date, str] | None:
    return parse_period(text) if text else None


def signed(name: str, amount: Decimal) -> Decimal:
    """A figure's amount with the sign it adds (fx keeps its own; the ends are positive)."""
    return amount * SIGN[name] if amount else amount  # never -0.00


def shown_figures(by: str) -> list[str]:
    """The figures a report shows: every one with ``--by``, without the moves between groups for the whole book."""
    return [name for name, _ in FIGURES if by != "all" or name not in MOVES]


def summary_rows(groups: dict[str, dict[str, Figure]], by: str, money: Any) -> list[dict[str, Any]]:
    """One row per group and figure: ``{by, figure, deals, amount}`` with the signed amount as text."""
    rows = []
    for group in sorted(groups):
        for name in shown_figures(by):
            fig = groups[group][name]
            row = {"figure": name, "deals": len(fig.deals), "amount": money(signed(name, fig.amount))}
            rows.append({by: group, **row} if by != "all" else row)
    return rows


def check_days(start: _dt.date, end: _dt.date) -> None:
    if end <= start:
        raise ValidationError(f"report changes: --to {end.isoformat()} must be after --from {start.isoformat()}")

