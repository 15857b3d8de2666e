"""Approvals that can be proven: real SSH keys, real signed commits, every verdict (issue 17).

The demo book in a real git repository with ``policy.signed_approvals: true``;
keys are made with ``ssh-keygen -t ed25519 -N ''`` (Debian: openssh-client,
in the Makefile's DEBS). The demo's quote 2ndtq0r1f8n1 waits for a director
(wang-lei); its history holds only the rep's ``submitted`` entry.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import err_line, invoke

PENDING = "2ndtq0r1f8n1"
QUOTE = f"records/quotes/{PENDING}.yaml"
NOW = {"CRMCTL_NOW": "2026-11-20T10:00:00+08:00"}


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout


def keygen(folder: Path, name: str) -> Path:
    key = folder / name
    sh(folder, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(key))
    return key


def crm(book: Path, *args: str) -> Result:
    return invoke(*args, book=book, env=NOW)


def set_policy(book: Path, on: bool) -> None:
    """crm.yaml's policy.signed_approvals (an uncommitted settings edit: crmctl commits only records)."""
    text = (book / "crm.yaml").read_text(encoding="utf-8").split("\npolicy:\n")[0]
    (book / "crm.yaml").write_text(text + f"\npolicy:\n  signed_approvals: {'true' if on else 'false'}\n", encoding="utf-8")


def sign_with(book: Path, key: Path | None) -> None:
    if key is None:
        sh(book, "git", "config", "--unset", "user.signingkey")
    else:
        sh(book, "git", "config", "gpg.format", "ssh")
        sh(book, "git", "config", "user.signingkey", str(key))


