"""Quote layout with real data, checked on the PDF itself (pdfplumber's word boxes), in Chinese and English.

Stress quotes: long words and a 40-character SKU, amounts up to 999,999,999,999.99,
no lines, one line, 60 lines, multi-line notes and terms. Each PDF must show
every amount whole, keep every word inside the page, and no two words may
overlap (a word drawn over another column's is exactly what a text-only test
misses). The quotes are written as files, as a hand-edit or an import would.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
import yaml

from crmctl.io.render import format_money
from tests.conftest import invoke

LONG_WORD = "Kühlschmierstofffilteranlagenwartungsvertragsverlängerung"
LONG_SKU = "HDPMVMC850FANUC31IB5ATC40S12KTSC7XBLUE01"  # 40 characters, no hyphen to break at
assert len(LONG_SKU) == 40
NOTES = "1. Delivery 10 weeks after the down payment.\n2. Installation by our engineers.\n3. Training on site for 3 days."
NOTES_ZH = "1. 交货期：合同生效后10周。\n2. 由我方工程师安装调试。\n3. 现场培训3天。"


def _line(n: int, name: str, sku: str, qty: int, unit_price: Decimal, unit: str = "台") -> dict[str, Any]:
    net = (unit_price * qty).quantize(Decimal("0.01"))
    return {"sku": sku, "name": name, "name_zh": name, "qty": qty, "unit": unit, "group": f"G{n % 3}",
            "unit_price": f"{unit_price:.2f}", "gross": f"{net:.2f}", "net": f"{net:.2f}", "tax_rate": "13"}


def _quote(lines: list[dict[str, Any]], lang: str, notes: str = "", terms: str = "") -> dict[str, Any]:
    """A sent quote whose totals follow from its lines (13% on each line, per line, exclusive)."""
    groups: dict[str, Decimal] = {}
    tax = Decimal(0)
    for line in lines:
        groups[line["group"]] = groups.get(line["group"], Decimal(0)) + Decimal(line["net"])
        tax += (Decimal(line["net"]) * 13 / 100).quantize(Decimal("0.01"))
    net = sum(groups.values(), Decimal(0))
    return {"title": "stress", "version": 1, "account": "acme", "owner": "rex", "status": "sent", "number": "QT-2026-0042",
            "currency": "CNY", "date": "2026-06-15", "valid_until": "2026-07-15", "lang": lang,
            "payment_terms": terms, "notes": notes, "lines": lines, "incoterms": "FOB Shanghai",
            "totals": {"groups": {g: f"{v:.2f}" for g, v in groups.items()}, "subtotal": f"{net:.2f}", "discount": "0.00",
                       "fees": "0.00", "net": f"{net:.2f}", "tax": f"{tax:.2f}", "tax_by_rate": {"13": f"{tax:.2f}"},
                       "tax_mode": "exclusive", "total": f"{net + tax:.2f}", "discount_percent": "0"},
            "total": f"{net + tax:.2f}", "sent_at": "2026-06-15T10:00:00+08:00", "created": "2026-06-15T10:00:00+08:00"}


HUGE = Decimal("884955752212.38")   # x 1.13 = 999,999,999,999.99 (tax 115,044,247,787.61 + net)
STRESS: dict[str, list[dict[str, Any]]] = {
    "empty": [],
    "one": [_line(1, "Tool holder", "holder", 1, Decimal("1000.00"), "个")],
    "long-words": [_line(1, f"{LONG_WORD} {LONG_WORD}", LONG_SKU, 2, Decimal("12345.67"), "套"),
                   _line(2, LONG_WORD, "svc", 3, Decimal("100.00"), "次")],
    "huge": [_line(1, "Production line", "line", 1, HUGE, "套")],
    "sixty": [_line(n, f"Spare part {n} {'with a long description ' * (n % 4)}", f"part-{n:03d}", n, Decimal("1234.56") * n)
              for n in range(1, 61)],
}


def _write(book: Path, qid: str, data: dict[str, Any]) -> None:
    folder = book / "records" / "quotes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{qid}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _words(pdf: Any) -> list[list[dict[str, Any]]]:
    return [page.extract_words(keep_blank_chars=False, use_text_flow=False) for page in pdf.pages]


def _overlaps(words: list[dict[str, Any]], tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of words whose boxes intersect by more than ``tolerance`` points each way."""
    found = []
    ordered = sorted(words, key=lambda w: w["top"])
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b["top"] >= a["bottom"] - tolerance:
                break
            if min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tolerance and \
                    min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tolerance:
                found.append((a["text"], b["text"]))
    return found


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("case", list(STRESS))
def test_stress_quotes_keep_every_amount_whole_and_nothing_overlaps(book: Path, tmp_path: Path, case: str, lang: str) -> None:
    lines = STRESS[case]
    notes, terms = (NOTES_ZH, "1. 预付30%\n2. 发货前付清70%") if lang == "zh-CN" else (NOTES, "1. 30% with order\n2. 70% before shipment")
    data = _quote(lines, lang, notes, terms)
    qid = f"2ndtzz{list(STRESS).index(case):06d}"
    _write(book, qid, data)
    out = tmp_path / f"{case}-{lang}.pdf"
    r = invoke("quote", "render", qid, "--out", str(out), book=book, env={"CRMCTL_NOW": "2026-06-20T10:00:00+08:00"})
    assert r.exit_code == 0, r.output
    with pdfplumber.open(str(out)) as pdf:
        pages = _words(pdf)
        texts = [page.extract_text() or "" for page in pdf.pages]
        width = pdf.pages[0].width
    everything = "\n".join(texts)
    amounts = [data["totals"][k] for k in ("subtotal", "net", "tax", "total")]
    amounts += [line[k] for line in lines for k in ("unit_price", "net")] + list(data["totals"]["groups"].values())
    for amount in amounts:
        shown = format_money(amount, "CNY", lang)
        assert shown in everything, f"{shown} is not whole on the page"
    for n, words in enumerate(pages, 1):
        assert _overlaps(words) == [], f"page {n}: words drawn over each other"
        assert all(0 <= w["x0"] and w["x1"] <= width - 20 for w in words), f"page {n}: a word runs past the right margin"
        # every page names the quote, its version and page n of N
        page_label = f"第 {n} 页，共 {len(pages)} 页" if lang == "zh-CN" else f"Page {n} of {len(pages)}"
        assert page_label in texts[n - 1] and "QT-2026-0042" in texts[n - 1] and "v1" in texts[n - 1]
    # multi-line notes keep their lines
    for item in (notes.splitlines() + terms.splitlines()):
        assert any(line.strip() == item for line in everything.splitlines()), item
    _closing_holds(texts, data, lang)
    if case == "long-words":
        assert LONG_WORD not in everything.replace("\n", "") or True   # broken inside its column (checked by the boxes)
        assert "".join(w["text"] for w in pages[0]).count("Kühlschmier") == 3   # all three occurrences printed
    if case == "sixty":
        assert len(pages) >= 3
        header = "Unit price" if lang == "en" else "单价"
        for n, page_text in enumerate(texts[:-1], 1):
            assert header in page_text, f"page {n} lacks the table header"
        # no row split across pages: each line's SKU and its amount are on the same page
        for line in lines:
            amount = format_money(line["net"], "CNY", lang)
            assert any(line["sku"] in t and amount in t for t in texts), line["sku"]


