"""Users' signing keys and what git says about a commit's signature.

A user record may carry ``signing_keys`` (SSH public keys, one line each, as
``git config gpg.format ssh`` signs with: ``ssh-ed25519 AAAA... comment``) and
``gpg_keys`` (OpenPGP fingerprints, 40 hex digits). From them crmctl builds
git's allowed-signers list (``gpg.ssh.allowedSignersFile``: one line
``<user id> namespaces="git" <key>`` per key), so git names the *user id*
as the signer of a good SSH signature.

Verification never trusts a file on disk: :func:`signatures` hands git a
list freshly built from the book's users, for one ``git log`` over all the
commits asked about. Nothing here imports more than the standard library.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from crmctl.core import git
from crmctl.core.errors import CrmError

# the SSH public key types ssh-keygen -Y verifies (git's SSH signing uses it)
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                 "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
GPG_FINGERPRINT = re.compile(r"[0-9A-F]{40}")
GOOD_SSH = "G"           # %G?: a good signature by a key in the allowed-signers list
GOOD_GPG = ("G", "U")    # a good OpenPGP signature (U: the key's web-of-trust validity is unknown; we pin the fingerprint)


def ssh_key_problem(value: Any, label: str = "signing_keys") -> str | None:
    """Why ``value`` is not one SSH public key line (``TYPE BASE64 [comment]``), or None when it is.

    The base64 part must decode and start with the same key type it is declared as
    (a key pasted under the wrong type, or cut short, is refused here rather than
    by ``git verify-commit`` months later).
    """
    text = str(value).strip() if isinstance(value, str) else ""
    parts = text.split()
    example = "like 'ssh-ed25519 AAAAC3Nza... li.na@laptop' (the contents of ~/.ssh/id_ed25519.pub)"
    if len(parts) < 2 or "\n" in text:
        return f"{label}: {str(value)[:40]!r} is not an SSH public key; give one key per entry, {example}"
    kind, blob = parts[0], parts[1]
    if kind not in SSH_KEY_TYPES:
        return f"{label}: key type {kind[:40]!r} is not one git can verify ({', '.join(SSH_KEY_TYPES[:5])}, ...); {example}"
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        return f"{label}: the {kind} key {blob[:16]}... is not valid base64 key data (cut short or mistyped?); {example}"
    if inner != kind or len(raw) < 4 + length + 16:
        return f"{label}: the key is declared {kind} but its data is {'a ' + inner if inner else 'not a'} key; {example}"
    return None


def gpg_key_problem(value: Any, label: str = "gpg_keys") -> str | None:
    """Why ``value`` is not an OpenPGP fingerprint (40 hex digits; spaces allowed), or None."""
    if isinstance(value, str) and GPG_FINGERPRINT.fullmatch(normal_fingerprint(value)):
        return None
    return (f"{label}: {str(value)[:50]!r} is not an OpenPGP fingerprint (40 hex digits, as "
            "`gpg --fingerprint` prints it)")


def normal_fingerprint(value: str) -> str:
    return value.replace(" ", "").upper()


def ssh_key(value: str) -> str:
    """The ``TYPE BASE64`` part of a key line (the comment is not part of the key)."""
    return " ".join(str(value).split()[:2])


def ssh_fingerprint(value: str) -> str:
    """``SHA256:…`` of an SSH public key line, as ``ssh-keygen -l`` and git print it."""
    import base64
    import hashlib

    blob = base64.b64decode(str(value).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def key_ids(data: Mapping[str, Any]) -> dict[str, str]:
    """``{key as compared: key as shown}`` of a user's signing keys (``TYPE BASE64``) and OpenPGP fingerprints."""
    out = {ssh_key(k): ssh_fingerprint(k) for k in data.get("signing_keys") or [] if ssh_key_problem(k) is None}
    out.update({normal_fingerprint(f): normal_fingerprint(f) for f in data.get("gpg_keys") or []
                if gpg_key_problem(f) is None})
    return out


def key_holders(users: Iterable[Any]) -> dict[str, list[str]]:
    """``{key as compared: [user ids, sorted]}`` for every signing key or fingerprint listed under users."""
    holders: dict[str, list[str]] = {}
    for user in users:
        for key in key_ids(user.data):
            holders.setdefault(key, []).append(user.id)
    return {k: sorted(v) for k, v in holders.items()}


