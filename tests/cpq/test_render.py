"""Quote documents: real PDFs whose text carries the hand-computed totals, in Chinese and English, rendered safely."""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import git
from tests.cpq.conftest import Run, new_quote


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.fixture
def priced(cpq: Run) -> str:
    """The quote of test_quote.test_totals_hand_computed: total 108995.00 CNY."""
    qid = new_quote(cpq, ["mill", "--group", "Machines", "--option", "ctrl=pro"], ["holder", "--group", "Machines"],
                    ["svc", "--group", "Service"])
    assert cpq("quote", "edit", qid, "--discount", "5%", "--fee", "Shipping=800").exit_code == 0
    return qid


def test_chinese_and_english_pdfs_carry_the_totals(cpq: Run, cpq_book: Path, priced: str) -> None:
    # mill 95000 + pro 10000 = 105000; holder 1000; svc 5000 (6%). 5% off: 5250 + 50 + 250 = 5550.
    # net 111000 - 5550 + 800 = 106250; tax 99750 x 13% + 950 x 13% + 4750 x 6% + 800 x 13%
    #   = 12967.50 + 123.50 + 285.00 + 104.00 = 13480.00; total 119730.00
    before = git(cpq_book, "rev-parse", "HEAD")
    r = cpq("quote", "render", priced)
    assert r.exit_code == 0, r.output
    out = Path(r.stdout.strip())
    assert out == cpq_book / "out" / f"{priced}-v1.pdf"
    zh = pdf_text(out)
    for text in ("报价单", "卖方", "买方", "ACME Industries", "测试铣床", "数控系统: 高级系统", "分组小计 Machines",
                 "¥106,000.00", "¥5,000.00", "整单折扣 5%", "-¥5,550.00", "Shipping", "¥800.00", "税额 13%", "¥13,195.00",
                 "税额 6%", "¥285.00", "合计", "¥119,730.00", "合计人民币（大写）：壹拾壹万玖仟柒佰叁拾元整", "小计（不含税）", "合计（含税）", "付款条件", "2026年6月15日", "2026年7月15日", "草稿"):
        assert text in zh, text
    en_path = cpq_book / "q-en.pdf"
    assert cpq("quote", "render", priced, "--lang", "en", "--out", str(en_path)).exit_code == 0
    en = pdf_text(en_path)
    for text in ("Quotation", "Test Mill", "Control: Pro control", "Subtotal", "CN¥111,000.00", "CN¥13,195.00",
                 "Total", "CN¥119,730.00", "Jun 15, 2026", "Jul 15, 2026", "Page 1 of 1"):
        assert text in en, text
    assert "1 台" in zh and "1 unit" in en and "台" not in en  # units in the document's language (quotes.units_en)
    assert git(cpq_book, "rev-parse", "HEAD") == before      # rendering writes no records


def test_html_is_chinese_and_escapes_customer_names(cpq: Run, cpq_book: Path) -> None:
    evil = '<img src="file:///etc/passwd">'
    assert cpq("account", "edit", "acme", "--name", evil, "--set", "name_en=" + evil).exit_code == 0
    qid = new_quote(cpq, ["holder"])
    html_path = cpq_book / "q.html"
    assert cpq("quote", "render", qid, "--html", "--out", str(html_path)).exit_code == 0
    html = html_path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html and evil not in html
    pdf = cpq_book / "q.pdf"
    assert cpq("quote", "render", qid, "--out", str(pdf)).exit_code == 0
    text = pdf_text(pdf)
    assert evil in text                     # printed as text
    assert "root:x:0:0" not in text


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: object) -> None:
        pass


def test_templates_cannot_read_files_or_reach_the_network(cpq: Run, cpq_book: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    (cpq_book / "templates").mkdir(exist_ok=True)
    (cpq_book / "templates" / "evil.html").write_text(f"""<html><head>
<link rel="stylesheet" href="{url}/style.css">
<link rel="attachment" href="file://{secret}">
<style>@import url("{url}/import.css"); body {{ background: url("file://{secret}"); }}
h1 {{ background: url("{url}/bg.png"); }}</style></head>
<body><h1>Quote {{{{ quote.id }}}}</h1><img src="file://{secret}"><img src="{url}/logo.png">
<object data="file:///etc/passwd"></object><a href="file://{secret}">x</a>
<link rel="attachment" href="file:///etc/passwd"></body></html>""")
    qid = new_quote(cpq, ["holder"])
    out = cpq_book / "evil.pdf"
    r = cpq("quote", "render", qid, "--template", "evil.html", "--out", str(out))
    server.shutdown()
    assert r.exit_code == 0, r.output
    assert _Recorder.hits == []                           # no network
    reader = PdfReader(str(out))
    assert reader.attachments == {}                       # nothing embedded
    raw = out.read_bytes()
    assert b"TOP-SECRET" not in raw and b"root:x:0:0" not in raw
    assert f"Quote {qid}" in pdf_text(out)
    # Jinja2 cannot include a file outside the template folders either
    (cpq_book / "templates" / "sneaky.html").write_text('{% include "../../' + secret.name + '" %}')
    r = cpq("quote", "render", qid, "--template", "sneaky.html", "--html", "--out", str(cpq_book / "s.html"))
    assert r.exit_code == 1 and "no template" in r.stderr


def test_missing_template_and_book_override(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder"])
    r = cpq("quote", "render", qid, "--template", "nope.html")
    assert r.exit_code == 1
    assert r.stderr.strip() == "error: no template 'nope.html' in the book's templates/ or crmctl's defaults; check --template"
    (cpq_book / "templates").mkdir(exist_ok=True)
    (cpq_book / "templates" / "quote.html").write_text("<p>BOOK TEMPLATE {{ quote.id }} {{ totals.total | money(currency) }}</p>")
    out = cpq_book / "o.html"
    assert cpq("quote", "render", qid, "--html", "--out", str(out)).exit_code == 0
    assert out.read_text() == f"<p>BOOK TEMPLATE {qid} ¥1,130.00</p>"


def test_long_quote_repeats_the_header_and_numbers_pages(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, *[["mill", "--option", "extras=conveyor,light", "--group", f"G{i % 3}"] for i in range(14)],
                    ["holder", "--qty", "14"])
    out = cpq_book / "long.pdf"
    assert cpq("quote", "render", qid, "--lang", "en", "--out", str(out)).exit_code == 0
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    assert len(pages) >= 2
    for n, text in enumerate(pages, 1):
        assert f"Page {n} of {len(pages)}" in text
    assert all("Unit price" in text for text in pages[:-1])   # the thead on every page with lines


def test_demo_book_renders_the_chinese_quote_with_the_logo(demo_copy: Path, tmp_path: Path) -> None:
    from tests.conftest import invoke

    out = tmp_path / "demo.pdf"
    r = invoke("quote", "render", "2ndtpn4c4ech", "--out", str(out), book=demo_copy, env={"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"})
    assert r.exit_code == 0, r.output
    reader = PdfReader(str(out))
    assert len(reader.pages[0].images) >= 1             # templates/logo.png
    text = pdf_text(out)
    assert "QT-2026-0001" in text and "上汽动力总成有限公司" in text and "¥2,626,539.20" in text
