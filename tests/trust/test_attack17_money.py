"""Attack 17's money and edge findings: orders no approval priced, one quote ordered twice, a receipt recorded twice,
an output folder outside the book, who may change users' keys, and small unclear errors."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml
from click.testing import Result

from tests.conftest import REPO, err_line, git, invoke

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
    text = (book / "crm.yaml").read_text().replace("manual_roles: [director, admin]", "manual_roles: [manager, director]")
    (book / "crm.yaml").write_text(text)
    assert ok_at(run, "--as", "mia", "order", "add", "--opp", opp)


# ---------------------------------------------------------------- #12 one quote accepted in two clones
SENT_QUOTE = "2ndtpvn1c44n"   # the demo's sent quote QT-2026-0002 (Lone Star Fab)


def test_one_quote_accepted_in_two_clones_is_named_and_renumber_does_not_hide_it(demo_copy: Path) -> None:
    book = in_git(demo_copy)
    main = git(book, "branch", "--show-current").strip()
    git(book, "checkout", "-q", "-b", "clone-a")
    first = ok(book, "--as", "zhou-tao", "quote", "accept", SENT_QUOTE).splitlines()[0]
    git(book, "checkout", "-q", main)
    git(book, "checkout", "-q", "-b", "clone-b")
    second = ok(book, "--as", "zhou-tao", "quote", "accept", SENT_QUOTE).splitlines()[0]
    # the merge conflicts only on the quote's `order:`; the teammate keeps his side
    merged = subprocess.run(["git", "-C", str(book), "merge", "-q", "--no-edit", "clone-a"], capture_output=True, text=True)
    assert merged.returncode == 1
    git(book, "checkout", "--ours", f"records/quotes/{SENT_QUOTE}.yaml")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "merge", "--no-verify")
    assert sorted((book / "records/orders").glob(f"{first}.yaml")) and (book / f"records/orders/{second}.yaml").exists()
    r = c(book, "check")
    assert r.exit_code == 1
    a, b = sorted([first, second])
    # before: only "duplicate number 'SO-…' … give it a new number with `crmctl order renumber …`"
    assert (f"records/orders/{b}.yaml:4: quote {SENT_QUOTE} was accepted twice: orders {a}, {b}; one deal, one order: "
            f"keep {second} (the quote's `order:`) and delete {first} (`git rm records/orders/ID.yaml`") in r.stdout
    assert "renumber" not in r.stdout
    assert "a new number is no fix" in r.stdout
    # before: `order renumber` made the book "clean" with the receivable doubled
    for oid in (first, second):
        assert f"error: order {oid} not renumbered: quote {SENT_QUOTE} was accepted twice" in refused(
            book, "order", "renumber", oid)


def test_one_deal_ordered_twice_by_hand_is_named(demo_copy: Path) -> None:
    orders = demo_copy / "records/orders"
    (orders / "2nzzzzzzzzzz.yaml").write_text((orders / "2ndtjjnwcfns.yaml").read_text().replace(
        "SO-2026-0001", "SO-2026-0990"))
    r = c(demo_copy, "check")
    assert r.exit_code == 1
    assert ("opportunity 2ndtj26jtxsn was ordered twice: orders 2ndtjjnwcfns, 2nzzzzzzzzzz; one deal, one order: "
            "keep 2ndtjjnwcfns and delete 2nzzzzzzzzzz") in r.stdout


# ---------------------------------------------------------------- #5 one receipt recorded twice
def test_a_killed_payment_retried_with_the_same_ref_is_recorded_once(tmp_path: Path) -> None:
    from tests.trust.test_journal import crmctl

    book = tmp_path / "demo"
    shutil.copytree(REPO / "records", book / "records")
    shutil.copy(REPO / "crm.yaml", book / "crm.yaml")
    in_git(book)
    args = ["--as", "li-na", "payment", "record", "SO-2026-0002", "--amount", "500", "--date", "2026-11-20",
            "--ref", "BOC 1120"]
    for kill_at in ("commit", "committed"):   # the user saw no "recorded" line, so he runs it again
        assert crmctl(book, args, kill_at).returncode == -9
        retry = crmctl(book, [*args[:-1], "boc  1120"] if kill_at == "commit" else args)
        assert retry.returncode == 1
        assert "note: finished an interrupted change: payment record: 500.00 CNY on SO-2026-0002" in retry.stderr
        assert retry.stderr.strip().splitlines()[-1].startswith(
            "error: --ref ") and "is already recorded on SO-2026-0002: payment " in retry.stderr
        rows = json.loads(c(book, "payment", "list", "--order", "SO-2026-0002", "--format", "json").stdout)
        # before: two rows of 500.00 with ref "BOC 1120"
        assert [r["amount"] for r in rows if r["ref"] == "BOC 1120"] == ["500.00"]
        git(book, "reset", "-q", "--hard", "HEAD~1")


def test_the_same_ref_twice_on_an_order_is_refused_and_checked(demo_copy: Path) -> None:
    first = ok(demo_copy, "--as", "li-na", "payment", "record", "SO-2026-0002", "--amount", "700", "--date",
               "2026-11-20", "--ref", "BOC 1120-A").splitlines()[0]
    assert refused(demo_copy, "--as", "li-na", "payment", "record", "SO-2026-0002", "--amount", "700", "--date",
                   "2026-11-20", "--ref", "BOC 1120-A") == (
        f"error: --ref 'BOC 1120-A' is already recorded on SO-2026-0002: payment {first} (700.00 CNY on 2026-11-20); "
        "one bank transfer is one receipt — a different receipt needs its own --ref "
        "(`crmctl payment list --order SO-2026-0002`)")
    # another order may carry the same ref (one transfer paying two orders)
    ok(demo_copy, "--as", "li-na", "payment", "record", "SO-2026-0003", "--amount", "700", "--date", "2026-11-20",
       "--ref", "BOC 1120-A")
    # what two clones (or a copied file) bring in: check names it, though the order is not overpaid
    payments = demo_copy / "records/payments"
    (payments / "zzzzzzzzzzzz.yaml").write_text((payments / f"{first}.yaml").read_text())   # sorts after any id
    r = c(demo_copy, "check")
    assert r.exit_code == 1
    assert (f"records/payments/zzzzzzzzzzzz.yaml:6: ref 'BOC 1120-A' is also payment {first}'s on the same order "
            "(700.00 CNY on 2026-11-20): one transfer recorded twice?") in r.stdout
    # an import brings the same transfer in once
    csv = demo_copy / "bank.csv"
    csv.write_text("order,date,amount,currency,ref\n2ndtjmfy0zk1,2026-11-20,700.00,CNY,boc 1120-a\n")
    assert "duplicates" in ok(demo_copy, "import", "payments", str(csv))
    assert not [p for p in payments.glob("*.yaml") if "boc 1120-a" in p.read_text()]


# ---------------------------------------------------------------- #13 quotes.out_dir outside the book
def test_a_pulled_out_dir_outside_the_book_is_refused_by_render_and_check(demo_copy: Path, tmp_path: Path) -> None:
    settings = demo_copy / "crm.yaml"
    plain = settings.read_text()
    (tmp_path / "elsewhere").mkdir()
    (demo_copy / "docs").symlink_to(tmp_path / "elsewhere")
    for value, why in (("../../outside", "is outside the book; give a folder inside it (relative, without '..'), e.g. out"),
                       (str(tmp_path / "abs-out"), "is outside the book"),
                       ("out/../../x", "is outside the book"),
                       ("docs/quotes", f"{demo_copy / 'docs'} is a symbolic link")):
        settings.write_text(plain + f"quotes:\n  out_dir: {value}\n")
        # before: written to <book>/../../outside/QT-2026-0002-v1.html (folders created), or the absolute folder
        line = refused(demo_copy, "quote", "render", SENT_QUOTE, "--html")
        assert line.startswith(f"error: crm.yaml quotes.out_dir: '{value}'") and why in line, line
        r = c(demo_copy, "check")
        assert r.exit_code == 1 and f"crm.yaml:30: quotes.out_dir: '{value}'" in r.stdout
    assert not (tmp_path.parent / "outside").exists() and not (tmp_path / "abs-out").exists()
    assert not list((tmp_path / "elsewhere").iterdir())
    # inside the book it works, and an explicit --out stays the user's choice
    settings.write_text(plain + "quotes:\n  out_dir: build/quotes\n")
    written = ok(demo_copy, "quote", "render", SENT_QUOTE, "--html")
    assert written.startswith(str(demo_copy / "build/quotes/QT-2026-0002-v")) and written.endswith(".html")
    assert ok(demo_copy, "quote", "render", SENT_QUOTE, "--html", "--out", str(tmp_path / "mine.html"))


# ---------------------------------------------------------------- #4 a rep adds his own key to the director's record
def keygen(folder: Path, name: str) -> str:
    """A real ed25519 public key line made by ssh-keygen (``TYPE BASE64 name@laptop``)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(folder / name)],
                   check=True, capture_output=True)
    return (folder / f"{name}.pub").read_text().strip()


