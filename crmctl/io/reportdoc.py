"""Report PDFs a manager can hand round: the book's language, names, locale formats, a chart, totals.

Every ``report … --pdf`` goes through :func:`render`: the rows the report
computed (the same the table and JSON output show) become a document in the
book's language (``locale`` in crm.yaml): column headers from
``reports.labels`` in crm.yaml (not field names), people, accounts and stages
by their names (not slugs), money and numbers in the locale's format, a chart
as wide as the page, the period and as-of day, the company and the time the
file was made. Jinja2, babel and WeasyPrint load only here, when a PDF is asked.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from crmctl.core.book import Book

# what each column holds, for formatting; columns not named here print as they are (counts print as numbers)
MONEY = frozenset({"amount", "weighted", "quota", "closed", "commit", "best_case", "pipeline", "gap", "current", "1-30",
                   "31-60", "61-90", "over_90", "total", "revenue_12m", "revenue_prev_12m", "revenue_lifetime",
                   "open_pipeline", "outstanding", "overdue"})
PERCENT_SUFFIXES = ("_%", "_pct")
PERCENT = frozenset({"growth", "probability"})
DATES = frozenset({"last_touch", "last_order", "due", "date", "visit_date"})
TOTAL_LABELS = ("total", "(total)")
WRAP = frozenset({"name", "account", "who", "why", "action", "text", "by_month", "step", "stage"})  # may break; others stay on one line
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# a figure a report computed as text (an average "75.8", a trend "+0.7"): printed as it is, aligned as a number
FIGURE = re.compile(r"[+-]?\d+(\.\d+)?")


@dataclass
class Section:
    """One table of a report: its rows (as the report computed them) and the columns to print, in order."""

    rows: list[dict[str, Any]]
    columns: Sequence[str] = ()
    title: str = ""
    chart: str = ""           # an SVG from crmctl.io.charts, already sized to the page width

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = list(dict.fromkeys(k for r in self.rows for k in r))


@dataclass
class Report:
    """What a report PDF shows besides its sections."""

    name: str                 # pipeline, customers, sfe ... (the key of reports.titles)
    sections: list[Section]
    as_of: _dt.date
    period: str = ""          # the period's label and its first..last days, "" when the report has none
    by: str = ""
    notes: list[str] = field(default_factory=list)


def source_notes(book: Book, source: str | None) -> list[str]:
    """The notes a report PDF carries about where its figures come from: for ``--as-of`` before the git history
    (source ``records``) the caveat the terminal prints on stderr, in the book's language — the document handed
    round must say that its amounts are today's."""
    from crmctl.core.phrases import say
    from crmctl.core.snapshot import SOURCE_RECORDS

    return [say("replayed_from_records", language(book))] if source == SOURCE_RECORDS else []


def language(book: Book) -> str:
    """The book's document language from its locale: ``zh-CN`` for zh_*, else ``en``."""
    return "zh-CN" if str(book.settings.get("locale", "en")).lower().startswith("zh") else "en"


def labels(book: Book, lang: str) -> dict[str, str]:
    """Column and word labels in ``lang``: ``reports.labels.<lang>`` of crm.yaml (defaults shipped in crmctl)."""
    table = book.settings.get(f"reports.labels.{lang}") or {}
    return {str(k): str(v) for k, v in table.items()}


