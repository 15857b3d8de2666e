"""Quotes end to end through the CLI: lines, totals, approvals, versions, send, accept, verify, suggest."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import git
from tests.cpq.conftest import Run, cpq, cpq_book, new_quote  # noqa: F401 - fixtures shared with tests/cpq


def quote(cpq_book: Path, qid: str) -> dict:
    return yaml.safe_load((cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))


def commits(book: Path) -> int:
    return int(git(book, "rev-list", "--count", "HEAD").strip())


def test_new_from_an_opportunity(cpq: Run, cpq_book: Path) -> None:
    (cpq_book / "records" / "contacts").mkdir(exist_ok=True)
    (cpq_book / "records" / "contacts" / "c1.yaml").write_text("name: 王工\naccount: baosteel\n", encoding="utf-8")
    (cpq_book / "records" / "opportunities").mkdir(exist_ok=True)
    (cpq_book / "records" / "opportunities" / "o1.yaml").write_text(
        "name: 宝钢 二期\naccount: baosteel\ncontacts: [c1]\nowner: ria\nstage: proposal\ncurrency: CNY\n", encoding="utf-8")
    r = cpq("--as", "ria", "quote", "new", "--opp", "o1")
    assert r.exit_code == 0, r.output
    q = quote(cpq_book, r.stdout.strip())
    assert (q["account"], q["contact"], q["currency"], q["pricebook"], q["opportunity"]) == ("baosteel", "c1", "CNY", "dealer", "o1")
    assert (q["date"], q["valid_until"], q["status"], q["version"], q["lang"]) == ("2026-06-15", "2026-07-15", "draft", 1, "zh-CN")
    assert q["payment_terms"].startswith("合同签订后")


def test_totals_hand_computed(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["mill", "--group", "Machines"], ["holder", "--group", "Machines"], ["svc", "--group", "Service"])
    assert cpq("quote", "edit", qid, "--discount", "5%", "--fee", "Shipping=800").exit_code == 0
    q = quote(cpq_book, qid)
    # acme's named book: mill 95000; holder 1000; svc 5000 at 6%. 5% quote discount = 4750 + 50 + 250.
    # tax: 90250 x 13% + 950 x 13% + 4750 x 6% + 800 x 13% = 11732.50 + 123.50 + 285 + 104
    assert q["totals"]["groups"] == {"Machines": "96000.00", "Service": "5000.00"}
    assert (q["totals"]["subtotal"], q["totals"]["discount"], q["totals"]["fees"]) == ("101000.00", "5050.00", "800.00")
    assert (q["totals"]["net"], q["totals"]["tax"], q["total"]) == ("96750.00", "12245.00", "108995.00")
    shown = json.loads(cpq("quote", "show", qid, "--format", "json").stdout)
    assert shown["total"] == "108995.00" and shown["lines_view"][0]["configuration"][0] == "数控系统: 基础系统"
    r = cpq("quote", "remove-line", qid, "3")
    assert r.exit_code == 0 and quote(cpq_book, qid)["totals"]["subtotal"] == "96000.00"


def test_add_line_refuses_bad_input_and_writes_nothing(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq)
    before = commits(cpq_book)
    cases = {
        ("nothing",): "no product 'nothing'",
        ("mill", "--option", "ctrl=turbo"): "ctrl has no option 'turbo'",
        ("mill", "--option", "extras=probe"): "rule probe-needs-pro: extras=probe requires ctrl=pro",
        ("mill", "--qty", "0"): "--qty 0: the quantity must be 1 or more",
        ("mill", "--discount", "40%"): # acme's book sells at 95000 of 100000 list: 40% more is 1 - 0.95 x 0.60 = 43% off list
        "43% off list is beyond every role's authority (at most 35% for machine)",
    }
    for args, message in cases.items():
        r = cpq("quote", "add-line", qid, *args)
        assert r.exit_code == 1, args
        assert message in r.stderr, (args, r.stderr)
    assert commits(cpq_book) == before
    assert "lines" not in quote(cpq_book, qid)


def test_approval_flow(cpq: Run, cpq_book: Path) -> None:
    # acme's book sells the mill at 95000 of 100000 list; 4% more is 1 - 0.95 x 0.96 = 8.8% off list: a rep's 10%
    own = new_quote(cpq, ["mill", "--discount", "4%"], ["holder"])
    r = cpq("--as", "rex", "quote", "submit", own)
    assert r.stdout.startswith("approved: within rex's authority (rep)")
    assert quote(cpq_book, own)["approval"]["auto"] is True

    qid = new_quote(cpq, ["mill", "--discount", "15%"], ["holder"])
    assert cpq("--as", "rex", "quote", "send", qid).stderr.startswith("error: cannot send a draft quote")
    r = cpq("--as", "rex", "quote", "submit", qid)
    # 1 - 0.95 x 0.85 = 19.25% off list
    assert r.exit_code == 0 and "pending approval by a manager: line 1 (mill): 19.25% off list needs a manager" in r.stdout
    for who in ("rex", "ria"):   # not the submitter, not another rep
        r = cpq("--as", who, "quote", "approve", qid)
        assert r.exit_code == 1 and f"{who} (rep) may not approve this quote: it needs a manager" in r.stderr
    r = cpq("--as", "mia", "quote", "approve", qid)
    assert r.exit_code == 0, r.output
    q = quote(cpq_book, qid)
    assert q["status"] == "approved" and q["approval"]["by"] == "mia" and len(q["approval"]["hash"]) == 64
    assert q["approval"]["at"] == "2026-06-15T10:00:00+08:00"
    assert "quote approve: " in git(cpq_book, "log", "-1", "--format=%s") and "by mia" in git(cpq_book, "log", "-1", "--format=%s")

    # any change afterwards makes the approval stale, and a stale approval blocks sending
    assert cpq("quote", "add-line", qid, "holder").exit_code == 0
    shown = cpq("quote", "show", qid).stdout
    assert "STALE" in shown
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 1 and "the approval is stale" in r.stderr
    r = cpq("check")
    assert r.exit_code == 1 and "stale approval" in r.stdout


def test_margin_needs_a_director_and_reject(cpq: Run, cpq_book: Path) -> None:
    # the dealer book's 10% and 25% more: 1 - 0.90 x 0.75 = 32.5% off list (a director's 35%); paid 67500 for a
    # 60000 cost: margin 7500 / 67500 = 11.1% < 15%
    qid = new_quote(cpq, ["mill", "--discount", "25%"], ["holder", "--qty", "2"], account="baosteel")
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert "needs a director" in r.stdout and "margin" in r.stdout
    r = cpq("--as", "mia", "quote", "approve", qid)
    assert r.exit_code == 1 and "mia (manager) may not approve this quote: it needs a director" in r.stderr
    r = cpq("--as", "dan", "quote", "reject", qid, "--reason", "too deep")
    assert r.exit_code == 0
    q = quote(cpq_book, qid)
    assert q["status"] == "rejected" and q["approval"]["reason"] == "too deep"
    assert cpq("--as", "dan", "quote", "reject", qid).exit_code == 2    # --reason is required


def _sent(cpq: Run, *lines: list[str], account: str = "acme") -> str:
    qid = new_quote(cpq, *lines, account=account)
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.exit_code == 0, r.output
    return qid


def test_send_accept_order_and_won_opportunity(cpq: Run, cpq_book: Path) -> None:
    (cpq_book / "records" / "opportunities").mkdir(exist_ok=True)
    (cpq_book / "records" / "opportunities" / "o2.yaml").write_text(
        "name: ACME line\naccount: acme\nowner: rex\nstage: negotiation\ncurrency: CNY\n", encoding="utf-8")
    r = cpq("--as", "rex", "quote", "new", "--opp", "o2")
    qid = r.stdout.strip()
    for args in (["mill", "--qty", "2"], ["holder", "--qty", "2"]):
        assert cpq("quote", "add-line", qid, *args).exit_code == 0
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0
    r = cpq("--as", "rex", "quote", "send", qid)
    assert r.stdout.strip() == "QT-2026-0001"
    for args in (["add-line", qid, "svc"], ["edit", qid, "--notes", "x"], ["remove-line", qid, "1"]):
        r = cpq("quote", *args)
        assert r.exit_code == 1 and "quote is sent: it can no longer be changed; `crmctl quote revise`" in r.stderr
    r = cpq("--as", "rex", "quote", "accept", qid)
    assert r.exit_code == 0, r.output
    order = yaml.safe_load((cpq_book / "records" / "orders" / f"{r.stdout.strip()}.yaml").read_text())
    # 2 x 95000 + 2 x 1000 = 192000; 13% tax = 24960
    assert order["total"] == "216960.00" and order["quote"] == qid and order["opportunity"] == "o2"
    assert [(l["sku"], l["qty"], l["net"]) for l in order["lines"]] == [("mill", 2, "190000.00"), ("holder", 2, "2000.00")]
    opp = yaml.safe_load((cpq_book / "records" / "opportunities" / "o2.yaml").read_text())
    assert opp["stage"] == "won" and opp["amount"] == "216960.00"
    assert quote(cpq_book, qid)["status"] == "accepted"
    assert cpq("check").exit_code == 0


def test_expired_quote_cannot_be_accepted(cpq: Run, cpq_book: Path) -> None:
    qid = _sent(cpq, ["holder"])
    later = {"CRMCTL_NOW": "2026-08-01T10:00:00+08:00"}
    rows = json.loads(cpq("quote", "list", "--format", "json", env=later).stdout)
    assert [r["status"] for r in rows if r["id"] == qid] == ["expired"]
    before = commits(cpq_book)
    r = cpq("--as", "rex", "quote", "accept", qid, env=later)
    assert r.exit_code == 1 and "cannot accept an expired quote; it passed its valid_until date" in r.stderr
    assert commits(cpq_book) == before and not list((cpq_book / "records" / "orders").glob("*.yaml"))


def test_revise_keeps_earlier_versions_and_the_number(cpq: Run, cpq_book: Path) -> None:
    qid = _sent(cpq, ["holder", "--qty", "3"])
    assert cpq("--as", "rex", "quote", "revise", qid).exit_code == 0
    assert cpq("quote", "add-line", qid, "svc").exit_code == 0
    q = quote(cpq_book, qid)
    assert (q["version"], q["status"], q["number"], len(q["lines"])) == (2, "draft", "QT-2026-0001", 2)
    old = json.loads(cpq("quote", "show", qid, "--version", "1", "--format", "json").stdout)
    assert (old["version"], old["status"], len(old["lines"]), old["total"]) == (1, "sent", 1, "3390.00")
    assert cpq("quote", "show", qid, "--version", "7").exit_code == 1
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert r.exit_code == 0, r.output
    assert cpq("--as", "rex", "quote", "send", qid).stdout.strip() == "QT-2026-0001"
    assert cpq("check").exit_code == 0
    r = cpq("--as", "rex", "quote", "decline", qid, "--reason", "budget cut")
    assert r.exit_code == 0 and quote(cpq_book, qid)["decline_reason"] == "budget cut"


def test_verify_reports_price_changes(cpq: Run, cpq_book: Path) -> None:
    qid = _sent(cpq, ["holder", "--qty", "12"])
    r = cpq("quote", "verify", qid)
    assert r.exit_code == 0 and "price the same today" in r.stderr
    # acme's named price book gains a holder price on a branch: what does it do to the open quote?
    path = cpq_book / "records" / "pricebooks" / "acme-special.yaml"
    path.write_text(path.read_text() + '  - {sku: holder, price: "900.00"}\n')
    r = cpq("quote", "verify", "--all", "--format", "json")
    assert r.exit_code == 1
    diffs = json.loads(r.stdout)
    net = next(d for d in diffs if d["field"] == "net")
    assert (net["quoted"], net["today"]) == ("12000.00", "10800.00")
    total = next(d for d in diffs if d["field"] == "total")
    assert (total["quoted"], total["today"]) == ("13560.00", "12204.00")


def test_suggest_related_and_bought_together(cpq: Run, cpq_book: Path) -> None:
    (cpq_book / "records" / "orders").mkdir(exist_ok=True)
    (cpq_book / "records" / "orders" / "past1.yaml").write_text(
        "number: SO-2026-0001\naccount: baosteel\ndate: '2026-01-10'\ncurrency: CNY\ntotal: '1'\n"
        "lines: [{sku: mill, qty: 1}, {sku: manual, qty: 1}]\n")
    qid = new_quote(cpq, ["mill"], ["holder"])
    rows = json.loads(cpq("quote", "suggest", qid, "--format", "json").stdout)
    by_sku = {r["sku"]: r for r in rows}
    assert by_sku["svc"]["kind"] == "cross_sell" and by_sku["svc"]["because"] == "mill"
    assert by_sku["manual"]["kind"] == "bought_together" and by_sku["manual"]["orders"] == 1


def test_renumber_a_duplicate_after_a_merge(cpq: Run, cpq_book: Path) -> None:
    qid = _sent(cpq, ["holder"])
    folder = cpq_book / "records" / "quotes"
    shutil.copy(folder / f"{qid}.yaml", folder / "zz-merged.yaml")
    r = cpq("check")
    assert r.exit_code == 1 and "give it a new number with `crmctl quote renumber zz-merged`" in r.stdout
    r = cpq("quote", "renumber", "zz-merged")
    assert r.stdout.strip() == "QT-2026-0002"
    assert cpq("check").exit_code == 0


def test_submit_checks_quote_wide_quantity_rules(cpq: Run) -> None:
    qid = new_quote(cpq, ["mill", "--qty", "2"], ["holder"])
    r = cpq("--as", "rex", "quote", "submit", qid)
    assert r.exit_code == 1
    assert r.stderr.strip() == ("error: cannot submit: mill: rule holder-per-mill: 2 x mill needs at least 2 x holder "
                                "on the quote (has 1)")
    assert "warning: mill: rule holder-per-mill" in cpq("quote", "show", qid).stderr
    assert cpq("quote", "add-line", qid, "holder").exit_code == 0
    assert cpq("--as", "rex", "quote", "submit", qid).exit_code == 0


def test_inclusive_tax_on_total(cpq: Run, cpq_book: Path) -> None:
    settings = cpq_book / "crm.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("mode: exclusive", "mode: inclusive", 1).replace("apply: per_line", "apply: on_total", 1)
    assert "mode: inclusive" in text and "apply: on_total" in text
    settings.write_text(text, encoding="utf-8")
    qid = new_quote(cpq, ["holder", "--qty", "3"], ["svc"])
    q = quote(cpq_book, qid)
    # prices include tax: 3000 at 13% holds 345.13 (3000 x 13 / 113); 5000 at 6% holds 283.02
    assert q["totals"]["tax_by_rate"] == {"13": "345.13", "6": "283.02"}
    assert (q["totals"]["net"], q["totals"]["tax"], q["total"]) == ("8000.00", "628.15", "8000.00")


def test_dry_run_shows_the_new_total_and_writes_nothing(cpq: Run, cpq_book: Path) -> None:
    qid = new_quote(cpq, ["holder"])
    before = (cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text()
    r = cpq("quote", "add-line", qid, "holder", "--qty", "2", "--dry-run")
    assert r.exit_code == 0 and f"would add-line holder: quote {qid} total 1130.00 -> 3390.00 CNY" in r.stderr
    r = cpq("quote", "edit", qid, "--discount", "10%", "--dry-run")
    assert "total 1130.00 -> 1017.00 CNY" in r.stderr
    assert (cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text() == before
