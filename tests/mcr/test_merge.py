"""Merges move every reference to the survivor in one commit; refusals write nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmctl.core import yamlio
from tests.conftest import Run, err_line, git
from tests.mcr.conftest import clean, head, put


def load(book: Path, rtype: str, rid: str) -> dict:
    return yamlio.load_path(str(book / "records" / rtype / f"{rid}.yaml"))[0]


@pytest.fixture
def dupes(book: Path, now: str) -> Path:
    """acme-2 is a duplicate of acme, with records of every kind pointing at it."""
    put(book, [
        ("accounts", "acme-2", {"name": "ACME Industries Co.", "tier": "A", "phone": "+86 21 5555 0000", "tags": ["east"]}),
        ("accounts", "acme-2-sub", {"name": "ACME Sub", "parent": "acme-2"}),
        ("contacts", "c1", {"name": "Li Lei", "account": "acme-2", "email": "li.lei@acme.example"}),
        ("contacts", "c2", {"name": "Han Meimei", "account": "acme", "reports_to": "c1", "email": "han@acme.example"}),
        ("contacts", "c3", {"name": "LI LEI", "account": "acme", "email": "LI.LEI@acme.example", "consent": {"email": True}}),
        ("leads", "l1", {"name": "Li Lei", "status": "converted", "converted": {"account": "acme-2", "contact": "c1"}}),
        ("opportunities", "op1", {"name": "Deal", "account": "acme-2", "stage": "proposal", "contacts": ["c1", "c3"]}),
        ("quotes", "q1", {"account": "acme-2", "contact": "c1", "status": "draft", "currency": "CNY"}),
        ("orders", "o1", {"number": "SO-1", "account": "acme-2", "date": "2026-01-01", "currency": "CNY", "total": "10.00"}),
        ("payments", "p1", {"order": "o1", "account": "acme-2", "date": "2026-01-02", "amount": "10.00", "currency": "CNY"}),
        ("visits", "v1", {"account": "acme-2", "rep": "rex", "type": "onsite", "status": "completed", "date": "2026-02-01",
                          "contacts": ["c1"]}),
        ("opportunities", "op2", {"name": "Untouched", "account": "baosteel", "stage": "proposal"}),
    ], "duplicates")
    return book


def test_account_merge_moves_every_reference_in_one_commit(run: Run, dupes: Path) -> None:
    before = head(dupes)
    result = run("--as", "rex", "account", "merge", "acme", "acme-2")
    assert result.exit_code == 0, result.output
    assert "merged account acme-2 into acme" in result.stderr
    for rtype, rid in (("contacts", "c1"), ("opportunities", "op1"), ("quotes", "q1"), ("orders", "o1"),
                       ("payments", "p1"), ("visits", "v1")):
        assert load(dupes, rtype, rid)["account"] == "acme", (rtype, rid)
    assert load(dupes, "accounts", "acme-2-sub")["parent"] == "acme"
    assert load(dupes, "leads", "l1")["converted"] == {"account": "acme", "contact": "c1"}
    redirect = load(dupes, "accounts", "acme-2")
    assert redirect["merged_into"] == "acme" and redirect["history"][-1]["action"] == "merged_into"
    survivor = load(dupes, "accounts", "acme")
    assert survivor["phone"] == "+86 21 5555 0000" and survivor["tags"] == ["east"]  # filled from the merged one
    assert survivor["history"][-1] == {"action": "merge", "from": "acme-2", "at": "2026-11-27T10:00:00+08:00", "by": "rex"}
    # exactly one commit with exactly the changed files
    assert git(dupes, "rev-parse", "HEAD~1").strip() == before
    files = sorted(git(dupes, "show", "--name-only", "--format=", "HEAD").split())
    assert files == sorted(f"records/{p}.yaml" for p in (
        "accounts/acme", "accounts/acme-2", "accounts/acme-2-sub", "contacts/c1", "leads/l1", "opportunities/op1",
        "quotes/q1", "orders/o1", "payments/p1", "visits/v1"))
    assert git(dupes, "log", "-1", "--format=%s|%an").strip() == "account merge: acme-2 into acme (10 records changed)|Rex Rep"
    # the redirect answers for the survivor
    shown = json.loads(run("account", "show", "acme-2", "--format", "json").stdout)
    assert shown["id"] == "acme" and shown["orders"]["lifetime"] == "10.00"
    assert clean(dupes)


def test_dry_run_lists_moves_and_writes_nothing(run: Run, dupes: Path) -> None:
    before = head(dupes)
    result = run("account", "merge", "acme", "acme-2", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    moves = json.loads(result.stdout)
    assert {"record": "orders/o1", "field": "account", "from": "acme-2", "to": "acme"} in moves
    assert {"record": "accounts/acme-2", "field": "merged_into", "from": None, "to": "acme"} in moves
    assert "nothing written" in result.stderr
    assert head(dupes) == before and clean(dupes)
    assert "merged_into" not in load(dupes, "accounts", "acme-2")


def test_contact_merge_moves_reports_to_and_dedupes_lists(run: Run, dupes: Path) -> None:
    result = run("contact", "merge", "c3", "c1")
    assert result.exit_code == 0, result.output
    assert load(dupes, "contacts", "c2")["reports_to"] == "c3"
    assert load(dupes, "opportunities", "op1")["contacts"] == ["c3"]   # named both: the survivor once
    assert load(dupes, "quotes", "q1")["contact"] == "c3"
    assert load(dupes, "visits", "v1")["contacts"] == ["c3"]
    assert load(dupes, "leads", "l1")["converted"]["contact"] == "c3"
    assert load(dupes, "contacts", "c1")["merged_into"] == "c3"
    shown = json.loads(run("contact", "show", "c1", "--format", "json").stdout)
    assert shown["id"] == "c3"


def test_merging_a_subsidiary_into_its_group_is_allowed(run: Run, dupes: Path) -> None:
    assert run("account", "merge", "acme-2", "acme-2-sub").exit_code == 0
    assert load(dupes, "accounts", "acme-2-sub")["merged_into"] == "acme-2"
    assert "parent" not in load(dupes, "accounts", "acme-2")


@pytest.mark.parametrize(("args", "message"), [
    (("account", "merge", "acme", "acme"), "error: cannot merge account acme into itself"),
    (("account", "merge", "acme-2-sub", "acme-2"),
     "error: cannot merge account acme-2 into its own subsidiary acme-2-sub; merge the subsidiary into the group instead: "
     "`crmctl account merge acme-2 acme-2-sub`"),
    (("contact", "merge", "c1", "c1"), "error: cannot merge contact c1 into itself"),
    (("account", "merge", "acme", "nope"), "error: no account 'nope'; `crmctl account list` shows them"),
])
def test_refused_merges_write_nothing(run: Run, dupes: Path, args: tuple[str, ...], message: str) -> None:
    before = head(dupes)
    result = run(*args)
    assert result.exit_code == 1
    assert err_line(result) == message
    assert head(dupes) == before and clean(dupes)


def test_a_merged_record_cannot_be_merged_again(run: Run, dupes: Path) -> None:
    assert run("account", "merge", "acme", "acme-2").exit_code == 0
    before = head(dupes)
    again = run("account", "merge", "baosteel", "acme-2")
    assert again.exit_code == 1 and err_line(again) == "error: account acme-2 was already merged into acme; nothing to merge"
    into = run("account", "merge", "acme-2", "baosteel")
    assert into.exit_code == 1 and err_line(into) == "error: account acme-2 was merged into acme; merge into acme instead"
    assert head(dupes) == before and clean(dupes)


# ---------------------------------------------------------------- every kind of reference, driven from the schemas
def ref_fields(rtype: str) -> set[tuple[str, str]]:
    """(type, field) of every field whose schema says it holds an id of ``rtype``."""
    from crmctl.core.schemas import TYPES, get_schema

    return {(t, f.name) for t in TYPES for f in get_schema(t).fields if f.ref == rtype and f.name != "merged_into"}


EVERY_REFERENCE = [
    ("accounts", "old-acc", {"name": "Old ACME", "tier": "A"}),
    ("accounts", "old-acc-sub", {"name": "Old ACME Sub", "parent": "old-acc"}),
    ("contacts", "old-c", {"name": "Li Lei", "account": "old-acc", "email": "li@old.example", "mobile": "+86 138 0000 9999"}),
    ("contacts", "c-low", {"name": "Han", "account": "old-acc", "reports_to": "old-c"}),
    ("leads", "l1", {"name": "Li Lei", "status": "converted", "converted": {"account": "old-acc", "contact": "old-c"}}),
    ("opportunities", "op1", {"name": "Deal", "account": "old-acc", "stage": "proposal", "contacts": ["old-c", "c-low"]}),
    ("quotes", "q1", {"account": "old-acc", "contact": "old-c", "status": "draft", "currency": "CNY"}),
    ("orders", "o1", {"number": "SO-9", "account": "old-acc", "date": "2026-01-01", "currency": "CNY", "total": "10.00"}),
    ("payments", "p1", {"order": "o1", "account": "old-acc", "date": "2026-01-02", "amount": "10.00", "currency": "CNY"}),
    ("visits", "v1", {"account": "old-acc", "rep": "rex", "type": "onsite", "status": "completed", "date": "2026-02-01",
                      "contacts": ["old-c"]}),
    # a negotiated price: the list inside a nested mapping that the old merge left behind
    ("pricebooks", "acme-deal", {"name": "ACME deal", "currency": "CNY", "applies_to": {"accounts": ["old-acc", "baosteel"]},
                                 "entries": [{"product": "x", "price": "465000.00"}]}),
]


def test_merge_leaves_no_reference_to_the_merged_ids(run: Run, book: Path, now: str) -> None:
    put(book, EVERY_REFERENCE)
    covered = {(t, f) for t, _, d in EVERY_REFERENCE for f, v in d.items() if "old-acc" in str(v) or "old-c" in str(v)}
    # the fixture uses every field any schema declares as an account or contact reference
    assert ref_fields("accounts") | ref_fields("contacts") <= covered
    assert run("contact", "merge", "c-low", "old-c").exit_code == 0
    assert run("account", "merge", "acme", "old-acc").exit_code == 0
    for path in sorted((book / "records").rglob("*.yaml")):
        if path.stem in ("old-acc", "old-c"):
            continue  # the redirects themselves
        data = yamlio.load_path(str(path))[0]
        live = {k: v for k, v in data.items() if not k.endswith("history")}
        assert "old-acc" not in json.dumps(live) and "old-c" not in json.dumps(live), path
    assert load(book, "pricebooks", "acme-deal")["applies_to"] == {"accounts": ["acme", "baosteel"]}
    survivor = load(book, "contacts", "c-low")
    assert (survivor["email"], survivor["mobile"]) == ("li@old.example", "+86 138 0000 9999")  # filled from the merged one


def test_every_command_follows_a_redirect_and_says_so(run: Run, dupes: Path) -> None:
    assert run("account", "merge", "acme", "acme-2").exit_code == 0
    note = "note: account acme-2 was merged into acme; using acme"
    opp = run("opp", "add", "--name", "New deal", "--account", "acme-2", "--format", "json")
    assert opp.exit_code == 0, opp.output
    assert json.loads(opp.stdout)["account"] == "acme" and note in opp.stderr  # it used to write onto the redirect
    contact = run("contact", "add", "--name", "New Person", "--account", "acme-2", "--format", "json")
    assert contact.exit_code == 0, contact.output  # it used to refuse
    assert json.loads(contact.stdout)["account"] == "acme" and note in contact.stderr
    visit = run("visit", "add", "--account", "acme-2", "--date", "2026-12-01", "--type", "onsite", "--rep", "rex")
    assert visit.exit_code == 0 and note in visit.stderr, visit.output
    shown = run("account", "show", "acme-2", "--format", "json")
    assert json.loads(shown.stdout)["id"] == "acme" and note in shown.stderr
