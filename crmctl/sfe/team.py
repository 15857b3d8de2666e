"""The team: users, their managers, roles, management chains and quotas per period."""
from __future__ import annotations

from typing import Any

from crmctl.core.book import Book
from crmctl.core.edit import follow_chain
from crmctl.core.errors import CrmError, NotFound, PolicyError, ValidationError
from crmctl.core.money import money_str
from crmctl.core.numbers import book_format, parse_amount, parse_quantity
from crmctl.core.settings import Settings
from crmctl.core.text import a_an


def user_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    """A user's email and signing keys are his alone, and the manager chain has no loop."""
    email = str(data.get("email", "")).lower()
    for other in book.all("users"):
        if other.id != rid and str(other.get("email", "")).lower() == email:
            raise ValidationError(f"user {rid}: email {email} already belongs to user {other.id}")
    follow_chain(book, "users", "manager", rid, data.get("manager"), "user")
    from crmctl.core.signing import shared_key_problem

    shared = shared_key_problem(book.all("users"), rid, data)
    if shared:
        raise ValidationError(shared)


def reports(book: Book, manager: str) -> list[str]:
    """Everyone who reports to ``manager``, directly or not."""
    users = book.all("users")
    found: list[str] = []
    frontier = [manager]
    while frontier:
        boss = frontier.pop()
        for user in users:
            if user.get("manager") == boss and user.id not in found:
                found.append(user.id)
                frontier.append(user.id)
    return found


MANAGER_ROLES = ("manager", "director")


def chain(book: Book, user: str) -> list[str]:
    """The user's managers, nearest first (stops on a loop, which ``user_rule`` forbids)."""
    users = book.records("users")
    out: list[str] = []
    current = users[user].get("manager") if user in users else None
    while current and current not in out and current != user:
        out.append(current)
        current = users[current].get("manager") if current in users else None
    return out


def require_user(book: Book, ref: str, what: str = "--rep") -> str:
    """A user id from an id or prefix, with a line that says how to list the team."""
    try:
        return book.resolve("users", ref)
    except CrmError:
        raise NotFound(f"{what} {ref!r}: no such user; `crmctl user list` shows the team") from None


def companion(book: Book, rep: str, ref: str) -> tuple[str, str | None]:
    """The manager on an accompanied visit (陪访), and a warning when outside the rep's chain."""
    uid = require_user(book, ref, "--with")
    role = book.records("users")[uid].get("role")
    if role not in MANAGER_ROLES:
        raise PolicyError(f"--with {uid}: an accompanied visit needs a manager or director, and {uid} is {a_an(role)}")
    if uid == rep:
        raise PolicyError(f"--with {uid}: the rep cannot accompany their own visit")
    warning = None if uid in chain(book, rep) else f"{uid} is not in {rep}'s management chain ({' -> '.join(chain(book, rep)) or 'none'})"
    return uid, warning


def scope(book: Book, rep: str | None = None, team: str | None = None) -> list[str] | None:
    """The reps a report covers: one rep, a team (team name or a manager and everyone below), or all (None)."""
    if rep and team:
        raise ValidationError("give either --rep or --team, not both")
    if rep:
        return [require_user(book, rep)]
    if team:
        members = [u.id for u in book.all("users") if str(u.get("team") or "").lower() == team.lower()]
        if team.lower() in book.records("users"):
            members += [team.lower(), *reports(book, team.lower())]
        if not members:
            raise NotFound(f"--team {team!r}: no team of that name and no such manager; `crmctl user list` shows teams")
        return sorted(set(members))
    return None


MAX_VISITS = 100_000  # a period's visit target: more would be hundreds of visits a day


def set_quota(data: dict[str, Any], period: str, amount: str | None, visits: str | None,
              settings: Settings) -> dict[str, Any]:
    """A copy of a user's data with the quota for ``period`` set (amount in the book's currency).

    Only what is given changes: ``--visits 60`` keeps that period's amount, and
    ``--amount`` keeps its visit target. ``visits`` is text as typed, read by
    :func:`crmctl.core.numbers.parse_quantity` (whole, 0 or more, below :data:`MAX_VISITS`).
    """
    if amount is None and visits is None:
        raise ValidationError("give --amount and/or --visits for the quota")
    fmt = book_format(settings)
    kept = [q for q in data.get("quotas") or [] if str(q.get("period")) != period]
    entry: dict[str, Any] = {"period": period, **quota(data, period)}
    if amount is not None:
        value = parse_amount(amount, currency=settings.currency, fmt=fmt, field="--amount")
        entry["amount"] = money_str(value, settings.currency)
    if visits is not None:
        entry["visits"] = parse_quantity(visits, fmt=fmt, field="--visits", limit=MAX_VISITS)
    out = dict(data)
    out["quotas"] = sorted([*kept, entry], key=lambda q: str(q.get("period")))
    return out


def quota(user: dict[str, Any], period: str) -> dict[str, Any]:
    return next((dict(q) for q in user.get("quotas") or [] if str(q.get("period")) == period), {})


def companions_rule(book: Book, vid: str, data: dict[str, Any]) -> list[str]:
    """What ``visit edit`` must keep true of ``with``: the rules of ``visit add --with``, and every coach stays on.

    Returns the warnings (companions outside the rep's chain); raises on a broken rule.
    """
    rep = str(data.get("rep"))
    on = [str(ref) for ref in data.get("with") or []]
    warnings = [w for w in (companion(book, rep, ref)[1] for ref in on) if w]
    for entry in data.get("coaching") or []:
        if isinstance(entry, dict) and entry.get("by") not in on:
            raise PolicyError(f"visit {vid}: {entry.get('by')} coached this visit, so they stay in `with`")
    return warnings

