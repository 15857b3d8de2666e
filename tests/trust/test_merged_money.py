"""The merged book is checked like money: what two clones did apart must add up together."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import invoke
from tests.trust.test_git_teamwork import ok, sh, sync, team

ORDER = "records/orders/2ndorder0001.yaml"
PENDING = "records/quotes/2ndtq0r1f8n1.yaml"  # the demo's quote waiting for a director


def test_the_same_receipt_recorded_in_two_clones_is_an_overpayment(tmp_path: Path) -> None:
    a, b = team(tmp_path, 2)
    (a / ORDER).write_text('number: SO-2026-0100\naccount: acme\ndate: "2026-03-01"\ncurrency: CNY\ntotal: "960000.00"\n')
    sh(a, "git", "add", ORDER)
    sh(a, "git", "commit", "-qm", "order", "--no-verify")
    assert sync(a).returncode == 0 and sync(b).returncode == 0
    for clone in (a, b):  # both record the customer's one transfer of 620,000
        ok(clone, "payment", "record", "SO-2026-0100", "--amount", "620000", "--date", "2026-03-05")
    assert sync(a).returncode == 0
    assert sync(b).returncode == 0  # a clean merge: two payment files, one order
    r = invoke("check", book=b)
    assert r.exit_code == 1
    # 620,000 + 620,000 = 1,240,000 received against 960,000: 280,000 too much
    assert f"{ORDER}:5: payments sum to 1240000.00 but the total is 960000.00 (overpaid by 280000.00" in r.stdout


def test_a_real_prepayment_is_not_an_overpayment(book: Path) -> None:
    (book / ORDER).write_text('number: SO-2026-0100\naccount: acme\ndate: "2026-03-01"\ncurrency: CNY\ntotal: "1000.00"\n')
    ok(book, "payment", "record", "SO-2026-0100", "--amount", "1500", "--date", "2026-03-05", "--prepayment")
    r = invoke("check", book=book)
    assert "overpaid" not in r.stdout, r.stdout


def test_installments_that_do_not_sum_to_the_total_are_named(book: Path) -> None:
    # 300,000 + 500,000 = 800,000, not 960,000
    (book / ORDER).write_text('number: SO-2026-0100\naccount: acme\ndate: "2026-03-01"\ncurrency: CNY\ntotal: "960000.00"\n'
                              'installments:\n- due: "2026-04-01"\n  amount: "300000.00"\n- due: "2026-05-01"\n'
                              '  amount: "500000.00"\n')
    r = invoke("check", book=book)
    assert r.exit_code == 1 and "the payment plan sums to 800000.00 but the total is 960000.00" in r.stdout


def test_an_accepted_quote_without_its_order_is_named(demo_copy: Path) -> None:
    (demo_copy / "records/orders/2ndtpv00es3d.yaml").unlink()
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1
    assert ("records/quotes/2ndtpn4c4ech.yaml:7: accepted quote without its order (order '2ndtpv00es3d' is missing)"
            in r.stdout)


def test_a_won_deal_whose_accepted_quote_is_missing_is_named(demo_copy: Path) -> None:
    (demo_copy / "records/quotes/2ndtpn4c4ech.yaml").unlink()
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1
    assert ("won deal 2ndtp311yhc4's order SO-2026-0005 comes from quote 2ndtpn4c4ech, which is missing" in r.stdout)


def test_a_hand_edited_approval_is_caught_by_check_send_and_accept(demo_copy: Path) -> None:
    path = demo_copy / PENDING
    text = path.read_text()
    # the rep's 3-line edit: pending becomes "approved by the director"
    text = text.replace("status: pending_approval", "status: approved").replace(
        "approval:\n  status: pending\n", "approval:\n  status: approved\n  by: wang-lei\n  at: \"2026-11-19T10:00:00+08:00\"\n")
    path.write_text(text)
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1
    assert (f"{PENDING}:72: approval.status is approved but the approvals history does not record it "
            "(its last entry is submitted)") in r.stdout
    r = invoke("--as", "zhou-tao", "quote", "send", "2ndtq0r1f8n1", book=demo_copy, env={"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"})
    assert r.exit_code == 1 and "approvals history does not record it" in r.stderr


def test_the_merge_driver_keeps_comments_from_both_sides(tmp_path: Path) -> None:
    a, b = team(tmp_path, 2)
    path = "records/accounts/acme.yaml"
    ok(a, "account", "edit", "acme", "--tier", "A")  # a edits a field
    mine = (a / path).read_text().replace("tier:", "# a: upgraded after the March order\ntier:")
    (a / path).write_text(mine)
    sh(a, "git", "commit", "-qam", "a's note", "--no-verify")
    theirs = (b / path).read_text().replace("owner:", "# b: the buyer prefers WeChat to email\nowner:")
    (b / path).write_text(theirs)  # b only adds a comment
    sh(b, "git", "commit", "-qam", "b's note", "--no-verify")
    assert sync(a).returncode == 0
    assert sync(b).returncode == 0
    text = (b / path).read_text()
    assert "# a: upgraded after the March order" in text and "# b: the buyer prefers WeChat to email" in text
    assert "tier: A" in text
    assert text.index("# b: the buyer") < text.index("owner:")