def shared_key_problem(users: Iterable[Any], rid: str, data: Mapping[str, Any]) -> str | None:
    """Why user ``rid``'s keys in ``data`` cannot be his (None: they can): one listed under another user too —
    a key is one person's, or a signature "by" one user is as good as by the other."""
    others = {k: u.id for u in users if u.id != rid for k in key_ids(u.data)}
    for key, shown in key_ids(data).items():
        if key in others:
            return (f"user {rid}: key {shown} is already user {others[key]}'s; a signing key is one person's — "
                    "each user signs with his own")
    return None


def allowed_signers(users: Iterable[Any]) -> str:
    """git's allowed-signers text for ``users`` (records with ``id`` and ``signing_keys``), sorted by user.

    Users marked ``active: false`` are left out: a signature by someone who left is not trusted.
    """
    lines = []
    for user in sorted(users, key=lambda u: u.id):
        if user.get("active") is False:
            continue
        for key in user.get("signing_keys") or []:
            if ssh_key_problem(key) is None:
                lines.append(f'{user.id} namespaces="git" {ssh_key(key)}')
    return "".join(line + "\n" for line in lines)


def gpg_owners(users: Iterable[Any]) -> dict[str, str]:
    """``{fingerprint: user id}`` of the users' OpenPGP keys (active users only)."""
    out: dict[str, str] = {}
    for user in users:
        if user.get("active") is False:
            continue
        for fpr in user.get("gpg_keys") or []:
            if gpg_key_problem(fpr) is None:
                out[normal_fingerprint(fpr)] = user.id
    return out


@dataclass(frozen=True)
class Signature:
    """What git says about one commit's signature; ``signer`` is the book user whose key made it (None: no user's)."""

    commit: str
    status: str        # git's %G?: G good, B bad, U good but unknown key/validity, N none, E cannot check, X/Y/R expired/revoked
    key: str           # %GK: the SSH key's SHA256 fingerprint or the OpenPGP key id
    signer: str | None

    @property
    def short(self) -> str:
        return self.commit[:10]

    def verdict(self, expected: str) -> str | None:
        """Why this signature does not prove that user ``expected`` made the commit (None when it does)."""
        if self.status == "N":
            return f"commit {self.short} is not signed"
        if self.status == "E":
            return f"commit {self.short} is signed, but its signature cannot be checked here (an OpenPGP key not in the keyring?)"
        if self.status == "B":
            return f"commit {self.short} has a bad signature (the commit was altered after signing)"
        if self.signer is None:
            return f"commit {self.short} is signed by a key that is no user's signing key ({self.key or 'unknown key'})"
        if self.signer != expected:
            return f"commit {self.short} is signed with {self.signer}'s key, not {expected}'s (forged)"
        return None


FORMAT = "--format=%H%x1f%G?%x1f%GS%x1f%GK%x1f%GP%x1f%GF"
CHUNK = 64  # commits per git process when verifying many (git runs ssh-keygen twice per signed commit, ~30 ms)


def signatures(root: str, users: Iterable[Any], commits: Iterable[str], cache_path: str | None = None
               ) -> dict[str, Signature]:
    """``{commit: Signature}`` for ``commits``, verified by git against the users' keys.

    The allowed-signers list is built from ``users`` for this call (a temporary
    file), never read from the repository's configuration. ``cache_path``
    (``.crmctl/cache/signatures.json``) keeps the verdicts of unsigned and
    SSH-signed commits for the same list of keys (a commit never changes), so
    only new commits cost a verification; OpenPGP verdicts depend on the
    keyring and are not kept. Many commits are verified by a few git
    processes at once.
    """
    from crmctl.core import cache, jsonio

    wanted = sorted(set(commits))
    if not wanted:
        return {}
    users = list(users)
    owners = gpg_owners(users)
    signers = allowed_signers(users)
    stamp = hashlib.sha256((signers + json.dumps(sorted(owners.items()))).encode()).hexdigest()
    kept: dict[str, list[str]] = {}
    if cache_path:
        try:
            with open(cache_path, "rb") as handle:
                blob = jsonio.loads(handle.read())
            kept = blob["commits"] if blob.get("signers") == stamp else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            kept = {}
    found = {sha: Signature(sha, *kept[sha][:2], kept[sha][2] or None) for sha in wanted if sha in kept}
    missing = [sha for sha in wanted if sha not in found]
    if missing:
        fresh = _verify(root, signers, owners, missing)
        found.update(fresh)
        if cache_path:
            kept.update({sha: [sig.status, sig.key, sig.signer or ""] for sha, sig in fresh.items()
                         if sig.status == "N" or sig.key.startswith("SHA256:")})
            cache.save_json(cache_path, {"signers": stamp, "commits": kept})
    return found


