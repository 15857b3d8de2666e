"""L2C reports as rows: pipeline, funnel, forecast, velocity, receivables.

Each report is a function ``(book, query) -> list of row dicts``; the CLI
shows the rows as a table, JSON, CSV or YAML, and the PDF template gets the
same rows. Every report is computed as of a day (default today) from the
stage histories and payment dates, so ``--as-of`` shows the past as it stood.
Amounts are in the book's currency, converted with the dated rates in
``records/rates.yaml`` at the as-of day.
"""
from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.core.limits import read
from crmctl.core.money import money_str, quantize, to_decimal
from crmctl.core.percent import percent_text
from crmctl.core.states import LeadStatus, order_is_cancelled, probabilities
from crmctl.l2c import history, pipeline
from crmctl.l2c.dates import day_of, parse_period, quarter_of
from crmctl.l2c.orders import days_overdue, schedule
from crmctl.l2c.payments import allocate
from crmctl.l2c.rates import Rates

Row = dict[str, Any]
NONE = "(none)"
# which --by each report understands; the first is its default
# groupings of a deal by its owner's user record: the owner's manager, team, territory
BY_OWNER = ("manager", "team", "territory")
BY: dict[str, tuple[str, ...]] = {
    "pipeline": ("stage", "owner", "source", "month", "product", *BY_OWNER),
    "funnel": ("all", "owner", "source", "month", "product", *BY_OWNER),
    "forecast": ("owner", "source", "stage", "month", "product", *BY_OWNER),
    "velocity": ("all", "owner", "source", "product", *BY_OWNER),
    "receivables": ("account", "owner", "month"),
}
BUCKETS = ("current", "1-30", "31-60", "61-90", "over_90")


@dataclass(frozen=True)
class Query:
    """What a report is asked: grouping, period (first, last, label) and the as-of day."""

    as_of: _dt.date
    by: str
    period: tuple[_dt.date, _dt.date, str] | None = None

    def within(self, day: _dt.date | None) -> bool:
        return self.period is None or (day is not None and self.period[0] <= day <= self.period[1])


def make_query(report: str, as_of: _dt.date, by: str | None, period: str | None) -> Query:
    allowed = BY[report]
    chosen = by or allowed[0]
    if chosen not in allowed:
        raise ValidationError(f"report {report} --by {chosen!r}: choose one of {', '.join(allowed)}")
    return Query(as_of, chosen, parse_period(period) if period else None)


class Context:
    """What every report needs from the book, read once."""

    def __init__(self, book: Book, query: Query) -> None:
        self.book, self.q, self.settings = book, query, book.settings
        self.currency = book.settings.currency
        self.rates = Rates.load(book, self.currency, book.settings.rounding)
        self.stage_ids = [str(s["id"]) for s in pipeline.stages(self.settings)]
        # looked up once per deal: a dict beats scanning the settings each time
        self.stage_info = {str(s["id"]): s for s in pipeline.stages(self.settings)}
        self.probabilities = probabilities(self.settings)
        self.users = book.records("users") if query.by in BY_OWNER else {}

    def closed(self, stage: str) -> bool:
        return bool(self.stage_info[stage].get("closed"))

    def money(self, amount: Decimal) -> str:
        return money_str(amount, self.currency)

    def amount(self, rec: Record, field: str = "amount") -> Decimal:
        """A record's amount in the book currency at the as-of day's rate."""
        value = rec.get(field)
        if value in (None, ""):
            return Decimal(0)
        return self.rates.convert(to_decimal(value), str(rec.get("currency") or self.currency), self.q.as_of)

    def opps(self) -> list[Record]:
        return list(self.book.live("opportunities").values())

    def key(self, rec: Record, stage: str | None = None, month_of: Any = None) -> str:
        by = self.q.by
        if by == "all":
            return "all"
        if by == "stage":
            return stage or str(rec.get("stage"))
        if by == "month":
            return str(month_of or "")[:7] or NONE
        if by in BY_OWNER:  # the owner's manager, team or territory, from the owner's user record
            owner = self.users.get(str(rec.get("owner") or ""))
            return str((owner.get(by) if owner is not None else None) or NONE)
        return str(rec.get(by) or NONE)

    def order_keys(self, keys: Iterable[str]) -> list[str]:
        if self.q.by == "stage":
            return sorted(keys, key=lambda k: self.stage_ids.index(k) if k in self.stage_ids else 99)
        return sorted(keys)


