"""``crmctl lead``: the pool, ownership, caps, recycling, qualification and conversion."""
from __future__ import annotations

import json
from pathlib import Path

from crmctl.core.book import Book
from tests.conftest import Run
from tests.l2c.helpers import at, commits, fails, ok, setting


def lead(run: Run, *args: str, day: str = "2026-10-01") -> str:
    return ok(run, "lead", "add", *args, day=day)


def show(run: Run, lid: str) -> dict:
    return json.loads(ok(run, "lead", "show", lid, "--format", "json"))


def test_add_defaults_to_new_and_the_acting_user_or_the_pool(run: Run) -> None:
    mine = ok(run, "--as", "rex", "lead", "add", "--name", "张三", "--company", "甲公司")
    pooled = ok(run, "--as", "rex", "lead", "add", "--pool", "--name", "Bob")
    assert show(run, mine)["status"] == "new" and show(run, mine)["owner"] == "rex"
    assert "owner" not in show(run, pooled)
    assert show(run, pooled)["last_touched"].startswith("2026-10-01")


def test_claim_release_assign_keep_a_history(run: Run, book: Path) -> None:
    lid = lead(run, "--pool", "--name", "Pooled")
    ok(run, "--as", "rex", "lead", "claim", lid, day="2026-10-02")
    assert "already yours" in fails(run, "--as", "rex", "lead", "claim", lid)
    assert "not in the pool: rex owns it" in fails(run, "--as", "ria", "lead", "claim", lid)
    ok(run, "--as", "mia", "lead", "assign", lid, "--to", "ria", day="2026-10-03")
    ok(run, "--as", "ria", "lead", "release", lid, day="2026-10-04")
    data = show(run, lid)
    assert "owner" not in data
    assert [(h["from"] if "from" in h else None, h.get("to"), h["by"]) for h in data["history"]] == [
        (None, "rex", "rex"), ("rex", "ria", "mia"), ("ria", None, "ria")]
    assert data["last_touched"].startswith("2026-10-04")
    assert "already in the pool" in fails(run, "lead", "release", lid)


def test_claim_needs_to_know_who_you_are(run: Run) -> None:
    lid = lead(run, "--pool", "--name", "X")
    assert "--as USER" in fails(run, "lead", "claim", lid)


def test_the_open_lead_cap(run: Run, book: Path) -> None:
    setting(book, "max_open_per_rep: 200", "max_open_per_rep: 2")
    for n in range(2):
        lead(run, "--owner", "rex", "--name", f"L{n}")
    pooled = lead(run, "--pool", "--name", "Third")
    before = commits(book)
    assert "rex already holds 2 open leads" in fails(run, "--as", "rex", "lead", "claim", pooled)
    assert "max_open_per_rep" in fails(run, "lead", "assign", pooled, "--to", "rex")
    assert "rex already holds 2" in fails(run, "lead", "add", "--owner", "rex", "--name", "Fourth")
    assert commits(book) == before
    ok(run, "lead", "assign", pooled, "--to", "ria")


def test_recycle_sends_untouched_leads_back_to_the_pool(run: Run, book: Path) -> None:
    old = lead(run, "--owner", "rex", "--name", "Old", day="2026-09-01")
    fresh = lead(run, "--owner", "rex", "--name", "Fresh", day="2026-09-20")
    dry = run("lead", "recycle", "--dry-run", "--format", "json", env=at("2026-10-05"))
    assert [r["id"] for r in json.loads(dry.stdout)] == [old]
    assert show(run, old)["owner"] == "rex"
    ok(run, "lead", "recycle", day="2026-10-05")
    assert "owner" not in show(run, old) and show(run, fresh)["owner"] == "rex"
    assert "recycled" in show(run, old)["history"][-1]["note"]


