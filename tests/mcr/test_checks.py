"""`crmctl check`: probable duplicates (full-width forms too), parent loops, broken redirects, coordinates."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run, invoke
from tests.mcr.conftest import put


def problems(run: Run) -> list[dict]:
    result = run("check", "--format", "json")
    return json.loads(result.stdout) if result.stdout.strip() else []


def test_full_width_and_half_width_names_are_duplicates(run: Run, book: Path) -> None:
    put(book, [("accounts", "acme-co", {"name": "ＡＣＭＥ Ｃｏ．", "created": "2026-01-01T00:00:00+08:00"}),
               ("accounts", "acme-co-2", {"name": "acme co.", "created": "2026-02-01T00:00:00+08:00"})])
    found = [p for p in problems(run) if p["code"] == "duplicate"]
    assert found == [{
        "path": "records/accounts/acme-co-2.yaml", "line": 1, "code": "duplicate",
        "message": "probable duplicate of account acme-co (ＡＣＭＥ Ｃｏ．): same name; merge it with `crmctl account merge acme-co acme-co-2`",
    }]
    assert run("check").exit_code == 1


def test_chinese_full_width_punctuation_and_suffix(run: Run, book: Path) -> None:
    put(book, [("accounts", "bao-2", {"name": "宝钢机械（上海）有限公司", "phone": "021-5555 6666"}),
               ("accounts", "bao-3", {"name": "宝钢机械(上海)", "phone": "+86 21 5555 6666"})])
    messages = sorted(p["message"] for p in problems(run) if p["code"] == "duplicate")
    # 宝钢机械 (the fixture's baosteel) names no place, so it matches 宝钢机械（上海） as well
    assert messages == [
        "probable duplicate of account bao-2 (宝钢机械（上海）有限公司): same name; merge it with `crmctl account merge bao-2 baosteel`",
        "probable duplicate of account bao-2 (宝钢机械（上海）有限公司): same phone; merge it with `crmctl account merge bao-2 bao-3`"]


def test_contact_duplicates_by_email_and_phone(run: Run, book: Path) -> None:
    put(book, [("contacts", "c1", {"name": "王芳", "account": "acme", "email": "Wang.Fang@Example.com", "mobile": "+86 138 0000 1111"}),
               ("contacts", "c2", {"name": "Fang Wang", "account": "baosteel", "email": "wang.fang@example.com"}),
               ("contacts", "c3", {"name": "王 芳", "account": "baosteel", "phone": "138-0000-1111"}),
               ("contacts", "c4", {"name": "王芳", "account": "baosteel", "email": "other@example.com"})])
    found = sorted((p["path"], p["message"].split(":")[1].strip()) for p in problems(run) if p["code"] == "duplicate")
    assert found == [("records/contacts/c2.yaml", "same email; merge it with `crmctl contact merge c1 c2`"),
                     ("records/contacts/c3.yaml", "same phone; merge it with `crmctl contact merge c1 c3`"),
                     ("records/contacts/c4.yaml", "same name; merge it with `crmctl contact merge c3 c4`")]


def test_merged_records_are_not_duplicates(run: Run, book: Path) -> None:
    put(book, [("accounts", "acme-2", {"name": "ACME Industries", "merged_into": "acme"})])
    assert problems(run) == []


def test_parent_loop_made_by_hand_is_reported(run: Run, book: Path) -> None:
    (book / "records/accounts/acme.yaml").write_text("name: ACME\nparent: baosteel\n", encoding="utf-8")
    (book / "records/accounts/baosteel.yaml").write_text("name: 宝钢\nparent: acme\n", encoding="utf-8")
    loops = [p for p in problems(run) if p["code"] == "loop"]
    assert [p["message"] for p in loops] == [
        "parent loop: acme -> baosteel -> acme; fix it with `crmctl account edit acme --unset parent`",
        "parent loop: baosteel -> acme -> baosteel; fix it with `crmctl account edit baosteel --unset parent`"]
    assert run("account", "show", "acme").exit_code == 0  # the view cuts the loop rather than hanging


def test_redirect_pointing_nowhere_and_in_a_circle(run: Run, book: Path) -> None:
    (book / "records/accounts/old.yaml").write_text("name: Old\nmerged_into: gone\n", encoding="utf-8")
    (book / "records/contacts/x1.yaml").write_text("name: X\naccount: acme\nmerged_into: x2\n", encoding="utf-8")
    (book / "records/contacts/x2.yaml").write_text("name: Y\naccount: acme\nmerged_into: x1\n", encoding="utf-8")
    found = {(p["path"], p["message"]) for p in problems(run) if p["code"] == "redirect"}
    assert ("records/accounts/old.yaml", "redirect points nowhere: merged_into 'gone' does not exist") in found
    assert ("records/contacts/x1.yaml", "redirect loop: x1 -> x2 -> x1") in found


def test_coordinates_out_of_range_by_hand(run: Run, book: Path) -> None:
    (book / "records/accounts/acme.yaml").write_text(
        'name: ACME\nlat: "91"\nlon: "10"\naddresses:\n  - {type: plant, city: Wuxi, lat: "31.5", lon: "-181"}\n  - {type: office, lat: "31.5"}\n',
        encoding="utf-8")
    messages = [p["message"] for p in problems(run)]
    assert "lat: 91 is out of range (-90..90)" in messages
    assert "addresses[0].lon: -181 is out of range (-180..180)" in messages
    assert "addresses[1].lat and addresses[1].lon go together; set both or neither" in messages


def test_demo_book_passes_check(demo_copy: Path) -> None:
    result = invoke("check", book=demo_copy)
    assert result.exit_code == 0, result.output


def test_a_warm_check_sees_every_hand_edit_on_its_next_run(run: Run, book: Path) -> None:
    """check keeps each record's facts (schema problems, one-record checks, references, duplicate keys, the
    fields checks across records read) in a view by the file's stamp: an edit of any kind shows on the next run."""
    assert run("check").exit_code == 0  # makes the facts views
    assert list((book / ".crmctl/cache").glob("accounts.check*.json"))
    acme = book / "records/accounts/acme.yaml"
    steps = [  # (file, text, the problem the next check shows)
        (acme, acme.read_text().replace("tier: A", "tier: Q"), "records/accounts/acme.yaml:2: tier: 'Q' is not one of A, B, C"),
        (acme, acme.read_text() + "parent: acme\n", "parent loop: acme -> acme"),
        (book / "records/contacts/c9.yaml", "name: Lost\naccount: nowhere\n",
         "records/contacts/c9.yaml:2: account: no account 'nowhere' (records/accounts/nowhere.yaml)"),
        (book / "records/contacts/c9.yaml", "name: Lost\naccount: acme\nphones: [{type: car, number: '+86 10 1234 5678'}]\n",
         "records/contacts/c9.yaml:3: phones[0].type: 'car' is not one of work, cell, home, fax, pager, other"),
        (book / "records/accounts/acme-2.yaml", "name: ACME Industries\ncreated: '2027-01-01T00:00:00+08:00'\n",
         "probable duplicate of account acme (ACME Industries): same name"),
        (book / "records/accounts/acme-2.yaml", "name: Other\next_id: X1\n", None),
        (book / "records/accounts/acme-3.yaml", "name: Third\next_id: X1\n", "records/accounts/acme-3.yaml:2: duplicate ext_id 'X1'"),
    ]
    for path, text, shown in steps:
        path.write_text(text)
        out = run("check").stdout
        if shown is None:
            assert "acme-2" not in out  # the duplicate name is gone with the edit
        else:
            assert shown in out, (shown, out)
    assert run("check").stdout == out  # and the next run, from the views, says the same
    # crm.yaml decides what is valid: a view made under the old one is not used
    settings = book / "crm.yaml"
    assert "tiers: [A, B, C]" in settings.read_text()
    settings.write_text(settings.read_text().replace("tiers: [A, B, C]", "tiers: [A, B, C, Q]"))
    assert "tier: 'Q'" not in run("check").stdout
