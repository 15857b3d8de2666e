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
    cards = read_vcards(text, ["decision_maker"])
    assert (cards[0].name, cards[0].org, cards[0].emails, cards[0].phones, cards[0].dropped) == (
        "欧阳娜娜", "上海精密仪器有限公司", ["ouyang@example.cn"], [("work", "+86 21 5555 1234"), ("cell", "+86 139 0000 1111")], [])
    assert cards[0].values == {"title": "总经理", "role": "decision_maker", "notes": "喜欢喝茶；周五不开会", "uid": "c1",
                               "wechat": "oy_nana", "tags": ["重点", "vip"]}
    assert cards[1].name == "John O'Neil" and cards[1].org == "Lone Star, Inc."


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
    assert again.exit_code == 0 and "imported 0 new, 0 updated, 0 unchanged, skipped 2 contact(s)" in again.stderr
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
    assert rows == [("张伟", "skipped: already there as contact c1 (same phone)"), ("Anna Schmidt", "would add")]
    assert head(book) == before and clean(book)


def test_a_bad_value_names_the_card(run: Run, book: Path, tmp_path: Path) -> None:
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS.replace("anna@acme.example", "anna(at)acme"), encoding="utf-8")
    before = head(book)
    result = run("contact", "import-vcf", str(path))
    assert result.exit_code == 1
    assert err_line(result) == "error: card 2 (Anna Schmidt): email: 'anna(at)acme' is not an email address; nothing imported"
    assert head(book) == before and clean(book)


def test_role_is_free_text_and_never_refuses_the_card(run: Run, book: Path, tmp_path: Path) -> None:
    """ROLE in vCard is a job role ("Head of Purchasing"); one of crmctl's committee roles still lands in role."""
    path = tmp_path / "cards.vcf"
    path.write_text(CARDS.replace("ROLE:decision_maker", "ROLE:boss"), encoding="utf-8")
    assert run("contact", "import-vcf", str(path)).exit_code == 0
    listed = {c["name"]: c for c in json.loads(run("contact", "list", "--format", "json").stdout)}
    assert listed["张伟"]["job_role"] == "boss" and "role" not in listed["张伟"]


# ---------------------------------------------------------------- cards as real clients write them
VCARDS = Path(__file__).parent / "vcards"


