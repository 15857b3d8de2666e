"""``crmctl report sfe``: the PDCA report of sales behaviour (logic in crmctl.sfe.pdca)."""
from __future__ import annotations

import datetime as _dt
from typing import Any

import click

from crmctl.cli.asof import HELP, use_as_of
from crmctl.cli.base import App, done, output_option, pass_app, with_problems
from crmctl.core.book import today
from crmctl.core.output import render_record, render_rows
from crmctl.sfe.pdca import TITLES, Wording, report
from crmctl.sfe.team import scope
from crmctl.sfe.when import parse_period, quarter_of

# columns the PDF leaves out of a section: a visit's id and a follow-up's number mean nothing on paper
PDF_COLUMNS = {"followups": ("owner", "account", "text", "due", "days_overdue")}


@click.command("sfe")
@click.option("--period", metavar="P", help="2026-Q4, 2026-11, 2026, 2026-W49 or D..D (default: this quarter).")
@click.option("--rep", metavar="USER", help="One rep.")
@click.option("--team", metavar="T", help="A team name, or a manager and everyone reporting to them.")
@click.option("--as-of", "as_of", metavar="DATE", help=HELP)
@click.option("--pdf", metavar="FILE", help="Render the report as a PDF with a chart (the book's language).")
@output_option
@pass_app
@with_problems
def sfe(app: App, period: str | None, rep: str | None, team: str | None, as_of: str | None, pdf: str | None,
        fmt: str) -> None:
    """Sales force effectiveness: plan vs actual, on-time, cadence, SOP, duration, coaching, follow-ups, act."""
    day, source = use_as_of(app, as_of, exact=False) if as_of is not None else (None, None)
    book = app.book
    now = day or today(book.settings)
    key = (period or quarter_of(now)).strip().upper()
    win = parse_period(key)
    reps = scope(book, rep, team)
    if pdf:
        render(app, reps, key, win, now, pdf, source)
        done(f"wrote {pdf}")
        return
    sections = report(book, win, reps, now, key)
    if fmt in ("json", "yaml"):
        click.echo(render_record({"period": key, "from": win[0].isoformat(), "to": win[1].isoformat(),
                                  "as_of": now.isoformat(), **({"source": source} if source else {}), **sections}, fmt))
        return
    parts = [f"SFE report {key} ({win[0]}..{win[1]}, as of {now})"] if fmt == "table" else []
    for name, rows in sections.items():
        title = f"# {name}" if fmt == "csv" else f"\n{TITLES[name]}"
        parts.append(title)
        parts.append(render_rows(rows, fmt))
    click.echo("\n".join(parts))


def render(app: App, scoped: list[str] | None, key: str, win: tuple[_dt.date, _dt.date], as_of: _dt.date,
           out: str, source: str | None = None) -> None:
    """The SFE PDF: completion per rep as bars, then each PDCA section as a titled table.

    The Act list's sentences are written in the book's language with people's names and locale days, without
    the commands the terminal shows (a manager reading the PDF acts through the team, not the CLI)."""
    from crmctl.core.clock import wall_now
    from crmctl.io import charts, reportdoc
    from crmctl.io.render import format_date

    book = app.book
    lang = reportdoc.language(book)
    words = reportdoc.labels(book, lang)
    names = reportdoc.Names(book, lang)
    wording = Wording(lang, commands=False, name=names.record, day=lambda iso: format_date(iso, lang, "medium"))
    sections = report(book, win, scoped, as_of, key, wording)
    parts = [reportdoc.Section(rows, PDF_COLUMNS.get(name, ()), title=words.get(name, TITLES[name]))
             for name, rows in sections.items()]
    reps = [r for r in sections.get("reps", []) if r.get("rep") != "(total)" and r.get("completion_pct") not in (None, "")]

    def draw(fmt: Any, lang: str) -> list[str]:
        title = words.get("completion_pct", "completion")
        first = charts.bars([fmt("rep", r["rep"]) for r in reps], [r["completion_pct"] for r in reps], title,
                            [fmt("completion_pct", r["completion_pct"]) for r in reps]) if reps else ""
        return [first] + [""] * (len(parts) - 1)

    period = f"{key} ({win[0].isoformat()} – {win[1].isoformat()})"
    reportdoc.render(book, reportdoc.Report("sfe", parts, as_of, period,
                                              notes=reportdoc.source_notes(book, source)), out, wall_now(book.settings), draw)
