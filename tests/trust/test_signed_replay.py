"""An interrupted change to be signed is finished only as its own signer (attack 17 #14, #16).

A director's ``quote approve`` killed between its renames and its commit
leaves a journal that says "commit this, signed as wang-lei". The next crmctl
run in that checkout may be someone else's, signing with another key: it
rolls the change back and says so (wang-lei approves again) instead of
signing it with the wrong key, which check would call a forgery. A journal
asking for a signature the change does not need is refused.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import err_line, git
from tests.trust.test_signed_approvals import NOW, PENDING, QUOTE, crm, head, problems_of, sign_with, signed  # noqa: F401

PY = sys.executable


def killed(book: Path, point: str, *args: str) -> None:
    """Run crmctl in its own process, SIGKILLed at ``point`` (CRMCTL_TEST_KILL_AT)."""
    env = {**os.environ, **NOW, "CRMCTL_TEST_KILL_AT": point}
    proc = subprocess.run([PY, "-m", "crmctl", "--book", str(book), *args], capture_output=True, text=True, env=env)
    assert proc.returncode == -9, proc.stderr


def notes(result: object) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("note: ")]  # type: ignore[attr-defined]


def test_a_directors_interrupted_approval_is_rolled_back_not_signed_by_the_next_user(
        signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    before, text = head(book), (book / QUOTE).read_text(encoding="utf-8")
    sign_with(book, keys["wang-lei"])
    killed(book, "commit", "--as", "wang-lei", "quote", "approve", PENDING)  # renamed, not committed
    assert (book / QUOTE).read_text(encoding="utf-8") != text
    # the rep works next in the same checkout, with her own key
    sign_with(book, keys["li-na"])
    r = crm(book, "--as", "li-na", "account", "edit", "saic-group", "--phone", "+86 21 5555 0100")
    assert r.exit_code == 0, r.output
    assert notes(r) == [f"note: rolled back an interrupted change: quote approve: {PENDING} v1 by wang-lei (not "
                        "committed: it must be a commit signed by wang-lei's key, and git here does not sign with "
                        "wang-lei's key); wang-lei must do it again"]
    assert (book / QUOTE).read_text(encoding="utf-8") == text
    assert git(book, "log", "--format=%s", f"{before}..HEAD").splitlines() == ["account edit: saic-group (phone)"]
    assert git(book, "status", "--porcelain", "--", "records") == ""
    assert not list((book / ".crmctl").glob("journal/*.json"))
    # no wrong accusation: nothing unproven about the quote, and the director can approve again
    assert problems_of(book, PENDING) == []
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    assert problems_of(book, PENDING) == []


def test_the_approver_himself_finishes_his_interrupted_approval_signed(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    killed(book, "rename:1", "--as", "wang-lei", "quote", "approve", PENDING)
    r = crm(book, "quote", "list")
    assert notes(r) == [f"note: finished an interrupted change: quote approve: {PENDING} v1 by wang-lei"]
    assert git(book, "log", "-1", "--format=%G?%x20%s").startswith(f"G quote approve: {PENDING} v1 by wang-lei")
    assert problems_of(book, PENDING) == []
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 0


def test_a_journal_asking_for_a_signature_the_change_does_not_need_is_refused(
        signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    killed(book, "commit", "--as", "li-na", "quote", "edit", PENDING, "--notes", "交货期8周")
    path = next((book / ".crmctl" / "journal").glob("*.json"))
    blob = json.loads(path.read_text(encoding="utf-8"))
    assert blob["sign"] is False
    blob["sign"] = "wang-lei"  # "sign it with the director's key, please"
    path.write_text(json.dumps(blob), encoding="utf-8")
    before = head(book)
    r = crm(book, "quote", "list")
    assert r.exit_code == 1
    assert err_line(r) == (f"error: .crmctl/journal/{path.name}: asks for a commit signed by wang-lei's key, but the "
                           "change it holds is nothing the book's policy asks to be signed; it is not replayed: delete "
                           f"it and .crmctl/tmp/{path.stem}/, then `git status` shows what it left in records/")
    assert head(book) == before


def test_a_forged_approval_journal_made_with_the_policy_off_is_never_signed(signed: tuple[Path, dict[str, Path]]) -> None:
    """Attack #14, on the rep's own machine: his crash journal of `--as wang-lei quote approve`, edited to ask for a
    signature, is rolled back by his next run (git here signs as li-na), not committed signed."""
    from tests.trust.test_signed_approvals import set_policy

    book, keys = signed
    text = (book / QUOTE).read_text(encoding="utf-8")
    sign_with(book, keys["li-na"])
    set_policy(book, False)
    killed(book, "rename:1", "--as", "wang-lei", "quote", "approve", PENDING)
    set_policy(book, True)
    path = next((book / ".crmctl" / "journal").glob("*.json"))
    blob = json.loads(path.read_text(encoding="utf-8"))
    blob["sign"] = "wang-lei"
    path.write_text(json.dumps(blob), encoding="utf-8")
    before = head(book)
    r = crm(book, "quote", "list")
    assert r.exit_code == 0, r.output
    assert notes(r)[0].startswith(f"note: rolled back an interrupted change: quote approve: {PENDING} v1 by wang-lei")
    assert head(book) == before and (book / QUOTE).read_text(encoding="utf-8") == text


def test_a_shallow_clone_proves_nothing_and_says_so_in_one_line(signed: tuple[Path, dict[str, Path]],
                                                                 tmp_path: Path) -> None:
    """Attack #8: with --depth 1 the tip commit seemed to introduce every entry; a director-signed tip then
    'proved' every entry by wang-lei, a rep's forged one included."""
    from tests.trust.test_signed_approvals import set_policy

    book, keys = signed
    set_policy(book, False)  # the rep forges the director's approval, unsigned
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    set_policy(book, True)
    sign_with(book, keys["wang-lei"])  # later a director-signed commit is the tip
    git(book, "commit", "-S", "-q", "--allow-empty", "-m", "signed tip")
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{book}", str(ci)], check=True, capture_output=True)
    said = ("shallow clone: approvals cannot be proven from a cut-short history (policy.signed_approvals); run git "
            "fetch --unshallow (in CI: a full clone, fetch-depth: 0)")
    r = crm(ci, "check")
    assert r.exit_code == 1 and f"check_signed_approvals stopped: {said}" in r.stdout
    r = crm(ci, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1 and err_line(r) == f"error: {said}"
    subprocess.run(["git", "-C", str(ci), "fetch", "-q", "--unshallow"], check=True, capture_output=True)
    r = crm(ci, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1 and "is not signed; it is not proven" in err_line(r)
