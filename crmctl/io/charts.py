"""Tiny SVG charts for report PDFs: horizontal bars, a funnel and a waterfall.

Hand-written on purpose: two chart shapes do not justify a plotting library,
and inline SVG renders crisply in WeasyPrint. Labels are XML-escaped; the
result is a string to mark safe in the template.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence
from xml.sax.saxutils import escape

WIDTH, BAR_H, GAP, LABEL_W = 520, 18, 6, 130
PALETTE = ("#2b6cb0", "#3182ce", "#4299e1", "#63b3ed", "#90cdf4", "#2c7a7b", "#38a169")


def _num(value: object) -> Decimal:
    try:
        return Decimal(str(value).replace(",", ""))
    except Exception:  # noqa: BLE001 - a blank or text cell plots as zero
        return Decimal(0)


def _frame(values: Sequence[object], title: str) -> tuple[list[Decimal], Decimal, list[str]]:
    """The values as numbers, the largest (1 when none is above 0), and the opening of an SVG with one row per value."""
    nums = [_num(v) for v in values]
    top = max(nums, default=Decimal(0)) or Decimal(1)
    height = len(nums) * (BAR_H + GAP) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
             f'font-size="10" font-family="sans-serif">',
             f'<text x="0" y="12" font-weight="bold">{escape(title)}</text>']
    return nums, top, parts


def bars(labels: Sequence[str], values: Sequence[object], title: str = "") -> str:
    """Horizontal bars, one per label, scaled to the largest value."""
    nums, top, parts = _frame(values, title)
    span = WIDTH - LABEL_W - 90
    for i, (label, value, raw) in enumerate(zip(labels, nums, values)):
        y = 20 + i * (BAR_H + GAP)
        w = int(span * value / top) if value > 0 else 0
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(str(label))}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{LABEL_W + w + 4}" y="{y + 13}">{escape(str(raw))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel(labels: Sequence[str], values: Sequence[object], title: str = "") -> str:
    """A centred funnel: each step's width in proportion to the first step's."""
    nums, top, parts = _frame(values, title)
    span = WIDTH - LABEL_W - 20
    mid = LABEL_W + span // 2
    for i, (label, value) in enumerate(zip(labels, nums)):
        y = 20 + i * (BAR_H + GAP)
        w = max(int(span * value / top), 2)
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(str(label))}</text>')
        parts.append(f'<rect x="{mid - w // 2}" y="{y}" width="{w}" height="{BAR_H}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{mid}" y="{y + 13}" text-anchor="middle" fill="#fff">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def waterfall(labels: Sequence[str], values: Sequence[object], title: str = "") -> str:
    """A horizontal waterfall: the first and last values are totals (bars from zero), the others steps.

    Each step's bar floats from the running total before it to the one after
    it, green going up and red going down, with its signed value beside it.
    """
    nums, _, parts = _frame(values, title)
    running, spans = Decimal(0), []
    for i, value in enumerate(nums):
        if i in (0, len(nums) - 1):
            spans.append((Decimal(0), value))
            running = value
        else:
            spans.append((running, running + value))
            running += value
    low = min([Decimal(0), *(min(a, b) for a, b in spans)])
    high = max([Decimal(0), *(max(a, b) for a, b in spans)]) - low or Decimal(1)
    span = WIDTH - LABEL_W - 90
    for i, (label, (a, b), raw) in enumerate(zip(labels, spans, values)):
        y = 20 + i * (BAR_H + GAP)
        x = LABEL_W + int(span * (min(a, b) - low) / high)
        w = max(int(span * abs(b - a) / high), 1 if a != b else 0)
        total = i in (0, len(nums) - 1)
        colour = PALETTE[0] if total else "#38a169" if b >= a else "#e53e3e"
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(str(label))}</text>')
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{BAR_H}" fill="{colour}"/>')
        parts.append(f'<text x="{x + w + 4}" y="{y + 13}">{escape(str(raw))}</text>')
    parts.append("</svg>")
    return "".join(parts)