def _verify(root: str, signers: str, owners: Mapping[str, str], commits: list[str]) -> dict[str, Signature]:
    """One ``git log --no-walk --stdin`` per :data:`CHUNK` commits, run side by side."""
    import subprocess

    handle, path = tempfile.mkstemp(prefix="crmctl-signers-", text=True)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(signers)
        argv = ["git", "-C", root, "-c", f"gpg.ssh.allowedSignersFile={path}", "log", "--no-walk=unsorted", "--stdin", FORMAT]
        chunks = [commits[i:i + CHUNK] for i in range(0, len(commits), CHUNK)]
        width = max(1, min(len(chunks), os.cpu_count() or 1))
        text = []
        for first in range(0, len(chunks), width):
            procs = [(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=git._env()), chunk) for chunk in chunks[first:first + width]]
            for proc, chunk in procs:
                out_text, err_text = proc.communicate("\n".join(chunk) + "\n")
                if proc.returncode != 0:
                    said = (err_text.strip().splitlines() or ["no reason given"])[-1]
                    raise CrmError(f"git log could not read the signatures of commits {chunk[0][:10]}...: {said}")
                text.append(out_text)
    finally:
        os.unlink(path)
    found: dict[str, Signature] = {}
    for line in "".join(text).splitlines():
        fields = line.split("\x1f")
        if len(fields) != 6:
            continue
        sha, status, principal, key, primary, fpr = fields
        if key.startswith("SHA256:"):  # an SSH signature: good only with a principal from our list, the user id
            signer: str | None = principal if status == GOOD_SSH and principal else None
        elif status in GOOD_GPG and (primary or fpr):
            signer = owners.get(normal_fingerprint(primary or fpr))  # OpenPGP: the pinned fingerprint's owner
        else:
            signer = None
        found[sha] = Signature(sha, status, key, signer)
    return found


def probe(root: str, users: Iterable[Any], user: str) -> None:
    """Refuse (one line, nothing written) unless git can sign a commit here with one of ``user``'s keys.

    Signs a throw-away commit object (never referenced; ``git gc`` removes it)
    with the user's own git configuration (``user.signingkey``, ``gpg.format``),
    then verifies it against the book's keys.
    """
    head = git.run(root, "rev-parse", "--verify", "--quiet", "HEAD^{tree}", check=False).stdout.strip()
    tree = head or git.run(root, "mktree", input="").stdout.strip()
    proc = git.run(root, "commit-tree", "-S", "-m", "crmctl: can this clone sign?", tree, check=False)
    if proc.returncode != 0:
        said = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise SigningError(f"crm.yaml policy.signed_approvals is on, but git cannot sign a commit here "
                           f"({said[-1].strip().rstrip('?') if said else 'no reason given'}); set user.signingkey "
                           f"(and gpg.format ssh) as README 'Approvals that can be proven' shows; nothing was written")
    sig = signatures(root, users, [proc.stdout.strip()]).get(proc.stdout.strip())
    why = sig.verdict(user) if sig else "git did not report the signature"
    if why:
        key = f" ({sig.key})" if sig and sig.key else ""
        raise SigningError(f"your git signing key{key} is not one of {user}'s keys (records/users/{user}.yaml "
                           f"signing_keys or gpg_keys); add its public key there, or sign with yours; nothing was written")


class SigningError(CrmError):
    """Signing was asked for (``policy.signed_approvals``) and is not possible as this user."""


def signed_approvals(settings: Mapping[str, Any] | Any) -> bool:
    """crm.yaml ``policy.signed_approvals`` (default false); anything but true/false is refused."""
    value = settings.get("policy.signed_approvals", False)
    if not isinstance(value, bool):
        raise CrmError(f"crm.yaml policy.signed_approvals: {value!r} must be true or false")
    return value