def _with_total(rows: list[Row], label_col: str, sums: list[str], ctx: Context) -> list[Row]:
    if len(rows) < 2:
        return rows
    total: Row = {label_col: "total"}
    for col in sums:
        values = [r[col] for r in rows if r.get(col) not in (None, "")]
        if not values:
            total[col] = ""  # e.g. quota when rows are not people
        elif isinstance(values[0], int):
            total[col] = sum(values)
        else:
            total[col] = ctx.money(sum((Decimal(v) for v in values), Decimal(0)))
    return [*rows, total]


# ------------------------------------------------------------------ pipeline
def open_deals(ctx: Context) -> Iterable[tuple[Record, str]]:
    """``(deal, stage)`` of each deal open on the as-of day whose close date is in the period (if one is asked).

    Open: its stage that day (from its history) is a known stage that is not closed.
    What the pipeline report counts, and what ``report changes`` compares at two dates.
    """
    for opp in ctx.opps():
        stage = history.stage_on(opp, ctx.q.as_of)
        if stage is None or stage not in ctx.stage_info or ctx.closed(stage):
            continue
        if ctx.q.within(day_of(opp.get("close_date"))):
            yield opp, stage


def pipeline_report(book: Book, q: Query) -> list[Row]:
    """Open deals on the as-of day: count, amount and probability-weighted amount per group."""
    ctx = Context(book, q)
    groups: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for opp, stage in open_deals(ctx):
        amount = ctx.amount(opp)
        prob = ctx.probabilities[stage]
        g = groups[ctx.key(opp, stage, opp.get("close_date"))]
        g[0] += 1
        g[1] += amount
        g[2] += quantize(amount * prob / 100, ctx.currency, ctx.settings.rounding)
    rows = [{q.by: k, "count": int(groups[k][0]), "amount": ctx.money(groups[k][1]), "weighted": ctx.money(groups[k][2])}
            for k in ctx.order_keys(groups)]
    if q.by == "stage":
        for row in rows:
            row["probability"] = pipeline.stage(ctx.settings, row["stage"]).get("probability", 0)
    return _with_total(rows, q.by, ["count", "amount", "weighted"], ctx)


# ------------------------------------------------------------------ funnel
def _lead_converted(lead: Record, as_of: _dt.date) -> bool:
    for event in lead.get("history") or []:
        converted = event.get("event") == "status" and event.get("to") == LeadStatus.CONVERTED
        if converted and (day_of(event.get("at")) or as_of) <= as_of:
            return True
    return False


