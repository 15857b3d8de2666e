"""``crmctl whois``: matches through case, full-width forms, suffixes and phone formatting."""
from __future__ import annotations

import json

from tests.conftest import Run
from tests.l2c.helpers import ok


def whois(run: Run, text: str) -> list[dict]:
    return json.loads(ok(run, "whois", text, "--format", "json"))


def test_whois_finds_owners_across_leads_contacts_and_accounts(run: Run) -> None:
    ok(run, "lead", "add", "--owner", "ria", "--name", "张伟", "--company", "ＡＣＭＥ Industries Co., Ltd.",
       "--phone", "+86 138-0013-8000", "--email", "Zhang.Wei@Example.cn")
    pooled = ok(run, "lead", "add", "--pool", "--name", "Bob Stone", "--company", "Stone Works")
    ok(run, "contact", "add", "--name", "Carl Contact", "--account", "acme", "--phone", "0086 13800138000")

    by_phone = whois(run, "13800138000")
    assert {(r["type"], r["owner"], r["matched_on"]) for r in by_phone} == {("lead", "ria", "phone"), ("contact", "rex", "phone")}
    assert [r["type"] for r in whois(run, "zhang.wei@example.CN")] == ["lead"]
    assert [r["type"] for r in whois(run, "ｚｈａｎｇ．ｗｅｉ＠ｅｘａｍｐｌｅ．ｃｎ")] == ["lead"]
    company = {(r["type"], r["id"] if r["type"] == "account" else "", r["matched_on"]) for r in whois(run, "acme industries")}
    assert ("account", "acme", "name") in company and ("lead", "", "company") in company
    assert whois(run, "BOB STONE") == [{"type": "lead", "id": pooled, "name": "Bob Stone", "company": "Stone Works",
                                        "owner": "(pool)", "status": "new", "matched_on": "name",
                                        "likely": "probable", "score": 100}]
    assert whois(run, "宝钢机械有限公司")[0]["id"] == "baosteel"
    assert whois(run, "nobody at all") == []
