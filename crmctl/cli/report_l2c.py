"""``crmctl report pipeline|funnel|forecast|velocity|receivables`` (L2C).

Each command parses its options, asks :mod:`crmctl.l2c.reports` for rows and
shows them; ``--pdf FILE`` renders the same rows with an SVG chart through
``report.html`` (the book's templates/ may override it).
"""
from __future__ import annotations

from typing import Any, Callable

import click

from crmctl.cli.asof import HELP, use_as_of
from crmctl.cli.base import App, done, emit_rows, output_option, pass_app, with_problems
from crmctl.core.book import today
from crmctl.l2c import reports as R

def _charts(name: str, rows: list[dict[str, Any]], by: str) -> Any:
    """The report's chart, drawn with the PDF's own labels (names, locale money) by :func:`crmctl.io.reportdoc.render`."""
    from crmctl.io import charts

    def draw(fmt: Any, lang: str) -> list[str]:
        zh = lang == "zh-CN"
        body = [r for r in rows if str(r.get(by)) != "total" and r.get("step") not in ("lead_to_won", "win_rate")
                and r.get("stage") != "lead_to_cash"]
        if not body:
            return [""]
        label = lambda r: fmt(by, r.get(by))  # noqa: E731
        if name == "funnel":
            if by == "all":
                return [charts.funnel([fmt("step", r["step"]) for r in body], [r["count"] for r in body],
                                      "转化漏斗" if zh else "Funnel", [fmt("count", r["count"]) for r in body])]
            won = [r for r in body if r["step"] == body[-1]["step"]]
            return [charts.bars([label(r) for r in won], [r["count"] for r in won], fmt("step", body[-1]["step"]),
                                [fmt("count", r["count"]) for r in won])]
        column, title = {"pipeline": ("amount", "管道金额" if zh else "Pipeline amount"),
                         "forecast": ("closed", "已成交" if zh else "Closed"),
                         "velocity": ("avg_days", "平均天数" if zh else "Average days")}.get(name, ("", ""))
        if column:
            labels = [label(r) if by != "all" else fmt("stage", r.get("stage")) for r in body]
            if name == "velocity" and by != "all":
                labels = [f"{label(r)} · {fmt('stage', r.get('stage'))}" for r in body]
            return [charts.bars(labels, [r[column] for r in body], title, [fmt(column, r[column]) for r in body])]
        total = rows[-1] if rows else {}
        return [charts.bars([fmt("", b) for b in R.BUCKETS], [total.get(b, 0) for b in R.BUCKETS],
                            "账龄（全部客户）" if zh else "Aging (all accounts)", [fmt(b, total.get(b, 0)) for b in R.BUCKETS])]

    return draw


def render(app: App, name: str, rows: list[dict[str, Any]], q: R.Query, out: str, source: str | None = None) -> None:
    from crmctl.core.clock import wall_now
    from crmctl.io import reportdoc

    period = f"{q.period[2]} ({q.period[0].isoformat()} – {q.period[1].isoformat()})" if q.period else ""
    report = reportdoc.Report(name, [reportdoc.Section(rows)], q.as_of, period, q.by,
                              reportdoc.source_notes(app.book, source))
    reportdoc.render(app.book, report, out, wall_now(app.book.settings), _charts(name, rows, q.by))


def _command(name: str) -> click.Command:
    def run(app: App, by: str | None, period: str | None, as_of: str | None, pdf: str | None, fmt: str) -> None:
        day, source = use_as_of(app, as_of, exact=False) if as_of is not None else (today(app.book.settings), None)
        q = R.make_query(name, day, by, period)
        rows = R.REPORTS[name](app.book, q)
        if pdf:
            render(app, name, rows, q, pdf, source)
            done(f"wrote {pdf}")
            return
        emit_rows(rows, fmt)

    cmd: Callable[..., Any] = with_problems(run)
    cmd = click.option("--pdf", metavar="FILE", help="Render the report as a PDF with a chart.")(cmd)
    cmd = click.option("--as-of", metavar="DATE", help=f"{HELP[:-1]}; before the git history, replayed from "
                       "the records' stage and payment histories (default today).")(cmd)
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