def funnel_report(book: Book, q: Query) -> list[Row]:
    """How many leads converted, how many deals reached each stage, and lead-to-won, per group."""
    ctx = Context(book, q)
    order = [s for s in ctx.stage_ids if not ctx.closed(s)] + [pipeline.won_stage(ctx.settings)]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    leads = {rec.id: rec for rec in book.all("leads")}
    cohort_leads: set[str] = set()
    for lead in leads.values():
        created = day_of(lead.get("created"))
        if created is None or created > q.as_of or not q.within(created):
            continue
        cohort_leads.add(lead.id)
        c = counts[ctx.key(lead, month_of=lead.get("created"))]
        c["leads"] += 1
        c["converted"] += _lead_converted(lead, q.as_of)
    for opp in ctx.opps():
        path = history.walk(opp, q.as_of)
        if not path or not q.within(_dt.date.fromisoformat(path[0][1])):
            continue
        seen = {stage for stage, _, _ in path}
        # a deal that skipped a stage still passed it: it reached every stage up to its furthest
        # (a lost deal counts at the stages it reached before it was lost)
        furthest = max((order.index(s) for s in seen if s in order), default=-1)
        c = counts[ctx.key(opp, month_of=opp.get("created"))]
        for i in range(furthest + 1):
            c[order[i]] += 1
        c["closed"] += ctx.closed(path[-1][0]) if path[-1][0] in ctx.stage_info else 0
        if order[-1] in seen and opp.get("lead") in cohort_leads:
            c["lead_to_won"] += 1
    rows: list[Row] = []
    for key in ctx.order_keys(counts):
        c = counts[key]
        prev: int | None = None
        for step in ["leads", "converted", *order]:
            base = c["leads"] if step == "converted" else (prev if step != order[0] else None)
            row: Row = {"step": step, "count": c[step], "conversion_%": percent_text(c[step], base) if base else ""}
            rows.append({q.by: key, **row} if q.by != "all" else row)
            prev = c[step]
        last: Row = {"step": "lead_to_won", "count": c["lead_to_won"], "conversion_%": percent_text(c["lead_to_won"], c["leads"])}
        # won of the deals closed (won or lost) by the as-of day, to two decimals (4,238 / 6,711 = 63.15)
        rate: Row = {"step": "win_rate", "count": c[order[-1]], "conversion_%": percent_text(c[order[-1]], c["closed"], 2)}
        rows.extend({q.by: key, **r} if q.by != "all" else r for r in (last, rate))
    return rows


# ------------------------------------------------------------------ forecast
def quota(user: Record | None, label: str) -> Decimal | None:
    for entry in (user.get("quotas") if user else None) or []:
        if str(entry.get("period")) == label and entry.get("amount") not in (None, ""):
            return to_decimal(entry["amount"])
    return None


def forecast_report(book: Book, q: Query) -> list[Row]:
    """Closed, commit, best case and pipeline for the period, against quota (by owner)."""
    if q.period is None:
        q = Query(q.as_of, q.by, parse_period(quarter_of(q.as_of)))
    assert q.period is not None
    ctx = Context(book, q)
    cats = ("closed", "commit", "best_case", "pipeline")
    groups: dict[str, dict[str, Decimal]] = defaultdict(lambda: {c: Decimal(0) for c in cats})
    for opp in ctx.opps():
        stage = history.stage_on(opp, q.as_of)
        if stage is None or stage not in ctx.stage_info:
            continue
        info = ctx.stage_info[stage]
        if info.get("won"):
            day = history.closed_on(opp, q.as_of) or day_of(opp.get("closed_on"))
            category = "closed"
        else:
            day, category = day_of(opp.get("close_date")), str(info.get("forecast"))
        if category not in cats or not q.within(day):
            continue
        groups[ctx.key(opp, stage, day.isoformat() if day else None)][category] += ctx.amount(opp)
    users = book.records("users")
    if q.by == "owner":
        for uid, user in users.items():
            if quota(user, q.period[2]) is not None:
                groups[uid]  # noqa: B018 - a user with a quota shows even without deals
    rows: list[Row] = []
    for key in ctx.order_keys(groups):
        g = groups[key]
        target = quota(users.get(key), q.period[2]) if q.by == "owner" else None
        row: Row = {q.by: key, "period": q.period[2], "quota": ctx.money(target) if target is not None else "",
                    **{c: ctx.money(g[c]) for c in cats},
                    "attainment_%": percent_text(g["closed"], target) if target else "",
                    "gap": ctx.money(target - g["closed"]) if target is not None else ""}
        rows.append(row)
    return _with_total(rows, q.by, ["quota", *cats, "gap"], ctx)