def test_only_a_team_maintainer_changes_another_users_keys_and_check_names_a_hand_commit(
        demo_copy: Path, tmp_path: Path) -> None:
    book = in_git(demo_copy)
    rep, director = keygen(tmp_path, "zhou-tao"), keygen(tmp_path, "wang-lei")
    # a user keys his own record; the director's is the director's (or an admin's) to change
    ok(book, "--as", "zhou-tao", "user", "edit", "zhou-tao", "--set", f"signing_keys={rep}")
    ok(book, "--as", "wang-lei", "user", "edit", "wang-lei", "--set", f"signing_keys={director}")
    # before: exit 0, and the rep's key then "was" wang-lei's
    spare = keygen(tmp_path, "laptop")   # a key of the rep's nobody has listed yet
    for field, value in (("signing_keys", spare), ("gpg_keys", "ABCD" * 10), ("git_handle", "@zhou"),
                         ("email", "zt2@hdpm.example.cn"), ("active", "false")):
        assert refused(book, "--as", "zhou-tao", "user", "edit", "wang-lei", "--set", f"{field}={value}") == (
            f"error: changing wang-lei's {field} is team policy: zhou-tao (rep) may not; it needs one of the roles "
            "director, admin (crm.yaml team_maintainers)")
    assert "team policy" in refused(book, "--as", "zhou-tao", "user", "edit", "wang-lei", "--add", f"signing_keys={spare}")
    # the rep's own key under the director's name is refused whoever asks
    # not even an admin lists one key under two users
    shown = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "zhou-tao.pub")], capture_output=True,
                           text=True).stdout.split()[1]
    assert refused(book, "--as", "admin", "user", "edit", "wang-lei", "--add", f"signing_keys={rep}") == (
        f"error: user wang-lei: key {shown} is already user zhou-tao's; a signing key is one person's — each user "
        "signs with his own")
    # the quieter way: the rep appends his key to the director's file and commits it by hand
    path = book / "records/users/wang-lei.yaml"
    path.write_text(path.read_text() + f"- {rep.rsplit(' ', 1)[0]} wang-lei-laptop\n")
    subprocess.run(["git", "-C", str(book), "-c", "user.name=周涛", "-c", "user.email=zhou.tao@hdpm.example.cn",
                    "commit", "-qam", "wang-lei new laptop key", "--no-verify"], check=True)
    r = c(book, "check")
    assert r.exit_code == 1
    assert "by zhou-tao (rep) changed wang-lei's signing_keys; only director, admin may (crm.yaml team_maintainers)" in r.stdout
    assert f"records/users/zhou-tao.yaml:16: key {shown} is also user wang-lei's: a signature by it proves neither" in r.stdout