def test_editing_touches_and_status_changes_are_recorded(run: Run) -> None:
    lid = lead(run, "--owner", "rex", "--name", "Ed", day="2026-09-01")
    ok(run, "--as", "rex", "lead", "edit", lid, "--set", "status=working", "--score", "5", day="2026-09-05")
    data = show(run, lid)
    assert data["status"] == "working" and data["last_touched"].startswith("2026-09-05")
    assert data["history"][-1] | {} == {"at": "2026-09-05T10:00:00+08:00", "by": "rex", "event": "status", "from": "new", "to": "working"}
    assert "lead assign" in fails(run, "lead", "edit", lid, "--owner", "ria")
    assert "lead disqualify" in fails(run, "lead", "edit", lid, "--set", "status=disqualified")


def test_qualify_and_disqualify_with_a_reason_from_settings(run: Run) -> None:
    lid = lead(run, "--owner", "rex", "--name", "Q")
    ok(run, "lead", "qualify", lid)
    assert "already qualified" in fails(run, "lead", "qualify", lid)
    assert "not one of no_budget" in fails(run, "lead", "disqualify", lid, "--reason", "meh")
    ok(run, "lead", "disqualify", lid, "--reason", "no_budget")
    data = show(run, lid)
    assert data["status"] == "disqualified" and data["disqualify_reason"] == "no_budget"
    assert "disqualified" in fails(run, "lead", "convert", lid, "--account", "acme")


def test_convert_creates_account_contact_and_opportunity(run: Run, book: Path) -> None:
    lid = lead(run, "--owner", "ria", "--name", "王五", "--company", "宁波新材料有限公司", "--email", "wang@nb.example.cn",
               "--source", "web")
    out = json.loads(ok(run, "lead", "convert", lid, "--amount", "80000", "--close-date", "2026-12-31", "--format", "json",
                        "--account-id", "nb-new"))[0]
    assert out["account"] == "nb-new"
    # `account show` is the 360° view (owner shown as a label), so read the stored account record itself
    acc = Book(str(book)).get("accounts", "nb-new").data
    con = json.loads(ok(run, "contact", "show", out["contact"], "--format", "json"))
    opp = json.loads(ok(run, "opp", "show", out["opportunity"], "--format", "json"))
    assert acc["name"] == "宁波新材料有限公司" and acc["owner"] == "ria"
    assert con["account"] == "nb-new" and con["email"] == "wang@nb.example.cn"
    assert opp["stage"] == "prospecting" and opp["amount"] == "80000.00" and opp["lead"] == lid  # fixed decimals
    assert opp["contacts"] == [out["contact"]] and opp["owner"] == "ria" and opp["source"] == "web"
    assert show(run, lid)["converted"] == {"account": "nb-new", "contact": out["contact"], "opportunity": out["opportunity"]}
    ok(run, "check")


def test_a_converted_lead_is_read_only(run: Run, book: Path) -> None:
    lid = lead(run, "--pool", "--name", "Done", "--company", "Somebody Ltd")
    ok(run, "lead", "convert", lid, "--account", "acme", "--no-opp")
    before = commits(book)
    for args in (("lead", "convert", lid), ("lead", "edit", lid, "--score", "1"), ("--as", "rex", "lead", "claim", lid),
                 ("lead", "assign", lid, "--to", "rex"), ("lead", "qualify", lid)):
        assert f"lead {lid} is converted" in fails(run, *args)
    assert commits(book) == before
    assert "opportunity" not in show(run, lid)["converted"]


def test_convert_points_out_a_probable_duplicate_account(run: Run, book: Path) -> None:
    lid = lead(run, "--owner", "rex", "--name", "Li", "--company", "ＡＣＭＥ Industries Co., Ltd.")
    before = commits(book)
    line = fails(run, "lead", "convert", lid)
    assert "looks like an existing account: acme (ACME Industries, owner rex, same name)" in line and "--account acme" in line
    assert commits(book) == before
    ok(run, "lead", "convert", lid, "--new-account", "--no-opp")
    assert len(json.loads(ok(run, "account", "list", "--format", "json"))) == 3


def test_pool_and_owner_contradict(run: Run) -> None:
    assert "choose one" in fails(run, "lead", "add", "--pool", "--owner", "rex", "--name", "X")
