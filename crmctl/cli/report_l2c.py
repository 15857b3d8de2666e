"""``crmctl report pipeline|funnel|forecast|velocity|receivables`` (L2C).

Each command parses its options, asks :mod:`crmctl.l2c.reports` for rows and
shows them; ``--pdf FILE`` renders the same rows with an SVG chart through
``report.html`` (the book's templates/ may override it).
"""
from __future__ import annotations

from typing import Any, Callable

import click

from crmctl.cli.base import App, done, emit_rows, output_option, pass_app, with_problems
from crmctl.core.book import today
from crmctl.l2c import reports as R
from crmctl.l2c.dates import parse_day

TITLES = {
    "pipeline": ("Pipeline", "销售管道"), "funnel": ("Funnel", "销售漏斗"), "forecast": ("Forecast", "销售预测"),
    "velocity": ("Velocity", "销售周期"), "receivables": ("Receivables aging", "应收账款账龄"),
}


def _chart(name: str, rows: list[dict[str, Any]], by: str) -> str:
    from crmctl.io import charts

    body = [r for r in rows if r.get(by) != "total" and r.get("step") not in ("lead_to_won", "win_rate")]
    if name == "funnel":
        if by == "all":
            return charts.funnel([r["step"] for r in body], [r["count"] for r in body], "Funnel")
        won = [r for r in body if r["step"] == body[-1]["step"]]
        return charts.bars([r[by] for r in won], [r["count"] for r in won], f"Won by {by}")
    if name == "pipeline":
        return charts.bars([r[by] for r in body], [r["amount"] for r in body], f"Pipeline amount by {by}")
    if name == "forecast":
        return charts.bars([r[by] for r in body], [r["closed"] for r in body], f"Closed by {by}")
    if name == "velocity":
        return charts.bars([f"{r.get(by, '')} {r['stage']}".strip() for r in body], [r["avg_days"] for r in body],
                           "Average days")
    total = rows[-1] if rows else {}
    return charts.bars(list(R.BUCKETS), [total.get(b, 0) for b in R.BUCKETS], "Aging (all accounts)")


def render(app: App, name: str, rows: list[dict[str, Any]], q: R.Query, out: str) -> None:
    from markupsafe import Markup

    from crmctl.io.render import render_pdf

    settings = app.book.settings
    lang = "zh-CN" if str(settings.get("locale", "en")).startswith("zh") else "en"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    context = {
        "title": TITLES[name][1 if lang == "zh-CN" else 0], "report": name, "company": settings.get("company", {}),
        "currency": settings.currency, "as_of": q.as_of.isoformat(), "by": q.by,
        "period": q.period[2] if q.period else "", "columns": columns, "rows": rows,
        "chart": Markup(_chart(name, rows, q.by)) if rows else "",
    }
    render_pdf(app.book.root, "report.html", context, out, lang)


def _command(name: str) -> click.Command:
    def run(app: App, by: str | None, period: str | None, as_of: str | None, pdf: str | None, fmt: str) -> None:
        day = parse_day(as_of, "--as-of") if as_of else today(app.book.settings)
        q = R.make_query(name, day, by, period)
        rows = R.REPORTS[name](app.book, q)
        if pdf:
            render(app, name, rows, q, pdf)
            done(f"wrote {pdf}")
            return
        emit_rows(rows, fmt)

    cmd: Callable[..., Any] = with_problems(run)
    cmd = click.option("--pdf", metavar="FILE", help="Render the report as a PDF with a chart.")(cmd)
    cmd = click.option("--as-of", metavar="DATE", help="Compute as things stood on DATE (default today).")(cmd)
    cmd = click.option("--period", metavar="PERIOD", help="2026, 2026-H2, 2026-Q4 or 2026-11.")(cmd)
    cmd = click.option("--by", type=click.Choice(R.BY[name]), help=f"Group rows by (default {R.BY[name][0]}).")(cmd)
    cmd = output_option(cmd)
    command = click.command(name, help=(R.REPORTS[name].__doc__ or name).strip().splitlines()[0])(pass_app(cmd))
    return command


pipeline = _command("pipeline")
funnel = _command("funnel")
forecast = _command("forecast")
velocity = _command("velocity")
receivables = _command("receivables")
