"""vCard import and export through vobject: round trip with Chinese names, matching, dedupe, all-or-nothing."""
from __future__ import annotations

import json
from pathlib import Path

from crmctl.core.book import Record
from crmctl.io.vcard import read_vcards, write_vcards
from tests.conftest import Run, err_line
from tests.mcr.conftest import clean, head, put

CARDS = """BEGIN:VCARD
VERSION:3.0
FN:张伟
N:张;伟;;;
ORG:宝钢机械有限公司
TITLE:采购经理
EMAIL;TYPE=INTERNET:zhang.wei@baosteel.example.cn
TEL;TYPE=CELL:+86 138 0000 2222
ROLE:decision_maker
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Anna Schmidt
N:Schmidt;Anna;;;
ORG:ＡＣＭＥ Ｉｎｄｕｓｔｒｉｅｓ
EMAIL:anna@acme.example
END:VCARD
"""


def test_round_trip_keeps_chinese_names_and_fields() -> None:
    contacts = [Record("contacts", "c1", {"name": "欧阳娜娜", "account": "a", "title": "总经理", "email": "ouyang@example.cn",
                                          "phone": "+86 21 5555 1234", "mobile": "+86 139 0000 1111", "role": "decision_maker",
                                          "wechat": "oy_nana", "tags": ["重点", "vip"], "notes": "喜欢喝茶；周五不开会"}),
                Record("contacts", "c2", {"name": "John O'Neil", "account": "b", "email": "john@example.com"})]
    accounts = {"a": Record("accounts", "a", {"name": "上海精密仪器有限公司"}), "b": Record("accounts", "b", {"name": "Lone Star, Inc."})}
    text = write_vcards(contacts, accounts)
    assert "FN:欧阳娜娜" in text and "N:欧;阳娜娜;;;" in text
    cards = read_vcards(text)
    assert cards[0] == {"card": 1, "name": "欧阳娜娜", "org": "上海精密仪器有限公司", "title": "总经理", "role": "decision_maker",
                        "notes": "喜欢喝茶；周五不开会", "uid": "c1", "wechat": "oy_nana", "email": "ouyang@example.cn",
                        "phone": "+86 21 5555 1234", "mobile": "+86 139 0000 1111", "tags": ["重点", "vip"]}
    assert cards[1]["name"] == "John O'Neil" and cards[1]["org"] == "Lone Star, Inc."


def test_import_matches_org_by_normalised_name(run: Run, book: Path, tmp_path: Path) -> None:
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS, encoding="utf-8")
    result = run("contact", "import-vcf", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["name"], r["account"], r["result"]) for r in rows] == [("张伟", "baosteel", "added"), ("Anna Schmidt", "acme", "added")]
    listed = json.loads(run("contact", "list", "--format", "json").stdout)
    zhang = next(c for c in listed if c["name"] == "张伟")
    assert (zhang["role"], zhang["mobile"], zhang["title"]) == ("decision_maker", "+86 138 0000 2222", "采购经理")
    # running it again changes nothing
    before = head(book)
    again = run("contact", "import-vcf", str(path))
    assert again.exit_code == 0 and "imported 0 contact(s), skipped 2" in again.stderr
    assert head(book) == before


def test_export_then_import_into_another_book_round_trips(run: Run, book: Path, tmp_path: Path) -> None:
    put(book, [("contacts", "c1", {"name": "欧阳娜娜", "account": "baosteel", "email": "oy@example.cn", "title": "总经理"})])
    out = tmp_path / "out.vcf"
    assert run("contact", "export-vcf", "--account", "bao", "--out", str(out)).exit_code == 0
    (book / "records/contacts/c1.yaml").unlink()
    result = run("contact", "import-vcf", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    again = json.loads(run("contact", "list", "--format", "json").stdout)
    assert [(c["name"], c["account"], c["email"], c["title"]) for c in again] == [("欧阳娜娜", "baosteel", "oy@example.cn", "总经理")]


def test_unknown_org_is_a_per_card_error_and_nothing_is_written(run: Run, book: Path, tmp_path: Path) -> None:
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS.replace("ORG:ＡＣＭＥ Ｉｎｄｕｓｔｒｉｅｓ", "ORG:Nobody Ltd"), encoding="utf-8")
    before = head(book)
    result = run("contact", "import-vcf", str(path))
    assert result.exit_code == 1
    assert err_line(result) == ("error: card 2 (Anna Schmidt): no account matches ORG 'Nobody Ltd'; "
                                "pass --account ACCOUNT or add the account first; nothing imported")
    assert head(book) == before and clean(book)
    # --account catches the card whose ORG matches nothing; the matched one keeps its account
    ok = run("contact", "import-vcf", str(path), "--account", "acme", "--format", "json")
    assert [(r["name"], r["account"]) for r in json.loads(ok.stdout)] == [("张伟", "baosteel"), ("Anna Schmidt", "acme")]


def test_dry_run_and_dedupe_on_phone(run: Run, book: Path, tmp_path: Path) -> None:
    put(book, [("contacts", "c1", {"name": "张伟", "account": "baosteel", "mobile": "138-0000-2222"})])
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS, encoding="utf-8")
    before = head(book)
    result = run("contact", "import-vcf", str(path), "--dry-run", "--format", "json")
    assert result.exit_code == 0
    rows = [(r["name"], r["result"]) for r in json.loads(result.stdout)]
    assert rows == [("Anna Schmidt", "would add"), ("张伟", "skipped: already there (uid, email or phone)")]
    assert head(book) == before and clean(book)


def test_a_bad_value_names_the_card(run: Run, book: Path, tmp_path: Path) -> None:
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS.replace("ROLE:decision_maker", "ROLE:boss"), encoding="utf-8")
    result = run("contact", "import-vcf", str(path))
    assert result.exit_code == 1 and err_line(result).startswith("error: card 1 (张伟): role: 'boss' is not one of ")