@pytest.fixture
def signed(demo_copy: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """The demo book in git, signed approvals on, keys for wang-lei (director) and li-na (rep), set up."""
    book = demo_copy
    keys = {who: keygen(tmp_path, who) for who in ("wang-lei", "li-na")}
    set_policy(book, True)
    sh(book, "git", "init", "-q")
    sh(book, "git", "add", "-A")
    sh(book, "git", "commit", "-q", "-m", "the demo book")
    for who, key in keys.items():
        r = crm(book, "--as", who, "user", "edit", who, "--set", f"signing_keys={key.with_suffix('.pub').read_text().strip()}")
        assert r.exit_code == 0, r.output
    r = crm(book, "git", "setup", "--no-hook")
    assert r.exit_code == 0, r.output
    return book, keys


def problems_of(book: Path, qid: str) -> list[str]:
    r = crm(book, "check")
    return [line for line in r.stdout.splitlines() if f"records/quotes/{qid}.yaml" in line]


def head(book: Path) -> str:
    return sh(book, "git", "rev-parse", "HEAD").strip()


def test_a_signed_approval_is_proven_and_the_quote_is_sent(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 0, r.output
    # git itself vouches for it, through the allowed-signers file `git setup` wrote
    assert 'Good "git" signature for wang-lei' in subprocess.run(
        ["git", "verify-commit", "HEAD"], cwd=book, capture_output=True, text=True).stderr
    assert problems_of(book, PENDING) == []
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 0, r.output


def test_signing_with_someone_elses_key_is_refused_and_nothing_is_written(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    before, text = head(book), (book / QUOTE).read_text(encoding="utf-8")
    sign_with(book, keys["li-na"])
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 1
    assert err_line(r).startswith("error: your git signing key (SHA256:")
    assert "is not one of wang-lei's keys (records/users/wang-lei.yaml signing_keys or gpg_keys)" in err_line(r)
    assert head(book) == before and (book / QUOTE).read_text(encoding="utf-8") == text
    assert not list((book / ".crmctl").glob("journal/*.json"))


def test_no_signing_key_is_refused_with_one_line_and_nothing_written(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    before, text = head(book), (book / QUOTE).read_text(encoding="utf-8")
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 1
    assert err_line(r).startswith("error: crm.yaml policy.signed_approvals is on, but git cannot sign a commit here (")
    assert err_line(r).endswith("nothing was written")
    assert head(book) == before and (book / QUOTE).read_text(encoding="utf-8") == text


def _approve_unsigned(book: Path) -> str:
    """wang-lei's approval made while the policy was off: an ordinary, unsigned crmctl commit."""
    set_policy(book, False)
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 0, r.output
    set_policy(book, True)
    return head(book)


def test_an_unsigned_approval_is_named_with_its_commit(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    commit = _approve_unsigned(book)
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert (f"the approved entry by wang-lei at 2026-11-20T10:00:00+08:00 came in with commit {commit[:10]} is not "
            "signed; it is not proven (policy.signed_approvals)") in found[0]
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1
    assert err_line(r).startswith(f"error: cannot send: the approved entry by wang-lei at 2026-11-20T10:00:00+08:00 came "
                                  f"in with commit {commit[:10]} is not signed")


def test_an_approval_signed_by_another_user_is_named_as_forged(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    _approve_unsigned(book)
    # the rep re-signs the director's approval commit with her own key
    sign_with(book, keys["li-na"])
    sh(book, "git", "commit", "--amend", "--no-edit", "-q", "-S")
    forged = head(book)
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert f"came in with commit {forged[:10]} is signed with li-na's key, not wang-lei's (forged)" in found[0]
    r = crm(book, "--as", "zhou-tao", "quote", "send", PENDING)
    assert r.exit_code == 1 and "(forged)" in err_line(r)


def test_a_key_that_is_no_users_is_named(signed: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    book, _ = signed
    _approve_unsigned(book)
    sign_with(book, keygen(tmp_path, "stranger"))
    sh(book, "git", "commit", "--amend", "--no-edit", "-q", "-S")
    found = problems_of(book, PENDING)
    assert len(found) == 1 and "is signed by a key that is no user's signing key (SHA256:" in found[0]


def test_a_hand_edit_of_a_signed_approval_is_named_with_its_commit(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 0
    # later, an unsigned commit moves the decision to another day (approval and history alike, so they agree)
    path = book / QUOTE
    path.write_text(path.read_text(encoding="utf-8").replace("2026-11-20T10:00:00+08:00", "2026-11-19T10:00:00+08:00"),
                    encoding="utf-8")
    sh(book, "git", "-c", "commit.gpgsign=false", "commit", "-q", "-am", "tidy up")
    edit = head(book)
    found = problems_of(book, PENDING)
    assert len(found) == 1
    assert (f"the approved entry by wang-lei at 2026-11-19T10:00:00+08:00 came in with commit {edit[:10]} is not signed"
            in found[0])
    r = crm(book, "--as", "zhou-tao", "quote", "accept", PENDING)
    assert r.exit_code == 1 and f"commit {edit[:10]} is not signed" in err_line(r)


def test_an_uncommitted_approval_is_in_no_commit(signed: tuple[Path, dict[str, Path]]) -> None:
    book, keys = signed
    sign_with(book, keys["wang-lei"])
    assert crm(book, "--as", "wang-lei", "quote", "approve", PENDING).exit_code == 0
    path = book / QUOTE
    path.write_text(path.read_text(encoding="utf-8").replace("2026-11-20T10:00:00+08:00", "2026-11-18T10:00:00+08:00"),
                    encoding="utf-8")
    found = problems_of(book, PENDING)
    assert len(found) == 1 and ("the approved entry by wang-lei at 2026-11-18T10:00:00+08:00 is in no commit "
                                "(an uncommitted edit, or written by hand into a merge)") in found[0]


def test_the_old_approvals_of_a_book_that_turns_signing_on_are_unproven(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    # the demo's earlier decisions were never signed: each is named, none is silently trusted
    r = crm(book, "check")
    assert r.stdout.count("is not signed; it is not proven (policy.signed_approvals)") == 7


def test_signed_approvals_off_keeps_the_old_behaviour(demo_copy: Path) -> None:
    book = demo_copy
    sh(book, "git", "init", "-q")
    sh(book, "git", "add", "-A")
    sh(book, "git", "commit", "-q", "-m", "the demo book")
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 0, r.output
    assert sh(book, "git", "log", "-1", "--format=%G?").strip() == "N"
    assert problems_of(book, PENDING) == []
    assert "not proven" not in crm(book, "check").stdout
    assert crm(book, "--as", "zhou-tao", "quote", "send", PENDING).exit_code == 0


def test_the_policy_setting_must_be_true_or_false(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    text = (book / "crm.yaml").read_text(encoding="utf-8").replace("signed_approvals: true", "signed_approvals: yes please")
    (book / "crm.yaml").write_text(text, encoding="utf-8")
    r = crm(book, "--as", "wang-lei", "quote", "approve", PENDING)
    assert r.exit_code == 1
    assert err_line(r) == "error: crm.yaml policy.signed_approvals: 'yes please' must be true or false"


@pytest.mark.parametrize("key, said", [
    ("ssh-ed25519", "is not an SSH public key"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "key type 'ssh-dss' is not one git can verify"),
    ("ssh-ed25519 AAAA!!notbase64", "is not valid base64 key data"),
    # an RSA key's data declared as ed25519
    ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7", "the key is declared ssh-ed25519 but its data is a ssh-rsa key"),
])
def test_a_bad_signing_key_is_refused_with_one_line(signed: tuple[Path, dict[str, Path]], key: str, said: str) -> None:
    book, _ = signed
    r = crm(book, "user", "edit", "chen-jing", "--set", f"signing_keys={key}")
    assert r.exit_code == 1
    assert err_line(r).startswith("error: signing_keys: ") and said in err_line(r)


def test_check_names_a_bad_key_typed_into_a_user_file(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    path = book / "records/users/chen-jing.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "gpg_keys: [\"not a fingerprint\"]\n", encoding="utf-8")
    r = crm(book, "check")
    assert "records/users/chen-jing.yaml" in r.stdout and "is not an OpenPGP fingerprint (40 hex digits" in r.stdout


def test_git_setup_writes_the_allowed_signers_and_never_through_a_symlink(signed: tuple[Path, dict[str, Path]],
                                                                           tmp_path: Path) -> None:
    book, keys = signed
    lines = (book / ".crmctl/allowed_signers").read_text().splitlines()
    assert lines == [f'li-na namespaces="git" {" ".join(keys["li-na"].with_suffix(".pub").read_text().split()[:2])}',
                     f'wang-lei namespaces="git" {" ".join(keys["wang-lei"].with_suffix(".pub").read_text().split()[:2])}']
    assert sh(book, "git", "config", "gpg.ssh.allowedSignersFile").strip() == str(book / ".crmctl/allowed_signers")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (book / ".crmctl/allowed_signers").unlink()
    os.symlink(victim, book / ".crmctl/allowed_signers")
    r = crm(book, "git", "setup", "--no-hook")
    assert r.exit_code == 1 and "allowed_signers: is a symbolic link; crmctl will not write through it" in err_line(r)
    assert victim.read_text() == "precious\n"


def test_codeowners_names_the_maintainers_handles(signed: tuple[Path, dict[str, Path]]) -> None:
    book, _ = signed
    r = crm(book, "git", "setup", "--no-hook", "--codeowners")
    assert r.exit_code == 1
    assert err_line(r) == ("error: CODEOWNERS needs the git host handle of every director or admin: admin, wang-lei have "
                           "none; `crmctl user edit admin --git-handle @name`; nothing was written")
    assert not (book / "CODEOWNERS").exists()
    assert crm(book, "--as", "wang-lei", "user", "edit", "wang-lei", "--git-handle", "@wanglei").exit_code == 0
    assert crm(book, "--as", "admin", "user", "edit", "admin", "--git-handle", "@hdpm/admins").exit_code == 0
    r = crm(book, "--as", "admin", "user", "edit", "admin", "--git-handle", "admins")
    assert r.exit_code == 1 and "is not a git host handle; write @name (or @org/team)" in err_line(r)
    r = crm(book, "git", "setup", "--no-hook", "--codeowners")
    assert r.exit_code == 0, r.output
    rules = [line for line in (book / "CODEOWNERS").read_text().splitlines() if line and not line.startswith("#")]
    assert rules == ["/records/pricebooks/ @hdpm/admins @wanglei", "/records/products/ @hdpm/admins @wanglei",
                     "/crm.yaml @hdpm/admins @wanglei", "/records/users/ @hdpm/admins @wanglei",
                     "/CODEOWNERS @hdpm/admins @wanglei"]


def test_codeowners_is_never_written_through_a_symlink(signed: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    book, _ = signed
    for who, handle in (("wang-lei", "@wanglei"), ("admin", "@admin")):
        assert crm(book, "--as", who, "user", "edit", who, "--git-handle", handle).exit_code == 0
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, book / "CODEOWNERS")
    r = crm(book, "git", "setup", "--no-hook", "--codeowners")
    assert r.exit_code == 1 and "CODEOWNERS: is a symbolic link" in err_line(r)
    assert victim.read_text() == "precious\n"
