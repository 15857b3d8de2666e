"""Report PDFs read as documents: the book's language, names not slugs, locale money, totals, period, as-of, company."""
from __future__ import annotations

import re
from pathlib import Path

import pdfplumber

from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-11-27T18:00:00+08:00"}


def _text(path: Path) -> str:
    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _english(book: Path) -> None:
    text = (book / "crm.yaml").read_text(encoding="utf-8")
    (book / "crm.yaml").write_text(text.replace("locale: zh_CN", "locale: en_US"), encoding="utf-8")


def test_customers_pdf_in_chinese_has_names_money_totals_and_the_chart(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "customers.pdf"
    r = invoke("report", "customers", "--pdf", str(out), book=demo_copy, env=NOW)
    assert r.exit_code == 0, r.output
    text = _text(out)
    for want in ("客户价值", "华东精工机械有限公司", "截至: 2026年11月27日", "生成时间: 2026年11月27日 18:00",
                 "上汽动力总成有限公司", "李娜", "¥4,756,539.20", "近12个月收入", "合计"):
        assert want in text, want
    assert "saic-powertrain" not in text and "li-na" not in text and "revenue_12m" not in text
    # the biggest customer first (Decimal sorted as a number, not as text)
    assert text.index("¥4,756,539.20") < text.index("¥88,000.00")
    with pdfplumber.open(str(out)) as pdf:
        page = pdf.pages[0]
        bars = [r for r in page.rects if r["height"] > 5 and r["top"] < 300]
        # the chart spans the text width: its longest bar ends in the right third of the page
        assert max(b["x1"] for b in bars) > page.width * 0.66


def test_sfe_pdf_sections_with_titles_period_and_names(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "sfe.pdf"
    r = invoke("report", "sfe", "--period", "2026-Q4", "--pdf", str(out), book=demo_copy, env=NOW)
    assert r.exit_code == 0, r.output
    text = _text(out)
    for want in ("销售行为分析", "期间: 2026-Q4 (2026-10-01 – 2026-12-31)", "计划与实际（按销售代表）", "李娜", "上门拜访",
                 "完成率", "84%"):
        assert want in text, want
    assert "completion_pct" not in text
    assert re.search(r"^李娜 29 25 21 4", text, re.M)      # the rep by name (commands in the act list keep their ids)


def test_pipeline_pdf_in_an_english_book(demo_copy: Path, tmp_path: Path) -> None:
    _english(demo_copy)
    out = tmp_path / "pipeline.pdf"
    r = invoke("report", "pipeline", "--pdf", str(out), book=demo_copy, env=NOW)
    assert r.exit_code == 0, r.output
    text = _text(out)
    assert not re.search(r"[\u3400-\u9fff]", text), re.findall(r".*[\u3400-\u9fff].*", text)
    for want in ("Pipeline", "Huadong Precision Machinery Co., Ltd.", "As of: November 27, 2026", "Stage", "Weighted",
                 "Negotiation", "Total", "CN¥"):
        assert want in text, want
    assert re.search(r"CN¥\d{1,3}(,\d{3})+\.\d\d", text)


def test_figures_computed_as_text_are_numbers_and_short_headers_stay_whole(demo_copy: Path, tmp_path: Path) -> None:
    # before: the SFE averages ("75.8" minutes, "21.0" visits per win) and trends ("+0.7") were left-aligned like
    # names, and the customers' narrow tier column broke its header into 级 / 别
    from crmctl.io.reportdoc import cell

    def none(column: str, value: object, row: object = None) -> None:
        return None

    for column, value in (("avg_min", "75.8"), ("visits_per_won", "21.0"), ("trend", "+0.7"), ("avg", "3.6")):
        assert cell(column, value, lang="zh-CN", currency="CNY", words={}, names=none) == (value, True)  # type: ignore[arg-type]
    assert cell("name", "A", lang="zh-CN", currency="CNY", words={}, names=none) == ("A", False)  # type: ignore[arg-type]
    sfe = tmp_path / "sfe.pdf"
    assert invoke("report", "sfe", "--period", "2026-Q4", "--pdf", str(sfe), book=demo_copy, env=NOW).exit_code == 0
    with pdfplumber.open(str(sfe)) as pdf:
        words = pdf.pages[0].extract_words()
    header = next(w for w in words if w["text"].startswith("每单拜访"))
    figure = next(w for w in words if w["text"] == "21.0")     # li-na: 21 completed visits for 1 won deal
    assert abs(figure["x1"] - header["x1"]) < 3, (figure, header)   # right-aligned under its header
    out = tmp_path / "customers.pdf"
    assert invoke("report", "customers", "--pdf", str(out), book=demo_copy, env=NOW).exit_code == 0
    with pdfplumber.open(str(out)) as pdf:
        assert "级别" in [w["text"] for w in pdf.pages[0].extract_words()]
