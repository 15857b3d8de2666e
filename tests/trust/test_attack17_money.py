"""Attack 17's money and edge findings: orders no approval priced, one quote ordered twice, a receipt recorded twice,
an output folder outside the book, who may change users' keys, and small unclear errors."""
from __future__ import annotations

from pathlib import Path

from click.testing import Result

from tests.conftest import err_line, git, invoke

NOW = {"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"}
PENDING_DEAL, PENDING_QUOTE = "2ndtp31vkmw5", "2ndtq0r1f8n1"   # the demo's deal whose quote waits for a director
ACCEPTED_QUOTE, ITS_ORDER = "2ndtpn4c4ech", "2ndtpv00es3d"     # the demo's accepted quote and its order SO-2026-0005


def c(book: Path, *args: str) -> Result:
    return invoke(*args, book=book, env=NOW)


def ok(book: Path, *args: str) -> str:
    r = c(book, *args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def refused(book: Path, *args: str) -> str:
    """The one `error:` line of a command that must fail, with nothing written."""
    before = sorted((p, p.read_bytes()) for p in (book / "records").rglob("*") if p.is_file())
    r = c(book, *args)
    assert r.exit_code == 1, r.output
    assert sorted((p, p.read_bytes()) for p in (book / "records").rglob("*") if p.is_file()) == before
    return err_line(r)


def in_git(book: Path) -> Path:
    git(book, "init", "-q")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "demo", "--no-verify")
    return book


# ---------------------------------------------------------------- #7 an order at any price without approval
def test_a_deal_with_a_pending_quote_gets_no_order_from_its_amount(demo_copy: Path) -> None:
    book = in_git(demo_copy)
    # the rep sets the deal's amount low and wins it while its quote (31% off) waits for the director
    ok(book, "--as", "zhou-tao", "opp", "edit", PENDING_DEAL, "--amount", "1000")
    ok(book, "--as", "zhou-tao", "opp", "win", PENDING_DEAL)
    want = (f"error: opportunity {PENDING_DEAL} has quote {PENDING_QUOTE} (pending_approval); a quoted deal's order "
            "comes from its accepted quote, not from the deal's amount: accept the approved, sent quote "
            "(`crmctl quote accept ID`)")
    # before: "added order SO-2026-0909: 1000.00 CNY"; not even a director makes it by hand
    assert refused(book, "--as", "zhou-tao", "order", "add", "--opp", PENDING_DEAL) == want
    assert refused(book, "--as", "wang-lei", "order", "add", "--opp", PENDING_DEAL) == want


def test_check_names_an_order_beside_a_quote_and_one_off_its_quote(demo_copy: Path) -> None:
    # what a hand edit or a merge can still bring in: SO-2026-0001 moved onto the quoted deal, SO-2026-0005's total cut
    order = demo_copy / "records/orders/2ndtjjnwcfns.yaml"
    order.write_text(order.read_text().replace('opportunity: "2ndtj26jtxsn"', f'opportunity: "{PENDING_DEAL}"'))
    quoted = demo_copy / f"records/orders/{ITS_ORDER}.yaml"
    quoted.write_text(quoted.read_text().replace('total: "2626539.20"', 'total: "1.00"'))
    r = c(demo_copy, "check")
    assert r.exit_code == 1
    assert (f"order SO-2026-0001 was made from the deal's amount (380000.00 CNY) but opportunity {PENDING_DEAL} has "
            f"quote {PENDING_QUOTE} (pending_approval): a price no approval saw") in r.stdout
    assert f"total 1.00 differs from accepted quote {ACCEPTED_QUOTE}'s total 2626539.20 CNY" in r.stdout


def test_an_order_no_quote_priced_needs_a_role_of_orders_manual_roles(run, book: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.l2c.helpers import fails, ok as ok_at, won_deal

    opp = won_deal(run, "5000")
    # a rep may not (default roles director, admin); the refusal names the list to change
    assert fails(run, "--as", "rex", "order", "add", "--opp", opp) == (
        f"error: an order no quote priced ({opp}, 5000.00 CNY from the deal's amount) is pricing policy: rex (rep) "
        "may not; it needs one of the roles director, admin (crm.yaml orders.manual_roles)")
    assert "say who you are" in fails(run, "order", "add", "--opp", opp)
    text = (book / "crm.yaml").read_text().replace("orders:\n", "orders:\n  manual_roles: [manager, director]\n")
    (book / "crm.yaml").write_text(text)
    assert ok_at(run, "--as", "mia", "order", "add", "--opp", opp)
