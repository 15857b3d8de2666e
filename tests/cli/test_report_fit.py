"""Every report PDF fits its page whatever the font and the figures (issue 13, F6/F18/F19).

English PDFs print in DejaVu Sans, wider than the Chinese PDFs' Noto Sans CJK: on the plain demo book the receivables
Total column was cut at the paper edge ("CN¥369,60"), the forecast lost Attainment and Gap, the customers table
Health and Segment. A 60-character account name and amounts near 999,999,999,999.99 ran the Chinese customers table
off the page too, and the chart cut the long name at its start. Each word's box (pdfplumber) must lie inside the
margins, and each amount must print whole.
"""
from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest

from tests.cli.test_report_language import REPORTS, _git_book
from tests.conftest import invoke

NOW = {"CRMCTL_NOW": "2026-11-27T18:00:00+08:00"}
MARGIN_PT = 14 * 72 / 25.4        # report.html: 14 mm left and right
# the 60-character names of the stress account (no space in the English one: it must wrap inside the word)
LONG_ZH = ("江苏省无锡市新吴区高端装备制造产业园精密液压阀体铸造与数控加工集团股份有限公司" * 2)[:60]
LONG_EN = "Wuxihydraulicvalvebodycastingandprecisionmachininggroupcoltd"
BIG = "999999999999.99"
# a money word printed whole: symbol, groups of three, two decimals (a clipped "CN¥369,60" is not one)
MONEY = re.compile(r"-?(CN)?¥-?\d{1,3}(,\d{3})*\.\d{2}")


def _locale(book: Path, locale: str) -> None:
    crm = book / "crm.yaml"
    crm.write_text(crm.read_text(encoding="utf-8").replace("locale: zh_CN", f"locale: {locale}"), encoding="utf-8")


def _ok(book: Path, *args: str) -> str:
    r = invoke(*args, book=book, env=NOW)
    assert r.exit_code == 0, r.output
    return r.output.split()[-1] if r.output.strip() else ""   # the new record's id ("added opportunity ID")


def _stress(book: Path) -> None:
    """A customer with a 60-character name, a won deal and an order of 999,999,999,999.99 and an open deal as big."""
    _ok(book, "--as", "li-na", "account", "add", "--id", "longco", "--name", LONG_ZH, "--name-en", LONG_EN,
        "--tier", "A", "--owner", "li-na", "--city", "无锡")
    won = _ok(book, "--as", "li-na", "opp", "add", "--name", LONG_ZH, "--account", "longco", "--owner", "li-na",
              "--amount", BIG, "--close-date", "2026-12-31")
    contact = _ok(book, "--as", "li-na", "contact", "add", "--name", "王五", "--account", "longco")
    _ok(book, "--as", "li-na", "opp", "edit", won, "--set", f"contacts={contact}")
    _ok(book, "--as", "li-na", "opp", "win", won)
    _ok(book, "--as", "wang-lei", "order", "add", "--opp", won, "--date", "2026-10-01")
    _ok(book, "--as", "li-na", "opp", "add", "--name", "大单测试", "--account", "longco", "--owner", "li-na",
        "--amount", BIG, "--close-date", "2026-12-31")


def _words(path: Path) -> list[tuple[int, float, dict]]:
    with pdfplumber.open(str(path)) as pdf:
        return [(n, page.width, w) for n, page in enumerate(pdf.pages, 1) for w in page.extract_words()]


def _assert_fits(path: Path) -> str:
    """Every word inside the left and right margins, every money word whole; returns the text (words by spaces)."""
    words = _words(path)
    outside = [(n, w["text"], round(w["x0"]), round(w["x1"])) for n, width, w in words
               if w["x0"] < MARGIN_PT - 1 or w["x1"] > width - MARGIN_PT + 1]
    assert not outside, f"{path.name}: words outside the margins (page, text, x0, x1): {outside}"
    cut = [w["text"] for _, _, w in words if "¥" in w["text"] and not MONEY.fullmatch(w["text"])]
    assert not cut, f"{path.name}: amounts not printed whole: {cut}"
    return " ".join(w["text"] for _, _, w in words)


@pytest.fixture(params=["zh_CN", "en_US", "en", "en_GB"])
def locale_book(request: pytest.FixtureRequest, demo_copy: Path) -> tuple[Path, str]:
    _locale(demo_copy, request.param)
    _git_book(demo_copy)
    return demo_copy, request.param