# ------------------------------------------------------------------ velocity
def velocity_report(book: Book, q: Query) -> list[Row]:
    """Average days spent in each stage (stints that ended), and lead-to-cash cycle time."""
    ctx = Context(book, q)
    spans: dict[tuple[str, str], list[int]] = defaultdict(list)
    opps = {o.id: o for o in ctx.opps()}
    for opp in opps.values():
        for stint in history.stints(opp, q.as_of):
            if stint.end is not None and q.within(stint.end):
                spans[(ctx.key(opp), stint.stage)].append((stint.end - stint.start).days)
    leads = book.records("leads")
    limit = q.as_of.isoformat()
    received: dict[str, list[Record]] = defaultdict(list)
    for pay in book.all("payments"):
        if str(pay.get("date")) <= limit:
            received[str(pay.get("order"))].append(pay)
    for order in book.all("orders"):
        opp, mine = opps.get(str(order.get("opportunity"))), received[order.id]
        # lead-to-cash ends with the payment that completed a fully paid order
        if opp is None or not mine or sum((to_decimal(p.get("amount")) for p in mine), Decimal(0)) < to_decimal(order.get("total")):
            continue
        lead = leads.get(str(opp.get("lead")))
        start = day_of(lead.get("created")) if lead else history.created_day(opp)
        cash = _dt.date.fromisoformat(max(str(p.get("date")) for p in mine))
        if start and q.within(cash):
            spans[(ctx.key(opp), "lead_to_cash")].append((cash - start).days)
    rows: list[Row] = []
    stage_rank = {s: i for i, s in enumerate([*ctx.stage_ids, "lead_to_cash"])}
    for (key, stage) in sorted(spans, key=lambda k: (k[0], stage_rank.get(k[1], 99))):
        days = spans[(key, stage)]
        row: Row = {"stage": stage, "samples": len(days),
                    "avg_days": str((Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"))), "max_days": max(days)}
        rows.append({q.by: key, **row} if q.by != "all" else row)
    return rows


# ------------------------------------------------------------------ receivables
def bucket(late: int) -> str:
    """The aging column for an installment ``late`` days overdue (:func:`crmctl.l2c.orders.days_overdue`)."""
    if late <= 0:
        return "current"
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return "over_90"


def receivables_report(book: Book, q: Query) -> list[Row]:
    """What is still owed on the as-of day, aged by how long each installment is overdue."""
    ctx = Context(book, q)
    payments = book.all("payments")
    by_order: dict[str, list[Record]] = defaultdict(list)
    for pay in payments:
        by_order[str(pay.get("order"))].append(pay)
    groups: dict[str, dict[str, Decimal]] = defaultdict(lambda: {b: Decimal(0) for b in BUCKETS})
    grace = int(read(book.settings, "payments.overdue_grace_days", 0))  # as `order show` and the 360° view
    for order in book.all("orders"):
        day = day_of(order.get("date"))
        if order_is_cancelled(order) or day is None or day > q.as_of or not q.within(day):
            continue
        plan = schedule(order)
        received = allocate(plan, by_order[order.id], q.as_of)
        for inst, got in zip(plan, received):
            left = to_decimal(inst["amount"]) - got
            if left <= 0:
                continue
            key = ctx.key(order, month_of=inst["due"])
            late = days_overdue(inst["due"], q.as_of, grace)
            groups[key][bucket(late)] += ctx.rates.convert(left, str(order.get("currency")), q.as_of)
    rows = [{q.by: k, **{b: ctx.money(groups[k][b]) for b in BUCKETS},
             "total": ctx.money(sum(groups[k].values(), Decimal(0)))} for k in ctx.order_keys(groups)]
    return _with_total(rows, q.by, [*BUCKETS, "total"], ctx)


REPORTS: dict[str, Callable[[Book, Query], list[Row]]] = {
    "pipeline": pipeline_report, "funnel": funnel_report, "forecast": forecast_report,
    "velocity": velocity_report, "receivables": receivables_report,
}