def unnamed_in_chinese(book: Book) -> list[tuple[str, str, str]]:
    """What a Chinese book's report PDFs print by name but has no Chinese name: ``(settings key, where, name)`` for
    each pipeline stage, visit type and SOP step without ``name_zh`` (the report would print the English ``name``).
    An English book: nothing."""
    if language(book) != "zh-CN":
        return []
    out = []
    for i, stage in enumerate(book.settings.get("pipeline.stages") or []):
        if isinstance(stage, Mapping) and not stage.get("name_zh"):
            out.append(("pipeline", f"pipeline.stages[{i}] ({stage.get('id')})", str(stage.get("name") or stage.get("id"))))
    for vtype, spec in (book.settings.get("visits.types") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        if not spec.get("name_zh"):
            out.append(("visits", f"visits.types.{vtype}", str(spec.get("name") or vtype)))
        for j, step in enumerate(spec.get("sop") or []):
            if isinstance(step, Mapping) and not step.get("name_zh"):
                out.append(("visits", f"visits.types.{vtype}.sop[{j}] ({step.get('id')})", str(step.get("name") or step.get("id"))))
    return out


class Names:
    """Slugs and ids as people read them: users, accounts, pipeline stages, in the document's language."""

    def __init__(self, book: Book, lang: str) -> None:
        self.book, self.zh = book, lang.startswith("zh")
        self.stages = {str(s.get("id")): self.named(s, s.get("id")) for s in book.settings.get("pipeline.stages") or []
                       if isinstance(s, Mapping)}
        types = {str(k): v for k, v in (book.settings.get("visits.types") or {}).items() if isinstance(v, Mapping)}
        self.visit_types = {k: self.named(v, k) for k, v in types.items()}
        # a step's name depends on its visit type ("write up the call" / "the meeting"): keyed by (type, step)
        self.sop_steps = {(k, str(step.get("id"))): self.named(step, step.get("id")) for k, v in types.items()
                          for step in v.get("sop") or [] if isinstance(step, Mapping)}

    def named(self, item: Mapping[str, Any], fallback: Any) -> str:
        """A settings entry's name in the document's language (``name_zh`` for Chinese)."""
        return str((item.get("name_zh") if self.zh else None) or item.get("name") or fallback)

    def record(self, rtype: str, rid: Any, default: str | None = None) -> str:
        """The record's name in the document's language (``name_en`` in English when set); ``default`` (else the
        id) when there is no such record."""
        rec = self.book.records(rtype).get(str(rid))
        if rec is None:
            return str(rid) if default is None else default
        if self.zh:
            return str(rec.get("name") or rid)
        return str(rec.get("name_en") or rec.get("name") or rid)

    def __call__(self, column: str, value: Any, row: Mapping[str, Any] | None = None) -> str | None:
        """The display name for ``value`` in ``column`` of ``row``, or None when the column holds no reference."""
        if column in ("owner", "rep", "user", "manager"):
            return self.record("users", value)
        if column == "account":
            return self.record("accounts", value)
        if column == "product":   # a product by its name (name_zh in Chinese), not its SKU slug
            product = self.book.records("products").get(str(value))
            return self.named(product, value) if product is not None else None
        if column == "who":   # the act list names a rep or an account
            return self.record("users", value) if str(value) in self.book.records("users") else self.record("accounts", value)
        if column == "step" and row is not None and (str(row.get("type")), str(value)) in self.sop_steps:
            return self.sop_steps[(str(row.get("type")), str(value))]
        if column in ("stage", "step"):
            return self.stages.get(str(value))
        if column == "type":
            return self.visit_types.get(str(value))
        return None


def cell(column: str, value: Any, *, lang: str, currency: str, words: Mapping[str, str], names: Names,
         row: Mapping[str, Any] | None = None) -> tuple[str, bool]:
    """``(text, is_number)`` for one cell of ``row``: money, percent, count, date, name or the value as it is."""
    from crmctl.io.render import format_date, format_money, format_number

    if value is None or value == "":
        return "", False
    if str(value) in TOTAL_LABELS:
        return words.get("total", "Total"), False
    named = names(column, value, row)
    if named is not None:
        return words.get(str(value), named), False
    if column in MONEY:
        return format_money(value, currency, lang), True
    if column.endswith(PERCENT_SUFFIXES) or column in PERCENT:
        return f"{format_number(value, lang)}%", True
    if isinstance(value, bool):
        return words.get("yes" if value else "no", "✓" if value else "–"), False
    if isinstance(value, (int, float)):
        return format_number(value, lang), True
    if isinstance(value, str) and FIGURE.fullmatch(value):
        return value, True        # as computed (a year-like "2026" must not become "2,026")
    if column in DATES and ISO_DAY.fullmatch(str(value)):
        return format_date(value, lang, "medium"), False
    text = str(value)
    return words.get(text, text), False


def table(section: Section, *, lang: str, currency: str, words: Mapping[str, str], names: Names) -> dict[str, Any]:
    """A section as the template prints it: headers, and rows of ``{text, num}`` cells, the total row marked."""
    rows = []
    for row in section.rows:
        cells = [dict(zip(("text", "num"), cell(c, row.get(c), lang=lang, currency=currency, words=words, names=names,
                                                row=row)))
                 for c in section.columns]
        rows.append({"cells": cells, "total": any(str(row.get(c)) in TOTAL_LABELS for c in section.columns[:2])})
    headers = [{"text": words.get(c, c.replace("_", " ")),
                "num": any(r["cells"][i]["num"] for r in rows)} for i, c in enumerate(section.columns)]
    for row in rows:
        for c, column in zip(row["cells"], section.columns):
            c["wrap"] = column in WRAP
    return {"title": section.title, "chart": section.chart, "headers": headers, "rows": rows}


# Page geometry of report.html (mm): A4 less 14 mm margins each side; a cell's padding is 2 mm each side.
PAGE_WIDTH = {"portrait": 210.0 - 28.0, "landscape": 297.0 - 28.0}
CELL_PADDING_MM = 4.0
# (orientation, font size in pt) tried in order until every table fits; the last one is used whatever it gives
LAYOUTS = (("portrait", 9.0), ("portrait", 8.0), ("portrait", 7.0), ("landscape", 8.0), ("landscape", 7.0),
           ("landscape", 6.0), ("landscape", 5.0))
WRAP_MIN_EM = 7.0          # a column that may wrap (a name) is never narrower than this many em
SLACK_EM = 0.5             # per column, for rounding and glyphs a little wider than estimated (a header broke "级/别")
PT_PER_MM = 72 / 25.4


def text_em(text: str) -> float:
    """The width of ``text`` on one line in em, never less than the widest font the report uses prints it:
    1 em per CJK/full-width character, 0.72 em per other character (DejaVu Sans Bold's widest digits and
    most capitals are narrower)."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.72 for ch in text)


def longest_word_em(text: str) -> float:
    """The width in em of the widest piece of ``text`` that may not break: split at spaces, but a text with Chinese
    is one piece (a line may break between any two characters, so "90 天以上" would break as "90 天以 / 上")."""
    if any(ord(ch) >= 0x2E80 for ch in text):
        return text_em(text)
    return max((text_em(w) for w in text.split()), default=0.0)


def column_needs(tbl: Mapping[str, Any]) -> list[tuple[float, bool]]:
    """For each column of a :func:`table`: ``(em, wraps)``: the width in em the column needs on one line (numbers,
    dates, short words never break; its header may wrap at spaces), and whether its cells may wrap instead."""
    out = []
    for i, header in enumerate(tbl["headers"]):
        cells = [row["cells"][i] for row in tbl["rows"]]
        wraps = any(c.get("wrap") for c in cells) and not header["num"]
        if wraps:
            # a name may wrap: it needs its longest word (capped) or the minimum
            need = max([WRAP_MIN_EM, longest_word_em(header["text"])]
                       + [min(text_em(c["text"]), WRAP_MIN_EM * 2) for c in cells])
        else:
            need = max([longest_word_em(header["text"])] + [text_em(c["text"]) for c in cells])
        out.append((need, wraps))
    return out


def fit(tbl: Mapping[str, Any], width_mm: float, font_pt: float) -> list[float] | None:
    """Column widths in percent of the table for :func:`table` ``tbl`` on ``width_mm`` of paper at ``font_pt``, or
    None when its numbers and words do not fit on one line each. Wrapping columns share what is left."""
    needs = column_needs(tbl)
    em_mm = font_pt / PT_PER_MM
    widths = [(need + SLACK_EM) * em_mm + CELL_PADDING_MM for need, _ in needs]
    if sum(widths) > width_mm:
        return None
    spare = width_mm - sum(widths)
    wrapping = [i for i, (_, wraps) in enumerate(needs) if wraps]
    share = wrapping or list(range(len(widths)))
    for i in share:
        widths[i] += spare / len(share)
    return [round(100 * w / width_mm, 2) for w in widths]


def layout(tables: Sequence[dict[str, Any]]) -> tuple[str, float]:
    """The page orientation and font size (pt) at which every table fits the page width (the first of
    :data:`LAYOUTS` that does), and sets each table's ``widths`` (percent per column) for it."""
    for orientation, font_pt in LAYOUTS:
        widths = [fit(t, PAGE_WIDTH[orientation], font_pt) if t["rows"] else [] for t in tables]
        if all(w is not None for w in widths):
            break
    else:   # nothing fits: the smallest layout, widths in proportion to what each column needs
        widths = []
        for t in tables:
            needs = [n for n, _ in column_needs(t)] if t["rows"] else []
            widths.append([round(100 * n / sum(needs), 2) for n in needs] if needs else [])
    for t, w in zip(tables, widths):
        t["widths"] = w
    return orientation, font_pt


def chart_label(column: str, value: Any, *, lang: str, currency: str, words: Mapping[str, str], names: Names) -> str:
    """A category or value label on a chart, formatted as in the table."""
    return cell(column, value, lang=lang, currency=currency, words=words, names=names)[0]


def render(book: Book, report: Report, out: str, now: _dt.datetime,
           chart: Callable[[Callable[[str, Any], str], str], list[str]] | None = None) -> None:
    """Write ``report`` as a PDF at ``out`` through the ``report.html`` template (the book's templates/ may override it).

    ``chart`` (optional) receives a label formatter ``fmt(column, value)`` and
    the language, and returns SVGs for the sections in order (so charts use
    the same names and money formats as the tables).
    """
    from markupsafe import Markup

    from crmctl.io.render import format_date, render_pdf

    lang = language(book)
    words = labels(book, lang)
    names = Names(book, lang)
    currency = book.settings.currency
    if chart is not None:
        fmt = lambda column, value: chart_label(column, value, lang=lang, currency=currency, words=words, names=names)  # noqa: E731
        for section, svg in zip(report.sections, chart(fmt, lang)):
            section.chart = svg
    company = book.settings.get("company", {}) or {}
    tables = [{**table(s, lang=lang, currency=currency, words=words, names=names), "chart": Markup(s.chart)}
              for s in report.sections]
    orientation, font_pt = layout(tables)
    titles = book.settings.get(f"reports.titles.{lang}") or {}
    context = {
        "title": str(titles.get(report.name) or report.name), "lang": lang, "words": words,
        "company": str((company.get("name_zh") if lang == "zh-CN" else None) or company.get("name") or ""),
        "as_of": format_date(report.as_of, lang, "long"), "period": report.period,
        "by": words.get(report.by, report.by) if report.by and report.by != "all" else "",
        "currency": currency, "generated": f"{format_date(now.date(), lang, 'long')} {now.strftime('%H:%M')}",
        "sections": tables, "orientation": orientation, "table_font_pt": font_pt,
        "notes": report.notes,
    }
    render_pdf(book.root, "report.html", context, out, lang)
