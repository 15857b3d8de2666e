"""`crmctl check` catches a broken catalog and price books, and forged or stale approvals."""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.cpq.conftest import Run, new_quote


def test_catalog_and_pricebooks_pass(cpq: Run) -> None:
    r = cpq("check")
    assert r.exit_code == 0, r.output


def test_broken_catalog_is_reported(cpq: Run, cpq_book: Path) -> None:
    path = cpq_book / "records" / "products" / "mill.yaml"
    text = path.read_text().replace("default: basic", "default: turbo").replace("then: ctrl=pro", "then: ctrl=ultra")
    text = text.replace("accessory: holder", "accessory: nothing-such")
    path.write_text(text)
    (cpq_book / "records" / "pricebooks" / "std.yaml").write_text(
        "name: S\ncurrency: CNY\nentries:\n  - {sku: ghost, tiers: [{min: 10}, {min: 5}]}\n")
    r = cpq("check")
    assert r.exit_code == 1
    out = r.stdout
    assert "records/products/mill.yaml:" in out
    assert "option group 'ctrl': default 'turbo' is not one of its options (basic, pro)" in out
    assert "rule probe-needs-pro: ctrl has no option 'ultra'" in out
    assert "rule holder-per-mill: accessory 'nothing-such' is not a product" in out
    assert "records/pricebooks/std.yaml:3: entry for 'ghost': no such product" in out
    assert "tier minimums must rise" in out


def test_product_edit_refuses_a_broken_definition(cpq: Run) -> None:
    r = cpq("product", "edit", "holder", "--type", "configurable")
    assert r.exit_code == 1
    assert "a configurable product needs option_groups" in r.stderr


def test_forged_approval_is_caught(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["mill", "--discount", "8%"], ["holder"])
    assert cpq("--as", "rex", "quote", "submit", qid).stdout.startswith("approved: within rex's authority")
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    # a rep raises the discount by hand to 25% and keeps the old approval
    data = yaml.safe_load(path.read_text())
    data["lines"][0]["discount"] = "25"
    data["lines"][0]["net"] = "75000.00"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    r = cpq("check")
    assert r.exit_code == 1
    assert "approved quote has a stale approval (its hash does not match the priced content)" in r.stdout
    # ... and recomputes the hash too: the approver's role is not enough
    from crmctl.cpq.policy import content_hash

    data["approval"]["hash"] = content_hash(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    r = cpq("check")
    assert r.exit_code == 1
    assert "approved by rex (rep), but it needs a director" in r.stdout
    # send refuses it too
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 1 and "needs a director" in r.stderr


def test_net_that_does_not_follow_from_the_discount_is_caught(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder", "--qty", "2", "--discount", "5%"])
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    path.write_text(path.read_text().replace('net: "1900.00"', 'net: "1500.00"'))
    r = cpq("check")
    assert r.exit_code == 1
    assert "line 1 (holder): net 1500.00 does not follow from gross 2000.00 less 5% (1900.00)" in r.stdout


def test_demo_book_checks_and_has_quotes_in_every_status(demo_copy: Path) -> None:
    import json

    from tests.conftest import invoke

    env = {"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"}
    r = invoke("check", book=demo_copy, env=env)
    assert r.exit_code == 0, r.output
    rows = json.loads(invoke("quote", "list", "--format", "json", book=demo_copy, env=env).stdout)
    assert {row["status"] for row in rows} >= {"draft", "pending_approval", "approved", "rejected", "sent", "accepted",
                                               "declined", "expired"}
    assert any(row.get("lang") == "zh-CN" for row in rows)


def test_product_and_pricebook_commands(cpq: Run, cpq_book: Path) -> None:
    r = cpq("product", "add", "--name", "Chip bin", "--category", "accessory", "--set", "prices.CNY=450", "--id", "chip-bin")
    assert r.exit_code == 0, r.output
    data = yaml.safe_load((cpq_book / "records" / "products" / "chip-bin.yaml").read_text())
    assert data["prices"] == {"CNY": "450.00"} and data["type"] == "simple" and data["active"] is True
    r = cpq("pricebook", "add", "--name", "Promo", "--currency", "CNY", "--valid-from", "2026-06-01",
            "--valid-to", "2026-06-30", "--priority", "9", "--id", "promo")
    assert r.exit_code == 0, r.output
    (cpq_book / "records" / "pricebooks" / "promo.yaml").write_text(
        (cpq_book / "records" / "pricebooks" / "promo.yaml").read_text() + "entries:\n  - {sku: chip-bin, price: '400.00'}\n")
    import json

    priced = json.loads(cpq("price", "chip-bin", "--format", "json").stdout)
    assert (priced["pricebook"], priced["net"]) == ("promo", "400.00")   # everyone's book with the higher priority
    assert "promo" in cpq("pricebook", "list").stdout
    r = cpq("pricebook", "edit", "promo", "--valid-to", "2026-05-01")
    assert r.exit_code == 1 and "valid_to is before valid_from" in r.stderr