def import_file(run: Run, name: str, *extra: str) -> list[dict]:
    result = run("contact", "import-vcf", str(VCARDS / name), "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def contact(run: Run, name: str) -> dict:
    listed = json.loads(run("contact", "list", "--format", "json").stdout)
    return next(c for c in listed if c["name"] == name)


def test_android_21_quoted_printable_chinese_with_soft_line_breaks(run: Run, book: Path) -> None:
    # the file breaks its QP values with "=" at the end of a line, as Android does; the old reader refused it
    raw = (VCARDS / "android-2.1.vcf").read_bytes()
    assert b"=\r\n=" in raw and b"TEL;CELL:" in raw
    rows = import_file(run, "android-2.1.vcf")
    assert [(r["name"], r["account"], r["result"], r["not_kept"]) for r in rows] == [("王小明", "baosteel", "added", "ADR")]
    wang = contact(run, "王小明")
    assert (wang["title"], wang["mobile"], wang["phone"]) == ("设备采购部经理", "138 0013 8000", "021-5080-1234")
    assert wang["phones"] == [{"type": "home", "number": "021-6211-9988"}]
    assert (wang["email"], wang["emails"]) == ("xiaoming.wang@example.cn", ["wang.xm@baosteel.example.cn"])
    assert wang["notes"] == "2025年展会认识，负责冷轧线备件采购；喜欢周二上午开会"


def test_outlook_21_bare_types_and_everything_not_kept_is_listed(run: Run, book: Path) -> None:
    rows = import_file(run, "outlook-2.1.vcf")
    assert rows[0]["account"] == "acme"
    assert rows[0]["not_kept"] == "ORG unit Procurement, ADR, LABEL, X-MS-OL-DEFAULT-POSTAL-ADDRESS, X-MS-OL-DESIGN"
    hans = contact(run, "Hans Mueller")
    # TEL;WORK;VOICE and TEL;CELL;VOICE map like TYPE=WORK / TYPE=CELL; the fax is kept too
    assert (hans["phone"], hans["mobile"], hans["phones"]) == ("+49 (89) 1234-5678", "+49 170 1234567",
                                                               [{"type": "fax", "number": "+49 (89) 1234-5679"}])
    assert (hans["email"], hans["emails"]) == ("hans.mueller@acme.example", ["h.mueller@privat.example"])
    assert (hans["title"], hans["job_role"]) == ("Einkaufsleiter", "Head of Purchasing")


def test_ios_30_crcrlf_and_grouped_emails(run: Run, book: Path) -> None:
    assert b"\r\r\n" in (VCARDS / "ios-3.0.vcf").read_bytes()
    rows = import_file(run, "ios-3.0.vcf")
    assert [(r["name"], r["account"], r["not_kept"]) for r in rows] == [("Anna Schmidt", "acme", "BDAY")]
    anna = contact(run, "Anna Schmidt")
    assert (anna["email"], anna["emails"]) == ("anna.schmidt@acme.example", ["anna@schmidt-family.example"])
    assert (anna["mobile"], anna["phone"]) == ("+86 139 1234 5678", "+86 21 6888 0000")  # item3 labelled _$!<Main>!$_
    assert anna["uid"] == "7A1B2C3D-4E5F-6789-ABCD-EF0123456789"


def test_google_30_three_emails_and_a_free_text_role(run: Run, book: Path) -> None:
    import_file(run, "google-3.0.vcf")
    li = contact(run, "李雷")
    assert (li["email"], li["emails"]) == ("li.lei@acme.example", ["lilei1990@mail.example.cn", "lei.li@old-employer.example"])
    assert (li["job_role"], li["tags"], li["mobile"], li["phone"]) == ("技术负责人", ["myContacts", "Starred"],
                                                                       "+86 138-0000-1111", "+86 21 5555 0101")


def test_vcard_40_tel_uris_with_extensions(run: Run, book: Path) -> None:
    rows = import_file(run, "vcard-4.0.vcf", "--account", "acme")
    assert rows[0]["not_kept"] == "GEO, KEY, TZ, URL"
    simon = contact(run, "Simon Perreault")
    assert (simon["phone"], simon["mobile"]) == ("+1-418-656-9254 ext 102", "+1-418-262-6501")
    assert simon["phones"] == [{"type": "home", "number": "+1-555-555-5555 ext 5555"}]
    assert simon["uid"] == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"


def test_names_from_n_alone() -> None:
    cards = read_vcards("BEGIN:VCARD\r\nVERSION:3.0\r\nN:王;小明;;;\r\nEND:VCARD\r\n"
                        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Smith;Anna;;;\r\nEND:VCARD\r\n"
                        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:キム;ミン;;;\r\nEND:VCARD\r\n")
    assert [c.name for c in cards] == ["王小明", "Anna Smith", "キムミン"]


def test_reimporting_a_card_with_a_uid_updates_it(run: Run, book: Path, tmp_path: Path) -> None:
    import_file(run, "ios-3.0.vcf")
    before = contact(run, "Anna Schmidt")
    again = import_file(run, "ios-3.0.vcf")
    assert [(r["id"], r["result"]) for r in again] == [(before["id"], "unchanged")]
    changed = tmp_path / "changed.vcf"
    changed.write_bytes((VCARDS / "ios-3.0.vcf").read_bytes().replace(b"TITLE:Plant Manager", b"TITLE:Plant Director")
                        .replace(b"+86 139 1234 5678", b"+86 139 9999 0000"))
    rows = json.loads(run("contact", "import-vcf", str(changed), "--format", "json").stdout)
    assert [(r["id"], r["result"]) for r in rows] == [(before["id"], "updated: mobile, phones, title")]
    listed = json.loads(run("contact", "list", "--format", "json").stdout)
    assert len(listed) == 1
    anna = listed[0]
    # the old mobile is not lost: it stays among the other phones
    assert (anna["title"], anna["mobile"], anna["phones"]) == ("Plant Director", "+86 139 9999 0000",
                                                               [{"type": "cell", "number": "+86 139 1234 5678"}])


def test_export_import_elsewhere_export_keeps_uids_and_crmctl_fields(run: Run, book: Path, tmp_path: Path) -> None:
    from tests.conftest import invoke

    put(book, [("contacts", "boss1", {"name": "欧阳娜娜", "name_en": "Nana Ouyang", "account": "baosteel", "channel": "wechat",
                                      "role": "decision_maker", "job_role": "采购总监", "email": "oy@example.cn",
                                      "emails": ["nana@home.example"], "phones": [{"type": "fax", "number": "021-5555-0000"}],
                                      "notes": "很长的备注" * 20}),
               ("contacts", "c2", {"name": "Li Lei", "account": "baosteel", "reports_to": "boss1", "uid": "urn:uuid:li-lei-1"})])
    first = tmp_path / "first.vcf"
    assert run("contact", "export-vcf", "--out", str(first)).exit_code == 0
    raw = first.read_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75  # folded at 75 octets, CJK included
    assert b"\r\n " in raw
    other = tmp_path / "other"
    assert invoke("init", str(other)).exit_code == 0
    assert invoke("account", "add", "--id", "bao", "--name", "宝钢机械有限公司", book=other).exit_code == 0
    result = invoke("contact", "import-vcf", str(first), "--format", "json", book=other)
    assert result.exit_code == 0, result.output
    assert [r["not_kept"] for r in json.loads(result.stdout)] == ["", ""]
    second = tmp_path / "second.vcf"
    assert invoke("contact", "export-vcf", "--out", str(second), book=other).exit_code == 0
    again = {c.name: c for c in read_vcards(second.read_text(encoding="utf-8"), ["decision_maker"])}
    assert again["欧阳娜娜"].values["uid"] == "boss1" and again["Li Lei"].values["uid"] == "urn:uuid:li-lei-1"
    assert again["Li Lei"].reports_to_uid == "boss1"
    listed = {c["name"]: c for c in json.loads(invoke("contact", "list", "--format", "json", book=other).stdout)}
    nana = listed["欧阳娜娜"]
    assert (nana["name_en"], nana["channel"], nana["role"], nana["job_role"]) == ("Nana Ouyang", "wechat", "decision_maker", "采购总监")
    assert (nana["emails"], nana["phones"]) == (["nana@home.example"], [{"type": "fax", "number": "021-5555-0000"}])
    assert listed["Li Lei"]["reports_to"] == nana["id"]
    assert first.read_text(encoding="utf-8").replace("\r\n ", "") .count("UID:") == 2
