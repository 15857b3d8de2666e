"""Who may write policy: price books, products' prices and costs, ``discount_policy``, and the team's roles.

Price books and list prices are discounts decided once for many quotes, so
they are policy: ``discount_policy.maintainers`` in crm.yaml lists the roles
that may add or change them (default: director, admin). The discount policy
rests on users' roles, so they are policy too: ``team_maintainers`` lists the
roles that may add a user or change a user's role (default: director, admin).
While no user of the book holds one of the roles a list names, anyone may do
what it guards: the book is being set up and there is nobody to defer to.
``pricebook``, ``product`` and ``user`` add/edit and ``import`` of those types
refuse anyone else (:func:`require_writer`); ``check`` reads the book's git
history and reports such a change whose author held no such role before it
(a rep who made himself director included). (Proving that a commit's author
is who it claims to be is step 7's signed commits; an author who is no user of
the book is not judged here.)
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from crmctl.core.errors import PolicyError

DEFAULT_MAINTAINERS = ("director", "admin")
PRICE_FIELDS = ("prices", "cost", "option_groups", "components")   # what makes a product's price
PRICING_KEY, TEAM_KEY = "discount_policy.maintainers", "team_maintainers"
MANUAL_ORDER_KEY = "orders.manual_roles"   # who may make an order no quote priced (`order add --opp` of an unquoted deal)
_KIND = {TEAM_KEY: "team"}                 # what a role list guards, as the refusal names it (default: pricing)


def maintainers(settings: Any, key: str = PRICING_KEY) -> tuple[str, ...]:
    """The roles that may write price books, prices and the discount policy (``key``: or another crm.yaml role list,
    :data:`TEAM_KEY` for users and roles)."""
    value = settings.get(key, list(DEFAULT_MAINTAINERS))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"crm.yaml {key}: {value!r} must be a list of roles, e.g. [director, admin]")
    return tuple(value)


TEAM_FIELDS = ("role", "active")   # decide who approves what: only the team maintainers change them, even one's own
IDENTITY_FIELDS = ("signing_keys", "gpg_keys", "git_handle", "email")   # prove or name who a user is: his own, or
                                                                       # the team maintainers'


def team_change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, own: bool = False) -> str | None:
    """What a change to a user record does that is team policy (None: nothing): a new user, a changed role or
    ``active``, or — unless ``own`` (the acting user edits his own record) — changed keys, git handle or email
    (a key added to the director's record signs as the director)."""
    if before is None and after is not None:
        return f"adding a user ({after.get('role')})"
    if before is None or after is None:
        return None
    if before.get("role") != after.get("role"):
        return f"changing a user's role ({before.get('role')} -> {after.get('role')})"
    changed = [k for k in TEAM_FIELDS[1:] + (() if own else IDENTITY_FIELDS) if before.get(k) != after.get(k)]
    return f"changing another user's {', '.join(changed)}" if changed else None


def require_writer(book: Any, actor: Any, rtype: str, before: Mapping[str, Any] | None,
                   after: Mapping[str, Any], rid: str | None = None) -> None:
    """Refuse a change to a price book, a product's price, a user's role or ``active`` (or a new user), or another
    user's keys, git handle or email, unless the acting user's role may make it (or no user holds such a role yet);
    other changes pass. ``before`` is None for a new record; ``rid`` is the record's id (a user's own record is his
    to re-key). Raises PolicyError."""
    what, key = None, PRICING_KEY
    if rtype == "pricebooks":
        what = "adding a price book" if before is None else "changing a price book"
    elif rtype == "products":
        changed = price_changes(before, after)
        what = f"setting a product's {', '.join(changed)}" if changed else None
    elif rtype == "users":
        own = actor is not None and rid is not None and actor.id == rid
        what, key = team_change(before, after, own), TEAM_KEY
        what = what.replace("another user's", f"{rid}'s") if what and rid else what
    roles = maintainers(book.settings, key)
    if what and any(u.get("role") in roles for u in book.all("users")):
        require_maintainer(book.settings, actor, what, key)


def price_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The price-making fields of a product that differ between two versions (all present ones when new)."""
    old, new = before or {}, after or {}
    return [k for k in PRICE_FIELDS if old.get(k) != new.get(k)]


def require_maintainer(settings: Any, actor: Any, what: str, key: str = PRICING_KEY) -> None:
    """Refuse ``what`` unless the acting user's role is one of the maintainers (``key``: which crm.yaml list)."""
    roles = maintainers(settings, key)
    kind = _KIND.get(key, "pricing")
    if actor is None:
        raise PolicyError(f"{what} is {kind} policy: say who you are (--as USER); it needs one of the roles {', '.join(roles)}")
    if actor.get("role") not in roles:
        raise PolicyError(f"{what} is {kind} policy: {actor.id} ({actor.get('role')}) may not; it needs one of the roles "
                          f"{', '.join(roles)} (crm.yaml {key})")


def history(root: str, book_root: str) -> Iterator[tuple[str, str, str, str]]:
    """``(commit, author email, path in the repository, path in the book)`` for every file change under the book's
    policy paths (price books, products, users, crm.yaml), oldest first (merges left out: their parents are judged)."""
    from crmctl.core import git

    prefix = book_prefix(root, book_root)
    paths = [prefix + p for p in ("records/pricebooks", "records/products", "records/users", "crm.yaml")]
    proc = git.run(root, "log", "--reverse", "--no-merges", "--format=\x1e%H\x1f%ae", "--name-only", "--", *paths, check=False)
    for chunk in proc.stdout.split("\x1e")[1:]:
        head, _, names = chunk.partition("\n")
        commit, _, email = head.partition("\x1f")
        for name in names.split("\n"):
            if name.strip():
                yield commit, email.strip().lower(), name.strip(), name.strip()[len(prefix):]


def book_prefix(root: str, book_root: str) -> str:
    """The book's folder inside its git repository, as a path prefix (``""`` at the top, else ``"sub/"``)."""
    import os

    prefix = os.path.relpath(os.path.realpath(book_root), os.path.realpath(root))
    return "" if prefix == "." else prefix + "/"


def role_before(root: str, prefix: str, commit: str, user: Any) -> str | None:
    """The user's role just before ``commit`` (their record at its parent), else their role today."""
    import yaml

    from crmctl.core import git

    proc = git.run(root, "show", f"{commit}^:{prefix}records/users/{user.id}.yaml", check=False)
    try:
        data = yaml.safe_load(proc.stdout) if proc.returncode == 0 else None
    except yaml.YAMLError:
        data = None
    return str(data.get("role")) if isinstance(data, dict) and data.get("role") else user.get("role")


def roles_held_before(root: str, prefix: str, commit: str, roles: tuple[str, ...]) -> bool:
    """Whether some user held one of ``roles`` just before ``commit`` (until then, anyone may do what they guard)."""
    from crmctl.core import git

    pattern = "^role: *[\"']?(" + "|".join(roles) + ")[\"']? *$"
    proc = git.run(root, "grep", "-l", "-E", pattern, f"{commit}^", "--", f"{prefix}records/users", check=False)
    return proc.returncode == 0 and bool(proc.stdout.strip())


def policy_change(root: str, commit: str, path: str, relative: str, author: str | None = None) -> str | None:
    """What policy the commit changed in that file (None: nothing that is policy); ``author``: the id of the user
    who made the commit (his own user record is his to re-key)."""
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
    if relative.startswith("records/users/"):
        own = author is not None and relative == f"records/users/{author}.yaml"
        what = team_change(before if isinstance(before, dict) else None, after if isinstance(after, dict) else None, own)
        what = what.replace("another user's", f"{relative[len('records/users/'):-len('.yaml')]}'s") if what else None
        return what.replace("adding", "added").replace("changing", "changed") if what else None
    changed = price_changes(before if isinstance(before, dict) else None, after if isinstance(after, dict) else None)
    return f"a product's {', '.join(changed)}" if changed else None
