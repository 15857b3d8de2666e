"""Who may write pricing policy: price books, products' prices and costs, and ``discount_policy``.

Price books and list prices are discounts decided once for many quotes, so
they are policy: ``discount_policy.maintainers`` in crm.yaml lists the roles
that may add or change them (default: director, admin). ``pricebook add/edit``
and ``product add/edit`` (of prices or cost) refuse anyone else; ``check``
reads the book's git history and reports a price-book, price or policy change
whose author is a user without such a role (an author who is no user of the
book is not judged). With ``policy.signed_approvals`` on, the author field
proves nothing: from the commit that turned the policy on, every such change
(and that commit itself) must be signed by a maintainer's key instead.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from crmctl.core.errors import PolicyError

DEFAULT_MAINTAINERS = ("director", "admin")
PRICE_FIELDS = ("prices", "cost", "option_groups", "components")   # what makes a product's price


def maintainers(settings: Any) -> tuple[str, ...]:
    """The roles that may write price books, prices and the discount policy."""
    value = settings.get("discount_policy.maintainers", list(DEFAULT_MAINTAINERS))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"crm.yaml discount_policy.maintainers: {value!r} must be a list of roles, e.g. [director, admin]")
    return tuple(value)


def price_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The price-making fields of a product that differ between two versions (all present ones when new)."""
    old, new = before or {}, after or {}
    return [k for k in PRICE_FIELDS if old.get(k) != new.get(k)]


def require_maintainer(settings: Any, actor: Any, what: str) -> None:
    """Refuse ``what`` unless the acting user's role is one of the maintainers."""
    roles = maintainers(settings)
    if actor is None:
        raise PolicyError(f"{what} is pricing policy: say who you are (--as USER); it needs one of the roles {', '.join(roles)}")
    if actor.get("role") not in roles:
        raise PolicyError(f"{what} is pricing policy: {actor.id} ({actor.get('role')}) may not; it needs one of the roles "
                          f"{', '.join(roles)} (crm.yaml discount_policy.maintainers)")


def history(root: str, book_root: str) -> Iterator[tuple[str, str, str, str]]:
    """``(commit, author email, path in the repository, path in the book)`` for every file change under the book's
    price-making paths, oldest first (merges left out: their parents are judged)."""
    import os

    from crmctl.core import git

    prefix = os.path.relpath(os.path.realpath(book_root), os.path.realpath(root))
    prefix = "" if prefix == "." else prefix + "/"
    paths = [prefix + p for p in ("records/pricebooks", "records/products", "crm.yaml")]
    proc = git.run(root, "log", "--reverse", "--no-merges", "--format=\x1e%H\x1f%ae", "--name-only", "--", *paths, check=False)
    for chunk in proc.stdout.split("\x1e")[1:]:
        head, _, names = chunk.partition("\n")
        commit, _, email = head.partition("\x1f")
        for name in names.split("\n"):
            if name.strip():
                yield commit, email.strip().lower(), name.strip(), name.strip()[len(prefix):]


def version(root: str, rev: str, path: str) -> Any:
    """The YAML document ``path`` holds at ``rev`` (None: not there; ``{"unreadable": text}``: not YAML)."""
    import yaml

    from crmctl.core import git

    proc = git.run(root, "show", f"{rev}:{path}", check=False)
    try:
        return yaml.safe_load(proc.stdout) if proc.returncode == 0 else None
    except yaml.YAMLError:
        return {"unreadable": proc.stdout}


SETTINGS_POLICY = {"discount_policy": "the discount policy", "policy": "crm.yaml's policy (signed approvals)"}


def policy_change(root: str, commit: str, path: str, relative: str) -> str | None:
    """What pricing policy the commit changed in that file (None: nothing that is policy)."""
    before, after = version(root, f"{commit}^", path), version(root, commit, path)
    if relative == "crm.yaml":
        get = lambda doc, key: doc.get(key) if isinstance(doc, dict) else None  # noqa: E731
        changed = [what for key, what in SETTINGS_POLICY.items() if get(before, key) != get(after, key)]
        return " and ".join(changed) or None
    if relative.startswith("records/pricebooks/"):
        return "a price book" if before != after else None
    changed = price_changes(before if isinstance(before, dict) else None, after if isinstance(after, dict) else None)
    return f"a product's {', '.join(changed)}" if changed else None


def signing_since(root: str, changes: list[tuple[str, str, str, str]]) -> int | None:
    """The index in ``changes`` (:func:`history`) of the first commit whose crm.yaml turns
    ``policy.signed_approvals`` on (None: none does): from there on pricing policy is judged by signature."""
    for index, (commit, _email, path, relative) in enumerate(changes):
        if relative != "crm.yaml":
            continue
        doc = version(root, commit, path)
        policy = doc.get("policy") if isinstance(doc, dict) else None
        if isinstance(policy, dict) and policy.get("signed_approvals") is True:
            return next(i for i, change in enumerate(changes) if change[0] == commit)
    return None


def signature_problem(sig: Any, users: Mapping[str, Any], roles: tuple[str, ...]) -> str | None:
    """Why a commit's signature (:class:`crmctl.core.signing.Signature`) is not a maintainer's (None when it is)."""
    if sig is None:
        return "its signature could not be read"
    if sig.signer is None:
        return sig.verdict("")
    user = users.get(sig.signer)
    role = user.get("role") if user is not None else None
    return None if role in roles else f"it is signed by {sig.signer} ({role})"
