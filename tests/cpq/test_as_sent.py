"""Documents stay what was sent (issue 12): a sent quote re-renders exactly, whatever changed in the book since.

What the document prints from outside the quote — the seller (crm.yaml ``company``), the buyer, contact and
owner (their records), English units and group names (crm.yaml), the printed unit price (``price_digits``) — is
frozen in the quote's ``as_sent`` at ``quote send``. Each test renders real PDFs and reads their text back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

from tests.conftest import git
from tests.cpq.conftest import Run
from tests.cpq.test_document_lang import SELLER, _settings


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def render(cpq: Run, book: Path, qid: str, lang: str, name: str) -> str:
    out = book / f"{name}-{lang}.pdf"
    r = cpq("quote", "render", qid, "--lang", lang, "--out", str(out))
    assert r.exit_code == 0, r.output
    return pdf_text(out)


def quote(book: Path, qid: str) -> dict[str, Any]:
    return yaml.safe_load((book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def sent(cpq: Run, cpq_book: Path) -> str:
    """A sent English quote to a buyer with a full address, a contact, lines in two groups, a tier and units."""
    for old, new in SELLER.items():
        _settings(cpq_book, old, new)
    _settings(cpq_book, "  groups_en: {}", "  groups_en: {机床: Machines, 附件: Accessories}")
    ok = lambda *a: cpq(*a).exit_code == 0 or print(cpq(*a).output)  # noqa: E731
    assert ok("account", "add", "--id", "kraus", "--name", "Kraus Werkzeugbau GmbH", "--tier", "C",
              "--set", "address=Industriestraße 12", "--set", "city=Stuttgart", "--set", "postcode=70565",
              "--set", "country=Germany", "--set", "tax_id=DE136695976")
    r = cpq("contact", "add", "--name", "Jonas Kraus", "--account", "kraus", "--set", "title=Einkauf",
            "--set", "email=jk@kraus.example")
    assert r.exit_code == 0, r.output
    (cpq_book / "contact-id").write_text(r.stdout.strip())
    git(cpq_book, "add", "-A")
    git(cpq_book, "commit", "-qm", "settings")
    r = cpq("--as", "rex", "quote", "new", "--account", "kraus", "--lang", "en", "--contact",
            (cpq_book / "contact-id").read_text())
    assert r.exit_code == 0, r.output
    qid = r.stdout.strip()
    for args in (["mill", "--option", "coolant=tsc", "--option", "spindle=s2", "--option", "extras=conveyor",
                  "--group", "机床"], ["holder", "--qty", "12", "--group", "附件"]):
        assert cpq("quote", "add-line", qid, *args).exit_code == 0
    assert cpq("--as", "dan", "quote", "submit", qid).exit_code == 0
    assert cpq("--as", "dan", "quote", "send", qid).exit_code == 0
    return qid


def change_everything(cpq: Run, book: Path) -> None:
    """After sending: the buyer moves and renames, the seller too, the catalog, the units, groups, contact and owner."""
    ok = lambda *a: cpq(*a).exit_code == 0 or print(cpq(*a).output)  # noqa: E731
    assert ok("account", "edit", "kraus", "--set", "name=Kraus Holding AG", "--set", "address=Neue Straße 1",
              "--set", "city=München", "--set", "postcode=80331", "--set", "tax_id=DE129273398")
    assert ok("contact", "edit", (book / "contact-id").read_text(), "--set", "name=Jonas K. Kraus", "--set", "title=CPO")
    assert ok("--as", "rex", "user", "edit", "rex", "--set", "name=Rex Renamed", "--set", "email=rex@new.example")
    assert ok("--as", "dan", "product", "edit", "mill", "--set", "name=Renamed Mill", "--set", "unit=套")
    for old, new in (('  name: "Test Machinery Co., Ltd."', '  name: "Other Seller Ltd."'),
                     ('  address: "No. 1 Test Road, Shanghai"', '  address: "No. 9 Moved Road, Suzhou"'),
                     ('  bank: "Bank of China, Shanghai Branch"', '  bank: "ICBC Suzhou"'),
                     ('  tax_id: "91310000TEST00001X"', '  tax_id: "91320000OTHER0001X"'),
                     ("[unit, units]", "[machine, machines]"), ("[pc, pcs]", "[piece, pieces]"),
                     ("{机床: Machines, 附件: Accessories}", "{机床: Machine tools, 附件: Add-ons}"),
                     ("price_digits: 4", "price_digits: 2")):
        _settings(book, old, new)
    git(book, "add", "-A")
    git(book, "commit", "-qm", "everything changed")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_sent_quote_re_renders_exactly_what_was_sent(cpq: Run, cpq_book: Path, sent: str, lang: str) -> None:
    before = render(cpq, cpq_book, sent, lang, "before")
    for printed in ("Kraus Werkzeugbau GmbH", "DE136695976", "Jonas Kraus"):
        assert printed in before, printed
    if lang == "en":
        for printed in ("Industriestraße 12, 70565 Stuttgart, Germany", "Test Machinery Co., Ltd.", "No. 1 Test Road",
                        "Bank of China, Shanghai Branch", "Machines", "Accessories", "1 unit", "12 pcs", "Rex Rep"):
            assert printed in before, printed
    change_everything(cpq, cpq_book)
    after = render(cpq, cpq_book, sent, lang, "after")
    for leaked in ("Kraus Holding", "München", "DE129273398", "CPO", "Rex Renamed", "Renamed Mill", "Other Seller",
                   "Moved Road", "ICBC", "machines", "pieces", "Machine tools"):
        assert leaked not in after, leaked
    assert after == before


def test_a_draft_prints_the_book_as_it_is_and_a_revision_freezes_anew(cpq: Run, cpq_book: Path, sent: str) -> None:
    frozen = quote(cpq_book, sent)["as_sent"]
    assert frozen["buyer"]["name"] == "Kraus Werkzeugbau GmbH" and frozen["seller"]["name"] == "Test Machinery Co., Ltd."
    assert frozen["units_en"] == {"台": ["unit", "units"], "个": ["pc", "pcs"]}
    assert frozen["prices"][1] == {"price": "900.00", "tier": ""}   # std: 12 holders at 10% off, 900.00 each
    change_everything(cpq, cpq_book)
    assert cpq("--as", "rex", "quote", "revise", sent).exit_code == 0
    q = quote(cpq_book, sent)
    # the new version is a draft: no as_sent; it prints today's book; version 1 keeps what it sent
    assert "as_sent" not in q or q["as_sent"] is None
    assert q["versions"][0]["as_sent"] == frozen
    draft = render(cpq, cpq_book, sent, "en", "draft")
    assert "Kraus Holding AG" in draft and "Other Seller Ltd." in draft and "Machine tools" in draft
    out = cpq_book / "v1.pdf"
    assert cpq("quote", "render", sent, "--version", "1", "--lang", "en", "--out", str(out)).exit_code == 0
    v1 = pdf_text(out)
    assert "Kraus Werkzeugbau GmbH" in v1 and "Kraus Holding" not in v1 and "Test Machinery" in v1


def test_a_hand_edit_of_what_was_sent_is_reported(cpq: Run, cpq_book: Path, sent: str) -> None:
    assert cpq("check").exit_code == 0
    path = cpq_book / "records" / "quotes" / f"{sent}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Kraus Werkzeugbau GmbH", "Kraus Holding AG"), encoding="utf-8")
    r = cpq("check")
    assert r.exit_code == 1 and "as_sent is not what `quote send` froze (a hand edit?)" in r.stdout, r.output
