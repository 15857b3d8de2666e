"""The tiny SVG charts: well-formed, escaped, in proportion."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from crmctl.io.charts import bars, funnel

NS = "{http://www.w3.org/2000/svg}"


def widths(svg: str) -> list[int]:
    return [int(r.get("width") or 0) for r in ET.fromstring(svg).iter(f"{NS}rect")]


def test_bars_are_in_proportion_and_labels_escaped() -> None:
    svg = bars(["<b>&", "two"], ["100.00", "50.00"], "A & B")
    root = ET.fromstring(svg)  # well-formed XML despite the markup in the labels
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "A & B" in texts and "<b>&" in texts
    big, small = widths(svg)
    assert big == 2 * small > 0


def test_funnel_and_empty_or_zero_values() -> None:
    first, second, third = widths(funnel(["leads", "won", "none"], [10, 5, 0]))
    # widths are whole viewBox units: half of an odd width rounds down
    assert first in (2 * second, 2 * second + 1) and third == 2
    assert widths(bars(["a"], ["not a number"])) == [0]
    assert widths(bars([], [])) == []
