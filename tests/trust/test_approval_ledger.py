"""The approvals history is an append-only ledger, each entry proven at its position (attack 17 #2, #3).

With ``policy.signed_approvals`` a decision is proven by the signed commit of
its approver that put it *at that place after the same predecessors*. A copy
of an old signed approval appended after a signed rejection is introduced by
the copying commit (unsigned: refused); a signed decision that the history no
longer holds (a revert, an older version restored) is named by ``check`` and
blocks ``send``/``accept``.
"""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import err_line, git
from tests.trust.test_signed_approvals import PENDING, QUOTE, crm, head, problems_of, sign_with, signed  # noqa: F401

AT = "2026-11-20T10:00:00+08:00"


def approve_submit_reject(book: Path, keys: dict[str, Path]) -> tuple[str, str]:
    """The director approves (signed), the rep submits the same content again, the director rejects (signed)."""
    r = crm(book, "--as", "li-na", "quote", "submit", PENDING)  # the demo quote priced as crmctl prices it today
    assert r.exit_code == 0, r.output
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    approved = head(book)
    r = crm(book, "--as", "li-na", "quote", "submit", PENDING)
    assert r.exit_code == 0, r.output
    r = crm(book, "--as", "wang-lei", "quote", "reject", PENDING, "--reason", "changed my mind: too much")
    assert r.exit_code == 0, r.output
    assert problems_of(book, PENDING) == []
    sign_with(book, keys["li-na"])
    return approved, head(book)


def _block(text: str, key: str) -> str:
    found = re.search(rf"^{key}:\n(?:  .*\n|- .*\n)*", text, re.M)
    assert found is not None
    return found.group(0)


