"""An account's key figures: revenue, pipeline, receivables, visits, last touch and health.

Everything is computed for a *group* of account ids (an account and its
subsidiaries, so figures roll up) from a :class:`~crmctl.mcr.related.Related`
index, in the book currency. The health score is a documented sum of five
parts (see README, "The health score"):

    recency   30 × max(0, 1 − days since last touch / dormant_after_days)
    cadence   20 × min(1, visits done in the last 90 days / (90 / cadence days))
    growth    20 × clamp(1 + 2 × growth, 0, 1)   (growth = last 12 months vs the 12 before)
    payment   20 × (1 − overdue / outstanding)
    pipeline  10 if there is open pipeline

rounded half-up to a whole number from 0 to 100.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable

from crmctl.core.book import Book, Record, today
from crmctl.core.limits import read
from crmctl.core.money import quantize, to_decimal
from crmctl.core.states import VISITED, VisitStatus, closed_stages, order_is_cancelled, probabilities
from crmctl.l2c import orders as l2c_orders
from crmctl.l2c.rates import Rates
from crmctl.mcr.related import AccountTree, Related
from crmctl.sfe.cadence import cadence_rule

ZERO = Decimal(0)
WINDOW_DAYS = 90  # the visit-frequency window


@dataclass
class Context:
    """What every figure needs: the book, its index, rates, the date and settings."""

    book: Book
    related: AccountTree
    rates: Rates
    today: _dt.date
    currency: str
    closed_stages: frozenset[str]
    probabilities: dict[str, Decimal]
    grace_days: int
    rounding: str = "half-up"
    dormant_days: int = 180
    cadence: Callable[[Any], int] = lambda account: 0  # noqa: E731 - days between visits (sfe.cadence)

    @classmethod
    def build(cls, book: Book, related: AccountTree | None = None, day: _dt.date | None = None) -> Context:
        """Figures as of ``day`` (default today in the book's zone)."""
        settings = book.settings
        return cls(
            book=book, related=related or Related(book), rates=Rates.load(book, settings.currency),
            today=day or today(settings), currency=settings.currency,
            closed_stages=closed_stages(settings),
            probabilities=dict(probabilities(settings)),
            grace_days=int(read(settings, "payments.overdue_grace_days", 0)),
            rounding=settings.rounding,
            dormant_days=int(settings.get("account.lifecycle_rules.dormant_after_days", 180)),
            cadence=cadence_rule(settings),
        )

    def money(self, amount: Decimal) -> Decimal:
        return quantize(amount, self.currency, self.rounding)

    def days_ago(self, iso: str | None) -> int | None:
        return None if not iso else (self.today - _dt.date.fromisoformat(iso[:10])).days


@dataclass
class Figures:
    """Rolled-up figures of one account group (money in the book currency)."""

    revenue_lifetime: Decimal = ZERO
    revenue_this_year: Decimal = ZERO
    revenue_last_year: Decimal = ZERO
    revenue_12m: Decimal = ZERO
    revenue_prev_12m: Decimal = ZERO
    orders: int = 0
    orders_12m: int = 0
    first_order: str | None = None
    last_order: str | None = None
    open_opportunities: int = 0
    open_pipeline: Decimal = ZERO
    weighted_pipeline: Decimal = ZERO
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    last_visit: str | None = None
    next_visit: str | None = None
    visits_90d: int = 0
    cadence_days: int | None = None
    open_follow_ups: int = 0
    last_touch: str | None = None
    days_since_touch: int | None = None
    growth: Decimal | None = None
    health: int = 0
    health_parts: dict[str, Decimal] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def day_of(value: Any) -> str:
    """The ``YYYY-MM-DD`` of a date or timestamp; "" for anything else (a hand edit `check` reports)."""
    text = str(value or "")[:10]
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


def converted(ctx: Context, amount: Any, currency: str | None, day: str | None) -> Decimal:
    return ctx.rates.estimate(to_decimal(amount or 0), currency, day)


def is_open(ctx: Context, opp: Record) -> bool:
    return str(opp.get("stage")) not in ctx.closed_stages


def cadence_days(ctx: Context, account: Record) -> int | None:
    """Days between visits for this account (:mod:`crmctl.sfe.cadence`, the rule `visit plan` uses); None = none."""
    return ctx.cadence(account) or None


def touches(ctx: Context, ids: list[str]) -> Iterable[str]:
    """Dates the customer was in touch: done visits, orders, quotes and opportunity moves."""
    rel = ctx.related
    for visit in rel.of("visits", ids):
        if visit.get("status") in VISITED:
            yield day_of(visit.get("date"))
    for order in rel.of("orders", ids):
        if not order_is_cancelled(order):
            yield day_of(order.get("date"))
    for quote in rel.of("quotes", ids):
        if quote.get("date"):
            yield day_of(quote.get("date"))
    for opp in rel.of("opportunities", ids):
        for move in opp.get("stage_history") or []:
            if move.get("at"):
                yield day_of(move["at"])
        if opp.get("created"):
            yield day_of(opp.get("created"))


@dataclass(frozen=True)
class Spans:
    """The days figures are counted over, as ISO texts: this year, the last 12 months and the 12 before, the window."""

    year: str
    last_year: str
    start_12m: str
    start_prev: str
    now: str
    window: str  # visits after it count towards the cadence

    @classmethod
    def of(cls, today_: _dt.date) -> Spans:
        return cls(str(today_.year), str(today_.year - 1), (today_ - _dt.timedelta(days=365)).isoformat(),
                   (today_ - _dt.timedelta(days=730)).isoformat(), today_.isoformat(),
                   (today_ - _dt.timedelta(days=WINDOW_DAYS)).isoformat())


def add_orders(fig: Figures, spans: Spans, day: str, amount: Decimal, count: int = 1) -> None:
    """Count ``count`` orders of ``day`` (``""`` when unknown) worth ``amount`` (book currency) into the revenue figures."""
    fig.orders += count
    fig.revenue_lifetime += amount
    if day[:4] == spans.year:
        fig.revenue_this_year += amount
    elif day[:4] == spans.last_year:
        fig.revenue_last_year += amount
    if spans.start_12m < day <= spans.now:
        fig.revenue_12m += amount
        fig.orders_12m += count
    elif spans.start_prev < day <= spans.start_12m:
        fig.revenue_prev_12m += amount
    if day:
        fig.first_order = min(fig.first_order or day, day)
        fig.last_order = max(fig.last_order or day, day)


def add_done_visits(fig: Figures, spans: Spans, day: str, count: int = 1) -> None:
    """Count ``count`` visits done on ``day`` (a known day): the last visit and the visits in the window."""
    if day <= spans.now:
        fig.last_visit = max(fig.last_visit or day, day)
        if day > spans.window:
            fig.visits_90d += count


def compute(ctx: Context, account: Record, ids: list[str] | None = None) -> Figures:
    """The figures of ``account`` rolled up over ``ids`` (default: it and its subsidiaries)."""
    ids = ids if ids is not None else ctx.related.group(account.id)
    rel, today_ = ctx.related, ctx.today
    fig = Figures()
    spans = Spans.of(today_)
    now = spans.now
    for order in rel.of("orders", ids):
        if order_is_cancelled(order):
            continue
        day = day_of(order.get("date"))
        add_orders(fig, spans, day, converted(ctx, order.get("total"), order.get("currency"), day))
        payments = rel.payments_of(order)
        rate = converted(ctx, 1, order.get("currency"), day)
        fig.outstanding += max(l2c_orders.outstanding(order, payments), ZERO) * rate
        fig.overdue += l2c_orders.overdue(order, payments, today_, ctx.grace_days) * rate
    for opp in rel.of("opportunities", ids):
        if not is_open(ctx, opp):
            continue
        fig.open_opportunities += 1
        amount = converted(ctx, opp.get("amount"), opp.get("currency"), opp.get("close_date") or now)
        fig.open_pipeline += amount
        fig.weighted_pipeline += amount * ctx.probabilities.get(str(opp.get("stage")), ZERO) / 100
    for visit in rel.of("visits", ids):
        day, state = day_of(visit.get("date")), visit.get("status")
        if not day:
            continue
        if state in VISITED:
            add_done_visits(fig, spans, day)
        elif state == VisitStatus.PLANNED and day >= now:
            fig.next_visit = min(fig.next_visit or day, day)
        fig.open_follow_ups += sum(1 for step in visit.get("next_steps") or [] if step.get("done") is not True)
    fig.last_touch = max((d for d in touches(ctx, ids) if d and d <= now), default=None)
    return finish(ctx, fig, account)


def finish(ctx: Context, fig: Figures, account: Record) -> Figures:
    """The derived figures once the sums are in (``fig`` not yet rounded): days since touch, cadence, growth,
    money rounded to the currency, health. Also for sums made elsewhere (the customers report's SQL)."""
    fig.days_since_touch = ctx.days_ago(fig.last_touch)
    fig.cadence_days = cadence_days(ctx, account)
    if fig.revenue_prev_12m:
        fig.growth = fig.revenue_12m / fig.revenue_prev_12m - 1
    for name in ("revenue_lifetime", "revenue_this_year", "revenue_last_year", "revenue_12m", "revenue_prev_12m",
                 "open_pipeline", "weighted_pipeline", "outstanding", "overdue"):
        setattr(fig, name, ctx.money(getattr(fig, name)))
    fig.health_parts = health_parts(fig, ctx.dormant_days)
    fig.health = int(sum(fig.health_parts.values(), ZERO).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return fig


def _clamp(value: Decimal) -> Decimal:
    return min(max(value, ZERO), Decimal(1))


def health_parts(fig: Figures, dormant_days: int) -> dict[str, Decimal]:
    """The five parts of the health score (the formula is in the module docstring and README)."""
    d = fig.days_since_touch
    recency = Decimal(30) * _clamp(1 - Decimal(d) / Decimal(max(dormant_days, 1))) if d is not None else ZERO
    if fig.cadence_days:
        expected = Decimal(WINDOW_DAYS) / Decimal(fig.cadence_days)
        cadence = Decimal(20) * _clamp(Decimal(fig.visits_90d) / expected)
    else:
        cadence = Decimal(20)  # nothing expected, nothing missed
    if fig.revenue_prev_12m:
        growth = Decimal(20) * _clamp(1 + 2 * (fig.revenue_12m / fig.revenue_prev_12m - 1))
    else:
        growth = Decimal(20) if fig.revenue_12m else Decimal(10)  # new revenue is growth; none at all is neutral
    payment = Decimal(20) * (1 - fig.overdue / fig.outstanding) if fig.outstanding > 0 else Decimal(20)
    pipeline = Decimal(10) if fig.open_pipeline > 0 else ZERO
    q = Decimal("0.01")
    return {k: v.quantize(q, rounding=ROUND_HALF_UP) for k, v in
            (("recency", recency), ("cadence", cadence), ("growth", growth), ("payment", payment), ("pipeline", pipeline))}
