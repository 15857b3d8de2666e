"""What a buyer reads: the Chinese quote's seller block, 大写 total and tax basis; the English quote without Chinese.

Each test renders a real PDF from a real book and reads its text back (pypdf),
or runs `check` on the book as a user would.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from crmctl.cpq.quotes import incoterms_problem
from tests.cpq.conftest import Run, new_quote


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def _settings(book: Path, old: str, new: str) -> None:
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


SELLER = {
    '  name: "测试公司"': '  name: "Test Machinery Co., Ltd."',
    '  name_zh: ""': '  name_zh: "测试机械有限公司"',
    '  address: ""': '  address: "No. 1 Test Road, Shanghai"',
    '  address_zh: ""': '  address_zh: "上海市测试路1号"',
    '  tax_id: ""': '  tax_id: "91310000TEST00001X"',
    '  bank: ""': '  bank: "Bank of China, Shanghai Branch"',
    '  bank_zh: ""': '  bank_zh: "中国银行上海分行"',
    '  bank_account: ""': '  bank_account: "4378 0000 1111"',
}


@pytest.fixture
def seller(cpq_book: Path) -> Path:
    for old, new in SELLER.items():
        _settings(cpq_book, old, new)
    return cpq_book


def test_chinese_quote_seller_block_buyer_and_total_in_words(cpq: Run, seller: Path) -> None:
    assert cpq("account", "edit", "baosteel", "--set", "address=宝山区富锦路885号", "--set", "city=上海",
               "--set", "tax_id=91310113MA1GL00009").exit_code == 0
    qid = new_quote(cpq, ["holder", "--qty", "10"], account="baosteel", user="ria")
    out = seller / "zh.pdf"
    r = cpq("quote", "render", qid, "--out", str(out))
    assert r.exit_code == 0, r.output
    text = pdf_text(out)
    # seller from crm.yaml's Chinese fields
    for want in ("测试机械有限公司", "上海市测试路1号", "纳税人识别号: 91310000TEST00001X", "开户行: 中国银行上海分行",
                 "账号: 4378 0000 1111"):
        assert want in text, want
    assert "Test Machinery" not in text and "Bank of China" not in text
    # buyer: name, full address (city then street), tax id
    assert "宝钢机械" in text and "上海宝山区富锦路885号" in text and "91310113MA1GL00009" in text
    # holder 1000 x 10, range tier 10% off (std price book, baosteel tier B: dealer slab 800) -> net shown in the PDF;
    # whatever the net, the words are the total's
    total = re.search(r"合计（含税）\s*¥([\d,]+\.\d\d)", text)
    assert total, text
    from crmctl.core.money import rmb_in_words
    assert f"合计人民币（大写）：{rmb_in_words(total.group(1).replace(',', ''))}" in text.replace("\n", "")
    assert "盖章" in text and "第 1 页，共 1 页" in text


def test_inclusive_mode_labels_and_tax_per_rate(cpq: Run, cpq_book: Path) -> None:
    _settings(cpq_book, "  mode: exclusive", "  mode: inclusive")
    qid = new_quote(cpq, ["holder"], ["svc"])
    out = cpq_book / "inc.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    text = pdf_text(out)
    # holder 1000.00 incl. 13%: tax 1000 x 13/113 = 115.04; svc 5000.00 incl. 6%: 5000 x 6/106 = 283.02
    assert "合计（含税）" in text and "¥6,000.00" in text
    assert "其中税额 13%" in text and "¥115.04" in text
    assert "其中税额 6%" in text and "¥283.02" in text
    assert "不含税" not in text            # nothing on this document is labelled tax-exclusive
    en = cpq_book / "inc-en.pdf"
    assert cpq("quote", "render", qid, "--lang", "en", "--out", str(en)).exit_code == 0
    text = pdf_text(en)
    assert "of which tax 13%" in text and "of which tax 6%" in text and "incl. tax" in text and "excl. tax" not in text


def test_english_quote_has_no_chinese_and_check_names_what_is_missing(cpq: Run, seller: Path) -> None:
    qid = new_quote(cpq, ["mill", "--group", "加工中心"], ["svc", "--qty", "3", "--group", "服务"], ["holder", "--qty", "1"])
    assert cpq("quote", "edit", qid, "--lang", "en", "--payment-terms", "1. 预付30%\n2. 发货前付清70%",
               "--notes", "交货期：10周", "--fee", "运输及保险=800").exit_code == 0
    r = cpq("check")
    assert r.exit_code == 1
    for where in ("payment_terms: '1. 预付30%", "notes: '交货期", "groups[0].name: '加工中心' has no English form",
                  "quote.fees[0].name: '运输及保险'"):
        assert where in r.output, (where, r.output)
    # the English forms: per field (_en), per fee (name_en), per group (groups_en on the quote)
    assert cpq("quote", "edit", qid, "--payment-terms-en", "1. 30% with order\n2. 70% before shipment",
               "--notes-en", "Delivery: 10 weeks", "--incoterms", "FOB Shanghai").exit_code == 0
    path = next((seller / "records" / "quotes").glob(f"{qid}.yaml"))
    text = path.read_text(encoding="utf-8")
    text = text.replace("- name: 运输及保险\n", "- name: 运输及保险\n  name_en: Freight and insurance\n")
    text += "groups_en:\n  加工中心: Machining centres\n  服务: Services\n"
    path.write_text(text, encoding="utf-8")
    r = cpq("check")
    assert "English quote" not in r.output, r.output
    assert cpq("account", "edit", "acme", "--set", "tax_id=DE136695976", "--set", "address=Hauptstr. 5",
               "--set", "postcode=80331", "--set", "city=München", "--set", "country=Germany").exit_code == 0
    out = seller / "en.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    pdf = pdf_text(out)
    assert not re.search(r"[\u3400-\u9fff]", pdf), re.findall(r".*[\u3400-\u9fff].*", pdf)
    for want in ("Machining centres", "Services", "Freight and insurance", "1. 30% with order\n2. 70% before shipment",
                 "Incoterms® 2020", "FOB Shanghai", "VAT ID: DE136695976", "Hauptstr. 5, 80331 München, Germany",
                 "Bank: Bank of China, Shanghai Branch", "Test Machinery Co., Ltd.",
                 "1 unit", "1 pc"):
        assert want in pdf, want


def test_a_fees_english_name_is_set_from_the_command_line(cpq: Run, cpq_book: Path) -> None:
    # before: only a hand edit of the quote file could give a fee its name_en
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--lang", "en", "--payment-terms-en", "Net 30").exit_code == 0
    assert cpq("quote", "edit", qid, "--fee", "运费=800", "--fee-en", "运费=Freight").exit_code == 0
    assert cpq("quote", "edit", qid, "--fee", "安装=300").exit_code == 0
    r = cpq("check")
    assert "quote.fees[1].name: '安装' has no English form (set the fee's name_en: quote edit Q --fee-en NAME=ENGLISH)" \
        in r.output, r.output
    assert cpq("quote", "edit", qid, "--fee-en", "安装 = Installation").exit_code == 0   # a fee added earlier
    fees = json.loads(cpq("quote", "show", qid, "--format", "json").stdout)["fees"]
    assert [(f["name"], f.get("name_en")) for f in fees] == [("运费", "Freight"), ("安装", "Installation")]
    out = cpq_book / "fee.pdf"
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "Freight" in text and "Installation" in text and "运费" not in text


FORM = "write NAME=ENGLISH, the fee's name as the quote has it and its English name (e.g. --fee-en 运费=Freight)"


@pytest.mark.parametrize(("given", "error"), [
    ("运费", f"--fee-en '运费': {FORM}"),
    ("运费=", f"--fee-en '运费=': {FORM}"),
    ("运费=A=B", f"--fee-en '运费=A=B': {FORM}"),
    ("保险=Insurance", ("--fee-en '保险=Insurance': the quote has no fee named '保险' (its fees: 运费); "
                       "add it with --fee 保险=AMOUNT in the same command")),
])
def test_a_bad_fee_en_is_refused_with_one_line(cpq: Run, given: str, error: str) -> None:
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--fee", "运费=800").exit_code == 0
    r = cpq("quote", "edit", qid, "--fee-en", given)
    assert r.exit_code == 1 and r.stderr.strip() == f"error: {error}"
    fees = json.loads(cpq("quote", "show", qid, "--format", "json").stdout)["fees"]
    assert fees == [{"name": "运费", "amount": "800.00"}]      # nothing written


def test_units_agree_with_numbers(cpq: Run, cpq_book: Path) -> None:
    svc = cpq_book / "records" / "products" / "svc.yaml"
    svc.write_text(svc.read_text(encoding="utf-8") + "unit: 次\n", encoding="utf-8")
    qid = new_quote(cpq, ["mill", "--qty", "2"], ["holder", "--qty", "1"], ["svc", "--qty", "3"])
    out = cpq_book / "u.pdf"
    assert cpq("quote", "render", qid, "--lang", "en", "--out", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "2 units" in text and "1 pc" in text and "3 sessions" in text
    assert "1 pcs" not in text and "2 unit\n" not in text and "3 session\n" not in text
    zh = cpq_book / "u-zh.pdf"
    assert cpq("quote", "render", qid, "--out", str(zh)).exit_code == 0
    assert "2 台" in pdf_text(zh) and "3 次" in pdf_text(zh)


@pytest.mark.parametrize(("text", "ok"), [("FOB Shanghai", True), ("CIF Hamburg", True), ("EXW", True), ("DDP Houston, TX", True),
                                          ("FOB", False), ("fob Shanghai", False), ("FOO Shanghai", False), ("", False)])
def test_incoterms_are_a_2020_rule_and_place(text: str, ok: bool) -> None:
    assert (incoterms_problem(text) is None) == ok


def test_incoterms_refused_on_edit(cpq: Run) -> None:
    qid = new_quote(cpq, ["holder"])
    r = cpq("quote", "edit", qid, "--incoterms", "FOB")
    assert r.exit_code == 1
    assert r.stderr.strip() == "error: --incoterms 'FOB': name the place after FOB, e.g. 'FOB Shanghai'"


def test_tax_treatment_reason_is_printed_when_the_quote_carries_one(cpq: Run, cpq_book: Path) -> None:
    # the treatment is the quote's exemption (step 2: --tax-exempt REASON), printed with its reason and applied:
    # holder 1000.00, no tax -> total 1000.00
    qid = new_quote(cpq, ["holder"])
    r = cpq("quote", "edit", qid, "--tax-exempt", "Zero-rated export (VAT Act §4 No. 1a)")
    assert r.exit_code == 0, r.output
    out = cpq_book / "t.pdf"
    assert cpq("quote", "render", qid, "--lang", "en", "--out", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "Zero-rated export (VAT Act §4 No. 1a)" in text and "1,000.00" in text
    assert cpq("quote", "render", qid, "--out", str(out)).exit_code == 0
    assert "税务处理" in pdf_text(out) and "Zero-rated export" in pdf_text(out)


def test_the_demo_english_quote_to_a_us_customer_is_zero_rated_with_incoterm_and_ein(demo_copy: Path) -> None:
    # QT-2026-0002 v2 to Lone Star Fabrication (Houston): the account's zero-rated export applies, so no Chinese VAT
    # (before: 13% on the machines and the freight, 6% on training, 179,036.60 in all)
    from tests.conftest import invoke

    out = demo_copy / "en.pdf"
    r = invoke("quote", "render", "2ndtpvn1c44n", "--lang", "en", "--out", str(out), book=demo_copy,
               env={"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"})
    assert r.exit_code == 0, r.output
    text = pdf_text(out)
    # 153,720.00 lines + 4,800.00 freight = 158,520.00 net; tax 0 -> total 158,520.00
    for want in ("Tax treatment\nZero-rated export (goods shipped to the United States)", "Incoterms® 2020\nFOB Shanghai",
                 "EIN: 74-1234567", "Tax 0% $0.00", "Total $158,520.00"):
        assert want in text, want
    assert "4100 Westpark Dr, Houston 77027, United States" in text.replace("\n", " ")   # the US order: city, then ZIP
    assert "incl. tax" not in text and not re.search(r"[\u3400-\u9fff]", text)


def test_the_chinese_quote_to_a_foreign_buyer_keeps_the_address_readable_and_prints_the_title(demo_copy: Path) -> None:
    # attack on step 3, F4 and F5: the zh-CN render of QT-2026-0002 printed "United StatesHouston4100 Westpark Dr（77027）"
    # (Chinese order, Latin parts glued, the country left in English) and no quote printed its title
    from tests.conftest import invoke

    env = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
    out = demo_copy / "zh.pdf"
    r = invoke("quote", "render", "2ndtpvn1c44n", "--lang", "zh-CN", "--out", str(out), book=demo_copy, env=env)
    assert r.exit_code == 0, r.output
    text = pdf_text(out).replace("\n", " ")
    assert "美国 Houston, 4100 Westpark Dr（77027）" in text and "United StatesHouston" not in text
    assert "Lone Star Fab — two VMC-850 for the Houston shop" in text
    r = invoke("quote", "render", "2ndtpn4c4ech", "--out", str(out), book=demo_copy, env=env)
    assert r.exit_code == 0, r.output
    assert "上汽动力总成 缸体线扩产 VMC-850 x4" in pdf_text(out)


def test_an_english_quote_with_a_chinese_title_is_named_until_it_has_an_english_one(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["mill"], ["holder"])
    assert cpq("quote", "edit", qid, "--title", "一期 加工中心", "--lang", "en").exit_code == 0
    out = cpq_book / "en.pdf"
    r = cpq("quote", "render", qid, "--out", str(out))
    assert r.exit_code == 0 and "subject: '一期 加工中心' has no English form (set title_en: quote edit Q --title-en)" in r.stderr
    assert cpq("quote", "edit", qid, "--title-en", "Phase 1 machining centres").exit_code == 0
    r = cpq("quote", "render", qid, "--out", str(out))
    assert r.exit_code == 0 and "subject" not in r.stderr
    text = pdf_text(out)
    assert "Phase 1 machining centres" in text and "一期" not in text


def test_a_chinese_document_of_an_english_quote_names_its_english_only_texts(demo_copy: Path) -> None:
    # attack 5, F3: `render --lang zh-CN` of the English QT-2026-0002 printed its English title, terms, group and fee
    # names and tax reason under Chinese labels with no word; the reverse case warned of every untranslated text
    from tests.conftest import invoke

    env = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
    out = demo_copy / "zh.pdf"
    r = invoke("quote", "render", "2ndtpvn1c44n", "--lang", "zh-CN", "--out", str(out), book=demo_copy, env=env)
    assert r.exit_code == 0, r.output
    assert "warning: the Chinese document prints 6 text(s) of the quote in English, with no Chinese form: " in r.stderr
    for where in ("subject: 'Lone Star Fab", "payment_terms: '30% with order", "groups[0].name: 'Machines'",
                  "groups[1].name: 'Services'", "quote.fees[0].name: 'Freight to Houston'",
                  "tax_note: 'Zero-rated export (goods shipped to the "):
        assert where in r.stderr, where
    assert "VMC-850 Vertical" not in r.stderr     # a line's name is the catalog's (name_zh), not the quote's
    # a Chinese quote's Chinese document: nothing to say
    r = invoke("quote", "render", "2ndtpn4c4ech", "--out", str(out), book=demo_copy, env=env)
    assert r.exit_code == 0 and "Chinese form" not in r.stderr


def test_a_tax_exemption_reason_has_an_english_form(cpq: Run, cpq_book: Path) -> None:
    # attack 5, F3: the reason was one text; an exempt account with Chinese and English quotes could not have both
    assert cpq("account", "edit", "acme", "--set", "tax_exempt=出口零税率", "--set",
               "tax_exempt_en=Zero-rated export").exit_code == 0
    qid = new_quote(cpq, ["holder"])
    assert cpq("quote", "edit", qid, "--lang", "en", "--title", "一期", "--title-en", "Phase 1").exit_code == 0
    out = cpq_book / "q.pdf"
    r = cpq("quote", "render", qid, "--out", str(out))
    assert r.exit_code == 0 and "tax_note" not in r.stderr, r.stderr
    text = pdf_text(out)
    assert "Zero-rated export" in text and "出口零税率" not in text and "1,000.00" in text   # no tax: 1,000.00
    r = cpq("quote", "render", qid, "--lang", "zh-CN", "--out", str(out))
    assert r.exit_code == 0 and "出口零税率" in pdf_text(out) and "Chinese form" not in r.stderr
    assert "tax_note" not in cpq("check").output
    # a quote's own exemption has both forms too
    other = new_quote(cpq, ["holder", "--qty", "2"], account="baosteel")
    r = cpq("quote", "edit", other, "--tax-exempt-en", "Reverse charge")
    assert r.exit_code == 1 and r.stderr.startswith("error: --tax-exempt-en is the English form of the quote's own "
                                                    "--tax-exempt REASON; give both")
    assert cpq("quote", "edit", other, "--lang", "en", "--tax-exempt", "反向征收", "--tax-exempt-en",
               "Reverse charge").exit_code == 0
    r = cpq("quote", "render", other, "--out", str(out))
    assert r.exit_code == 0 and "Reverse charge" in pdf_text(out) and "反向征收" not in pdf_text(out)
    # --taxed removes both forms
    assert cpq("quote", "edit", other, "--taxed").exit_code == 0
    assert "tax_exempt" not in (cpq_book / "records" / "quotes" / f"{other}.yaml").read_text(encoding="utf-8")
    # the English form given after approval is part of the tax status priced: the approval is stale until submitted
    third = new_quote(cpq, ["holder"])
    r = cpq("--as", "rex", "quote", "submit", third)
    assert r.exit_code == 0, r.output
    assert cpq("account", "edit", "acme", "--set", "tax_exempt_en=Export, zero-rated").exit_code == 0
    assert ("the tax status changed since it was priced (exempt: '出口零税率' / 'Zero-rated export' -> exempt: "
            "'出口零税率' / 'Export, zero-rated', account acme)") in cpq("quote", "show", third).stdout
