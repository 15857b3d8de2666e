"""查重: the same customer however it is typed — every miss listed in the issue, at creation, in check and in whois."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmctl.core.text import name_key, phone_key, tax_key
from tests.conftest import Run, err_line
from tests.mcr.conftest import clean, head, put

# (typed one way, typed the other way): each pair missed by the old name_key
SAME_COMPANY = [
    ("ACME Ltd.", "Acme Ltd"),
    ("Zenith, Inc.", "Zenith Inc"),
    ("SAIC Motor Corporation Limited", "SAIC Motor Corp., Ltd."),
    ("Kazakhtelecom JSC", "Kazakhtelecom Joint Stock Company"),
    ("Siemens AG", "Siemens Aktiengesellschaft"),
    ("Müller Maschinenbau GmbH", "Mueller Maschinenbau GmbH"),
    ("深圳市华为技术", "华为技术"),
    ("联创电子(上海)", "上海联创电子"),
    ("联创电子（上海）有限公司", "上海联创电子有限公司"),
    ("Lone Star Fabrication, L.L.C.", "Lone Star Fabrication LLC"),
]
DIFFERENT = [("ACME Industries", "ACME Instruments"), ("Siemens AG", "Siemens Healthineers AG"), ("华为技术", "华为终端")]
USCC = "91310000MA1FL8XQ37"  # check digit computed with stdnum.cn.uscc.calc_check_digit("91310000MA1FL8XQ3")


@pytest.mark.parametrize(("one", "other"), SAME_COMPANY)
def test_same_company_same_key(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_companies_keep_different_keys(one: str, other: str) -> None:
    assert name_key(one) != name_key(other)


@pytest.mark.parametrize(("national", "international", "region"), [
    ("(713) 555-0147", "+1 713-555-0147", "US"), ("089 1234 5678", "+49 89 12345678", "DE"),
    ("138 0013 8000", "+86 138-0013-8000", "CN"), ("021-5555 0101 转 8", "+86 21 5555 0101 ext 8", "CN")])
def test_national_and_international_phone_forms(national: str, international: str, region: str) -> None:
    assert phone_key(national, region) == phone_key(international, region) != ""


def test_tax_ids_through_stdnum() -> None:
    assert tax_key(f"{USCC[:6]} {USCC[6:]}") == tax_key(USCC.lower()) == f"uscc:{USCC}"
    assert tax_key("DE 136 695 976") == tax_key("de136695976") == "vat:DE136695976"


@pytest.mark.parametrize(("one", "other"), SAME_COMPANY)
def test_account_add_warns_naming_the_duplicate_and_its_owner(run: Run, book: Path, one: str, other: str) -> None:
    assert run("account", "add", "--id", "first", "--name", one, "--owner", "ria").exit_code == 0
    result = run("account", "add", "--name", other)
    assert result.exit_code == 0, result.output
    assert f"warning: probable duplicate of account first ({one}, owner ria): same name" in result.stderr


def test_identical_name_warned_and_refused_when_the_book_says_so(run: Run, book: Path) -> None:
    # the old `account add` never warned, even for an identical name
    result = run("account", "add", "--name", "ACME Industries")
    assert "warning: probable duplicate of account acme (ACME Industries, owner rex): same name" in result.stderr
    settings = book / "crm.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("on_create: warn", "on_create: refuse"), encoding="utf-8")
    before = head(book)
    refused = run("account", "add", "--name", "Acme Industries Ltd.")
    assert refused.exit_code == 1
    assert err_line(refused).startswith("error: probable duplicate of account acme (ACME Industries, owner rex): same name")
    assert err_line(refused).endswith("pass --allow-duplicate to add it anyway (duplicates.on_create is refuse in crm.yaml)")
    assert head(book) == before and clean(book)
    assert run("account", "add", "--name", "Acme Industries Ltd.", "--allow-duplicate").exit_code == 0


def test_tax_id_is_the_strongest_key(run: Run, book: Path) -> None:
    assert run("account", "edit", "acme", "--tax-id", USCC).exit_code == 0
    result = run("account", "add", "--name", "Totally Different Name", "--tax-id", USCC.lower())
    assert "probable duplicate of account acme (ACME Industries, owner rex): same tax id" in result.stderr
    # two valid, different tax ids are two legal entities: a shared name is not a probable duplicate
    other = "91440300192203821" + "6"  # stdnum.cn.uscc.calc_check_digit("91440300192203821") == "6"
    quiet = run("account", "add", "--name", "ACME Industries", "--tax-id", other, "--id", "acme-sz")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr
    bad = run("account", "add", "--name", "X", "--tax-id", USCC[:-1] + "0")
    assert bad.exit_code == 1 and "is not a valid unified social credit code" in err_line(bad)


def test_contact_and_lead_add_warn_on_phone_in_another_format(run: Run, book: Path) -> None:
    put(book, [("contacts", "c1", {"name": "Bob Stone", "account": "acme", "phones": [{"type": "home", "number": "+1 713-555-0147"}]})])
    settings = book / "crm.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace('default_region: ""', "default_region: US"), encoding="utf-8")
    result = run("contact", "add", "--name", "Robert Stone", "--account", "baosteel", "--mobile", "(713) 555-0147")
    assert "warning: probable duplicate of contact c1 (Bob Stone, owner rex): same phone" in result.stderr
    lead = run("lead", "add", "--pool", "--name", "R. Stone", "--company", "Stone Works", "--phone", "713.555.0147")
    assert "warning: probable duplicate of contact c1 (Bob Stone, owner rex): same phone" in lead.stderr


def test_check_reports_probable_not_possible(run: Run, book: Path) -> None:
    put(book, [("accounts", "zenith", {"name": "Zenith, Inc.", "created": "2026-01-01T00:00:00+08:00"}),
               ("accounts", "zenith-2", {"name": "Zenith Inc", "created": "2026-02-01T00:00:00+08:00"}),
               ("accounts", "typo", {"name": "Acme Industial"}),
               ("accounts", "lx-bj", {"name": "联想(北京)有限公司"}), ("accounts", "lx-sh", {"name": "联想(上海)有限公司"})])
    found = [p["message"] for p in json.loads(run("check", "--format", "json").stdout) if p["code"] == "duplicate"]
    assert found == ["probable duplicate of account zenith (Zenith, Inc.): same name; merge it with `crmctl account merge zenith zenith-2`"]


def test_whois_lists_possible_duplicates_with_a_score(run: Run, book: Path) -> None:
    rows = json.loads(run("whois", "Acme Industial", "--format", "json").stdout)
    # keys "acmeindustial" (13) and "acmeindustries" (14) share "acmeindusti" (11): ratio 2*11/27 = 81.5 -> 81 >= 80
    assert [(r["id"], r["likely"], r["score"], r["matched_on"]) for r in rows] == [("acme", "possible", 81, "similar name")]
    # "acmeinstruments": ratio 75.9 < 80, not even a possible duplicate
    assert json.loads(run("whois", "ACME Instruments", "--format", "json").stdout) == []
    assert json.loads(run("whois", "Acme Industries Limited", "--format", "json").stdout)[0]["likely"] == "probable"
