"""Tiny SVG charts for report PDFs: horizontal bars, a funnel and a waterfall, as wide as the page.

Hand-written on purpose: three chart shapes do not justify a plotting library,
and inline SVG renders crisply in WeasyPrint. The SVG scales to its container
(``width="100%"`` over a fixed viewBox), so a chart fills the page's text
width whatever the paper. Labels are XML-escaped; values may come with their
printed form (``shown``: locale money, names) so the chart says what the table
says. The result is a string to mark safe in the template.
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Sequence
from xml.sax.saxutils import escape

WIDTH, BAR_H, GAP = 680, 18, 6      # viewBox units; A4 minus 14 mm margins is 182 mm ≈ 688 px
FONT = 10
PALETTE = ("#1f3a60", "#2b6cb0", "#3182ce", "#4299e1", "#63b3ed", "#2c7a7b", "#38a169")


def _num(value: object) -> Decimal:
    try:
        return Decimal(str(value).replace(",", ""))
    except Exception:  # noqa: BLE001 - a blank or text cell plots as zero
        return Decimal(0)


def text_width(text: str) -> int:
    """How wide ``text`` is at the chart's font size, never less than printed: wide (CJK) characters 1 em, others
    0.7 em (DejaVu Sans, the widest font a report uses, averages about 0.62 em)."""
    return sum(FONT if unicodedata.east_asian_width(ch) in "WF" else FONT * 7 // 10 for ch in text)


def clip(text: str, room: int) -> str:
    """``text`` cut at its end with "…" so it fits ``room`` (viewBox units): a label's start is what identifies it."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _frame(values: Sequence[object], title: str, labels: Sequence[str]) -> tuple[list[Decimal], Decimal, list[str], int]:
    """The values as numbers, the largest (1 when none is above 0), the opening of the SVG and the label column's width."""
    nums = [_num(v) for v in values]
    top = max(nums, default=Decimal(0)) or Decimal(1)
    height = len(nums) * (BAR_H + GAP) + 24
    label_w = min(max((text_width(str(label)) for label in labels), default=40) + 12, WIDTH // 3)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {WIDTH} {height}" '
             f'font-size="{FONT}" font-family="Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif">',
             f'<text x="0" y="12" font-weight="bold">{escape(title)}</text>']
    return nums, top, parts, label_w


def bars(labels: Sequence[str], values: Sequence[object], title: str = "", shown: Sequence[str] | None = None) -> str:
    """Horizontal bars, one per label, scaled to the largest value; ``shown`` is each value as printed (default: as given)."""
    shown = list(shown) if shown is not None else [str(v) for v in values]
    nums, top, parts, label_w = _frame(values, title, labels)
    span = WIDTH - label_w - max((text_width(s) for s in shown), default=0) - 8
    for i, (label, value, text) in enumerate(zip(labels, nums, shown)):
        y = 20 + i * (BAR_H + GAP)
        w = int(span * value / top) if value > 0 else 0
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(clip(str(label), label_w - 6))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{BAR_H}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{label_w + w + 4}" y="{y + 13}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel(labels: Sequence[str], values: Sequence[object], title: str = "", shown: Sequence[str] | None = None) -> str:
    """A centred funnel: each step's width in proportion to the first step's."""
    shown = list(shown) if shown is not None else None
    nums, top, parts, label_w = _frame(values, title, labels)
    span = WIDTH - label_w - 20
    mid = label_w + span // 2
    for i, (label, value) in enumerate(zip(labels, nums)):
        y = 20 + i * (BAR_H + GAP)
        w = max(int(span * value / top), 2)
        text = shown[i] if shown is not None else str(value)
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(clip(str(label), label_w - 6))}</text>')
        parts.append(f'<rect x="{mid - w // 2}" y="{y}" width="{w}" height="{BAR_H}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        colour = "#fff" if w > text_width(text) + 8 else "#222"
        parts.append(f'<text x="{mid}" y="{y + 13}" text-anchor="middle" fill="{colour}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def waterfall(labels: Sequence[str], values: Sequence[object], title: str = "", shown: Sequence[str] | None = None) -> str:
    """A horizontal waterfall: the first and last values are totals (bars from zero), the others steps.

    Each step's bar floats from the running total before it to the one after
    it, green going up and red going down; ``shown`` is each value as printed.
    """
    shown = list(shown) if shown is not None else [str(v) for v in values]
    nums, _, parts, label_w = _frame(values, title, labels)
    running, spans = Decimal(0), []
    for i, value in enumerate(nums):
        start = Decimal(0) if i in (0, len(nums) - 1) else running
        spans.append((start, start + value))
        running = start + value
    low = min([Decimal(0), *(min(a, b) for a, b in spans)])
    high = max([Decimal(0), *(max(a, b) for a, b in spans)]) - low or Decimal(1)
    span = WIDTH - label_w - max((text_width(s) for s in shown), default=0) - 8
    for i, (label, (a, b), text) in enumerate(zip(labels, spans, shown)):
        y = 20 + i * (BAR_H + GAP)
        x = label_w + int(span * (min(a, b) - low) / high)
        w = max(int(span * abs(b - a) / high), 1 if a != b else 0)
        colour = PALETTE[0] if i in (0, len(nums) - 1) else "#38a169" if b >= a else "#e53e3e"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(clip(str(label), label_w - 6))}</text>')
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{BAR_H}" fill="{colour}"/>')
        parts.append(f'<text x="{x + w + 4}" y="{y + 13}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