@pytest.mark.parametrize("stress", [False, True], ids=["demo", "stress"])
def test_every_report_fits_the_page(locale_book: tuple[Path, str], tmp_path: Path, stress: bool) -> None:
    book, locale = locale_book
    if locale in ("en", "en_GB") and stress:
        pytest.skip("the stress case runs once per script (zh_CN, en_US)")
    if stress:
        _stress(book)
    for name, args in REPORTS.items():
        out = tmp_path / f"{name}.pdf"
        _ok(book, *args, "--pdf", str(out))
        text = _assert_fits(out)
        if stress and name == "customers":
            money = "¥999,999,999,999.99" if locale == "zh_CN" else "CN¥999,999,999,999.99"
            assert money in text.split(), (name, money)


def test_the_english_demo_reports_keep_every_column(demo_copy: Path, tmp_path: Path) -> None:
    """The F19 examples: the columns and totals the English PDFs had lost."""
    _locale(demo_copy, "en_US")
    _git_book(demo_copy)
    want = {
        # grand total of receivables: 1,050,320.00 + 1,019,800.00 + 2,766,539.20 + 0 + 0 = 4,836,659.20
        "receivables": ["Total", "CN¥369,600.00", "CN¥4,065,539.20", "CN¥4,836,659.20"],
        # Li Na: closed 2,626,539.20 of quota 800,000.00 = 328.3%; total gap 4,600,000.00 - 3,365,339.20 = 1,234,660.80
        "forecast": ["Attainment", "Gap", "328.3%", "CN¥1,234,660.80"],
        "customers": ["Health", "Segment", "CN¥4,756,539.20"],
    }
    for name, expected in want.items():
        out = tmp_path / f"{name}.pdf"
        _ok(demo_copy, *REPORTS[name], "--pdf", str(out))
        words = _assert_fits(out).split()
        for text in expected:
            assert text in words, (name, text)


def test_a_long_chart_label_is_cut_at_its_end_not_its_start(demo_copy: Path, tmp_path: Path) -> None:
    _git_book(demo_copy)
    _stress(demo_copy)
    out = tmp_path / "customers.pdf"
    _ok(demo_copy, "report", "customers", "--pdf", str(out))
    with pdfplumber.open(str(out)) as pdf:
        text = pdf.pages[0].extract_text()
    assert LONG_ZH[:10] in text.replace("\n", "")       # the name's beginning is on the page
    assert "…" in text


def test_a_chinese_header_does_not_break_inside_its_words(demo_copy: Path, tmp_path: Path) -> None:
    """F8: the receivables headers broke as "90 天以 / 上" and "61–90 / 天" although the table had room."""
    out = tmp_path / "receivables.pdf"
    _ok(demo_copy, "report", "receivables", "--pdf", str(out))
    with pdfplumber.open(str(out)) as pdf:
        page = pdf.pages[0]
        # the table's header row: the lowest 未到期 (the chart above labels its bars with the same words)
        top = max(w["top"] for w in page.extract_words() if w["text"] == "未到期")
        cells = [w["text"] for w in page.extract_words() if abs(w["top"] - top) < 2]
    assert "天以上" in cells and "以上" not in cells and "上" not in cells, cells
    assert cells.count("天") == 3, cells         # 1–30 天, 31–60 天, 61–90 天 each on one line


def test_the_english_customers_pdf_names_accounts_in_english(demo_copy: Path, tmp_path: Path) -> None:
    """F7: the English customers PDF printed 上汽动力总成有限公司 where the SFE PDF says SAIC Powertrain (its name_en)."""
    _locale(demo_copy, "en_US")
    out = tmp_path / "customers.pdf"
    _ok(demo_copy, "report", "customers", "--pdf", str(out))
    with pdfplumber.open(str(out)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    for english, chinese in (("SAIC Powertrain", "上汽动力总成有限公司"), ("Hangzhou Hydraulics", "杭州液压件厂")):
        assert english in text and chinese not in text, (english, chinese)


@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
def test_changes_by_product_prints_product_names_and_translated_labels(demo_copy: Path, tmp_path: Path,
                                                                          locale: str) -> None:
    """F9: `report changes --by product --pdf` printed "按: product", a "product" header, "(none)" and SKU slugs."""
    _locale(demo_copy, locale)
    _git_book(demo_copy)
    out = tmp_path / "changes.pdf"
    _ok(demo_copy, *REPORTS["changes"], "--by", "product", "--pdf", str(out))
    with pdfplumber.open(str(out)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "product" not in text and "(none)" not in text and "vmc-850" not in text, text
    if locale == "zh_CN":
        assert "按: 产品" in text and "VMC-850 立式加工中心" in text and "未指定" in text, text
    else:
        assert "by: Product" in text and "Not set" in text, text