def test_a_replayed_copy_of_an_old_signed_approval_is_introduced_by_the_copying_commit(
        signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    approved, _ = approve_submit_reject(book, keys)
    # the rep: approval block and status from the approved version, and a byte-identical copy of its approved entry
    old = git(book, "show", f"{approved}:{QUOTE}")
    text = (book / QUOTE).read_text(encoding="utf-8")
    entries = _block(old, "approvals")
    copy = entries[entries.rindex("- action: approved"):]
    text = text.replace(_block(text, "approval"), _block(old, "approval"))
    text = text.replace(_block(text, "approvals"), _block(text, "approvals") + copy)
    text = re.sub(r"^status: \w+", re.search(r"^status: \w+", old, re.M).group(0), text, flags=re.M)  # type: ignore[union-attr]
    (book / QUOTE).write_text(text, encoding="utf-8")
    git(book, "-c", "commit.gpgsign=false", "commit", "-qam", "tidy")
    tidy = head(book)
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert (f"the approved entry by wang-lei at {AT} came in with commit {tidy[:10]} is not signed; it is not proven "
            "(policy.signed_approvals)") in found[0]
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1
    assert f"came in with commit {tidy[:10]} is not signed" in err_line(r)


def test_a_signed_rejection_erased_by_restoring_an_older_version_is_named(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    approved, rejected = approve_submit_reject(book, keys)
    git(book, "checkout", approved, "--", QUOTE)
    git(book, "-c", "commit.gpgsign=false", "commit", "-qm", "restore")
    assert "status: approved" in (book / QUOTE).read_text(encoding="utf-8")
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert (f"the rejected entry by wang-lei at {AT} (entry 5, signed in commit {rejected[:10]}) is no longer in the "
            "approvals history: a later change removed, replaced or reordered it, and approvals are append-only; "
            f"restore the history from commit {rejected[:10]} (policy.signed_approvals)") in found[0]
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1 and "the rejected entry by wang-lei" in err_line(r) and "is no longer in" in err_line(r)


def test_a_signed_rejection_erased_by_git_revert_is_named(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    _, rejected = approve_submit_reject(book, keys)
    git(book, "-c", "commit.gpgsign=false", "revert", "--no-edit", "HEAD~1..HEAD")  # the rejection
    git(book, "-c", "commit.gpgsign=false", "revert", "--no-edit", "HEAD~2")        # the re-submission
    found = problems_of(book, PENDING)
    assert len(found) == 1 and f"(entry 5, signed in commit {rejected[:10]}) is no longer in the approvals history" \
        in found[0]
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 1


def test_decisions_appended_in_order_stay_proven(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    approve_submit_reject(book, keys)
    r = crm(book, "--as", "li-na", "quote", "submit", PENDING)
    assert r.exit_code == 0, r.output
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    assert problems_of(book, PENDING) == []
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 0


def test_a_policy_change_under_signed_approvals_must_be_signed_by_a_maintainer(
        signed: tuple[Path, dict[str, Path]]) -> None:
    """Attack #11: the rep raised every role's authority in crm.yaml and typed the director as the commit's author."""
    book, keys = signed
    crm_yaml = book / "crm.yaml"
    crm_yaml.write_text(crm_yaml.read_text(encoding="utf-8") + "discount_policy:\n  authority:\n"
                        + "".join(f"    {role}: {{default: \"35\", service: \"20\"}}\n"
                                  for role in ("rep", "manager", "director", "admin"))
                        + "  min_margin_percent: \"0\"\n", encoding="utf-8")
    git(book, "-c", "user.name=王磊", "-c", "user.email=wang.lei@hdpm.example.cn", "-c", "commit.gpgsign=false",
        "commit", "-qam", "tweak")
    spoofed = head(book)
    switched_on = git(book, "rev-list", "--max-parents=0", "HEAD").strip()  # the fixture's first commit, unsigned

    def policy_lines() -> list[str]:
        return [line for line in crm(book, "check").stdout.splitlines() if line.startswith("crm.yaml:")]

    assert sorted(policy_lines()) == sorted([
        f"crm.yaml:1: commit {switched_on[:10]} changed crm.yaml's policy (signed approvals); with "
        "policy.signed_approvals it must be signed by one of director, admin (crm.yaml discount_policy.maintainers), "
        "but it is not signed",
        f"crm.yaml:1: commit {spoofed[:10]} changed the discount policy; with policy.signed_approvals it must be "
        "signed by one of director, admin (crm.yaml discount_policy.maintainers), but it is not signed"])
    # signed by the rep's own (valid) key: named with who signed
    sign_with(book, keys["li-na"])
    git(book, "-c", "user.name=王磊", "-c", "user.email=wang.lei@hdpm.example.cn", "commit", "-S", "-q", "--amend",
        "--no-edit")
    assert [line for line in policy_lines() if line.endswith("but it is signed by li-na (rep)")]
    # signed by the director: fine
    sign_with(book, keys["wang-lei"])
    git(book, "commit", "-S", "-q", "--amend", "--no-edit")
    assert len(policy_lines()) == 1


def test_a_directors_signed_cherry_pick_of_a_reps_forged_approval_proves_nothing(
        signed: tuple[Path, dict[str, Path]]) -> None:
    """Attack #6: the rep's `--as wang-lei quote approve` (policy off in his clone) is authored as 王磊; the director
    later cherry-picks (or rebases) it with signing on, and the commit is then genuinely signed by wang-lei."""
    import os
    import subprocess
    import time

    from tests.trust.test_signed_approvals import set_policy

    book, keys = signed
    git(book, "checkout", "-q", "-b", "rep-forge")
    set_policy(book, False)
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    set_policy(book, True)
    git(book, "checkout", "-q", "main")
    sign_with(book, keys["wang-lei"])
    later = {**os.environ, "GIT_COMMITTER_DATE": f"{int(time.time()) + 3600} +0800"}  # he tidies the branch an hour on
    subprocess.run(["git", "-C", str(book), "cherry-pick", "-S", "rep-forge"], check=True, capture_output=True, env=later)
    picked = head(book)
    assert git(book, "log", "-1", "--format=%G?").strip() == "G"
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert re.search(f"came in with commit {picked[:10]}, rewritten 36[0-9][0-9] s after it was authored \\(a rebase, "
                     "cherry-pick or amend\\): signing a rewritten commit does not make its entries the signer's "
                     "decisions; it is not proven", found[0])
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1 and re.search("rewritten 36[0-9][0-9] s after it was authored", err_line(r))


def test_a_deactivated_approvers_past_decisions_stay_proven_and_a_removed_key_stops_verifying(
        signed: tuple[Path, dict[str, Path]]) -> None:
    """Attack #9: the director leaves; the quotes he approved (signed) can still be sent and accepted."""
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    approved = head(book)
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 0
    assert crm(book, "--as", "admin", "user", "edit", "wang-lei", "--set", "active=false").exit_code == 0
    assert problems_of(book, PENDING) == []
    r = crm(book, "--as", "zhou-tao", "quote", "accept", PENDING)
    assert r.exit_code == 0, r.output
    # his key signs no new decision (the demo's rejected quote, submitted again, waits for a director)
    assert crm(book, "--as", "li-na", "quote", "submit", "2ndtqc660nmb").exit_code == 0
    r = crm(book, "--as", "wang-lei", "quote", "approve", "2ndtqc660nmb")
    assert r.exit_code == 1
    assert err_line(r) == ("error: wang-lei is inactive (records/users/wang-lei.yaml active: false): an inactive user's "
                           "key proves past decisions only, it signs no new one; nothing was written")
    # a key removed from his record (revoked) stops verifying what it signed
    user = book / "records/users/wang-lei.yaml"
    user.write_text(re.sub(r"signing_keys:\n(- .*\n)+", "", user.read_text(encoding="utf-8")), encoding="utf-8")
    git(book, "commit", "-qam", "revoke wang-lei's key")
    found = problems_of(book, PENDING)
    assert len(found) == 1 and f"commit {approved[:10]} is signed by a key that is no user's signing key" in found[0]
