"""``crmctl order``: orders from won deals, show with balance, renumber after a merge."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import Run
from tests.l2c.helpers import commits, fails, ok, order_for, won_deal


def test_an_order_only_comes_from_a_won_deal(run: Run, book: Path) -> None:
    oid = ok(run, "opp", "add", "--name", "Open", "--account", "acme", "--amount", "100")
    before = commits(book)
    assert "only a won deal becomes an order" in fails(run, "--as", "dan", "order", "add", "--opp", oid)
    assert commits(book) == before


def test_order_takes_amount_currency_and_owner_from_the_deal(run: Run) -> None:
    opp = won_deal(run, "12345.6")
    order = ok(run, "--as", "dan", "order", "add", "--opp", opp, "--date", "2026-08-02")
    data = json.loads(ok(run, "order", "show", order, "--format", "json", day="2026-08-02"))
    assert (data["number"], data["total"], data["currency"], data["owner"], data["account"]) == (
        "SO-2026-0001", "12345.60", "CNY", "rex", "acme")
    assert (data["status"], data["paid"], data["balance"]) == ("open", "0.00", "12345.60")
    assert "already has order SO-2026-0001" in fails(run, "--as", "dan", "order", "add", "--opp", opp)
    assert "YYYY-MM-DD" in fails(run, "--as", "dan", "order", "add", "--opp", opp, "--date", "2.8.2026")


def test_show_lists_installments_and_payments(run: Run) -> None:
    order = order_for(run, "900")
    ok(run, "payment", "plan", order, "--installments", "3", "--every", "1m", "--first", "2026-08-31")
    ok(run, "payment", "record", order, "--amount", "450", "--date", "2026-09-01")
    result = run("order", "show", order, env={"CRMCTL_NOW": "2026-10-15T10:00:00+08:00"})
    text = result.stdout
    assert "overdue" in text and "450.00" in text
    data = json.loads(run("order", "show", order, "--format", "json", env={"CRMCTL_NOW": "2026-10-15T10:00:00+08:00"}).stdout)
    assert [(i["due"], i["received"], i["state"]) for i in data["installments"]] == [
        ("2026-08-31", "300.00", "paid"), ("2026-09-30", "150.00", "overdue"), ("2026-10-31", "0.00", "due")]
    assert (data["status"], data["overdue"], data["balance"]) == ("overdue", "150.00", "450.00")


def test_renumber_fixes_a_duplicate_number_after_a_merge(run: Run, book: Path) -> None:
    order = order_for(run)
    copy = book / "records" / "orders" / "zzcopy000001.yaml"
    text = (book / "records" / "orders" / f"{order}.yaml").read_text()
    # another order (of no deal here) numbered in another clone; a copy of the same deal's order is that deal
    # ordered twice, which renumbering would hide (tests/trust/test_attack17_money.py)
    copy.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("opportunity:")))
    result = run("check")
    assert result.exit_code == 1 and "crmctl order renumber zzcopy000001" in result.stdout
    assert ok(run, "order", "renumber", "zzcopy") == "SO-2026-0002"
    ok(run, "check")
    data = json.loads(ok(run, "order", "show", "zzcopy", "--format", "json"))
    assert data["history"][-1]["from"] == "SO-2026-0001" and data["number"] == "SO-2026-0002"


def test_orders_are_found_by_number_too(run: Run, book: Path) -> None:
    order = order_for(run, "500")
    ok(run, "payment", "record", "so-2026-0001", "--amount", "100", "--date", "2026-08-02")
    assert json.loads(ok(run, "order", "show", "SO-2026-0001", "--format", "json"))["id"] == order
    shutil.copy(book / "records" / "orders" / f"{order}.yaml", book / "records" / "orders" / "zzcopy000001.yaml")
    assert "order number SO-2026-0001 is on 2 orders" in fails(run, "order", "show", "SO-2026-0001")


def test_show_as_of_a_day_counts_only_the_payments_dated_by_then(demo_copy: Path) -> None:
    # attack 5, F14: the book committed on 2026-10-15 already holds SO-2026-0002's payment of 2026-10-25 (entered
    # with a later date, as an import or a hand edit does). `order show --as-of` counted it in paid and in
    # installment 2 ("received 100000.00, part paid") while `report receivables --as-of` did not.
    import os
    import subprocess

    from tests.conftest import invoke

    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-10-15T12:00:00+08:00", "GIT_COMMITTER_DATE": "2026-10-15T12:00:00+08:00"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "the book on 10-15"]):
        subprocess.run(["git", "-C", str(demo_copy), *args], check=True, env=env)
    now = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
    r = invoke("order", "show", "SO-2026-0002", "--as-of", "2026-10-15", "--format", "json", book=demo_copy, env=now)
    assert r.exit_code == 0, r.output
    view = json.loads(r.stdout)
    # 960,000.00 in four installments of 240,000.00; by 10-15 only 2026-09-19's 240,000.00 was received
    assert (view["paid"], view["balance"]) == ("240000.00", "720000.00")
    assert [(i["received"], i["state"]) for i in view["installments"]] == [
        ("240000.00", "paid"), ("0.00", "due"), ("0.00", "due"), ("0.00", "due")]
    assert [p["date"] for p in view["payments"]] == ["2026-09-19"]
    assert ("note: order SO-2026-0002: payment 2ndtjpaf49dn of 100000.00 is dated 2026-10-25, after 2026-10-15: "
            "not counted as received by then") in r.stderr
    # the 360° view of the account says the same
    r = invoke("account", "show", "saic-powertrain", "--as-of", "2026-10-15", "--format", "json", book=demo_copy, env=now)
    rows = {row["number"]: row for row in json.loads(r.stdout)["receivables"]["rows"]}
    assert rows["SO-2026-0002"]["paid"] == "240000.00"
    # today the payment counts
    r = invoke("order", "show", "SO-2026-0002", "--format", "json", book=demo_copy, env=now)
    assert json.loads(r.stdout)["paid"] == "340000.00" and "note:" not in r.stderr