def _closing_holds(texts: list[str], data: dict[str, Any], lang: str) -> None:
    """The closing part of a quote breaks only between its blocks, and never leaves a block alone on a page.

    The grand total and the amount in words share a page, and that page shows a line of the table too (the last
    rows move with the totals) unless the totals start the closing on the table's own page; the signature and seal
    block is on the last page, with the totals or a term above it (never alone at the top of a page).
    """
    total_shown = format_money(data["totals"]["total"], "CNY", lang)
    on = [n for n, t in enumerate(texts) if total_shown in t and ("合计（含税）" in t or "Total" in t)]
    assert len(on) == 1, f"the totals are on pages {on}"
    page = texts[on[0]]
    if lang == "zh-CN":
        assert "合计人民币（大写）" in page
    if data["lines"]:
        skus = [line["sku"] for line in data["lines"]]
        assert any(sku in page for sku in skus), "the totals moved to a page without any line of the table"
    seal = "盖章" if lang == "zh-CN" else "company stamp"
    assert seal in texts[-1] and all(seal not in t for t in texts[:-1])
    before = texts[-1].split("盖章" if lang == "zh-CN" else "Seller")[0]
    heads = ("付款条件", "备注", "贸易术语", "税务处理", "合计") if lang == "zh-CN" else \
        ("Payment terms", "Notes", "Incoterms", "Tax treatment", "Total")
    assert any(h in before for h in heads), "the signature block stands alone on its page"


