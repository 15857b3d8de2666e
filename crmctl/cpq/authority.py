"""Who may write pricing policy: price books, products' prices and costs, and ``discount_policy``.

Price books and list prices are discounts decided once for many quotes, so
they are policy: ``discount_policy.maintainers`` in crm.yaml lists the roles
that may add or change them (default: director, admin). ``pricebook add/edit``
and ``product add/edit`` (of prices or cost) refuse anyone else; ``check``
reads the book's git history and reports a price-book, price or policy change
whose author is a user without such a role. (Proving that a commit's author is
who it claims to be is step 7's signed commits; an author who is no user of
the book is not judged here.)
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


def policy_change(root: str, commit: str, path: str, relative: str) -> str | None:
    """What pricing policy the commit changed in that file (None: nothing that is policy)."""
    import yaml

    from crmctl.core import git

    def at(rev: str) -> Any:
        proc = git.run(root, "show", f"{rev}:{path}", check=False)
        try:
            return yaml.safe_load(proc.stdout) if proc.returncode == 0 else None
        except yaml.YAMLError:
            return {"unreadable": proc.stdout}
    before, after = at(f"{commit}^"), at(commit)
    if relative == "crm.yaml":
        get = lambda doc: (doc or {}).get("discount_policy") if isinstance(doc, dict) else None  # noqa: E731
        return "the discount policy" if get(before) != get(after) else None
    if relative.startswith("records/pricebooks/"):
        return "a price book" if before != after else None
    changed = price_changes(before if isinstance(before, dict) else None, after if isinstance(after, dict) else None)
    return f"a product's {', '.join(changed)}" if changed else None