# ---------------------------------------------------------------- #10 small: broken files, list fields, articles
def test_a_broken_quote_file_is_named_with_its_line_not_called_missing(demo_copy: Path) -> None:
    path = demo_copy / f"records/quotes/{PENDING_QUOTE}.yaml"
    path.write_text(path.read_text() + "title: dup\n")
    lines = len(path.read_text().splitlines())
    for args in (("quote", "show", PENDING_QUOTE), ("--as", "zhou-tao", "quote", "submit", PENDING_QUOTE[:6])):
        # before: "error: no quote '2ndtq0r1f8n1'; `crmctl quote list` shows them"
        assert refused(demo_copy, *args) == (f"error: records/quotes/{PENDING_QUOTE}.yaml:{lines}: invalid YAML: "
                                             f"duplicate key 'title'; quote {PENDING_QUOTE} cannot be read until "
                                             "this is fixed")


def test_a_list_field_takes_its_items_in_one_set_or_one_by_one(demo_copy: Path, tmp_path: Path) -> None:
    one, two = keygen(tmp_path, "one"), keygen(tmp_path, "two")
    keys = lambda: yaml.safe_load((demo_copy / "records/users/tom-baker.yaml").read_text())["signing_keys"]  # noqa: E731
    # before: "key type '[ssh-ed25519' is not one git can verify"
    ok(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--set", f"signing_keys=[{one}, {two}]")
    assert keys() == [one, two]
    ok(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--set", f"signing_keys={two}\n{one}")
    assert keys() == [two, one]
    # before: exit 0 keeping only the second key (every decision signed with the first un-proven)
    assert refused(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--set", f"signing_keys={one}",
                   "--set", f"signing_keys={two}") == (
        "error: --set signing_keys is given twice (also --set signing_keys); the second would replace the first; "
        "a list takes all its items in one --set signing_keys=A,B (or --add signing_keys=B)")
    ok(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--remove", f"signing_keys={one.rsplit(' ', 1)[0]}")
    assert keys() == [two]
    assert "is already in signing_keys" in refused(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--add",
                                                   f"signing_keys={two.rsplit(' ', 1)[0]} other-comment")
    ok(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--add", f"signing_keys={one}")
    assert keys() == [two, one]
    assert "is not in signing_keys (2 item(s))" in refused(demo_copy, "--as", "admin", "user", "edit", "tom-baker",
                                                           "--remove", f"signing_keys={keygen(tmp_path, 'three')}")
    assert refused(demo_copy, "--as", "admin", "user", "edit", "tom-baker", "--add", "name=x") == (
        "error: --add name: name is not a list; use --set name=VALUE")


def test_the_article_agrees_with_the_word() -> None:
    from crmctl.core.text import a_an

    assert [a_an(w) for w in ("accepted", "expired", "user", "admin", "director", "opportunity", "unit", "hour",
                              "sent")] == ["an accepted", "an expired", "a user", "an admin", "a director",
                                           "an opportunity", "a unit", "an hour", "a sent"]


def test_messages_use_the_right_article(demo_copy: Path) -> None:
    # before: "cannot accept a accepted quote"; "Change fields of an user"
    assert refused(demo_copy, "--as", "wang-lei", "quote", "accept", ACCEPTED_QUOTE).startswith(
        "error: cannot accept an accepted quote")
    assert "Change fields of a user." in c(demo_copy, "user", "edit", "--help").stdout
