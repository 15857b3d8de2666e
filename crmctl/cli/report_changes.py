"""``crmctl report changes --from D1 --to D2``: the pipeline's waterfall between two days (logic in crmctl.l2c.changes)."""
from __future__ import annotations

from typing import Any

import click

from crmctl.cli.base import App, done, output_option, pass_app, with_problems
from crmctl.core.book import today
from crmctl.core.output import render_record, render_rows
from crmctl.core.snapshot import SOURCE_GIT, book_on, not_after_today
from crmctl.l2c import changes as C
from crmctl.l2c.dates import parse_day

DEAL_COLUMNS = ("id", "name", "owner_start", "owner_end", "stage_start", "stage_end", "close_date_start", "close_date_end", "amount")


def _end(app: App, day: Any, option: str, period: Any) -> tuple[C.End, dict[str, Any]]:
    """One end: the book as committed at the end of ``day`` (today: as it is), and where it came from."""
    book, source, line = book_on(app.book, day, option, exact=True)
    click.echo(line, err=True)
    where = {"day": day.isoformat(), "source": source}
    if source == SOURCE_GIT:
        where["commit"] = book.commit.sha  # type: ignore[attr-defined]
    return C.End.of(day, book, period), where


@click.command("changes")
@click.option("--from", "start", metavar="DATE", required=True, help="The first day (the book as committed at its end).")
@click.option("--to", "stop", metavar="DATE", help="The last day (default today).")
@click.option("--by", type=click.Choice(C.BY), default="all", show_default=True, help="Group the waterfall by.")
@click.option("--period", metavar="PERIOD", help="Count only deals closing in 2026, 2026-H2, 2026-Q4 or 2026-11; "
              "deals whose close date moves in or out of it slipped.")
@click.option("--pdf", metavar="FILE", help="Render it as a PDF with a waterfall chart.")
@output_option
@pass_app
@with_problems
def changes(app: App, start: str, stop: str | None, by: str, period: str | None, pdf: str | None, fmt: str) -> None:
    """How the open pipeline moved: open at --from, new, increased, decreased, won, lost, slipped, open at --to.

    Every deal open at either end is in exactly one way in and one way out,
    so the figures add up to the open pipeline at --to (see the README).
    """
    window = C.period_of(period)
    days = parse_day(start, "--from"), parse_day(stop, "--to") if stop is not None else today(app.book.settings)
    C.check_days(*days)  # both dates read, in order and not after today before any book is read
    for day, option in zip(days, ("--from", "--to")):
        not_after_today(app.book, day, option)
    first, first_src = _end(app, days[0], "--from", window)
    last, last_src = _end(app, days[1], "--to", window)
    groups = C.changes(first, last, by)
    money = last.ctx.money
    summary = C.summary_rows(groups, by, money)
    if pdf:
        _pdf(app, summary, by, first, last, period, pdf)
        done(f"wrote {pdf}")
        return
    if fmt in ("json", "yaml"):
        figures = [{**({by: g} if by != "all" else {}), "figure": name, "amount": money(C.signed(name, fig.amount)),
                    "deals": [{**d, "amount": money(d["amount"])} for d in fig.deals]}
                   for g in sorted(groups) for name, fig in groups[g].items() if name in C.shown_figures(by)]
        click.echo(render_record({"from": first_src, "to": last_src, "period": window[2] if window else None, "by": by,
                                  "currency": last.ctx.currency, "figures": figures}, fmt))
    elif fmt == "csv":
        # the group is its own column ("group"): a deal's owner may differ from its group's (--by stage, product)
        rows = [{"group": g, "figure": name, **d, "amount": money(C.signed(name, d["amount"]))}
                for g in sorted(groups) for name, fig in groups[g].items() for d in fig.deals]
        click.echo(render_rows(rows, "csv", [*(["group"] if by != "all" else []), "figure", *DEAL_COLUMNS]))
    else:
        click.echo(render_rows(summary, fmt))


def _pdf(app: App, rows: list[dict[str, Any]], by: str, first: C.End, last: C.End, period: str | None, out: str) -> None:
    """The PDF: a waterfall of the whole pipeline (without --by), then the figures as a table."""
    from crmctl.core.clock import wall_now
    from crmctl.io import charts, reportdoc

    def draw(fmt: Any, lang: str) -> list[str]:
        if by != "all" or not rows:
            return [""]  # grouped figures: the table says it; one waterfall per group would not fit a page
        title = f"{first.day.isoformat()} → {last.day.isoformat()}"
        return [charts.waterfall([fmt("figure", r["figure"]) for r in rows], [r["amount"] for r in rows], title,
                                 [fmt("amount", r["amount"]) for r in rows])]

    shown = f"{first.day.isoformat()} – {last.day.isoformat()}" + (f" · {period}" if period else "")
    report = reportdoc.Report("changes", [reportdoc.Section(rows)], last.day, shown, by)
    reportdoc.render(app.book, report, out, wall_now(app.book.settings), draw)