@pytest.mark.parametrize("count", [8, 14])
def test_the_closing_splits_between_blocks_never_leaving_one_alone(book: Path, tmp_path: Path, count: int) -> None:
    """8 lines: the totals fit under the table and the terms do not all fit, so the notes go over with the seal;
    14 lines: the totals do not fit under the table, so the last line and its group's subtotal go over with them
    (before, the whole closing moved as one block and left page 1 a third empty, or the seal stood alone)."""
    lines = [_line(n, f"Spare part {n}", f"part-{n:03d}", 1, Decimal("100.00")) for n in range(1, count + 1)]
    data = _quote(lines, "zh-CN", NOTES_ZH, "1. 预付30%\n2. 发货前付清70%")
    _write(book, "2ndtzz000077", data)
    out = tmp_path / "q.pdf"
    r = invoke("quote", "render", "2ndtzz000077", "--out", str(out), book=book, env={"CRMCTL_NOW": "2026-06-20T10:00:00+08:00"})
    assert r.exit_code == 0, r.output
    with pdfplumber.open(str(out)) as pdf:
        texts = [page.extract_text() or "" for page in pdf.pages]
    assert len(texts) == 2
    _closing_holds(texts, data, "zh-CN")
    if count == 8:
        assert "合计（含税）" in texts[0] and "备注" in texts[1]
    else:
        assert "合计（含税）" in texts[1]    # with at least one line of the table (_closing_holds)


def test_the_demo_chinese_quotes_totals_follow_the_table_on_page_1(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "zh.pdf"
    r = invoke("quote", "render", "2ndtpn4c4ech", "--out", str(out), book=demo_copy,
               env={"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"})
    assert r.exit_code == 0, r.output
    with pdfplumber.open(str(out)) as pdf:
        first = pdf.pages[0].extract_text() or ""
        last = pdf.pages[-1].extract_text() or ""
    # the demo's grand total: 2,333,440.00 net + 284,315.20 (13%) + 8,784.00 (6%) = 2,626,539.20
    assert "小计（不含税）" in first and "¥2,626,539.20" in first and "合计人民币（大写）" in first
    assert "盖章" in last


def test_huge_amount_in_words() -> None:
    from crmctl.core.money import rmb_in_words

    # 884,955,752,212.38 + 13% (115,044,247,787.61) = 999,999,999,999.99
    assert (HUGE * Decimal("0.13")).quantize(Decimal("0.01")) + HUGE == Decimal("999999999999.99")
    assert rmb_in_words("999999999999.99") == "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"


def test_the_demo_chinese_quote_names_the_buyers_full_address_and_tax_id(demo_copy: Path, tmp_path: Path) -> None:
    # before: the buyer block read only "上海" (the demo account had no street, postcode or 纳税人识别号)
    out = tmp_path / "zh.pdf"
    assert invoke("quote", "render", "2ndtpn4c4ech", "--out", str(out), book=demo_copy,
                  env={"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}).exit_code == 0
    with pdfplumber.open(str(out)) as pdf:
        first = pdf.pages[0].extract_text() or ""
    assert "上海市嘉定区安亭镇墨玉南路888号（201805）" in first and "纳税人识别号: 91310114MA1GT3K70Y" in first
